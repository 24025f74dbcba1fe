"""kernels.reduce against plain numpy: every dim form (all, one, an adjacent run, a split
tuple) on C-contiguous and strided input in float32 and float64, the SIMD-lane paths of long
rows, float32 sums accumulated in float64, and the backward conventions PyTorch uses at
zeros (prod, norm, std) and ties (max over a dim: the first index; amax: an even split)."""
import math

import numpy as np
import pytest

from kernels import reduce as kr

DTYPES = [np.float32, np.float64]
DIMS = [(0, 1, 2), (0,), (1,), (2,), (0, 1), (1, 2), (0, 2)]


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


def _inputs(rng, dtype):
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    yield "contiguous", x
    yield "strided", np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims", DIMS, ids=str)
def test_forward_matches_numpy(rng, dtype, dims):
    for _, x in _inputs(rng, dtype):
        x64 = x.astype(np.float64)
        a = np.abs(x64)
        expected = {
            "sum": (kr.sum_forward(x, dims), x64.sum(dims)),
            "mean": (kr.mean_forward(x, dims, True), x64.mean(dims, keepdims=True)),
            "prod": (kr.prod_forward(x, dims), x64.prod(dims)),
            "amax": (kr.amax_forward(x, dims), x64.max(dims)),
            "amin": (kr.amin_forward(x, dims, True), x64.min(dims, keepdims=True)),
            "var": (kr.var_forward(x, dims, 1)[0], x64.var(dims, ddof=1)),
            "std0": (kr.std_forward(x, dims, 0)[0], x64.std(dims)),
            "logsumexp": (kr.logsumexp_forward(x, dims), np.log(np.exp(x64).sum(dims))),
            "norm2": (kr.norm_forward(x, 2, dims), np.sqrt((a * a).sum(dims))),
            "norm1": (kr.norm_forward(x, 1, dims), a.sum(dims)),
            "norm_inf": (kr.norm_forward(x, math.inf, dims), a.max(dims)),
            "norm_neg_inf": (kr.norm_forward(x, -math.inf, dims), a.min(dims)),
            "norm0": (kr.norm_forward(x, 0, dims), (a != 0).sum(dims)),
            "norm3": (kr.norm_forward(x, 3, dims), ((a ** 3).sum(dims)) ** (1 / 3)),
        }
        for name, (ours, ref) in expected.items():
            assert ours.dtype == dtype, name
            assert ours.shape == np.shape(ref), name
            np.testing.assert_allclose(ours, ref, **_tol(dtype), err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_max_min_cumsum_over_one_dim(rng, dtype, dim):
    for _, x in _inputs(rng, dtype):
        values, indices = kr.max_forward(x, dim)
        np.testing.assert_array_equal(indices, x.argmax(dim))
        np.testing.assert_array_equal(values, x.max(dim))
        values, indices = kr.min_forward(x, dim, keepdim=True)
        np.testing.assert_array_equal(indices, x.argmin(dim, keepdims=True))
        assert indices.dtype == np.int64
        np.testing.assert_allclose(kr.cumsum_forward(x, dim), np.cumsum(x.astype(np.float64), dim),
                                   **_tol(dtype))
        np.testing.assert_allclose(kr.cumsum_backward(x, dim),
                                   np.flip(np.cumsum(np.flip(x, dim), dim), dim), **_tol(dtype))
    assert kr.argmax_forward(x) == x.argmax()
    assert kr.argmin_forward(x, None, keepdim=True).shape == (1, 1, 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_rows_use_every_lane(rng, dtype):
    x = rng.standard_normal((3, 77)).astype(dtype)
    x[0, 76] = 9.0                  # the extreme in the scalar tail
    x[1, 20] = 9.0                  # in the lanes
    x[2, 5] = x[2, 40] = -9.0       # a tie for the min: the first index
    values, indices = kr.max_forward(x, 1)
    np.testing.assert_array_equal(indices[:2], [76, 20])
    values, indices = kr.min_forward(x, 1)
    assert indices[2] == 5
    with_nan = x.copy()
    with_nan[1, 50] = np.nan
    values, indices = kr.max_forward(with_nan, 1)
    assert np.isnan(values[1]) and indices[1] == 50 and values[0] == 9.0
    assert np.isnan(kr.amin_forward(with_nan, (0, 1)))


def test_float32_sum_accumulates_in_float64(rng):
    x = (rng.standard_normal(1 << 20) + 1.0).astype(np.float32)
    exact = x.astype(np.float64).sum()
    assert abs(float(kr.sum_forward(x, (0,))) - exact) <= 1e-7 * abs(exact)
    cols = x.reshape(1024, 1024)
    np.testing.assert_allclose(kr.mean_forward(cols, (0,)), cols.astype(np.float64).mean(0),
                               rtol=1e-6)
    v, _ = kr.var_forward(cols, (1,), 1)
    np.testing.assert_allclose(v, cols.astype(np.float64).var(1, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("dims", DIMS, ids=str)
def test_sum_and_mean_backward_broadcast(rng, dims):
    x = rng.standard_normal((3, 4, 5))
    grad = rng.standard_normal(kr.sum_forward(x, dims).shape)
    expected = np.broadcast_to(np.expand_dims(grad, dims), x.shape)
    out = kr.sum_backward(grad, x.shape, dims)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)
    n = math.prod(x.shape[d] for d in dims)
    np.testing.assert_allclose(kr.mean_backward(grad, x.shape, dims), expected / n)


def test_prod_backward_with_zeros():
    x = np.array([[1.0, 2.0, 3.0, 4.0],
                  [1.0, 0.0, 3.0, 4.0],
                  [0.0, 2.0, 0.0, 4.0]])
    grad = np.array([1.0, 2.0, 3.0])
    out = kr.prod_backward(x, grad, (1,))
    np.testing.assert_allclose(out, [[24.0, 12.0, 8.0, 6.0],
                                     [0.0, 24.0, 0.0, 0.0],
                                     [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(kr.prod_backward(x.T, grad, (0,)), out.T)


def test_max_backward_goes_to_the_first_tied_index():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0]])
    values, indices = kr.max_forward(x, 1)
    np.testing.assert_array_equal(indices, [1, 0])
    out = kr.max_backward(np.array([5.0, 7.0]), indices, x.shape, 1)
    np.testing.assert_array_equal(out, [[0, 5, 0, 0], [7, 0, 0, 0]])


def test_amax_backward_splits_ties_evenly():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0]])
    y = kr.amax_forward(x, (1,))
    out = kr.amax_backward(x, y, np.array([1.0, 3.0]), (1,))
    np.testing.assert_allclose(out, [[0, 0.5, 0.5, 0], [1, 1, 0, 1]])
    y = kr.amax_forward(x, (0, 1))
    out = kr.amax_backward(x, y, np.array(2.0), (0, 1))
    np.testing.assert_allclose(out, [[0, 1, 1, 0], [0, 0, 0, 0]])


def test_var_std_backward(rng):
    x = rng.standard_normal((3, 6))
    grad = rng.standard_normal(3)
    v, mean = kr.var_forward(x, (1,), 1)
    centered = x - x.mean(1, keepdims=True)
    np.testing.assert_allclose(kr.var_backward(x, mean, grad, (1,), 1),
                               2 * grad[:, None] * centered / 5)
    s, mean = kr.std_forward(x, (1,), 1)
    np.testing.assert_allclose(kr.std_backward(x, mean, s, grad, (1,), 1),
                               grad[:, None] * centered / (5 * s[:, None]))
    flat = np.full((2, 3), 0.5)
    s, mean = kr.std_forward(flat, (1,), 1)
    assert not np.any(kr.std_backward(flat, mean, s, np.ones(2), (1,), 1))   # 0 at std = 0


def test_logsumexp_is_stable_and_its_backward_is_softmax(rng):
    x = rng.standard_normal((4, 50)) * 300
    y = kr.logsumexp_forward(x, (1,))
    m = x.max(1)
    np.testing.assert_allclose(y, m + np.log(np.exp(x - m[:, None]).sum(1)))
    grad = rng.standard_normal(4)
    softmax = np.exp(x - y[:, None])
    np.testing.assert_allclose(kr.logsumexp_backward(x, y, grad, (1,)), grad[:, None] * softmax)
    assert kr.logsumexp_forward(np.full((2, 3), -np.inf), (1,)).tolist() == [-np.inf] * 2
    x32 = np.array([[88.0, 88.5, 80.0]], np.float32)               # exp overflows float32
    assert np.isfinite(kr.logsumexp_forward(x32, (1,))).all()


def test_norm_backward_conventions():
    x = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0], [2.0, -2.0, 1.0]])
    grad = np.array([1.0, 1.0, 1.0])
    y = kr.norm_forward(x, 2, (1,))
    out = kr.norm_backward(x, y, grad, 2, (1,))
    np.testing.assert_allclose(out[0], 0.0)                         # zero vector: 0
    np.testing.assert_allclose(out[1], [0.6, -0.8, 0.0])
    y = kr.norm_forward(x, math.inf, (1,))
    out = kr.norm_backward(x, y, grad, math.inf, (1,))
    np.testing.assert_allclose(out[2], [0.5, -0.5, 0.0])            # ties split the gradient
    out = kr.norm_backward(x, kr.norm_forward(x, 1, (1,)), grad, 1, (1,))
    np.testing.assert_allclose(out, np.sign(x))


def test_empty_and_0d(rng):
    empty = np.zeros((0, 3))
    np.testing.assert_array_equal(kr.sum_forward(empty, (0,)), np.zeros(3))
    np.testing.assert_array_equal(kr.prod_forward(empty, (0,)), np.ones(3))
    assert np.isnan(kr.mean_forward(empty, (0,))).all()
    assert kr.sum_forward(empty, (1,)).shape == (0,)
    with pytest.raises(IndexError, match="amax"):
        kr.amax_forward(empty, (0,))
    with pytest.raises(IndexError, match="argmax"):
        kr.argmax_forward(empty)
    scalar = np.array(2.5)
    assert kr.sum_forward(scalar, ()).shape == ()
    assert kr.max_forward(scalar, 0)[1] == 0
    assert kr.cumsum_forward(scalar, 0) == 2.5


def test_bad_input():
    with pytest.raises(TypeError, match="sum: expected a float32 or float64 array, got int64"):
        kr.sum_forward(np.arange(3), (0,))
    with pytest.raises(ValueError, match="sum_backward"):
        kr.sum_backward(np.ones(4), (3, 5), (1,))
