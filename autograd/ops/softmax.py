"""softmax and log_softmax over one dim, each one fused kernel (`kernels/softmax.py`):

    softmax      y = e^(x - max) / sum e^(x - max)     grad_x = y (g - sum(g y))
    log_softmax  y = x - max - log sum e^(x - max)     grad_x = g - e^y sum(g)

Both save only their output. `dtype=` casts the input first, as in PyTorch.
"""
import numpy as np

from autograd import dtypes
from autograd.function import Function
from autograd.ops._util import as_tensor, normalize_dim
from autograd.ops.pointwise import cast
from kernels import softmax as ks


__all__ = ["Softmax", "LogSoftmax", "softmax", "log_softmax"]


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = ks.softmax_forward(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        return ks.softmax_backward(y, grad_y, ctx.dim), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = ks.log_softmax_forward(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        return ks.log_softmax_backward(y, grad_y, ctx.dim), None


def _prepare(x, dim, dtype, op):
    x = as_tensor(x)
    dtype = dtypes.resolve(dtype, op)
    if dtype is not None and dtype != x.data.dtype:
        x = cast(x, dtype)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {x.data.dtype}; pass "
                        f"dtype=float32 or convert it with .float()")
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return x, normalize_dim(int(dim), x.ndim, op)


def softmax(x, dim, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, stable for any magnitude of x."""
    x, dim = _prepare(x, dim, dtype, "softmax")
    return Softmax.apply(x, dim)


def log_softmax(x, dim, dtype=None):
    """x - logsumexp(x) along `dim`, stable for any magnitude of x."""
    x, dim = _prepare(x, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, dim)
