"""kernels.softmax against plain numpy: every dim, strided input, float32 and float64, large
magnitudes, -inf entries, NaN rows, the parallel path for large inputs, and both backward
formulas."""
import numpy as np
import pytest

from kernels import softmax as ks
from kernels._runtime import PARALLEL_MIN_ELEMENTS

DTYPES = [np.float32, np.float64]


def _softmax(x, dim):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


def _log_softmax(x, dim):
    x = x.astype(np.float64)
    m = x.max(dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(dim, keepdims=True))


def _tol(dtype):
    return {"rtol": 2e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}


def _grad_tol(dtype):
    # g - sum(...) cancels: float32 rounding of the O(1) gradient sets an absolute floor
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-13}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_forward_and_backward_match_numpy(rng, dtype, dim):
    x = (rng.standard_normal((3, 40, 5)) * 4).astype(dtype)
    strided = np.ascontiguousarray(x.transpose(2, 0, 1)).transpose(1, 2, 0)
    grad = rng.standard_normal(x.shape).astype(dtype)
    for data in (x, strided):
        y = ks.softmax_forward(data, dim)
        assert y.dtype == dtype and y.flags.c_contiguous
        np.testing.assert_allclose(y, _softmax(x, dim), **_tol(dtype))
        logy = ks.log_softmax_forward(data, dim)
        np.testing.assert_allclose(logy, _log_softmax(x, dim), **_tol(dtype))
        y64 = y.astype(np.float64)
        expected = y64 * (grad - (grad * y64).sum(dim, keepdims=True))
        np.testing.assert_allclose(ks.softmax_backward(y, grad, dim), expected,
                                   **_grad_tol(dtype))
        expected = grad - np.exp(logy.astype(np.float64)) * grad.sum(dim, keepdims=True)
        np.testing.assert_allclose(ks.log_softmax_backward(logy, grad, dim), expected,
                                   **_grad_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_stable_at_large_magnitudes_and_infinities(dtype):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0],
                  [0.0, -np.inf, 1.0]], dtype)
    np.testing.assert_allclose(ks.softmax_forward(x, 1), _softmax(x, 1), **_tol(dtype))
    np.testing.assert_allclose(ks.log_softmax_forward(x, 1), _log_softmax(x, 1), **_tol(dtype))
    assert ks.softmax_forward(x, 1)[2, 1] == 0.0
    assert ks.log_softmax_forward(x, 1)[2, 1] == -np.inf
    with_nan = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]], dtype)
    y = ks.softmax_forward(with_nan, 1)
    assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()


@pytest.mark.parametrize("dim", [1, 0])
def test_parallel_path_matches(rng, dim):
    rows = PARALLEL_MIN_ELEMENTS // 100 + 8
    x = rng.standard_normal((rows, 100)).astype(np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    y = ks.softmax_forward(x, dim)
    np.testing.assert_allclose(y, _softmax(x, dim), **_tol(np.float32))
    y64 = y.astype(np.float64)
    expected = y64 * (grad - (grad * y64).sum(dim, keepdims=True))
    np.testing.assert_allclose(ks.softmax_backward(y, grad, dim), expected,
                               **_grad_tol(np.float32))


def test_0d_empty_and_bad_input():
    assert ks.softmax_forward(np.array(3.0), 0) == 1.0
    assert ks.log_softmax_forward(np.array(3.0), -1) == 0.0
    assert ks.softmax_forward(np.zeros((0, 4)), 1).shape == (0, 4)
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        ks.softmax_forward(np.zeros((2, 3)), 2)
    with pytest.raises(TypeError, match="log_softmax"):
        ks.log_softmax_forward(np.zeros(3, np.int64), 0)
    with pytest.raises(ValueError, match="softmax_backward"):
        ks.softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)), 1)
