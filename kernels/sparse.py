"""Row-sparse gradients: the rows of a (V, D) table touched by a minibatch.

    scatter_add_rows: dense[indices[k]] += rows[k]     (repeated indices accumulate)
    coalesce_rows:    (indices, rows) -> (unique sorted indices, the rows summed per index)
"""
import numpy as np
from numba import njit

from kernels._checks import expect_ndim


def scatter_add_rows(dense, indices, rows):
    """Add each row of `rows` (K, D) into `dense` (V, D) at `indices` (K,), in place."""
    expect_ndim("scatter_add_rows", "dense", dense, 2)
    if rows.shape != (indices.shape[0], dense.shape[1]) or rows.dtype != dense.dtype:
        raise ValueError(f"scatter_add_rows: rows {rows.dtype}{rows.shape} do not match "
                         f"{indices.shape[0]} indices into a {dense.dtype}{dense.shape} table")
    if indices.size and (indices.min() < 0 or indices.max() >= dense.shape[0]):
        raise IndexError(f"scatter_add_rows: indices must lie in [0, {dense.shape[0]}), got "
                         f"min {indices.min()} max {indices.max()}")
    _scatter_add_rows(dense, np.ascontiguousarray(indices, dtype=np.int64),
                      np.ascontiguousarray(rows))
    return dense


def coalesce_rows(indices, rows):
    """Sum the rows that share an index; returns (sorted unique indices, summed rows)."""
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    order = np.argsort(indices, kind="stable")
    sorted_indices = indices[order]
    starts = np.flatnonzero(np.r_[True, sorted_indices[1:] != sorted_indices[:-1]])
    out = np.zeros((starts.size, rows.shape[1]), rows.dtype)
    _sum_runs(np.ascontiguousarray(rows), order, starts, out)
    return sorted_indices[starts], out


@njit(cache=True)
def _scatter_add_rows(dense, indices, rows):
    for k in range(indices.shape[0]):
        target = dense[indices[k]]
        source = rows[k]
        for j in range(source.shape[0]):
            target[j] += source[j]


@njit(cache=True)
def _sum_runs(rows, order, starts, out):
    n = order.shape[0]
    for u in range(starts.shape[0]):
        end = starts[u + 1] if u + 1 < starts.shape[0] else n
        target = out[u]
        for k in range(starts[u], end):
            source = rows[order[k]]
            for j in range(source.shape[0]):
                target[j] += source[j]
