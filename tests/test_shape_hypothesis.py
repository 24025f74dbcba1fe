"""Property tests where shapes matter: reshape, permute, expand and indexing against numpy,
and broadcasting in the binary ops. Gradients are checked with a random cotangent against a
numpy reference (np.add.at for indexing, sums over the broadcast dims for binary ops)."""
import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag

SETTINGS = settings(derandomize=True, max_examples=60, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
SEEDS = st.integers(0, 2 ** 32 - 1)


def _leaf(array):
    """A leaf over `array` itself (no copy), so strided inputs stay strided."""
    return ag.Tensor(array, requires_grad=True)


def _grad_of(y, x, cotangent):
    y.backward(cotangent)
    return x.grad.data


def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


@st.composite
def reshape_cases(draw):
    """(input shape, target shape with maybe one -1, transpose the input first)."""
    shape = draw(SHAPES)
    size = math.prod(shape)
    ndim = draw(st.integers(0 if size == 1 else 1, 4))
    target = [1] * ndim
    if size == 0:
        target[draw(st.integers(0, ndim - 1))] = 0
        target = [n if n == 0 else draw(st.integers(1, 3)) for n in target]
    else:
        for factor in _prime_factors(size):
            target[draw(st.integers(0, ndim - 1))] *= factor
    if ndim and size and draw(st.booleans()):
        target[draw(st.integers(0, ndim - 1))] = -1
    return shape, tuple(target), draw(st.booleans())


@given(reshape_cases(), SEEDS)
@SETTINGS
def test_reshape_matches_numpy(case, seed):
    shape, target, transposed = case
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    if transposed:
        data = data.T                           # a strided input: view or copy as numpy does
    x = _leaf(data)
    y = x.reshape(target)
    expected = np.reshape(data, target)
    np.testing.assert_array_equal(y.data, expected)
    if x.data.flags.c_contiguous and data.size:
        assert np.shares_memory(y.data, x.data)
    cotangent = rng.standard_normal(expected.shape)
    np.testing.assert_array_equal(_grad_of(y, x, cotangent), cotangent.reshape(data.shape))


@given(SHAPES.flatmap(lambda s: st.tuples(st.just(s), st.permutations(range(len(s))))),
       st.booleans(), SEEDS)
@SETTINGS
def test_permute_matches_transpose(case, negative, seed):
    shape, perm = case
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    dims = [d - len(shape) for d in perm] if negative else list(perm)
    x = _leaf(data)
    y = x.permute(*dims)
    np.testing.assert_array_equal(y.data, np.transpose(data, perm))
    cotangent = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(_grad_of(y, x, cotangent),
                                  np.transpose(cotangent, np.argsort(perm)))


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       SEEDS)
@SETTINGS
def test_expand_sums_gradient_back(shapes, seed):
    small = shapes.input_shapes[0]
    target = shapes.result_shape
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(small)
    x = _leaf(data)
    y = x.expand(target)
    np.testing.assert_array_equal(y.data, np.broadcast_to(data, target))
    cotangent = rng.standard_normal(target)
    np.testing.assert_allclose(_grad_of(y, x, cotangent), _sum_to(cotangent, small))


INDEX_SHAPES = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)


@st.composite
def advanced_indices(draw, shape):
    """A mix of integer arrays (with repeats and negatives), bool masks and slices."""
    items = []
    dim = 0
    while dim < len(shape):
        kind = draw(st.sampled_from(["array", "slice", "int", "mask"] if dim == 0 else
                                    ["array", "slice", "int"]))
        n = shape[dim]
        if kind == "array":
            count = draw(st.integers(0, 4))
            items.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=count,
                                                max_size=count)), dtype=np.int64))
        elif kind == "slice":
            step = draw(st.sampled_from([1, 2, -1]))
            items.append(slice(draw(st.integers(-n, n)), None, step))
        elif kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        else:
            width = draw(st.integers(1, len(shape)))
            mask = draw(hnp.arrays(np.bool_, shape[:width]))
            items.append(mask)
            dim += width
            continue
        dim += 1
    items = items[:draw(st.integers(1, len(items)))]
    if not any(isinstance(i, np.ndarray) for i in items):     # dim 0 is then an int or slice
        items[0] = np.array(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1,
                                          max_size=4)), dtype=np.int64)
    return tuple(items)


def _check_getitem(data, index, rng):
    x = _leaf(data)
    y = x[index]
    expected = data[index]
    np.testing.assert_array_equal(y.data, expected)
    cotangent = rng.standard_normal(expected.shape)
    reference = np.zeros(data.shape)
    np.add.at(reference, index, cotangent)      # accumulates over repeated indices
    np.testing.assert_allclose(_grad_of(y, x, cotangent), reference, atol=1e-12)
    return x, y


@given(INDEX_SHAPES.flatmap(lambda s: st.tuples(st.just(s), hnp.basic_indices(
    s, allow_newaxis=True, allow_ellipsis=True))), SEEDS)
@SETTINGS
def test_basic_indexing_is_a_view_with_scatter_backward(case, seed):
    shape, index = case
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    x, y = _check_getitem(data, index, rng)
    assert np.shares_memory(y.data, x.data) or y.data.size == 0
    assert y._version is x._version


@given(INDEX_SHAPES.flatmap(lambda s: st.tuples(st.just(s), advanced_indices(s))), SEEDS,
       st.booleans())
@SETTINGS
def test_advanced_indexing_matches_numpy(case, seed, as_tensors):
    shape, index = case
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape)
    if as_tensors:
        index = tuple(ag.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
        numpy_index = tuple(i.data if isinstance(i, ag.Tensor) else i for i in index)
    else:
        numpy_index = index
    x = _leaf(data)
    y = x[index]
    expected = data[numpy_index]
    np.testing.assert_array_equal(y.data, expected)
    cotangent = rng.standard_normal(expected.shape)
    reference = np.zeros(shape)
    np.add.at(reference, numpy_index, cotangent)
    np.testing.assert_allclose(_grad_of(y, x, cotangent), reference, atol=1e-12)


def _sum_to(grad, shape):
    """numpy reference for the broadcast reduction: sum the leading dims, then the 1-dims."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    for axis, n in enumerate(shape):
        if n == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad.reshape(shape)


BINARY = {
    "add": (ag.add, np.add, lambda a, b, g: (g, g)),
    "mul": (ag.mul, np.multiply, lambda a, b, g: (g * b, g * a)),
    "maximum": (ag.maximum, np.maximum, lambda a, b, g: (g * (a > b), g * (b > a))),
}


@given(st.sampled_from(sorted(BINARY)),
       hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       SEEDS)
@SETTINGS
def test_binary_broadcasting_matches_numpy(name, shapes, seed):
    op, numpy_op, partials = BINARY[name]
    shape_a, shape_b = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a_data, b_data = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = _leaf(a_data), _leaf(b_data)
    y = op(a, b)
    np.testing.assert_allclose(y.data, numpy_op(a_data, b_data))
    cotangent = rng.standard_normal(shapes.result_shape)
    y.backward(cotangent)
    grad_a, grad_b = partials(np.broadcast_to(a_data, shapes.result_shape),
                              np.broadcast_to(b_data, shapes.result_shape), cotangent)
    np.testing.assert_allclose(a.grad.data, _sum_to(grad_a, shape_a), atol=1e-12)
    np.testing.assert_allclose(b.grad.data, _sum_to(grad_b, shape_b), atol=1e-12)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
@SETTINGS
def test_split_then_cat_round_trips(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(1, shape[dim]))
    rng = np.random.default_rng(data.draw(SEEDS))
    x = _leaf(rng.standard_normal(shape))
    pieces = x.split(size, dim)
    assert [p.shape[dim] for p in pieces][:-1] == [size] * (len(pieces) - 1)
    y = ag.cat(pieces, dim)
    np.testing.assert_array_equal(y.data, x.data)
    cotangent = rng.standard_normal(shape)
    np.testing.assert_array_equal(_grad_of(y, x, cotangent), cotangent)


def test_views_share_the_version_counter():
    base = _leaf(np.arange(6.0).reshape(2, 3)) * 1.0
    saved = base * base                             # Mul saves base
    for view in (base.view(6), base[0], base.T, base.unsqueeze(0), base.expand(4, 2, 3)):
        assert view._version is base._version
    base.view(6).add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        saved.backward(np.ones((2, 3)))


def test_setitem_gradients_reach_both_sides():
    a = _leaf(np.arange(6.0).reshape(2, 3))
    b = _leaf(np.array([10.0, 20.0, 30.0]))
    x = a * 1.0
    x[0] = b * 2.0
    x[x > 4.5] = 0.0
    np.testing.assert_array_equal(x.data, [[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    x.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(a.grad.data, [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(b.grad.data, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("index, error, pattern", [
    (ag.tensor([0.5]), TypeError, "getitem.*float32"),
    (5, IndexError, "getitem: index 5 .*size 2"),
    ((slice(None), [0, 9]), IndexError, "getitem: index 9 .*size 3"),
    (1.0, TypeError, "getitem: unsupported index 1.0"),
])
def test_index_errors_name_the_op_and_values(index, error, pattern):
    with pytest.raises(error, match=pattern):
        ag.tensor(np.zeros((2, 3)))[index]


def test_view_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"view: shape \(4, 2\) is invalid for input of "
                                           r"shape \(2, 3\)"):
        ag.tensor(np.zeros((2, 3))).view(4, 2)
    with pytest.raises(RuntimeError, match="view: .*not compatible.*use reshape"):
        ag.tensor(np.zeros((2, 3))).T.view(6)
