"""Softmax and log-softmax over one dim, fused and numerically stable.

Over the reduced dim, with m the max (so no exp overflows) and s = sum e^(x - m):
    softmax      y = e^(x - m) / s           grad_x = y (g - sum(g y))
    log_softmax  y = x - m - log s           grad_x = g - e^y sum(g)
Forward saves the output only; each backward is one pass per row with its one reduction.

The dim is the middle axis of a canonical (outer, n, inner) view (see `kernels/reduce.py`):
a free reshape of a C-contiguous array, so one compiled loop per dtype serves every dim.
float32 uses the vectorizable exp/log of `kernels._fastmath` (CPU time, softmax forward at
512x1000: 0.35 ms against 1.4 ms with libm's exp in the loop and 0.9 ms for numpy's
max/exp/sum/divide). The exp is the range-free core; the few arguments outside its range (far
below the row max, -inf, NaN) are redone by libm. Row sums accumulate in float64; the kernels
carry fastmath={"reassoc"} so LLVM can split a sum into SIMD lanes (it only reorders
additions: NaN and inf behave as without it). The exp/log approximations rely on exact
rounding steps, so they are compiled apart, without that flag, in `_exp_core` and `_log`
(LLVM inlines them afterwards with their own flags). Row helpers take arrays and are inlined
by Numba: a compiled call with array arguments costs two atomic reference-count updates per
array, which for 64x10 rows was most of the time (backward 10 us -> 1.7 us).
"""
import numpy as np
from numba import njit, prange

from kernels import _fastmath as fm
from kernels._checks import FLOAT_DTYPES
from kernels._runtime import PARALLEL_MIN_ELEMENTS
from kernels.reduce import plan

_LANES = 16
_REASSOC = {"reassoc"}
# the exp/log helpers fuse multiply-adds (one rounding instead of two: no accuracy lost, NaN,
# inf and -0 unchanged); softmax 512x1000 float32 forward 0.52 -> 0.45 ms
_CONTRACT = {"contract"}


@njit(cache=True, error_model="numpy", fastmath=_CONTRACT)
def _exp_core(v):
    return fm.exp_core(v)


@njit(cache=True, error_model="numpy", fastmath=_CONTRACT)
def _log(v):
    return fm.log(v)


@njit(cache=True, error_model="numpy", inline="always")
def _in_core(v):
    return (v > fm.EXP_CORE_LO) & (v < fm.EXP_CORE_HI)


@njit(cache=True, error_model="numpy", inline="always")
def _exp_row(x, i, shift, y):
    # y = e^(x - shift) by the range-free core, then the rare arguments outside its range (far
    # below the max: e^v underflows; -inf; NaN) redone by libm; 0.41 -> 0.35 ms at 512x1000
    n = x.shape[1]
    rare = False
    for j in range(n):
        v = x[i, j, 0] - shift
        y[i, j, 0] = _exp_core(v)
        rare |= not _in_core(v)
    if rare:
        for j in range(n):
            v = x[i, j, 0] - shift
            if not _in_core(v):
                y[i, j, 0] = np.exp(v)


@njit(cache=True, error_model="numpy", inline="always")
def _exp_cols(x, i, shift, y):
    n, inner = x.shape[1], x.shape[2]
    rare = False
    for j in range(n):
        for k in range(inner):
            v = x[i, j, k] - shift[k]
            y[i, j, k] = _exp_core(v)
            rare |= not _in_core(v)
    if rare:
        for j in range(n):
            for k in range(inner):
                v = x[i, j, k] - shift[k]
                if not _in_core(v):
                    y[i, j, k] = np.exp(v)


@njit(cache=True, error_model="numpy", inline="always")
def _row_sum(a, i, n):
    s = 0.0
    for j in range(n):
        s += a[i, j, 0]
    return s


@njit(cache=True, error_model="numpy", inline="always")
def _row_dot(a, b, i, n):
    s = 0.0
    for j in range(n):
        s += a[i, j, 0] * b[i, j, 0]
    return s


@njit(cache=True, error_model="numpy", inline="always")
def _row_max(x, i, n, lanes):
    # 16 running maxima vectorize where one is a serial chain; a NaN anywhere makes the
    # whole row NaN through the exp and the sum, so it need not win here
    best = x[i, 0, 0]
    j = 0
    if n >= 2 * _LANES:
        for lane in range(_LANES):
            lanes[lane] = x[i, lane, 0]
        j = _LANES
        while j + _LANES <= n:
            for lane in range(_LANES):
                v = x[i, j + lane, 0]
                lanes[lane] = v if v > lanes[lane] else lanes[lane]
            j += _LANES
        for lane in range(_LANES):
            best = lanes[lane] if lanes[lane] > best else best
    while j < n:
        v = x[i, j, 0]
        best = v if v > best else best
        j += 1
    return best


@njit(cache=True, error_model="numpy", inline="always")
def _forward_row(x, y, i, log, lanes):
    n = x.shape[1]
    m = _row_max(x, i, n, lanes)
    _exp_row(x, i, m, y)
    s = _row_sum(y, i, n)
    if log:
        # (x - m) - log s: folding m into one shift would round it at the scale of m
        log_s = _log(x.dtype.type(s))
        for j in range(n):
            y[i, j, 0] = (x[i, j, 0] - m) - log_s
    else:
        r = x.dtype.type(1.0 / s)
        for j in range(n):
            y[i, j, 0] *= r


@njit(cache=True, error_model="numpy", inline="always")
def _forward_cols(x, y, i, log, m, s):
    # the dim is strided (inner > 1): every loop runs over the contiguous inner axis
    n, inner = x.shape[1], x.shape[2]
    for k in range(inner):
        m[k] = x[i, 0, k]
        s[k] = 0.0
    for j in range(1, n):
        for k in range(inner):
            v = x[i, j, k]
            m[k] = v if v > m[k] else m[k]
    _exp_cols(x, i, m, y)
    for j in range(n):
        for k in range(inner):
            s[k] += y[i, j, k]
    if log:
        for k in range(inner):
            s[k] = _log(x.dtype.type(s[k]))
        for j in range(n):
            for k in range(inner):
                y[i, j, k] = (x[i, j, k] - m[k]) - x.dtype.type(s[k])
    else:
        for k in range(inner):
            s[k] = 1.0 / s[k]
        for j in range(n):
            for k in range(inner):
                y[i, j, k] *= x.dtype.type(s[k])


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _softmax_fwd(x, log, y):
    outer, n, inner = x.shape
    lanes = np.empty(_LANES, x.dtype)
    m = np.empty(inner, x.dtype)
    s = np.empty(inner, np.float64)
    for i in range(outer):
        if inner == 1:
            _forward_row(x, y, i, log, lanes)
        else:
            _forward_cols(x, y, i, log, m, s)


@njit(cache=True, error_model="numpy", fastmath=_REASSOC, parallel=True)
def _softmax_fwd_parallel(x, log, y):
    outer, n, inner = x.shape
    for i in prange(outer):
        lanes = np.empty(_LANES, x.dtype)
        if inner == 1:
            _forward_row(x, y, i, log, lanes)
        else:
            _forward_cols(x, y, i, log, np.empty(inner, x.dtype), np.empty(inner, np.float64))


@njit(cache=True, error_model="numpy", inline="always")
def _backward_row(y, g, out, i, log):
    n = y.shape[1]
    if log:
        total = y.dtype.type(_row_sum(g, i, n))
        _exp_row(y, i, y.dtype.type(0.0), out)
        for j in range(n):
            out[i, j, 0] = g[i, j, 0] - out[i, j, 0] * total
    else:
        dot = y.dtype.type(_row_dot(g, y, i, n))
        for j in range(n):
            out[i, j, 0] = y[i, j, 0] * (g[i, j, 0] - dot)


@njit(cache=True, error_model="numpy", inline="always")
def _backward_cols(y, g, out, i, log, acc, zeros):
    n, inner = y.shape[1], y.shape[2]
    acc[:] = 0.0
    for j in range(n):
        for k in range(inner):
            acc[k] += g[i, j, k] if log else g[i, j, k] * y[i, j, k]
    if log:
        _exp_cols(y, i, zeros, out)
        for j in range(n):
            for k in range(inner):
                out[i, j, k] = g[i, j, k] - out[i, j, k] * y.dtype.type(acc[k])
    else:
        for j in range(n):
            for k in range(inner):
                out[i, j, k] = y[i, j, k] * (g[i, j, k] - y.dtype.type(acc[k]))


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _softmax_bwd(y, g, log, out):
    outer, n, inner = y.shape
    acc = np.empty(inner, np.float64)
    zeros = np.zeros(inner, y.dtype)
    for i in range(outer):
        if inner == 1:
            _backward_row(y, g, out, i, log)
        else:
            _backward_cols(y, g, out, i, log, acc, zeros)


@njit(cache=True, error_model="numpy", fastmath=_REASSOC, parallel=True)
def _softmax_bwd_parallel(y, g, log, out):
    outer, n, inner = y.shape
    zeros = np.zeros(inner, y.dtype)
    for i in prange(outer):
        if inner == 1:
            _backward_row(y, g, out, i, log)
        else:
            _backward_cols(y, g, out, i, log, np.empty(inner, np.float64), zeros)


def _view(op, x, dim):
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: expected a float32 or float64 array, got {x.dtype}")
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for an array of shape {x.shape}")
    return plan(x.shape, (dim % ndim,) if x.ndim else ())


def _parallel(view):
    # rows split over the threads once there is enough work to pay for the prange start-up
    return view[0] >= 2 and view[0] * view[1] * view[2] >= PARALLEL_MIN_ELEMENTS


def _forward(op, x, dim, log):
    view = _view(op, x, dim)
    y = np.empty(x.shape, x.dtype)
    if x.size:
        x3 = np.ascontiguousarray(x).reshape(view[:3])
        run = _softmax_fwd_parallel if _parallel(view) else _softmax_fwd
        run(x3, log, y.reshape(view[:3]))
    return y


def _backward(op, y, grad_y, dim, log):
    view = _view(op, y, dim)
    if grad_y.shape != y.shape or grad_y.dtype != y.dtype:
        raise ValueError(f"{op}: gradient {grad_y.dtype}{grad_y.shape} does not match the "
                         f"output {y.dtype}{y.shape}")
    out = np.empty(y.shape, y.dtype)
    if y.size:
        shape = view[:3]
        run = _softmax_bwd_parallel if _parallel(view) else _softmax_bwd
        run(np.ascontiguousarray(y).reshape(shape), np.ascontiguousarray(grad_y).reshape(shape),
            log, out.reshape(shape))
    return out


def softmax_forward(x, dim):
    """softmax of x along axis `dim` (float32/float64, any shape); the output is saved for
    backward."""
    return _forward("softmax", x, dim, False)


def softmax_backward(y, grad_y, dim):
    """grad_x = y (grad_y - sum(grad_y y)) along `dim`, from the saved output y."""
    return _backward("softmax_backward", y, grad_y, dim, False)


def log_softmax_forward(x, dim):
    """log_softmax of x along axis `dim`: x - max - log(sum(exp(x - max)))."""
    return _forward("log_softmax", x, dim, True)


def log_softmax_backward(y, grad_y, dim):
    """grad_x = grad_y - exp(y) sum(grad_y) along `dim`, from the saved output y."""
    return _backward("log_softmax_backward", y, grad_y, dim, True)
