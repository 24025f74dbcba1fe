"""Shape kernels that do real work (everything else in the shape family is a numpy view).

pad, `pad` = (left, right) pairs starting from the last dim (PyTorch's order); a negative
entry crops instead (crops apply first, then the pads extend what is left).
    constant   y = value everywhere, x's kept part copied into the interior
    reflect, replicate, circular: x's kept part is copied into the interior of y; then each
               padded dim in turn fills its borders (over the full range of the dims already
               done, so corners come out right): border position j (p = j - left, n the kept
               size) copies
               reflect    p < 0: -p;  p > n-1: 2(n-1) - p   (the edge is not repeated)
               replicate  clip(p, 0, n-1)
               circular   p mod n
    grad_x: the same steps in reverse: each border slice of the gradient is added into its
            source slice (a replicate edge collects every border slice), then the interior
            is grad_x (zero where x was cropped away).
Everything is numpy slice copies, about one pass over y: a Numba gather along each padded dim
was 1.5x slower (one pass per dim, a length-1 inner loop for the last dim), and a fused
one-pass Numba kernel (border, interior row copy, border) 1.3x slower than these copies.
repeat, sizes (r0, r1, ...) with len(sizes) >= x.ndim: y = np.tile(x, sizes)
    grad_x = grad viewed as (r0, n0, r1, n1, ...) summed over every r axis
"""
import numpy as np

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_plan(op, shape, pad, mode):
    """Per padded dim (dim, kept-part slice of x, left, kept, right), checked against
    `shape` and the mode's limits."""
    if len(pad) % 2:
        raise ValueError(f"{op}: the pad tuple must have an even length, got {tuple(pad)}")
    if len(pad) // 2 > len(shape):
        raise ValueError(f"{op}: pad {tuple(pad)} pads {len(pad) // 2} dims of a "
                         f"{len(shape)}-D input")
    plan = []
    for i in range(len(pad) // 2):
        dim = len(shape) - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        n = shape[dim]
        start = max(-left, 0)
        kept = n - start - max(-right, 0)
        if kept < 0:
            raise ValueError(f"{op}: pad {tuple(pad)} leaves a negative size at dim {dim} "
                             f"of input shape {shape}")
        left, right = max(left, 0), max(right, 0)
        if mode == "reflect" and (left or right) and (left >= kept or right >= kept):
            raise ValueError(f"{op}: reflect padding ({left}, {right}) must be smaller than "
                             f"the size {kept} of dim {dim}")
        if mode == "circular" and (left > kept or right > kept):
            raise ValueError(f"{op}: circular padding ({left}, {right}) must not exceed the "
                             f"size {kept} of dim {dim}")
        if mode == "replicate" and kept <= 0 and (left or right):
            raise ValueError(f"{op}: replicate padding needs a non-empty dim {dim}")
        plan.append((dim, slice(start, start + kept), left, kept, right))
    return plan


def _border_sources(mode, left, kept, right):
    """(output position, source position) of every border entry along one dim."""
    pairs = []
    for j in list(range(left)) + list(range(left + kept, left + kept + right)):
        p = j - left
        if mode == "replicate":
            p = min(max(p, 0), kept - 1)
        elif mode == "reflect":
            p = -p if p < 0 else (2 * (kept - 1) - p if p > kept - 1 else p)
        else:
            p %= kept
        pairs.append((j, left + p))
    return pairs


def _at(region, dim, index):
    return tuple(region[:dim]) + (index,) + tuple(region[dim + 1:])


def pad_forward(x, pad, mode="constant", value=0.0, op="pad"):
    """x padded by `pad` (PyTorch order); returns (y, state) where state feeds pad_backward."""
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: mode must be one of {PAD_MODES}, got {mode!r}")
    plan = _pad_plan(op, x.shape, pad, mode)
    out_shape = list(x.shape)
    src = [slice(None)] * x.ndim
    region = [slice(None)] * x.ndim            # the part of y filled so far
    for dim, kept_part, left, kept, right in plan:
        out_shape[dim] = left + kept + right
        src[dim] = kept_part
        region[dim] = slice(left, left + kept)
    interior = tuple(region)
    steps = []
    if mode == "constant":
        # filling first and copying over it beats filling the borders afterwards: a border
        # column of the last dim is a strided write that touches every cache line again
        out = np.full(out_shape, value, x.dtype)
        out[interior] = x[tuple(src)]
        return out, (tuple(src), interior, ())
    out = np.empty(out_shape, x.dtype)
    out[interior] = x[tuple(src)]
    for dim, _, left, kept, right in plan:
        borders = _border_sources(mode, left, kept, right)
        for j, source in borders:
            out[_at(region, dim, j)] = out[_at(region, dim, source)]
        steps.append((dim, tuple(region), borders))
        region[dim] = slice(None)
    return out, (tuple(src), interior, tuple(steps))


def pad_backward(grad, state, mode, shape):
    """Gradient of pad w.r.t. x (of `shape`), from the `state` pad_forward returned."""
    src, interior, steps = state
    if mode != "constant" and any(borders for _, _, borders in steps):
        grad = np.array(grad, copy=True)      # the tape's gradient is shared: work on a copy
        for dim, region, borders in reversed(steps):
            for j, source in borders:
                grad[_at(region, dim, source)] += grad[_at(region, dim, j)]
    kept = grad[interior]
    if all(s == slice(None) or (s.start == 0 and s.stop == n) for s, n in zip(src, shape)):
        return kept
    out = np.zeros(shape, grad.dtype)
    out[src] = kept
    return out


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
