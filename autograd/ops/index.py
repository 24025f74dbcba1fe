"""Indexing ops: x[index], the out-of-place assignment behind `x[index] = v`, gather,
scatter_add, index_select, masked_fill, take_along_dim and one_hot.

    getitem       y = x[index] (numpy semantics)        grad_x = zeros with g added at index
                  basic indices (ints, slices, None, ...) give a view sharing x's version
                  counter; advanced ones (int/bool arrays) a copy, whose backward is a
                  scatter-add that accumulates over repeated indices
    setitem       y = x with y[index] = v               grad_x = g with g[index] = 0,
                                                        grad_v = g[index] (summed to v's shape)
    gather        y = x[..., index, ...] elementwise    grad_x = scatter_add of g at index
    scatter_add   y = x; y[..index..] += src            grad_x = g, grad_src = gather(g, index)
    index_select  y = x.take(index, axis=dim)           grad_x = g summed into rows index
    masked_fill   y = where(mask, value, x)             grad_x = g where not mask,
                                                        grad_value = sum of g where mask
Kernels: kernels/index.py.
"""
import math
import numbers

import numpy as np

from autograd import dtypes
from autograd.function import Function
from autograd.ops._util import as_tensor, normalize_dim
from autograd.ops.pointwise import cast
from autograd.ops.shape import expand, reshape
from autograd.tensor import Tensor, wrap
from kernels import elementwise as ew
from kernels import index as ki


__all__ = ["GetItemView", "GetItem", "SetItem", "Gather", "ScatterAdd", "IndexSelect",
           "MaskedFill", "getitem", "setitem", "gather", "scatter_add", "index_select",
           "masked_fill", "take_along_dim", "one_hot"]


def _index_error(op, error, shape):
    return IndexError(f"{op}: {error} (tensor of shape {shape})")


class GetItemView(Function):
    """x[index] for a basic index (ints, slices, None, Ellipsis): a numpy view."""

    is_view = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        ctx.in_shape = x.shape
        try:
            return x[index]
        except IndexError as error:
            raise _index_error("getitem", error, x.shape) from None

    @staticmethod
    def backward(ctx, grad):
        grad_x = np.zeros(ctx.in_shape, grad.dtype)
        grad_x[ctx.index] = grad
        return grad_x, None


class GetItem(Function):
    """x[index] with integer or bool arrays among the index (a copy)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        ctx.in_shape = x.shape
        try:
            return x[index]
        except IndexError as error:
            raise _index_error("getitem", error, x.shape) from None

    @staticmethod
    def backward(ctx, grad):
        index = ctx.index
        shape = ctx.in_shape
        rows = index[0]
        if len(index) == 1 and type(rows) is np.ndarray and rows.dtype.kind != "b":
            # x[rows]: whole rows of x, one scatter-add per selected row
            flat = grad.reshape((rows.size,) + shape[1:])
            return ki.index_select_backward(flat, 0, rows.reshape(-1), shape[0]), None
        positions = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[index]
        return ki.getitem_backward(grad, positions, shape), None


class SetItem(Function):
    """x with x[index] = value, as a new array (Tensor.__setitem__ copies it back in place)."""

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index = index
        ctx.value_shape = np.shape(value)
        out = x.copy()
        try:
            out[index] = value
        except IndexError as error:
            raise _index_error("setitem", error, x.shape) from None
        except ValueError as error:
            raise ValueError(f"setitem: {error} (tensor of shape {x.shape}, value of shape "
                             f"{np.shape(value)})") from None
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = grad.copy()
            grad_x[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            grad_value = grad[ctx.index]
            extra = len(ctx.value_shape) - grad_value.ndim
            if extra > 0:   # numpy drops a value's leading size-1 dims when assigning
                grad_value = grad_value.reshape((1,) * extra + grad_value.shape)
        return grad_x, grad_value, None


class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] (for dim 1)."""

    @staticmethod
    def forward(ctx, x, dim, index, op="gather"):
        ctx.in_shape = x.shape
        ctx.dim = dim
        ctx.index = index
        return ki.gather_forward(x, dim, index, op)

    @staticmethod
    def backward(ctx, grad):
        return ki.gather_backward(grad, ctx.dim, ctx.index, ctx.in_shape), None, None


class ScatterAdd(Function):
    """x with src[i][j][k] added at [i][index[i][j][k]][k] (for dim 1), out of place."""

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim = dim
        ctx.index = index
        ctx.src_shape = src.shape
        return ki.scatter_add_forward(x, dim, index, src)

    @staticmethod
    def backward(ctx, grad):
        grad_src = None
        if ctx.needs_input_grad[3]:
            grad_src = ki.scatter_add_backward_src(grad, ctx.dim, ctx.index, ctx.src_shape)
        return (grad if ctx.needs_input_grad[0] else None), None, None, grad_src


class IndexSelect(Function):
    """x.take(index, axis=dim) for a 1-D int64 index."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim = dim
        ctx.index = index
        ctx.size = x.shape[dim]
        return ki.index_select_forward(x, dim, index)

    @staticmethod
    def backward(ctx, grad):
        return ki.index_select_backward(grad, ctx.dim, ctx.index, ctx.size), None, None


class MaskedFill(Function):
    """where(mask, value, x) for a 0-d value (an array or a differentiable 0-d tensor)."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        return ew.where_forward(mask, value, x)

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = ew.where_backward_b(ctx.mask, grad)
        if ctx.needs_input_grad[2]:
            grad_value = ew.where_backward_a(ctx.mask, grad)
        return grad_x, None, grad_value


_BASIC_TYPES = (int, slice, type(None), type(Ellipsis))


def _index_array(op, item):
    """An index entry that is a Tensor, an array or a list, as an int64 or bool array."""
    array = item.data if isinstance(item, Tensor) else np.asarray(item)
    kind = array.dtype.kind
    if kind == "b":
        return array
    if kind in "iu":
        return array if array.dtype == dtypes.int64 else array.astype(dtypes.int64)
    if array.size == 0 and not isinstance(item, (Tensor, np.ndarray)):
        return array.astype(dtypes.int64)       # [] means no rows, as in PyTorch
    raise TypeError(f"{op}: index tensors must be int64 or bool, got {array.dtype}")


def _index_item(op, item):
    t = type(item)
    if t in _BASIC_TYPES:
        if t is slice and not all(b is None or isinstance(b, numbers.Integral)
                                  for b in (item.start, item.stop, item.step)):
            return slice(*(b if b is None or isinstance(b, numbers.Integral) else int(b)
                           for b in (item.start, item.stop, item.step)))
        return item
    if isinstance(item, (Tensor, np.ndarray, list)):
        return _index_array(op, item)
    if isinstance(item, (bool, np.bool_)):
        return bool(item)
    if isinstance(item, numbers.Integral):
        return int(item)
    raise TypeError(f"{op}: unsupported index {item!r} of type {type(item).__name__}; use "
                    f"ints, slices, None, ..., or int64/bool tensors")


def _normalize_index(op, index):
    """(index as a tuple of numpy-ready entries, whether it is basic)."""
    items = index if type(index) is tuple else (index,)
    items = tuple(_index_item(op, item) for item in items)
    basic = all(type(item) in _BASIC_TYPES for item in items)
    if basic and Ellipsis not in items:
        items = items + (Ellipsis,)     # x[0] of a 1-D array is then a 0-d view, not a scalar
    return items, basic


def getitem(x, index):
    """x[index] with numpy/PyTorch semantics; basic indexing returns a view."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    t = type(index)
    if t is int or t is slice:
        return GetItemView.apply(x, (index, Ellipsis))
    index, basic = _normalize_index("getitem", index)
    if basic:
        return GetItemView.apply(x, index)
    return GetItem.apply(x, index)


def setitem(x, index, value):
    """x with x[index] = value (value a number or a tensor broadcastable to x[index]), as a new
    tensor; `Tensor.__setitem__` writes it back into x."""
    x = as_tensor(x)
    index, _ = _normalize_index("setitem", index)
    if isinstance(value, Tensor):
        if value.data.dtype != x.data.dtype:
            value = cast(value, x.data.dtype)
    elif not isinstance(value, numbers.Number):
        value = np.asarray(value, dtype=x.data.dtype)
    return SetItem.apply(x, value, index)


def _int_index(op, index):
    array = index.data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an int64 tensor, got {array.dtype}")
    return array if array.dtype == dtypes.int64 else array.astype(dtypes.int64)


def gather(x, dim, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1); out has index's shape."""
    x = as_tensor(x)
    d = normalize_dim(dim, x.data.ndim, "gather")
    return Gather.apply(x, d, _int_index("gather", index))


def scatter_add(x, dim, index, src):
    """A copy of x with src added at the positions index selects along `dim` (PyTorch's
    out-of-place torch.scatter_add)."""
    x = as_tensor(x)
    src = as_tensor(src)
    if src.data.dtype != x.data.dtype:
        src = cast(src, x.data.dtype)
    d = normalize_dim(dim, x.data.ndim, "scatter_add")
    return ScatterAdd.apply(x, d, _int_index("scatter_add", index), src)


def index_select(x, dim, index):
    """The entries of x at the 1-D `index` along `dim` (repeats allowed)."""
    x = as_tensor(x)
    d = normalize_dim(dim, x.data.ndim, "index_select")
    index = _int_index("index_select", index)
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 1-D, got shape {index.shape}")
    if not x.data.ndim:
        if index.size != 1:
            raise ValueError(f"index_select: a 0-d input takes exactly one index, got "
                             f"{index.size}")
        return reshape(IndexSelect.apply(x, d, index.reshape(1)), ())
    return IndexSelect.apply(x, d, index.reshape(-1))


def masked_fill(x, mask, value):
    """x with `value` where the bool `mask` (broadcastable) is true."""
    x = as_tensor(x)
    mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != dtypes.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype}")
    if x.data.dtype.kind != "f":
        fill = value.data if isinstance(value, Tensor) else value
        return wrap(np.where(mask, np.asarray(fill).astype(x.data.dtype), x.data), False,
                    None, 0, None)
    if isinstance(value, Tensor):
        if value.data.ndim:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                             f"{value.data.shape}")
        if value.data.dtype != x.data.dtype:
            value = cast(value, x.data.dtype)
    else:
        value = np.asarray(value, dtype=x.data.dtype)
    return MaskedFill.apply(x, mask, value)


def take_along_dim(x, indices, dim=None):
    """Values of x at `indices` along `dim` (broadcast in the other dims); with dim None,
    over the flattened x."""
    x = as_tensor(x)
    index = _int_index("take_along_dim", indices)
    if dim is None:
        return Gather.apply(reshape(x, -1), 0, _wrap_negative(index.reshape(-1), x.data.size),
                            op="take_along_dim")
    d = normalize_dim(dim, x.data.ndim, "take_along_dim")
    if index.ndim != x.data.ndim:
        raise ValueError(f"take_along_dim: indices must have as many dims as the input "
                         f"({x.data.ndim}), got shapes {index.shape} and {x.data.shape}")
    shape_x = list(x.data.shape)
    shape_i = list(index.shape)
    try:
        common = np.broadcast_shapes(tuple(shape_x[:d] + [1] + shape_x[d + 1:]),
                                     tuple(shape_i[:d] + [1] + shape_i[d + 1:]))
    except ValueError:
        raise ValueError(f"take_along_dim: input shape {x.data.shape} and indices shape "
                         f"{index.shape} do not broadcast outside dim {d}") from None
    target_x = common[:d] + (shape_x[d],) + common[d + 1:]
    target_i = common[:d] + (shape_i[d],) + common[d + 1:]
    if target_x != x.data.shape:
        x = expand(x, target_x)
    if target_i != index.shape:
        index = np.ascontiguousarray(np.broadcast_to(index, target_i))
    return Gather.apply(x, d, _wrap_negative(index, shape_x[d]), op="take_along_dim")


def _wrap_negative(index, n):
    """take_along_dim counts negative indices from the end (gather does not)."""
    if index.size and index.min() < 0:
        return np.where((index < 0) & (index >= -n), index + n, index)
    return index


def one_hot(indices, num_classes=-1):
    """int64 tensor of shape indices.shape + (num_classes,), 1 at each index (no gradient)."""
    array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    return wrap(ki.one_hot_forward(array, int(num_classes)), False, None, 0, None)
