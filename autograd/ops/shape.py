"""Shape ops: views, joins and splits, padding, flipping and tiling.

    view/reshape  y = x.reshape(s)               grad_x = g.reshape(x.shape)
    permute       y = x.transpose(p)             grad_x = g.transpose(p^-1)
    expand        y = broadcast_to(x, s)         grad_x = g summed over the expanded dims (by
                                                 the tape, which reduces every gradient to its
                                                 input's shape)
    cat           y = concatenate(x_i, dim)      grad_x_i = g[..., offset_i:offset_i + n_i, ...]
    stack         y = stack(x_i, dim)            grad_x_i = g[..., i, ...]
    split/unbind  y_i = x[..., a_i:b_i, ...]     grad_x = concatenate(g_i) (missing g_i are 0)
    pad, repeat   see kernels/shape.py
    flip          y = x reversed along dims      grad_x = flip(g)
View, Permute and Expand return numpy views of their input and share its version counter
(`is_view`), so an in-place change through either side is seen by every saved array; reshape
of a layout that cannot be viewed copies (Reshape). flatten, squeeze and unsqueeze are views
through View; transpose and `.T` through Permute.
"""
import math

import numpy as np

from autograd import dtypes
from autograd.function import Function
from autograd.ops._util import as_tensor, normalize_dim, normalize_dims, shape_arg
from autograd.ops.pointwise import cast
from autograd.tensor import Tensor
from kernels import shape as ks


__all__ = ["View", "Reshape", "Permute", "Expand", "Contiguous", "Cat", "Stack", "Split",
           "Unbind", "Pad", "Flip", "Repeat", "reshape", "view", "flatten", "squeeze",
           "unsqueeze", "transpose", "permute", "expand", "broadcast_to", "contiguous", "cat",
           "stack", "split", "chunk", "unbind", "pad", "flip", "repeat", "tile", "view_as",
           "reshape_as", "expand_as"]


class View(Function):
    """x.reshape(shape) over the same memory (the caller checked that no copy is needed)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Reshape(Function):
    """x.reshape(shape) for a layout that cannot be viewed: a C-ordered copy."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.reshape(x, shape, order="C", copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Permute(Function):
    """x.transpose(dims), a strided view."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.transpose(inverse), None


class Expand(Function):
    """A read-only broadcast view of x; the tape sums the gradient back to x's shape."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return _broadcast_view(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _broadcast_view(x, shape):
    """np.broadcast_to(x, shape), built directly for a C-contiguous x (6x faster: the numpy
    function goes through nditer), read-only like numpy's."""
    if not x.flags.c_contiguous or not x.size:
        return np.broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for n, stride, target in zip(x.shape, x.strides, shape[lead:]):
        strides.append(stride if n == target else 0)
    view = np.ndarray(shape, x.dtype, x, 0, strides)
    view.setflags(write=False)
    return view


class Contiguous(Function):
    """A C-contiguous copy of a strided x; the gradient passes through."""

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cat(Function):
    """Concatenation of the inputs along `dim`; each gradient is a slice of grad."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        try:
            return np.concatenate(xs, axis=dim)
        except ValueError:
            raise ValueError(f"cat: tensors must have the same shape except in dim {dim}, got "
                             f"shapes {[x.shape for x in xs]}") from None

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        grads = []
        start = 0
        for needed, size in zip(ctx.needs_input_grad, ctx.sizes):
            grads.append(grad[lead + (slice(start, start + size),)] if needed else None)
            start += size
        return tuple(grads)


class Stack(Function):
    """The inputs stacked along a new `dim`; input i gets grad[..., i, ...]."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return tuple(grad[lead + (i,)] if needed else None
                     for i, needed in enumerate(ctx.needs_input_grad))


class Split(Function):
    """Views of consecutive pieces of x along `dim`, of the given sizes."""

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        pieces = []
        start = 0
        for size in sizes:
            pieces.append(x[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.dim), None, None


class Unbind(Function):
    """The slices x[..., i, ...] along `dim`, as views."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return np.stack(grads, axis=ctx.dim), None


class Pad(Function):
    """x padded (or cropped) by PyTorch's pad tuple, in one of the four modes."""

    @staticmethod
    def forward(ctx, x, pad, mode, value):
        ctx.in_shape = x.shape
        ctx.mode = mode
        y, ctx.state = ks.pad_forward(x, pad, mode, value)
        return y

    @staticmethod
    def backward(ctx, grad):
        return ks.pad_backward(grad, ctx.state, ctx.mode, ctx.in_shape), None, None, None


class Flip(Function):
    """A copy of x reversed along `dims` (PyTorch's flip copies too)."""

    @staticmethod
    def forward(ctx, x, dims):
        # a reversed-slice view copied: np.flip's own argument handling costs more than
        # the copy of a 64x128 array
        ctx.reverse = tuple(slice(None, None, -1) if d in dims else slice(None)
                            for d in range(x.ndim))
        return x[ctx.reverse].copy()

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.reverse], None


class Repeat(Function):
    """x tiled `sizes` times (PyTorch's Tensor.repeat, numpy's tile)."""

    @staticmethod
    def forward(ctx, x, sizes):
        ctx.in_shape = x.shape
        ctx.sizes = sizes
        return ks.repeat_forward(x, sizes)

    @staticmethod
    def backward(ctx, grad):
        return ks.repeat_backward(grad, ctx.sizes, ctx.in_shape), None


def _shape(args, op):
    """shape_arg() with a fast path for plain ints: f(x, 2, 3) or f(x, (2, 3))."""
    if len(args) == 1 and type(args[0]) in (tuple, list):
        args = args[0]
    for a in args:
        if type(a) is not int:
            return shape_arg(args, op)
    return tuple(args)


def _target_shape(op, x, shape):
    """`shape` with a -1 inferred from x's size; a clear error names both shapes."""
    size = x.size
    known = 1
    infer = False
    for n in shape:
        if n >= 0:
            known *= n
        elif n == -1 and not infer:
            infer = True
        else:
            raise RuntimeError(f"{op}: invalid shape {shape} (only one -1 may be inferred, "
                               f"no other negative size)")
    if not infer:
        if known == size:
            return shape
    elif known and not size % known:
        return tuple([size // known if n == -1 else n for n in shape])
    raise RuntimeError(f"{op}: shape {shape} is invalid for input of shape {x.shape} "
                       f"({size} elements)")


def _viewable(x, shape):
    if x.flags.c_contiguous:
        return True
    try:
        np.reshape(x, shape, copy=False)
    except ValueError:
        return False
    return True


def reshape(x, *shape):
    """x with a new shape (-1 inferred); a view when the layout allows, else a copy."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    shape = _target_shape("reshape", x.data, _shape(shape, "reshape"))
    if _viewable(x.data, shape):
        return View.apply(x, shape)
    return Reshape.apply(x, shape)


def view(x, *shape):
    """x with a new shape (-1 inferred) over the same memory; never copies."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    shape = _target_shape("view", x.data, _shape(shape, "view"))
    if not _viewable(x.data, shape):
        raise RuntimeError(f"view: shape {shape} is not compatible with the strided layout of "
                           f"the input (shape {x.data.shape}, strides {x.data.strides}); use "
                           f"reshape(), which copies")
    return View.apply(x, shape)


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim merged into one (a 0-d tensor becomes shape (1,))."""
    x = as_tensor(x)
    shape = x.data.shape
    if not shape:
        return reshape(x, (1,))
    start = normalize_dim(start_dim, len(shape), "flatten")
    end = normalize_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if start == end:
        return View.apply(x, shape)
    merged = math.prod(shape[start:end + 1])
    return reshape(x, shape[:start] + (merged,) + shape[end + 1:])


def squeeze(x, dim=None):
    """x without its size-1 dims (all of them, or those among `dim` that have size 1)."""
    x = as_tensor(x)
    shape = x.data.shape
    dims = normalize_dims(dim, len(shape), "squeeze")
    new = tuple(n for d, n in enumerate(shape) if not (d in dims and n == 1))
    return View.apply(x, new)


def unsqueeze(x, dim):
    """x with a size-1 dim inserted at `dim` (in [-ndim - 1, ndim])."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    shape = x.data.shape
    d = normalize_dim(dim, len(shape) + 1, "unsqueeze")
    return View.apply(x, shape[:d] + (1,) + shape[d:])


def permute(x, *dims):
    """x with its dims reordered (a strided view)."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    ndim = x.data.ndim
    dims = _shape(dims, "permute")
    if min(dims, default=0) < 0:
        dims = tuple([normalize_dim(d, ndim, "permute") for d in dims])
    if len(dims) != ndim or sorted(dims) != list(range(ndim)):
        raise ValueError(f"permute: dims {dims} must be a permutation of the {ndim} dims of a "
                         f"tensor of shape {x.data.shape}")
    return Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    """x with dims dim0 and dim1 swapped (a strided view)."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    ndim = x.data.ndim
    d0 = normalize_dim(dim0, ndim, "transpose")
    d1 = normalize_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    dims[d0], dims[d1] = d1, d0
    return Permute.apply(x, tuple(dims))


def expand(x, *sizes):
    """x broadcast to `sizes` without copying; -1 keeps a dim, new dims go in front."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    sizes = _shape(sizes, "expand")
    shape = x.data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                           f"number of dims of the tensor of shape {shape}")
    target = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: size {s} is not allowed for the new leading dim "
                                   f"{i} (sizes {sizes}, tensor shape {shape})")
            continue
        n = shape[i - lead]
        if s == -1:
            target[i] = n
        elif n != s and n != 1:
            raise RuntimeError(f"expand: the size {s} at dim {i} must match the existing size "
                               f"{n} unless that is 1 (sizes {sizes}, tensor shape {shape})")
        elif s < 0:
            raise RuntimeError(f"expand: invalid size {s} at dim {i} (sizes {sizes})")
    return Expand.apply(x, tuple(target))


def broadcast_to(x, shape):
    return expand(x, shape)


def expand_as(x, other):
    return expand(x, other.shape)


def contiguous(x):
    """x itself when C-contiguous, else a contiguous copy."""
    x = as_tensor(x)
    if x.data.flags.c_contiguous:
        return x
    return Contiguous.apply(x)


def _common_dtype(tensors):
    """PyTorch's promotion across tensors: the widest float, else int64, else bool."""
    kinds = {t.data.dtype for t in tensors}
    floats = [d for d in kinds if d.kind == "f"]
    if floats:
        return dtypes.float64 if dtypes.float64 in floats else floats[0]
    if any(d.kind in "iu" for d in kinds):
        return dtypes.int64
    return dtypes.bool_


def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expected a sequence of tensors, got a single tensor")
    tensors = [t if type(t) is Tensor else as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    first = tensors[0].data.dtype
    for t in tensors:
        if t.data.dtype != first:
            dtype = _common_dtype(tensors)
            return [u if u.data.dtype == dtype else cast(u, dtype) for u in tensors]
    return tensors


def cat(tensors, dim=0):
    """The tensors joined along an existing `dim`; shapes must match in every other dim."""
    tensors = _tensor_list("cat", tensors)
    if len(tensors) > 1 and any(t.data.shape == (0,) for t in tensors):
        # PyTorch's legacy rule: 1-D empty tensors are skipped whatever the others' shape
        kept = [t for t in tensors if t.data.shape != (0,)]
        tensors = kept or tensors[:1]
    ndim = tensors[0].data.ndim
    for t in tensors:
        if t.data.ndim != ndim or not ndim:
            shapes = [u.data.shape for u in tensors]
            raise ValueError(f"cat: tensors must have the same number of dims (at least 1), "
                             f"got shapes {shapes}")
    if type(dim) is not int or not 0 <= dim < ndim:
        dim = normalize_dim(dim, ndim, "cat")
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """The tensors (all of one shape) joined along a new `dim`."""
    tensors = _tensor_list("stack", tensors)
    first = tensors[0].data.shape
    for i, t in enumerate(tensors):
        if t.data.shape != first:
            raise ValueError(f"stack: every tensor must have the same shape; got {first} at "
                             f"entry 0 and {t.data.shape} at entry {i}")
    d = normalize_dim(dim, len(first) + 1, "stack")
    return Stack.apply(*tensors, dim=d)


def _share_version(x, outs):
    """Pieces are views of x: an in-place change to one must be seen through x's counter."""
    for o in outs:
        o._version = x._version
    return outs


def split(x, split_size_or_sections, dim=0):
    """Pieces of x along `dim`: of size split_size_or_sections each (the last may be smaller),
    or of the listed sizes."""
    x = as_tensor(x)
    shape = x.data.shape
    d = normalize_dim(dim, len(shape), "split")
    n = shape[d] if shape else 1
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = (size,) * (n // size) + ((n % size,) if n % size else ()) if n else (0,)
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: split sizes {sizes} must be non-negative and sum to the "
                             f"size {n} of dim {d} (tensor shape {shape})")
    return _share_version(x, Split.apply(x, sizes, d))


def chunk(x, chunks, dim=0):
    """x split into `chunks` pieces of ceil(n / chunks) (fewer when they run out)."""
    x = as_tensor(x)
    if chunks <= 0:
        raise ValueError(f"chunk: the number of chunks must be positive, got {chunks}")
    shape = x.data.shape
    d = normalize_dim(dim, len(shape), "chunk")
    n = shape[d] if shape else 1
    if n == 0:
        return _share_version(x, Split.apply(x, (0,) * chunks, d))
    return split(x, -(-n // chunks), d)


def unbind(x, dim=0):
    """The slices of x along `dim`, each without that dim."""
    x = as_tensor(x)
    d = normalize_dim(dim, x.data.ndim, "unbind")
    if not x.data.ndim:
        raise ValueError("unbind: a 0-d tensor has no dim to unbind")
    if x.data.shape[d] == 0:
        return ()
    return _share_version(x, Unbind.apply(x, d))


def pad(x, pad, mode="constant", value=None):  # noqa: A002  (PyTorch's argument names)
    """x padded by `pad` = (left, right) pairs starting from the last dim; negative entries
    crop. Modes: constant (with `value`), reflect, replicate, circular."""
    x = as_tensor(x)
    pad = tuple(int(p) for p in pad)
    if mode not in ks.PAD_MODES:
        raise ValueError(f"pad: mode must be one of {ks.PAD_MODES}, got {mode!r}")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"pad: mode {mode!r} takes no value (got {value})")
        padded = len(pad) // 2
        if len(pad) % 2 or padded not in (1, 2, 3) or x.data.ndim not in (padded + 1,
                                                                        padded + 2):
            raise ValueError(f"pad: {mode} padding of {padded} dims needs a "
                             f"{padded + 1}-D or {padded + 2}-D input, got pad {pad} for shape "
                             f"{x.data.shape} (pad has 2, 4 or 6 entries)")
    return Pad.apply(x, pad, mode, 0 if value is None else value)


def flip(x, *dims):
    """A copy of x reversed along `dims`."""
    x = as_tensor(x)
    dims = normalize_dims(shape_arg(dims, "flip"), x.data.ndim, "flip") if x.data.ndim else ()
    return Flip.apply(x, dims)


def repeat(x, *sizes):
    """x repeated along each dim (len(sizes) >= x.ndim; extra sizes add leading dims)."""
    x = as_tensor(x)
    return Repeat.apply(x, shape_arg(sizes, "repeat"))


def tile(x, dims):
    """repeat() where `dims` shorter than x.ndim is padded with leading 1s."""
    x = as_tensor(x)
    dims = shape_arg((dims,) if isinstance(dims, (int, np.integer)) else dims, "tile")
    dims = (1,) * (x.data.ndim - len(dims)) + dims
    return Repeat.apply(x, dims)
