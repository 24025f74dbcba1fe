"""Fully connected layers: Linear (y = x W^T + b) and Maxout (the max of k linear pieces)."""
import math

import autograd
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["Linear", "Maxout"]


def _reset_linear(weight, bias):
    """PyTorch's default: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)),
    b ~ U(-1/sqrt(in), 1/sqrt(in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = weight.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x W^T + b.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (float32 by default).

    Shape: (*, in_features) -> (*, out_features). weight is (out_features, in_features), bias
    (out_features,), initialised as PyTorch's.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(autograd.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(autograd.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_linear(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Maxout(Module):
    """Maxout unit (Goodfellow et al. 2013): `pool_size` linear pieces per output feature,
    of which the largest is kept: y_j = max_k (x W_{j,k}^T + b_{j,k}).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        pool_size: number of linear pieces per output feature.

    Shape: (*, in_features) -> (*, out_features). weight is (out_features * pool_size,
    in_features), the pieces of feature j in rows j * pool_size .. (j + 1) * pool_size - 1.
    """

    def __init__(self, in_features, out_features, pool_size, bias=True, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.pool_size = pool_size
        rows = out_features * pool_size
        self.weight = Parameter(autograd.empty(rows, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(autograd.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_linear(self.weight, self.bias)

    def forward(self, x):
        return F.maxout(F.linear(x, self.weight, self.bias), self.pool_size, dim=-1)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pool_size={self.pool_size}, bias={self.bias is not None}")
