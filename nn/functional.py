"""The functional interface (PyTorch's `torch.nn.functional`, imported as `F`): every layer
and loss as a function of Tensors. Layers call these; these call `autograd` ops.

The activations take PyTorch's `inplace` flag; the loss, convolution, pooling,
normalisation, recurrent and embedding families of `autograd.ops` appear here whole, so a new
op in one of them is in `F` without an edit here.
"""
import importlib

from autograd import ops
from autograd.ops import (dropout, flatten, gelu, index_select, linear, log_softmax, maxout,
                          one_hot, pad, prelu, reshape, sigmoid, softmax, softplus, tanh, where)
from autograd.tensor import Tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "silu", "hardsigmoid", "hardtanh",
           "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "prelu", "maxout",
           "dropout", "linear", "embedding", "pad", "one_hot", "flatten", "unflatten"]


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


def embedding(input, weight, padding_idx=None):  # noqa: A002
    """Rows of `weight` (V, D) at the int64 indices `input` (*) -> (*, D), with a dense
    gradient; the row `padding_idx` receives no gradient, as in PyTorch.

    A composition of index_select; an `embedding` op in the embedding family replaces it
    here (see the export at the end of this file)."""
    ids = input if isinstance(input, Tensor) else Tensor(input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be int64, got {ids.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (V, D), got shape {weight.shape}")
    rows = weight.shape[0]
    if ids.data.size and (ids.data.min() < 0 or ids.data.max() >= rows):
        raise IndexError(f"embedding: indices must be in [0, {rows}), got min "
                         f"{ids.data.min()}, max {ids.data.max()}")
    flat = ids.reshape(-1)
    out = index_select(weight, 0, flat)
    if padding_idx is not None:
        # same values, but the padding positions take them from a detached copy
        out = where(flat.reshape(-1, 1) == padding_idx % rows, out.detach(), out)
    return out.reshape(*ids.shape, weight.shape[1])


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
for _family in ("loss", "conv", "pool", "norm", "rnn", "embedding"):
    _export(importlib.import_module(f"autograd.ops.{_family}"))
