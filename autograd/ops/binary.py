"""Binary ops with numpy broadcasting and Python scalars on either side.

    add  a + b      grad_a = g,          grad_b = g
    sub  a - b      grad_a = g,          grad_b = -g
    mul  a * b      grad_a = g b,        grad_b = g a
    div  a / b      grad_a = g / b,      grad_b = -g a / b^2
    pow  a ** b     grad_a = g b a^(b-1), grad_b = g a^b ln a
    maximum, minimum: the gradient goes to the selected input (ties split it in half)
    where(c, a, b): grad_a = g where c, grad_b = g where not c
Backward returns gradients in the broadcast shape; the tape reduces them to each input's
shape. It computes only the gradients needed: `ctx.parents[i]` is None where input i needs
none (the same as `ctx.needs_input_grad[i]`, without building the tuple). A Python number
never upcasts a float32 tensor; integer tensors combine with numpy arithmetic and carry no
gradient. Comparisons return bool tensors without grad.
"""
import numpy as np

from autograd import dtypes
from autograd.function import Function, apply1, apply2
from autograd.ops._util import as_tensor, is_scalar
from autograd.ops.pointwise import PowScalar, cast
from autograd.tensor import Tensor, wrap
from kernels import elementwise as ew

_F32 = dtypes.float32
_F64 = dtypes.float64


__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Where", "AddScalar",
           "MulScalar", "RSubScalar", "RDivScalar", "RPowScalar", "add", "sub", "mul", "div",
           "pow", "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge", "logical_not",
           "logical_and", "logical_or", "isnan", "isinf", "isfinite"]


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return ew.add_forward(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return ew.sub_forward(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (ew.neg_backward(grad) if ctx.parents[1] is not None else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ew.mul_forward(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        to_a, to_b = ctx.parents        # the input's node, None if it needs no gradient
        grad_a = ew.mul_backward_a(b, grad) if to_a is not None else None
        grad_b = ew.mul_backward_b(a, grad) if to_b is not None else None
        return grad_a, grad_b


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ew.div_forward(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        to_a, to_b = ctx.parents        # the input's node, None if it needs no gradient
        grad_a = ew.div_backward_a(b, grad) if to_a is not None else None
        grad_b = ew.div_backward_b(a, b, grad) if to_b is not None else None
        return grad_a, grad_b


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        y = ew.pow_forward(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved
        to_a, to_b = ctx.parents        # the input's node, None if it needs no gradient
        grad_a = ew.pow_backward_a(a, b, grad) if to_a is not None else None
        grad_b = ew.pow_backward_b(a, b, y, grad) if to_b is not None else None
        return grad_a, grad_b


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ew.maximum_forward(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        to_a, to_b = ctx.parents        # the input's node, None if it needs no gradient
        grad_a = ew.maximum_backward_a(a, b, grad) if to_a is not None else None
        grad_b = ew.maximum_backward_b(a, b, grad) if to_b is not None else None
        return grad_a, grad_b


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ew.minimum_forward(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        to_a, to_b = ctx.parents        # the input's node, None if it needs no gradient
        grad_a = ew.minimum_backward_a(a, b, grad) if to_a is not None else None
        grad_b = ew.minimum_backward_b(a, b, grad) if to_b is not None else None
        return grad_a, grad_b


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return ew.where_forward(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved
        _, to_a, to_b = ctx.parents
        grad_a = ew.where_backward_a(cond, grad) if to_a is not None else None
        grad_b = ew.where_backward_b(cond, grad) if to_b is not None else None
        return None, grad_a, grad_b


class AddScalar(Function):
    """x + s for a Python number s."""

    @staticmethod
    def forward(ctx, x, s):
        return ew.add_scalar_forward(x, s)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class MulScalar(Function):
    """x * s for a Python number s."""

    @staticmethod
    def forward(ctx, x, s):
        ctx.s = s
        return ew.mul_scalar_forward(x, s)

    @staticmethod
    def backward(ctx, grad):
        return ew.mul_scalar_backward(grad, ctx.s), None


class RSubScalar(Function):
    """s - x for a Python number s."""

    @staticmethod
    def forward(ctx, x, s):
        return ew.rsub_scalar_forward(x, s)

    @staticmethod
    def backward(ctx, grad):
        return ew.neg_backward(grad), None


class RDivScalar(Function):
    """s / x for a Python number s."""

    @staticmethod
    def forward(ctx, x, s):
        y = ew.rdiv_scalar_forward(x, s)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return ew.rdiv_scalar_backward(x, y, grad), None


class RPowScalar(Function):
    """s ** x for a Python number s."""

    @staticmethod
    def forward(ctx, x, s):
        y = ew.rpow_scalar_forward(x, s)
        ctx.save_for_backward(x, y)
        ctx.s = s
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return ew.rpow_scalar_backward(x, y, grad, ctx.s), None


def _promote(a, b):
    """Two Tensors of one dtype, by PyTorch's promotion (float64 > float32 > int64 > bool)."""
    da, db = a.data.dtype, b.data.dtype
    if da == db:
        return a, b
    if da.kind == "f" and db.kind == "f":
        target = dtypes.float64
    elif da.kind == "f":
        target = da
    elif db.kind == "f":
        target = db
    else:
        target = dtypes.int64
    return cast(a, target) if da != target else a, cast(b, target) if db != target else b


_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
          "pow": np.power, "maximum": np.maximum, "minimum": np.minimum}


def _integer(op, a, b):
    """Integer/bool arithmetic: numpy's, no gradient (division gives float32, as PyTorch)."""
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    result = np.asarray(_NUMPY[op](a_data, b_data))
    if result.dtype.kind == "f":
        result = result.astype(dtypes.float32)
    elif result.dtype.kind in "iub" and op != "maximum" and op != "minimum":
        result = result.astype(dtypes.int64)
    return wrap(result, False, None, 0, None)


def _binary(op, cls, a, b, scalar_op=None, rscalar_op=None):
    """Dispatch a binary op: Tensor-Tensor with promotion, or Tensor-scalar fast paths.
    add, sub, mul and div inline its first lines (one call less on the hottest ops)."""
    if isinstance(a, Tensor):         # the common cases first: floats of one dtype, a number
        dtype = a.data.dtype
        if dtype is _F32 or dtype is _F64:
            if isinstance(b, Tensor):
                if b.data.dtype is dtype:
                    return apply2(cls, a, b)
            elif (type(b) is float or type(b) is int) and scalar_op is not None:
                return scalar_op(a, b)
    return _dispatch(op, cls, a, b, scalar_op, rscalar_op)


def _dispatch(op, cls, a, b, scalar_op, rscalar_op):
    """The general case: scalars on either side, arrays, integer tensors, dtype promotion."""
    if isinstance(a, Tensor):
        if is_scalar(b):
            if a.data.dtype.kind != "f":
                if isinstance(b, float) or op == "div":
                    a = cast(a, dtypes.float32)
                else:
                    return _integer(op, a, b)
            if scalar_op is not None:
                return scalar_op(a, b)
            b = wrap(np.asarray(b, dtype=a.data.dtype), False, None, 0, None)
        else:
            b = as_tensor(b)
    elif is_scalar(a):
        b = as_tensor(b)
        if b.data.dtype.kind != "f":
            if isinstance(a, float) or op == "div":
                b = cast(b, dtypes.float32)
            else:
                return _integer(op, a, b)
        if rscalar_op is not None:
            return rscalar_op(b, a)
        a = wrap(np.asarray(a, dtype=b.data.dtype), False, None, 0, None)
    else:
        a = as_tensor(a)
        b = as_tensor(b)
    if a.data.dtype != b.data.dtype:
        a, b = _promote(a, b)
    if a.data.dtype.kind != "f":
        if op == "div":
            return cls.apply(cast(a, dtypes.float32), cast(b, dtypes.float32))
        return _integer(op, a, b)
    return cls.apply(a, b)


def _add_scalar(x, s):
    return apply1(AddScalar, x, s)


def _sub_scalar(x, s):
    return apply1(AddScalar, x, -s)


def _rsub_scalar(x, s):
    return apply1(RSubScalar, x, s)


def _mul_scalar(x, s):
    return apply1(MulScalar, x, s)


def _div_scalar(x, s):
    if s == 0:
        return apply2(Div, x, _full_like(x, s))
    return apply1(MulScalar, x, 1.0 / s)


def _rdiv_scalar(x, s):
    return apply1(RDivScalar, x, s)


def _pow_scalar(x, s):
    return apply1(PowScalar, x, s)


def _rpow_scalar(x, s):
    return apply1(RPowScalar, x, s)


def add(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    if isinstance(a, Tensor):
        dtype = a.data.dtype
        if dtype is _F32 or dtype is _F64:
            if isinstance(b, Tensor):
                if b.data.dtype is dtype:
                    return apply2(Add, a, b)
            elif type(b) is float or type(b) is int:
                return apply1(AddScalar, a, b)
    return _dispatch("add", Add, a, b, _add_scalar, _add_scalar)


def sub(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    if isinstance(a, Tensor):
        dtype = a.data.dtype
        if dtype is _F32 or dtype is _F64:
            if isinstance(b, Tensor):
                if b.data.dtype is dtype:
                    return apply2(Sub, a, b)
            elif type(b) is float or type(b) is int:
                return apply1(AddScalar, a, -b)
    return _dispatch("sub", Sub, a, b, _sub_scalar, _rsub_scalar)


def mul(a, b):
    if isinstance(a, Tensor):
        dtype = a.data.dtype
        if dtype is _F32 or dtype is _F64:
            if isinstance(b, Tensor):
                if b.data.dtype is dtype:
                    return apply2(Mul, a, b)
            elif type(b) is float or type(b) is int:
                return apply1(MulScalar, a, b)
    return _dispatch("mul", Mul, a, b, _mul_scalar, _mul_scalar)


def div(a, b):
    if isinstance(a, Tensor):
        dtype = a.data.dtype
        if dtype is _F32 or dtype is _F64:
            if isinstance(b, Tensor):
                if b.data.dtype is dtype:
                    return apply2(Div, a, b)
            elif (type(b) is float or type(b) is int) and b != 0:
                return apply1(MulScalar, a, 1.0 / b)
    return _dispatch("div", Div, a, b, _div_scalar, _rdiv_scalar)


def pow(a, b):  # noqa: A001  (PyTorch's name)
    return _binary("pow", Pow, a, b, _pow_scalar, _rpow_scalar)


def maximum(a, b):
    return _binary("maximum", Maximum, a, b)


def minimum(a, b):
    return _binary("minimum", Minimum, a, b)


def _full_like(x, value):
    return wrap(np.full((), value, dtype=x.data.dtype), False, None, 0, None)


def where(condition, a, b):
    """Elements of `a` where `condition` is true, else of `b` (all three broadcast)."""
    condition = as_tensor(condition)
    if condition.data.dtype != dtypes.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {condition.data.dtype}")
    if is_scalar(a) and is_scalar(b):
        a = Tensor(np.asarray(a, dtype=dtypes.float32))
    if is_scalar(a):
        b = as_tensor(b)
        a = _full_like(b, a)
    elif is_scalar(b):
        a = as_tensor(a)
        b = _full_like(a, b)
    else:
        a, b = as_tensor(a), as_tensor(b)
    if a.data.dtype != b.data.dtype:
        a, b = _promote(a, b)
    if a.data.dtype.kind != "f":
        return wrap(np.where(condition.data, a.data, b.data), False, None, 0, None)
    return Where.apply(condition, a, b)


def _compare(op):
    def compare(a, b):
        a_data = a.data if isinstance(a, Tensor) else np.asarray(a)
        b_data = b.data if isinstance(b, Tensor) else np.asarray(b)
        return wrap(ew.compare(op, a_data, b_data), False, None, 0, None)
    compare.__name__ = op
    compare.__doc__ = f"Elementwise `{op}` comparison; a bool tensor without grad."
    return compare


eq = _compare("eq")
ne = _compare("ne")
lt = _compare("lt")
le = _compare("le")
gt = _compare("gt")
ge = _compare("ge")


def _bool_op(name, fn):
    def op(*args):
        arrays = [a.data if isinstance(a, Tensor) else np.asarray(a) for a in args]
        return wrap(np.asarray(fn(*arrays)), False, None, 0, None)
    op.__name__ = name
    return op


logical_not = _bool_op("logical_not", np.logical_not)
logical_and = _bool_op("logical_and", np.logical_and)
logical_or = _bool_op("logical_or", np.logical_or)
isnan = _bool_op("isnan", np.isnan)
isinf = _bool_op("isinf", np.isinf)
isfinite = _bool_op("isfinite", np.isfinite)
