"""Activation modules: each holds its hyper-parameters and calls the function of the same
name in `nn.functional`. Shape: any input; the output has the input's shape."""
import warnings

import autograd
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["ReLU", "LeakyReLU", "ReLU6", "PReLU", "ELU", "SELU", "GELU", "SiLU", "Sigmoid",
           "Tanh", "Softmax", "LogSoftmax", "Hardsigmoid", "Hardtanh", "Softplus"]


class _Inplace(Module):
    """An activation without parameters other than PyTorch's `inplace` flag."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x, self.inplace)


class ReLU6(_Inplace):
    """min(max(x, 0), 6)."""

    def forward(self, x):
        return F.relu6(x, self.inplace)


class SELU(_Inplace):
    """scale * (x if x > 0 else alpha (e^x - 1)) with the self-normalising constants."""

    def forward(self, x):
        return F.selu(x, self.inplace)


class SiLU(_Inplace):
    """x * sigmoid(x) (also called swish)."""

    def forward(self, x):
        return F.silu(x, self.inplace)


class Hardsigmoid(_Inplace):
    """min(max(x + 3, 0), 6) / 6."""

    def forward(self, x):
        return F.hardsigmoid(x, self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                           else "")


class ELU(Module):
    """x if x > 0 else alpha * (e^x - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """min(max(x, min_val), max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val "
                             f"({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x if x > 0 else a * x with a learnable slope a: one shared (num_parameters=1) or one
    per channel (num_parameters = C, channels on dim 1).

    Args:
        num_parameters: 1 or the number of input channels.
        init: initial value of every slope (default 0.25).
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(autograd.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF (approximate='tanh': the tanh formula)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta; linear where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


def _legacy_dim(name, ndim):
    # PyTorch's rule for a softmax without dim, with its warning
    warnings.warn(f"{name}: implicit dimension choice is deprecated; pass dim=",
                  UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        dim = self.dim if self.dim is not None else _legacy_dim("Softmax", x.ndim)
        return F.softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        dim = self.dim if self.dim is not None else _legacy_dim("LogSoftmax", x.ndim)
        return F.log_softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"
