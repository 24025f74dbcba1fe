"""Loss kernels: fused forward and backward of every loss, reductions included.

`reduction` is 'none' (the per-element or per-sample losses), 'sum' or 'mean'; a backward takes
the loss gradient as an array of the 'none' shape or a 0-d array, and `scale` folds the mean's
1/denominator into the same pass. Totals are accumulated in float64 and returned in the input
dtype.

Softmax cross-entropy over classes C, per row x (logits), lse = log sum_c e^(x_c):
    class index t, weights w, smoothing s:
        l = (1 - s) w_t (lse - x_t) + (s / C) sum_c w_c (lse - x_c)
        dl/dx_c = ((1 - s) w_t + (s / C) sum w) p_c - (1 - s) w_t [c == t] - (s / C) w_c
        'mean' divides by sum of w_t over rows whose t != ignore_index (PyTorch's convention)
    probabilities t (t' = (1 - s) t + s / C):
        l = sum_c w_c t'_c (lse - x_c)
        dl/dx_c = p_c sum_c' w_c' t'_c' - w_c t'_c,    dl/dt_c = (1 - s) w_c (lse - x_c)
        'mean' divides by the number of rows
  The forward saves e = exp(x - max) and 1 / sum e per row; the backward is one pass over e.
nll_loss:  l = -w_t x_t,  dl/dx_t = -w_t  (ignore_index and 'mean' as above)
binary_cross_entropy (x in [0, 1]):  l = -w (t max(log x, -100) + (1 - t) max(log(1 - x), -100))
    dl/dx = w (x - t) / max(x (1 - x), 1e-12),  dl/dt = -w logit(x)
binary_cross_entropy_with_logits, lw = 1 + (pos_weight - 1) t:
    l = w ((1 - t) x + lw softplus(-x)),  dl/dx = w ((1 - t) - lw sigmoid(-x)),
    dl/dt = w (-x + (pos_weight - 1) softplus(-x))
mse  (x - t)^2 -> 2 (x - t);  l1  |x - t| -> sign(x - t)
smooth_l1 (beta): 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta -> clamp(d / beta, -1, 1)
huber (delta): 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta) -> clamp(d, -delta, delta)
kl_div (x = log q):  t (log t - x) -> -t, log t + 1 - x;  log_target: e^t (t - x) -> -e^t,
    e^t (t - x + 1);  'batchmean' divides the sum by the batch size
multi_margin (p in {1, 2}): l = sum_{j != t} w_t max(0, margin - x_t + x_j)^p / C
hinge_embedding: l = [y != 1] max(0, margin - x) + [y != -1] x
margin_ranking:  l = max(0, -y (x1 - x2) + margin)
bpr:  l = -log sigmoid(pos - neg) = softplus(neg - pos),  dl/dpos = -sigmoid(neg - pos)
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from kernels import _fastmath as fm
from kernels._checks import expect_float
from kernels._runtime import NUM_THREADS, PARALLEL_MIN_ELEMENTS

REDUCTIONS = ("none", "mean", "sum")
_NO_INDEX = -(2 ** 62)   # ignore_index=None: no target value is skipped

# softmax cross-entropy runs its rows on all threads from this many logits (float32 forward,
# 2 threads: serial wins at 128x1000, 0.056 ms against 0.072; at 512x10000 2.1 ms against 4.8)
CE_PARALLEL_MIN_ELEMENTS = 2 * PARALLEL_MIN_ELEMENTS


# row helpers: reductions that LLVM vectorizes. A float reduction only vectorizes when its
# additions may be reordered, so the sums carry the `reassoc` flag; they live in their own
# functions because the flag must not reach the exp below (its rounding trick would fold away).

@njit(cache=True, error_model="numpy")
def _row_max(r):
    m = r[0]
    for c in range(1, r.size):
        m = fm.maxnum(m, r[c])
    return m


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz"})
def _row_sum(r):
    s = r.dtype.type(0.0)
    for c in range(r.size):
        s += r[c]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz"})
def _total(r):
    """Sum of a flat array, accumulated in float64."""
    s = 0.0
    for k in range(r.size):
        s += np.float64(r[k])
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz"})
def _row_smooth(xr, weight, has_weight, lse):
    """sum_c w_c (lse - x_c)."""
    s = xr.dtype.type(0.0)
    if has_weight:
        for c in range(xr.size):
            s += weight[c] * (lse - xr[c])
    else:
        for c in range(xr.size):
            s += lse - xr[c]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz"})
def _row_soft(xr, tr, weight, has_weight, lse, keep, spread):
    """(sum_c w_c t'_c (lse - x_c), sum_c w_c t'_c) with t' = keep t + spread."""
    s = xr.dtype.type(0.0)
    total = xr.dtype.type(0.0)
    for c in range(xr.size):
        wt = keep * tr[c] + spread
        if has_weight:
            wt = wt * weight[c]
        s += wt * (lse - xr[c])
        total += wt
    return s, total


_f32 = np.float32
_LOG2E = _f32(1.44269504088896341)
_LN2_HI, _LN2_LO = _f32(0.693359375), _f32(-2.12194440e-4)
_ROUND = _f32(12582912.0)
_EXP_MIN = _f32(-87.0)   # e^-87 is the smallest normal float32 scale 2^-126 can reach
_E0, _E1, _E2 = _f32(1.9875691500e-4), _f32(1.3981999507e-3), _f32(8.3334519073e-3)
_E3, _E4, _E5 = _f32(4.1665795894e-2), _f32(1.6666665459e-1), _f32(5.0000001201e-1)
_ZERO, _ONE = _f32(0.0), _f32(1.0)


def _exp_nonpositive(x):
    """e^x for x <= 0 (a logit minus its row maximum)."""
    return np.exp(x)


def _exp_nonpositive_f32(x):
    # the float32 exp of kernels._fastmath without its overflow branch (x <= 0 here): one
    # clamp and one 2^n factor, and fused multiply-adds (512x1000 logits: 0.24 ms -> 0.16 ms,
    # <= 1 ulp); below -87 the result flushes to 0 (a probability < 1e-38)
    xc = x if x > _EXP_MIN else _EXP_MIN
    n = fm.fma(xc, _LOG2E, _ROUND) - _ROUND
    r = fm.fma(n, -_LN2_LO, fm.fma(n, -_LN2_HI, xc))
    z = r * r
    p = fm.fma(fm.fma(fm.fma(fm.fma(fm.fma(fm.fma(_E0, r, _E1), r, _E2), r, _E3), r, _E4), r, _E5), z,
             r + _ONE)
    y = p * fm._pow2(n)
    y = y if x >= _EXP_MIN else _ZERO
    return y if x == x else x


@overload(_exp_nonpositive, inline="always")
def _exp_nonpositive_overload(x):
    if x == types.float32:
        return _exp_nonpositive_f32
    if x == types.float64:
        return lambda x: np.exp(x)
    return None


@njit(cache=True, error_model="numpy")
def _row_exp(xr, er, m):
    for c in range(xr.size):
        er[c] = _exp_nonpositive(xr[c] - m)


# softmax cross-entropy with class-index targets

@njit(cache=True, error_model="numpy")
def _ce_forward_rows(x, target, weight, has_weight, ignore_index, smoothing, e, inv_sum, loss,
                     row_weight, save, lo, hi, scratch):
    dt = x.dtype.type
    n_classes = x.shape[1]
    keep = dt(1.0 - smoothing)
    spread = dt(smoothing / n_classes)
    one = dt(1.0)
    for i in range(lo, hi):
        t = target[i]
        if t == ignore_index:
            loss[i] = dt(0.0)
            row_weight[i] = dt(0.0)
            inv_sum[i] = dt(0.0)
            continue
        xr = x[i]
        er = e[i] if save else e[scratch]
        m = _row_max(xr)
        _row_exp(xr, er, m)
        s = _row_sum(er)
        lse = m + np.log(s)
        inv_sum[i] = one / s
        wt = weight[t] if has_weight else one
        value = keep * wt * (lse - xr[t])
        if smoothing != 0.0:
            value += spread * _row_smooth(xr, weight, has_weight, lse)
        loss[i] = value
        row_weight[i] = wt


@njit(cache=True, error_model="numpy")
def _ce_forward_serial(x, target, weight, has_weight, ignore_index, smoothing, e, inv_sum, loss,
                       row_weight, save):
    _ce_forward_rows(x, target, weight, has_weight, ignore_index, smoothing, e, inv_sum, loss,
                     row_weight, save, 0, x.shape[0], 0)


@njit(cache=True, error_model="numpy", parallel=True)
def _ce_forward_parallel(x, target, weight, has_weight, ignore_index, smoothing, e, inv_sum,
                         loss, row_weight, save, n_chunks):
    n = x.shape[0]
    for k in prange(n_chunks):
        _ce_forward_rows(x, target, weight, has_weight, ignore_index, smoothing, e, inv_sum,
                         loss, row_weight, save, k * n // n_chunks, (k + 1) * n // n_chunks, k)


@njit(cache=True, error_model="numpy")
def _ce_backward_rows(e, inv_sum, target, weight, has_weight, ignore_index, smoothing, grad,
                      grad_stride, scale, out, lo, hi):
    dt = e.dtype.type
    n_classes = e.shape[1]
    keep = dt(1.0 - smoothing)
    spread = dt(smoothing / n_classes)
    weight_total = dt(0.0)
    if has_weight:
        for c in range(n_classes):
            weight_total += weight[c]
    else:
        weight_total = dt(n_classes)
    for i in range(lo, hi):
        orow = out[i]
        t = target[i]
        if t == ignore_index:
            for c in range(n_classes):
                orow[c] = dt(0.0)
            continue
        g = grad[i * grad_stride] * dt(scale)
        wt = weight[t] if has_weight else dt(1.0)
        k = g * (keep * wt + spread * weight_total) * inv_sum[i]
        er = e[i]
        if has_weight and smoothing != 0.0:
            b = g * spread
            for c in range(n_classes):
                orow[c] = k * er[c] - b * weight[c]
        else:
            b = g * spread
            for c in range(n_classes):
                orow[c] = k * er[c] - b
        orow[t] -= g * keep * wt


@njit(cache=True, error_model="numpy")
def _ce_backward_serial(e, inv_sum, target, weight, has_weight, ignore_index, smoothing, grad,
                        grad_stride, scale, out):
    _ce_backward_rows(e, inv_sum, target, weight, has_weight, ignore_index, smoothing, grad,
                      grad_stride, scale, out, 0, e.shape[0])


@njit(cache=True, error_model="numpy", parallel=True)
def _ce_backward_parallel(e, inv_sum, target, weight, has_weight, ignore_index, smoothing, grad,
                          grad_stride, scale, out, n_chunks):
    n = e.shape[0]
    for k in prange(n_chunks):
        _ce_backward_rows(e, inv_sum, target, weight, has_weight, ignore_index, smoothing, grad,
                          grad_stride, scale, out, k * n // n_chunks, (k + 1) * n // n_chunks)


@njit(cache=True, error_model="numpy")
def _first_bad_target(target, n_classes, ignore_index):
    """Position of the first class index outside [0, C) that is not ignore_index, else -1."""
    for i in range(target.size):
        t = target[i]
        if (t < 0 or t >= n_classes) and t != ignore_index:
            return i
    return -1


# softmax cross-entropy with probability targets

@njit(cache=True, error_model="numpy")
def _soft_ce_forward_rows(x, target, weight, has_weight, smoothing, e, inv_sum, lse_out,
                          row_total, loss, save, lo, hi, scratch):
    dt = x.dtype.type
    keep = dt(1.0 - smoothing)
    spread = dt(smoothing / x.shape[1])
    for i in range(lo, hi):
        xr = x[i]
        er = e[i] if save else e[scratch]
        m = _row_max(xr)
        _row_exp(xr, er, m)
        s = _row_sum(er)
        lse = m + np.log(s)
        inv_sum[i] = dt(1.0) / s
        lse_out[i] = lse
        value, total = _row_soft(xr, target[i], weight, has_weight, lse, keep, spread)
        loss[i] = value
        row_total[i] = total


@njit(cache=True, error_model="numpy")
def _soft_ce_forward_serial(x, target, weight, has_weight, smoothing, e, inv_sum, lse_out,
                            row_total, loss, save):
    _soft_ce_forward_rows(x, target, weight, has_weight, smoothing, e, inv_sum, lse_out,
                          row_total, loss, save, 0, x.shape[0], 0)


@njit(cache=True, error_model="numpy", parallel=True)
def _soft_ce_forward_parallel(x, target, weight, has_weight, smoothing, e, inv_sum, lse_out,
                              row_total, loss, save, n_chunks):
    n = x.shape[0]
    for k in prange(n_chunks):
        _soft_ce_forward_rows(x, target, weight, has_weight, smoothing, e, inv_sum, lse_out,
                              row_total, loss, save, k * n // n_chunks, (k + 1) * n // n_chunks,
                              k)


@njit(cache=True, error_model="numpy")
def _soft_ce_backward_logits(e, inv_sum, row_total, target, weight, has_weight, smoothing, grad,
                             grad_stride, scale, out):
    dt = e.dtype.type
    keep = dt(1.0 - smoothing)
    spread = dt(smoothing / e.shape[1])
    for i in range(e.shape[0]):
        g = grad[i * grad_stride] * dt(scale)
        k = g * row_total[i] * inv_sum[i]
        er = e[i]
        tr = target[i]
        orow = out[i]
        if has_weight:
            for c in range(e.shape[1]):
                orow[c] = k * er[c] - g * weight[c] * (keep * tr[c] + spread)
        else:
            for c in range(e.shape[1]):
                orow[c] = k * er[c] - g * (keep * tr[c] + spread)


@njit(cache=True, error_model="numpy")
def _soft_ce_backward_target(x, lse, weight, has_weight, smoothing, grad, grad_stride, scale,
                             out):
    dt = x.dtype.type
    keep = dt(1.0 - smoothing)
    for i in range(x.shape[0]):
        g = grad[i * grad_stride] * dt(scale) * keep
        xr = x[i]
        orow = out[i]
        m = lse[i]
        if has_weight:
            for c in range(x.shape[1]):
                orow[c] = g * weight[c] * (m - xr[c])
        else:
            for c in range(x.shape[1]):
                orow[c] = g * (m - xr[c])


# nll_loss on (N, C, S) log-probabilities

@njit(cache=True, error_model="numpy")
def _nll_forward(x, target, weight, has_weight, ignore_index, loss, row_weight):
    dt = x.dtype.type
    for n in range(x.shape[0]):
        for s in range(x.shape[2]):
            t = target[n, s]
            if t == ignore_index:
                loss[n, s] = dt(0.0)
                row_weight[n, s] = dt(0.0)
                continue
            wt = weight[t] if has_weight else dt(1.0)
            loss[n, s] = -wt * x[n, t, s]
            row_weight[n, s] = wt


@njit(cache=True, error_model="numpy")
def _nll_backward(target, weight, has_weight, ignore_index, grad, grad_stride, scale, out):
    dt = out.dtype.type
    n_spatial = out.shape[2]
    for n in range(out.shape[0]):
        for s in range(n_spatial):
            t = target[n, s]
            if t == ignore_index:
                continue
            wt = weight[t] if has_weight else dt(1.0)
            out[n, t, s] = -wt * grad[(n * n_spatial + s) * grad_stride] * dt(scale)


# elementwise losses on flat arrays; `weight` has the input's size or is empty (no weight)

@njit(cache=True, error_model="numpy")
def _bce_forward(x, t, weight, out):
    dt = x.dtype.type
    floor = dt(-100.0)
    one = dt(1.0)
    for k in range(x.size):
        log_x = fm.log(x[k])
        log_1mx = fm.log1p(-x[k])
        log_x = log_x if log_x > floor else floor
        log_1mx = log_1mx if log_1mx > floor else floor
        v = (t[k] - one) * log_1mx - t[k] * log_x
        out[k] = v * weight[k] if weight.size else v


@njit(cache=True, error_model="numpy")
def _bce_backward_input(x, t, weight, grad, grad_stride, scale, out):
    dt = x.dtype.type
    tiny = dt(1e-12)
    one = dt(1.0)
    for k in range(x.size):
        d = (one - x[k]) * x[k]
        d = d if d > tiny else tiny
        v = grad[k * grad_stride] * dt(scale) * (x[k] - t[k]) / d
        out[k] = v * weight[k] if weight.size else v


@njit(cache=True, error_model="numpy")
def _bce_backward_target(x, weight, grad, grad_stride, scale, out):
    dt = x.dtype.type
    for k in range(x.size):
        v = grad[k * grad_stride] * dt(scale) * (fm.log1p(-x[k]) - fm.log(x[k]))
        out[k] = v * weight[k] if weight.size else v


@njit(cache=True, error_model="numpy")
def _bce_logits_forward(x, t, weight, pos_weight, out):
    dt = x.dtype.type
    one = dt(1.0)
    for k in range(x.size):
        sp = fm.softplus(-x[k])
        lw = (pos_weight[k] - one) * t[k] + one if pos_weight.size else one
        v = (one - t[k]) * x[k] + lw * sp
        out[k] = v * weight[k] if weight.size else v


@njit(cache=True, error_model="numpy")
def _bce_logits_backward_input(x, t, weight, pos_weight, grad, grad_stride, scale, out):
    dt = x.dtype.type
    one = dt(1.0)
    for k in range(x.size):
        lw = (pos_weight[k] - one) * t[k] + one if pos_weight.size else one
        v = grad[k * grad_stride] * dt(scale) * ((one - t[k]) - lw * fm.sigmoid(-x[k]))
        out[k] = v * weight[k] if weight.size else v


@njit(cache=True, error_model="numpy")
def _bce_logits_backward_target(x, weight, pos_weight, grad, grad_stride, scale, out):
    dt = x.dtype.type
    one = dt(1.0)
    for k in range(x.size):
        pw = pos_weight[k] - one if pos_weight.size else dt(0.0)
        v = grad[k * grad_stride] * dt(scale) * (pw * fm.softplus(-x[k]) - x[k])
        out[k] = v * weight[k] if weight.size else v


@njit(cache=True, error_model="numpy")
def _mse_forward(x, t, out):
    for k in range(x.size):
        d = x[k] - t[k]
        out[k] = d * d


@njit(cache=True, error_model="numpy")
def _mse_backward(x, t, grad, grad_stride, scale, out):
    norm = x.dtype.type(2.0 * scale)
    for k in range(x.size):
        out[k] = norm * (x[k] - t[k]) * grad[k * grad_stride]


@njit(cache=True, error_model="numpy")
def _l1_forward(x, t, out):
    for k in range(x.size):
        out[k] = abs(x[k] - t[k])


@njit(cache=True, error_model="numpy")
def _l1_backward(x, t, grad, grad_stride, scale, out):
    dt = x.dtype.type
    zero = dt(0.0)
    for k in range(x.size):
        d = x[k] - t[k]
        sign = dt(1.0) if d > zero else (dt(-1.0) if d < zero else d * zero)
        out[k] = sign * (grad[k * grad_stride] * dt(scale))


@njit(cache=True, error_model="numpy")
def _smooth_l1_forward(x, t, beta, out):
    dt = x.dtype.type
    b = dt(beta)
    half = dt(0.5)
    for k in range(x.size):
        z = abs(x[k] - t[k])
        out[k] = half * z * z / b if z < b else z - half * b


@njit(cache=True, error_model="numpy")
def _smooth_l1_backward(x, t, beta, grad, grad_stride, scale, out):
    dt = x.dtype.type
    b = dt(beta)
    one = dt(1.0)
    zero = dt(0.0)
    for k in range(x.size):
        d = x[k] - t[k]
        if b == zero:
            v = one if d > zero else (-one if d < zero else d * zero)
        else:
            v = -one if d < -b else (one if d > b else d / b)
        out[k] = dt(scale) * v * grad[k * grad_stride]


@njit(cache=True, error_model="numpy")
def _huber_forward(x, t, delta, out):
    dt = x.dtype.type
    c = dt(delta)
    half = dt(0.5)
    for k in range(x.size):
        z = abs(x[k] - t[k])
        out[k] = half * z * z if z < c else c * (z - half * c)


@njit(cache=True, error_model="numpy")
def _huber_backward(x, t, delta, grad, grad_stride, scale, out):
    dt = x.dtype.type
    c = dt(delta)
    for k in range(x.size):
        d = x[k] - t[k]
        v = -c if d < -c else (c if d > c else d)
        out[k] = dt(scale) * v * grad[k * grad_stride]


@njit(cache=True, error_model="numpy")
def _kl_div_forward(x, t, log_target, out):
    dt = x.dtype.type
    zero = dt(0.0)
    for k in range(x.size):
        if log_target:
            out[k] = fm.exp(t[k]) * (t[k] - x[k])
        else:
            xlogy = zero if t[k] == zero else t[k] * fm.log(t[k])
            out[k] = xlogy - t[k] * x[k]


@njit(cache=True, error_model="numpy")
def _kl_div_backward_input(t, log_target, grad, grad_stride, scale, out):
    dt = t.dtype.type
    for k in range(t.size):
        g = grad[k * grad_stride] * dt(scale)
        out[k] = -fm.exp(t[k]) * g if log_target else -t[k] * g


@njit(cache=True, error_model="numpy")
def _kl_div_backward_target(x, t, log_target, grad, grad_stride, scale, out):
    dt = x.dtype.type
    one = dt(1.0)
    for k in range(x.size):
        g = grad[k * grad_stride] * dt(scale)
        if log_target:
            out[k] = g * fm.exp(t[k]) * (t[k] - x[k] + one)
        else:
            out[k] = g * (fm.log(t[k]) + one - x[k])


@njit(cache=True, error_model="numpy")
def _hinge_forward(x, y, margin, out):
    dt = x.dtype.type
    m = dt(margin)
    zero = dt(0.0)
    one = dt(1.0)
    for k in range(x.size):
        v = zero
        if y[k] != one:
            z = m - x[k]
            v = z if z > zero else zero
        if y[k] != -one:
            v += x[k]
        out[k] = v


@njit(cache=True, error_model="numpy")
def _hinge_backward(x, y, margin, grad, grad_stride, scale, out):
    dt = x.dtype.type
    m = dt(margin)
    zero = dt(0.0)
    one = dt(1.0)
    for k in range(x.size):
        d = zero
        if y[k] != one and m - x[k] >= zero:
            d -= one
        if y[k] != -one:
            d += one
        out[k] = d * grad[k * grad_stride] * dt(scale)


@njit(cache=True, error_model="numpy")
def _margin_ranking_forward(x1, x2, y, margin, out):
    dt = x1.dtype.type
    m = dt(margin)
    zero = dt(0.0)
    for k in range(x1.size):
        z = -y[k] * (x1[k] - x2[k]) + m
        out[k] = z if z > zero else zero


@njit(cache=True, error_model="numpy")
def _margin_ranking_backward(x1, x2, y, margin, grad, grad_stride, scale, grad_x1, grad_y):
    """grad_x2 = -grad_x1; grad_y is filled only when it has the inputs' size."""
    dt = x1.dtype.type
    m = dt(margin)
    zero = dt(0.0)
    for k in range(x1.size):
        z = -y[k] * (x1[k] - x2[k]) + m
        g = grad[k * grad_stride] * dt(scale) if z >= zero else zero
        grad_x1[k] = -y[k] * g
        if grad_y.size:
            grad_y[k] = -(x1[k] - x2[k]) * g


@njit(cache=True, error_model="numpy")
def _bpr_forward(pos, neg, out):
    for k in range(pos.size):
        out[k] = fm.softplus(neg[k] - pos[k])


@njit(cache=True, error_model="numpy")
def _bpr_backward(pos, neg, grad, grad_stride, scale, out):
    """The gradient with respect to `neg`; the one for `pos` is its negative."""
    dt = pos.dtype.type
    for k in range(pos.size):
        out[k] = fm.sigmoid(neg[k] - pos[k]) * grad[k * grad_stride] * dt(scale)


@njit(cache=True, error_model="numpy")
def _multi_margin_forward(x, target, p, margin, weight, has_weight, loss):
    dt = x.dtype.type
    m = dt(margin)
    zero = dt(0.0)
    n_classes = x.shape[1]
    for i in range(x.shape[0]):
        t = target[i]
        xt = x[i, t]
        s = zero
        for j in range(n_classes):
            if j == t:
                continue
            z = m - xt + x[i, j]
            if z > zero:
                s += z if p == 1 else z * z
        if has_weight:
            s *= weight[t]
        loss[i] = s / dt(n_classes)


@njit(cache=True, error_model="numpy")
def _multi_margin_backward(x, target, p, margin, weight, has_weight, grad, grad_stride, scale,
                           out):
    dt = x.dtype.type
    m = dt(margin)
    zero = dt(0.0)
    n_classes = x.shape[1]
    for i in range(x.shape[0]):
        t = target[i]
        g = grad[i * grad_stride] * dt(scale) / dt(n_classes)
        if has_weight:
            g *= weight[t]
        xt = x[i, t]
        total = zero
        for j in range(n_classes):
            if j == t:
                continue
            z = m - xt + x[i, j]
            if z > zero:
                h = g if p == 1 else dt(2.0) * g * z
                out[i, j] = h
                total -= h
            else:
                out[i, j] = zero
        out[i, t] = total


# Python wrappers: validation, layouts, reductions

def check_reduction(op, reduction, extra=()):
    if reduction not in REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in REDUCTIONS + tuple(extra))
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _flat(a):
    """A flat C-contiguous view (a copy only when `a` is strided)."""
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def _reduce(elementwise, reduction, denominator=None):
    """The loss from per-element values: itself for 'none', else its float64 total (over
    `denominator` for 'mean') in the input dtype."""
    if reduction == "none":
        return elementwise
    total = _total(_flat(elementwise))
    if reduction == "mean":
        count = elementwise.size if denominator is None else denominator
        total = total / count if count else np.nan
    return np.asarray(total, dtype=elementwise.dtype)


def _grad_args(op, grad, shape, dtype, reduction, denominator=None):
    """(flat gradient, its stride 0 or 1, scale) for the backward loops."""
    if reduction == "none":
        if grad.shape != tuple(shape):
            raise ValueError(f"{op}: gradient of shape {grad.shape} for a loss of shape "
                             f"{tuple(shape)}")
        g = _flat(grad.astype(dtype, copy=False))
        return g, 1, 1.0
    if grad.size != 1:
        raise ValueError(f"{op}: expected a scalar gradient for reduction={reduction!r}, "
                         f"got shape {grad.shape}")
    g = np.ascontiguousarray(grad, dtype=dtype).reshape(1)
    if reduction == "mean":
        count = int(np.prod(shape)) if denominator is None else denominator
        return g, 0, (1.0 / count if count else np.nan)
    return g, 0, 1.0


def _weight_vector(op, weight, n_classes, dtype):
    if weight is None:
        return np.empty(0, dtype), False
    expect_float(op, "weight", weight)
    if weight.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have shape ({n_classes},) (one per class), got "
                         f"{weight.shape}")
    return np.ascontiguousarray(weight, dtype=dtype), True


def _class_rows(op, x):
    """(N, C, d1, ...) or (C,) logits as C-contiguous (M, C) rows, and the batch shape."""
    expect_float(op, "input", x)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d array")
    if x.ndim == 1:
        return np.ascontiguousarray(x).reshape(1, -1), ()
    if x.ndim == 2:
        return np.ascontiguousarray(x), (x.shape[0],)
    rows = np.ascontiguousarray(np.moveaxis(x, 1, -1)).reshape(-1, x.shape[1])
    return rows, (x.shape[0],) + x.shape[2:]


def _from_rows(rows, shape):
    """Undo `_class_rows` for a gradient of the input's `shape`."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    moved = rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],))
    return np.ascontiguousarray(np.moveaxis(moved, -1, 1))


def check_class_target(op, x_shape, target, ignore_index):
    """int64 class indices of the batch shape of `x_shape`, within [0, C) or ignore_index."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index target must be an integer (int64) array, got "
                        f"{target.dtype}; a float target must have the input's shape "
                        f"{tuple(x_shape)} (class probabilities)")
    batch = () if len(x_shape) == 1 else (x_shape[0],) + tuple(x_shape[2:])
    if target.shape != batch:
        raise ValueError(f"{op}: target of shape {target.shape} does not match input of shape "
                         f"{tuple(x_shape)}: expected {batch}")
    n_classes = x_shape[0] if len(x_shape) == 1 else x_shape[1]
    flat = np.ascontiguousarray(target, dtype=np.int64).reshape(-1)
    bad = _first_bad_target(flat, n_classes, _NO_INDEX if ignore_index is None else
                            int(ignore_index))
    if bad >= 0:
        raise IndexError(f"{op}: target {int(flat[bad])} is out of range for {n_classes} "
                         f"classes (expected 0 <= target < {n_classes}"
                         f"{f' or ignore_index={ignore_index}' if ignore_index is not None else ''}"
                         f"; first at flat position {bad})")
    return flat


def _chunks(rows, n_classes):
    if rows >= 2 and rows * n_classes >= CE_PARALLEL_MIN_ELEMENTS and NUM_THREADS > 1:
        return min(NUM_THREADS, rows)
    return 1


def softmax_cross_entropy_forward(logits, target, weight=None, ignore_index=-100,
                                  label_smoothing=0.0, reduction="mean", save=True):
    """Cross-entropy of softmax(logits) (N, C[, d...]) or (C,) against int64 class indices
    (N[, d...]) or (); returns (loss, exps, inv_sums, denominator): exps = e^(x - max) as
    (M, C) rows and 1/sum per row when `save`, the weight total of the kept rows."""
    op = "cross_entropy"
    check_reduction(op, reduction)
    rows, batch = _class_rows(op, logits)
    n_rows, n_classes = rows.shape
    flat_target = check_class_target(op, logits.shape, target, ignore_index)
    w, has_weight = _weight_vector(op, weight, n_classes, rows.dtype)
    smoothing = float(label_smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    chunks = _chunks(n_rows, n_classes)
    e = np.empty((n_rows if save else chunks, n_classes), rows.dtype)
    inv_sum = np.empty(n_rows, rows.dtype)
    loss = np.empty(n_rows, rows.dtype)
    row_weight = np.empty(n_rows, rows.dtype)
    ignore = _NO_INDEX if ignore_index is None else int(ignore_index)
    if n_classes == 0 and n_rows:
        raise ValueError(f"{op}: input has 0 classes, shape {logits.shape}")
    if chunks > 1:
        _ce_forward_parallel(rows, flat_target, w, has_weight, ignore, smoothing, e, inv_sum,
                             loss, row_weight, save, chunks)
    else:
        _ce_forward_serial(rows, flat_target, w, has_weight, ignore, smoothing, e, inv_sum,
                           loss, row_weight, save)
    denominator = _total(row_weight)
    out = _reduce(loss.reshape(batch), reduction, denominator)
    return out, e, inv_sum, denominator


def softmax_cross_entropy_backward(exps, inv_sums, target, weight, ignore_index,
                                   label_smoothing, reduction, denominator, grad_loss,
                                   input_shape, overwrite=False):
    """Gradient of `softmax_cross_entropy_forward` with respect to the logits, in one pass
    over the saved exps; `overwrite` writes it into `exps` itself (no new (M, C) array)."""
    op = "cross_entropy backward"
    n_rows, n_classes = exps.shape
    batch = () if len(input_shape) == 1 else (input_shape[0],) + tuple(input_shape[2:])
    flat_target = np.ascontiguousarray(target, dtype=np.int64).reshape(-1)
    w, has_weight = _weight_vector(op, weight, n_classes, exps.dtype)
    g, stride, scale = _grad_args(op, grad_loss, batch, exps.dtype, reduction, denominator)
    out = exps if overwrite else np.empty((n_rows, n_classes), exps.dtype)
    ignore = _NO_INDEX if ignore_index is None else int(ignore_index)
    chunks = _chunks(n_rows, n_classes)
    if chunks > 1:
        _ce_backward_parallel(exps, inv_sums, flat_target, w, has_weight, ignore,
                              float(label_smoothing), g, stride, scale, out, chunks)
    else:
        _ce_backward_serial(exps, inv_sums, flat_target, w, has_weight, ignore,
                            float(label_smoothing), g, stride, scale, out)
    return _from_rows(out, input_shape)


def soft_cross_entropy_forward(logits, target, weight=None, label_smoothing=0.0,
                               reduction="mean", save=True):
    """Cross-entropy of softmax(logits) against class probabilities of the same shape; returns
    (loss, exps, inv_sums, lses, row_totals) with the last four as (M, C) / (M,) arrays."""
    op = "cross_entropy"
    check_reduction(op, reduction)
    expect_float(op, "target", target)
    if target.shape != logits.shape:
        raise ValueError(f"{op}: probability target of shape {target.shape} must match input "
                         f"of shape {logits.shape}")
    rows, batch = _class_rows(op, logits)
    t_rows, _ = _class_rows(op, target.astype(logits.dtype, copy=False))
    n_rows, n_classes = rows.shape
    w, has_weight = _weight_vector(op, weight, n_classes, rows.dtype)
    smoothing = float(label_smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    chunks = _chunks(n_rows, n_classes)
    e = np.empty((n_rows if save else chunks, n_classes), rows.dtype)
    inv_sum = np.empty(n_rows, rows.dtype)
    lse = np.empty(n_rows, rows.dtype)
    row_total = np.empty(n_rows, rows.dtype)
    loss = np.empty(n_rows, rows.dtype)
    if chunks > 1:
        _soft_ce_forward_parallel(rows, t_rows, w, has_weight, smoothing, e, inv_sum, lse,
                                  row_total, loss, save, chunks)
    else:
        _soft_ce_forward_serial(rows, t_rows, w, has_weight, smoothing, e, inv_sum, lse,
                                row_total, loss, save)
    return _reduce(loss.reshape(batch), reduction), e, inv_sum, lse, row_total


def soft_cross_entropy_backward_logits(exps, inv_sums, row_totals, target, weight,
                                       label_smoothing, reduction, grad_loss, input_shape):
    op = "cross_entropy backward"
    n_rows, n_classes = exps.shape
    batch = () if len(input_shape) == 1 else (input_shape[0],) + tuple(input_shape[2:])
    t_rows, _ = _class_rows(op, target.astype(exps.dtype, copy=False))
    w, has_weight = _weight_vector(op, weight, n_classes, exps.dtype)
    g, stride, scale = _grad_args(op, grad_loss, batch, exps.dtype, reduction)
    out = np.empty((n_rows, n_classes), exps.dtype)
    _soft_ce_backward_logits(exps, inv_sums, row_totals, t_rows, w, has_weight,
                             float(label_smoothing), g, stride, scale, out)
    return _from_rows(out, input_shape)


def soft_cross_entropy_backward_target(logits, lses, weight, label_smoothing, reduction,
                                       grad_loss):
    op = "cross_entropy backward"
    rows, batch = _class_rows(op, logits)
    w, has_weight = _weight_vector(op, weight, rows.shape[1], rows.dtype)
    g, stride, scale = _grad_args(op, grad_loss, batch, rows.dtype, reduction)
    out = np.empty(rows.shape, rows.dtype)
    _soft_ce_backward_target(rows, lses, w, has_weight, float(label_smoothing), g, stride,
                             scale, out)
    return _from_rows(out, logits.shape)


def _spatial(x):
    """(N, C, d...) -> (N, C, S) and (C,) -> (1, C, 1) without copying a contiguous array."""
    x = np.ascontiguousarray(x)
    if x.ndim == 1:
        return x.reshape(1, -1, 1)
    return x.reshape(x.shape[0], x.shape[1], -1)


def nll_loss_forward(log_probs, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of int64 class targets under log-probabilities (N, C[, d...]) or
    (C,); returns (loss, denominator)."""
    op = "nll_loss"
    check_reduction(op, reduction)
    expect_float(op, "input", log_probs)
    if log_probs.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d array")
    flat_target = check_class_target(op, log_probs.shape, target, ignore_index)
    x = _spatial(log_probs)
    w, has_weight = _weight_vector(op, weight, x.shape[1], x.dtype)
    t = flat_target.reshape(x.shape[0], x.shape[2])
    loss = np.empty(t.shape, x.dtype)
    row_weight = np.empty(t.shape, x.dtype)
    ignore = _NO_INDEX if ignore_index is None else int(ignore_index)
    _nll_forward(x, t, w, has_weight, ignore, loss, row_weight)
    denominator = _total(row_weight.reshape(-1))
    return _reduce(loss.reshape(target.shape), reduction, denominator), denominator


def nll_loss_backward(target, weight, ignore_index, reduction, denominator, grad_loss,
                      input_shape, dtype):
    op = "nll_loss backward"
    shape3 = (1, input_shape[0], 1) if len(input_shape) == 1 else (
        input_shape[0], input_shape[1], int(np.prod(input_shape[2:], dtype=np.int64)))
    w, has_weight = _weight_vector(op, weight, shape3[1], dtype)
    g, stride, scale = _grad_args(op, grad_loss, target.shape, dtype, reduction, denominator)
    out = np.zeros(shape3, dtype)
    t = np.ascontiguousarray(target, dtype=np.int64).reshape(shape3[0], shape3[2])
    ignore = _NO_INDEX if ignore_index is None else int(ignore_index)
    _nll_backward(t, w, has_weight, ignore, g, stride, scale, out)
    return out.reshape(input_shape)


def _same_shape(op, x, t, names=("input", "target")):
    expect_float(op, names[0], x)
    expect_float(op, names[1], t)
    if x.shape != t.shape:
        raise ValueError(f"{op}: {names[1]} of shape {t.shape} must have the same shape as "
                         f"{names[0]} {x.shape}")
    return _flat(x), _flat(t.astype(x.dtype, copy=False))


def _broadcast(op, *arrays, names):
    for a, name in zip(arrays, names):
        expect_float(op, name, a)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        listed = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"{op}: shapes do not broadcast: {listed}") from None
    dtype = arrays[0].dtype        # the first input's dtype: float32 stays float32
    flats = [_flat(np.broadcast_to(a.astype(dtype, copy=False), shape)) for a in arrays]
    return shape, flats


def _elementwise_weight(op, name, weight, shape, dtype):
    """A flat weight broadcast to `shape`, or an empty array for None."""
    if weight is None:
        return np.empty(0, dtype)
    expect_float(op, name, weight)
    try:
        full = np.broadcast_to(weight.astype(dtype, copy=False), shape)
    except ValueError:
        raise ValueError(f"{op}: {name} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {tuple(shape)}") from None
    return _flat(full)


def binary_cross_entropy_forward(x, target, weight=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1] (any shape)."""
    op = "binary_cross_entropy"
    check_reduction(op, reduction)
    xf, tf = _same_shape(op, x, target)
    if xf.size and not (xf.min() >= 0.0 and xf.max() <= 1.0):
        raise ValueError(f"{op}: all elements of input should be between 0 and 1, got min "
                         f"{xf.min()}, max {xf.max()}")
    w = _elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    out = np.empty(x.shape, x.dtype)
    _bce_forward(xf, tf, w, out.reshape(-1))
    return _reduce(out, reduction)


def binary_cross_entropy_backward_input(x, target, weight, reduction, grad_loss):
    op = "binary_cross_entropy backward"
    xf, tf = _same_shape(op, x, target)
    w = _elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    g, stride, scale = _grad_args(op, grad_loss, x.shape, x.dtype, reduction)
    out = np.empty(x.shape, x.dtype)
    _bce_backward_input(xf, tf, w, g, stride, scale, out.reshape(-1))
    return out


def binary_cross_entropy_backward_target(x, weight, reduction, grad_loss):
    op = "binary_cross_entropy backward"
    w = _elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    g, stride, scale = _grad_args(op, grad_loss, x.shape, x.dtype, reduction)
    out = np.empty(x.shape, x.dtype)
    _bce_backward_target(_flat(x), w, g, stride, scale, out.reshape(-1))
    return out


def bce_with_logits_forward(x, target, weight=None, pos_weight=None, reduction="mean",
                            denominator=None):
    """w ((1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)) on logits x (any shape);
    `denominator` replaces the element count of 'mean' (a mask's sum)."""
    op = "binary_cross_entropy_with_logits"
    check_reduction(op, reduction)
    xf, tf = _same_shape(op, x, target)
    w = _elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    pw = _elementwise_weight(op, "pos_weight", pos_weight, x.shape, x.dtype)
    out = np.empty(x.shape, x.dtype)
    _bce_logits_forward(xf, tf, w, pw, out.reshape(-1))
    return _reduce(out, reduction, denominator)


def bce_with_logits_backward_input(x, target, weight, pos_weight, reduction, grad_loss,
                                   denominator=None):
    op = "binary_cross_entropy_with_logits backward"
    xf, tf = _same_shape(op, x, target)
    w = _elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    pw = _elementwise_weight(op, "pos_weight", pos_weight, x.shape, x.dtype)
    g, stride, scale = _grad_args(op, grad_loss, x.shape, x.dtype, reduction, denominator)
    out = np.empty(x.shape, x.dtype)
    _bce_logits_backward_input(xf, tf, w, pw, g, stride, scale, out.reshape(-1))
    return out


def bce_with_logits_backward_target(x, weight, pos_weight, reduction, grad_loss,
                                    denominator=None):
    op = "binary_cross_entropy_with_logits backward"
    w = _elementwise_weight(op, "weight", weight, x.shape, x.dtype)
    pw = _elementwise_weight(op, "pos_weight", pos_weight, x.shape, x.dtype)
    g, stride, scale = _grad_args(op, grad_loss, x.shape, x.dtype, reduction, denominator)
    out = np.empty(x.shape, x.dtype)
    _bce_logits_backward_target(_flat(x), w, pw, g, stride, scale, out.reshape(-1))
    return out


_REGRESSION = {
    "mse_loss": (_mse_forward, _mse_backward),
    "l1_loss": (_l1_forward, _l1_backward),
    "smooth_l1_loss": (_smooth_l1_forward, _smooth_l1_backward),
    "huber_loss": (_huber_forward, _huber_backward),
}


def regression_loss_forward(op, x, target, reduction="mean", param=None):
    """mse_loss, l1_loss, smooth_l1_loss (param = beta) or huber_loss (param = delta) of x
    against a target that broadcasts with it; the loss has the broadcast shape."""
    check_reduction(op, reduction)
    if param is not None and param < 0:
        raise ValueError(f"{op}: {'beta' if op == 'smooth_l1_loss' else 'delta'} must be "
                         f">= 0, got {param}")
    if op == "huber_loss" and param == 0:
        raise ValueError(f"{op}: delta must be > 0, got {param}")
    shape, (xf, tf) = _broadcast(op, x, target, names=("input", "target"))
    out = np.empty(shape, xf.dtype)
    forward = _REGRESSION[op][0]
    if param is None:
        forward(xf, tf, out.reshape(-1))
    else:
        forward(xf, tf, float(param), out.reshape(-1))
    return _reduce(out, reduction)


def regression_loss_backward(op, x, target, reduction, grad_loss, param=None):
    """Gradient with respect to x in the broadcast shape (the target's is its negative)."""
    shape, (xf, tf) = _broadcast(op, x, target, names=("input", "target"))
    g, stride, scale = _grad_args(op + " backward", grad_loss, shape, xf.dtype, reduction)
    out = np.empty(shape, xf.dtype)
    backward = _REGRESSION[op][1]
    if param is None:
        backward(xf, tf, g, stride, scale, out.reshape(-1))
    else:
        backward(xf, tf, float(param), g, stride, scale, out.reshape(-1))
    return out


def _kl_denominator(op, x_shape, reduction):
    if reduction == "batchmean":
        if len(x_shape) == 0:
            raise ValueError(f"{op}: reduction='batchmean' needs a batch dimension, got a 0-d "
                             f"input")
        return x_shape[0]
    return None


def kl_div_forward(x, target, reduction="mean", log_target=False):
    """KL(target || exp(x)) pointwise: x are log-probabilities; 'batchmean' divides the sum by
    the batch size."""
    op = "kl_div"
    check_reduction(op, reduction, ("batchmean",))
    shape, (xf, tf) = _broadcast(op, x, target, names=("input", "target"))
    out = np.empty(shape, xf.dtype)
    _kl_div_forward(xf, tf, bool(log_target), out.reshape(-1))
    batch = _kl_denominator(op, shape, reduction)
    return _reduce(out, "mean" if reduction == "batchmean" else reduction, batch)


def _kl_grad_args(op, grad_loss, shape, dtype, reduction):
    if reduction == "batchmean":
        return _grad_args(op, grad_loss, shape, dtype, "mean", _kl_denominator(op, shape,
                                                                               reduction))
    return _grad_args(op, grad_loss, shape, dtype, reduction)


def kl_div_backward_input(x, target, reduction, log_target, grad_loss):
    op = "kl_div backward"
    shape, (xf, tf) = _broadcast(op, x, target, names=("input", "target"))
    g, stride, scale = _kl_grad_args(op, grad_loss, shape, xf.dtype, reduction)
    out = np.empty(shape, xf.dtype)
    _kl_div_backward_input(tf, bool(log_target), g, stride, scale, out.reshape(-1))
    return out


def kl_div_backward_target(x, target, reduction, log_target, grad_loss):
    op = "kl_div backward"
    shape, (xf, tf) = _broadcast(op, x, target, names=("input", "target"))
    g, stride, scale = _kl_grad_args(op, grad_loss, shape, xf.dtype, reduction)
    out = np.empty(shape, xf.dtype)
    _kl_div_backward_target(xf, tf, bool(log_target), g, stride, scale, out.reshape(-1))
    return out


def hinge_embedding_forward(x, target, margin=1.0, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (labels broadcast with x)."""
    op = "hinge_embedding_loss"
    check_reduction(op, reduction)
    shape, (xf, yf) = _broadcast(op, x, target, names=("input", "target"))
    out = np.empty(shape, xf.dtype)
    _hinge_forward(xf, yf, float(margin), out.reshape(-1))
    return _reduce(out, reduction)


def hinge_embedding_backward(x, target, margin, reduction, grad_loss):
    op = "hinge_embedding_loss backward"
    shape, (xf, yf) = _broadcast(op, x, target, names=("input", "target"))
    g, stride, scale = _grad_args(op, grad_loss, shape, xf.dtype, reduction)
    out = np.empty(shape, xf.dtype)
    _hinge_backward(xf, yf, float(margin), g, stride, scale, out.reshape(-1))
    return out


def margin_ranking_forward(x1, x2, target, margin=0.0, reduction="mean"):
    """max(0, -y (x1 - x2) + margin), the three broadcast together."""
    op = "margin_ranking_loss"
    check_reduction(op, reduction)
    shape, (af, bf, yf) = _broadcast(op, x1, x2, target, names=("input1", "input2", "target"))
    out = np.empty(shape, af.dtype)
    _margin_ranking_forward(af, bf, yf, float(margin), out.reshape(-1))
    return _reduce(out, reduction)


def margin_ranking_backward(x1, x2, target, margin, reduction, grad_loss, need_target=False):
    """(grad_x1, grad_x2, grad_target or None) in the broadcast shape."""
    op = "margin_ranking_loss backward"
    shape, (af, bf, yf) = _broadcast(op, x1, x2, target, names=("input1", "input2", "target"))
    g, stride, scale = _grad_args(op, grad_loss, shape, af.dtype, reduction)
    grad_x1 = np.empty(shape, af.dtype)
    grad_y = np.empty(shape if need_target else (0,), af.dtype)
    _margin_ranking_backward(af, bf, yf, float(margin), g, stride, scale, grad_x1.reshape(-1),
                             grad_y.reshape(-1))
    return grad_x1, -grad_x1, (grad_y if need_target else None)


def bpr_forward(pos, neg, reduction="mean"):
    """-log sigmoid(pos - neg) = softplus(neg - pos), the two broadcast together."""
    op = "bpr_loss"
    check_reduction(op, reduction)
    shape, (pf, nf) = _broadcast(op, pos, neg, names=("pos", "neg"))
    out = np.empty(shape, pf.dtype)
    _bpr_forward(pf, nf, out.reshape(-1))
    return _reduce(out, reduction)


def bpr_backward(pos, neg, reduction, grad_loss):
    """(grad_pos, grad_neg) in the broadcast shape."""
    op = "bpr_loss backward"
    shape, (pf, nf) = _broadcast(op, pos, neg, names=("pos", "neg"))
    g, stride, scale = _grad_args(op, grad_loss, shape, pf.dtype, reduction)
    grad_neg = np.empty(shape, pf.dtype)
    _bpr_backward(pf, nf, g, stride, scale, grad_neg.reshape(-1))
    return -grad_neg, grad_neg


def _margin_rows(op, x, target):
    expect_float(op, "input", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"{op}: input must be (N, C) or (C,), got shape {x.shape}")
    flat_target = check_class_target(op, x.shape, target, None)
    rows = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    return rows, flat_target


def multi_margin_forward(x, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """Multi-class hinge loss of (N, C) or (C,) scores against int64 class targets."""
    op = "multi_margin_loss"
    check_reduction(op, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    rows, t = _margin_rows(op, x, target)
    w, has_weight = _weight_vector(op, weight, rows.shape[1], rows.dtype)
    loss = np.empty(rows.shape[0], rows.dtype)
    _multi_margin_forward(rows, t, int(p), float(margin), w, has_weight, loss)
    return _reduce(loss.reshape(target.shape), reduction)


def multi_margin_backward(x, target, p, margin, weight, reduction, grad_loss):
    op = "multi_margin_loss backward"
    rows, t = _margin_rows(op, x, target)
    w, has_weight = _weight_vector(op, weight, rows.shape[1], rows.dtype)
    g, stride, scale = _grad_args(op, grad_loss, target.shape, rows.dtype, reduction)
    out = np.empty(rows.shape, rows.dtype)
    _multi_margin_backward(rows, t, int(p), float(margin), w, has_weight, g, stride, scale, out)
    return out.reshape(x.shape)

