"""Scalar transcendentals for jitted loops, specialised by dtype when the loop is compiled.

float64 goes to libm (accuracy first: the float64 gradcheck runs there). float32 uses
pure-arithmetic formulations that LLVM vectorizes: Numba has no SVML here, so a libm call per
element keeps a loop scalar (np.tanh ~20 ns/element against ~0.3 ns for the forms below).

float32 formulations (Cephes-style; worst errors measured against float64 numpy in the tests):
    exp(x)     n = rint(x / ln2), r = x - n ln2 (ln2 in two parts), e^r by a degree-6
               polynomial, times 2^n built from exponent bits                        1 ulp
    expm1(x)   the same reduction; 2^n (expm1(r) + 1) - 1 evaluated without cancellation 2 ulp
    log(x)     x = m 2^k from the bits with m in [sqrt(1/2), sqrt(2)), log(m) by a degree-9
               polynomial in m - 1                                                   1 ulp
    log1p(x)   u = 1 + x, log(u) * x / (u - 1): the quotient cancels the rounding of u 3 ulp
    tanh(x)    odd/even rational minimax approximation on |x| <= 7.9 (Eigen's)        5 ulp
    sigmoid(x) e = exp(-|x|), then 1 / (1 + e) or e / (1 + e): no overflow            3 ulp
    softplus(x)  max(x, 0) + log1p(exp(-|x|)), log1p on [0, 1] without a division      3 ulp
    sin, cos   x = k pi/2 + r (pi/2 in three parts, Cephes), polynomials on |r| <= pi/4;
               the reduction is exact only for |x| <= TRIG_MAX: callers use libm beyond
    exp_mul(x, c)  e^(x c) for a float64 c: x c and its reduction in float64       1 ulp
    pow_core(a, p) e^(p ln a) with ln a as a float32 pair hi + lo (the log above with its
               t - t^2/2 + L8 t^3 part split exactly), p ln a as a pair and exp's reduction
               on the pair: 1 ulp for |p ln a| <= 1, 1.3 for <= 10, 2.3 for <= 30, 6.5 near
               the overflow limit (the rounding left in ln a, scaled by p)
    erf(x)     odd/even rational approximation on [-4, 4] (Eigen's), +-1 beyond     4e-7 abs
Special values follow libm: NaN propagates, exp(+-inf) = inf / 0, log(0) = -inf, log(-1) = NaN,
and signed zeros are kept.

The `*_core` variants drop the range and special-value handling (each costs a compare and a
blend per element). They are exact on the ranges given by the `*_CORE_*` bounds; a loop runs
the core over everything, ORs a flag for inputs outside the range, and redoes only those in a
second pass that normally never runs.
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

_F32 = types.float32


# bit-level helpers: plain LLVM integer ops and bitcasts, which vectorize (np.ldexp, frexp and
# table lookups do not)

@intrinsic
def _pow2(typingctx, n):
    """2**n for an integral float32 n in [-126, 127]."""
    if n != _F32:
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        k = builder.fptosi(args[0], i32)
        k = builder.shl(builder.add(k, ir.Constant(i32, 127)), ir.Constant(i32, 23))
        return builder.bitcast(k, ir.FloatType())

    return _F32(_F32), codegen


@intrinsic
def _ldexp2(typingctx, p, n):
    """p * 2**n for an integral float32 n in [-150, 128], as two exact power-of-two factors
    (so results in the denormal range round once, and n = 128 does not overflow the scale)."""
    if p != _F32 or n != _F32:
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        f32 = ir.FloatType()
        k = builder.fptosi(args[1], i32)
        k1 = builder.ashr(k, ir.Constant(i32, 1))
        k2 = builder.sub(k, k1)
        bias = ir.Constant(i32, 127)
        shift = ir.Constant(i32, 23)
        s1 = builder.bitcast(builder.shl(builder.add(k1, bias), shift), f32)
        s2 = builder.bitcast(builder.shl(builder.add(k2, bias), shift), f32)
        return builder.fmul(builder.fmul(args[0], s1), s2)

    return _F32(_F32, _F32), codegen


@intrinsic
def _select(typingctx, cond, a, b):
    """cond ? a : b as one LLVM select. A conditional expression in a helper that is inlined
    twice into one loop trips Numba's SSA check (NumbaIRAssumptionWarning); a select has no
    branch to rename."""
    if not isinstance(cond, types.Boolean) or a != _F32 or b != _F32:
        return None

    def codegen(context, builder, signature, args):
        return builder.select(args[0], args[1], args[2])

    return _F32(cond, _F32, _F32), codegen


# Subtracting the bits of sqrt(1/2) before the shift puts the exponent boundary at sqrt(1/2):
# k = (bits(x) - bits(sqrt(1/2))) >> 23 and m = x / 2^k lands in [sqrt(1/2), sqrt(2)) with
# integer ops only (no compare-and-adjust).
_SQRT_HALF_BITS = 0x3F3504F3


@intrinsic
def maxnum(typingctx, a, b):
    """llvm.maxnum with no-NaN flags: the form of max LLVM turns into a vector reduction (a
    NaN in a row still poisons the loss through exp and the sum)."""
    if a != b or a not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        name = "llvm.maxnum.f32" if ty == ir.FloatType() else "llvm.maxnum.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty, ty]), name)
        result = builder.call(fn, args)
        result.fastmath.update(("nnan", "nsz", "reassoc"))
        return result

    return a(a, b), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a b + c with one rounding (llvm.fma): Numba never contracts a * b + c itself, and the
    fused form halves the work of a polynomial."""
    if not (a == b == c) or a not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        name = "llvm.fma.f32" if ty == ir.FloatType() else "llvm.fma.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3),
                                            name)
        return builder.call(fn, args)

    return a(a, b, c), codegen


def _split_codegen(want_exponent):
    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        bits = builder.bitcast(args[0], i32)
        k = builder.ashr(builder.sub(bits, ir.Constant(i32, _SQRT_HALF_BITS)),
                         ir.Constant(i32, 23))
        if want_exponent:
            return builder.sitofp(k, ir.FloatType())
        m = builder.sub(bits, builder.shl(k, ir.Constant(i32, 23)))
        return builder.bitcast(m, ir.FloatType())
    return codegen


@intrinsic
def _log_mantissa(typingctx, x):
    """m in [sqrt(1/2), sqrt(2)) with x = m 2^k, for a positive normal float32 x."""
    if x != _F32:
        return None
    return _F32(_F32), _split_codegen(want_exponent=False)


@intrinsic
def _log_exponent(typingctx, x):
    """k (as float32) with x = m 2^k, m in [sqrt(1/2), sqrt(2)), for a positive normal x."""
    if x != _F32:
        return None
    return _F32(_F32), _split_codegen(want_exponent=True)


# float32 constants (module globals are frozen into the compiled code as float32 literals)

_f = np.float32
_ZERO, _HALF, _ONE, _TWO = _f(0.0), _f(0.5), _f(1.0), _f(2.0)
_INF, _NAN = _f(np.inf), _f(np.nan)
_LOG2E = _f(1.44269504088896341)
_LN2_HI, _LN2_LO = _f(0.693359375), _f(-2.12194440e-4)   # ln 2 = HI + LO, HI exact in 9 bits
_E0, _E1, _E2 = _f(1.9875691500e-4), _f(1.3981999507e-3), _f(8.3334519073e-3)
_E3, _E4, _E5 = _f(4.1665795894e-2), _f(1.6666665459e-1), _f(5.0000001201e-1)
_EXP_HI, _EXP_LO = _f(89.0), _f(-104.0)        # clamp: beyond, the scaling gives inf and 0
_EXPM1_HI, _EXPM1_LO = _f(88.8), _f(-30.0)     # keeps n - 1 <= 127; e^-30 is below ulp(1) / 2
_EXPM1_TINY = _f(2.0**-25)                     # below, expm1(x) rounds to x
_EXP_HI64, _EXP_LO64 = 89.0, -104.0
_LOG2E64 = 1.4426950408889634
_LN2_HI64, _LN2_LO64 = 6.93147180369123816490e-01, 1.90821492927058770002e-10   # fdlibm
_MIN_NORMAL = _f(1.17549435e-38)
_SQRT2_M1 = _f(0.41421356237309505)
_TWO23 = _f(8388608.0)
_L0, _L1, _L2 = _f(7.0376836292e-2), _f(-1.1514610310e-1), _f(1.1676998740e-1)
_L3, _L4, _L5 = _f(-1.2420140846e-1), _f(1.4249322787e-1), _f(-1.6668057665e-1)
_L6, _L7, _L8 = _f(2.0000714765e-1), _f(-2.4999993993e-1), _f(3.3333331174e-1)
_TANH_CLAMP, _TANH_TINY, _TANH_SAT = _f(7.90531110763549805), _f(0.0004), _f(8.7)
_TA1, _TA3, _TA5 = _f(4.89352455891786e-03), _f(6.37261928875436e-04), _f(1.48572235717979e-05)
_TA7, _TA9 = _f(5.12229709037114e-08), _f(-8.60467152213735e-11)
_TA11, _TA13 = _f(2.00018790482477e-13), _f(-2.76076847742355e-16)
_TB0, _TB2 = _f(4.89352518554385e-03), _f(2.26843463243900e-03)
_TB4, _TB6 = _f(1.18534705686654e-04), _f(1.19825839466702e-06)
_TWO_OVER_PI = _f(0.636619772367581343)
_PIO2_1, _PIO2_2, _PIO2_3 = _f(1.5703125), _f(4.837512969970703125e-4), _f(7.54978995489188216e-8)
_S0, _S1, _S2 = _f(-1.9515295891e-4), _f(8.3321608736e-3), _f(-1.6666654611e-1)
_C0, _C1, _C2 = _f(2.443315711809948e-5), _f(-1.388731625493765e-3), _f(4.166664568298827e-2)
_QUARTER = _f(0.25)
_ERF_CLAMP = _f(4.0)
_EA1, _EA3, _EA5 = _f(-1.60960333262415e-02), _f(-2.95459980854025e-03), _f(-7.34990630326855e-04)
_EA7, _EA9 = _f(-5.69250639462346e-05), _f(-2.10102402082508e-06)
_EA11, _EA13 = _f(2.77068142495902e-08), _f(-2.72614225801306e-10)
_EB0, _EB2 = _f(-1.42647390514189e-02), _f(-7.37332916720468e-03)
_EB4, _EB6 = _f(-1.68282697438203e-03), _f(-2.13374055278905e-04)
_EB8 = _f(-1.45660718464996e-05)

# Ranges on which the core variants are exact (open intervals; NaN is outside every range).
EXP_CORE_LO, EXP_CORE_HI = _f(-87.0), _f(88.0)          # 2^n stays a normal float32
EXPM1_CORE_LO, EXPM1_CORE_HI = _EXPM1_LO, _EXPM1_HI
LOG_CORE_LO, LOG_CORE_HI = _f(1.17549435e-38), _INF     # positive normal, finite (lo included)
LOG1P_CORE_LO, LOG1P_CORE_HI = _f(-1.0), _INF
TANH_CORE_HI = _TANH_CLAMP                              # on |x| (included)
TRIG_MAX = _f(8192.0)                                   # on |x| (included)
POW_CORE_Y = _f(87.0)              # pow_core: on |p ln a| (excluded); a as for log_core


# float32 implementations (plain Python, inlined into the calling loop by the overloads below)

def _exp_core_f32(x):
    n = np.rint(x * _LOG2E)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    z = r * r
    p = (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * z + r + _ONE
    return p * _pow2(n)


def _exp_f32(x):
    xc = x if x < _EXP_HI else _EXP_HI          # also maps NaN to a finite value; restored below
    xc = xc if xc > _EXP_LO else _EXP_LO
    n = np.rint(xc * _LOG2E)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    z = r * r
    p = (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * z + r + _ONE
    y = _ldexp2(p, n)
    return y if x == x else x


def _expm1_core_f32(x):
    n = np.rint(x * _LOG2E)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    z = r * r
    pm1 = (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * z + r   # e^r - 1
    # 2^n (pm1 + 1) - 1 = 2 (pm1 s + (s - 1/2)) with s = 2^(n-1): no cancellation, and the
    # scale stays representable up to n = 128
    s = _pow2(n - _ONE)
    y = _TWO * (pm1 * s + (s - _HALF))
    return _select(abs(x) < _EXPM1_TINY, x, y)   # expm1 x = x in float32 (keeps -0, denormals)


def _expm1_f32(x):
    xc = x if x < _EXPM1_HI else _EXPM1_HI      # beyond: inf (the scaling overflows) and -1
    xc = xc if xc > _EXPM1_LO else _EXPM1_LO
    y = expm1_core(xc)
    return y if x == x else x


def _log_core_f32(x):
    m = _log_mantissa(x)
    k = _log_exponent(x)
    t = m - _ONE
    z = t * t
    y = ((((((((_L0 * t + _L1) * t + _L2) * t + _L3) * t + _L4) * t + _L5) * t + _L6) * t
          + _L7) * t + _L8) * t * z
    y = y + k * _LN2_LO - _HALF * z
    return t + y + k * _LN2_HI


def _log_f32(x):
    tiny = x < _MIN_NORMAL                       # denormals: scale up by 2^23 first
    xs = x * _TWO23 if tiny else x
    y = log_core(xs)
    y = (y - _f(23.0) * _LN2_HI) - _f(23.0) * _LN2_LO if tiny else y
    y = y if x < _INF else x                     # inf -> inf
    y = y if x > _ZERO else (-_INF if x == _ZERO else _NAN)
    return y if x == x else x


def _log1p_core_f32(x):
    u = _ONE + x
    d = u - _ONE
    y = log_core(u) * (x / d)
    return x if d == _ZERO else y                # |x| below ulp(1) / 2: log1p(x) = x (keeps -0)


def _log1p_f32(x):
    u = _ONE + x
    d = u - _ONE
    y = log(u) * (x / d)
    y = x if d == _ZERO else y
    return x if x == _INF else y


def _tanh_core_f32(x):
    z = x * x
    p = ((((((_TA13 * z + _TA11) * z + _TA9) * z + _TA7) * z + _TA5) * z + _TA3) * z + _TA1) * x
    q = ((_TB6 * z + _TB4) * z + _TB2) * z + _TB0
    # tanh x = x in float32 below TINY (keeps -0 and denormals exact)
    return _select(abs(x) < _TANH_TINY, x, p / q)


def _tanh_f32(x):
    c = x if x < _TANH_CLAMP else _TANH_CLAMP    # NaN maps to the clamp here; restored below
    c = c if c > -_TANH_CLAMP else -_TANH_CLAMP
    y = tanh_core(c)
    y = math.copysign(_ONE, x) if abs(x) > _TANH_SAT else y
    return y if x == x else x


def _sigmoid_f32(x):
    e = exp(-abs(x))
    num = _ONE if x >= _ZERO else e
    return num / (_ONE + e)


def _softplus_f32(x):
    # log1p(e) for e = exp(-|x|) in [0, 1] needs no division and no exponent bits:
    # 1 + e = 2^k (1 + t) with k = 0, t = e, or k = 1, t = (e - 1) / 2, both exact
    e = exp(-abs(x))
    big = e > _SQRT2_M1
    t = (e - _ONE) * _HALF if big else e
    k = _ONE if big else _ZERO
    z = t * t
    y = ((((((((_L0 * t + _L1) * t + _L2) * t + _L3) * t + _L4) * t + _L5) * t + _L6) * t
          + _L7) * t + _L8) * t * z
    y = y + k * _LN2_LO - _HALF * z
    return (x if x > _ZERO else _ZERO) + (t + y + k * _LN2_HI)


def _sin_f32(x):
    a = abs(x)
    k = np.rint(a * _TWO_OVER_PI)
    r = ((a - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    z = r * r
    s = ((_S0 * z + _S1) * z + _S2) * z * r + r
    c = ((_C0 * z + _C1) * z + _C2) * z * z - _HALF * z + _ONE
    # quadrant k mod 4 from float ops (exact: k < 2^24): bit 0 swaps sin/cos, bit 1 negates
    half_k = np.floor(k * _HALF)
    odd = k - _TWO * half_k
    neg = half_k - _TWO * np.floor(k * _QUARTER)
    y = c if odd != _ZERO else s
    sgn = math.copysign(_ONE, x)                 # sin is odd; the product keeps sin(-0) = -0
    return y * (-sgn if neg != _ZERO else sgn)


def _cos_f32(x):
    a = abs(x)
    k = np.rint(a * _TWO_OVER_PI)
    r = ((a - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    z = r * r
    s = ((_S0 * z + _S1) * z + _S2) * z * r + r
    c = ((_C0 * z + _C1) * z + _C2) * z * z - _HALF * z + _ONE
    half_k = np.floor(k * _HALF)
    odd = k - _TWO * half_k
    neg = half_k - _TWO * np.floor(k * _QUARTER)
    y = s if odd != _ZERO else c
    return -y if odd != neg else y              # quadrants 1 and 2 are negative


def _erf_f32(x):
    c = x if x < _ERF_CLAMP else _ERF_CLAMP
    c = c if c > -_ERF_CLAMP else -_ERF_CLAMP
    z = c * c
    p = ((((((_EA13 * z + _EA11) * z + _EA9) * z + _EA7) * z + _EA5) * z + _EA3) * z + _EA1) * c
    q = (((_EB8 * z + _EB6) * z + _EB4) * z + _EB2) * z + _EB0
    y = p / q
    return y if x == x else x


def _exp64_f32(y):
    # e^y for a float64 y, rounded to float32: the reduction runs in float64, so the float32
    # polynomial sees r = y - n ln2 with no error inherited from forming y
    yc = y if y < _EXP_HI64 else _EXP_HI64       # NaN maps to the clamp; restored below
    yc = yc if yc > _EXP_LO64 else _EXP_LO64
    n = np.rint(yc * _LOG2E64)
    r = np.float32((yc - n * _LN2_HI64) - n * _LN2_LO64)
    z = r * r
    p = (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * z + r + _ONE
    e = _ldexp2(p, np.float32(n))
    return _select(y == y, e, np.float32(y))


def _exp_mul_f32(x, c):
    return exp64(np.float64(x) * c)


def _pow_core_f32(a, p):
    # ln a = k ln2 + log(m) as hi + lo: t - t^2/2 with its rounding error (t^2 exact by fma),
    # plus the polynomial tail, renormalized twice so hi carries all but an ulp; then
    # p ln a = yh + yl exactly up to the tail's rounding, and e^(yh + yl) by exp's reduction
    m = _log_mantissa(a)
    k = _log_exponent(a)
    t = m - _ONE
    z = t * t
    z_lo = fma(t, t, -z)
    c = t * z
    c_lo = fma(t, z, -c) + t * z_lo
    d = c * _L8                              # t^3 L8 as d + d_lo, the rest of the tail below
    d_lo = fma(c, _L8, -d) + c_lo * _L8
    tail = (((((((_L0 * t + _L1) * t + _L2) * t + _L3) * t + _L4) * t + _L5) * t + _L6) * t
            + _L7) * t * c
    s = t - _HALF * z
    s_hi = s + d
    s_lo = ((s - s_hi) + d) + (((t - s) - _HALF * z) + ((tail + d_lo) - _HALF * z_lo))
    h = k * _LN2_HI                          # exact: k has at most 8 bits, LN2_HI 9
    l1 = h + s_hi
    l2 = ((h - l1) + s_hi) + (s_lo + k * _LN2_LO)
    ln_hi = l1 + l2
    ln_lo = (l1 - ln_hi) + l2
    yh = p * ln_hi
    yl = fma(p, ln_hi, -yh) + p * ln_lo
    n = np.rint(yh * _LOG2E)
    r_hi = yh - n * _LN2_HI                  # exact
    r_c = yl - n * _LN2_LO
    r = r_hi + r_c                           # the reduced argument as r + r_lo
    r_lo = (r_hi - r) + r_c
    r2 = r * r
    q = _ONE + (r + ((((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * r2
                     + r_lo))
    return q * _pow2(n), yh


def _sigmoid_f64(x):
    e = np.exp(-abs(x))
    num = 1.0 if x >= 0.0 else e
    return num / (1.0 + e)


def _softplus_f64(x):
    return (x if x > 0.0 else 0.0) + np.log1p(np.exp(-abs(x)))


# dtype-generic entry points for the kernels (the Python bodies only document them: inside a
# jitted loop the overloads below pick the float32 or float64 implementation)

def exp(x):
    return np.exp(x)


def expm1(x):
    return np.expm1(x)


def log(x):
    return np.log(x)


def log1p(x):
    return np.log1p(x)


def tanh(x):
    return np.tanh(x)


def sigmoid(x):
    """1 / (1 + e^-x) without overflow."""
    return _sigmoid_f64(x)


def softplus(x):
    """log(1 + e^x) without overflow."""
    return _softplus_f64(x)


def sin(x):
    """sin x; for float32 exact only for |x| <= TRIG_MAX (callers use libm beyond)."""
    return np.sin(x)


def cos(x):
    """cos x; same range rule as sin."""
    return np.cos(x)


def erf(x):
    return math.erf(x)


def exp64(y):
    """e^y for a float64 y, rounded to float32 (used by the float32 paths only)."""
    return np.float32(np.exp(y))


def pow_core(a, p):
    """(a ** p, y): for float32, y = p ln a and the power is exact only for a in
    [LOG_CORE_LO, LOG_CORE_HI) and |y| < POW_CORE_Y (callers redo the rest with libm); for
    float64, libm's power and y = 0."""
    return a ** p, 0.0


def exp_mul(x, c):
    """e^(x c) for a Python float c, the product formed in float64."""
    return np.exp(x * c)


def exp_core(x):
    """exp for EXP_CORE_LO < x < EXP_CORE_HI."""
    return np.exp(x)


def expm1_core(x):
    """expm1 for EXPM1_CORE_LO < x < EXPM1_CORE_HI."""
    return np.expm1(x)


def log_core(x):
    """log for LOG_CORE_LO <= x < LOG_CORE_HI."""
    return np.log(x)


def log1p_core(x):
    """log1p for LOG1P_CORE_LO < x < LOG1P_CORE_HI."""
    return np.log1p(x)


def tanh_core(x):
    """tanh for |x| <= TANH_CORE_HI."""
    return np.tanh(x)


def _pick(float32_impl, float64_impl):
    def typer(x):
        if x == types.float32:
            return float32_impl
        if x == types.float64:
            return float64_impl
        return None
    return typer


overload(exp, inline="always")(_pick(_exp_f32, lambda x: np.exp(x)))
overload(expm1, inline="always")(_pick(_expm1_f32, lambda x: np.expm1(x)))
overload(log, inline="always")(_pick(_log_f32, lambda x: np.log(x)))
overload(log1p, inline="always")(_pick(_log1p_f32, lambda x: np.log1p(x)))
overload(tanh, inline="always")(_pick(_tanh_f32, lambda x: np.tanh(x)))
overload(sigmoid, inline="always")(_pick(_sigmoid_f32, _sigmoid_f64))
overload(softplus, inline="always")(_pick(_softplus_f32, _softplus_f64))
overload(sin, inline="always")(_pick(_sin_f32, lambda x: np.sin(x)))
overload(cos, inline="always")(_pick(_cos_f32, lambda x: np.cos(x)))
overload(erf, inline="always")(_pick(_erf_f32, lambda x: math.erf(x)))
overload(exp64, inline="always")(
    lambda y: _exp64_f32 if y == types.float64 else None)


@overload(pow_core, inline="always")
def _pow_core_overload(a, p):
    if a != p:
        return None
    if a == types.float32:
        return _pow_core_f32
    if a == types.float64:
        return lambda a, p: (a ** p, 0.0)
    return None


@overload(exp_mul, inline="always")
def _exp_mul_overload(x, c):
    if c != types.float64:
        return None
    if x == types.float32:
        return _exp_mul_f32
    if x == types.float64:
        return lambda x, c: np.exp(x * c)
    return None


overload(exp_core, inline="always")(_pick(_exp_core_f32, lambda x: np.exp(x)))
overload(expm1_core, inline="always")(_pick(_expm1_core_f32, lambda x: np.expm1(x)))
overload(log_core, inline="always")(_pick(_log_core_f32, lambda x: np.log(x)))
overload(log1p_core, inline="always")(_pick(_log1p_core_f32, lambda x: np.log1p(x)))
overload(tanh_core, inline="always")(_pick(_tanh_core_f32, lambda x: np.tanh(x)))
