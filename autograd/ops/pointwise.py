"""Pointwise unary ops: y = f(x) elementwise; grad_x = grad_y * f'(x), computed by the kernel
from the saved x or y (see `kernels/elementwise.py` for each formula). Also dtype casts and
clone, whose backward is the identity (cast back to the input's dtype)."""
import numpy as np

from autograd import dtypes
from autograd.function import Function, apply1
from autograd.ops._util import as_float_tensor, as_tensor
from autograd.tensor import Tensor
from kernels import elementwise as ew


__all__ = ["Neg", "Sign", "Abs", "Exp", "Log", "Log1p", "Expm1", "Sqrt", "Rsqrt", "Square",
           "Reciprocal", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Relu6", "Selu", "Silu",
           "Hardsigmoid", "LeakyRelu", "Elu", "Gelu", "Softplus", "Hardtanh", "Clamp", "PowScalar",
           "Cast", "Clone", "neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt",
           "square", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "relu6", "selu",
           "silu", "hardsigmoid", "leaky_relu", "elu", "gelu", "softplus", "hardtanh", "sign",
           "clamp", "clip", "cast", "clone"]

_F32 = dtypes.float32
_F64 = dtypes.float64


def _unary(name, forward, backward, saves, params=False):
    """Function for y = f(x) whose backward needs only x (saves="x") or y ("y"); with
    `params`, y = f(x, *params) for Python numbers (slopes, bounds) passed after x."""
    save_input = saves == "x"

    if params:
        def fwd(ctx, x, *params):
            ctx.params = params
            y = forward(x, *params)
            ctx.save_for_backward(x if save_input else y)
            return y

        def bwd(ctx, grad_y):
            (saved,) = ctx.saved
            return (backward(saved, grad_y, *ctx.params),) + (None,) * len(ctx.params)
    elif save_input:
        def fwd(ctx, x):
            ctx.saved = (x,)        # ctx.save_for_backward(x), without the call
            return forward(x)

        def bwd(ctx, grad_y):
            return backward(ctx.saved[0], grad_y)
    else:
        def fwd(ctx, x):
            y = forward(x)
            ctx.saved = (y,)
            return y

        def bwd(ctx, grad_y):
            return backward(ctx.saved[0], grad_y)

    return type(name, (Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd),
                                    "__module__": __name__, "__doc__": f"{name} (pointwise)."})


def _float_op(name, cls):
    """The public function of a pointwise op without parameters: integer and bool tensors
    (and numbers, arrays) become float32 first."""
    def op(x):
        if not isinstance(x, Tensor) or (x.data.dtype is not _F32 and x.data.dtype is not _F64):
            x = as_float_tensor(x)
        return apply1(cls, x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (the gradient is in the module docstring)."
    return op


class Neg(Function):
    """neg (pointwise)."""

    @staticmethod
    def forward(ctx, x):
        return ew.neg_forward(x)

    @staticmethod
    def backward(ctx, grad_y):
        return ew.neg_backward(grad_y)


class Sign(Function):
    """sign (pointwise); its gradient is zero everywhere."""

    @staticmethod
    def forward(ctx, x):
        return ew.sign_forward(x)

    @staticmethod
    def backward(ctx, grad_y):
        return ew.sign_backward(grad_y)


Abs = _unary("Abs", ew.abs_forward, ew.abs_backward, saves="x")
Exp = _unary("Exp", ew.exp_forward, ew.exp_backward, saves="y")
Log = _unary("Log", ew.log_forward, ew.log_backward, saves="x")
Log1p = _unary("Log1p", ew.log1p_forward, ew.log1p_backward, saves="x")
Expm1 = _unary("Expm1", ew.expm1_forward, ew.expm1_backward, saves="y")
Sqrt = _unary("Sqrt", ew.sqrt_forward, ew.sqrt_backward, saves="y")
Rsqrt = _unary("Rsqrt", ew.rsqrt_forward, ew.rsqrt_backward, saves="y")
Square = _unary("Square", ew.square_forward, ew.square_backward, saves="x")
Reciprocal = _unary("Reciprocal", ew.reciprocal_forward, ew.reciprocal_backward, saves="y")
Sin = _unary("Sin", ew.sin_forward, ew.sin_backward, saves="x")
Cos = _unary("Cos", ew.cos_forward, ew.cos_backward, saves="x")
Tanh = _unary("Tanh", ew.tanh_forward, ew.tanh_backward, saves="y")
Sigmoid = _unary("Sigmoid", ew.sigmoid_forward, ew.sigmoid_backward, saves="y")
Relu = _unary("Relu", ew.relu_forward, ew.relu_backward, saves="y")
Relu6 = _unary("Relu6", ew.relu6_forward, ew.relu6_backward, saves="x")
Selu = _unary("Selu", ew.selu_forward, ew.selu_backward, saves="x")
Silu = _unary("Silu", ew.silu_forward, ew.silu_backward, saves="x")
Hardsigmoid = _unary("Hardsigmoid", ew.hardsigmoid_forward, ew.hardsigmoid_backward, saves="x")
LeakyRelu = _unary("LeakyRelu", ew.leaky_relu_forward, ew.leaky_relu_backward,
                   saves="x", params=True)
Elu = _unary("Elu", ew.elu_forward, ew.elu_backward, saves="x", params=True)
Gelu = _unary("Gelu", ew.gelu_forward, ew.gelu_backward, saves="x", params=True)
Softplus = _unary("Softplus", ew.softplus_forward, ew.softplus_backward, saves="x", params=True)
Hardtanh = _unary("Hardtanh", ew.hardtanh_forward, ew.hardtanh_backward, saves="x", params=True)
Clamp = _unary("Clamp", ew.clamp_forward, ew.clamp_backward, saves="x", params=True)
PowScalar = _unary("PowScalar", ew.pow_scalar_forward, ew.pow_scalar_backward,
                   saves="x", params=True)


class Cast(Function):
    """x.astype(dtype); the gradient is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, x, dtype, copy):
        ctx.in_dtype = x.dtype
        if x.dtype == dtype and not copy:
            return x
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.astype(ctx.in_dtype, copy=False), None, None


class Clone(Function):
    """A copy of x with its own memory; the gradient passes through."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y


def neg(x):
    return apply1(Neg, as_tensor(x))


abs = _float_op("abs", Abs)  # noqa: A001  (PyTorch's name)
exp = _float_op("exp", Exp)
log = _float_op("log", Log)
log1p = _float_op("log1p", Log1p)
expm1 = _float_op("expm1", Expm1)
sqrt = _float_op("sqrt", Sqrt)
rsqrt = _float_op("rsqrt", Rsqrt)
square = _float_op("square", Square)
reciprocal = _float_op("reciprocal", Reciprocal)
sin = _float_op("sin", Sin)
cos = _float_op("cos", Cos)
tanh = _float_op("tanh", Tanh)
sigmoid = _float_op("sigmoid", Sigmoid)
relu = _float_op("relu", Relu)


relu6 = _float_op("relu6", Relu6)
selu = _float_op("selu", Selu)
silu = _float_op("silu", Silu)
hardsigmoid = _float_op("hardsigmoid", Hardsigmoid)


def leaky_relu(x, negative_slope=0.01):
    return LeakyRelu.apply(as_float_tensor(x), float(negative_slope))


def elu(x, alpha=1.0):
    return Elu.apply(as_float_tensor(x), float(alpha))


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(as_float_tensor(x), approximate)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(as_float_tensor(x), float(beta), float(threshold))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(as_float_tensor(x), float(min_val), float(max_val))


sign = _float_op("sign", Sign)


def clamp(x, min=None, max=None):  # noqa: A002  (PyTorch's argument names)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    lo = None if min is None else float(min)
    hi = None if max is None else float(max)
    return Clamp.apply(as_float_tensor(x), lo, hi)


clip = clamp


def cast(x, dtype, copy=False):
    return Cast.apply(as_tensor(x), np.dtype(dtype), copy)


def clone(x):
    return Clone.apply(as_tensor(x))
