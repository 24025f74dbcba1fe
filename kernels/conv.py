"""2-D convolution and transposed convolution (1-D runs as 2-D with H = 1).

Shapes: x (N, C, H, W), w (Co, C/G, KH, KW), y (N, Co, OH, OW), G groups; stride (sh, sw),
padding (top, bottom, left, right), dilation (dh, dw). The output size is
OH = (H + top + bottom - dh (KH - 1) - 1) // sh + 1 (likewise OW).

forward:          y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x[n, gc, i sh - top + p dh,
                                                                      j sw - left + q dw]
backward input:   grad_x = the transposed convolution of grad_y with w (scatter of W^T grad_y)
backward weight:  grad_w[o, c, p, q] = sum_{n, i, j} grad_y[n, o, i, j] x[n, gc, ...]
backward bias:    grad_b[o] = sum_{n, i, j} grad_y[n, o, i, j]
conv_transpose2d is the backward-input of a convolution, and its backward-input is a
convolution.

Implementation: im2col + GEMM over batch chunks. `cols` holds, for a chunk of B samples, one
row per (c, p, q) and one column per (sample, output pixel): (C KH KW, B OH OW), so a chunk is
one GEMM W (Co, C KH KW) @ cols per group with B OH OW columns (a per-sample GEMM would have
only 64 at LeNet's conv2). A padded copy of the chunk makes im2col and col2im branch-free
copies (2x faster than bounds checks on LeNet shapes). The GEMM result is in (Co, B OH OW)
order; a Numba pass moves it into NCHW adding the bias. The backward reorders grad_y once per
chunk (summing the bias gradient on the way) and feeds both GEMMs from it; col2im scatters the
input gradient back plane by plane. Work arrays are per-thread and reused across calls.
Matrix products are numpy (BLAS) calls outside jitted code.

Threading: the batch is split between worker threads, each running its share's chunks with
single-threaded BLAS and nogil Numba loops (OpenBLAS is set to one thread for the duration).
No OpenMP pool and no BLAS pool then compete for the cores (PERF.md: a 20x slowdown when they
do). Measured on 2 cores: the ResNet-block GEMM 64x576x1024 runs at 123-135 GFLOP/s on one
thread, the shares are independent, and on a loaded machine (load average 9) this layout kept
the LeNet conv2 backward at 4 ms where BLAS's own threads took 50-300 ms. Without access to
OpenBLAS's thread count (another BLAS build) the batch runs as one share with BLAS's threads.
"""
import threading

import numpy as np
from numba import njit

from kernels._checks import expect_float, expect_ndim, expect_same_dtype
from kernels._runtime import NUM_THREADS, WORKERS, blas_thread_controls_available

# Elements of `cols` per batch chunk of one worker: large enough that each GEMM has thousands
# of columns, small enough that cols stays in the core's cache between im2col and the GEMM.
CHUNK_ELEMENTS = 1 << 19
# Multiply-adds below which a call runs in the calling thread (a worker hand-off costs
# ~20-50 us).
PARALLEL_MIN_MACS = 1 << 21


_SCRATCH = threading.local()


def _scratch(name, shape, dtype):
    """A work array of the calling thread, reused across calls: fresh memory costs a page
    fault per 4 KiB on first touch (measured: an 8 MB array written fresh 3.3 ms, reused
    0.7 ms). Never returned to a caller; its contents are garbage."""
    arrays = getattr(_SCRATCH, "arrays", None)
    if arrays is None:
        arrays = _SCRATCH.arrays = {}
    size = 1
    for d in shape:
        size *= d
    key = (name, np.dtype(dtype))
    buf = arrays.get(key)
    if buf is None or buf.size < size:
        buf = arrays[key] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def _chunk_source(x, n0, nb, g):
    """Samples n0 .. n0 + nb of x, zero-padded into a scratch array when the convolution
    pads (so im2col reads without bounds checks)."""
    if not g.padded:
        return x[n0:n0 + nb]
    xp = _scratch("padded", (nb, g.c, g.hp, g.wp), x.dtype)
    _pad_chunk(x, xp, n0, g.pt, g.pl)
    return xp


def _shares(n, macs):
    """Contiguous batch ranges, one per worker (a single range for small calls)."""
    parts = min(n, NUM_THREADS)
    if parts < 2 or macs < PARALLEL_MIN_MACS or not blas_thread_controls_available():
        return [(0, n)]
    return [(k * n // parts, (k + 1) * n // parts) for k in range(parts)]


class _Geometry:
    """Sizes of one convolution (forward direction: x -> y)."""

    __slots__ = ("n", "c", "h", "w", "co", "cg", "kh", "kw", "sh", "sw", "pt", "pl", "dh",
                 "dw", "oh", "ow", "groups", "rows", "pixels", "hp", "wp", "padded")

    def __init__(self, x_shape, w_shape, stride, padding, dilation, groups, oh, ow):
        self.n, self.c, self.h, self.w = x_shape
        self.co, self.cg, self.kh, self.kw = w_shape
        self.sh, self.sw = stride
        self.pt, self.pl = padding[0], padding[2]
        self.dh, self.dw = dilation
        self.oh, self.ow = oh, ow
        self.groups = groups
        self.rows = self.c * self.kh * self.kw
        self.pixels = oh * ow
        self.hp = self.h + padding[0] + padding[1]
        self.wp = self.w + padding[2] + padding[3]
        self.padded = any(padding)

    def macs(self):
        return self.n * self.co * self.cg * self.kh * self.kw * self.pixels

    def chunk(self, n):
        return max(1, min(n, CHUNK_ELEMENTS // max(self.rows * self.pixels, 1)))

    def taps(self):
        return (self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.oh, self.ow)


def output_size(size, kernel, stride, pad_before, pad_after, dilation):
    """Output length of one spatial axis (floor mode); may be <= 0 for a too-small input."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def _check_conv(op, x, w, bias, groups):
    expect_ndim(op, "input", x, 4)
    expect_ndim(op, "weight", w, 4)
    expect_float(op, "input", x)
    expect_same_dtype(op, input=x, weight=w)
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    if bias is not None:
        expect_same_dtype(op, input=x, bias=bias)
        if bias.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({w.shape[0]},), got {bias.shape}")


def conv2d_forward(x, w, bias, stride, padding, dilation, groups):
    """(N, C, H, W) input, (Co, C/G, KH, KW) weight, optional (Co,) bias -> (N, Co, OH, OW)."""
    op = "conv2d"
    _check_conv(op, x, w, bias, groups)
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    if c != cg * groups:
        raise ValueError(f"{op}: input has {c} channels but weight {w.shape} with groups="
                         f"{groups} expects {cg * groups}")
    if co % groups:
        raise ValueError(f"{op}: out_channels {co} must be divisible by groups {groups}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    oh = output_size(h, kh, stride[0], padding[0], padding[1], dilation[0])
    ow = output_size(wd, kw, stride[1], padding[2], padding[3], dilation[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{op}: input {x.shape[2:]} (padded by {padding}) is smaller than the "
                         f"dilated kernel {(kh, kw)} with dilation {dilation}")
    return _conv_forward(np.ascontiguousarray(x), np.ascontiguousarray(w), bias, stride,
                         padding, dilation, groups, oh, ow)


def _conv_forward(x, w, bias, stride, padding, dilation, groups, oh, ow):
    """Forward with the output size given (conv_transpose2d's backward needs an exact size,
    which may drop the last rows of the natural one)."""
    g = _Geometry(x.shape, w.shape, stride, padding, dilation, groups, oh, ow)
    y = np.empty((g.n, g.co, oh, ow), dtype=x.dtype)
    if g.n == 0 or g.co == 0:
        return y
    b = None if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    if g.cg == 0:
        y[...] = 0 if b is None else b.reshape(1, g.co, 1, 1)
        return y
    w3 = w.reshape(groups, g.co // groups, g.cg * g.kh * g.kw)
    y3 = y.reshape(g.n, g.co, g.pixels)

    def share(lo, hi):
        chunk = g.chunk(hi - lo)
        cols = _scratch("cols", (g.rows, chunk * g.pixels), x.dtype)
        prod = _scratch("prod", (g.co, chunk * g.pixels), x.dtype) if chunk > 1 else None
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            width = nb * g.pixels
            cb = cols[:, :width] if nb < chunk else cols
            _im2col(_chunk_source(x, n0, nb, g), cb, *g.taps())
            c3 = cb.reshape(groups, g.rows // groups, width)
            if nb == 1:
                # one sample: the GEMM writes straight into y[n0], already (Co, OH OW)
                np.matmul(w3, c3, out=y3[n0].reshape(groups, g.co // groups, g.pixels))
                if b is not None:
                    y3[n0] += b[:, None]
                continue
            pb = prod[:, :width] if nb < chunk else prod
            np.matmul(w3, c3, out=pb.reshape(groups, g.co // groups, width))
            _scatter_rows(pb, np.zeros(g.co, x.dtype) if b is None else b, y3, n0, nb)

    WORKERS.run(share, _shares(g.n, g.macs()))
    return y


def conv2d_backward(grad_y, x, w, stride, padding, dilation, groups, need_input=True,
                    need_weight=True, need_bias=True):
    """Gradients (grad_x, grad_w, grad_b) of conv2d; an entry is None when not needed.

    The three come from one sweep over batch chunks: grad_y is reordered once per chunk and
    feeds both GEMMs; im2col of x runs only for the weight gradient. (Keeping the forward's
    cols for it instead was slower: a fresh 3.7 MB array costs more in page faults than
    im2col into a reused one, LeNet step 8.6 against 6.4 ms.)"""
    op = "conv2d"
    _check_conv(op, x, w, None, groups)
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w)
    grad_y = np.ascontiguousarray(grad_y, dtype=x.dtype)
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    if grad_y.ndim != 4 or grad_y.shape[:2] != (n, co):
        raise ValueError(f"{op}: grad_y of shape {grad_y.shape} does not match input {x.shape} "
                         f"and weight {w.shape}")
    return _conv_backward(grad_y, x.shape, x, w, stride, padding, dilation, groups, need_input,
                          need_weight, need_bias)


def _conv_backward(grad_y, x_shape, x, w, stride, padding, dilation, groups, need_input,
                   need_weight, need_bias):
    """Core of the backward; `x` may be None when only the input gradient is needed."""
    oh, ow = grad_y.shape[2:]
    g = _Geometry(x_shape, w.shape, stride, padding, dilation, groups, oh, ow)
    dtype = grad_y.dtype
    grad_x = np.empty(x_shape, dtype) if need_input else None
    grad_w = None
    bias = np.zeros(g.co, np.float64)
    if g.n == 0 or g.co == 0 or g.cg == 0 or g.pixels == 0 or not (need_input or need_weight):
        if grad_x is not None:
            grad_x[...] = 0
        if need_bias and g.n and g.pixels:
            _sum_rows(grad_y.reshape(g.n, g.co, g.pixels), bias)
        grad_w = np.zeros(w.shape, dtype) if need_weight else None
        return grad_x, grad_w, (bias.astype(dtype) if need_bias else None)
    og = g.co // groups
    w3 = w.reshape(groups, og, g.cg * g.kh * g.kw)
    w3t = w3.transpose(0, 2, 1)
    gy3 = grad_y.reshape(g.n, g.co, g.pixels)
    # small weights accumulate transposed, in the faster product's orientation; a large one
    # would cost more to transpose at the end (18 ms for 512 x 4608) than it saves
    flip = og * g.rows // groups <= 1 << 16

    def share(lo, hi):
        # the weight gradient reduces over the chunk's columns: at least ~512 of them, or its
        # GEMM writes a large (C KH KW, Co) product from a short reduction (ResNet's 4x4
        # layers: 20 GFLOP/s with 112 columns)
        chunk = max(g.chunk(hi - lo), min(hi - lo, -(-512 // g.pixels)))
        cols = _scratch("cols", (g.rows, chunk * g.pixels), dtype)
        gyt = _scratch("gyt", (g.co, chunk * g.pixels), dtype) if chunk > 1 else None
        gxp = _scratch("gxp", (chunk, g.c, g.hp, g.wp), dtype) if g.padded and need_input \
            else None
        part_w = None
        if need_weight:
            shape = (groups, g.rows // groups, og) if flip else (groups, og, g.rows // groups)
            part_w = np.empty(shape, dtype)
        part_b = np.zeros(g.co, np.float64)
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            width = nb * g.pixels
            if nb == 1:
                gb = gy3[n0]
                _sum_rows(gy3[n0:n0 + 1], part_b)
            else:
                gb = gyt[:, :width] if nb < chunk else gyt
                _gather_rows(gy3, gb, part_b, n0, nb)
            g3 = gb.reshape(groups, og, width)
            if need_weight:
                cb = cols[:, :width] if nb < chunk else cols
                _im2col(_chunk_source(x, n0, nb, g), cb, *g.taps())
                c3 = cb.reshape(groups, g.rows // groups, width)
                _weight_product(g3, c3, nb, g.pixels, part_w, n0 == lo, flip)
            if need_input:
                cb = cols[:, :width] if nb < chunk else cols
                c3 = cb.reshape(groups, g.rows // groups, width)
                np.matmul(w3t, g3, out=c3)
                if g.padded:
                    _col2im(cb, gxp[:nb], *g.taps())
                    grad_x[n0:n0 + nb] = gxp[:nb, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]
                else:
                    _col2im(cb, grad_x[n0:n0 + nb], *g.taps())
        return part_w, part_b

    parts = WORKERS.run(share, _shares(g.n, g.macs()))
    if need_weight:
        grad_w = parts[0][0]
        for part_w, _ in parts[1:]:
            grad_w += part_w
        if flip:
            grad_w = np.ascontiguousarray(grad_w.transpose(0, 2, 1))
        grad_w = grad_w.reshape(w.shape)
    for _, part_b in parts:
        bias += part_b
    return grad_x, grad_w, (bias.astype(dtype) if need_bias else None)


def _weight_product(g3, c3, nb, pixels, acc, first, flip):
    """acc += the chunk's grad_y @ cols^T per group: acc is (G, Co/G, C KH KW / G), or its
    transpose with `flip`; overwritten instead when `first`.

    Chosen by measurement (single-threaded OpenBLAS): the flipped product cols @ grad_y^T is
    up to 1.6x faster on small weights (LeNet's conv2: 0.28 against 0.44 ms) and equal on
    large ones; with a tiny reduction size (first layers: 25 rows at LeNet's conv1, 27 at a
    3-channel 3x3 stem) one product per sample, summed, is 2-4x faster than one long thin
    product (0.18 against 0.47 ms)."""
    groups, og, width = g3.shape
    rg = c3.shape[1]
    if rg <= 32 and nb > 1:
        g4 = g3.reshape(groups, og, nb, pixels).transpose(0, 2, 1, 3)
        c4 = c3.reshape(groups, rg, nb, pixels).transpose(0, 2, 1, 3)
        if flip:
            product = np.matmul(c4, g4.transpose(0, 1, 3, 2)).sum(axis=1)
        else:
            product = np.matmul(g4, c4.transpose(0, 1, 3, 2)).sum(axis=1)
        if first:
            acc[...] = product
        else:
            acc += product
        return
    a, b = (c3, g3) if flip else (g3, c3)
    if first:
        np.matmul(a, b.transpose(0, 2, 1), out=acc)
    else:
        acc += np.matmul(a, b.transpose(0, 2, 1))


def _im2col(src, cols, kh, kw, sh, sw, dh, dw, oh, ow):
    """im2col of a (B, C, Hp, Wp) padded chunk into cols (C KH KW, B OH OW)."""
    if sh == sw == dh == dw == 1:
        _im2col_unit(src, cols, kh, kw, oh, ow)
    else:
        _im2col_strided(src, cols, kh, kw, sh, sw, dh, dw, oh, ow)


def _col2im(cols, dst, kh, kw, sh, sw, dh, dw, oh, ow):
    """col2im of cols (C KH KW, B OH OW) into a (B, C, Hp, Wp) padded chunk (overwritten)."""
    if sh == sw == dh == dw == 1:
        _col2im_unit(cols, dst, kh, kw, oh, ow)
    else:
        _col2im_strided(cols, dst, kh, kw, sh, sw, dh, dw, oh, ow)


def conv2d_backward_input(grad_y, w, input_shape, stride, padding, dilation, groups):
    """Gradient w.r.t. the (N, C, H, W) input of conv2d (a transposed convolution)."""
    op = "conv2d_backward_input"
    expect_ndim(op, "grad_y", grad_y, 4)
    expect_ndim(op, "weight", w, 4)
    expect_float(op, "grad_y", grad_y)
    expect_same_dtype(op, grad_y=grad_y, weight=w)
    n, c = input_shape[:2]
    if grad_y.shape[:2] != (n, w.shape[0]) or c != w.shape[1] * groups:
        raise ValueError(f"{op}: grad_y {grad_y.shape}, weight {w.shape} and input shape "
                         f"{tuple(input_shape)} do not match (groups={groups})")
    grad_x, _, _ = _conv_backward(np.ascontiguousarray(grad_y), tuple(input_shape), None,
                                  np.ascontiguousarray(w), stride, padding, dilation, groups,
                                  True, False, False)
    return grad_x


def conv2d_backward_weight(grad_y, x, weight_shape, stride, padding, dilation, groups):
    """Gradient w.r.t. the (Co, C/G, KH, KW) weight of conv2d."""
    w = np.empty(weight_shape, x.dtype)
    _, grad_w, _ = conv2d_backward(grad_y, x, w, stride, padding, dilation, groups,
                                   need_input=False, need_weight=True, need_bias=False)
    return grad_w


def conv2d_backward_bias(grad_y):
    """Gradient w.r.t. the (Co,) bias: grad_y summed over N, OH, OW."""
    expect_ndim("conv2d_backward_bias", "grad_y", grad_y, 4)
    n, co = grad_y.shape[:2]
    acc = np.zeros(co, np.float64)
    if grad_y.size:
        _sum_rows(np.ascontiguousarray(grad_y).reshape(n, co, -1), acc)
    return acc.astype(grad_y.dtype)


def conv_transpose2d_output_size(size, kernel, stride, padding, output_padding, dilation):
    """Output length of one axis of a transposed convolution (PyTorch's formula)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _check_transpose(op, x, w, bias, groups, stride, padding, output_padding, dilation):
    _check_conv(op, x, w, None, groups)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight {w.shape} expects "
                         f"{w.shape[0]} (weight is (in_channels, out_channels/groups, KH, KW))")
    if w.shape[0] % groups:
        raise ValueError(f"{op}: in_channels {w.shape[0]} must be divisible by groups {groups}")
    if bias is not None:
        expect_same_dtype(op, input=x, bias=bias)
        if bias.shape != (w.shape[1] * groups,):
            raise ValueError(f"{op}: bias must have shape ({w.shape[1] * groups},), "
                             f"got {bias.shape}")
    for axis in range(2):
        if not (output_padding[axis] < stride[axis] or output_padding[axis] < dilation[axis]):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"either stride {stride} or dilation {dilation}")
    sizes = [conv_transpose2d_output_size(x.shape[2 + a], w.shape[2 + a], stride[a],
                                          padding[a], output_padding[a], dilation[a])
             for a in range(2)]
    if min(sizes) <= 0:
        raise ValueError(f"{op}: input {x.shape} with weight {w.shape}, stride {stride}, "
                         f"padding {padding} gives a non-positive output size {tuple(sizes)}")
    return sizes


def conv_transpose2d_forward(x, w, bias, stride, padding, output_padding, dilation, groups):
    """(N, Ci, H, W) input, (Ci, Co/G, KH, KW) weight, optional (Co,) bias -> (N, Co, OH, OW)
    with OH = (H - 1) sh - 2 ph + dh (KH - 1) + output_padding + 1 (PyTorch's layout)."""
    op = "conv_transpose2d"
    oh, ow = _check_transpose(op, x, w, bias, groups, stride, padding, output_padding,
                              dilation)
    n = x.shape[0]
    co = w.shape[1] * groups
    # the transposed output plays conv's padded input; its output_padding rows (bottom,
    # right) lie inside the padded buffer and receive no contribution beyond the kernel's
    pads = (padding[0], padding[0], padding[1], padding[1])
    y, _, _ = _conv_backward(np.ascontiguousarray(x), (n, co, oh, ow), None,
                             np.ascontiguousarray(w), stride, pads, dilation, groups, True,
                             False, False)
    if bias is not None:
        y += bias.reshape(1, co, 1, 1)
    return y


def conv_transpose2d_backward(grad_y, x, w, stride, padding, dilation, groups,
                              need_input=True, need_weight=True, need_bias=True):
    """Gradients (grad_x, grad_w, grad_b) of conv_transpose2d; None where not needed.
    grad_x is a convolution of grad_y with w; grad_w is conv2d's weight gradient with the
    roles of input and output gradient swapped."""
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w)
    grad_y = np.ascontiguousarray(grad_y, dtype=x.dtype)
    pads = (padding[0], padding[0], padding[1], padding[1])
    h, wd = x.shape[2:]
    grad_x = grad_w = grad_b = None
    if need_input:
        grad_x = _conv_forward(grad_y, w, None, stride, pads, dilation, groups, h, wd)
    if need_weight:
        _, grad_w, _ = _conv_backward(x, grad_y.shape, grad_y, w, stride, pads, dilation,
                                      groups, False, True, False)
    if need_bias:
        grad_b = conv2d_backward_bias(grad_y)
    return grad_x, grad_w, grad_b


# Unit stride and dilation (3x3 ResNet and 5x5 LeNet layers) get their own loops: with the
# steps known LLVM vectorizes the copies, 1.6-2x faster than the general loops on those shapes.
# All loops nest over (c, p, q) and index the arrays directly (measured faster than a flat row
# index or row views).
@njit(cache=True, nogil=True, error_model="numpy")
def _im2col_unit(src, cols, kh, kw, oh, ow):
    """cols[(c, p, q), b OH OW + i OW + j] = src[b, c, i + p, j + q] (`src` already padded)."""
    pixels = oh * ow
    for c in range(src.shape[1]):
        for p in range(kh):
            for q in range(kw):
                r = (c * kh + p) * kw + q
                for b in range(src.shape[0]):
                    for i in range(oh):
                        o = b * pixels + i * ow
                        for j in range(ow):
                            cols[r, o + j] = src[b, c, i + p, j + q]


@njit(cache=True, nogil=True, error_model="numpy")
def _im2col_strided(src, cols, kh, kw, sh, sw, dh, dw, oh, ow):
    """cols[(c, p, q), b OH OW + i OW + j] = src[b, c, i sh + p dh, j sw + q dw]."""
    pixels = oh * ow
    for c in range(src.shape[1]):
        for p in range(kh):
            for q in range(kw):
                r = (c * kh + p) * kw + q
                for b in range(src.shape[0]):
                    for i in range(oh):
                        o = b * pixels + i * ow
                        ih = i * sh + p * dh
                        for j in range(ow):
                            cols[r, o + j] = src[b, c, ih, j * sw + q * dw]


@njit(cache=True, nogil=True, error_model="numpy")
def _col2im_unit(cols, dst, kh, kw, oh, ow):
    """dst[b, c] = cols scattered back (the adjoint of _im2col_unit); each plane is zeroed
    and accumulated while it is in cache."""
    c_in = dst.shape[1]
    pixels = oh * ow
    zero = dst.dtype.type(0.0)
    for k in range(dst.shape[0] * c_in):
        b = k // c_in
        c = k % c_in
        for i in range(dst.shape[2]):
            for j in range(dst.shape[3]):
                dst[b, c, i, j] = zero
        for p in range(kh):
            for q in range(kw):
                r = (c * kh + p) * kw + q
                for i in range(oh):
                    o = b * pixels + i * ow
                    for j in range(ow):
                        dst[b, c, i + p, j + q] += cols[r, o + j]


@njit(cache=True, nogil=True, error_model="numpy")
def _col2im_strided(cols, dst, kh, kw, sh, sw, dh, dw, oh, ow):
    """The adjoint of _im2col_strided."""
    c_in = dst.shape[1]
    pixels = oh * ow
    zero = dst.dtype.type(0.0)
    for k in range(dst.shape[0] * c_in):
        b = k // c_in
        c = k % c_in
        for i in range(dst.shape[2]):
            for j in range(dst.shape[3]):
                dst[b, c, i, j] = zero
        for p in range(kh):
            for q in range(kw):
                r = (c * kh + p) * kw + q
                for i in range(oh):
                    o = b * pixels + i * ow
                    ih = i * sh + p * dh
                    for j in range(ow):
                        dst[b, c, ih, j * sw + q * dw] += cols[r, o + j]


@njit(cache=True, nogil=True, error_model="numpy")
def _pad_chunk(x, xp, n0, pt, pl):
    """xp[b] = x[n0 + b] placed at (pt, pl) inside zeros, in one pass."""
    h = x.shape[2]
    w = x.shape[3]
    zero = xp.dtype.type(0.0)
    for b in range(xp.shape[0]):
        for c in range(xp.shape[1]):
            for i in range(xp.shape[2]):
                r = i - pt
                if r < 0 or r >= h:
                    for j in range(xp.shape[3]):
                        xp[b, c, i, j] = zero
                    continue
                for j in range(pl):
                    xp[b, c, i, j] = zero
                for j in range(w):
                    xp[b, c, i, pl + j] = x[n0 + b, c, r, j]
                for j in range(pl + w, xp.shape[3]):
                    xp[b, c, i, j] = zero


@njit(cache=True, nogil=True, error_model="numpy")
def _scatter_rows(prod, bias, y, n0, nb):
    """y[n0 + b, o, :] = prod[o, b P : (b + 1) P] + bias[o]."""
    pixels = y.shape[2]
    for o in range(prod.shape[0]):
        bo = bias[o]
        for b in range(nb):
            base = b * pixels
            for k in range(pixels):
                y[n0 + b, o, k] = prod[o, base + k] + bo


@njit(cache=True, nogil=True, error_model="numpy")
def _gather_rows(gy, gyt, acc, n0, nb):
    """gyt[o, b P + k] = gy[n0 + b, o, k], and acc[o] += the sum of those values."""
    pixels = gy.shape[2]
    for o in range(gyt.shape[0]):
        s = 0.0
        for b in range(nb):
            base = b * pixels
            for k in range(pixels):
                v = gy[n0 + b, o, k]
                gyt[o, base + k] = v
                s += v
        acc[o] += s


@njit(cache=True, nogil=True, error_model="numpy")
def _sum_rows(gy, acc):
    """acc[o] += sum over the batch and pixels of gy (N, Co, P), in float64."""
    for o in range(gy.shape[1]):
        s = 0.0
        for b in range(gy.shape[0]):
            for k in range(gy.shape[2]):
                s += gy[b, o, k]
        acc[o] += s
