"""Normalisation layers with fused forward and backward: batch, layer and group norm, and the
channel mask of dropout2d.

batch norm over x (N, C, L) (L = 1 for (N, C), H W for images), per channel c, m = N L:
    mean = sum x / m,  var = sum (x - mean)^2 / m (biased),  xhat = (x - mean) / sqrt(var + eps)
    y = w xhat + b
    train backward: grad_x = w invstd (g - sum g / m - xhat sum(g xhat) / m)
    eval (running stats, constants): grad_x = w invstd g
    grad_w = sum g xhat,  grad_b = sum g
layer norm over the rows of x (M, D), affine per column; group norm over the G groups of
(N, C, L), affine per channel: the same formulas with the statistics of a row or a group, and
grad_x = invstd (gw - mean(gw) - xhat mean(gw xhat)) with gw = g w.
dropout2d: y = x s[n, c], s = mask / (1 - p), grad_x = g s[n, c].

Statistics are accumulated in float64 (also for float32 input), and every kernel passes over
one channel / row / group at a time, so a second pass reads the data from cache. Batch norm
takes its statistics in one pass, as sums of d = x - K and d^2 with K the channel's first
element: var = mean(d^2) - mean(d)^2 loses nothing in float64 while K is within a few
standard deviations of the mean (one element of the channel is), where sum x^2 - n mean^2
would cancel for a large mean. Layer and group norm use a two-pass variance. Channels (rows,
groups) are independent and are split between the worker threads above a size threshold
(`kernels._runtime.parallel_ranges`); per-channel affine gradients of layer and group norm are
summed from per-range partials, never by two threads into one slot.
"""
import numpy as np
from numba import njit

from kernels._checks import FLOAT_DTYPES, expect_float, expect_ndim, expect_same_dtype
from kernels._runtime import parallel_ranges


# Sums may be reassociated (and so vectorised): float64 accumulators, no other fast-math
# flags (NaN and inf propagate as usual); the float64 gradcheck passes with it. Measured on
# N32 C64 32x32 float32, one thread: batch-norm statistics 3x faster than strict order.
_REASSOC = {"reassoc"}


# Elements below which a call runs in the calling thread: handing work to the worker threads
# costs 20-50 us, the time of a pass over ~256k float32 elements.
PARALLEL_MIN_WORK = 1 << 18


def _split(fn, tasks, work):
    return parallel_ranges(fn, tasks, work, PARALLEL_MIN_WORK)


def _gradient_output(op, like, out):
    """The array a backward writes grad_x into, shaped like `like`: a new one, or the
    caller's `out` (C-contiguous, of that size and dtype, e.g. the input's own N-D shape, so
    the gradient owns its memory without a copy) viewed in that shape."""
    if out is None:
        return np.empty_like(like)
    if out.dtype != like.dtype or out.size != like.size or not out.flags.c_contiguous:
        raise ValueError(f"{op}: out must be a C-contiguous {like.dtype} array of "
                         f"{like.shape} elements, got {out.dtype} {out.shape}")
    return out.reshape(like.shape)


def _affine(op, x, weight, bias, size):
    """weight and bias as contiguous arrays of x's dtype (ones and zeros when absent)."""
    return (_parameter(op, "weight", x, weight, size, np.ones),
            _parameter(op, "bias", x, bias, size, np.zeros))


def _parameter(op, name, x, value, size, default):
    if value is None:
        return default(size, x.dtype)
    if value.dtype != x.dtype:
        expect_same_dtype(op, input=x, **{name: value})
    if value.shape != (size,):
        raise ValueError(f"{op}: {name} must have shape ({size},), got {value.shape}")
    return np.ascontiguousarray(value)


def _running(op, name, value, size, none):
    """The array the kernel updates for a running-statistics buffer: the buffer itself, or
    (non-contiguous, or not float32/float64) a float64 copy to write back afterwards."""
    if value is None:
        return none
    if value.dtype.kind != "f" or value.shape != (size,):
        raise ValueError(f"{op}: {name} must be a float array of shape ({size},), got "
                         f"{value.dtype} {value.shape}")
    if value.dtype in FLOAT_DTYPES and value.flags.c_contiguous:
        return value
    return value.astype(np.float64)


def batch_norm_forward_train(x, weight, bias, eps, running_mean=None, running_var=None,
                             momentum=0.1):
    """(N, C, L) input -> (y, mean (C,) float64, biased var (C,) float64) from batch stats.
    running_mean and running_var, when given, are updated in place (PyTorch's rule):
    running = (1 - momentum) running + momentum stat, with the unbiased variance."""
    op = "batch_norm"
    expect_ndim(op, "input", x, 3)
    expect_float(op, "input", x)
    n, c, l = x.shape
    if n * l <= 1:
        raise ValueError(f"{op}: expected more than 1 value per channel when training, got "
                         f"input of shape {x.shape}")
    x = np.ascontiguousarray(x)
    w, b = _affine(op, x, weight, bias, c)
    y = np.empty_like(x)
    mean = np.empty(c, np.float64)
    var = np.empty(c, np.float64)
    none = np.empty(0, x.dtype)
    rm = _running(op, "running_mean", running_mean, c, none)
    rv = _running(op, "running_var", running_var, c, none)
    args = (x, w, b, float(eps), y, mean, var, rm, rv, float(momentum))
    _split(lambda lo, hi: _bn_fwd_train(*args, lo, hi), c, x.size)
    for buffer, updated in ((running_mean, rm), (running_var, rv)):
        if buffer is not None and updated is not buffer:
            buffer[...] = updated
    return y, mean, var


def batch_norm_forward_eval(x, weight, bias, mean, var, eps):
    """(N, C, L) input normalised with given (running) statistics -> y."""
    op = "batch_norm"
    expect_ndim(op, "input", x, 3)
    expect_float(op, "input", x)
    c = x.shape[1]
    for name, a in (("running_mean", mean), ("running_var", var)):
        if a.shape != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},), got {a.shape}")
    x = np.ascontiguousarray(x)
    w, b = _affine(op, x, weight, bias, c)
    invstd = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    scale = (w * invstd).astype(x.dtype)
    shift = (b - mean.astype(np.float64) * w * invstd).astype(x.dtype)
    y = np.empty_like(x)
    _split(lambda lo, hi: _channel_affine(x, scale, shift, y, lo, hi), c, x.size)
    return y


def batch_norm_backward(grad_y, x, weight, mean, invstd, training, need_input=True,
                        out=None):
    """Gradients (grad_x or None, grad_w, grad_b) of batch norm over (N, C, L), given the
    statistics used in forward (float64 mean and 1/sqrt(var + eps)). With `training` the
    statistics depend on x (batch stats); otherwise they are constants (running stats).
    grad_x is written into `out` when given (see `_gradient_output`)."""
    op = "batch_norm_backward"
    expect_ndim(op, "grad_y", grad_y, 3)
    x = np.ascontiguousarray(x)
    grad_y = np.ascontiguousarray(grad_y, dtype=x.dtype)
    c = x.shape[1]
    w, _ = _affine(op, x, weight, None, c)
    grad_x = _gradient_output(op, x, out) if need_input else np.empty((1, 1, 1), x.dtype)
    grad_w = np.empty(c, x.dtype)
    grad_b = np.empty(c, x.dtype)
    args = (grad_y, x, w, mean, invstd, bool(training), bool(need_input), grad_x, grad_w,
            grad_b)
    _split(lambda lo, hi: _bn_bwd(*args, lo, hi), c, x.size)
    if not need_input:
        return None, grad_w, grad_b
    return (grad_x if out is None else out), grad_w, grad_b


def layer_norm_forward(x, weight, bias, eps):
    """(M, D) rows normalised over D -> (y, mean (M,) float64, invstd (M,) float64)."""
    op = "layer_norm"
    expect_ndim(op, "input", x, 2)
    expect_float(op, "input", x)
    x = np.ascontiguousarray(x)
    m, d = x.shape
    w, b = _affine(op, x, weight, bias, d)
    y = np.empty_like(x)
    mean = np.empty(m, np.float64)
    invstd = np.empty(m, np.float64)
    eps = float(eps)
    _split(lambda lo, hi: _ln_fwd(x, w, b, eps, y, mean, invstd, lo, hi), m, x.size)
    return y, mean, invstd


def layer_norm_backward(grad_y, x, weight, mean, invstd, need_input=True, out=None):
    """Gradients (grad_x or None, grad_w (D,), grad_b (D,)) of layer_norm over (M, D); grad_x
    is written into `out` when given."""
    op = "layer_norm_backward"
    x = np.ascontiguousarray(x)
    grad_y = np.ascontiguousarray(grad_y, dtype=x.dtype)
    m, d = x.shape
    w, _ = _affine(op, x, weight, None, d)
    grad_x = _gradient_output(op, x, out) if need_input else np.empty((1, 1), x.dtype)
    need_input = bool(need_input)

    def rows(lo, hi):
        part_w = np.zeros(d, np.float64)        # per-range partial sums: no shared slot
        part_b = np.zeros(d, np.float64)
        _ln_bwd(grad_y, x, w, mean, invstd, need_input, grad_x, part_w, part_b, lo, hi)
        return part_w, part_b

    parts = _split(rows, m, x.size)
    grad_w = sum(p for p, _ in parts).astype(x.dtype)
    grad_b = sum(p for _, p in parts).astype(x.dtype)
    if not need_input:
        return None, grad_w, grad_b
    return (grad_x if out is None else out), grad_w, grad_b


def group_norm_forward(x, groups, weight, bias, eps):
    """(N, C, L) normalised over each of G channel groups -> (y, mean (N, G), invstd (N, G))."""
    op = "group_norm"
    expect_ndim(op, "input", x, 3)
    expect_float(op, "input", x)
    n, c, l = x.shape
    if groups < 1 or c % groups:
        raise ValueError(f"{op}: num_groups {groups} must divide the {c} channels")
    x = np.ascontiguousarray(x)
    w, b = _affine(op, x, weight, bias, c)
    y = np.empty_like(x)
    mean = np.empty((n, groups), np.float64)
    invstd = np.empty((n, groups), np.float64)
    eps = float(eps)
    _split(lambda lo, hi: _gn_fwd(x, w, b, eps, y, mean, invstd, lo, hi), n * groups, x.size)
    return y, mean, invstd


def group_norm_backward(grad_y, x, weight, mean, invstd, need_input=True, out=None):
    """Gradients (grad_x or None, grad_w (C,), grad_b (C,)) of group_norm over (N, C, L);
    grad_x is written into `out` when given."""
    op = "group_norm_backward"
    x = np.ascontiguousarray(x)
    grad_y = np.ascontiguousarray(grad_y, dtype=x.dtype)
    n, c, l = x.shape
    w, _ = _affine(op, x, weight, None, c)
    grad_x = _gradient_output(op, x, out) if need_input else np.empty((1, 1, 1), x.dtype)
    part_w = np.empty((n, c), np.float64)
    part_b = np.empty((n, c), np.float64)
    tasks = mean.size
    args = (grad_y, x, w, mean, invstd, bool(need_input), grad_x, part_w, part_b)
    _split(lambda lo, hi: _gn_bwd(*args, lo, hi), tasks, x.size)
    grad_w = part_w.sum(axis=0).astype(x.dtype)
    grad_b = part_b.sum(axis=0).astype(x.dtype)
    if not need_input:
        return None, grad_w, grad_b
    return (grad_x if out is None else out), grad_w, grad_b


def dropout2d_forward(x, scale, out=None):
    """(N, C, L) input times a per-channel (N, C) scale (mask / (1 - p)), written into `out`
    when given; also the backward."""
    op = "dropout2d"
    expect_ndim(op, "input", x, 3)
    x = np.ascontiguousarray(x)
    scale = np.ascontiguousarray(scale, dtype=x.dtype)
    if scale.shape != x.shape[:2]:
        raise ValueError(f"{op}: scale {scale.shape} must be (N, C) of input {x.shape}")
    y = _gradient_output(op, x, out)
    _split(lambda lo, hi: _channel_scale(x, scale, y, lo, hi), x.shape[0] * x.shape[1], x.size)
    return y if out is None else out


dropout2d_backward = dropout2d_forward


# One pass for the statistics and one for y, the second from cache: N32 C64 32x32 float32,
# one thread, 0.71 ms (a numpy copy of the same 8 MB: 0.58 ms), against 0.86 ms for a
# two-pass variance.
@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _bn_fwd_train(x, w, b, eps, y, mean, var, running_mean, running_var, momentum, c0, c1):
    n, _, l = x.shape
    count = n * l
    keep = 1.0 - momentum
    for c in range(c0, c1):
        origin = np.float64(x[0, c, 0])
        s = 0.0
        q = 0.0
        for i in range(n):
            for k in range(l):
                d = x[i, c, k] - origin
                s += d
                q += d * d
        ds = s / count
        v = max(q / count - ds * ds, 0.0)
        mu = origin + ds
        mean[c] = mu
        var[c] = v
        if running_mean.size:
            running_mean[c] = keep * running_mean[c] + momentum * mu
        if running_var.size:
            running_var[c] = keep * running_var[c] + momentum * (v * count / (count - 1))
        inv = 1.0 / np.sqrt(v + eps)
        scale = x.dtype.type(w[c] * inv)
        shift = x.dtype.type(b[c] - mu * w[c] * inv)
        for i in range(n):
            for k in range(l):
                y[i, c, k] = x[i, c, k] * scale + shift


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _channel_affine(x, scale, shift, y, c0, c1):
    n, _, l = x.shape
    for c in range(c0, c1):
        s = scale[c]
        t = shift[c]
        for i in range(n):
            for k in range(l):
                y[i, c, k] = x[i, c, k] * s + t


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _bn_bwd(gy, x, w, mean, invstd, training, need_input, gx, gw, gb, c0, c1):
    n, _, l = x.shape
    count = n * l
    for c in range(c0, c1):
        mu = mean[c]
        sg = 0.0
        sgx = 0.0
        for i in range(n):
            for k in range(l):
                g = gy[i, c, k]
                sg += g
                sgx += g * (x[i, c, k] - mu)
        inv = invstd[c]
        gw[c] = sgx * inv
        gb[c] = sg
        if not need_input:
            continue
        k1 = w[c] * inv
        if training:
            a = sg / count
            bc = sgx * inv * inv / count
            ca = x.dtype.type(k1)
            cb = x.dtype.type(-k1 * bc)
            cc = x.dtype.type(k1 * (bc * mu - a))
        else:
            ca = x.dtype.type(k1)
            cb = x.dtype.type(0.0)
            cc = x.dtype.type(0.0)
        for i in range(n):
            for k in range(l):
                gx[i, c, k] = gy[i, c, k] * ca + x[i, c, k] * cb + cc


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _ln_fwd(x, w, b, eps, y, mean, invstd, r0, r1):
    d = x.shape[1]
    for r in range(r0, r1):
        s = 0.0
        for k in range(d):
            s += x[r, k]
        mu = s / d
        v = 0.0
        for k in range(d):
            e = x[r, k] - mu
            v += e * e
        inv = 1.0 / np.sqrt(v / d + eps)
        mean[r] = mu
        invstd[r] = inv
        m = x.dtype.type(mu)
        i = x.dtype.type(inv)
        for k in range(d):
            y[r, k] = (x[r, k] - m) * i * w[k] + b[k]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _ln_bwd(gy, x, w, mean, invstd, need_input, gx, part_w, part_b, r0, r1):
    d = x.shape[1]
    for r in range(r0, r1):
        mu = mean[r]
        inv = invstd[r]
        s1 = 0.0
        s2 = 0.0
        for k in range(d):
            g = gy[r, k]
            xh = (x[r, k] - mu) * inv
            part_w[k] += g * xh
            part_b[k] += g
            gw = g * w[k]
            s1 += gw
            s2 += gw * xh
        if not need_input:
            continue
        a = x.dtype.type(s1 / d)
        bc = x.dtype.type(s2 / d)
        m = x.dtype.type(mu)
        i = x.dtype.type(inv)
        for k in range(d):
            xh = (x[r, k] - m) * i
            gx[r, k] = i * (gy[r, k] * w[k] - a - xh * bc)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _gn_fwd(x, w, b, eps, y, mean, invstd, t0, t1):
    n, c, l = x.shape
    groups = mean.shape[1]
    cg = c // groups
    count = cg * l
    for t in range(t0, t1):
        i = t // groups
        g = t % groups
        s = 0.0
        for ch in range(g * cg, (g + 1) * cg):
            for k in range(l):
                s += x[i, ch, k]
        mu = s / count
        v = 0.0
        for ch in range(g * cg, (g + 1) * cg):
            for k in range(l):
                e = x[i, ch, k] - mu
                v += e * e
        inv = 1.0 / np.sqrt(v / count + eps)
        mean[i, g] = mu
        invstd[i, g] = inv
        for ch in range(g * cg, (g + 1) * cg):
            scale = x.dtype.type(w[ch] * inv)
            shift = x.dtype.type(b[ch] - mu * w[ch] * inv)
            for k in range(l):
                y[i, ch, k] = x[i, ch, k] * scale + shift


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _gn_bwd(gy, x, w, mean, invstd, need_input, gx, part_w, part_b, t0, t1):
    n, c, l = x.shape
    groups = mean.shape[1]
    cg = c // groups
    count = cg * l
    for t in range(t0, t1):
        i = t // groups
        g = t % groups
        mu = mean[i, g]
        inv = invstd[i, g]
        s1 = 0.0
        s2 = 0.0
        for ch in range(g * cg, (g + 1) * cg):
            sg = 0.0
            sgx = 0.0
            for k in range(l):
                v = gy[i, ch, k]
                sg += v
                sgx += v * (x[i, ch, k] - mu)
            part_b[i, ch] = sg
            part_w[i, ch] = sgx * inv
            s1 += sg * w[ch]
            s2 += sgx * inv * w[ch]
        if not need_input:
            continue
        a = s1 / count
        bc = s2 / count * inv
        for ch in range(g * cg, (g + 1) * cg):
            # grad_x = inv (g w - a - xhat bc) = g (w inv) + x (-inv bc inv) + const
            ca = x.dtype.type(w[ch] * inv)
            cb = x.dtype.type(-inv * bc)
            cc = x.dtype.type(inv * (bc * mu - a))
            for k in range(l):
                gx[i, ch, k] = gy[i, ch, k] * ca + x[i, ch, k] * cb + cc


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_REASSOC)
def _channel_scale(x, scale, y, t0, t1):
    c = x.shape[1]
    l = x.shape[2]
    for t in range(t0, t1):
        i = t // c
        ch = t % c
        s = scale[i, ch]
        for k in range(l):
            y[i, ch, k] = x[i, ch, k] * s
