"""Pointwise kernels: unary math and activations, broadcasting binary ops, where, comparisons.

Every public function takes float32/float64 arrays of any shape (0-d and empty included,
strided views accepted) and returns a new C-contiguous array of the input dtype. Jitted loops
see flat 1-D views only, so each loop has one signature per dtype. Python float parameters are
cast to the array dtype inside the loops: a float32 input stays float32 math.

Unary ops, y = f(x), grad_x = grad_y * f'(.) from the saved x or y:
    neg      -x                                  -g
    abs      |x|                                 g * sign(x)            (0 at x = 0)
    exp      e^x                                 g * y
    log      ln x                                g / x
    log1p    ln(1 + x)                           g / (1 + x)
    expm1    e^x - 1                             g * (y + 1)
    sqrt     x^(1/2)                             g / (2 y)
    rsqrt    x^(-1/2)                            -0.5 g y^3
    square   x^2                                 2 x g
    reciprocal 1/x                               -g y^2
    sin, cos                                     g cos x, -g sin x
    tanh                                         g (1 - y^2)
    sigmoid  1/(1 + e^-x)                        g (1 - y) y
    relu     max(x, 0)                           g where y > 0
    leaky_relu  x if x > 0 else s x              g if x > 0 else s g
    relu6    min(max(x, 0), 6)                   g where 0 < x < 6
    elu      x if x > 0 else a (e^x - 1)         g if x > 0 else g a e^x
    selu     scale * elu(x, alpha)               (PyTorch's scale and alpha)
    gelu     x Phi(x) ('none') or the tanh form  Phi(x) + x phi(x), or the tanh form's
    silu     x sigmoid(x)                        g s (1 + x (1 - s))
    softplus ln(1 + e^(b x)) / b, x if b x > t   g e^(bx) / (e^(bx) + 1), g if b x > t
    hardsigmoid  min(max(x + 3, 0), 6) / 6       g / 6 where -3 < x < 3
    hardtanh min(max(x, lo), hi)                 g where lo < x < hi
    sign     (x > 0) - (x < 0)                   0
    clamp    min(max(x, lo), hi)                 g where lo <= x <= hi
    pow_scalar  x^p                              g p x^(p-1), 0 when p == 0
Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = s, elu'(0) = a; hardtanh,
relu6 and hardsigmoid pass no gradient at their boundaries while clamp passes it at ties.

Binary ops broadcast like numpy; a backward returns the gradient of one input in the broadcast
shape (the tape sums it back to the input's shape):
    mul  a b      grad_a = g b, grad_b = g a
    div  a / b    grad_a = g / b, grad_b = -g (a / b) / b
    pow  a^b      grad_a = g b a^(b-1) (0 where b == 0), grad_b = g y ln a (0 where a == 0, b >= 0)
    maximum, minimum   the gradient goes to the selected input; ties split it in half
add and sub need only neg_backward; the scalar forms (x + s, x s, s - x, s / x, s^x) likewise.

Implementation: every loop is a flat 1-D loop (one compiled signature per dtype), called through
its compiled entry point (`_Compiled`) so a call on a small array costs little more than the
allocation of its output. Equal shapes run the flat loop; broadcast shapes are collapsed to at
most three dims where each operand is either contiguous or repeated, and run one strided loop.
float32 transcendentals come from `_fastmath` (vectorized polynomial forms, a few ulp); float64
uses libm. Serial only: prange versions of exp, sigmoid and gelu measured slower than the
serial loops at every size from 64k to 4M float32 elements on the 2-core machine (exp at 1M:
0.45 against 0.35 ms).
"""
import functools
import math

import numpy as np
from numba import njit, types
from numba.np import numpy_support

from kernels import _fastmath as fm

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# Loops built on the float32 transcendentals fuse multiply-adds (LLVM's `contract` flag alone:
# one rounding instead of two, so no accuracy is lost and NaN, inf and -0 keep their meaning);
# measured 1.3-1.8x faster on 1M float32 elements. Memory-bound loops gain nothing from it.
_FMA = {"contract"}

# PyTorch's SELU constants.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
# PyTorch's hardsigmoid_backward multiplies by the float32 constant 1.0f / 6.0f in every dtype.
_TORCH_SIXTH = float(np.float32(1.0) / np.float32(6.0))


class _Compiled(dict):
    """The compiled entry points of one jitted loop, by the dtype of its float arrays.

    Calling a compiled entry point directly skips the dispatcher's type resolution (saves
    ~0.1-0.3 us of the ~0.5 us a small call costs). An entry point checks dtypes but not layout
    or ndim, so every array handed to it must be C-contiguous and 1-D (`ravel` guarantees both:
    it copies a strided view). The first call per dtype goes through the dispatcher, which
    compiles the loop or loads it from the on-disk cache.
    """

    __slots__ = ("op", "loop")

    def __init__(self, op, loop):
        super().__init__()
        self.op = op
        self.loop = loop

    def __missing__(self, dtype):
        if dtype not in _FLOATS:
            raise TypeError(f"{self.op}: expected float32 or float64 arrays, got {dtype}")
        return functools.partial(self._first_call, dtype)

    def _first_call(self, dtype, *args):
        floats = [a for a in args if isinstance(a, np.ndarray) and a.dtype != np.bool_]
        if any(a.dtype != dtype for a in floats):   # never compile a mixed-dtype signature
            raise _dtype_error(self.op, *floats)
        # writable copies of read-only inputs, so the one signature compiled is the common one
        args = [a.copy() if isinstance(a, np.ndarray) and not a.flags.writeable else a
                for a in args]
        self.loop(*args)
        want = numpy_support.from_dtype(dtype)
        for signature, result in self.loop.overloads.items():
            if all(t.dtype in (want, types.boolean) for t in signature
                   if isinstance(t, types.Array)):
                self[dtype] = result.entry_point
                return
        raise RuntimeError(f"{self.op}: no compiled {dtype} signature of {self.loop}")


def _c_order(x):
    """x as a C-contiguous array; unlike np.ascontiguousarray, keeps 0-d arrays 0-d."""
    x = np.asarray(x)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _dtype_error(op, *arrays):
    dtypes = ", ".join(str(a.dtype) for a in arrays)
    return TypeError(f"{op}: expected float32 or float64 arrays of one dtype, got {dtypes}")


def _map(loop, x, *params):
    """loop(x, out, *params) over the flattened x; out has x's shape and dtype."""
    out = np.empty(x.shape, x.dtype)
    loop[x.dtype](x.ravel(), out.ravel(), *params)
    return out


def _map2(loop, u, v, *params):
    """loop(u, v, out, *params) for two arrays of one shape (a saved array and a gradient)."""
    if u.shape != v.shape:
        raise ValueError(f"{loop.op}: shapes {u.shape} and {v.shape} differ")
    out = np.empty(u.shape, u.dtype)
    try:
        loop[u.dtype](u.ravel(), v.ravel(), out.ravel(), *params)
    except TypeError:
        raise _dtype_error(loop.op, u, v) from None
    return out


def _unary_kernel(loop, name, doc=None):
    """The public kernel `name(x)`: `_map(loop, x)` as one function (no call in between, which
    is a measurable part of an op on a small array)."""
    def kernel(x):
        out = np.empty(x.shape, x.dtype)
        loop[x.dtype](x.ravel(), out.ravel())
        return out
    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = doc
    return kernel


def _grad_kernel(loop, name, doc=None):
    """The public kernel `name(u, v)`: `_map2(loop, u, v)` as one function."""
    def kernel(u, v):
        if u.shape != v.shape:
            raise ValueError(f"{loop.op}: shapes {u.shape} and {v.shape} differ")
        out = np.empty(u.shape, u.dtype)
        try:
            loop[u.dtype](u.ravel(), v.ravel(), out.ravel())
        except TypeError:
            raise _dtype_error(loop.op, u, v) from None
        return out
    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = doc
    return kernel


def _map3(loop, u, v, w, *params):
    if not u.shape == v.shape == w.shape:
        raise ValueError(f"{loop.op}: shapes {u.shape}, {v.shape} and {w.shape} differ")
    out = np.empty(u.shape, u.dtype)
    try:
        loop[u.dtype](u.ravel(), v.ravel(), w.ravel(), out.ravel(), *params)
    except TypeError:
        raise _dtype_error(loop.op, u, v, w) from None
    return out


# unary forward loops: (x, out[, params])

@njit(cache=True, error_model="numpy")
def _neg_loop(x, out):
    for i in range(x.size):
        out[i] = -x[i]


@njit(cache=True, error_model="numpy")
def _abs_fwd(x, out):
    for i in range(x.size):
        out[i] = abs(x[i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _exp_fwd(x, out):
    # the core skips range handling; the rare inputs outside its range (overflow, denormal
    # results, inf, NaN) are redone afterwards with libm, whose scalar code compiles quickly
    lo, hi = fm.EXP_CORE_LO, fm.EXP_CORE_HI
    rare = False
    for i in range(x.size):
        v = x[i]
        out[i] = fm.exp_core(v)
        rare |= not ((v > lo) & (v < hi))
    if rare:
        for i in range(x.size):
            v = x[i]
            if not ((v > lo) & (v < hi)):
                out[i] = np.exp(v)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _log_fwd(x, out):
    lo, hi = fm.LOG_CORE_LO, fm.LOG_CORE_HI
    rare = False
    for i in range(x.size):
        v = x[i]
        out[i] = fm.log_core(v)
        rare |= not ((v >= lo) & (v < hi))
    if rare:   # zero, negative, denormal, inf, NaN
        for i in range(x.size):
            v = x[i]
            if not ((v >= lo) & (v < hi)):
                out[i] = np.log(v)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _log1p_fwd(x, out):
    lo, hi = fm.LOG1P_CORE_LO, fm.LOG1P_CORE_HI
    rare = False
    for i in range(x.size):
        v = x[i]
        out[i] = fm.log1p_core(v)
        rare |= not ((v > lo) & (v < hi))
    if rare:
        for i in range(x.size):
            v = x[i]
            if not ((v > lo) & (v < hi)):
                out[i] = np.log1p(v)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _expm1_fwd(x, out):
    lo, hi = fm.EXPM1_CORE_LO, fm.EXPM1_CORE_HI
    rare = False
    for i in range(x.size):
        v = x[i]
        out[i] = fm.expm1_core(v)
        rare |= not ((v > lo) & (v < hi))
    if rare:   # -1 and overflow, NaN
        for i in range(x.size):
            v = x[i]
            if not ((v > lo) & (v < hi)):
                out[i] = np.expm1(v)


@njit(cache=True, error_model="numpy")
def _sqrt_fwd(x, out):
    for i in range(x.size):
        out[i] = np.sqrt(x[i])


@njit(cache=True, error_model="numpy")
def _rsqrt_fwd(x, out):
    one = x.dtype.type(1.0)
    for i in range(x.size):
        out[i] = one / np.sqrt(x[i])


@njit(cache=True, error_model="numpy")
def _square_fwd(x, out):
    for i in range(x.size):
        out[i] = x[i] * x[i]


@njit(cache=True, error_model="numpy")
def _reciprocal_fwd(x, out):
    one = x.dtype.type(1.0)
    for i in range(x.size):
        out[i] = one / x[i]


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _sin_fwd(x, out):
    big = False   # an OR of flags keeps the loop vectorized (an integer count did not)
    for i in range(x.size):
        v = x[i]
        out[i] = fm.sin(v)
        big |= abs(v) > fm.TRIG_MAX
    if big:   # the fast float32 reduction is exact only up to TRIG_MAX: libm for the rest
        for i in range(x.size):
            if abs(x[i]) > fm.TRIG_MAX:
                out[i] = np.sin(x[i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _cos_fwd(x, out):
    big = False
    for i in range(x.size):
        v = x[i]
        out[i] = fm.cos(v)
        big |= abs(v) > fm.TRIG_MAX
    if big:
        for i in range(x.size):
            if abs(x[i]) > fm.TRIG_MAX:
                out[i] = np.cos(x[i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _tanh_fwd(x, out):
    hi = fm.TANH_CORE_HI
    rare = False
    for i in range(x.size):
        v = x[i]
        out[i] = fm.tanh_core(v)
        rare |= not (abs(v) <= hi)
    if rare:   # saturated or NaN
        for i in range(x.size):
            v = x[i]
            if not (abs(v) <= hi):
                out[i] = np.tanh(v)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _sigmoid_fwd(x, out):
    for i in range(x.size):
        out[i] = fm.sigmoid(x[i])


@njit(cache=True, error_model="numpy")
def _relu_fwd(x, out):
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > zero or v != v else zero   # NaN propagates, as in PyTorch


@njit(cache=True, error_model="numpy")
def _leaky_relu_fwd(x, out, slope):
    s = x.dtype.type(slope)
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > zero else v * s


@njit(cache=True, error_model="numpy")
def _clamp_fwd(x, out, lo, hi):
    # compare-and-replace keeps NaN and gives hi everywhere when lo > hi, like torch.clamp
    lo = x.dtype.type(lo)
    hi = x.dtype.type(hi)
    for i in range(x.size):
        v = x[i]
        v = lo if v < lo else v
        out[i] = hi if v > hi else v


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _elu_fwd(x, out, alpha, scale):
    a = x.dtype.type(alpha)
    s = x.dtype.type(scale)
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = s * v if v > zero else s * a * fm.expm1(v)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _gelu_fwd(x, out):
    half = x.dtype.type(0.5)
    one = x.dtype.type(1.0)
    rsqrt2 = x.dtype.type(1.0 / math.sqrt(2.0))
    for i in range(x.size):
        v = x[i]
        out[i] = half * v * (one + fm.erf(v * rsqrt2))


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _gelu_tanh_fwd(x, out):
    half = x.dtype.type(0.5)
    one = x.dtype.type(1.0)
    beta = x.dtype.type(math.sqrt(2.0 / math.pi))
    kappa = x.dtype.type(0.044715)
    for i in range(x.size):
        v = x[i]
        out[i] = half * v * (one + fm.tanh(beta * (v + kappa * v * v * v)))


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _silu_fwd(x, out):
    for i in range(x.size):
        out[i] = x[i] * fm.sigmoid(x[i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _softplus_fwd(x, out, beta, threshold):
    b = x.dtype.type(beta)
    t = x.dtype.type(threshold)
    for i in range(x.size):
        z = x[i] * b
        # PyTorch computes log1p(exp(z)) / b, which overflows for z > 88 when threshold is
        # that large; the stable form is equal wherever that one is finite
        out[i] = x[i] if z > t else fm.softplus(z) / b


@njit(cache=True, error_model="numpy")
def _hardsigmoid_fwd(x, out):
    zero = x.dtype.type(0.0)
    three = x.dtype.type(3.0)
    six = x.dtype.type(6.0)
    for i in range(x.size):
        v = x[i] + three
        v = zero if v < zero else v
        out[i] = (six if v > six else v) / six


@njit(cache=True, error_model="numpy")
def _sign_fwd(x, out):
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = x.dtype.type(v > zero) - x.dtype.type(v < zero)   # NaN -> 0, as torch.sign


@njit(cache=True, error_model="numpy")
def _pow_neg_base_sign(p, one, nan, big):
    # (-a)^p = a^p, -a^p or NaN for even, odd and fractional p; big = 2^(mantissa bits): at and
    # beyond it every float is an even integer, below it p is an integer iff it converts exactly
    small = abs(p) < big
    i = np.int64(p if small else one)
    if small and i != p:
        return nan
    return -one if small and (i & 1) else one


@njit(cache=True, error_model="numpy")
def _mantissa_limit(x):
    # 2^(mantissa bits) in x's dtype
    return x.dtype.type(2.0) / np.finfo(x.dtype).eps


@njit(cache=True, error_model="numpy")
def _pow_core_holds(a, t):
    # fm.pow_core(a, p) = (y, t) is exact: a positive, normal and finite, |t| = |p ln a| small
    return (a >= fm.LOG_CORE_LO) & (a < fm.LOG_CORE_HI) & (abs(t) < fm.POW_CORE_Y)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _pow_scalar_fwd(x, out, exponent):
    # PyTorch's special exponents become plain arithmetic (vectorized, and bitwise what torch
    # computes); any other exponent goes through fm.pow_core
    one = x.dtype.type(1.0)
    n = x.size
    if exponent == 2.0:
        for i in range(n):
            out[i] = x[i] * x[i]
    elif exponent == 3.0:
        for i in range(n):
            out[i] = x[i] * x[i] * x[i]
    elif exponent == 0.5:
        for i in range(n):
            out[i] = np.sqrt(x[i])
    elif exponent == -0.5:
        for i in range(n):
            out[i] = one / np.sqrt(x[i])
    elif exponent == -1.0:
        for i in range(n):
            out[i] = one / x[i]
    elif exponent == -2.0:
        for i in range(n):
            out[i] = one / (x[i] * x[i])
    elif exponent == 1.0:
        for i in range(n):
            out[i] = x[i]
    elif exponent == 0.0:
        for i in range(n):
            out[i] = one
    else:
        p = x.dtype.type(exponent)             # PyTorch casts the exponent to the dtype
        neg = _pow_neg_base_sign(p, one, x.dtype.type(np.nan), _mantissa_limit(x))
        zero = x.dtype.type(0.0)
        rare = False
        for i in range(n):
            v = x[i]
            a = abs(v)
            y, t = fm.pow_core(a, p)
            out[i] = y * neg if v < zero else y
            rare |= not _pow_core_holds(a, t)
        if rare:   # zero, denormal, infinite or NaN base, or a result beyond the core's range
            for i in range(n):
                a = abs(x[i])
                if not _pow_core_holds(a, fm.pow_core(a, p)[1]):
                    out[i] = x[i] ** p


@njit(cache=True, error_model="numpy")
def _add_scalar_fwd(x, out, s):
    s = x.dtype.type(s)
    for i in range(x.size):
        out[i] = x[i] + s


@njit(cache=True, error_model="numpy")
def _mul_scalar_fwd(x, out, s):
    s = x.dtype.type(s)
    for i in range(x.size):
        out[i] = x[i] * s


@njit(cache=True, error_model="numpy")
def _rsub_scalar_fwd(x, out, s):
    s = x.dtype.type(s)
    for i in range(x.size):
        out[i] = s - x[i]


@njit(cache=True, error_model="numpy")
def _rdiv_scalar_fwd(x, out, s):
    s = x.dtype.type(s)
    for i in range(x.size):
        out[i] = s / x[i]


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _rpow_scalar_fwd(x, out, s):
    base = np.float64(x.dtype.type(s))          # PyTorch casts the base to the dtype
    if base > 0.0 and base < np.inf and base != 1.0:
        # s^x = e^(x ln s) with the product in float64 (a float32 product would lose |x ln s|
        # ulps of the result)
        log_s = math.log(base)
        for i in range(x.size):
            out[i] = fm.exp_mul(x[i], log_s)
    else:   # zero, negative, infinite or unit base: pow's special cases
        base = x.dtype.type(s)
        for i in range(x.size):
            out[i] = base ** x[i]


# unary backward loops: (saved, grad, out[, params])

@njit(cache=True, error_model="numpy")
def _abs_bwd(x, g, out):
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] * (x.dtype.type(v > zero) - x.dtype.type(v < zero))


@njit(cache=True, error_model="numpy")
def _mul_loop(a, b, out):
    for i in range(a.size):
        out[i] = a[i] * b[i]


@njit(cache=True, error_model="numpy")
def _div_loop(a, b, out):
    for i in range(a.size):
        out[i] = a[i] / b[i]


@njit(cache=True, error_model="numpy")
def _log1p_bwd(x, g, out):
    one = x.dtype.type(1.0)
    for i in range(x.size):
        out[i] = g[i] / (x[i] + one)


@njit(cache=True, error_model="numpy")
def _expm1_bwd(y, g, out):
    one = y.dtype.type(1.0)
    for i in range(y.size):
        out[i] = g[i] * (y[i] + one)


@njit(cache=True, error_model="numpy")
def _sqrt_bwd(y, g, out):
    two = y.dtype.type(2.0)
    for i in range(y.size):
        out[i] = g[i] / (two * y[i])


@njit(cache=True, error_model="numpy")
def _rsqrt_bwd(y, g, out):
    mhalf = y.dtype.type(-0.5)
    for i in range(y.size):
        v = y[i]
        out[i] = mhalf * g[i] * (v * v * v)


@njit(cache=True, error_model="numpy")
def _square_bwd(x, g, out):
    two = x.dtype.type(2.0)
    for i in range(x.size):
        out[i] = g[i] * (two * x[i])


@njit(cache=True, error_model="numpy")
def _reciprocal_bwd(y, g, out):
    for i in range(y.size):
        out[i] = -g[i] * (y[i] * y[i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _sin_bwd(x, g, out):
    big = False
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] * fm.cos(v)
        big |= abs(v) > fm.TRIG_MAX
    if big:
        for i in range(x.size):
            if abs(x[i]) > fm.TRIG_MAX:
                out[i] = g[i] * np.cos(x[i])


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _cos_bwd(x, g, out):
    big = False
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] * -fm.sin(v)
        big |= abs(v) > fm.TRIG_MAX
    if big:
        for i in range(x.size):
            if abs(x[i]) > fm.TRIG_MAX:
                out[i] = g[i] * -np.sin(x[i])


@njit(cache=True, error_model="numpy")
def _tanh_bwd(y, g, out):
    one = y.dtype.type(1.0)
    for i in range(y.size):
        out[i] = g[i] * (one - y[i] * y[i])


@njit(cache=True, error_model="numpy")
def _sigmoid_bwd(y, g, out):
    one = y.dtype.type(1.0)
    for i in range(y.size):
        out[i] = g[i] * (one - y[i]) * y[i]


@njit(cache=True, error_model="numpy")
def _relu_bwd(y, g, out):
    zero = y.dtype.type(0.0)
    for i in range(y.size):
        out[i] = g[i] if y[i] > zero else zero


@njit(cache=True, error_model="numpy")
def _leaky_relu_bwd(x, g, out, slope):
    s = x.dtype.type(slope)
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        out[i] = g[i] if x[i] > zero else g[i] * s


@njit(cache=True, error_model="numpy")
def _hardtanh_bwd(x, g, out, lo, hi):
    # strict inside test: a NaN input passes its gradient, as in PyTorch's hardtanh_backward
    lo = x.dtype.type(lo)
    hi = x.dtype.type(hi)
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = zero if v <= lo or v >= hi else g[i]


@njit(cache=True, error_model="numpy")
def _clamp_bwd(x, g, out, lo, hi):
    lo = x.dtype.type(lo)
    hi = x.dtype.type(hi)
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] if v >= lo and v <= hi else zero


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _elu_bwd(x, g, out, alpha, scale):
    a = x.dtype.type(alpha)
    s = x.dtype.type(scale)
    zero = x.dtype.type(0.0)
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] * s if v > zero else g[i] * (s * a) * fm.exp(v)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _gelu_bwd(x, g, out):
    half = x.dtype.type(0.5)
    one = x.dtype.type(1.0)
    rsqrt2 = x.dtype.type(1.0 / math.sqrt(2.0))
    rsqrt2pi = x.dtype.type(1.0 / math.sqrt(2.0 * math.pi))
    for i in range(x.size):
        v = x[i]
        cdf = half * (one + fm.erf(v * rsqrt2))
        pdf = fm.exp(-half * v * v) * rsqrt2pi
        out[i] = g[i] * (cdf + v * pdf)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _gelu_tanh_bwd(x, g, out):
    half = x.dtype.type(0.5)
    one = x.dtype.type(1.0)
    beta = x.dtype.type(math.sqrt(2.0 / math.pi))
    kappa = x.dtype.type(0.044715)
    kappa3 = x.dtype.type(3.0 * 0.044715)
    for i in range(x.size):
        v = x[i]
        t = fm.tanh(beta * (v + kappa * v * v * v))
        left = half * v
        dinner = beta * (one + kappa3 * v * v)
        out[i] = g[i] * (half * (one + t) + left * (one - t * t) * dinner)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _silu_bwd(x, g, out):
    one = x.dtype.type(1.0)
    for i in range(x.size):
        s = fm.sigmoid(x[i])
        out[i] = g[i] * s * (one + x[i] * (one - s))


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _softplus_bwd(x, g, out, beta, threshold):
    b = x.dtype.type(beta)
    t = x.dtype.type(threshold)
    for i in range(x.size):
        z = x[i] * b
        out[i] = g[i] if z > t else g[i] * fm.sigmoid(z)


@njit(cache=True, error_model="numpy")
def _hardsigmoid_bwd(x, g, out, sixth):
    zero = x.dtype.type(0.0)
    three = x.dtype.type(3.0)
    sixth = x.dtype.type(sixth)
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] * sixth if v > -three and v < three else zero


@njit(cache=True, error_model="numpy")
def _pow_scalar_bwd(x, g, out, exponent):
    # grad * (p * x^(p-1)), with x^(p-1) through the same special cases as the forward
    _pow_scalar_fwd(x, out, exponent - 1.0)
    p = x.dtype.type(exponent)
    for i in range(x.size):
        out[i] = g[i] * (p * out[i])


@njit(cache=True, error_model="numpy")
def _rdiv_scalar_bwd(x, y, g, out):
    for i in range(x.size):
        out[i] = -g[i] * (y[i] / x[i])


@njit(cache=True, error_model="numpy")
def _rpow_scalar_bwd(x, y, g, out, s):
    base = np.float64(y.dtype.type(s))          # the base as the forward saw it
    zero = y.dtype.type(0.0)
    zero_base = base == 0.0
    c = y.dtype.type(math.log(base) if base > 0.0 else (-np.inf if zero_base else np.nan))
    for i in range(y.size):
        out[i] = zero if zero_base and x[i] >= zero else g[i] * (y[i] * c)


# binary loops: flat for equal shapes, strided for broadcasting

@njit(cache=True, error_model="numpy")
def _max_op(u, v):
    return u if u > v or u != u else v   # NaN in either input propagates


@njit(cache=True, error_model="numpy")
def _min_op(u, v):
    return u if u < v or u != u else v


@njit(cache=True, error_model="numpy")
def _add_flat(a, b, out):
    for i in range(a.size):
        out[i] = a[i] + b[i]


@njit(cache=True, error_model="numpy")
def _sub_flat(a, b, out):
    for i in range(a.size):
        out[i] = a[i] - b[i]


@njit(cache=True, error_model="numpy", inline="always")
def _pow_fast_op(u, p, zero, one, nan, big):
    # (u ** p, exact): through fm.pow_core; where not exact the caller redoes u ** p with libm
    a = abs(u)
    y, t = fm.pow_core(a, p)
    y = y * _pow_neg_base_sign(p, one, nan, big) if u < zero else y
    return y, _pow_core_holds(a, t)


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _pow_flat(a, b, out):
    # a first pass for positive bases only (no sign work in the vectorized loop), then the
    # elements it could not do exactly: negative bases through the core, the rest with libm
    t = a.dtype.type
    zero, one, nan, big = t(0.0), t(1.0), t(np.nan), _mantissa_limit(a)
    exact = True
    for i in range(a.size):
        y, e = fm.pow_core(a[i], b[i])
        out[i] = y
        exact &= _pow_core_holds(a[i], e)
    if not exact:
        for i in range(a.size):
            u, p = a[i], b[i]
            if not _pow_core_holds(u, fm.pow_core(u, p)[1]):
                y, ok = _pow_fast_op(u, p, zero, one, nan, big)
                out[i] = y if ok else u ** p


@njit(cache=True, error_model="numpy")
def _maximum_flat(a, b, out):
    for i in range(a.size):
        out[i] = _max_op(a[i], b[i])


@njit(cache=True, error_model="numpy")
def _minimum_flat(a, b, out):
    for i in range(a.size):
        out[i] = _min_op(a[i], b[i])


# Strided loops: the output is (n0, n1, n2) in C order; each operand's element stride per dim
# is 0 (broadcast) or its contiguous stride, so the innermost loop reads either a contiguous
# run or one repeated value. The three inner cases are separate loops so each vectorizes.

@njit(cache=True, error_model="numpy")
def _add_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = u + rb[k]
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = ra[k] + v
            else:
                for k in range(n2):
                    ro[k] = ra[k] + rb[k]
            o += n2


@njit(cache=True, error_model="numpy")
def _sub_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = u - rb[k]
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = ra[k] - v
            else:
                for k in range(n2):
                    ro[k] = ra[k] - rb[k]
            o += n2


@njit(cache=True, error_model="numpy")
def _mul_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = u * rb[k]
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = ra[k] * v
            else:
                for k in range(n2):
                    ro[k] = ra[k] * rb[k]
            o += n2


@njit(cache=True, error_model="numpy")
def _div_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = u / rb[k]
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = ra[k] / v
            else:
                for k in range(n2):
                    ro[k] = ra[k] / rb[k]
            o += n2


@njit(cache=True, error_model="numpy", fastmath=_FMA)
def _pow_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    t = a.dtype.type
    zero, one, nan, big = t(0.0), t(1.0), t(np.nan), _mantissa_limit(a)
    exact = True
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    y, ok = _pow_fast_op(u, rb[k], zero, one, nan, big)
                    ro[k] = y
                    exact &= ok
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    y, ok = _pow_fast_op(ra[k], v, zero, one, nan, big)
                    ro[k] = y
                    exact &= ok
            else:
                for k in range(n2):
                    y, ok = _pow_fast_op(ra[k], rb[k], zero, one, nan, big)
                    ro[k] = y
                    exact &= ok
            o += n2
    if not exact:   # special values somewhere: libm for the whole broadcast (rare)
        o = 0
        for i in range(n0):
            for j in range(n1):
                ra = a[i * sa[0] + j * sa[1]:]
                rb = b[i * sb[0] + j * sb[1]:]
                for k in range(n2):
                    out[o + k] = ra[k * (sa[2] != 0)] ** rb[k * (sb[2] != 0)]
                o += n2


@njit(cache=True, error_model="numpy")
def _maximum_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = _max_op(u, rb[k])
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = _max_op(ra[k], v)
            else:
                for k in range(n2):
                    ro[k] = _max_op(ra[k], rb[k])
            o += n2


@njit(cache=True, error_model="numpy")
def _minimum_strided(a, b, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = _min_op(u, rb[k])
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = _min_op(ra[k], v)
            else:
                for k in range(n2):
                    ro[k] = _min_op(ra[k], rb[k])
            o += n2


# Backward ops on (a, b, grad[, y]); grad and y always have the broadcast shape.

@njit(cache=True, error_model="numpy")
def _div_b_op(a, b, g):
    return -g * ((a / b) / b)   # PyTorch's order: no overflow from b * b


@njit(cache=True, error_model="numpy")
def _pow_a_op(a, b, g, zero, one):
    return zero if b == zero else g * (b * a ** (b - one))


@njit(cache=True, error_model="numpy")
def _pow_b_op(a, b, y, g, zero):
    return zero if a == zero and b >= zero else g * (y * fm.log(a))


@njit(cache=True, error_model="numpy")
def _pick_op(u, v, g, zero, half):
    # gradient of the selected input of maximum(u, v) (or minimum(v, u)); a tie splits it
    return zero if u < v else (g * half if u == v else g)


@njit(cache=True, error_model="numpy")
def _div_b_flat(a, b, g, out):
    for i in range(a.size):
        out[i] = _div_b_op(a[i], b[i], g[i])


@njit(cache=True, error_model="numpy")
def _pow_a_flat(a, b, g, out):
    zero = a.dtype.type(0.0)
    one = a.dtype.type(1.0)
    _pow_flat(a, b - one, out)
    for i in range(a.size):
        out[i] = zero if b[i] == zero else g[i] * (b[i] * out[i])


@njit(cache=True, error_model="numpy")
def _pow_b_flat(a, b, y, g, out):
    zero = a.dtype.type(0.0)
    for i in range(a.size):
        out[i] = _pow_b_op(a[i], b[i], y[i], g[i], zero)


@njit(cache=True, error_model="numpy")
def _pick_flat(u, v, g, out):
    zero = u.dtype.type(0.0)
    half = u.dtype.type(0.5)
    for i in range(u.size):
        out[i] = _pick_op(u[i], v[i], g[i], zero, half)


@njit(cache=True, error_model="numpy")
def _div_b_strided(a, b, g, out, dims, sa, sb):
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            rg = g[o:o + n2]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = _div_b_op(u, rb[k], rg[k])
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = _div_b_op(ra[k], v, rg[k])
            else:
                for k in range(n2):
                    ro[k] = _div_b_op(ra[k], rb[k], rg[k])
            o += n2


@njit(cache=True, error_model="numpy")
def _pow_a_strided(a, b, g, out, dims, sa, sb):
    zero = a.dtype.type(0.0)
    one = a.dtype.type(1.0)
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            rg = g[o:o + n2]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = _pow_a_op(u, rb[k], rg[k], zero, one)
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = _pow_a_op(ra[k], v, rg[k], zero, one)
            else:
                for k in range(n2):
                    ro[k] = _pow_a_op(ra[k], rb[k], rg[k], zero, one)
            o += n2


@njit(cache=True, error_model="numpy")
def _pow_b_strided(a, b, y, g, out, dims, sa, sb):
    zero = a.dtype.type(0.0)
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            ry = y[o:o + n2]
            rg = g[o:o + n2]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = _pow_b_op(u, rb[k], ry[k], rg[k], zero)
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = _pow_b_op(ra[k], v, ry[k], rg[k], zero)
            else:
                for k in range(n2):
                    ro[k] = _pow_b_op(ra[k], rb[k], ry[k], rg[k], zero)
            o += n2


@njit(cache=True, error_model="numpy")
def _pick_strided(a, b, g, out, dims, sa, sb):
    zero = a.dtype.type(0.0)
    half = a.dtype.type(0.5)
    n0, n1, n2 = dims
    o = 0
    for i in range(n0):
        for j in range(n1):
            ra = a[i * sa[0] + j * sa[1]:]
            rb = b[i * sb[0] + j * sb[1]:]
            rg = g[o:o + n2]
            ro = out[o:o + n2]
            if sa[2] == 0:
                u = ra[0]
                for k in range(n2):
                    ro[k] = _pick_op(u, rb[k], rg[k], zero, half)
            elif sb[2] == 0:
                v = rb[0]
                for k in range(n2):
                    ro[k] = _pick_op(ra[k], v, rg[k], zero, half)
            else:
                for k in range(n2):
                    ro[k] = _pick_op(ra[k], rb[k], rg[k], zero, half)
            o += n2


# where

@njit(cache=True, error_model="numpy")
def _where_flat(cond, a, b, out):
    for i in range(cond.size):
        out[i] = a[i] if cond[i] else b[i]


@njit(cache=True, error_model="numpy")
def _mask_flat(cond, g, out, keep):
    zero = g.dtype.type(0.0)
    for i in range(cond.size):
        out[i] = g[i] if cond[i] == keep else zero


_NEG = _Compiled("neg", _neg_loop)
_ABS = _Compiled("abs", _abs_fwd)
_ABS_GRAD = _Compiled("abs", _abs_bwd)
_EXP = _Compiled("exp", _exp_fwd)
_EXP_GRAD = _Compiled("exp", _mul_loop)
_LOG = _Compiled("log", _log_fwd)
_LOG_GRAD = _Compiled("log", _div_loop)
_LOG1P = _Compiled("log1p", _log1p_fwd)
_LOG1P_GRAD = _Compiled("log1p", _log1p_bwd)
_EXPM1 = _Compiled("expm1", _expm1_fwd)
_EXPM1_GRAD = _Compiled("expm1", _expm1_bwd)
_SQRT = _Compiled("sqrt", _sqrt_fwd)
_SQRT_GRAD = _Compiled("sqrt", _sqrt_bwd)
_RSQRT = _Compiled("rsqrt", _rsqrt_fwd)
_RSQRT_GRAD = _Compiled("rsqrt", _rsqrt_bwd)
_SQUARE = _Compiled("square", _square_fwd)
_SQUARE_GRAD = _Compiled("square", _square_bwd)
_RECIPROCAL = _Compiled("reciprocal", _reciprocal_fwd)
_RECIPROCAL_GRAD = _Compiled("reciprocal", _reciprocal_bwd)
_SIN = _Compiled("sin", _sin_fwd)
_SIN_GRAD = _Compiled("sin", _sin_bwd)
_COS = _Compiled("cos", _cos_fwd)
_COS_GRAD = _Compiled("cos", _cos_bwd)
_TANH = _Compiled("tanh", _tanh_fwd)
_TANH_GRAD = _Compiled("tanh", _tanh_bwd)
_SIGMOID = _Compiled("sigmoid", _sigmoid_fwd)
_SIGMOID_GRAD = _Compiled("sigmoid", _sigmoid_bwd)
_RELU = _Compiled("relu", _relu_fwd)
_RELU_GRAD = _Compiled("relu", _relu_bwd)
_LEAKY_RELU = _Compiled("leaky_relu", _leaky_relu_fwd)
_LEAKY_RELU_GRAD = _Compiled("leaky_relu", _leaky_relu_bwd)
_CLAMP = _Compiled("clamp", _clamp_fwd)
_CLAMP_GRAD = _Compiled("clamp", _clamp_bwd)
_HARDTANH_GRAD = _Compiled("hardtanh", _hardtanh_bwd)
_ELU = _Compiled("elu", _elu_fwd)
_ELU_GRAD = _Compiled("elu", _elu_bwd)
_GELU = _Compiled("gelu", _gelu_fwd)
_GELU_GRAD = _Compiled("gelu", _gelu_bwd)
_GELU_TANH = _Compiled("gelu", _gelu_tanh_fwd)
_GELU_TANH_GRAD = _Compiled("gelu", _gelu_tanh_bwd)
_SILU = _Compiled("silu", _silu_fwd)
_SILU_GRAD = _Compiled("silu", _silu_bwd)
_SOFTPLUS = _Compiled("softplus", _softplus_fwd)
_SOFTPLUS_GRAD = _Compiled("softplus", _softplus_bwd)
_HARDSIGMOID = _Compiled("hardsigmoid", _hardsigmoid_fwd)
_HARDSIGMOID_GRAD = _Compiled("hardsigmoid", _hardsigmoid_bwd)
_SIGN = _Compiled("sign", _sign_fwd)
_POW_SCALAR = _Compiled("pow", _pow_scalar_fwd)
_POW_SCALAR_GRAD = _Compiled("pow", _pow_scalar_bwd)
_ADD_SCALAR = _Compiled("add", _add_scalar_fwd)
_MUL_SCALAR = _Compiled("mul", _mul_scalar_fwd)
_RSUB_SCALAR = _Compiled("rsub", _rsub_scalar_fwd)
_RDIV_SCALAR = _Compiled("rdiv", _rdiv_scalar_fwd)
_RDIV_SCALAR_GRAD = _Compiled("rdiv", _rdiv_scalar_bwd)
_RPOW_SCALAR = _Compiled("rpow", _rpow_scalar_fwd)
_RPOW_SCALAR_GRAD = _Compiled("rpow", _rpow_scalar_bwd)
_ADD = (_Compiled("add", _add_flat), _Compiled("add", _add_strided))
_SUB = (_Compiled("sub", _sub_flat), _Compiled("sub", _sub_strided))
_MUL = (_Compiled("mul", _mul_loop), _Compiled("mul", _mul_strided))
_DIV = (_Compiled("div", _div_loop), _Compiled("div", _div_strided))
_POW = (_Compiled("pow", _pow_flat), _Compiled("pow", _pow_strided))
_MAXIMUM = (_Compiled("maximum", _maximum_flat), _Compiled("maximum", _maximum_strided))
_MINIMUM = (_Compiled("minimum", _minimum_flat), _Compiled("minimum", _minimum_strided))
_DIV_GRAD_B = (_Compiled("div", _div_b_flat), _Compiled("div", _div_b_strided))
_POW_GRAD_A = (_Compiled("pow", _pow_a_flat), _Compiled("pow", _pow_a_strided))
_POW_GRAD_B = (_Compiled("pow", _pow_b_flat), _Compiled("pow", _pow_b_strided))
_MAXIMUM_GRAD = (_Compiled("maximum", _pick_flat), _Compiled("maximum", _pick_strided))
_MINIMUM_GRAD = (_Compiled("minimum", _pick_flat), _Compiled("minimum", _pick_strided))
_WHERE = _Compiled("where", _where_flat)
_WHERE_GRAD = _Compiled("where", _mask_flat)


# unary ops

neg_forward = _unary_kernel(_NEG, "neg_forward", "-x.")
neg_backward = _unary_kernel(_NEG, "neg_backward", "-grad_y: the gradient of neg, of sub's "
                             "second input and of rsub_scalar.")
abs_forward = _unary_kernel(_ABS, "abs_forward")
abs_backward = _grad_kernel(_ABS_GRAD, "abs_backward")
exp_forward = _unary_kernel(_EXP, "exp_forward")
exp_backward = _grad_kernel(_EXP_GRAD, "exp_backward")
log_forward = _unary_kernel(_LOG, "log_forward")


def log_backward(x, grad_y):
    return _map2(_LOG_GRAD, grad_y, x)


log1p_forward = _unary_kernel(_LOG1P, "log1p_forward")
log1p_backward = _grad_kernel(_LOG1P_GRAD, "log1p_backward")
expm1_forward = _unary_kernel(_EXPM1, "expm1_forward")
expm1_backward = _grad_kernel(_EXPM1_GRAD, "expm1_backward")
sqrt_forward = _unary_kernel(_SQRT, "sqrt_forward")
sqrt_backward = _grad_kernel(_SQRT_GRAD, "sqrt_backward")
rsqrt_forward = _unary_kernel(_RSQRT, "rsqrt_forward")
rsqrt_backward = _grad_kernel(_RSQRT_GRAD, "rsqrt_backward")
square_forward = _unary_kernel(_SQUARE, "square_forward")
square_backward = _grad_kernel(_SQUARE_GRAD, "square_backward")
reciprocal_forward = _unary_kernel(_RECIPROCAL, "reciprocal_forward")
reciprocal_backward = _grad_kernel(_RECIPROCAL_GRAD, "reciprocal_backward")
sin_forward = _unary_kernel(_SIN, "sin_forward")
sin_backward = _grad_kernel(_SIN_GRAD, "sin_backward")
cos_forward = _unary_kernel(_COS, "cos_forward")
cos_backward = _grad_kernel(_COS_GRAD, "cos_backward")
tanh_forward = _unary_kernel(_TANH, "tanh_forward")
tanh_backward = _grad_kernel(_TANH_GRAD, "tanh_backward")
sigmoid_forward = _unary_kernel(_SIGMOID, "sigmoid_forward")
sigmoid_backward = _grad_kernel(_SIGMOID_GRAD, "sigmoid_backward")
relu_forward = _unary_kernel(_RELU, "relu_forward")
relu_backward = _grad_kernel(_RELU_GRAD, "relu_backward")


def leaky_relu_forward(x, negative_slope=0.01):
    return _map(_LEAKY_RELU, x, float(negative_slope))


def leaky_relu_backward(x, grad_y, negative_slope=0.01):
    return _map2(_LEAKY_RELU_GRAD, x, grad_y, float(negative_slope))


def relu6_forward(x):
    return _map(_CLAMP, x, 0.0, 6.0)


def relu6_backward(x, grad_y):
    return _map2(_HARDTANH_GRAD, x, grad_y, 0.0, 6.0)


def elu_forward(x, alpha=1.0):
    return _map(_ELU, x, float(alpha), 1.0)


def elu_backward(x, grad_y, alpha=1.0):
    return _map2(_ELU_GRAD, x, grad_y, float(alpha), 1.0)


def selu_forward(x):
    return _map(_ELU, x, _SELU_ALPHA, _SELU_SCALE)


def selu_backward(x, grad_y):
    return _map2(_ELU_GRAD, x, grad_y, _SELU_ALPHA, _SELU_SCALE)


def gelu_forward(x, approximate="none"):
    """x Phi(x) with the erf form ('none') or the tanh approximation ('tanh'), as PyTorch."""
    if approximate == "none":
        return _map(_GELU, x)
    if approximate == "tanh":
        return _map(_GELU_TANH, x)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu_backward(x, grad_y, approximate="none"):
    if approximate == "none":
        return _map2(_GELU_GRAD, x, grad_y)
    if approximate == "tanh":
        return _map2(_GELU_TANH_GRAD, x, grad_y)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


silu_forward = _unary_kernel(_SILU, "silu_forward")
silu_backward = _grad_kernel(_SILU_GRAD, "silu_backward")


def softplus_forward(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    return _map(_SOFTPLUS, x, float(beta), float(threshold))


def softplus_backward(x, grad_y, beta=1.0, threshold=20.0):
    return _map2(_SOFTPLUS_GRAD, x, grad_y, float(beta), float(threshold))


hardsigmoid_forward = _unary_kernel(_HARDSIGMOID, "hardsigmoid_forward")


def hardsigmoid_backward(x, grad_y):
    return _map2(_HARDSIGMOID_GRAD, x, grad_y, _TORCH_SIXTH)


def hardtanh_forward(x, min_val=-1.0, max_val=1.0):
    return _map(_CLAMP, x, float(min_val), float(max_val))


def hardtanh_backward(x, grad_y, min_val=-1.0, max_val=1.0):
    return _map2(_HARDTANH_GRAD, x, grad_y, float(min_val), float(max_val))


sign_forward = _unary_kernel(_SIGN, "sign_forward")


def sign_backward(grad_y):
    """sign is piecewise constant: zeros of grad_y's shape and dtype."""
    if grad_y.dtype not in _FLOATS:
        raise TypeError(f"sign: expected a float32 or float64 array, got {grad_y.dtype}")
    return np.zeros(grad_y.shape, grad_y.dtype)


def _clamp_bounds(min, max):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    # a missing bound is an infinite one: the same forward, and x >= -inf holds for all but NaN
    return (-math.inf if min is None else float(min)), (math.inf if max is None else float(max))


def clamp_forward(x, min=None, max=None):
    """min(max(x, min), max); either bound may be None. NaN stays NaN."""
    lo, hi = _clamp_bounds(min, max)
    return _map(_CLAMP, x, lo, hi)


def clamp_backward(x, grad_y, min=None, max=None):
    lo, hi = _clamp_bounds(min, max)
    return _map2(_CLAMP_GRAD, x, grad_y, lo, hi)


def pow_scalar_forward(x, exponent):
    """x ** exponent for a Python number exponent."""
    return _map(_POW_SCALAR, x, float(exponent))


def pow_scalar_backward(x, grad_y, exponent):
    if exponent == 0:
        if x.shape != grad_y.shape:
            raise ValueError(f"pow: shapes {x.shape} and {grad_y.shape} differ")
        return np.zeros(grad_y.shape, grad_y.dtype)
    return _map2(_POW_SCALAR_GRAD, x, grad_y, float(exponent))


# scalar operands (s is a Python number, cast to the array dtype inside the loop)

def add_scalar_forward(x, s):
    """x + s; the backward is the identity."""
    return _map(_ADD_SCALAR, x, float(s))


def mul_scalar_forward(x, s):
    return _map(_MUL_SCALAR, x, float(s))


def mul_scalar_backward(grad_y, s):
    return _map(_MUL_SCALAR, grad_y, float(s))


def rsub_scalar_forward(x, s):
    """s - x; the backward is neg_backward."""
    return _map(_RSUB_SCALAR, x, float(s))


def rdiv_scalar_forward(x, s):
    """s / x; keep x and y for rdiv_scalar_backward."""
    return _map(_RDIV_SCALAR, x, float(s))


def rdiv_scalar_backward(x, y, grad_y):
    """Gradient of y = s / x from the saved x and y: -grad_y * (y / x)."""
    return _map3(_RDIV_SCALAR_GRAD, x, y, grad_y)


def rpow_scalar_forward(x, s):
    """s ** x; keep x and y for rpow_scalar_backward."""
    return _map(_RPOW_SCALAR, x, float(s))


def rpow_scalar_backward(x, y, grad_y, s):
    """Gradient of y = s ** x: grad_y * y * ln(s); 0 where s == 0 and x >= 0 (PyTorch)."""
    return _map3(_RPOW_SCALAR_GRAD, x, y, grad_y, float(s))


# binary ops with broadcasting

_PLANS = {}
_MAX_PLANS = 4096


def _broadcast_plan(op, a_shape, b_shape):
    """(out_shape, dims, a_strides, b_strides): the broadcast collapsed to 3 dims, dims None if
    more remain. Cached per pair of shapes, since a training loop repeats the same few."""
    key = (a_shape, b_shape)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _make_plan(op, a_shape, b_shape)
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _make_plan(op, a_shape, b_shape):
    n = max(len(a_shape), len(b_shape))
    pa = (1,) * (n - len(a_shape)) + tuple(a_shape)
    pb = (1,) * (n - len(b_shape)) + tuple(b_shape)
    out_shape = []
    groups = []   # [extent, a varies, b varies]; adjacent dims with the same pattern merge
    for da, db in zip(pa, pb):
        if da != db and da != 1 and db != 1:
            raise ValueError(f"{op}: shapes {tuple(a_shape)} and {tuple(b_shape)} "
                             f"cannot be broadcast together")
        d = db if da == 1 else da
        out_shape.append(d)
        if d == 1:
            continue
        fa, fb = da != 1, db != 1
        if groups and groups[-1][1] == fa and groups[-1][2] == fb:
            groups[-1][0] *= d
        else:
            groups.append([d, fa, fb])
    out_shape = tuple(out_shape)
    if len(groups) > 3:
        return out_shape, None, None, None
    groups = [[1, False, False]] * (3 - len(groups)) + groups
    dims, sa, sb = [], [], []
    size_a = size_b = 1
    for d, fa, fb in reversed(groups):
        dims.append(d)
        sa.append(size_a if fa else 0)
        sb.append(size_b if fb else 0)
        size_a *= d if fa else 1
        size_b *= d if fb else 1
    return out_shape, tuple(dims[::-1]), tuple(sa[::-1]), tuple(sb[::-1])


def _binary(loops, a, b):
    flat, strided = loops
    if a.shape == b.shape:
        out = np.empty(a.shape, a.dtype)
        try:
            flat[a.dtype](a.ravel(), b.ravel(), out.ravel())
        except TypeError:
            raise _dtype_error(flat.op, a, b) from None
        return out
    if a.dtype != b.dtype:
        raise _dtype_error(flat.op, a, b)
    out_shape, dims, sa, sb = _broadcast_plan(flat.op, a.shape, b.shape)
    out = np.empty(out_shape, a.dtype)
    if dims is None:   # more than 3 dims after collapsing (rare): materialize the operands
        flat[a.dtype](np.broadcast_to(a, out_shape).ravel(),
                      np.broadcast_to(b, out_shape).ravel(), out.ravel())
    elif out.size:
        strided[a.dtype](a.ravel(), b.ravel(), out.ravel(), dims, sa, sb)
    return out


def _binary_kernel(loops, name, doc=None):
    """The public kernel `name(a, b)`: `_binary(loops, a, b)` as one function when the shapes
    are equal."""
    flat = loops[0]

    def kernel(a, b):
        if a.shape != b.shape:
            return _binary(loops, a, b)
        out = np.empty(a.shape, a.dtype)
        try:
            flat[a.dtype](a.ravel(), b.ravel(), out.ravel())
        except TypeError:
            raise _dtype_error(flat.op, a, b) from None
        return out
    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = doc
    return kernel


def _binary_grad(loops, a, b, grad, y=None):
    """Backward loop over (a, b[, y], grad) -> out; grad, y = a ** b (pow only) and out have the
    broadcast shape of a and b."""
    flat, strided = loops
    if a.shape == b.shape == grad.shape and (y is None or y.shape == grad.shape):
        out = np.empty(grad.shape, grad.dtype)
        try:
            if y is None:
                flat[a.dtype](a.ravel(), b.ravel(), grad.ravel(), out.ravel())
            else:
                flat[a.dtype](a.ravel(), b.ravel(), y.ravel(), grad.ravel(), out.ravel())
        except TypeError:
            raise _dtype_error(flat.op, a, b, grad) from None
        return out
    if not a.dtype == b.dtype == grad.dtype or (y is not None and y.dtype != a.dtype):
        raise _dtype_error(flat.op, a, b, grad)
    out_shape, dims, sa, sb = _broadcast_plan(flat.op, a.shape, b.shape)
    if grad.shape != out_shape or (y is not None and y.shape != out_shape):
        raise ValueError(f"{flat.op}: gradient shape {grad.shape} is not the broadcast shape "
                         f"{out_shape} of {a.shape} and {b.shape}")
    out = np.empty(out_shape, grad.dtype)
    full = (grad.ravel(), out.ravel()) if y is None else (y.ravel(), grad.ravel(), out.ravel())
    if dims is None:   # more than 3 dims after collapsing (rare): materialize a and b
        flat[a.dtype](np.broadcast_to(a, out_shape).ravel(),
                      np.broadcast_to(b, out_shape).ravel(), *full)
    elif out.size:
        strided[a.dtype](a.ravel(), b.ravel(), *full, dims, sa, sb)
    return out


add_forward = _binary_kernel(_ADD, "add_forward",
                             "a + b with numpy broadcasting, in the broadcast shape.")
sub_forward = _binary_kernel(_SUB, "sub_forward")
mul_forward = _binary_kernel(_MUL, "mul_forward")
div_forward = _binary_kernel(_DIV, "div_forward")
pow_forward = _binary_kernel(_POW, "pow_forward")
maximum_forward = _binary_kernel(_MAXIMUM, "maximum_forward",
                                 "Elementwise max; NaN in either input gives NaN (as PyTorch).")
minimum_forward = _binary_kernel(_MINIMUM, "minimum_forward")
mul_backward_a = _binary_kernel(_MUL, "mul_backward_a",
                                "Gradient of a * b w.r.t. a, in the broadcast shape: grad * b.")
mul_backward_b = _binary_kernel(_MUL, "mul_backward_b")


def div_backward_a(b, grad):
    """Gradient of a / b w.r.t. a: grad / b."""
    return _binary(_DIV, grad, b)


def div_backward_b(a, b, grad):
    """Gradient of a / b w.r.t. b: -grad * (a / b) / b."""
    return _binary_grad(_DIV_GRAD_B, a, b, grad)


def pow_backward_a(a, b, grad):
    """Gradient of a ** b w.r.t. a: grad * b * a ** (b - 1), 0 where b == 0."""
    return _binary_grad(_POW_GRAD_A, a, b, grad)


def pow_backward_b(a, b, out, grad):
    """Gradient of a ** b w.r.t. b from the saved out = a ** b: grad * out * ln(a), and 0 where
    a == 0 and b >= 0 (PyTorch's convention)."""
    return _binary_grad(_POW_GRAD_B, a, b, grad, y=out)


def maximum_backward_a(a, b, grad):
    """Gradient of maximum(a, b) w.r.t. a: grad where a > b, grad / 2 at ties, else 0."""
    return _binary_grad(_MAXIMUM_GRAD, a, b, grad)


def maximum_backward_b(a, b, grad):
    return _binary_grad(_MAXIMUM_GRAD, b, a, grad)


def minimum_backward_a(a, b, grad):
    """Gradient of minimum(a, b) w.r.t. a: grad where a < b, grad / 2 at ties, else 0."""
    return _binary_grad(_MINIMUM_GRAD, b, a, grad)


def minimum_backward_b(a, b, grad):
    return _binary_grad(_MINIMUM_GRAD, a, b, grad)


# where, comparisons, gradient accumulation

def where_forward(cond, a, b):
    """a where cond else b; cond is a bool array, and all three broadcast together."""
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be bool, got {cond.dtype}")
    if a.dtype != b.dtype or a.dtype not in _FLOATS:
        raise _dtype_error("where", a, b)
    if cond.shape == a.shape == b.shape:
        out = np.empty(a.shape, a.dtype)
        _WHERE[a.dtype](cond.ravel(), a.ravel(), b.ravel(), out.ravel())
        return out
    # np.where iterates broadcast operands in place (no materialized copies)
    return _c_order(np.where(cond, a, b))


def _where_grad(cond, grad, keep):
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be bool, got {cond.dtype}")
    if cond.shape == grad.shape:
        out = np.empty(grad.shape, grad.dtype)
        _WHERE_GRAD[grad.dtype](cond.ravel(), grad.ravel(), out.ravel(), keep)
        return out
    if grad.dtype not in _FLOATS:
        raise _dtype_error("where", grad)
    zero = grad.dtype.type(0)
    picked = np.where(cond, grad, zero) if keep else np.where(cond, zero, grad)
    if picked.shape != grad.shape:
        raise ValueError(f"where: the condition {cond.shape} does not broadcast to the "
                         f"gradient's shape {grad.shape}")
    return _c_order(picked)


def where_backward_a(cond, grad):
    """Gradient of where(cond, a, b) w.r.t. a, in the broadcast shape: grad where cond."""
    return _where_grad(cond, grad, True)


def where_backward_b(cond, grad):
    """Gradient w.r.t. b: grad where not cond."""
    return _where_grad(cond, grad, False)


_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
            "gt": np.greater, "ge": np.greater_equal}


def compare(op_name, a, b):
    """Elementwise comparison 'eq', 'ne', 'lt', 'le', 'gt' or 'ge' -> bool array, broadcasting
    (b may be a Python number). Not differentiable."""
    ufunc = _COMPARE.get(op_name)
    if ufunc is None:
        raise ValueError(f"compare: op must be one of {sorted(_COMPARE)}, got {op_name!r}")
    return _c_order(ufunc(a, b))


def accumulate(a, b):
    """a + b as a new array: gradient accumulation on the tape (never in place, since a
    gradient can be shared by several parents)."""
    if a.shape == b.shape and a.dtype == b.dtype:
        out = np.empty(a.shape, a.dtype)
        _ADD[0][a.dtype](a.ravel(), b.ravel(), out.ravel())
        return out
    return _binary(_ADD, a, b)
