"""Optimizer update rules, each one fused loop over a parameter, in place on the flat arrays.

The arithmetic follows PyTorch's single-tensor implementations operation by operation (the
same order of additions and products), so float64 trajectories agree with `torch.optim` to
rounding. g is the gradient (negated first when `maximize`), p the parameter, wd weight decay:

SGD        g += wd p;  buf = g (first step) or momentum buf + (1 - dampening) g;
           g = g + momentum buf (nesterov) or buf;  p -= lr g
Adam       g += wd p (or p *= 1 - lr wd when decoupled: AdamW);  m = lerp(m, g, 1 - beta1);
           v = beta2 v + (1 - beta2) g g;  vmax = max(vmax, v) (amsgrad);
           p -= (lr / (1 - beta1^t)) m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
Adagrad    g += wd p;  s += g g;  p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)
RMSprop    g += wd p;  v = alpha v + (1 - alpha) g g;  centered: a = lerp(a, g, 1 - alpha),
           d = sqrt(v - a a) + eps, else d = sqrt(v) + eps;
           momentum: buf = momentum buf + g / d, p -= lr buf;  else p -= lr g / d
Adadelta   g += wd p;  v = rho v + (1 - rho) g g;  delta = sqrt(u + eps) / sqrt(v + eps) g;
           u = rho u + (1 - rho) delta delta;  p -= lr delta
lerp(a, b, w) is PyTorch's: w (b - a) + a for w < 0.5, else (w - 1)(b - a) + b.
PyTorch's CPU kernels contract `a + alpha b` (add with alpha, lerp, addcmul) into one fused
multiply-add, so these loops do too (`_fma`); addcdiv's division stays separate.

Row-sparse gradients (an embedding table's touched rows) have their own SGD and Adagrad loops
that visit only those rows.
"""
import numpy as np
from numba import njit

from kernels import _fastmath as fm
from kernels._checks import FLOAT_DTYPES

# The updates are serial: they stream 4-7 arrays with a few flops per element, so they are
# bound by memory, and a second thread did not help (Adam, float32, 2 threads: 100k elements
# 55 us serial against 70 us; 1M elements 575 us against 607 us).


# The loops are written branch-free where a flag only selects a constant (maximize multiplies
# by -1, an absent weight decay adds 0 p, an absent decoupled decay multiplies by 1: all exact)
# and split at the top where a flag changes which arrays are touched: a loop with several
# run-time branches stays scalar (Adam on 100k float32: 240 us branchy, 55 us vectorized).
# A loop must run from 0: one from a variable start does not vectorize (the index could be
# negative, which numpy-style indexing wraps around).

@njit(cache=True, error_model="numpy")
def _sgd_loop(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
    dt = p.dtype.type
    neg_lr = dt(-lr)
    mom = dt(momentum)
    keep = dt(1.0 - dampening)
    wd = dt(weight_decay)
    sign = dt(-1.0) if maximize else dt(1.0)
    if momentum == 0.0:
        for k in range(p.size):
            x = p[k]
            p[k] = fm.fma(neg_lr, fm.fma(wd, x, g[k] * sign), x)
    elif first:
        for k in range(p.size):
            x = p[k]
            d = fm.fma(wd, x, g[k] * sign)
            buf[k] = d
            p[k] = fm.fma(neg_lr, fm.fma(mom, d, d) if nesterov else d, x)
    else:
        for k in range(p.size):
            x = p[k]
            d = fm.fma(wd, x, g[k] * sign)
            b = fm.fma(keep, d, buf[k] * mom)
            buf[k] = b
            p[k] = fm.fma(neg_lr, fm.fma(mom, b, d) if nesterov else b, x)


@njit(cache=True, error_model="numpy")
def _adam_loop(p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad,
               maximize, step_size, bias2_sqrt):
    dt = p.dtype.type
    w1 = 1.0 - beta1
    from_start = w1 < 0.5          # PyTorch's lerp: the form that stays near its nearer end
    c1 = dt(w1 if from_start else w1 - 1.0)
    b2 = dt(beta2)
    w2 = dt(1.0 - beta2)
    e = dt(eps)
    wd = dt(0.0 if decoupled else weight_decay)
    decay = dt(1.0 - lr * weight_decay if decoupled else 1.0)
    neg_step = dt(-step_size)
    root = dt(bias2_sqrt)
    sign = dt(-1.0) if maximize else dt(1.0)
    if amsgrad:
        for k in range(p.size):
            x = p[k] * decay
            d = fm.fma(wd, x, g[k] * sign)
            mk = m[k]
            mk = fm.fma(c1, d - mk, mk if from_start else d)
            vk = fm.fma(w2 * d, d, v[k] * b2)
            top = vmax[k]
            top = vk if (vk > top or vk != vk) else top
            m[k] = mk
            v[k] = vk
            vmax[k] = top
            p[k] = x + neg_step * mk / (np.sqrt(top) / root + e)
    else:
        for k in range(p.size):
            x = p[k] * decay
            d = fm.fma(wd, x, g[k] * sign)
            mk = m[k]
            mk = fm.fma(c1, d - mk, mk if from_start else d)
            vk = fm.fma(w2 * d, d, v[k] * b2)
            m[k] = mk
            v[k] = vk
            p[k] = x + neg_step * mk / (np.sqrt(vk) / root + e)


@njit(cache=True, error_model="numpy")
def _adagrad_loop(p, g, s, clr, eps, weight_decay, maximize):
    dt = p.dtype.type
    neg_clr = dt(-clr)
    e = dt(eps)
    wd = dt(weight_decay)
    sign = dt(-1.0) if maximize else dt(1.0)
    for k in range(p.size):
        x = p[k]
        d = fm.fma(wd, x, g[k] * sign)
        sk = fm.fma(d, d, s[k])
        s[k] = sk
        p[k] = x + neg_clr * d / (np.sqrt(sk) + e)


@njit(cache=True, error_model="numpy")
def _rmsprop_loop(p, g, v, avg, buf, lr, alpha, eps, weight_decay, momentum, centered,
                  maximize):
    dt = p.dtype.type
    a = dt(alpha)
    w = dt(1.0 - alpha)
    from_start = 1.0 - alpha < 0.5
    c = dt(1.0 - alpha if from_start else -alpha)
    e = dt(eps)
    wd = dt(weight_decay)
    mom = dt(momentum)
    neg_lr = dt(-lr)
    minus_one = dt(-1.0)
    sign = dt(-1.0) if maximize else dt(1.0)
    for k in range(p.size):
        x = p[k]
        d = fm.fma(wd, x, g[k] * sign)
        vk = fm.fma(w * d, d, v[k] * a)
        v[k] = vk
        if centered:
            ak = avg[k]
            ak = fm.fma(c, d - ak, ak if from_start else d)
            avg[k] = ak
            denom = np.sqrt(fm.fma(minus_one * ak, ak, vk)) + e
        else:
            denom = np.sqrt(vk) + e
        if momentum > 0.0:
            bk = buf[k] * mom + d / denom
            buf[k] = bk
            p[k] = fm.fma(neg_lr, bk, x)
        else:
            p[k] = x + neg_lr * d / denom


@njit(cache=True, error_model="numpy")
def _adadelta_loop(p, g, v, u, lr, rho, eps, weight_decay, maximize):
    dt = p.dtype.type
    r = dt(rho)
    w = dt(1.0 - rho)
    e = dt(eps)
    wd = dt(weight_decay)
    neg_lr = dt(-lr)
    sign = dt(-1.0) if maximize else dt(1.0)
    for k in range(p.size):
        x = p[k]
        d = fm.fma(wd, x, g[k] * sign)
        vk = fm.fma(w * d, d, v[k] * r)
        v[k] = vk
        delta = np.sqrt(u[k] + e) / np.sqrt(vk + e) * d
        u[k] = fm.fma(w * delta, delta, u[k] * r)
        p[k] = fm.fma(neg_lr, delta, x)


@njit(cache=True, error_model="numpy")
def _sgd_sparse_rows(table, indices, rows, lr):
    """table[indices[k]] -= lr rows[k] (repeated indices accumulate)."""
    neg_lr = table.dtype.type(-lr)
    for k in range(indices.shape[0]):
        target = table[indices[k]]
        source = rows[k]
        for j in range(source.shape[0]):
            target[j] = fm.fma(neg_lr, source[j], target[j])


@njit(cache=True, error_model="numpy")
def _adagrad_sparse_rows(table, s, indices, rows, clr, eps):
    """Adagrad on the rows of a coalesced row-sparse gradient (unique indices)."""
    dt = table.dtype.type
    neg_clr = dt(-clr)
    e = dt(eps)
    for k in range(indices.shape[0]):
        target = table[indices[k]]
        acc = s[indices[k]]
        source = rows[k]
        for j in range(source.shape[0]):
            d = source[j]
            sk = fm.fma(d, d, acc[j])
            acc[j] = sk
            target[j] = target[j] + neg_clr * d / (np.sqrt(sk) + e)


def _check(op, p, g, *state):
    """Flat views for a kernel: the parameter and its state in place, the gradient in the
    parameter's dtype."""
    if p.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: parameters must be float32 or float64, got {p.dtype}")
    if g.shape != p.shape:
        raise ValueError(f"{op}: gradient of shape {g.shape} for a parameter of shape "
                         f"{p.shape}")
    for s in state:
        if s.shape != p.shape or s.dtype != p.dtype or not s.flags.c_contiguous:
            raise ValueError(f"{op}: state of {s.dtype}{s.shape} does not match the "
                             f"parameter {p.dtype}{p.shape}")
    if not p.flags.c_contiguous:
        raise ValueError(f"{op}: the parameter must be C-contiguous to be updated in place")
    if g.dtype != p.dtype:
        g = g.astype(p.dtype)
    return p.reshape(-1), (g.reshape(-1) if g.flags.c_contiguous else g.ravel())


def sgd_update_(p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False, first=False):
    """One SGD step on parameter `p` in place; `buf` (p's shape) is the momentum buffer,
    written from scratch when `first` (unused without momentum)."""
    buf = buf if buf is not None else np.empty(0, p.dtype)
    state = (buf,) if momentum != 0.0 else ()
    pf, gf = _check("SGD", p, g, *state)
    _sgd_loop(pf, gf, buf.reshape(-1), float(lr), float(momentum), float(dampening),
              float(weight_decay), bool(nesterov), bool(maximize), bool(first))


def adam_update_(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay=0.0,
                 decoupled=False, amsgrad=False, maximize=False):
    """One Adam (AdamW when `decoupled`) step in place on `p`, `m`, `v` (and `vmax` with
    amsgrad); `step` counts this step (1 on the first)."""
    state = (m, v, vmax) if amsgrad else (m, v)
    pf, gf = _check("Adam", p, g, *state)
    bias1 = 1 - beta1 ** step
    bias2 = 1 - beta2 ** step
    step_size = lr / bias1
    bias2_sqrt = bias2 ** 0.5
    vmf = vmax.reshape(-1) if amsgrad else m.reshape(-1)
    _adam_loop(pf, gf, m.reshape(-1), v.reshape(-1), vmf, float(lr), float(beta1),
               float(beta2), float(eps), float(weight_decay), bool(decoupled), bool(amsgrad),
               bool(maximize), float(step_size), float(bias2_sqrt))


def adagrad_update_(p, g, s, step, lr, lr_decay=0.0, eps=1e-10, weight_decay=0.0,
                    maximize=False):
    """One Adagrad step in place on `p` and the squared-gradient sum `s`."""
    pf, gf = _check("Adagrad", p, g, s)
    clr = lr / (1 + (step - 1) * lr_decay)
    _adagrad_loop(pf, gf, s.reshape(-1), float(clr), float(eps), float(weight_decay),
                  bool(maximize))


def rmsprop_update_(p, g, v, avg, buf, lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                    momentum=0.0, centered=False, maximize=False):
    """One RMSprop step in place on `p`, the square average `v`, the gradient average `avg`
    (centered) and the momentum buffer `buf` (momentum > 0)."""
    state = (v,) + ((avg,) if centered else ()) + ((buf,) if momentum > 0 else ())
    pf, gf = _check("RMSprop", p, g, *state)
    vf = v.reshape(-1)
    _rmsprop_loop(pf, gf, vf, avg.reshape(-1) if centered else vf,
                  buf.reshape(-1) if momentum > 0 else vf, float(lr), float(alpha), float(eps),
                  float(weight_decay), float(momentum), bool(centered), bool(maximize))


def adadelta_update_(p, g, v, u, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    """One Adadelta step in place on `p`, the square average `v` and the delta average `u`."""
    pf, gf = _check("Adadelta", p, g, v, u)
    _adadelta_loop(pf, gf, v.reshape(-1), u.reshape(-1), float(lr), float(rho), float(eps),
                   float(weight_decay), bool(maximize))


def _rows_view(op, table, indices, rows):
    if table.ndim < 1 or not table.flags.c_contiguous:
        raise ValueError(f"{op}: a row-sparse update needs a C-contiguous table, got shape "
                         f"{table.shape}")
    width = int(np.prod(table.shape[1:], dtype=np.int64))
    rows = np.ascontiguousarray(rows, dtype=table.dtype).reshape(-1, width)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    if rows.shape[0] != indices.shape[0]:
        raise ValueError(f"{op}: {indices.shape[0]} row indices for {rows.shape[0]} rows")
    if indices.size and (indices.min() < 0 or indices.max() >= table.shape[0]):
        raise IndexError(f"{op}: row indices must lie in [0, {table.shape[0]}), got min "
                         f"{indices.min()}, max {indices.max()}")
    return table.reshape(table.shape[0], width), indices, rows


def sgd_sparse_update_(p, indices, rows, lr):
    """Plain SGD from a row-sparse gradient: p[indices[k]] -= lr rows[k]."""
    table, indices, rows = _rows_view("SGD", p, indices, rows)
    _sgd_sparse_rows(table, indices, rows, float(lr))


def adagrad_sparse_update_(p, s, indices, rows, step, lr, lr_decay=0.0, eps=1e-10):
    """Adagrad from a coalesced row-sparse gradient (unique indices): only those rows of `p`
    and `s` change."""
    table, indices, rows = _rows_view("Adagrad", p, indices, rows)
    clr = lr / (1 + (step - 1) * lr_decay)
    _adagrad_sparse_rows(table, s.reshape(table.shape), indices, rows, float(clr), float(eps))
