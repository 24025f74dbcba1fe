"""Pointwise unary ops: y = f(x) elementwise; grad_x = grad_y * f'(x), computed by the kernel
from the saved x or y (see `kernels/elementwise.py` for each formula). Also dtype casts and
clone, whose backward is the identity (cast back to the input's dtype)."""
import numpy as np

from autograd.function import Function
from autograd.ops._util import as_float_tensor, as_tensor
from kernels import elementwise as ew


__all__ = ["Neg", "Sign", "Abs", "Exp", "Log", "Log1p", "Expm1", "Sqrt", "Rsqrt", "Square",
           "Reciprocal", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Relu6", "Selu", "Silu",
           "Hardsigmoid", "LeakyRelu", "Elu", "Gelu", "Softplus", "Hardtanh", "Clamp", "PowScalar",
           "Cast", "Clone", "neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt",
           "square", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "relu6", "selu",
           "silu", "hardsigmoid", "leaky_relu", "elu", "gelu", "softplus", "hardtanh", "sign",
           "clamp", "clip", "cast", "clone"]


def _unary(name, forward, backward, saves):
    """Function for y = f(x, *params) whose backward needs only x (saves="x") or y ("y");
    params are Python numbers (slopes, bounds) passed positionally after x."""
    save_input = saves == "x"

    def fwd(ctx, x, *params):
        ctx.params = params
        y = forward(x, *params)
        ctx.save_for_backward(x if save_input else y)
        return y

    def bwd(ctx, grad_y):
        (saved,) = ctx.saved
        grad_x = backward(saved, grad_y, *ctx.params)
        return (grad_x,) + (None,) * len(ctx.params) if ctx.params else grad_x

    return type(name, (Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd),
                                    "__module__": __name__, "__doc__": f"{name} (pointwise)."})


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
LeakyRelu = _unary("LeakyRelu", ew.leaky_relu_forward, ew.leaky_relu_backward, saves="x")
Elu = _unary("Elu", ew.elu_forward, ew.elu_backward, saves="x")
Gelu = _unary("Gelu", ew.gelu_forward, ew.gelu_backward, saves="x")
Softplus = _unary("Softplus", ew.softplus_forward, ew.softplus_backward, saves="x")
Hardtanh = _unary("Hardtanh", ew.hardtanh_forward, ew.hardtanh_backward, saves="x")
Clamp = _unary("Clamp", ew.clamp_forward, ew.clamp_backward, saves="x")
PowScalar = _unary("PowScalar", ew.pow_scalar_forward, ew.pow_scalar_backward, saves="x")


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
    return Neg.apply(as_tensor(x))


def abs(x):  # noqa: A001  (PyTorch's name)
    return Abs.apply(as_float_tensor(x))


def exp(x):
    return Exp.apply(as_float_tensor(x))


def log(x):
    return Log.apply(as_float_tensor(x))


def log1p(x):
    return Log1p.apply(as_float_tensor(x))


def expm1(x):
    return Expm1.apply(as_float_tensor(x))


def sqrt(x):
    return Sqrt.apply(as_float_tensor(x))


def rsqrt(x):
    return Rsqrt.apply(as_float_tensor(x))


def square(x):
    return Square.apply(as_float_tensor(x))


def reciprocal(x):
    return Reciprocal.apply(as_float_tensor(x))


def sin(x):
    return Sin.apply(as_float_tensor(x))


def cos(x):
    return Cos.apply(as_float_tensor(x))


def tanh(x):
    return Tanh.apply(as_float_tensor(x))


def sigmoid(x):
    return Sigmoid.apply(as_float_tensor(x))


def relu(x):
    return Relu.apply(as_float_tensor(x))


def relu6(x):
    return Relu6.apply(as_float_tensor(x))


def selu(x):
    return Selu.apply(as_float_tensor(x))


def silu(x):
    return Silu.apply(as_float_tensor(x))


def hardsigmoid(x):
    return Hardsigmoid.apply(as_float_tensor(x))


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


def sign(x):
    return Sign.apply(as_float_tensor(x))


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
