"""RowSparse: the gradient of an embedding table when only some rows were used.

`Embedding(sparse=True)` produces one; the tape adds it to other gradients without
densifying (two row-sparse gradients concatenate; a dense one absorbs it), and a leaf's
`.grad` keeps it sparse, so SGD/Adagrad/SparseAdam update only the touched rows. Like
PyTorch's sparse COO gradient it may hold repeated indices until `coalesce()`.
"""
import numpy as np

from kernels.sparse import coalesce_rows, scatter_add_rows


class RowSparse:
    """Rows `values` (K, D) at row `indices` (K,) of a (V, D) table of zeros."""

    is_sparse = True
    __array_ufunc__ = None      # `dense + sparse` comes to __radd__ instead of numpy

    def __init__(self, indices, values, shape):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.values = values
        self.shape = tuple(shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def data(self):
        return self

    def coalesce(self):
        """The same gradient with unique, sorted indices."""
        indices, values = coalesce_rows(self.indices, self.values)
        return RowSparse(indices, values, self.shape)

    def to_dense(self):
        dense = np.zeros(self.shape, self.values.dtype)
        return scatter_add_rows(dense, self.indices, self.values)

    def astype(self, dtype, copy=True):
        return RowSparse(self.indices, self.values.astype(dtype, copy=copy), self.shape)

    def copy(self):
        return RowSparse(self.indices.copy(), self.values.copy(), self.shape)

    def all_finite(self):
        return bool(np.isfinite(self.values).all())

    def __add__(self, other):
        if isinstance(other, RowSparse):
            return RowSparse(np.concatenate([self.indices, other.indices]),
                             np.concatenate([self.values, other.values]), self.shape)
        dense = np.array(other, dtype=np.result_type(other, self.values), copy=True)
        return scatter_add_rows(dense, self.indices, self.values.astype(dense.dtype))

    __radd__ = __add__

    def __mul__(self, scale):
        return RowSparse(self.indices, self.values * scale, self.shape)

    __rmul__ = __mul__

    def __repr__(self):
        return (f"RowSparse(shape={self.shape}, rows={self.indices.shape[0]}, "
                f"dtype={self.values.dtype})")
