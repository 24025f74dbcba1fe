"""Argument normalisation shared by the op families (arrays and numbers to Tensors, dims)."""
import numbers

import numpy as np

from autograd import dtypes
from autograd.tensor import Tensor


def as_tensor(x):
    """`x` itself if it is a Tensor, else a constant Tensor made from it."""
    if isinstance(x, Tensor):
        return x
    return Tensor(x)


def as_float_tensor(x):
    """A floating-point Tensor: integer and bool tensors become float32, as in PyTorch."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.data.dtype.kind != "f":
        from autograd.ops.pointwise import cast
        return cast(x, dtypes.float32)
    return x


def is_scalar(x):
    """A Python or numpy number (bools included), as opposed to a Tensor or an array."""
    return isinstance(x, numbers.Number)


def normalize_dim(dim, ndim, op):
    """A dim in [0, ndim) from a possibly negative one, with a clear error when out of range."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims "
                         f"(expected one in [{-size}, {size - 1}])")
    return dim % size


def normalize_dims(dim, ndim, op):
    """A sorted tuple of dims from None (all), an int or a sequence."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (normalize_dim(int(dim), ndim, op),)
    dims = tuple(normalize_dim(int(d), ndim, op) for d in dim)
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op}: dim {tuple(dim)} repeats a dimension")
    return tuple(sorted(dims))


def shape_arg(args, op):
    """A shape from either f(x, (2, 3)) or f(x, 2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    try:
        return tuple(int(a) for a in args)
    except TypeError:
        raise TypeError(f"{op}: expected a shape of ints, got {args!r}") from None
