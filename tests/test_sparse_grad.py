"""Row-sparse gradients through the tape (the word2vec path)."""
import numpy as np

import autograd as ag
from autograd import Function
from autograd.sparse import RowSparse


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
