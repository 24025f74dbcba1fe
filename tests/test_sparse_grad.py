"""Row-sparse gradients through the tape (the word2vec path)."""
import numpy as np

import autograd as ag
import nn
from autograd import Function
from autograd.sparse import RowSparse
from nn import functional as F


class GatherRows(Function):
    """A minimal sparse-gradient op: table[ids], with a row-sparse backward."""

    @staticmethod
    def forward(ctx, table, ids):
        ctx.save_for_backward(ids)
        ctx.shape = table.shape
        return table[ids]

    @staticmethod
    def backward(ctx, grad):
        (ids,) = ctx.saved
        return RowSparse(ids, grad, ctx.shape), None


def test_row_sparse_gradient_accumulates_without_densifying():
    table = ag.tensor(np.ones((5, 2)), requires_grad=True)
    ids = np.array([1, 3, 1])
    GatherRows.apply(table, ids).backward(np.ones((3, 2)))
    GatherRows.apply(table, np.array([4])).backward(np.ones((1, 2)))
    grad = table.grad
    assert isinstance(grad, RowSparse)
    coalesced = grad.coalesce()
    assert coalesced.indices.tolist() == [1, 3, 4]
    np.testing.assert_allclose(coalesced.values, [[2, 2], [1, 1], [1, 1]])
    np.testing.assert_allclose(grad.to_dense(), [[0, 0], [2, 2], [0, 0], [1, 1], [1, 1]])


def test_sparse_plus_dense_paths_become_dense():
    table = ag.tensor(np.ones((4, 2)), requires_grad=True)
    out = GatherRows.apply(table, np.array([0, 0])).sum() + (table * 2.0).sum()
    out.backward()
    np.testing.assert_allclose(table.grad.data, [[4, 4], [2, 2], [2, 2], [2, 2]])


def _scaled_rows_example():
    rng = np.random.default_rng(0)
    indices = np.array([3, 0, 3, 5, 0, 3])
    scales = rng.standard_normal(6)
    basis = rng.standard_normal((2, 4))
    source = np.array([0, 0, 1, 1, 1, 0])
    dense = np.zeros((7, 4))
    for n in range(6):
        dense[indices[n]] += scales[n] * basis[source[n]]
    return RowSparse.from_scaled_rows(indices, scales, basis, source, (7, 4)), dense


def test_scaled_rows_behave_as_their_rows():
    grad, dense = _scaled_rows_example()
    assert grad.dtype == np.float64 and grad.shape == (7, 4)
    copy = grad.copy()
    assert copy.scaled_rows is not None and copy.scaled_rows[1] is not grad.scaled_rows[1]
    np.testing.assert_allclose(grad.to_dense(), dense, atol=1e-15)
    np.testing.assert_allclose((grad * 2.0).to_dense(), 2 * dense, atol=1e-15)
    np.testing.assert_allclose(grad.astype(np.float32).to_dense(), dense, rtol=1e-6)
    np.testing.assert_allclose(grad + np.ones((7, 4)), dense + 1, atol=1e-15)
    np.testing.assert_allclose((copy + grad).to_dense(), 2 * dense, atol=1e-15)
    coalesced = grad.coalesce()
    assert coalesced.indices.tolist() == [0, 3, 5]
    np.testing.assert_allclose(coalesced.values, dense[[0, 3, 5]], atol=1e-15)
    # reading the rows builds them once, coalesced; then it is an ordinary RowSparse
    assert grad.scaled_rows is None and sorted(grad.indices.tolist()) == [0, 3, 5]
    np.testing.assert_allclose(grad.to_dense(), dense, atol=1e-15)
    grad.zero_()
    assert grad.indices.size == 0 and grad.values.shape == (0, 4)
    assert not grad.to_dense().any()


def test_sgd_adds_scaled_rows_into_the_table():
    grad, dense = _scaled_rows_example()
    table = np.arange(28.0).reshape(7, 4)
    p = ag.tensor(table.copy(), requires_grad=True)
    p.grad = grad
    nn.optim.SGD([p], lr=0.5).step()
    assert grad.scaled_rows is not None            # applied without building the rows
    np.testing.assert_allclose(p.data, table - 0.5 * dense, atol=1e-14)


def test_negative_sampling_gradient_reaches_grad_as_scaled_rows():
    rng = np.random.default_rng(1)
    tables = [rng.standard_normal((9, 3)) for _ in range(2)]
    centers = np.array([1, 4, 1, 0])
    ids = rng.integers(0, 9, (4, 5))
    mask = np.ones((4, 5))
    mask[2, 3:] = 0
    labels = (np.arange(5) < 2) * np.ones((4, 1))
    grads = []
    for sparse in (True, False):
        center, context = (nn.Parameter(ag.tensor(t.copy())) for t in tables)
        F.negative_sampling_loss(centers, ids, labels, mask, center, context,
                                 sparse=sparse).backward()
        grads.append(context.grad)
    assert grads[0].scaled_rows is not None
    np.testing.assert_allclose(grads[0].to_dense(), grads[1].data, atol=1e-14)
