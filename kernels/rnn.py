"""Recurrent cells and whole-sequence recurrences (LSTM, GRU, Elman RNN) in PyTorch's layouts.

Weights follow PyTorch: w_ih (G H, I), w_hh (G H, H), b_ih and b_hh (G H,), with the gate
blocks stacked in PyTorch's order (G = 4 for LSTM: i, f, g, o; G = 3 for GRU: r, z, n;
G = 1 for the RNN). Matrix products go to numpy's BLAS; the gate nonlinearities and the state
update of one step run as one fused jitted kernel.

Forward, with a = x w_ih^T + h w_hh^T + b_ih + b_hh split into gate blocks:
    LSTM  i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g)
          c' = f c + i g,  h' = o tanh(c')
    GRU   r, z = sigmoid(ax_r + ah_r, ax_z + ah_z),  n = tanh(ax_n + r hn)
          with ax = x w_ih^T + b_ih, ah = h w_hh^T + b_hh, hn = ah_n
          h' = (1 - z) n + z h
    RNN   h' = tanh(a) or relu(a)
Backward of one step, given grad_h' (and grad_c' for LSTM):
    LSTM  dc = grad_c' + grad_h' o (1 - tanh(c')^2)
          da_i = dc g i (1 - i), da_f = dc c f (1 - f), da_g = dc i (1 - g^2),
          da_o = grad_h' tanh(c') o (1 - o),  grad_c = dc f
    GRU   dn = grad_h' (1 - z) (1 - n^2),  dz = grad_h' (h - n) z (1 - z),
          dr = dn hn r (1 - r);  d(ax) = (dr, dz, dn),  d(ah) = (dr, dz, dn r),
          grad_h = grad_h' z + d(ah) w_hh
    RNN   da = grad_h' (1 - h'^2) or grad_h' [h' > 0]
and, for every cell, grad_h += da w_hh, grad_x = da w_ih, grad_w_ih = da^T x,
grad_w_hh = da^T h, grad_b = sum of da over the batch (the GRU's b_hh takes d(ah)).

Whole sequences run on PyTorch's packed layout: the rows of time step t are a contiguous block
of `batch_sizes[t]` rows, the batch sorted by decreasing length, so step t only updates the
rows still running (a padded batch is the case batch_sizes = [N] * T). `reverse` runs the
steps from the last to the first; a sequence then starts from the initial state at its own
last element, as PyTorch's reverse direction does. The input projection for all steps is one
GEMM before the loop and the weight gradients are one GEMM each after it.

Kernels are serial: one step is at most a few 10k elements, where a prange call costs more than
it saves (PERF.md: fused LSTM-cell backward 15 us serial against 65 us parallel). A large
enough sequence instead splits its batch between the cores (`_batch_parts`): each part is an
independent recurrence with its own single-threaded GEMMs and step kernels. Each loop
touches two or three arrays so LLVM vectorizes it; float32 gates use a vectorizable rational
tanh (below), float64 the accurate forms of `_fastmath` (libm).
"""
import weakref

import numpy as np
from numba import njit, types
from numba.extending import overload

from kernels import _fastmath as fm
from kernels._checks import expect_float
from kernels._runtime import WORKERS, get_num_threads

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


# Gate nonlinearities. float32 gates use a clamped odd/even rational tanh (XNNPACK's 9/6
# form: at most 8.3 ulp, 5e-7 absolute, measured against float64 over [-20, 20]) and
# sigmoid(x) = (1 + tanh(x/2)) / 2 (3e-7 absolute; it returns 0 below x = -17, which a gate
# does not notice). Measured on 32k float32 elements: tanh 9.6 us against 17 us for
# `_fastmath.tanh` (an exp and a division), sigmoid 11.5 us against 23 us; the LSTM forward
# step (B32 H256) went from 34 us to 20 us. float64 keeps the accurate `_fastmath` forms
# (libm), which the gradcheck sees.

_f = np.float32
_TANH_CLAMP = _f(7.623543739319)        # the rational is exactly +-1 from here on
_TA1, _TA3, _TA5 = _f(-9.022999554873e-03), _f(-1.146968104877e-03), _f(-2.432360815874e-05)
_TA7, _TA9 = _f(-6.458659385089e-08), _f(5.535878699892e-11)
_TB0, _TB2 = _f(-9.023001417518e-03), _f(-4.154618829489e-03)
_TB4, _TB6 = _f(-2.061512641376e-04), _f(-1.774490101525e-06)
_HALF = _f(0.5)


def _tanh_rational_f32(x):
    x = _TANH_CLAMP if _TANH_CLAMP < x else x        # comparisons let NaN through
    x = -_TANH_CLAMP if x < -_TANH_CLAMP else x
    x2 = x * x
    p = x * (_TA1 + x2 * (_TA3 + x2 * (_TA5 + x2 * (_TA7 + x2 * _TA9))))
    q = _TB0 + x2 * (_TB2 + x2 * (_TB4 + x2 * _TB6))
    return p / q


def _sigmoid_rational_f32(x):
    return _HALF * _gate_tanh(_HALF * x) + _HALF


def _gate_tanh(x):
    return np.tanh(x)


def _gate_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _by_dtype(float32_impl, float64_impl):
    def typer(x):
        if x == types.float32:
            return float32_impl
        if x == types.float64:
            return float64_impl
        return None
    return typer


overload(_gate_tanh, inline="always")(_by_dtype(_tanh_rational_f32, lambda x: fm.tanh(x)))
overload(_gate_sigmoid, inline="always")(_by_dtype(_sigmoid_rational_f32,
                                                  lambda x: fm.sigmoid(x)))


# Gate blocks are addressed as (B, G, H) views whose inner loops all start at 0: a loop over a
# slice at an offset (a[r, 2 * H + j]) kept LLVM from vectorizing it (LSTM forward step,
# B32 H256: 108 us against 33 us).

@njit(cache=True, nogil=True, error_model="numpy")
def _save_rows(src, dst):
    for r in range(dst.shape[0]):
        d = dst[r]
        v = src[r]
        for j in range(d.shape[0]):
            d[j] = v[j]


@njit(cache=True, nogil=True, error_model="numpy")
def _lstm_step_forward(a, hw, bias, h, c, h_prev, c_prev, tanh_c, out):
    """One step for the B rows of a block. a (B, 4, H) holds x w_ih^T on entry and the
    activated gates on exit; hw (B, 4, H) is h w_hh^T and bias (4, H) the summed biases.
    The running state h, c (B, H) is saved to h_prev, c_prev, then replaced by the new one;
    tanh_c and out (= h) receive tanh(c') and h'."""
    hid = c.shape[1]
    _save_rows(h, h_prev)
    _save_rows(c, c_prev)
    for r in range(a.shape[0]):
        for k in range(4):
            ak = a[r, k]
            hk = hw[r, k]
            bk = bias[k]
            for j in range(hid):
                ak[j] = ak[j] + hk[j] + bk[j]
        ai = a[r, 0]
        af = a[r, 1]
        ag = a[r, 2]
        ao = a[r, 3]
        for j in range(hid):
            ai[j] = _gate_sigmoid(ai[j])
        for j in range(hid):
            af[j] = _gate_sigmoid(af[j])
        for j in range(hid):
            ag[j] = _gate_tanh(ag[j])
        for j in range(hid):
            ao[j] = _gate_sigmoid(ao[j])
        cr = c[r]
        cp = c_prev[r]
        for j in range(hid):
            cr[j] = af[j] * cp[j] + ai[j] * ag[j]
        tr = tanh_c[r]
        for j in range(hid):
            tr[j] = _gate_tanh(cr[j])
        o = out[r]
        for j in range(hid):
            o[j] = ao[j] * tr[j]
    _save_rows(out, h)


@njit(cache=True, nogil=True, error_model="numpy")
def _lstm_step_backward(a, c_prev, tanh_c, grad_out, grad_h, grad_c, grad_a):
    """a and grad_a (B, 4, H). grad_h and grad_c (B, H) enter as the gradients of h' and c'
    from the later steps (grad_h gains grad_out, unless that is empty) and grad_c leaves as
    the gradient of c_prev."""
    hid = c_prev.shape[1]
    one = a.dtype.type(1.0)
    has_out = grad_out.shape[0] > 0
    for r in range(a.shape[0]):
        ai = a[r, 0]
        af = a[r, 1]
        ag = a[r, 2]
        ao = a[r, 3]
        dh = grad_h[r]
        if has_out:
            go = grad_out[r]
            for j in range(hid):
                dh[j] += go[j]
        tr = tanh_c[r]
        dc = grad_c[r]
        for j in range(hid):
            dc[j] += dh[j] * ao[j] * (one - tr[j] * tr[j])
        gi = grad_a[r, 0]
        for j in range(hid):
            gi[j] = dc[j] * ag[j] * ai[j] * (one - ai[j])
        cp = c_prev[r]
        gf = grad_a[r, 1]
        for j in range(hid):
            gf[j] = dc[j] * cp[j] * af[j] * (one - af[j])
        gg = grad_a[r, 2]
        for j in range(hid):
            gg[j] = dc[j] * ai[j] * (one - ag[j] * ag[j])
        go_ = grad_a[r, 3]
        for j in range(hid):
            go_[j] = dh[j] * tr[j] * ao[j] * (one - ao[j])
        for j in range(hid):
            dc[j] *= af[j]


@njit(cache=True, nogil=True, error_model="numpy")
def _gru_step_forward(a, hw, b_ih, b_hh, h, h_prev, hn, out):
    """One step for the B rows of a block. a (B, 3, H) holds x w_ih^T on entry and the
    activated gates r, z, n on exit; hw (B, 3, H) is h w_hh^T, b_ih and b_hh (3, H). The
    running state h (B, H) is saved to h_prev, then replaced by h' (also written to out);
    hn (B, H) receives h w_hn^T + b_hn (needed by the backward)."""
    hid = h.shape[1]
    _save_rows(h, h_prev)
    for r in range(a.shape[0]):
        for k in range(2):
            ak = a[r, k]
            hk = hw[r, k]
            bi = b_ih[k]
            bh = b_hh[k]
            for j in range(hid):
                ak[j] = ak[j] + bi[j] + (hk[j] + bh[j])
        ar = a[r, 0]
        az = a[r, 1]
        an = a[r, 2]
        for j in range(hid):
            ar[j] = _gate_sigmoid(ar[j])
        for j in range(hid):
            az[j] = _gate_sigmoid(az[j])
        nr = hn[r]
        hk = hw[r, 2]
        bh = b_hh[2]
        for j in range(hid):
            nr[j] = hk[j] + bh[j]
        bi = b_ih[2]
        for j in range(hid):
            an[j] = an[j] + bi[j] + ar[j] * nr[j]
        for j in range(hid):
            an[j] = _gate_tanh(an[j])
        hp = h_prev[r]
        o = out[r]
        for j in range(hid):
            o[j] = an[j] + az[j] * (hp[j] - an[j])
    _save_rows(out, h)


@njit(cache=True, nogil=True, error_model="numpy")
def _gru_step_backward(a, hn, h_prev, grad_out, grad_h, grad_ax, grad_ah):
    """a, grad_ax, grad_ah (B, 3, H). grad_h (B, H) enters as the gradient of h' from the
    later steps and leaves as the direct part grad_h' z of the gradient of h_prev (the caller
    adds grad_ah w_hh)."""
    hid = h_prev.shape[1]
    one = a.dtype.type(1.0)
    has_out = grad_out.shape[0] > 0
    for r in range(a.shape[0]):
        ar = a[r, 0]
        az = a[r, 1]
        an = a[r, 2]
        dh = grad_h[r]
        if has_out:
            go = grad_out[r]
            for j in range(hid):
                dh[j] += go[j]
        gn = grad_ax[r, 2]
        for j in range(hid):
            gn[j] = dh[j] * (one - az[j]) * (one - an[j] * an[j])
        hp = h_prev[r]
        gz = grad_ax[r, 1]
        for j in range(hid):
            gz[j] = dh[j] * (hp[j] - an[j]) * az[j] * (one - az[j])
        nr = hn[r]
        gr = grad_ax[r, 0]
        for j in range(hid):
            gr[j] = gn[j] * nr[j] * ar[j] * (one - ar[j])
        hr = grad_ah[r, 0]
        for j in range(hid):
            hr[j] = gr[j]
        hz = grad_ah[r, 1]
        for j in range(hid):
            hz[j] = gz[j]
        hnn = grad_ah[r, 2]
        for j in range(hid):
            hnn[j] = gn[j] * ar[j]
        for j in range(hid):
            dh[j] *= az[j]


@njit(cache=True, nogil=True, error_model="numpy")
def _rnn_step_forward(a, hw, bias, relu, h, h_prev, out):
    """One step for the B rows of a block: h' = tanh or relu (a + hw + bias); the running
    state h is saved to h_prev, then replaced by h' (also written to out)."""
    hid = h.shape[1]
    zero = a.dtype.type(0.0)
    _save_rows(h, h_prev)
    for r in range(a.shape[0]):
        ar = a[r]
        hr = hw[r]
        o = out[r]
        if relu:
            for j in range(hid):
                v = ar[j] + hr[j] + bias[j]
                o[j] = v if v > zero else zero
        else:
            for j in range(hid):
                o[j] = ar[j] + hr[j] + bias[j]
            for j in range(hid):
                o[j] = _gate_tanh(o[j])
    _save_rows(out, h)


@njit(cache=True, nogil=True, error_model="numpy")
def _rnn_step_backward(h, relu, grad_out, grad_h, grad_a):
    hid = h.shape[1]
    zero = h.dtype.type(0.0)
    one = h.dtype.type(1.0)
    has_out = grad_out.shape[0] > 0
    for r in range(h.shape[0]):
        dh = grad_h[r]
        if has_out:
            go = grad_out[r]
            for j in range(hid):
                dh[j] += go[j]
        hr = h[r]
        ga = grad_a[r]
        if relu:
            for j in range(hid):
                ga[j] = dh[j] if hr[j] > zero else zero
        else:
            for j in range(hid):
                ga[j] = dh[j] * (one - hr[j] * hr[j])


def _check_cell(op, x, h, w_ih, w_hh, b_ih, b_hh, gates):
    expect_float(op, "input", x)
    if x.ndim != 2:
        raise ValueError(f"{op}: input must be 2-D (N, I), got shape {x.shape}")
    n, inp = x.shape
    if w_ih.ndim != 2 or w_ih.shape[0] % gates or w_ih.shape[1] != inp:
        raise ValueError(f"{op}: w_ih must have shape ({gates} * H, {inp}), got {w_ih.shape}")
    hid = w_ih.shape[0] // gates
    _check_weights(op, x.dtype, hid, gates, w_ih, w_hh, b_ih, b_hh)
    if h is not None:
        _check_state(op, "hx", h, x.dtype, (n, hid))
    return hid


def _check_weights(op, dtype, hid, gates, w_ih, w_hh, b_ih, b_hh):
    if w_hh.shape != (gates * hid, hid):
        raise ValueError(f"{op}: w_hh must have shape ({gates * hid}, {hid}), "
                         f"got {w_hh.shape}")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and b.shape != (gates * hid,):
            raise ValueError(f"{op}: {name} must have shape ({gates * hid},), got {b.shape}")
    for name, w in (("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)):
        if w is not None and w.dtype != dtype:
            raise TypeError(f"{op}: {name} must have the input's dtype {dtype}, got {w.dtype}")


def _check_state(op, name, s, dtype, shape):
    if s.shape != tuple(shape):
        raise ValueError(f"{op}: {name} must have shape {tuple(shape)}, got {s.shape}")
    if s.dtype != dtype:
        raise TypeError(f"{op}: {name} must have the input's dtype {dtype}, got {s.dtype}")


def _c(a):
    return np.ascontiguousarray(a)


def _bias_sum(b_ih, b_hh, size, dtype):
    if b_ih is None and b_hh is None:
        return np.zeros(size, dtype)
    if b_ih is None:
        return _c(b_hh)
    if b_hh is None:
        return _c(b_ih)
    return b_ih + b_hh


def _bias_or_zeros(b, size, dtype):
    return np.zeros(size, dtype) if b is None else _c(b)


_EMPTY = {}


def _empty(dtype):
    """A (0, 0) array: the 'no output gradient' marker of the step kernels."""
    e = _EMPTY.get(dtype)
    if e is None:
        e = _EMPTY[dtype] = np.empty((0, 0), dtype)
    return e


# The LSTM cell works on the transposed layout: gates (4, H, N), states (H, N). The products
# w_ih x^T and w_hh h^T (4H, N), the orientation OpenBLAS runs fastest at a cell's shapes
# (B32 I128 H256, one thread: w_hh h^T 139 us against 152 us for h w_hh^T), go to the kernel
# as they come, neither summed nor transposed first; the weight gradients ga^T x and ga^T h
# take the gate gradients as the kernel leaves them, and the bias gradient sums contiguous
# rows. One step, forward: 292 us against 316 us for the row layout, one thread.

@njit(cache=True, nogil=True, error_model="numpy")
def _lstm_cell_forward_t(a, hw, bias, c_t, c_new_t, tanh_c, h_new_t):
    """a and hw (4, H, N) are w_ih x^T and w_hh h^T; a receives the activated gates. bias
    (4, H); c_t (H, N) the cell state; c_new_t, tanh_c and h_new_t (H, N) receive c',
    tanh(c') and h'."""
    hid = a.shape[1]
    n = a.shape[2]
    for k in range(4):
        for j in range(hid):
            ak = a[k, j]
            hk = hw[k, j]
            b = bias[k, j]
            if k == 2:
                for r in range(n):
                    ak[r] = _gate_tanh(ak[r] + hk[r] + b)
            else:
                for r in range(n):
                    ak[r] = _gate_sigmoid(ak[r] + hk[r] + b)
    for j in range(hid):
        ai = a[0, j]
        af = a[1, j]
        ag = a[2, j]
        ao = a[3, j]
        cp = c_t[j]
        cn = c_new_t[j]
        for r in range(n):
            cn[r] = af[r] * cp[r] + ai[r] * ag[r]
        tr = tanh_c[j]
        for r in range(n):
            tr[r] = _gate_tanh(cn[r])
        hr = h_new_t[j]
        for r in range(n):
            hr[r] = ao[r] * tr[r]


@njit(cache=True, nogil=True, error_model="numpy")
def _lstm_cell_backward_t(a, c_t, tanh_c, dh, dc, grad_a, grad_b):
    """a and grad_a (4, H, N), c_t, tanh_c, dh and dc (H, N); dc enters as the gradient of c'
    and leaves as that of c; grad_b (4, H) receives the sums of grad_a over the batch (numpy
    takes 21 us for these 1024 short rows, the loop 5 us)."""
    hid = a.shape[1]
    n = a.shape[2]
    one = a.dtype.type(1.0)
    for j in range(hid):
        ai = a[0, j]
        af = a[1, j]
        ag = a[2, j]
        ao = a[3, j]
        tr = tanh_c[j]
        dhr = dh[j]
        dcr = dc[j]
        for r in range(n):
            dcr[r] += dhr[r] * ao[r] * (one - tr[r] * tr[r])
        gi = grad_a[0, j]
        for r in range(n):
            gi[r] = dcr[r] * ag[r] * ai[r] * (one - ai[r])
        cp = c_t[j]
        gf = grad_a[1, j]
        for r in range(n):
            gf[r] = dcr[r] * cp[r] * af[r] * (one - af[r])
        gg = grad_a[2, j]
        for r in range(n):
            gg[r] = dcr[r] * ai[r] * (one - ag[r] * ag[r])
        go = grad_a[3, j]
        for r in range(n):
            go[r] = dhr[r] * tr[r] * ao[r] * (one - ao[r])
        for r in range(n):
            dcr[r] *= af[r]
        for k in range(4):
            gk = grad_a[k, j]
            total = gk[0] - gk[0]
            for r in range(n):
                total += gk[r]
            grad_b[k, j] = total


def _transposed(a):
    """a^T as a new C-contiguous array."""
    return np.ascontiguousarray(a.T)


def lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step. x (N, I), h and c (N, H) -> (h', c', gates, tanh(c')); gates (4H, N)
    activated and tanh(c') (H, N) are transposed, as `lstm_cell_backward` takes them."""
    hid = _check_cell("lstm_cell", x, h, w_ih, w_hh, b_ih, b_hh, 4)
    _check_state("lstm_cell", "cx", c, x.dtype, h.shape)
    n = x.shape[0]
    a = np.matmul(w_ih, x.T)
    hw = np.matmul(w_hh, h.T)
    bias = _bias_sum(b_ih, b_hh, 4 * hid, x.dtype)
    state = np.empty((3, hid, n), x.dtype)          # c', tanh(c'), h' transposed
    _lstm_cell_forward_t(a.reshape(4, hid, n), hw.reshape(4, hid, n), bias.reshape(4, hid),
                         _transposed(c), state[0], state[1], state[2])
    return _transposed(state[2]), _transposed(state[0]), a, state[1]


def lstm_cell_backward(x, h, c, w_ih, w_hh, gates, tanh_c, grad_h, grad_c, need_x=True,
                       need_h=True, need_w=True):
    """Gradients of one LSTM step from those of h' and c' (either may be None):
    (grad_x, grad_h, grad_c, grad_w_ih, grad_w_hh, grad_b), None where not needed."""
    n, hid = c.shape
    dtype = c.dtype
    dh = np.zeros((hid, n), dtype) if grad_h is None else _transposed(grad_h.astype(dtype))
    dc = np.zeros((hid, n), dtype) if grad_c is None else _transposed(grad_c.astype(dtype))
    grad_a = np.empty(gates.shape, dtype)             # (4H, N)
    grad_b = np.empty(4 * hid, dtype)
    _lstm_cell_backward_t(gates.reshape(4, hid, n), _transposed(c), tanh_c, dh, dc,
                          grad_a.reshape(4, hid, n), grad_b.reshape(4, hid))
    grad_x = np.matmul(grad_a.T, w_ih) if need_x else None
    grad_h = np.matmul(grad_a.T, w_hh) if need_h else None
    if not need_w:
        return grad_x, grad_h, _transposed(dc), None, None, None
    return (grad_x, grad_h, _transposed(dc), np.matmul(grad_a, x), np.matmul(grad_a, h),
            grad_b)


def gru_cell_forward(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step. x (N, I), h (N, H) -> (h', gates r, z, n (N, 3H), hn (N, H))."""
    hid = _check_cell("gru_cell", x, h, w_ih, w_hh, b_ih, b_hh, 3)
    n = x.shape[0]
    a = _projection(w_ih, x)
    hw = _projection(w_hh, h)
    state = np.array(h, x.dtype)                  # the kernel replaces it by h'
    saved = np.empty_like(state)
    hn = np.empty(h.shape, x.dtype)
    h_new = np.empty(h.shape, x.dtype)
    _gru_step_forward(a.reshape(n, 3, hid), hw.reshape(n, 3, hid),
                      _bias_or_zeros(b_ih, 3 * hid, x.dtype).reshape(3, hid),
                      _bias_or_zeros(b_hh, 3 * hid, x.dtype).reshape(3, hid), state, saved, hn,
                      h_new)
    return h_new, a, hn


def gru_cell_backward(x, h, w_ih, w_hh, gates, hn, grad_h, need_x=True, need_h=True,
                      need_w=True):
    """Gradients of one GRU step from that of h':
    (grad_x, grad_h, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh), None where not needed."""
    n, hid = h.shape
    direct = np.array(grad_h, h.dtype)
    grad_ax = np.empty(gates.shape, h.dtype)
    grad_ah = np.empty(gates.shape, h.dtype)
    _gru_step_backward(gates.reshape(n, 3, hid), hn, _c(h), _empty(h.dtype), direct,
                       grad_ax.reshape(n, 3, hid), grad_ah.reshape(n, 3, hid))
    grad_x, grad_h, grad_w_ih, grad_w_hh = _cell_products(x, h, w_ih, w_hh, grad_ax, grad_ah,
                                                          need_x, need_h, need_w)
    if need_h:
        grad_h += direct
    if not need_w:
        return grad_x, grad_h, None, None, None, None
    return grad_x, grad_h, grad_w_ih, grad_w_hh, grad_ax.sum(axis=0), grad_ah.sum(axis=0)


def rnn_cell_forward(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman step, h' = tanh or relu (x w_ih^T + b_ih + h w_hh^T + b_hh); (N, H)."""
    relu = _nonlinearity("rnn_cell", nonlinearity)
    hid = _check_cell("rnn_cell", x, h, w_ih, w_hh, b_ih, b_hh, 1)
    a = _projection(w_ih, x, w_hh, h)
    hw = _zeros(a.shape, x.dtype)
    state = np.array(h, x.dtype)                  # the kernel replaces it by h'
    saved = np.empty_like(state)
    h_new = np.empty(h.shape, x.dtype)
    _rnn_step_forward(a, hw, _bias_sum(b_ih, b_hh, hid, x.dtype), relu, state, saved, h_new)
    return h_new


def rnn_cell_backward(x, h, w_ih, w_hh, h_new, grad_h, nonlinearity="tanh", need_x=True,
                      need_h=True, need_w=True):
    """Gradients of one Elman step from its output h' and the gradient of h':
    (grad_x, grad_h, grad_w_ih, grad_w_hh, grad_b), None where not needed."""
    relu = _nonlinearity("rnn_cell", nonlinearity)
    grad_a = np.empty(h_new.shape, h_new.dtype)
    _rnn_step_backward(h_new, relu, _empty(h_new.dtype), np.array(grad_h, h_new.dtype),
                       grad_a)
    return (*_cell_products(x, h, w_ih, w_hh, grad_a, grad_a, need_x, need_h, need_w),
            grad_a.sum(axis=0) if need_w else None)


def _cell_products(x, h, w_ih, w_hh, grad_ax, grad_ah, need_x, need_h, need_w):
    """grad_x = grad_ax w_ih, grad_h = grad_ah w_hh, grad_w_ih = grad_ax^T x,
    grad_w_hh = grad_ah^T h (None where not needed)."""
    grad_x = np.matmul(grad_ax, w_ih) if need_x else None
    grad_h = np.matmul(grad_ah, w_hh) if need_h else None
    if not need_w:
        return grad_x, grad_h, None, None
    return grad_x, grad_h, np.matmul(grad_ax.T, x), np.matmul(grad_ah.T, h)


def _projection(w, x, w2=None, x2=None):
    """x w^T (+ x2 w2^T) as a C-contiguous (N, G H) array. OpenBLAS is faster on w x^T than
    on x w^T for a cell's shapes (B32: 68 against 105 us for I128, 130 against 205 us for
    H256), so the product is taken that way round and the small result transposed."""
    out = np.matmul(w, x.T)
    if w2 is not None:
        out += np.matmul(w2, x2.T)
    return np.ascontiguousarray(out.T)


_ZEROS = {}


def _zeros(shape, dtype):
    """A shared zero array, never written: a step kernel's hw when the cell already summed
    both projections."""
    key = (shape, np.dtype(dtype))
    z = _ZEROS.get(key)
    if z is None:
        if len(_ZEROS) > 64:
            _ZEROS.clear()
        z = _ZEROS[key] = np.zeros(shape, dtype)
    return z


def _nonlinearity(op, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{op}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity == "relu"


def check_batch_sizes(op, batch_sizes, rows):
    """batch_sizes: int64 (T,), positive, non-increasing, summing to the packed row count."""
    batch_sizes = np.asarray(batch_sizes)
    if batch_sizes.ndim != 1 or batch_sizes.dtype.kind not in "iu":
        raise TypeError(f"{op}: batch_sizes must be a 1-D integer array, got "
                        f"{batch_sizes.dtype} of shape {batch_sizes.shape}")
    if batch_sizes.size == 0 or batch_sizes.min() < 1 or np.any(np.diff(batch_sizes) > 0):
        raise ValueError(f"{op}: batch_sizes must be positive and non-increasing, got "
                         f"{batch_sizes.tolist()}")
    if int(batch_sizes.sum()) != rows:
        raise ValueError(f"{op}: batch_sizes sum to {int(batch_sizes.sum())}, but the packed "
                         f"input has {rows} rows")
    return batch_sizes.astype(np.int64)


def packed_layout(op, lengths, steps, batch, batch_first, perm=None):
    """The packed layout of a padded batch of `batch` sequences of `lengths` (N,) int64 in
    [1, steps]: (index, batch_sizes, perm). index (R,) gives, for every packed row, its row in
    the padded batch flattened to (T N, ...) (or (N T, ...) when batch_first); batch_sizes
    (max length,) counts the sequences still running at each step; perm (N,) lists the batch
    in the packed order, by decreasing length (ties keep their order) unless given."""
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,):
        raise ValueError(f"{op}: lengths must have shape ({batch},) (one per sequence), got "
                         f"{lengths.shape}")
    if lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(f"{op}: lengths must be in [1, {steps}] (the padded length), got "
                         f"min {lengths.min()}, max {lengths.max()}")
    if perm is None:
        perm = np.argsort(-lengths, kind="stable").astype(np.int64)
    ordered = lengths[perm]
    if np.any(np.diff(ordered) > 0):
        raise ValueError(f"{op}: sorted_indices do not order the lengths decreasingly")
    valid = ordered[None, :] > np.arange(int(ordered[0]))[:, None]
    t, k = np.nonzero(valid)
    index = perm[k] * steps + t if batch_first else t * batch + perm[k]
    return index.astype(np.int64), valid.sum(axis=1).astype(np.int64), perm


def _steps(batch_sizes, reverse):
    """(first row, end row, rows) of every time step, in the order the recurrence visits
    them."""
    ends = np.cumsum(batch_sizes).tolist()
    sizes = batch_sizes.tolist()
    steps = [(end - b, end, b) for end, b in zip(ends, sizes)]
    return steps[::-1] if reverse else steps


class _Workspace:
    """Recycled buffers for the sequence kernels' internal arrays (projections, saved states,
    gate gradients). Fresh multi-megabyte arrays cost a page fault per 4 KB on first touch:
    T35 B32 H256 LSTM fwd+bwd took 33.4 ms of CPU with fresh arrays, 29.6 ms recycled. Arrays
    come back through `give` when their owner is done with them; at most `limit` bytes wait."""

    def __init__(self, limit=256 << 20):
        self.limit = limit
        self.bytes = 0
        self.free = {}

    def take(self, shape, dtype):
        try:
            a = self.free[(shape, dtype)].pop()
        except (KeyError, IndexError):
            return np.empty(shape, dtype)
        self.bytes -= a.nbytes
        return a

    def give(self, *arrays):
        for a in arrays:
            if a is not None and self.bytes + a.nbytes <= self.limit:
                self.free.setdefault((a.shape, a.dtype), []).append(a)
                self.bytes += a.nbytes


_WORKSPACE = _Workspace()


class _Saved:
    """What the backward of one sequence direction needs. Its internal buffers return to the
    workspace when it is garbage (after the backward, or at once when no tape records)."""

    __slots__ = ("mode", "x", "a", "h_prev", "c_prev", "tanh_c", "hn", "out", "batch_sizes",
                 "reverse", "w_ih", "w_hh", "parts", "__weakref__")

    def __init__(self, **fields):
        for k in self.__slots__[:-1]:
            setattr(self, k, fields.get(k))
        weakref.finalize(self, _WORKSPACE.give, self.a, self.h_prev, self.c_prev, self.tanh_c,
                         self.hn)


# The recurrence of a whole sequence runs as independent recurrences over parts of the batch,
# one per core, each with single-threaded BLAS (`WORKERS`), once a step's h w_hh^T has this
# many multiply-adds. A step's GEMM is small (B32 H256 LSTM: 8.4M multiply-adds) and costs
# about as much for 16 rows on one thread as for 32 rows on two (95 us against 94 us, most of
# it packing w_hh), so the split leaves the GEMMs as they were and runs the step kernels of
# the two halves at once; the cores also stop waiting for each other at every step (on a
# busy machine the T35 B32 H256 LSTM recurrence took 13.4 ms with two-thread GEMMs, 9.0 ms
# split; median sequence forward 38 ms against 91 ms). Below ~4M multiply-adds a step (the
# Elman RNN at B32 H256: 2M) the Python side of every step, run by both threads under one
# GIL, ate the gain (T35 forward: 3.6 ms split, 2.2 ms serial).
_SPLIT_MIN_MACS = 1 << 22
_SPLIT_MIN_ROWS = 4


def _batch_parts(batch_sizes, gates, hid):
    """Ranges [p0, p1) of packed batch positions whose recurrences run in parallel, with
    about the same number of rows each (the batch is sorted by decreasing length)."""
    batch = int(batch_sizes[0])
    parts = min(get_num_threads(), batch // _SPLIT_MIN_ROWS)
    if parts < 2 or batch * gates * hid * hid < _SPLIT_MIN_MACS:
        return [(0, batch)]
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    cum = np.cumsum(lengths)
    cuts = [0]
    for k in range(1, parts):
        cut = int(np.searchsorted(cum, cum[-1] * k / parts)) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), batch - (parts - k)))
    cuts.append(batch)
    return list(zip(cuts[:-1], cuts[1:]))


def _matmul(a, b, out=None):
    """a @ b (2-D), its rows split between the cores, each share on single-threaded BLAS
    (`WORKERS`), once it is large enough, so that a sequence op never wakes OpenBLAS's own
    threads: they keep spinning for a while after a multi-threaded call and then took a core
    from the batch parts that follow (T35 B32 LSTM forward with split recurrence: 9.9 ms right
    after two-thread GEMMs, 6.5 ms without them). On a quiet machine the split product is
    a little slower than OpenBLAS's two threads (T35 B32 x w_ih^T: 1.25 against 1.0 ms); when
    another process holds a core, OpenBLAS's threads wait for each other at every block (the
    same product took 7.5-8 ms) where the shares meet once."""
    rows = a.shape[0]
    if out is None:
        out = np.empty((rows, b.shape[1]), np.result_type(a, b))
    parts = min(get_num_threads(), rows // _SPLIT_MIN_ROWS)
    if parts < 2 or rows * a.shape[1] * b.shape[1] < _SPLIT_MIN_MACS * 16:
        return np.matmul(a, b, out=out)
    cuts = [k * rows // parts for k in range(parts + 1)]

    def share(lo, hi):
        np.matmul(a[lo:hi], b, out=out[lo:hi])
    WORKERS.run(share, list(zip(cuts[:-1], cuts[1:])))
    return out


def _part_steps(steps, p0, p1):
    """(first row, end row, running rows) of batch positions [p0, p1) at every step of
    `steps` where any of them runs."""
    out = []
    for lo, _, b in steps:
        n = min(b, p1) - p0
        if n > 0:
            out.append((lo + p0, lo + p0 + n, n))
    return out


def _run_parts(fn, parts):
    """fn(p0, p1) for every part, in parallel when there are several: a list of the results
    of each part, stacked along the batch (each result is a tuple of (rows, H) arrays)."""
    results = WORKERS.run(fn, parts)
    if len(results) == 1:
        return results[0]
    return tuple(np.concatenate(col) for col in zip(*results))


def rnn_sequence_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse=False):
    """Run one direction of an LSTM/GRU/RNN over a packed sequence.

    x (R, I) packed rows, h0 and c0 (N, H) in the packed (sorted) batch order, N =
    batch_sizes[0]; c0 only for "lstm". mode is "lstm", "gru", "rnn_tanh" or "rnn_relu".
    Returns (out (R, H), h_n (N, H), c_n (N, H) or None, saved), `saved` being what
    `rnn_sequence_backward` needs."""
    op = mode if mode == "lstm" or mode == "gru" else "rnn"
    gates = _GATES[mode]
    expect_float(op, "input", x)
    if x.ndim != 2 or w_ih.ndim != 2 or w_ih.shape[1] != x.shape[1] or w_ih.shape[0] % gates:
        raise ValueError(f"{op}: packed input (R, I) and w_ih ({gates} * H, I) do not fit: "
                         f"{x.shape} and {w_ih.shape}")
    hid = w_ih.shape[0] // gates
    dtype = x.dtype
    _check_weights(op, dtype, hid, gates, w_ih, w_hh, b_ih, b_hh)
    batch = int(batch_sizes[0])
    _check_state(op, "h0", h0, dtype, (batch, hid))
    if mode == "lstm":
        _check_state(op, "c0", c0, dtype, (batch, hid))
    x = _c(x)
    rows = x.shape[0]
    take = _WORKSPACE.take
    # the input projection of every step at once; the step kernels overwrite it in place with
    # the activated gates, which is what the backward needs
    a = _matmul(x, w_ih.T, out=take((rows, gates * hid), dtype))
    a3 = a.reshape(rows, gates, hid)
    w_hh_t = _c(w_hh.T)          # (H, G H): 100 us per B32 H256 step against 140 us for w_hh.T
    h_prev = take((rows, hid), dtype)
    out = take((rows, hid), dtype)           # handed to the caller: taken, never given back
    steps = _steps(batch_sizes, reverse)
    parts = _batch_parts(batch_sizes, gates, hid)
    fields = dict(mode=mode, x=x, a=a, h_prev=h_prev, batch_sizes=batch_sizes, reverse=reverse,
                  w_ih=w_ih, w_hh=w_hh, parts=parts)
    if mode == "lstm":
        bias = _bias_sum(b_ih, b_hh, gates * hid, dtype).reshape(gates, hid)
        c_prev = take((rows, hid), dtype)
        tanh_c = take((rows, hid), dtype)

        def run(p0, p1):
            h = np.array(h0[p0:p1], dtype)
            c = np.array(c0[p0:p1], dtype)
            hw3 = np.empty((p1 - p0, gates, hid), dtype)
            hw = hw3.reshape(p1 - p0, gates * hid)
            for r0, r1, n in _part_steps(steps, p0, p1):
                np.matmul(h[:n], w_hh_t, out=hw[:n])
                _lstm_step_forward(a3[r0:r1], hw3[:n], bias, h[:n], c[:n], h_prev[r0:r1],
                                   c_prev[r0:r1], tanh_c[r0:r1], out[r0:r1])
            return h, c
        h, c = _run_parts(run, parts)
        return out, h, c, _Saved(c_prev=c_prev, tanh_c=tanh_c, **fields)
    if mode == "gru":
        bi = _bias_or_zeros(b_ih, gates * hid, dtype).reshape(gates, hid)
        bh = _bias_or_zeros(b_hh, gates * hid, dtype).reshape(gates, hid)
        hn = take((rows, hid), dtype)

        def run(p0, p1):
            h = np.array(h0[p0:p1], dtype)
            hw3 = np.empty((p1 - p0, gates, hid), dtype)
            hw = hw3.reshape(p1 - p0, gates * hid)
            for r0, r1, n in _part_steps(steps, p0, p1):
                np.matmul(h[:n], w_hh_t, out=hw[:n])
                _gru_step_forward(a3[r0:r1], hw3[:n], bi, bh, h[:n], h_prev[r0:r1],
                                  hn[r0:r1], out[r0:r1])
            return (h,)
        (h,) = _run_parts(run, parts)
        return out, h, None, _Saved(hn=hn, **fields)
    relu = mode == "rnn_relu"
    bias = _bias_sum(b_ih, b_hh, hid, dtype)

    def run(p0, p1):
        h = np.array(h0[p0:p1], dtype)
        hw = np.empty((p1 - p0, hid), dtype)
        for r0, r1, n in _part_steps(steps, p0, p1):
            np.matmul(h[:n], w_hh_t, out=hw[:n])
            _rnn_step_forward(a[r0:r1], hw[:n], bias, relu, h[:n], h_prev[r0:r1], out[r0:r1])
        return (h,)
    (h,) = _run_parts(run, parts)
    return out, h, None, _Saved(out=out, **fields)


def rnn_sequence_backward(saved, grad_out, grad_hn, grad_cn, need_x=True, need_w=True):
    """BPTT for `rnn_sequence_forward`: from the gradients of out (R, H), h_n and c_n (N, H)
    (any may be None) to (grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_b_ih,
    grad_b_hh); grad_c0 is None except for LSTM, grad_x None unless `need_x`, the weight
    gradients None unless `need_w`."""
    mode = saved.mode
    a = saved.a
    h_prev = saved.h_prev
    batch_sizes = saved.batch_sizes
    w_hh = saved.w_hh
    dtype = a.dtype
    rows, hid = h_prev.shape
    gates = _GATES[mode]
    steps = _steps(batch_sizes, not saved.reverse)
    if grad_out is not None:
        grad_out = _c(grad_out.astype(dtype, copy=False))
    empty = _empty(dtype)

    def state(g, p0, p1):
        return np.zeros((p1 - p0, hid), dtype) if g is None else np.array(g[p0:p1], dtype)

    grad_a = _WORKSPACE.take(a.shape, dtype)
    a3 = a.reshape(rows, gates, hid)
    ga3 = grad_a.reshape(rows, gates, hid)
    grad_c0 = None
    grad_ah = grad_a
    if mode == "lstm":
        c_prev = saved.c_prev
        tanh_c = saved.tanh_c

        def run(p0, p1):
            dh = state(grad_hn, p0, p1)
            dc = state(grad_cn, p0, p1)
            for r0, r1, n in _part_steps(steps, p0, p1):
                go = empty if grad_out is None else grad_out[r0:r1]
                _lstm_step_backward(a3[r0:r1], c_prev[r0:r1], tanh_c[r0:r1], go, dh[:n],
                                    dc[:n], ga3[r0:r1])
                np.matmul(grad_a[r0:r1], w_hh, out=dh[:n])
            return dh, dc
        dh, grad_c0 = _run_parts(run, saved.parts)
    elif mode == "gru":
        hn = saved.hn
        grad_ah = _WORKSPACE.take(a.shape, dtype)
        gh3 = grad_ah.reshape(rows, gates, hid)

        def run(p0, p1):
            dh = state(grad_hn, p0, p1)
            tmp = np.empty((p1 - p0, hid), dtype)
            for r0, r1, n in _part_steps(steps, p0, p1):
                go = empty if grad_out is None else grad_out[r0:r1]
                _gru_step_backward(a3[r0:r1], hn[r0:r1], h_prev[r0:r1], go, dh[:n],
                                   ga3[r0:r1], gh3[r0:r1])
                np.matmul(grad_ah[r0:r1], w_hh, out=tmp[:n])
                dh[:n] += tmp[:n]
            return (dh,)
        (dh,) = _run_parts(run, saved.parts)
    else:
        relu = mode == "rnn_relu"
        out = saved.out

        def run(p0, p1):
            dh = state(grad_hn, p0, p1)
            for r0, r1, n in _part_steps(steps, p0, p1):
                go = empty if grad_out is None else grad_out[r0:r1]
                _rnn_step_backward(out[r0:r1], relu, go, dh[:n], grad_a[r0:r1])
                np.matmul(grad_a[r0:r1], w_hh, out=dh[:n])
            return (dh,)
        (dh,) = _run_parts(run, saved.parts)
    grad_x = _matmul(grad_a, saved.w_ih) if need_x else None
    grads = (None, None, None, None)
    if need_w:
        grad_b_ih = grad_a.sum(axis=0)
        grads = (_matmul(grad_a.T, saved.x), _matmul(grad_ah.T, h_prev), grad_b_ih,
                 grad_b_ih if grad_ah is grad_a else grad_ah.sum(axis=0))
    _WORKSPACE.give(grad_a, None if grad_ah is grad_a else grad_ah)
    return (grad_x, dh, grad_c0, *grads)
