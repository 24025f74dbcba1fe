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

Implementation: im2col + one GEMM per batch chunk. `cols` holds, for a chunk of B samples,
one row per (c, p, q) and one column per (sample, output pixel): (C KH KW, B OH OW), so a
chunk is a single large GEMM W (Co, C KH KW) @ cols per group, the shape BLAS is fastest at
(a per-sample GEMM has only OH OW columns: 64 at LeNet's conv2). The GEMM result is in
(Co, B OH OW) order; a Numba pass moves it into NCHW and adds the bias in the same sweep.
The backward gathers grad_y into the same (Co, B OH OW) order once (summing the bias
gradient on the way) and runs both GEMMs of the chunk from it; col2im scatters the input
gradient back plane by plane. Matrix products are numpy (BLAS) calls outside jitted code.
"""
import math

import numpy as np
from numba import njit, prange

from kernels._checks import expect_float, expect_ndim, expect_same_dtype
from kernels._runtime import NUM_THREADS, PARALLEL_MIN_ELEMENTS

# Elements of `cols` per batch chunk: large enough that each GEMM has thousands of columns,
# small enough that cols stays in the last-level cache between im2col and the GEMM.
CHUNK_ELEMENTS = 1 << 20


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


def _chunk(n, rows, pixels):
    """Samples per chunk."""
    per_sample = max(rows * pixels, 1)
    return max(1, min(n, CHUNK_ELEMENTS // per_sample))


def _parallel(work):
    return NUM_THREADS > 1 and work >= PARALLEL_MIN_ELEMENTS // 4


def conv2d_forward(x, w, bias, stride, padding, dilation, groups, return_cols=False):
    """(N, C, H, W) input, (Co, C/G, KH, KW) weight, optional (Co,) bias -> (N, Co, OH, OW).

    With `return_cols`, returns (y, cols): the im2col matrix of the whole batch when it fit
    in one chunk (else None), which `conv2d_backward` reuses for the weight gradient."""
    op = "conv2d"
    _check_conv(op, x, w, bias, groups)
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    if c != cg * groups:
        raise ValueError(f"{op}: input has {c} channels but weight {w.shape} with groups="
                         f"{groups} expects {cg * groups}")
    if co % groups:
        raise ValueError(f"{op}: out_channels {co} must be divisible by groups {groups}")
    oh = output_size(h, kh, stride[0], padding[0], padding[1], dilation[0])
    ow = output_size(wd, kw, stride[1], padding[2], padding[3], dilation[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{op}: input {x.shape[2:]} (padded by {padding}) is smaller than the "
                         f"dilated kernel {(kh, kw)} with dilation {dilation}")
    y, cols = _conv_forward(np.ascontiguousarray(x), np.ascontiguousarray(w), bias, stride,
                            padding, dilation, groups, oh, ow, return_cols)
    return (y, cols) if return_cols else y


def _conv_forward(x, w, bias, stride, padding, dilation, groups, oh, ow, keep_cols=False):
    """Forward with the output size given (conv_transpose2d's backward needs an exact size);
    returns (y, cols or None)."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    y = np.empty((n, co, oh, ow), dtype=x.dtype)
    if n == 0 or co == 0:
        return y, None
    b = None if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    rows = c * kh * kw
    pixels = oh * ow
    if cg == 0:
        y[...] = 0 if b is None else b.reshape(1, co, 1, 1)
        return y, None
    w3 = w.reshape(groups, co // groups, cg * kh * kw)
    chunk = _chunk(n, rows, pixels)
    keep_cols = keep_cols and chunk == n
    cols = np.empty((rows, chunk * pixels), x.dtype)
    prod = np.empty((co, chunk * pixels), x.dtype) if chunk > 1 else None
    y3 = y.reshape(n, co, pixels)
    for n0 in range(0, n, chunk):
        nb = min(chunk, n - n0)
        cb = cols[:, :nb * pixels] if nb < chunk else cols
        _im2col(x, cb, n0, nb, kh, kw, stride, padding, dilation, oh, ow)
        c3 = cb.reshape(groups, rows // groups, nb * pixels)
        if nb == 1:
            # one sample: the GEMM writes straight into y[n0] (already in (Co, OH OW) order)
            np.matmul(w3, c3, out=y3[n0].reshape(groups, co // groups, pixels))
            if b is not None:
                y3[n0] += b[:, None]
            continue
        pb = prod[:, :nb * pixels] if nb < chunk else prod
        np.matmul(w3, c3, out=pb.reshape(groups, co // groups, nb * pixels))
        bb = np.zeros(co, x.dtype) if b is None else b
        if _parallel(co * nb * pixels):
            _scatter_rows_par(pb, bb, y3, n0, nb, NUM_THREADS)
        else:
            _scatter_rows(pb, bb, y3, n0, nb, 0, co)
    return y, (cols if keep_cols else None)


def conv2d_backward(grad_y, x, w, stride, padding, dilation, groups, need_input=True,
                    need_weight=True, need_bias=True, cols=None):
    """Gradients (grad_x, grad_w, grad_b) of conv2d; an entry is None when not needed.

    The three come from one sweep over batch chunks: grad_y is reordered once per chunk and
    feeds both GEMMs, and im2col of x runs only for the weight gradient, and not at all
    when the forward's `cols` (conv2d_forward(..., return_cols=True)) is passed."""
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
    if cols is not None and cols.shape != (c * kh * kw, n * grad_y.shape[2] * grad_y.shape[3]):
        raise ValueError(f"{op}: saved cols {cols.shape} do not match input {x.shape}")
    return _conv_backward(grad_y, x.shape, x, w, stride, padding, dilation, groups, need_input,
                          need_weight, need_bias, cols)


def _conv_backward(grad_y, x_shape, x, w, stride, padding, dilation, groups, need_input,
                   need_weight, need_bias, saved_cols=None):
    """Core of the backward; `x` may be None when only the input gradient is needed."""
    n, c, h, wd = x_shape
    co, cg, kh, kw = w.shape
    oh, ow = grad_y.shape[2:]
    dtype = grad_y.dtype
    rows = c * kh * kw
    pixels = oh * ow
    grad_x = np.zeros(x_shape, dtype) if need_input else None
    grad_w = np.zeros(w.shape, dtype) if need_weight else None
    bias_acc = np.zeros(co, np.float64)
    if n == 0 or co == 0 or cg == 0 or pixels == 0 or not (need_input or need_weight):
        if need_bias and n and pixels:
            _sum_rows(grad_y.reshape(n, co, pixels), bias_acc)
        return grad_x, grad_w, (bias_acc.astype(dtype) if need_bias else None)
    w3 = w.reshape(groups, co // groups, cg * kh * kw)
    gw3 = grad_w.reshape(groups, co // groups, cg * kh * kw) if need_weight else None
    chunk = n if saved_cols is not None else _chunk(n, rows, pixels)
    if saved_cols is not None and not need_input:
        cols = saved_cols
    else:
        cols = np.empty((rows, chunk * pixels), dtype)
    gyt = np.empty((co, chunk * pixels), dtype) if chunk > 1 else None
    part = np.empty_like(gw3) if need_weight and chunk < n else None
    gy3 = grad_y.reshape(n, co, pixels)
    for n0 in range(0, n, chunk):
        nb = min(chunk, n - n0)
        cb = cols[:, :nb * pixels] if nb < chunk else cols
        if nb == 1:
            gb = gy3[n0]
            _sum_rows(gy3[n0:n0 + 1], bias_acc)
        else:
            gb = gyt[:, :nb * pixels] if nb < chunk else gyt
            if _parallel(co * nb * pixels):
                _gather_rows_par(gy3, gb, bias_acc, n0, nb, NUM_THREADS)
            else:
                _gather_rows(gy3, gb, bias_acc, n0, nb, 0, co)
        g3 = gb.reshape(groups, co // groups, nb * pixels)
        if need_weight:
            if saved_cols is None:
                _im2col(x, cb, n0, nb, kh, kw, stride, padding, dilation, oh, ow)
                c3 = cb.reshape(groups, rows // groups, nb * pixels)
            else:
                c3 = saved_cols.reshape(groups, rows // groups, nb * pixels)
            if n0 == 0:
                np.matmul(g3, c3.transpose(0, 2, 1), out=gw3)
            else:
                np.matmul(g3, c3.transpose(0, 2, 1), out=part)
                gw3 += part
        if need_input:
            c3 = cb.reshape(groups, rows // groups, nb * pixels)
            np.matmul(w3.transpose(0, 2, 1), g3, out=c3)
            _col2im(cb, grad_x, n0, nb, kh, kw, stride, padding, dilation, oh, ow)
    return grad_x, grad_w, (bias_acc.astype(dtype) if need_bias else None)


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
    gy3 = np.ascontiguousarray(grad_y).reshape(n, co, -1)
    _sum_rows(gy3, acc)
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
    pads = (padding[0], padding[0], padding[1], padding[1])
    y, _, _ = _conv_backward(np.ascontiguousarray(x), (n, co, oh, ow), None,
                             np.ascontiguousarray(w), stride, pads, dilation, groups,
                             True, False, False)
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
        grad_x, _ = _conv_forward(grad_y, w, None, stride, pads, dilation, groups, h, wd)
    if need_weight:
        _, grad_w, _ = _conv_backward(x, grad_y.shape, grad_y, w, stride, pads, dilation,
                                      groups, False, True, False)
    if need_bias:
        grad_b = conv2d_backward_bias(grad_y)
    return grad_x, grad_w, grad_b


def _im2col(x, cols, n0, nb, kh, kw, stride, padding, dilation, oh, ow):
    rows = cols.shape[0]
    args = (kh, kw, stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1],
            oh, ow)
    if _parallel(cols.size) and rows > 1:
        _im2col_par(x, cols, n0, nb, *args, NUM_THREADS)
    else:
        _im2col_rows(x, cols, n0, nb, *args, 0, rows)


def _col2im(cols, grad_x, n0, nb, kh, kw, stride, padding, dilation, oh, ow):
    args = (kh, kw, stride[0], stride[1], padding[0], padding[2], dilation[0], dilation[1],
            oh, ow)
    planes = nb * grad_x.shape[1]
    if _parallel(cols.size) and planes > 1:
        _col2im_par(cols, grad_x, n0, nb, *args, NUM_THREADS)
    else:
        _col2im_planes(cols, grad_x, n0, nb, *args, 0, planes)


@njit(cache=True, inline="always")
def _valid_range(off, stride, size, count):
    """[lo, hi): the output positions j in [0, count) whose input j*stride + off is in
    [0, size)."""
    lo = 0
    if off < 0:
        lo = (-off + stride - 1) // stride
    hi = 0
    if size - off > 0:
        hi = (size - off + stride - 1) // stride
    lo = min(lo, count)
    hi = min(max(hi, lo), count)
    return lo, hi


@njit(cache=True)
def _im2col_rows(x, cols, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, r0, r1):
    h = x.shape[2]
    wd = x.shape[3]
    pixels = oh * ow
    zero = x.dtype.type(0.0)
    for r in range(r0, r1):
        c = r // (kh * kw)
        p = (r // kw) % kh
        q = r % kw
        off_w = q * dw - pl
        lo, hi = _valid_range(off_w, sw, wd, ow)
        for b in range(nb):
            base = b * pixels
            for i in range(oh):
                ih = i * sh - pt + p * dh
                o = base + i * ow
                if ih < 0 or ih >= h:
                    for j in range(ow):
                        cols[r, o + j] = zero
                    continue
                for j in range(lo):
                    cols[r, o + j] = zero
                if sw == 1:
                    for j in range(lo, hi):
                        cols[r, o + j] = x[n0 + b, c, ih, j + off_w]
                else:
                    for j in range(lo, hi):
                        cols[r, o + j] = x[n0 + b, c, ih, j * sw + off_w]
                for j in range(hi, ow):
                    cols[r, o + j] = zero


# prange over row blocks, one per thread. With GOMP_SPINCOUNT set (kernels/_runtime.py) the
# BLAS call that follows is not starved; measured on 2 cores: im2col of the ResNet block
# chunk (576 x 2048) 0.9 ms serial, 0.5 ms parallel.
@njit(cache=True, parallel=True)
def _im2col_par(x, cols, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, nthreads):
    rows = cols.shape[0]
    nt = min(rows, 4 * nthreads)
    for t in prange(nt):
        _im2col_rows(x, cols, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow,
                     t * rows // nt, (t + 1) * rows // nt)


@njit(cache=True)
def _col2im_planes(cols, gx, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, k0, k1):
    """Accumulate cols into gx[n0 + b, c] for planes k = b * C + c in [k0, k1); each plane
    is owned by one caller, so planes can run in parallel."""
    c_in = gx.shape[1]
    h = gx.shape[2]
    wd = gx.shape[3]
    pixels = oh * ow
    for k in range(k0, k1):
        b = k // c_in
        c = k % c_in
        base = b * pixels
        for p in range(kh):
            for q in range(kw):
                r = (c * kh + p) * kw + q
                off_w = q * dw - pl
                lo, hi = _valid_range(off_w, sw, wd, ow)
                for i in range(oh):
                    ih = i * sh - pt + p * dh
                    if ih < 0 or ih >= h:
                        continue
                    o = base + i * ow
                    if sw == 1:
                        for j in range(lo, hi):
                            gx[n0 + b, c, ih, j + off_w] += cols[r, o + j]
                    else:
                        for j in range(lo, hi):
                            gx[n0 + b, c, ih, j * sw + off_w] += cols[r, o + j]


@njit(cache=True, parallel=True)
def _col2im_par(cols, gx, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, nthreads):
    planes = nb * gx.shape[1]
    nt = min(planes, 4 * nthreads)
    for t in prange(nt):
        _col2im_planes(cols, gx, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow,
                       t * planes // nt, (t + 1) * planes // nt)


@njit(cache=True)
def _scatter_rows(prod, bias, y, n0, nb, o0, o1):
    """y[n0 + b, o, :] = prod[o, b P : (b + 1) P] + bias[o] for o in [o0, o1)."""
    pixels = y.shape[2]
    for o in range(o0, o1):
        bo = bias[o]
        for b in range(nb):
            base = b * pixels
            for k in range(pixels):
                y[n0 + b, o, k] = prod[o, base + k] + bo


@njit(cache=True, parallel=True)
def _scatter_rows_par(prod, bias, y, n0, nb, nthreads):
    co = prod.shape[0]
    nt = min(co, 4 * nthreads)
    for t in prange(nt):
        _scatter_rows(prod, bias, y, n0, nb, t * co // nt, (t + 1) * co // nt)


@njit(cache=True)
def _gather_rows(gy, gyt, acc, n0, nb, o0, o1):
    """gyt[o, b P + k] = gy[n0 + b, o, k], and acc[o] += the sum of those values."""
    pixels = gy.shape[2]
    for o in range(o0, o1):
        s = 0.0
        for b in range(nb):
            base = b * pixels
            for k in range(pixels):
                v = gy[n0 + b, o, k]
                gyt[o, base + k] = v
                s += v
        acc[o] += s


@njit(cache=True, parallel=True)
def _gather_rows_par(gy, gyt, acc, n0, nb, nthreads):
    co = gy.shape[1]
    nt = min(co, 4 * nthreads)
    for t in prange(nt):
        _gather_rows(gy, gyt, acc, n0, nb, t * co // nt, (t + 1) * co // nt)


@njit(cache=True)
def _sum_rows(gy, acc):
    n, co, pixels = gy.shape
    for o in range(co):
        s = 0.0
        for b in range(n):
            for k in range(pixels):
                s += gy[b, o, k]
        acc[o] += s
