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

Implementation: three paths, chosen by shape.
- Batch path (large per-image products: ResNet's layers): im2col + GEMM over batch chunks.
  `cols` holds, for a chunk of B samples, one row per (c, p, q) and one column per (sample,
  output pixel): (C KH KW, B OH OW), so a chunk is one GEMM W (Co, C KH KW) @ cols per group
  with B OH OW columns (ResNet's 4x4 layers would give a per-sample GEMM only 16 columns). The
  GEMM result is in (Co, B OH OW) order; a Numba pass moves it into NCHW adding the bias. The
  backward reorders grad_y once per chunk (summing the bias gradient on the way) and feeds
  both GEMMs from it; col2im scatters the input gradient back plane by plane.
- Per-image path (small per-image products, IMAGE_GEMM_MAX_MACS: LeNet's layers): cols is
  (B, C KH KW, OH OW) and each product is a stack of per-image GEMMs (numpy's matmul over the
  stack, OpenBLAS's small-matrix kernels), whose forward result is already NCHW and whose
  backward reads grad_y as it is: no reordering pass at all. Measured on one thread at
  LeNet's conv2 (N64 6x12x12 -> 16, k5): forward 0.33 against 0.49 ms, backward 0.72 against
  1.0 ms for the batch path.
- Depthwise path (one input channel per group): direct Numba loops, no GEMM.
A padded copy of the chunk makes im2col and col2im branch-free copies (2x faster than bounds
checks on LeNet shapes). Work arrays are per-thread and reused across calls. Matrix products
are numpy (BLAS) calls outside jitted code.

Threading: the batch is split between worker threads with single-threaded BLAS and nogil
Numba loops (OpenBLAS is set to one thread for the duration). No OpenMP pool and no BLAS pool
then compete for the cores (PERF.md: a 20x slowdown when they do). The batch path gives each
thread one share; the per-image and depthwise paths cut the batch into pieces that the calling
thread and the worker take as they come (WORKERS.run_claimed), so a worker that a busy machine
wakes late costs nothing. Measured on 2 cores: the ResNet-block GEMM 64x576x1024 runs at
123-135 GFLOP/s on one thread, the shares are independent, and on a loaded machine (load
average 9) this layout kept the LeNet conv2 backward at 4 ms where BLAS's own threads took
50-300 ms. Without access to OpenBLAS's thread count (another BLAS build) the batch and
per-image paths run in the calling thread with BLAS's threads.
"""
import threading

import numpy as np
from numba import njit

from kernels._checks import expect_float, expect_ndim, expect_same_dtype
from kernels._runtime import WORKERS, blas_thread_controls_available, get_num_threads

# Elements of `cols` per batch chunk of one worker: large enough that each GEMM has thousands
# of columns, small enough that cols stays in the core's cache between im2col and the GEMM.
CHUNK_ELEMENTS = 1 << 19
# Multiply-adds below which a call runs in the calling thread (a worker hand-off costs
# ~20-50 us).
PARALLEL_MIN_MACS = 1 << 21
# Convolutions whose per-image GEMM (Co x C KH KW x OH OW) has at most this many multiply-adds
# run image by image (the per-image path); larger ones run the batch GEMMs above. OpenBLAS
# runs products this small with its unpacked small-matrix kernels (LeNet's conv2, 16 x 150 x
# 64: 118 GFLOP/s on one thread against 75 for one 16 x 150 x 4096 product).
IMAGE_GEMM_MAX_MACS = 1 << 18
# Elements of the per-image cols of one piece of the per-image path (kept in the core's L2).
PIECE_ELEMENTS = 1 << 17
# Unit-stride outputs narrower than this run im2col and col2im in two passes (_im2col_narrow,
# _col2im_narrow), with long runs instead of rows of OW: per 8-13 images, im2col 17 against
# 34 us at OW 10 (d2l LeNet's conv2), 19 against 21 at OW 8; col2im 22 against 43 at OW 8.
# From OW 16 on they are slower (im2col 109 against 88 us at OW 16).
NARROW_COLUMNS = 16
# Pieces per thread at least, so that a thread slowed down (by another process on its core)
# leaves pieces to the other.
PIECES_PER_THREAD = 2


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
    parts = min(n, get_num_threads())
    if parts < 2 or macs < PARALLEL_MIN_MACS or not blas_thread_controls_available():
        return [(0, n)]
    return [(k * n // parts, (k + 1) * n // parts) for k in range(parts)]


class _Geometry:
    """Sizes of one convolution (forward direction: x -> y)."""

    __slots__ = ("n", "c", "h", "w", "co", "cg", "kh", "kw", "sh", "sw", "pt", "pl", "dh",
                 "dw", "oh", "ow", "groups", "rows", "pixels", "hp", "wp", "padded", "unit")

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
        self.unit = self.sh == self.sw == self.dh == self.dw == 1

    def macs(self):
        return self.n * self.co * self.cg * self.kh * self.kw * self.pixels

    def chunk(self, n):
        return max(1, min(n, CHUNK_ELEMENTS // max(self.rows * self.pixels, 1)))

    def taps(self):
        return (self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.oh, self.ow)

    def per_image(self):
        """Whether the per-image path suits: each image's GEMM is small (see
        IMAGE_GEMM_MAX_MACS)."""
        return self.co * self.cg * self.kh * self.kw * self.pixels <= IMAGE_GEMM_MAX_MACS

    def depthwise(self):
        """One input channel per group (MobileNet's depthwise layers; a channel multiplier
        Co / C >= 1 allowed): run by the direct depthwise loops."""
        return self.cg == 1 and self.groups > 1

    def piece(self, image_elements, threads):
        """Images per piece of the per-image and depthwise paths, for work arrays of
        `image_elements` per image: a piece's stay in the core's cache (about
        PIECE_ELEMENTS), and the batch makes at least PIECES_PER_THREAD pieces per thread,
        as many for each thread."""
        per_thread = max(PIECES_PER_THREAD,
                         -(-self.n * image_elements // (threads * PIECE_ELEMENTS)))
        return max(1, -(-self.n // (threads * per_thread)))


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
    if g.depthwise():
        _forward_depthwise(x, w, b, y, g)
        return y
    if g.per_image():
        _forward_images(x, w, b, y, g)
        return y
    w3 = w.reshape(groups, g.co // groups, g.cg * g.kh * g.kw)
    y3 = y.reshape(g.n, g.co, g.pixels)

    def share(lo, hi):
        chunk = g.chunk(hi - lo)
        cols = _scratch("cols", (g.rows, chunk * g.pixels), x.dtype)
        flat = cols.reshape(-1)
        prod = _scratch("prod", (g.co, chunk * g.pixels), x.dtype) if chunk > 1 else None
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            width = nb * g.pixels
            cb = cols[:, :width] if nb < chunk else cols
            _im2col(_chunk_source(x, n0, nb, g), flat, chunk * g.pixels, g.pixels, g)
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


def _image_threads(g):
    """Threads for the per-image path: one below PARALLEL_MIN_MACS."""
    if g.macs() < PARALLEL_MIN_MACS or not blas_thread_controls_available():
        return 1
    return get_num_threads()


def _forward_images(x, w, b, y, g):
    """The per-image path of the forward: per piece of images, im2col into (B, C KH KW,
    OH OW) and one stacked product W @ cols whose result is already NCHW; the bias is added
    while the piece is in cache. The threads take pieces as they come (WORKERS.run_claimed)."""
    threads = _image_threads(g)
    per = g.piece(g.rows * g.pixels, threads)
    pieces = -(-g.n // per)
    og, rg = g.co // g.groups, g.rows // g.groups
    w4 = w.reshape(g.groups, og, rg)
    y3 = y.reshape(g.n, g.co, g.pixels)
    y5 = y.reshape(g.n, g.groups, og, g.pixels)

    def work(claim):
        cols = _scratch("image_cols", (per, g.groups, rg, g.pixels), x.dtype)
        flat = cols.reshape(-1)
        k = claim()
        while k is not None:
            n0 = k * per
            nb = min(per, g.n - n0)
            _im2col(_chunk_source(x, n0, nb, g), flat, g.pixels, g.rows * g.pixels, g)
            np.matmul(w4, cols[:nb], out=y5[n0:n0 + nb])
            if b is not None:
                _add_bias(y3[n0:n0 + nb], b)
            k = claim()

    WORKERS.run_claimed(work, pieces, threads)


def _backward_images(grad_y, x, w, g, grad_x, need_weight, need_bias):
    """The per-image path of the backward, piece by piece: the bias gradient sums grad_y;
    the weight gradient is the stacked product cols @ grad_y^T summed over the piece's
    images (measured faster than grad_y @ cols^T: 0.26 against 0.49 ms at LeNet's conv2);
    the input gradient is W^T @ grad_y per image, scattered back by col2im. Each piece sums
    into its own slot and the slots are added in piece order, so the result does not depend
    on which thread took which piece."""
    dtype = grad_y.dtype
    threads = _image_threads(g)
    per = g.piece(g.rows * g.pixels, threads)
    pieces = -(-g.n // per)
    og, rg = g.co // g.groups, g.rows // g.groups
    w4t = w.reshape(g.groups, og, rg).transpose(0, 2, 1)
    gy3 = grad_y.reshape(g.n, g.co, g.pixels)
    gy5 = grad_y.reshape(g.n, g.groups, og, g.pixels)
    need_input = grad_x is not None
    part_w = np.empty((pieces, g.groups, rg, og), dtype) if need_weight else None
    part_b = np.zeros((pieces, g.co), np.float64) if need_bias else None

    def work(claim):
        cols = _scratch("image_cols", (per, g.groups, rg, g.pixels), dtype)
        flat = cols.reshape(-1)
        gxp = (_scratch("image_gxp", (per, g.c, g.hp, g.wp), dtype)
               if g.padded and need_input else None)
        k = claim()
        while k is not None:
            n0 = k * per
            nb = min(per, g.n - n0)
            if need_bias:
                _sum_rows(gy3[n0:n0 + nb], part_b[k])
            if need_weight:
                _im2col(_chunk_source(x, n0, nb, g), flat, g.pixels, g.rows * g.pixels, g)
                np.matmul(cols[:nb], gy5[n0:n0 + nb].transpose(0, 1, 3, 2)).sum(0,
                                                                                out=part_w[k])
            if need_input:
                np.matmul(w4t, gy5[n0:n0 + nb], out=cols[:nb])
                if g.padded:
                    _col2im(flat, g.pixels, g.rows * g.pixels, gxp[:nb], g)
                    grad_x[n0:n0 + nb] = gxp[:nb, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]
                else:
                    _col2im(flat, g.pixels, g.rows * g.pixels, grad_x[n0:n0 + nb], g)
            k = claim()

    WORKERS.run_claimed(work, pieces, threads)
    grad_w = grad_b = None
    if need_weight:
        grad_w = np.ascontiguousarray(part_w.sum(0).transpose(0, 2, 1)).reshape(w.shape)
    if need_bias:
        grad_b = part_b.sum(0).astype(dtype)
    return grad_x, grad_w, grad_b


def _depthwise_pieces(g):
    """(images per piece, pieces, threads) of the depthwise path."""
    threads = get_num_threads() if g.macs() >= PARALLEL_MIN_MACS else 1
    per = g.piece(g.c * g.hp * g.wp, threads)
    return per, -(-g.n // per), threads


def _forward_depthwise(x, w, b, y, g):
    """Depthwise forward: direct loops over each output row (no GEMM: a depthwise layer has
    no reduction over channels), pieces of images shared between the threads."""
    per, pieces, threads = _depthwise_pieces(g)
    bias = np.zeros(g.co, x.dtype) if b is None else b
    unit_stride = g.sh == g.sw == 1

    def work(claim):
        k = claim()
        while k is not None:
            n0 = k * per
            nb = min(per, g.n - n0)
            if unit_stride:
                _depthwise_forward_wide(x, w, bias, y, n0, n0 + nb, g.pt, g.pl, g.hp, g.wp,
                                        g.dh, g.dw)
            else:
                _depthwise_forward(_chunk_source(x, n0, nb, g), w, bias, y, n0, g.sh, g.sw,
                                   g.dh, g.dw)
            k = claim()

    WORKERS.run_claimed(work, pieces, threads, blas=False)


def _backward_depthwise(grad_y, x, w, g, grad_x, need_weight, need_bias):
    """Depthwise backward in the same direct loops; the weight and bias gradients sum per
    piece (float64) and the pieces are added in order (see _backward_images)."""
    per, pieces, threads = _depthwise_pieces(g)
    need_input = grad_x is not None
    unit_stride = g.sh == g.sw == 1
    dtype = grad_y.dtype
    part_w = np.zeros((pieces,) + w.shape, np.float64) if need_weight else None
    part_b = np.zeros((pieces, g.co), np.float64) if need_bias else None

    def work(claim):
        gxp = (_scratch("depthwise_gxp", (per, g.c, g.hp, g.wp), dtype)
               if need_input and g.padded and not unit_stride else None)
        k = claim()
        while k is not None:
            n0 = k * per
            nb = min(per, g.n - n0)
            if need_bias:
                _sum_rows(grad_y[n0:n0 + nb].reshape(nb, g.co, g.pixels), part_b[k])
            if need_weight and unit_stride:
                _depthwise_weight_grad_wide(grad_y, x, part_w[k], n0, n0 + nb, g.pt, g.pl,
                                            g.hp, g.wp, g.dh, g.dw)
            elif need_weight:
                _depthwise_weight_grad(grad_y, _chunk_source(x, n0, nb, g), part_w[k], n0,
                                       g.sh, g.sw, g.dh, g.dw)
            if need_input and unit_stride:
                _depthwise_input_grad_wide(grad_y, w, grad_x, n0, n0 + nb, g.pt, g.pl, g.hp,
                                           g.wp, g.dh, g.dw)
            elif need_input:
                dst = gxp[:nb] if g.padded else grad_x[n0:n0 + nb]
                _depthwise_input_grad(grad_y, w, dst, n0, g.sh, g.sw, g.dh, g.dw)
                if g.padded:
                    grad_x[n0:n0 + nb] = dst[:, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]
            k = claim()

    WORKERS.run_claimed(work, pieces, threads, blas=False)
    grad_w = part_w.sum(0).astype(dtype) if need_weight else None
    grad_b = part_b.sum(0).astype(dtype) if need_bias else None
    return grad_x, grad_w, grad_b


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
    if g.depthwise():
        return _backward_depthwise(grad_y, x, w, g, grad_x, need_weight, need_bias)
    if g.per_image():
        return _backward_images(grad_y, x, w, g, grad_x, need_weight, need_bias)
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
        flat = cols.reshape(-1)
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
                _im2col(_chunk_source(x, n0, nb, g), flat, chunk * g.pixels, g.pixels, g)
                c3 = cb.reshape(groups, g.rows // groups, width)
                _weight_product(g3, c3, nb, g.pixels, part_w, n0 == lo, flip)
            if need_input:
                cb = cols[:, :width] if nb < chunk else cols
                c3 = cb.reshape(groups, g.rows // groups, width)
                np.matmul(w3t, g3, out=c3)
                if g.padded:
                    _col2im(flat, chunk * g.pixels, g.pixels, gxp[:nb], g)
                    grad_x[n0:n0 + nb] = gxp[:nb, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]
                else:
                    _col2im(flat, chunk * g.pixels, g.pixels, grad_x[n0:n0 + nb], g)
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


def _im2col(src, cols, row_step, image_step, g):
    """im2col of a (B, C, Hp, Wp) padded chunk into the flat `cols` (layout: see the
    kernels)."""
    if g.unit and g.ow < NARROW_COLUMNS:
        _im2col_narrow(src, cols, row_step, image_step, g.kh, g.kw, g.oh, g.ow)
    elif g.unit:
        _im2col_unit(src, cols, row_step, image_step, g.kh, g.kw, g.oh, g.ow)
    else:
        _im2col_strided(src, cols, row_step, image_step, *g.taps())


def _col2im(cols, row_step, image_step, dst, g):
    """col2im of the flat `cols` into a (B, C, Hp, Wp) padded chunk (overwritten)."""
    if g.unit and g.ow < NARROW_COLUMNS:
        _col2im_narrow(cols, row_step, image_step, dst, g.kh, g.kw, g.oh, g.ow)
    elif g.unit:
        _col2im_unit(cols, row_step, image_step, dst, g.kh, g.kw, g.oh, g.ow)
    else:
        _col2im_strided(cols, row_step, image_step, dst, *g.taps())


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
# `cols` is flat: the value of kernel row r = (c, p, q), image b and output pixel k sits at
# r row_step + b image_step + k, so one kernel fills both layouts, (C KH KW, B OH OW) for a
# batch GEMM (row_step = B OH OW, image_step = OH OW) and (B, C KH KW, OH OW) for per-image
# GEMMs (row_step = OH OW, image_step = C KH KW OH OW).
@njit(cache=True, nogil=True, error_model="numpy")
def _im2col_unit(src, cols, row_step, image_step, kh, kw, oh, ow):
    """cols[...(c, p, q), b, i OW + j] = src[b, c, i + p, j + q] (`src` already padded)."""
    for b in range(src.shape[0]):
        for c in range(src.shape[1]):
            for p in range(kh):
                for q in range(kw):
                    base = ((c * kh + p) * kw + q) * row_step + b * image_step
                    row = cols[base:base + oh * ow]
                    for i in range(oh):
                        for j in range(ow):
                            row[i * ow + j] = src[b, c, i + p, j + q]


@njit(cache=True, nogil=True, error_model="numpy")
def _im2col_strided(src, cols, row_step, image_step, kh, kw, sh, sw, dh, dw, oh, ow):
    """cols[...(c, p, q), b, i OW + j] = src[b, c, i sh + p dh, j sw + q dw]."""
    for b in range(src.shape[0]):
        for c in range(src.shape[1]):
            for p in range(kh):
                for q in range(kw):
                    base = ((c * kh + p) * kw + q) * row_step + b * image_step
                    row = cols[base:base + oh * ow]
                    for i in range(oh):
                        ih = i * sh + p * dh
                        for j in range(ow):
                            row[i * ow + j] = src[b, c, ih, j * sw + q * dw]


@njit(cache=True, nogil=True, error_model="numpy")
def _col2im_unit(cols, row_step, image_step, dst, kh, kw, oh, ow):
    """dst[b, c] = cols scattered back (the adjoint of _im2col_unit); each plane is zeroed
    and accumulated while it is in cache."""
    c_in = dst.shape[1]
    zero = dst.dtype.type(0.0)
    for k in range(dst.shape[0] * c_in):
        b = k // c_in
        c = k % c_in
        for i in range(dst.shape[2]):
            for j in range(dst.shape[3]):
                dst[b, c, i, j] = zero
        for p in range(kh):
            for q in range(kw):
                base = ((c * kh + p) * kw + q) * row_step + b * image_step
                row = cols[base:base + oh * ow]
                for i in range(oh):
                    for j in range(ow):
                        dst[b, c, i + p, j + q] += row[i * ow + j]


@njit(cache=True, nogil=True, error_model="numpy")
def _im2col_narrow(src, cols, row_step, image_step, kh, kw, oh, ow):
    """_im2col_unit for narrow outputs (OW < NARROW_COLUMNS), in two passes: stage[q] = the
    plane shifted left by q, OW columns wide (short rows, KW Hp of them), then every cols row
    is one run of OH OW copied from stage[q] (instead of OH runs of OW)."""
    hp = src.shape[2]
    pixels = oh * ow
    stage = np.empty((kw, hp * ow), src.dtype)
    for b in range(src.shape[0]):
        for c in range(src.shape[1]):
            for q in range(kw):
                for i in range(hp):
                    for j in range(ow):
                        stage[q, i * ow + j] = src[b, c, i, j + q]
            for p in range(kh):
                for q in range(kw):
                    base = ((c * kh + p) * kw + q) * row_step + b * image_step
                    row = cols[base:base + pixels]
                    block = stage[q, p * ow:p * ow + pixels]
                    for k in range(pixels):
                        row[k] = block[k]


@njit(cache=True, nogil=True, error_model="numpy")
def _col2im_narrow(cols, row_step, image_step, dst, kh, kw, oh, ow):
    """_col2im_unit for narrow outputs (OW < NARROW_COLUMNS), in two passes: first every
    cols row of a plane adds as one run of OH OW into stage[q] (the plane shifted left by q,
    OW columns wide), then each stage[q] adds into the plane shifted back. Adding rows of OW
    (8 at LeNet's conv2) one by one costs twice as much."""
    hp = dst.shape[2]
    pixels = oh * ow
    stage = np.empty((kw, hp * ow), dst.dtype)
    zero = dst.dtype.type(0.0)
    for b in range(dst.shape[0]):
        for c in range(dst.shape[1]):
            for q in range(kw):
                for k in range(hp * ow):
                    stage[q, k] = zero
            for p in range(kh):
                for q in range(kw):
                    base = ((c * kh + p) * kw + q) * row_step + b * image_step
                    row = cols[base:base + pixels]
                    block = stage[q, p * ow:p * ow + pixels]
                    for k in range(pixels):
                        block[k] += row[k]
            for i in range(hp):
                for j in range(dst.shape[3]):
                    dst[b, c, i, j] = zero
            for q in range(kw):
                for i in range(hp):
                    for j in range(ow):
                        dst[b, c, i, j + q] += stage[q, i * ow + j]


@njit(cache=True, nogil=True, error_model="numpy")
def _col2im_strided(cols, row_step, image_step, dst, kh, kw, sh, sw, dh, dw, oh, ow):
    """The adjoint of _im2col_strided."""
    c_in = dst.shape[1]
    zero = dst.dtype.type(0.0)
    for k in range(dst.shape[0] * c_in):
        b = k // c_in
        c = k % c_in
        for i in range(dst.shape[2]):
            for j in range(dst.shape[3]):
                dst[b, c, i, j] = zero
        for p in range(kh):
            for q in range(kw):
                base = ((c * kh + p) * kw + q) * row_step + b * image_step
                row = cols[base:base + oh * ow]
                for i in range(oh):
                    ih = i * sh + p * dh
                    for j in range(ow):
                        dst[b, c, ih, j * sw + q * dw] += row[i * ow + j]


# Depthwise loops: output channel o reads input channel o // (Co / C). Strided layers run these
# row by row (innermost over output columns, vectorized when sw = 1); unit-stride layers run
# the "wide" loops below, 1.2-2x faster (N8 C64 32x32 k3: forward 0.41 against 0.56 ms,
# input gradient 0.54 against 1.05, weight gradient 0.78 against 0.91).
@njit(cache=True, nogil=True, error_model="numpy")
def _depthwise_forward(xp, w, bias, y, n0, sh, sw, dh, dw):
    """y[n0 + b, o, i, j] = bias[o] + sum_{p, q} w[o, 0, p, q] xp[b, c, i sh + p dh,
    j sw + q dw] for the padded chunk xp."""
    co = y.shape[1]
    mult = co // xp.shape[1]
    kh = w.shape[2]
    kw = w.shape[3]
    oh = y.shape[2]
    ow = y.shape[3]
    for b in range(xp.shape[0]):
        for o in range(co):
            c = o // mult
            bo = bias[o]
            for i in range(oh):
                row = y[n0 + b, o, i]
                for j in range(ow):
                    row[j] = bo
                for p in range(kh):
                    src = xp[b, c, i * sh + p * dh]
                    for q in range(kw):
                        wv = w[o, 0, p, q]
                        if sw == 1:
                            src_q = src[q * dw:q * dw + ow]
                            for j in range(ow):
                                row[j] += wv * src_q[j]
                        else:
                            for j in range(ow):
                                row[j] += wv * src[j * sw + q * dw]


@njit(cache=True, nogil=True, error_model="numpy")
def _depthwise_input_grad(gy, w, dst, n0, sh, sw, dh, dw):
    """dst (the padded chunk of grad_x, overwritten) = the adjoint of _depthwise_forward
    applied to gy[n0:]."""
    co = gy.shape[1]
    mult = co // dst.shape[1]
    kh = w.shape[2]
    kw = w.shape[3]
    oh = gy.shape[2]
    ow = gy.shape[3]
    zero = dst.dtype.type(0.0)
    for b in range(dst.shape[0]):
        for c in range(dst.shape[1]):
            for i in range(dst.shape[2]):
                for j in range(dst.shape[3]):
                    dst[b, c, i, j] = zero
        for o in range(co):
            c = o // mult
            for i in range(oh):
                grow = gy[n0 + b, o, i]
                for p in range(kh):
                    drow = dst[b, c, i * sh + p * dh]
                    for q in range(kw):
                        wv = w[o, 0, p, q]
                        if sw == 1:
                            d_q = drow[q * dw:q * dw + ow]
                            for j in range(ow):
                                d_q[j] += wv * grow[j]
                        else:
                            for j in range(ow):
                                drow[j * sw + q * dw] += wv * grow[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _depthwise_weight_grad(gy, xp, acc, n0, sh, sw, dh, dw):
    """acc[o, 0, p, q] += sum_{b, i, j} gy[n0 + b, o, i, j] xp[b, c, i sh + p dh, j sw + q dw]
    (float64 acc; each row's dot product may be reordered, see _sum_rows)."""
    co = gy.shape[1]
    mult = co // xp.shape[1]
    kh = acc.shape[2]
    kw = acc.shape[3]
    oh = gy.shape[2]
    ow = gy.shape[3]
    for b in range(xp.shape[0]):
        for o in range(co):
            c = o // mult
            for p in range(kh):
                for q in range(kw):
                    s = 0.0
                    for i in range(oh):
                        grow = gy[n0 + b, o, i]
                        src = xp[b, c, i * sh + p * dh]
                        if sw == 1:
                            src_q = src[q * dw:q * dw + ow]
                            for j in range(ow):
                                s += grow[j] * src_q[j]
                        else:
                            for j in range(ow):
                                s += grow[j] * src[j * sw + q * dw]
                    acc[o, 0, p, q] += s


@njit(cache=True, nogil=True, error_model="numpy")
def _pad_plane(x, b, c, plane, pt, pl):
    """plane (Hp, Wp) = x[b, c] placed at (pt, pl) inside zeros."""
    h = x.shape[2]
    w = x.shape[3]
    zero = plane.dtype.type(0.0)
    for i in range(plane.shape[0]):
        r = i - pt
        if r < 0 or r >= h:
            for j in range(plane.shape[1]):
                plane[i, j] = zero
            continue
        for j in range(pl):
            plane[i, j] = zero
        for j in range(w):
            plane[i, pl + j] = x[b, c, r, j]
        for j in range(pl + w, plane.shape[1]):
            plane[i, j] = zero


@njit(cache=True, nogil=True, error_model="numpy")
def _depthwise_forward_wide(x, w, bias, y, n0, n1, pt, pl, hp, wp, dh, dw):
    """Unit-stride depthwise forward of images n0 .. n1 on flattened planes: each input plane
    is padded into a (Hp, Wp) buffer; output pixel (i, j) is element i Wp + j of a "wide" row
    of length (OH - 1) Wp + OW, and tap (p, q) reads the flat padded plane shifted by
    p dh Wp + q dw, so every tap is one long vectorized pass (three taps per pass); the wide
    row then drops its Wp - OW extra columns per output row."""
    co = y.shape[1]
    mult = co // x.shape[1]
    kh = w.shape[2]
    kw = w.shape[3]
    oh = y.shape[2]
    ow = y.shape[3]
    span = (oh - 1) * wp + ow
    plane = np.empty((hp, wp), y.dtype)
    flat = plane.reshape(-1)
    wide = np.empty(span, y.dtype)
    for b in range(n0, n1):
        for c in range(x.shape[1]):
            _pad_plane(x, b, c, plane, pt, pl)
            for o in range(c * mult, (c + 1) * mult):
                bo = bias[o]
                for k in range(span):
                    wide[k] = bo
                for p in range(kh):
                    q = 0
                    while q + 3 <= kw:
                        base = p * dh * wp + q * dw
                        s0 = flat[base:base + span]
                        s1 = flat[base + dw:base + dw + span]
                        s2 = flat[base + 2 * dw:base + 2 * dw + span]
                        w0 = w[o, 0, p, q]
                        w1 = w[o, 0, p, q + 1]
                        w2 = w[o, 0, p, q + 2]
                        for k in range(span):
                            wide[k] += w0 * s0[k] + w1 * s1[k] + w2 * s2[k]
                        q += 3
                    while q < kw:
                        base = p * dh * wp + q * dw
                        s0 = flat[base:base + span]
                        w0 = w[o, 0, p, q]
                        for k in range(span):
                            wide[k] += w0 * s0[k]
                        q += 1
                for i in range(oh):
                    for j in range(ow):
                        y[b, o, i, j] = wide[i * wp + j]


@njit(cache=True, nogil=True, error_model="numpy")
def _depthwise_input_grad_wide(gy, w, grad_x, n0, n1, pt, pl, hp, wp, dh, dw):
    """Unit-stride depthwise input gradient of images n0 .. n1: gy's plane placed in a
    zero-bordered flat buffer (margin m = (KH - 1) dh Wp + (KW - 1) dw ahead, rows Wp apart);
    the padded gradient plane is the sum over taps of w[p, q] times that buffer shifted back
    by p dh Wp + q dw (three taps per pass, as in _depthwise_forward_wide), cropped into
    grad_x."""
    co = gy.shape[1]
    mult = co // grad_x.shape[1]
    kh = w.shape[2]
    kw = w.shape[3]
    oh = gy.shape[2]
    ow = gy.shape[3]
    size = hp * wp
    margin = (kh - 1) * dh * wp + (kw - 1) * dw
    buf = np.zeros(margin + size, gy.dtype)
    out = np.empty(size, gy.dtype)
    zero = gy.dtype.type(0.0)
    for b in range(n0, n1):
        for c in range(grad_x.shape[1]):
            for k in range(size):
                out[k] = zero
            for o in range(c * mult, (c + 1) * mult):
                for i in range(oh):
                    for j in range(ow):
                        buf[margin + i * wp + j] = gy[b, o, i, j]
                for p in range(kh):
                    q = 0
                    while q + 3 <= kw:
                        base = margin - p * dh * wp - q * dw
                        s0 = buf[base:base + size]
                        s1 = buf[base - dw:base - dw + size]
                        s2 = buf[base - 2 * dw:base - 2 * dw + size]
                        w0 = w[o, 0, p, q]
                        w1 = w[o, 0, p, q + 1]
                        w2 = w[o, 0, p, q + 2]
                        for k in range(size):
                            out[k] += w0 * s0[k] + w1 * s1[k] + w2 * s2[k]
                        q += 3
                    while q < kw:
                        base = margin - p * dh * wp - q * dw
                        s0 = buf[base:base + size]
                        w0 = w[o, 0, p, q]
                        for k in range(size):
                            out[k] += w0 * s0[k]
                        q += 1
            for i in range(grad_x.shape[2]):
                for j in range(grad_x.shape[3]):
                    grad_x[b, c, i, j] = out[(i + pt) * wp + pl + j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _depthwise_weight_grad_wide(gy, x, acc, n0, n1, pt, pl, hp, wp, dh, dw):
    """Unit-stride depthwise weight gradient of images n0 .. n1: acc[o, 0, p, q] += the dot
    product of gy's plane laid out wide (zeros in the extra columns) with the flat padded
    input plane shifted by p dh Wp + q dw. Each plane's dot product runs in gy's dtype (in
    float64 it ran at half the speed), reordered (see _sum_rows); acc is float64."""
    co = gy.shape[1]
    mult = co // x.shape[1]
    kh = acc.shape[2]
    kw = acc.shape[3]
    oh = gy.shape[2]
    ow = gy.shape[3]
    span = (oh - 1) * wp + ow
    plane = np.empty((hp, wp), gy.dtype)
    flat = plane.reshape(-1)
    wide = np.zeros(span, gy.dtype)
    zero = gy.dtype.type(0.0)
    for b in range(n0, n1):
        for c in range(x.shape[1]):
            _pad_plane(x, b, c, plane, pt, pl)
            for o in range(c * mult, (c + 1) * mult):
                for i in range(oh):
                    for j in range(ow):
                        wide[i * wp + j] = gy[b, o, i, j]
                for p in range(kh):
                    for q in range(kw):
                        base = p * dh * wp + q * dw
                        src = flat[base:base + span]
                        s = zero
                        for k in range(span):
                            s += wide[k] * src[k]
                        acc[o, 0, p, q] += s


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
def _add_bias(y, bias):
    """y[b, o, :] += bias[o] for y (B, Co, P)."""
    for b in range(y.shape[0]):
        for o in range(y.shape[1]):
            bo = bias[o]
            for k in range(y.shape[2]):
                y[b, o, k] += bo


# The bias-gradient sums may reorder their additions (fastmath "reassoc" only: NaN, inf and
# rounding of each operation unchanged), so LLVM vectorizes them: 16 against 121 us at LeNet's
# conv1 (64 x 6 x 576), in float64 accumulators as before.
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
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


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _sum_rows(gy, acc):
    """acc[o] += sum over the batch and pixels of gy (N, Co, P), in float64."""
    for o in range(gy.shape[1]):
        s = 0.0
        for b in range(gy.shape[0]):
            for k in range(gy.shape[2]):
                s += gy[b, o, k]
        acc[o] += s
