"""RowSparse: the gradient of an embedding table when only some rows were used.

`Embedding(sparse=True)` produces one; the tape adds it to other gradients without
densifying (two row-sparse gradients concatenate; a dense one absorbs it), and a leaf's
`.grad` keeps it sparse, so SGD/Adagrad/SparseAdam update only the touched rows. Like
PyTorch's sparse COO gradient it may hold repeated indices until `coalesce()`.

word2vec's losses give the context table's gradient in scaled-rows form: row n is
scales[n] * basis[source[n]] (a center word's vector times one logit's error) at indices[n].
That is three numbers a row and a (B, D) basis instead of D numbers a row, so the tape copies
it cheaply and SGD adds it straight into the table (`scaled_rows_add_`). Reading `indices` or
`values` builds the rows, coalesced, once; from then on it is an ordinary RowSparse.
"""
import numpy as np

from kernels.embedding import scaled_rows_add_, sum_rows_by_id
from kernels.sparse import coalesce_rows, scatter_add_rows


class RowSparse:
    """Rows `values` (K, D) at row `indices` (K,) of a (V, D) table of zeros."""

    is_sparse = True
    __array_ufunc__ = None      # `dense + sparse` comes to __radd__ instead of numpy

    def __init__(self, indices, values, shape):
        self._indices = np.asarray(indices, dtype=np.int64)
        self._values = values
        self.scaled_rows = None
        self.shape = tuple(shape)

    @classmethod
    def from_scaled_rows(cls, indices, scales, basis, source, shape):
        """The gradient whose row n is scales[n] * basis[source[n]], at indices[n]: indices
        and source (N,) int64, scales (N,), basis (B, D). Kept in that form (`scaled_rows`)
        until `indices` or `values` is read."""
        grad = cls.__new__(cls)
        grad._indices = grad._values = None
        grad.scaled_rows = (indices, scales, basis, source)
        grad.shape = tuple(shape)
        return grad

    def _build_rows(self):
        indices, scales, basis, source = self.scaled_rows
        self._indices, self._values = sum_rows_by_id(basis, indices, self.shape[0],
                                                     source=source, factors=scales)
        self.scaled_rows = None

    @property
    def indices(self):
        if self.scaled_rows is not None:
            self._build_rows()
        return self._indices

    @property
    def values(self):
        if self.scaled_rows is not None:
            self._build_rows()
        return self._values

    @property
    def dtype(self):
        return (self._values if self.scaled_rows is None else self.scaled_rows[2]).dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def data(self):
        return self

    def coalesce(self):
        """The same gradient with unique, sorted indices."""
        if self.indices.size == 0:
            return self.copy()
        indices, values = coalesce_rows(self.indices, self.values)
        return RowSparse(indices, values, self.shape)

    def to_dense(self):
        return self._add_into(np.zeros(self.shape, self.dtype))

    def _add_into(self, dense):
        """dense + self, in place in `dense`."""
        if self.scaled_rows is not None:
            return scaled_rows_add_(dense, *self.scaled_rows)
        return scatter_add_rows(dense, self._indices, self._values.astype(dense.dtype,
                                                                          copy=False))

    def zero_(self):
        """Make this gradient empty (no rows) in place: PyTorch's zero_() of a sparse grad."""
        self._indices = np.empty(0, np.int64)
        self._values = np.empty((0,) + self.shape[1:], self.dtype)
        self.scaled_rows = None
        return self

    def astype(self, dtype, copy=True):
        if self.scaled_rows is not None:
            indices, scales, basis, source = self.scaled_rows
            return RowSparse.from_scaled_rows(indices, scales.astype(dtype, copy=copy),
                                              basis.astype(dtype, copy=copy), source,
                                              self.shape)
        return RowSparse(self._indices, self._values.astype(dtype, copy=copy), self.shape)

    def copy(self):
        if self.scaled_rows is not None:
            return RowSparse.from_scaled_rows(*(a.copy() for a in self.scaled_rows),
                                              self.shape)
        return RowSparse(self._indices.copy(), self._values.copy(), self.shape)

    def all_finite(self):
        return bool(np.isfinite(self.values).all())

    def __add__(self, other):
        if isinstance(other, RowSparse):
            return RowSparse(np.concatenate([self.indices, other.indices]),
                             np.concatenate([self.values, other.values]), self.shape)
        return self._add_into(np.array(other, dtype=np.result_type(other, self.dtype),
                                       copy=True))

    __radd__ = __add__

    def __mul__(self, scale):
        if self.scaled_rows is not None:
            indices, scales, basis, source = self.scaled_rows
            return RowSparse.from_scaled_rows(indices, scales * scale, basis, source,
                                              self.shape)
        return RowSparse(self._indices, self._values * scale, self.shape)

    __rmul__ = __mul__

    def __repr__(self):
        rows = (f"{self.scaled_rows[0].shape[0]} scaled rows" if self.scaled_rows is not None
                else f"rows={self._indices.shape[0]}")
        return f"RowSparse(shape={self.shape}, {rows}, dtype={self.dtype})"
