"""Shape kernels that do real work (everything else in the shape family is a numpy view).

pad, `pad` = (left, right) pairs starting from the last dim (PyTorch's order); a negative
entry crops instead (crops apply first, then the pads extend what is left).
    constant:  y = value everywhere, with x's kept part copied into the interior
               grad_x = grad[interior], zero where x was cropped away
    reflect, replicate, circular: along each padded dim d (of size n after cropping),
               y = x.take(src, axis=d) with p = j - left for output position j and
                   reflect    p < 0: -p;  p > n-1: 2(n-1) - p   (the edge is not repeated)
                   replicate  clip(p, 0, n-1)
                   circular   p mod n
               grad_x: a scatter-add of grad along each dim in reverse order, so the border
               elements that feed several outputs accumulate (kernels/index.py)
repeat, sizes (r0, r1, ...) with len(sizes) >= x.ndim: y = np.tile(x, sizes)
    grad_x = grad viewed as (r0, n0, r1, n1, ...) summed over every r axis
"""
import numpy as np

from kernels.index import index_select_backward, index_select_forward

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_pairs(op, shape, pad):
    """{dim: (left, right)} from PyTorch's flat pad tuple, checked against `shape`."""
    if len(pad) % 2:
        raise ValueError(f"{op}: the pad tuple must have an even length, got {tuple(pad)}")
    if len(pad) // 2 > len(shape):
        raise ValueError(f"{op}: pad {tuple(pad)} pads {len(pad) // 2} dims of a "
                         f"{len(shape)}-D input")
    pairs = {}
    for i in range(len(pad) // 2):
        dim = len(shape) - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        if shape[dim] + left + right < 0:
            raise ValueError(f"{op}: pad {tuple(pad)} leaves a negative size at dim {dim} "
                             f"of input shape {shape}")
        pairs[dim] = (left, right)
    return pairs


def _source_map(op, mode, n, left, right, dim):
    """The source index of every output position along one dim. Negative pads crop first;
    the positive ones then pad what is left (PyTorch's order)."""
    start = max(-left, 0)
    kept = n - start - max(-right, 0)
    left, right = max(left, 0), max(right, 0)
    p = np.arange(-left, kept + right, dtype=np.int64)
    if mode == "replicate":
        if kept <= 0:
            raise ValueError(f"{op}: replicate padding needs a non-empty dim {dim}")
        return np.clip(p, 0, kept - 1) + start
    if mode == "reflect":
        if left >= kept or right >= kept:
            raise ValueError(f"{op}: reflect padding ({left}, {right}) must be smaller than "
                             f"the size {kept} of dim {dim}")
        p = np.abs(p)
        return np.where(p > kept - 1, 2 * (kept - 1) - p, p) + start
    if left > kept or right > kept or kept <= 0:
        raise ValueError(f"{op}: circular padding ({left}, {right}) must not exceed the size "
                         f"{kept} of dim {dim}")
    return p % kept + start


def pad_forward(x, pad, mode="constant", value=0.0, op="pad"):
    """x padded by `pad` (PyTorch order); returns (y, state) where state feeds pad_backward."""
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: mode must be one of {PAD_MODES}, got {mode!r}")
    pairs = _pad_pairs(op, x.shape, pad)
    if mode == "constant":
        out_shape = list(x.shape)
        src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
        for dim, (left, right) in pairs.items():
            n = x.shape[dim]
            out_shape[dim] = n + left + right
            start, stop = max(-left, 0), n - max(-right, 0)
            kept = max(stop - start, 0)
            src[dim] = slice(start, start + kept)
            dst[dim] = slice(max(left, 0), max(left, 0) + kept)
        out = np.full(out_shape, value, x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        cropped = any(left < 0 or right < 0 for left, right in pairs.values())
        return out, (tuple(src), tuple(dst), cropped)
    maps = []
    out = x
    for dim, (left, right) in pairs.items():
        source = _source_map(op, mode, x.shape[dim], left, right, dim)
        out = index_select_forward(out, dim, source, op)
        maps.append((dim, source, x.shape[dim]))
    return out, tuple(maps)


def pad_backward(grad, state, mode, shape):
    """Gradient of pad w.r.t. x (of `shape`), from the `state` pad_forward returned."""
    if mode == "constant":
        src, dst, cropped = state
        if not cropped:
            return grad[dst]
        out = np.zeros(shape, grad.dtype)
        out[src] = grad[dst]
        return out
    for dim, source, n in reversed(state):
        grad = index_select_backward(grad, dim, source, n)
    return grad


def repeat_forward(x, sizes, op="repeat"):
    """x tiled `sizes` times along each dim (len(sizes) >= x.ndim; x gets leading 1-dims)."""
    if len(sizes) < x.ndim:
        raise ValueError(f"{op}: the number of repeats ({len(sizes)}) must be at least the "
                         f"number of dims of the input ({x.ndim})")
    if any(r < 0 for r in sizes):
        raise ValueError(f"{op}: repeats must be non-negative, got {tuple(sizes)}")
    return np.ascontiguousarray(np.tile(x, sizes))


def repeat_backward(grad, sizes, shape):
    """Gradient of repeat w.r.t. x (of `shape`): grad summed over the copies."""
    full = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    if all(r == 1 for r in sizes):
        return grad.reshape(shape)
    interleaved = []
    for r, n in zip(sizes, full):
        interleaved.extend((r, n))
    summed = grad.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(full), 2)))
    return summed.reshape(shape)
