"""The functional interface (PyTorch's `torch.nn.functional`, imported as `F`): every layer
and loss as a function of Tensors. Layers call these; these call `autograd` ops.

The activations take PyTorch's `inplace` flag; the loss, convolution, pooling,
normalisation, recurrent and embedding families of `autograd.ops` appear here whole, so a new
op in one of them is in `F` without an edit here.
"""
import importlib

from autograd import ops
from autograd.ops import (dropout, flatten, gelu, linear, log_softmax, maxout, one_hot, pad,
                          prelu, reshape, sigmoid, softmax, softplus, tanh)

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "silu", "hardsigmoid", "hardtanh",
           "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "prelu", "maxout",
           "dropout", "linear", "pad", "one_hot", "flatten", "unflatten"]


def _inplace(x, out, op):
    """Write `out` into `x` (PyTorch's inplace=True) and return x."""
    return x._assign_inplace(out, op)


def relu(input, inplace=False):  # noqa: A002  (PyTorch's argument names)
    out = ops.relu(input)
    return _inplace(input, out, "relu_") if inplace else out


def relu6(input, inplace=False):  # noqa: A002
    out = ops.relu6(input)
    return _inplace(input, out, "relu6_") if inplace else out


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    out = ops.leaky_relu(input, negative_slope)
    return _inplace(input, out, "leaky_relu_") if inplace else out


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    out = ops.elu(input, alpha)
    return _inplace(input, out, "elu_") if inplace else out


def selu(input, inplace=False):  # noqa: A002
    out = ops.selu(input)
    return _inplace(input, out, "selu_") if inplace else out


def silu(input, inplace=False):  # noqa: A002
    out = ops.silu(input)
    return _inplace(input, out, "silu_") if inplace else out


def hardsigmoid(input, inplace=False):  # noqa: A002
    out = ops.hardsigmoid(input)
    return _inplace(input, out, "hardsigmoid_") if inplace else out


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    out = ops.hardtanh(input, min_val, max_val)
    return _inplace(input, out, "hardtanh_") if inplace else out


def unflatten(input, dim, sizes):  # noqa: A002
    """Expand dim `dim` of `input` into `sizes` (one entry may be -1)."""
    shape = tuple(input.shape)
    dim = dim % len(shape) if shape else 0
    return reshape(input, shape[:dim] + tuple(sizes) + shape[dim + 1:])


def _export(family):
    """Put the public functions of an op family (not its Function classes) into F."""
    names = [name for name in family.__all__ if name[:1].islower()]
    for name in names:
        globals()[name] = getattr(family, name)
    __all__.extend(name for name in names if name not in __all__)


# by module path: a family's own function may shadow its module's name in `autograd.ops`
# (`autograd.ops.rnn` is the rnn op)
for _family in ("loss", "conv", "pool", "normalization", "rnn", "embeddings"):
    _export(importlib.import_module(f"autograd.ops.{_family}"))
