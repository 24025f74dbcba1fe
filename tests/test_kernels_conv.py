"""kernels/conv.py, pool.py and norm.py against plain-numpy references (no autograd), on the
serial and the parallel paths and with the batch split into several chunks."""
import threading

import numpy as np
import pytest

from kernels import _runtime as runtime
from kernels import conv as kconv
from kernels import normalization as knorm
from kernels import pool as kpool


def _padded(x, pads, value=0.0):
    t, b, l, r = pads
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def _windows(x, kh, kw, sh, sw, dh, dw, oh, ow):
    """(p, q) -> the (N, C, oh, ow) slice of x read by kernel tap (p, q)."""
    return {(p, q): x[:, :, p * dh: p * dh + sh * (oh - 1) + 1: sh,
                      q * dw: q * dw + sw * (ow - 1) + 1: sw]
            for p in range(kh) for q in range(kw)}


def conv2d_reference(x, w, b, stride, pads, dilation, groups):
    """Forward and a closure giving the three gradients, tap by tap with einsum."""
    xp = _padded(x, pads)
    co, cg, kh, kw = w.shape
    oh = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    taps = _windows(xp, kh, kw, *stride, *dilation, oh, ow)
    og = co // groups
    y = np.zeros((x.shape[0], co, oh, ow))
    for g in range(groups):
        for (p, q), xs in taps.items():
            y[:, g * og:(g + 1) * og] += np.einsum(
                "nchw,oc->nohw", xs[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og, :, p, q])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)

    def grads(gy):
        gxp = np.zeros_like(xp)
        gw = np.zeros_like(w)
        gtaps = _windows(gxp, kh, kw, *stride, *dilation, oh, ow)
        for g in range(groups):
            go = gy[:, g * og:(g + 1) * og]
            for (p, q), xs in taps.items():
                gw[g * og:(g + 1) * og, :, p, q] = np.einsum(
                    "nohw,nchw->oc", go, xs[:, g * cg:(g + 1) * cg])
                gtaps[p, q][:, g * cg:(g + 1) * cg] += np.einsum(
                    "nohw,oc->nchw", go, w[g * og:(g + 1) * og, :, p, q])
        t, bt, l, r = pads
        gx = gxp[:, :, t:gxp.shape[2] - bt, l:gxp.shape[3] - r]
        return gx, gw, gy.sum(axis=(0, 2, 3))
    return y, grads


CONV_CASES = [
    # N, C, H, W, Co, KH, KW, stride, pads (t, b, l, r), dilation, groups
    (2, 3, 7, 7, 4, 3, 3, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (2, 4, 7, 8, 6, 3, 2, (2, 1), (1, 1, 0, 2), (1, 2), 2),
    (3, 4, 9, 9, 4, 3, 3, (2, 3), (1, 2, 0, 1), (2, 1), 4),
    (3, 6, 5, 5, 6, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (1, 2, 6, 6, 4, 5, 5, (3, 3), (2, 2, 2, 2), (1, 1), 1),
    (5, 3, 6, 6, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (2, 3, 6, 7, 6, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 3),     # depthwise, multiplier 2
    (3, 5, 8, 8, 5, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 5),     # depthwise, MobileNet's
    (2, 3, 5, 19, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),    # wide output (OW >= 16)
    (2, 4, 9, 8, 4, 3, 4, (1, 1), (2, 1, 0, 2), (2, 1), 4),     # depthwise, dilated
    (2, 2, 9, 8, 4, 5, 2, (1, 2), (1, 0, 1, 1), (1, 1), 2),     # depthwise, stride (1, 2)
]


def _choose_path(monkeypatch, path):
    """Force the batch-GEMM path or the per-image path, in one piece of work or several."""
    if path.startswith("batch"):
        monkeypatch.setattr(kconv, "IMAGE_GEMM_MAX_MACS", 0)
        if path == "batch-chunked":
            monkeypatch.setattr(kconv, "CHUNK_ELEMENTS", 64)     # several batch chunks
    else:
        monkeypatch.setattr(kconv, "IMAGE_GEMM_MAX_MACS", 1 << 40)
        if path == "image-pieces":
            monkeypatch.setattr(kconv, "PIECE_ELEMENTS", 1)      # one image per piece


PATHS = ["batch", "batch-chunked", "image", "image-pieces"]


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
@pytest.mark.parametrize("path", PATHS)
def test_conv2d_matches_reference(case, path, monkeypatch):
    n, c, h, w, co, kh, kw, stride, pads, dilation, groups = case
    _choose_path(monkeypatch, path)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((co, c // groups, kh, kw))
    b = rng.standard_normal(co)
    y = kconv.conv2d_forward(x, wt, b, stride, pads, dilation, groups)
    ref, grads = conv2d_reference(x, wt, b, stride, pads, dilation, groups)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)
    gy = rng.standard_normal(y.shape)
    gx, gw, gb = kconv.conv2d_backward(gy, x, wt, stride, pads, dilation, groups)
    for ours, theirs in zip((gx, gw, gb), grads(gy)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    gx_only, none_w, none_b = kconv.conv2d_backward(gy, x, wt, stride, pads, dilation, groups,
                                                    need_weight=False, need_bias=False)
    assert none_w is None and none_b is None
    np.testing.assert_allclose(gx_only, gx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", ["batch-chunked", "image-pieces"])
def test_conv2d_worker_threads_float32(path, monkeypatch):
    """The batch split between worker threads: shares in several chunks (batch path), or
    pieces taken by whichever thread is free (per-image path)."""
    blas = runtime._BLAS_THREADS
    assert len(kconv._shares(7, 1 << 30)) == min(7, runtime.get_num_threads()) or blas is None
    monkeypatch.setattr(kconv, "PARALLEL_MIN_MACS", 0)
    _choose_path(monkeypatch, path)
    if path == "batch-chunked":
        monkeypatch.setattr(kconv, "CHUNK_ELEMENTS", 2000)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    args = ((2, 1), (1, 1, 0, 2), (1, 2), 2)
    threads = blas[0]() if blas else None
    y = kconv.conv2d_forward(x, w, b, *args)
    if threads is not None:                      # BLAS's thread count is restored
        assert blas[0]() == threads
    assert y.dtype == np.float32
    ref, grads = conv2d_reference(x.astype(np.float64), w.astype(np.float64),
                                  b.astype(np.float64), *args)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    for ours, theirs in zip(kconv.conv2d_backward(gy, x, w, *args), grads(gy)):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_conv_transpose2d_is_the_adjoint():
    """<conv_transpose(x), g> == <x, conv(g)>, and its gradients are conv's."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 4, 5))
    w = rng.standard_normal((4, 3, 3, 2))                       # (Ci, Co / G, KH, KW), G = 2
    stride, padding, output_padding, dilation, groups = (2, 3), (1, 0), (1, 2), (1, 2), 2
    y = kconv.conv_transpose2d_forward(x, w, None, stride, padding, output_padding, dilation,
                                       groups)
    expected = [(4 - 1) * 2 - 2 + 1 * 2 + 1 + 1, (5 - 1) * 3 - 0 + 2 * 1 + 2 + 1]
    assert y.shape == (2, 6, *expected)
    g = rng.standard_normal(y.shape)
    pads = (padding[0], padding[0], padding[1], padding[1])
    conv_g = kconv._conv_forward(g, w, None, stride, pads, dilation, groups, 4, 5)
    assert np.isclose(np.vdot(y, g), np.vdot(x, conv_g))
    gx, gw, gb = kconv.conv_transpose2d_backward(g, x, w, stride, padding, dilation, groups)
    np.testing.assert_allclose(gx, conv_g, rtol=1e-12)
    np.testing.assert_allclose(gb, g.sum(axis=(0, 2, 3)), rtol=1e-12)
    eps = 1e-6
    dw = rng.standard_normal(w.shape)
    plus = kconv.conv_transpose2d_forward(x, w + eps * dw, None, stride, padding,
                                          output_padding, dilation, groups)
    minus = kconv.conv_transpose2d_forward(x, w - eps * dw, None, stride, padding,
                                           output_padding, dilation, groups)
    assert np.isclose(np.vdot(plus - minus, g) / (2 * eps), np.vdot(gw, dw), rtol=1e-6)


def test_conv_errors_name_the_op():
    x = np.zeros((1, 3, 5, 5), np.float32)
    with pytest.raises(ValueError, match="conv2d: input has 3 channels"):
        kconv.conv2d_forward(x, np.zeros((4, 2, 3, 3), np.float32), None, (1, 1),
                             (0, 0, 0, 0), (1, 1), 1)
    with pytest.raises(TypeError, match="conv2d: inputs must share one dtype"):
        kconv.conv2d_forward(x, np.zeros((4, 3, 3, 3)), None, (1, 1), (0, 0, 0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        kconv.conv2d_forward(x, np.zeros((4, 3, 3, 3), np.float32), None, (1, 1),
                             (0, 0, 0, 0), (3, 3), 1)
    with pytest.raises(ValueError, match="bias must have shape"):
        kconv.conv2d_forward(x, np.zeros((4, 3, 3, 3), np.float32),
                             np.zeros(3, np.float32), (1, 1), (0, 0, 0, 0), (1, 1), 1)


def _sliding(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, value):
    """(P, oh, ow, kh * kw) windows of (P, H, W) planes padded with `value` (ceil-mode
    windows reaching past the padding see `value` too)."""
    extra_h = max(0, (oh - 1) * sh + dh * (kh - 1) + 1 - (x.shape[1] + 2 * ph))
    extra_w = max(0, (ow - 1) * sw + dw * (kw - 1) + 1 - (x.shape[2] + 2 * pw))
    xp = np.pad(x, ((0, 0), (ph, ph + extra_h), (pw, pw + extra_w)), constant_values=value)
    taps = [xp[:, a * dh: a * dh + sh * (oh - 1) + 1: sh, b * dw: b * dw + sw * (ow - 1) + 1: sw]
            for a in range(kh) for b in range(kw)]
    return np.stack(taps, axis=-1)


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", [
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((2, 3), (1, 2), (1, 1), (2, 1), False),
    ((4, 3), (3, 2), (2, 1), (1, 1), True),
])
@pytest.mark.parametrize("parallel", [False, True])
def test_max_pool2d_matches_reference(kernel, stride, padding, dilation, ceil_mode, parallel,
                                      monkeypatch):
    if parallel:
        monkeypatch.setattr(kpool, "PARALLEL_MIN_WORK", 0)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 7, 8))
    y, idx = kpool.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    win = _sliding(x, *kernel, *stride, *padding, *dilation, *y.shape[1:], -np.inf)
    np.testing.assert_array_equal(y, win.max(axis=-1))
    np.testing.assert_array_equal(np.take_along_axis(x.reshape(4, -1), idx.reshape(4, -1), 1),
                                  y.reshape(4, -1))
    gy = rng.standard_normal(y.shape)
    gx = kpool.max_pool2d_backward(gy, idx, x.shape)
    expected = np.zeros(x.shape)
    np.add.at(expected.reshape(4, -1), (np.arange(4)[:, None], idx.reshape(4, -1)),
              gy.reshape(4, -1))
    np.testing.assert_array_equal(gx, expected)


def test_max_pool2d_propagates_nan():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    x[0, 1, 0] = np.nan
    y, idx = kpool.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert np.isnan(y[0, 0, 0]) and idx[0, 0, 0] == 4
    assert y[0, 1, 1] == 15


@pytest.mark.parametrize("count_include_pad, divisor", [(True, None), (False, None), (True, 5)])
def test_avg_pool2d_matches_reference(count_include_pad, divisor, monkeypatch):
    monkeypatch.setattr(kpool, "PARALLEL_MIN_WORK", 0)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 7, 6))
    args = ((3, 2), (2, 2), (1, 1))
    y = kpool.avg_pool2d_forward(x, *args, True, count_include_pad, divisor)
    oh, ow = y.shape[1:]
    sums = _sliding(x, 3, 2, 2, 2, 1, 1, 1, 1, oh, ow, 0.0).sum(axis=-1)
    ones = _sliding(np.ones_like(x), 3, 2, 2, 2, 1, 1, 1, 1, oh, ow, 0.0).sum(axis=-1)
    padded = _sliding(np.ones_like(x), 3, 2, 2, 2, 1, 1, 1, 1, oh, ow, 1.0)  # padding counts
    padded = (padded * _sliding(np.ones((1, 9, 8)), 3, 2, 2, 2, 0, 0, 1, 1, oh, ow, 0.0)).sum(
        axis=-1)                                    # ... but not the ceil-mode overhang
    divide = divisor if divisor else (padded if count_include_pad else ones)
    np.testing.assert_allclose(y, sums / divide, rtol=1e-12)
    gy = rng.standard_normal(y.shape)
    gx = kpool.avg_pool2d_backward(gy, x.shape, *args, count_include_pad, divisor)
    assert np.isclose(np.vdot(gx, x), np.vdot(gy, y))          # linear: the adjoint identity


def test_adaptive_pools_match_reference():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 5))
    y = kpool.adaptive_avg_pool2d_forward(x, (3, 2))
    ym, idx = kpool.adaptive_max_pool2d_forward(x, (3, 2))
    for i in range(3):
        r0, r1 = (i * 7) // 3, -(-(i + 1) * 7 // 3)
        for j in range(2):
            c0, c1 = (j * 5) // 2, -(-(j + 1) * 5 // 2)
            np.testing.assert_allclose(y[:, i, j], x[:, r0:r1, c0:c1].mean(axis=(1, 2)))
            np.testing.assert_array_equal(ym[:, i, j], x[:, r0:r1, c0:c1].max(axis=(1, 2)))
    np.testing.assert_allclose(kpool.adaptive_avg_pool2d_forward(x, (1, 1))[:, 0, 0],
                               x.mean(axis=(1, 2)))
    gy = rng.standard_normal(y.shape)
    gx = kpool.adaptive_avg_pool2d_backward(gy, x.shape)
    assert np.isclose(np.vdot(gx, x), np.vdot(gy, y))


def test_lp_pool2d_matches_reference():
    rng = np.random.default_rng(6)
    x = rng.uniform(0.5, 2.0, (2, 6, 6))
    y = kpool.lp_pool2d_forward(x, 3.0, (2, 3), (2, 3), False)
    win = _sliding(x, 2, 3, 2, 3, 0, 0, 1, 1, *y.shape[1:], 0.0)
    np.testing.assert_allclose(y, (win ** 3).sum(axis=-1) ** (1 / 3), rtol=1e-12)
    gy = rng.standard_normal(y.shape)
    gx = kpool.lp_pool2d_backward(gy, x, y, 3.0, (2, 3), (2, 3))
    expected = (x ** 2) * np.repeat(np.repeat(gy * y ** -2.0, 2, axis=1), 3, axis=2)
    np.testing.assert_allclose(gx, expected, rtol=1e-12)


def test_pool_errors_name_the_op():
    x = np.zeros((2, 4, 4), np.float32)
    with pytest.raises(ValueError, match="max_pool2d: padding"):
        kpool.max_pool2d_forward(x, (2, 2), (2, 2), (2, 2), (1, 1), False)
    with pytest.raises(ValueError, match="too small"):
        kpool.avg_pool2d_forward(x, (5, 5), (1, 1), (0, 0), False, True, None)
    with pytest.raises(TypeError, match="lp_pool2d"):
        kpool.lp_pool2d_forward(x.astype(np.int64), 2, (2, 2), (2, 2), False)


def _batch_norm_reference(x, w, b, eps):
    mean = x.mean(axis=(0, 2))
    var = x.var(axis=(0, 2))
    xhat = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + eps)
    return xhat * w[None, :, None] + b[None, :, None], mean, var, xhat


@pytest.mark.parametrize("parallel", [False, True])
def test_batch_norm_matches_reference(parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr(knorm, "PARALLEL_MIN_WORK", 0)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4, 6)) * 3 + 1
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    y, mean, var = knorm.batch_norm_forward_train(x, w, b, 1e-5)
    ref, rmean, rvar, xhat = _batch_norm_reference(x, w, b, 1e-5)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mean, rmean, rtol=1e-12)
    np.testing.assert_allclose(var, rvar, rtol=1e-12)
    g = rng.standard_normal(x.shape)
    invstd = 1 / np.sqrt(var + 1e-5)
    gx, gw, gb = knorm.batch_norm_backward(g, x, w, mean, invstd, True)
    gxhat = g * w[None, :, None]
    expected = invstd[None, :, None] * (gxhat - gxhat.mean(axis=(0, 2), keepdims=True)
                                        - xhat * (gxhat * xhat).mean(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(gx, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, (g * xhat).sum(axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(gb, g.sum(axis=(0, 2)), rtol=1e-10)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    ye = knorm.batch_norm_forward_eval(x, w, b, rm, rv, 1e-3)
    inv = 1 / np.sqrt(rv + 1e-3)
    np.testing.assert_allclose(ye, (x - rm[None, :, None]) * (inv * w)[None, :, None]
                               + b[None, :, None], rtol=1e-10, atol=1e-12)
    gxe, _, _ = knorm.batch_norm_backward(g, x, w, rm, inv, False)
    np.testing.assert_allclose(gxe, g * (w * inv)[None, :, None], rtol=1e-12)


def test_batch_norm_float32_is_accurate_with_a_large_mean():
    """float64 statistics of x - (a channel element): a float32 input with a mean far above
    its spread."""
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((64, 2, 256)) + 1000.0).astype(np.float32)
    y, mean, var = knorm.batch_norm_forward_train(x, None, None, 1e-5)
    assert y.dtype == np.float32
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=(0, 2)), rtol=1e-9)
    assert abs(float(y.std()) - 1.0) < 1e-3


def test_layer_and_group_norm_match_reference():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 10)) * 2 + 0.5
    w, b = rng.standard_normal(10), rng.standard_normal(10)
    y, mean, invstd = knorm.layer_norm_forward(x, w, b, 1e-5)
    xhat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, xhat * w + b, rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(x.shape)
    gx, gw, gb = knorm.layer_norm_backward(g, x, w, mean, invstd)
    gxh = g * w
    expected = invstd[:, None] * (gxh - gxh.mean(1, keepdims=True)
                                  - xhat * (gxh * xhat).mean(1, keepdims=True))
    np.testing.assert_allclose(gx, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, (g * xhat).sum(0), rtol=1e-10)
    np.testing.assert_allclose(gb, g.sum(0), rtol=1e-10)

    x3 = rng.standard_normal((2, 6, 5))
    w6, b6 = rng.standard_normal(6), rng.standard_normal(6)
    y3, _, _ = knorm.group_norm_forward(x3, 3, w6, b6, 1e-5)
    groups = x3.reshape(2, 3, 10)
    xhat3 = ((groups - groups.mean(2, keepdims=True))
             / np.sqrt(groups.var(2, keepdims=True) + 1e-5)).reshape(x3.shape)
    np.testing.assert_allclose(y3, xhat3 * w6[None, :, None] + b6[None, :, None], rtol=1e-10,
                               atol=1e-12)
    with pytest.raises(ValueError, match="group_norm: num_groups 4 must divide"):
        knorm.group_norm_forward(x3, 4, None, None, 1e-5)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        knorm.batch_norm_forward_train(np.zeros((1, 3, 1)), None, None, 1e-5)


def test_workers_run_claimed_hands_out_every_piece_once():
    """Each piece index reaches exactly one call; the calling thread's result comes first."""
    seen = []

    def work(claim):
        mine = []
        k = claim()
        while k is not None:
            mine.append(k)
            k = claim()
        seen.extend(mine)
        return threading.get_ident()

    results = runtime.WORKERS.run_claimed(work, 50, threads=2)
    assert sorted(seen) == list(range(50))
    assert results[0] == threading.get_ident() and 1 <= len(results) <= 2
    assert runtime.WORKERS.run_claimed(work, 1) == [threading.get_ident()]


def test_set_num_threads_runs_the_kernels_in_the_calling_thread():
    """kernels.set_num_threads(1): one share, one claiming thread; the count is restored."""
    import kernels
    before = kernels.get_num_threads()
    try:
        kernels.set_num_threads(1)
        assert kconv._shares(64, 1 << 30) == [(0, 64)]
        assert runtime.WORKERS.run_claimed(lambda claim: threading.get_ident(), 8) == [
            threading.get_ident()]
    finally:
        kernels.set_num_threads(before)
    with pytest.raises(ValueError, match="set_num_threads"):
        kernels.set_num_threads(0)


@pytest.mark.parametrize("groups", [1, 4])
def test_conv2d_backward_is_deterministic_across_threads(groups, monkeypatch):
    """Pieces go to whichever thread is free, yet the gradient sums do not depend on it: two
    threads give bit for bit the result of one."""
    import kernels
    monkeypatch.setattr(kconv, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(kconv, "PIECE_ELEMENTS", 1)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 4, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 4 // groups, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((9, 4, 8, 8)).astype(np.float32)
    args = ((1, 1), (1, 1, 1, 1), (1, 1), groups)
    before = kernels.get_num_threads()
    try:
        kernels.set_num_threads(1)
        serial = kconv.conv2d_backward(gy, x, w, *args)
        kernels.set_num_threads(before)
        for _ in range(3):
            for ours, theirs in zip(kconv.conv2d_backward(gy, x, w, *args), serial):
                np.testing.assert_array_equal(ours, theirs)
    finally:
        kernels.set_num_threads(before)
