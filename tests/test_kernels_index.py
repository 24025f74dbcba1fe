"""Index and shape kernels against plain-numpy references (no autograd): select, gather and
scatter-add along every dim, the flat scatter-add, one_hot, padding and repeat."""
import numpy as np
import pytest

from kernels import index as ki
from kernels import shape as ks

DTYPES = [np.float32, np.float64]


def _reference_add(shape, dim, index, grad):
    """np.add.at along `dim` with an index of the gradient's shape (gather's backward)."""
    out = np.zeros(shape, grad.dtype)
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    np.add.at(out, tuple(grid), grad)
    return out


@pytest.mark.parametrize("dtype", DTYPES + [np.int64])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_index_select_matches_take(rng, dtype, dim):
    x = (rng.standard_normal((3, 4, 5)) * 10).astype(dtype)
    index = rng.integers(0, x.shape[dim], 7)
    np.testing.assert_array_equal(ki.index_select_forward(x, dim, index),
                                  np.take(x, index, axis=dim))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_index_select_backward_accumulates_repeats(rng, dtype, dim):
    index = np.array([1, 0, 1, 1, 2])
    grad_shape = [3, 4, 5]
    grad_shape[dim] = index.size
    grad = rng.standard_normal(grad_shape).astype(dtype)
    got = ki.index_select_backward(grad, dim, index, 3)
    shape = list(grad_shape)
    shape[dim] = 3
    expected = np.zeros(shape, dtype)
    np.add.at(expected, (slice(None),) * dim + (index,), grad)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_index_select_strided_and_empty(rng):
    x = rng.standard_normal((5, 4)).T            # strided
    np.testing.assert_array_equal(ki.index_select_forward(x, 1, np.array([4, 0])), x[:, [4, 0]])
    empty = ki.index_select_forward(x, 0, np.zeros(0, np.int64))
    assert empty.shape == (0, 5)


@pytest.mark.parametrize("bad", [-1, 3])
def test_index_select_out_of_range_names_op_and_index(bad):
    with pytest.raises(IndexError, match=rf"index_select: index {bad} .*size 3"):
        ki.index_select_forward(np.zeros((3, 2)), 0, np.array([0, bad]))


def test_index_must_be_integer():
    with pytest.raises(TypeError, match="gather: index must be an int64 array, got float64"):
        ki.gather_forward(np.zeros((3, 2)), 0, np.zeros((3, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_matches_take_along_axis(rng, dtype, dim):
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    index_shape = [3, 4, 5]
    index_shape[dim] = 6
    index = rng.integers(0, x.shape[dim], index_shape)
    np.testing.assert_array_equal(ki.gather_forward(x, dim, index),
                                  np.take_along_axis(x, index, axis=dim))
    grad = rng.standard_normal(index_shape).astype(dtype)
    np.testing.assert_allclose(ki.gather_backward(grad, dim, index, x.shape),
                               _reference_add(x.shape, dim, index, grad), rtol=1e-6)


def test_gather_smaller_index(rng):
    x = rng.standard_normal((4, 5))
    index = rng.integers(0, 5, (2, 3))
    np.testing.assert_array_equal(ki.gather_forward(x, 1, index),
                                  np.take_along_axis(x[:2], index, axis=1))
    grad = rng.standard_normal((2, 3))
    np.testing.assert_allclose(ki.gather_backward(grad, 1, index, x.shape),
                               _reference_add(x.shape, 1, index, grad))


def test_gather_rejects_wrong_rank_and_size():
    with pytest.raises(ValueError, match="gather: index must have as many dims"):
        ki.gather_forward(np.zeros((3, 2)), 0, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"gather: index shape \(3, 3\) exceeds"):
        ki.gather_forward(np.zeros((3, 2)), 0, np.zeros((3, 3), np.int64))
    with pytest.raises(IndexError, match="gather: index 7 is out of range for dim 1 of size 2"):
        ki.gather_forward(np.zeros((3, 2)), 1, np.array([[0], [7], [1]]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_add_matches_add_at(rng, dtype, dim):
    x = rng.standard_normal((3, 4)).astype(dtype)
    index_shape = [3, 4]
    index_shape[dim] = 7
    index = rng.integers(0, x.shape[dim], index_shape)
    src = rng.standard_normal(index_shape).astype(dtype)
    expected = x + _reference_add(x.shape, dim, index, src)
    got = ki.scatter_add_forward(x, dim, index, src)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not np.shares_memory(got, x)
    np.testing.assert_array_equal(ki.scatter_add_backward_src(got, dim, index, src.shape),
                                  np.take_along_axis(got, index, axis=dim))


def test_scatter_add_smaller_index_and_larger_src(rng):
    x = rng.standard_normal((4, 5))
    index = rng.integers(0, 5, (2, 3))
    src = rng.standard_normal((3, 4))
    expected = x.copy()
    expected[:2] += _reference_add((2, 5), 1, index, src[:2, :3])
    np.testing.assert_allclose(ki.scatter_add_forward(x, 1, index, src), expected)
    grad = rng.standard_normal((4, 5))
    grad_src = ki.scatter_add_backward_src(grad, 1, index, src.shape)
    assert grad_src.shape == src.shape
    np.testing.assert_array_equal(grad_src[:2, :3], np.take_along_axis(grad[:2], index, 1))
    assert not grad_src[2:].any() and not grad_src[:, 3:].any()


def test_scatter_add_out_of_range_leaves_input_alone():
    x = np.zeros((3, 2))
    with pytest.raises(IndexError, match="scatter_add: index 3 is out of range"):
        ki.scatter_add_forward(x, 0, np.array([[0, 3]]), np.ones((1, 2)))
    assert not x.any()


@pytest.mark.parametrize("index", [np.array([[0, 2, 2], [1, 1, 0]]),
                                   (slice(None), np.array([3, 3, -1])),
                                   np.array([True, False, True]),
                                   (np.array([2, 2]), slice(1, None, 2))])
def test_getitem_backward_matches_add_at(rng, index):
    shape = (3, 4)
    positions = np.arange(12).reshape(shape)[index]
    grad = rng.standard_normal(positions.shape)
    expected = np.zeros(shape)
    np.add.at(expected, index, grad)
    np.testing.assert_allclose(ki.getitem_backward(grad, positions, shape), expected)


def test_one_hot():
    indices = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(ki.one_hot_forward(indices, -1),
                                  np.eye(4, dtype=np.int64)[indices])
    assert ki.one_hot_forward(indices, 6).shape == (2, 2, 6)
    with pytest.raises(ValueError, match="one_hot: class value 3 is out of range"):
        ki.one_hot_forward(indices, 3)
    with pytest.raises(ValueError, match="one_hot: class values must be non-negative"):
        ki.one_hot_forward(np.array([-1]), 3)


NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}


@pytest.mark.parametrize("mode", list(NUMPY_MODES))
@pytest.mark.parametrize("pad, widths", [((2, 1, 0, 2), ((0, 0), (0, 2), (2, 1))),
                                         ((2, 1, 0, 2, 1, 2), ((1, 2), (0, 2), (2, 1)))])
def test_pad_matches_numpy_pad(rng, mode, pad, widths):
    x = rng.standard_normal((3, 4, 5))
    y, state = ks.pad_forward(x, pad, mode)
    np.testing.assert_array_equal(y, np.pad(x, widths, mode=NUMPY_MODES[mode]))
    grad = rng.standard_normal(y.shape)
    # pad is linear, so its backward is its adjoint: <pad(x), g> = <x, pad_backward(g)>
    assert np.isclose(np.vdot(y, grad), np.vdot(x, ks.pad_backward(grad, state, mode, x.shape)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_negative_crops_then_pads(rng, mode):
    x = rng.standard_normal((2, 6))
    y, state = ks.pad_forward(x, (-2, 1), mode, 0.5)
    kept = x[:, 2:]
    fill = {"constant": np.pad(kept, ((0, 0), (0, 1)), constant_values=0.5),
            "reflect": np.pad(kept, ((0, 0), (0, 1)), mode="reflect"),
            "replicate": np.pad(kept, ((0, 0), (0, 1)), mode="edge"),
            "circular": np.pad(kept, ((0, 0), (0, 1)), mode="wrap")}[mode]
    np.testing.assert_array_equal(y, fill)
    y, state = ks.pad_forward(x, (-2, 1), mode)          # value 0: linear in x
    grad = rng.standard_normal(y.shape)
    assert np.isclose(np.vdot(y, grad), np.vdot(x, ks.pad_backward(grad, state, mode, x.shape)))


def test_pad_rejects_bad_sizes():
    with pytest.raises(ValueError, match="pad: reflect padding"):
        ks.pad_forward(np.zeros((2, 3)), (3, 0), "reflect")
    with pytest.raises(ValueError, match="pad: the pad tuple must have an even length"):
        ks.pad_forward(np.zeros((2, 3)), (1,), "constant")
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        ks.pad_forward(np.zeros((2, 3)), (1, 1), "mirror")


@pytest.mark.parametrize("sizes", [(2, 3), (1, 1), (2, 1, 3), (0, 2)])
def test_repeat_matches_tile_and_sums_back(rng, sizes):
    x = rng.standard_normal((2, 3))
    y = ks.repeat_forward(x, sizes)
    np.testing.assert_array_equal(y, np.tile(x, sizes))
    grad = rng.standard_normal(y.shape)
    assert np.isclose(np.vdot(y, grad), np.vdot(x, ks.repeat_backward(grad, sizes, x.shape)))
