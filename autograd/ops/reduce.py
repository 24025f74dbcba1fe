"""Reductions over `dim` (an int, a tuple of ints, or None for every dim) with `keepdim`, in
PyTorch's spellings: sum, mean, prod, max, min, amax, amin, argmax, argmin, var, std,
logsumexp, norm, cumsum, all, any.

Gradients (see `kernels/reduce.py` for the kernels), g broadcast over the reduced dims:
    sum g;  mean g / n;  prod g y / x (exact with zeros);  var 2 g (x - mean) / (n - c);
    std g (x - mean) / ((n - c) y);  logsumexp g e^(x - y);  norm g x / y (p = 2);
    max/min over a dim: g to the returned index;  amax/amin and x.max(), x.min(): g split
    evenly among the ties;  cumsum: the reversed cumsum of g.
Integer and bool tensors reduce with numpy and carry no gradient (sum and prod give int64).
"""
from typing import NamedTuple

import numpy as np

from autograd import dtypes
from autograd.function import Function
from autograd.ops._util import as_tensor, normalize_dim, normalize_dims
from autograd.ops.binary import maximum, minimum
from autograd.ops.pointwise import cast
from autograd.tensor import Tensor, wrap
from kernels import reduce as kr


__all__ = ["Sum", "Mean", "Prod", "MaxDim", "MinDim", "Amax", "Amin", "Var", "Std",
           "LogSumExp", "Norm", "CumSum", "ValuesIndices", "sum", "mean", "prod", "max", "min",
           "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "norm", "cumsum",
           "all", "any"]


class ValuesIndices(NamedTuple):
    """max/min over a dim: the values and their int64 indices (torch.return_types.max)."""
    values: Tensor
    indices: Tensor


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape = x.shape
        ctx.dims = dims
        return kr.sum_forward(x, dims, keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        return kr.sum_backward(grad_y, ctx.shape, ctx.dims), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape = x.shape
        ctx.dims = dims
        return kr.mean_forward(x, dims, keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        return kr.mean_backward(grad_y, ctx.shape, ctx.dims), None, None


class Prod(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims = dims
        ctx.save_for_backward(x)
        return kr.prod_forward(x, dims, keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        return kr.prod_backward(x, grad_y, ctx.dims), None, None


class MaxDim(Function):
    """(values, indices) of the max over one dim; the gradient goes to the returned index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        values, indices = kr.max_forward(x, dim, keepdim)
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved
        return kr.max_backward(grad_values, indices, ctx.shape, ctx.dim), None, None


class MinDim(Function):
    """(values, indices) of the min over one dim; the gradient goes to the returned index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        values, indices = kr.min_forward(x, dim, keepdim)
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved
        return kr.min_backward(grad_values, indices, ctx.shape, ctx.dim), None, None


class Amax(Function):
    """The max over dims; ties share the gradient evenly (also x.max() without a dim)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = kr.amax_forward(x, dims, keepdim)
        ctx.dims = dims
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        return kr.amax_backward(x, y, grad_y, ctx.dims), None, None


class Amin(Function):
    """The min over dims; ties share the gradient evenly (also x.min() without a dim)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = kr.amin_forward(x, dims, keepdim)
        ctx.dims = dims
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        return kr.amin_backward(x, y, grad_y, ctx.dims), None, None


class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        y, mean = kr.var_forward(x, dims, correction, keepdim)
        ctx.dims = dims
        ctx.correction = correction
        ctx.save_for_backward(x, mean)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, mean = ctx.saved
        return kr.var_backward(x, mean, grad_y, ctx.dims, ctx.correction), None, None, None


class Std(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        y, mean = kr.std_forward(x, dims, correction, keepdim)
        ctx.dims = dims
        ctx.correction = correction
        ctx.save_for_backward(x, mean, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, mean, y = ctx.saved
        grad_x = kr.std_backward(x, mean, y, grad_y, ctx.dims, ctx.correction)
        return grad_x, None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = kr.logsumexp_forward(x, dims, keepdim)
        ctx.dims = dims
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        return kr.logsumexp_backward(x, y, grad_y, ctx.dims), None, None


class Norm(Function):
    """The vector p-norm over dims (p = 2 for 'fro')."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        y = kr.norm_forward(x, p, dims, keepdim)
        ctx.p = p
        ctx.dims = dims
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        return kr.norm_backward(x, y, grad_y, ctx.p, ctx.dims), None, None, None


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return kr.cumsum_forward(x, dim)

    @staticmethod
    def backward(ctx, grad_y):
        return kr.cumsum_backward(grad_y, ctx.dim), None


def _dims(dim, ndim, op):
    """A sorted tuple of dims; None and () mean every dim, as in PyTorch."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if ndim == 0:
        normalize_dims(dim, 0, op)       # only 0 and -1 name the one "dim" of a 0-d tensor
        return ()
    return normalize_dims(dim, ndim, op)


def _with_dtype(x, dtype, op):
    x = as_tensor(x)
    dtype = dtypes.resolve(dtype, op)
    if dtype is not None and dtype != x.data.dtype:
        x = cast(x, dtype)
    return x


def _no_grad(array):
    return wrap(np.asarray(array), False, None, 0, None)


def _require_float(x, op):
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {x.data.dtype}; pass "
                        f"dtype= or convert it with .float()")


def sum(x, dim=None, keepdim=False, dtype=None):  # noqa: A001  (PyTorch's name)
    """Sum over `dim`; `dtype` casts the input first (int and bool sum to int64)."""
    x = _with_dtype(x, dtype, "sum")
    dims = _dims(dim, x.ndim, "sum")
    if x.data.dtype.kind != "f":
        return _no_grad(np.sum(x.data, axis=dims, keepdims=keepdim, dtype=dtypes.int64))
    return Sum.apply(x, dims, keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    """Mean over `dim` (floating-point input, or pass `dtype`)."""
    x = _with_dtype(x, dtype, "mean")
    _require_float(x, "mean")
    return Mean.apply(x, _dims(dim, x.ndim, "mean"), keepdim)


def prod(x, dim=None, keepdim=False, dtype=None):
    """Product over `dim`; its gradient is exact when the input holds zeros."""
    x = _with_dtype(x, dtype, "prod")
    dims = _dims(dim, x.ndim, "prod")
    if x.data.dtype.kind != "f":
        return _no_grad(np.prod(x.data, axis=dims, keepdims=keepdim, dtype=dtypes.int64))
    return Prod.apply(x, dims, keepdim)


def _extreme(x, dim, keepdim, op, dim_cls, all_cls, largest):
    if isinstance(dim, Tensor):              # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(x, dim)
    x = as_tensor(x)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim=True needs a dim")
        if x.data.size == 0:
            raise IndexError(f"{op}: cannot reduce an empty tensor without a dim "
                             f"(shape {x.data.shape})")
        if x.data.dtype.kind != "f":
            return _no_grad((np.max if largest else np.min)(x.data))
        return all_cls.apply(x, tuple(range(x.ndim)), False)
    d = normalize_dim(dim, x.ndim, op)
    if x.data.dtype.kind != "f":
        return _integer_extreme(x.data, d, keepdim, op, largest)
    return ValuesIndices(*dim_cls.apply(x, d, keepdim))


def _integer_extreme(data, dim, keepdim, op, largest):
    if data.ndim == 0:
        return ValuesIndices(_no_grad(data.copy()), _no_grad(np.zeros((), dtypes.int64)))
    if data.shape[dim] == 0:
        raise IndexError(f"{op}: cannot reduce dim {dim} of size 0 (shape {data.shape})")
    index = (np.argmax if largest else np.argmin)(data, axis=dim, keepdims=True)
    values = np.take_along_axis(data, index, dim)
    if not keepdim:
        index, values = index.squeeze(dim), values.squeeze(dim)
    return ValuesIndices(_no_grad(values), _no_grad(index.astype(dtypes.int64)))


def max(x, dim=None, keepdim=False):  # noqa: A001  (PyTorch's name)
    """x.max(): the largest element (ties share the gradient); x.max(dim): (values, indices);
    max(a, b) with a tensor b: the elementwise maximum."""
    return _extreme(x, dim, keepdim, "max", MaxDim, Amax, True)


def min(x, dim=None, keepdim=False):  # noqa: A001  (PyTorch's name)
    """x.min(): the smallest element; x.min(dim): (values, indices); min(a, b): minimum."""
    return _extreme(x, dim, keepdim, "min", MinDim, Amin, False)


def _amax_like(x, dim, keepdim, op, cls, largest):
    x = as_tensor(x)
    dims = _dims(dim, x.ndim, op)
    if x.data.dtype.kind != "f":
        shape = [x.data.shape[d] for d in dims]
        if 0 in shape:
            raise IndexError(f"{op}: cannot reduce dims {dims} of zero size "
                             f"(shape {x.data.shape})")
        fn = np.max if largest else np.min
        return _no_grad(fn(x.data, axis=dims, keepdims=keepdim))
    return cls.apply(x, dims, keepdim)


def amax(x, dim=(), keepdim=False):
    """The max over `dim` (every dim by default); ties share the gradient evenly."""
    return _amax_like(x, dim, keepdim, "amax", Amax, True)


def amin(x, dim=(), keepdim=False):
    """The min over `dim` (every dim by default); ties share the gradient evenly."""
    return _amax_like(x, dim, keepdim, "amin", Amin, False)


def _arg(x, dim, keepdim, op, largest):
    x = as_tensor(x)
    data = x.data
    if data.dtype.kind != "f":
        data = data.astype(dtypes.float64)       # exact for int64 up to 2^53
    if dim is None:
        fn = kr.argmax_forward if largest else kr.argmin_forward
        return _no_grad(fn(data, None, keepdim))
    d = normalize_dim(dim, x.ndim, op)
    fn = kr.argmax_forward if largest else kr.argmin_forward
    return _no_grad(fn(data, d, keepdim))


def argmax(x, dim=None, keepdim=False):
    """int64 index of the max over `dim`, or into the flattened tensor (first of ties)."""
    return _arg(x, dim, keepdim, "argmax", True)


def argmin(x, dim=None, keepdim=False):
    """int64 index of the min over `dim`, or into the flattened tensor (first of ties)."""
    return _arg(x, dim, keepdim, "argmin", False)


def _correction(unbiased, correction, op):
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _var_like(cls, op, x, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):                # torch.var(x, False): the unbiased flag
        dim, unbiased = None, dim
    x = as_tensor(x)
    _require_float(x, op)
    return cls.apply(x, _dims(dim, x.ndim, op), _correction(unbiased, correction, op), keepdim)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over `dim` with `correction` (default 1, Bessel's; unbiased=False is 0)."""
    return _var_like(Var, "var", x, dim, unbiased, keepdim, correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over `dim` with `correction` (default 1)."""
    return _var_like(Std, "std", x, dim, unbiased, keepdim, correction)


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) over `dim`, computed stably (integer input becomes float32)."""
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        x = cast(x, dtypes.float32)
    return LogSumExp.apply(x, _dims(dim, x.ndim, "logsumexp"), keepdim)


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over `dim`: p = 'fro' or 2 (default), 1, inf, -inf, 0 or any number.
    Over two dims 'fro' is the Frobenius norm; the nuclear norm is not provided."""
    if p is None or p == "fro":
        p = 2.0
    elif isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; use 'fro' or a number "
                         f"(inf for the max norm)")
    x = _with_dtype(x, dtype, "norm")
    _require_float(x, "norm")
    return Norm.apply(x, float(p), _dims(dim, x.ndim, "norm"), keepdim)


def cumsum(x, dim, dtype=None):
    """Running sum along `dim` (int and bool give int64)."""
    x = _with_dtype(x, dtype, "cumsum")
    d = normalize_dim(dim, x.ndim, "cumsum")
    if x.data.dtype.kind != "f":
        data = x.data.reshape(1) if x.data.ndim == 0 else x.data
        return _no_grad(np.cumsum(data, axis=d, dtype=dtypes.int64).reshape(x.data.shape))
    return CumSum.apply(x, d)


def all(x, dim=None, keepdim=False):  # noqa: A001  (PyTorch's name)
    """True where every element over `dim` is non-zero (a bool tensor, no gradient)."""
    x = as_tensor(x)
    return _no_grad(np.all(x.data, axis=_dims(dim, x.ndim, "all"), keepdims=keepdim))


def any(x, dim=None, keepdim=False):  # noqa: A001  (PyTorch's name)
    """True where some element over `dim` is non-zero (a bool tensor, no gradient)."""
    x = as_tensor(x)
    return _no_grad(np.any(x.data, axis=_dims(dim, x.ndim, "any"), keepdims=keepdim))
