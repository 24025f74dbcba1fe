"""kernels/pool.py on windows that tile the plane (uint8 window positions, write-once
backward, vector rows of 2x2 windows) against the general kernels and plain numpy, and the
`out=` buffers of the pooling and normalisation backwards."""
import numpy as np
import pytest

from kernels import normalization as knorm
from kernels import pool as kpool

# (P, H, W): rows of 2x2 windows shorter than 4 outputs (scalar), of 4-7, 8-15 and 16+
# outputs (vectors, the last one moved back), odd sizes (rows and columns in no window)
SHAPES = [(3, 6, 6), (2, 9, 7), (2, 4, 12), (2, 6, 26), (2, 5, 34), (5, 2, 40), (1, 2, 2)]
KERNELS = [(2, 2), (1, 2), (3, 3), (2, 3)]


def _cases():
    for shape in SHAPES:
        for kernel in KERNELS:
            if kpool.windows_tile(shape[1:], kernel, kernel, (0, 0), (1, 1), False):
                yield shape, kernel


def _input(rng, shape, dtype):
    """Random values with NaNs, ties (rounded values) and a plane of zeros."""
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, :3] = np.nan
    x[-1] = np.round(x[-1])
    x[-1, :, -3:] = 0.0
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True])
def test_max_pool_tiles_match_the_general_kernel(dtype, parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr(kpool, "PARALLEL_MIN_WORK", 0)
    rng = np.random.default_rng(11)
    for shape, kernel in _cases():
        x = _input(rng, shape, dtype)
        y_ref, idx = kpool.max_pool2d_forward(x, kernel, kernel, (0, 0), (1, 1), False)
        y, positions = kpool.max_pool2d_tiles_forward(x, kernel)
        assert positions.dtype == np.uint8
        np.testing.assert_array_equal(y, y_ref)          # NaN where the window has one
        np.testing.assert_array_equal(kpool.tile_positions_to_indices(positions, shape, kernel),
                                      idx)               # first maximum, last NaN, as PyTorch
        gy = rng.standard_normal(y.shape).astype(dtype)
        out = np.full(shape, 7.0, dtype)                 # every element must be written
        gx = kpool.max_pool2d_tiles_backward(gy, positions, shape, kernel, out=out)
        assert gx is out
        np.testing.assert_array_equal(gx, kpool.max_pool2d_backward(gy, idx, shape))


@pytest.mark.parametrize("divisor", [None, 3])
@pytest.mark.parametrize("parallel", [False, True])
def test_avg_pool_tiles_match_numpy(divisor, parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr(kpool, "PARALLEL_MIN_WORK", 0)
    rng = np.random.default_rng(12)
    for (p, h, w), (kh, kw) in _cases():
        x = rng.standard_normal((p, h, w)).astype(np.float32)
        args = ((kh, kw), (kh, kw), (0, 0))
        y = kpool.avg_pool2d_forward(x, *args, False, True, divisor)
        oh, ow = h // kh, w // kw
        d = np.float32(divisor or kh * kw)
        windows = x[:, :oh * kh, :ow * kw].reshape(p, oh, kh, ow, kw)
        np.testing.assert_allclose(y, windows.sum(axis=(2, 4)) / d, rtol=1e-6, atol=1e-6)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        out = np.full((p, h, w), 7.0, np.float32)
        gx = kpool.avg_pool2d_backward(gy, (p, h, w), *args, True, divisor, out=out)
        expected = np.zeros_like(x)
        expected[:, :oh * kh, :ow * kw] = np.repeat(np.repeat(gy / d, kh, axis=1), kw, axis=2)
        np.testing.assert_array_equal(gx, expected)


def test_windows_tile():
    assert kpool.windows_tile((32, 32), (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert kpool.windows_tile((9, 7), (2, 2), (2, 2), (0, 0), (1, 1), False)   # floor mode
    assert kpool.windows_tile((8, 8), (2, 2), (2, 2), (0, 0), (1, 1), True)    # exact
    assert not kpool.windows_tile((9, 8), (2, 2), (2, 2), (0, 0), (1, 1), True)  # partial
    assert not kpool.windows_tile((8, 8), (3, 3), (2, 2), (0, 0), (1, 1), False)  # overlap
    assert not kpool.windows_tile((8, 8), (2, 2), (2, 2), (1, 1), (1, 1), False)  # padding
    assert not kpool.windows_tile((8, 8), (2, 2), (2, 2), (0, 0), (2, 2), False)  # dilation
    assert not kpool.windows_tile((34, 34), (17, 17), (17, 17), (0, 0), (1, 1), False)  # > 256


def test_tile_kernels_check_their_inputs():
    x = np.zeros((2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="max_pool2d: .* do not tile"):
        kpool.max_pool2d_tiles_forward(x, (6, 6))
    y, positions = kpool.max_pool2d_tiles_forward(x, (2, 2))
    with pytest.raises(TypeError, match="positions must be uint8"):
        kpool.max_pool2d_tiles_backward(y, positions.astype(np.int64), x.shape, (2, 2))
    with pytest.raises(ValueError, match="out must be a C-contiguous float32"):
        kpool.max_pool2d_tiles_backward(y, positions, x.shape, (2, 2),
                                        out=np.empty(x.shape, np.float64))


def test_norm_backwards_write_into_out():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 3, 10))
    g = rng.standard_normal(x.shape)
    w = rng.standard_normal(3)
    _, mean, var = knorm.batch_norm_forward_train(x, w, None, 1e-5)
    invstd = 1 / np.sqrt(var + 1e-5)
    out = np.empty((4, 3, 2, 5))
    gx, gw, gb = knorm.batch_norm_backward(g, x, w, mean, invstd, True, out=out)
    assert gx is out
    ref, gw_ref, gb_ref = knorm.batch_norm_backward(g, x, w, mean, invstd, True)
    np.testing.assert_array_equal(out.reshape(x.shape), ref)
    np.testing.assert_array_equal(gw, gw_ref)
    np.testing.assert_array_equal(gb, gb_ref)
    with pytest.raises(ValueError, match="batch_norm_backward: out"):
        knorm.batch_norm_backward(g, x, w, mean, invstd, True, out=np.empty(5))


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_batch_norm_one_pass_statistics(offset):
    """Sums of x - (the channel's first element): exact enough in float64 for a mean far
    from zero, for float64 input too."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal((16, 3, 50)) * 0.01 + offset
    _, mean, var = knorm.batch_norm_forward_train(x, None, None, 1e-5)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2)), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(var, x.var(axis=(0, 2)), rtol=1e-8)


@pytest.mark.parametrize("layout", ["contiguous", "strided", "float16"])
def test_batch_norm_updates_running_statistics(layout):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((6, 3, 5)).astype(np.float32) * 2 + 1
    start_mean, start_var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    if layout == "strided":
        mean_buf = np.zeros(6, np.float32)[::2]
        var_buf = np.zeros(6, np.float32)[::2]
    else:
        dtype = np.float16 if layout == "float16" else np.float32
        mean_buf, var_buf = np.zeros(3, dtype), np.zeros(3, dtype)
    mean_buf[...] = start_mean
    var_buf[...] = start_var
    x64 = x.astype(np.float64)
    expected_mean = 0.7 * mean_buf.astype(np.float64) + 0.3 * x64.mean(axis=(0, 2))
    expected_var = 0.7 * var_buf.astype(np.float64) + 0.3 * x64.var(axis=(0, 2), ddof=1)
    knorm.batch_norm_forward_train(x, None, None, 1e-5, mean_buf, var_buf, 0.3)
    tol = 1e-3 if layout == "float16" else 1e-6
    np.testing.assert_allclose(mean_buf, expected_mean, rtol=tol, atol=tol)
    np.testing.assert_allclose(var_buf, expected_var, rtol=tol)
