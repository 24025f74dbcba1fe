"""Tensor factories, PyTorch-style: every random one draws from the seeded generator."""
import numpy as np

from autograd import dtypes
from autograd.ops._util import shape_arg
from autograd.random import generator
from autograd.tensor import Tensor, wrap


def _make(array, dtype, requires_grad, device, op):
    dtypes.check_device(device, op)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)      # (never on 0-d input: it would become 1-d)
    t = wrap(array, False, None, 0, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype, op):
    return dtypes.resolve(dtype, op) or dtypes.DEFAULT_FLOAT


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor (a copy) from a list, number, numpy array or Tensor."""
    if isinstance(data, Tensor):
        data = data.data
    array = np.array(dtypes.default_array(data, dtype, "tensor"), copy=True)
    return _make(array, None, requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with `data` when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    if isinstance(data, Tensor):
        data = data.data
    return _make(dtypes.default_array(data, dtype, "as_tensor"), None, False, device,
                 "as_tensor")


def from_numpy(array):
    """A tensor sharing memory with a numpy array (its dtype must be supported)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return wrap(dtypes.default_array(array, array.dtype if array.dtype in dtypes.SUPPORTED
                                     else None, "from_numpy"), False, None, 0, None)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.zeros(shape_arg(size, "zeros"), _float_dtype(dtype, "zeros")), dtype,
                 requires_grad, device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.ones(shape_arg(size, "ones"), _float_dtype(dtype, "ones")), dtype,
                 requires_grad, device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.empty(shape_arg(size, "empty"), _float_dtype(dtype, "empty")), dtype,
                 requires_grad, device, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (dtypes.bool_ if isinstance(fill_value, bool) else
                 dtypes.int64 if isinstance(fill_value, int) else dtypes.DEFAULT_FLOAT)
    return _make(np.full(shape_arg((size,), "full"), fill_value, dtypes.resolve(dtype, "full")),
                 dtype, requires_grad, device, "full")


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.DEFAULT_FLOAT
    return _make(np.arange(start, end, step, dtype=dtypes.resolve(dtype, "arange")), dtype,
                 requires_grad, device, "arange")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _make(np.linspace(start, end, int(steps), dtype=_float_dtype(dtype, "linspace")),
                 dtype, requires_grad, device, "linspace")


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_float_dtype(dtype, "eye")), dtype, requires_grad, device,
                 "eye")


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    dtype = _float_dtype(dtype, "rand")
    return _make(generator().random(shape_arg(size, "rand"), dtype=dtype), dtype,
                 requires_grad, device, "rand")


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    dtype = _float_dtype(dtype, "randn")
    return _make(generator().standard_normal(shape_arg(size, "randn"), dtype=dtype), dtype,
                 requires_grad, device, "randn")


def randint(low, high=None, size=None, dtype=None, device=None):
    """Integers uniform in [low, high) (`randint(high, size)` also works, as in PyTorch)."""
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: size must be given, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    dtype = dtypes.resolve(dtype, "randint") or dtypes.int64
    return _make(generator().integers(low, high, shape_arg((size,), "randint")).astype(dtype),
                 dtype, False, device, "randint")


def randperm(n, dtype=None):
    return _make(generator().permutation(int(n)).astype(dtypes.resolve(dtype) or dtypes.int64),
                 None, False, None, "randperm")


def _like(fn):
    def like(x, dtype=None, device=None, requires_grad=False):
        dtype = dtype if dtype is not None else x.dtype
        return fn(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"`{fn.__name__}` with the shape (and by default the dtype) of `x`."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device,
                requires_grad=requires_grad)
