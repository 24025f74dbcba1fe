"""Reduction kernels over a canonical (outer, n, inner) view.

A reduction over `dims` of a C-contiguous array first becomes a reduction over the middle
axis of a 3-D view: when `dims` is one run of adjacent axes, the view is a free reshape
(outer = the axes before the run, n = the run, inner = the axes after it); otherwise the
reduced axes are transposed to the end (one copy) and inner = 1. So every jitted loop has one
signature per dtype whatever the dims, and a result is (outer, inner), reshaped to the output.
Gradients come back through the same view: a (outer, inner) gradient is broadcast over n by
the kernel, never by np.broadcast_to and a copy.

Forward and backward, with g the gradient of the output, broadcast over the reduced axes:
    sum        y = sum x                      grad_x = g
    mean       y = sum x / n                  grad_x = g / n
    prod       y = prod x                     grad_x = g y / x with no zero in the row; with
                                              one zero, g prod(others) at the zero, 0 elsewhere;
                                              with two or more zeros, 0 (PyTorch's prod_backward)
    max, min   over one dim: (values, indices), the first index of the extreme (NaN wins, as
               in PyTorch); grad_x = g at the returned index, 0 elsewhere
    amax, amin y = the extreme                grad_x = g / count at every element equal to y
                                              (ties split evenly; also x.max() and x.min())
    var        y = sum (x - m)^2 / (n - c)     grad_x = 2 g (x - m) / (n - c), m the mean,
                                              c the correction
    std        y = sqrt(var)                  grad_x = g (x - m) / ((n - c) y), 0 where y = 0
    logsumexp  y = m + log sum e^(x - m)      grad_x = g e^(x - y), m the row max (stable)
    norm       p = 2: sqrt(sum x^2)           grad_x = g x / y, 0 where y = 0
               p = 1: sum |x|                 grad_x = g sign(x)
               p = +-inf: max / min |x|       grad_x = g sign(x) / count where |x| = y
               p = 0: count of non-zeros      grad_x = 0
               other p: (sum |x|^p)^(1/p)     grad_x = g x |x|^(p-2) / y^(p-1), 0 where y = 0
    cumsum     y_j = sum_{i<=j} x_i           grad_x_j = sum_{i>=j} g_i (a reversed cumsum)
Sums of float32 accumulate in float64 (sum, mean, var, prod, norm, cumsum).

Summing loops carry fastmath={"reassoc"} and nothing else: it lets LLVM split an accumulator
into SIMD lanes (a 1M-element float32 sum: 0.15 ms against 1.0 ms for the scalar loop; numpy's
sum 0.18 ms, PyTorch's 0.15 ms on one thread); it changes only the order of the additions, so
NaN, inf and signed zeros behave as without it. The float32 exp/log approximations rely on exact rounding steps, so
kernels reach them through `_exp`/`_log`, compiled apart without the flag (LLVM inlines them
afterwards, keeping their own flags). Helpers that take arrays are inlined by Numba instead:
a compiled call with array arguments costs atomic reference-count updates, once per row.
"""
import math

import numpy as np
from numba import njit

from kernels import _fastmath as fm
from kernels._checks import FLOAT_DTYPES

_REASSOC = {"reassoc"}
_CONTRACT = {"contract"}     # fused multiply-adds in the exp/log helpers: one rounding, not two
_LANES = 16          # accumulators of the max/min loops: LLVM turns them into two SIMD registers

NORM_TWO, NORM_ONE, NORM_INF, NORM_NEG_INF, NORM_ZERO, NORM_P = range(6)


def plan(shape, dims):
    """(outer, n, inner, perm) reducing the sorted `dims` of an array of `shape`; `perm`, when
    not None, moves the reduced axes to the end first (they are not one adjacent run)."""
    if not dims:
        return math.prod(shape), 1, 1, None
    first, last = dims[0], dims[-1]
    if last - first + 1 == len(dims):
        return (math.prod(shape[:first]), math.prod(shape[first:last + 1]),
                math.prod(shape[last + 1:]), None)
    kept = tuple(d for d in range(len(shape)) if d not in dims)
    return (math.prod(shape[d] for d in kept), math.prod(shape[d] for d in dims), 1,
            kept + tuple(dims))


def out_shape(shape, dims, keepdim):
    """The shape of a reduction over `dims`, with the reduced axes kept as 1 or dropped."""
    if keepdim:
        return tuple(1 if d in dims else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in dims)


def as_view(x, view):
    """`x` as the C-contiguous 3-D array of `view` (a copy only when x is strided or the
    reduced axes must move)."""
    outer, n, inner, perm = view
    if perm is not None:
        x = x.transpose(perm)
    return np.ascontiguousarray(x).reshape(outer, n, inner)


def _rows(y, view):
    """A result or gradient of the reduction (any keepdim) as its (outer, inner) array."""
    return np.ascontiguousarray(y).reshape(view[0], view[2])


def _restore(out3, shape, view):
    """A (outer, n, inner) gradient back in the input's shape and axis order."""
    perm = view[3]
    if perm is None:
        return out3.reshape(shape)
    moved = out3.reshape(tuple(shape[d] for d in perm))
    return np.ascontiguousarray(moved.transpose(np.argsort(perm)))


def _check(op, x):
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: expected a float32 or float64 array, got {x.dtype}")


def _check_grad(op, grad_y, view, dtype):
    if grad_y.size != view[0] * view[2]:
        raise ValueError(f"{op}: gradient of shape {grad_y.shape} does not match the "
                         f"reduction's output ({view[0] * view[2]} elements)")
    if grad_y.dtype != dtype:
        raise TypeError(f"{op}: gradient dtype {grad_y.dtype} differs from the input's {dtype}")


@njit(cache=True, error_model="numpy", fastmath=_CONTRACT)
def _exp(v):
    return fm.exp(v)


@njit(cache=True, error_model="numpy", fastmath=_CONTRACT)
def _log(v):
    return fm.log(v)


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _sum_fwd(x, scale, out):
    outer, n, inner = x.shape
    if inner == 1:
        for i in range(outer):
            s = 0.0
            for j in range(n):
                s += x[i, j, 0]
            out[i, 0] = s * scale
        return
    acc = np.empty(inner, np.float64)
    for i in range(outer):
        acc[:] = 0.0
        for j in range(n):
            for k in range(inner):
                acc[k] += x[i, j, k]
        for k in range(inner):
            out[i, k] = acc[k] * scale


@njit(cache=True, error_model="numpy")
def _expand_bwd(grad, scale, out):
    outer, n, inner = out.shape
    s = out.dtype.type(scale)
    for i in range(outer):
        if inner == 1:
            v = grad[i, 0] * s
            for j in range(n):
                out[i, j, 0] = v
        else:
            for j in range(n):
                for k in range(inner):
                    out[i, j, k] = grad[i, k] * s


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _prod_fwd(x, out):
    outer, n, inner = x.shape
    if inner == 1:
        for i in range(outer):
            p = 1.0
            for j in range(n):
                p *= x[i, j, 0]
            out[i, 0] = p
        return
    acc = np.empty(inner, np.float64)
    for i in range(outer):
        acc[:] = 1.0
        for j in range(n):
            for k in range(inner):
                acc[k] *= x[i, j, k]
        for k in range(inner):
            out[i, k] = acc[k]


@njit(cache=True, error_model="numpy")
def _prod_bwd(x, grad, out):
    # per column: the product of the non-zero entries and where the (first) zero is
    outer, n, inner = x.shape
    zero = x.dtype.type(0.0)
    for i in range(outer):
        for k in range(inner):
            p = 1.0
            zeros = 0
            at = 0
            for j in range(n):
                v = x[i, j, k]
                if v == zero:
                    zeros += 1
                    at = j
                else:
                    p *= v
            g = grad[i, k]
            if zeros == 0:
                for j in range(n):
                    out[i, j, k] = g * (p / x[i, j, k])
            else:
                for j in range(n):
                    out[i, j, k] = zero
                if zeros == 1:
                    out[i, at, k] = g * p


@njit(cache=True, error_model="numpy", inline="always")
def _beats(v, best, largest):
    """v replaces the running extreme: strictly beyond it, or NaN (NaN propagates)."""
    return (v > best if largest else v < best) or v != v


@njit(cache=True, error_model="numpy", inline="always")
def _row_extreme(x, i, n, largest, lanes):
    # 16 independent running extremes vectorize; one running value is a serial dependency
    # chain (1M float32: 0.25 ms against 3 ms)
    best = x[i, 0, 0]
    j = 0
    if n >= 2 * _LANES:
        for lane in range(_LANES):
            lanes[lane] = x[i, lane, 0]
        j = _LANES
        while j + _LANES <= n:
            for lane in range(_LANES):
                v = x[i, j + lane, 0]
                if _beats(v, lanes[lane], largest):
                    lanes[lane] = v
            j += _LANES
        for lane in range(_LANES):
            if _beats(lanes[lane], best, largest):
                best = lanes[lane]
    while j < n:
        v = x[i, j, 0]
        if _beats(v, best, largest):
            best = v
        j += 1
    return best


@njit(cache=True, error_model="numpy")
def _extreme_fwd(x, largest, values, indices):
    outer, n, inner = x.shape
    if inner == 1:
        lanes = np.empty(_LANES, x.dtype)
        for i in range(outer):
            best = _row_extreme(x, i, n, largest, lanes)
            values[i, 0] = best
            at = 0
            if best == best:
                while x[i, at, 0] != best:
                    at += 1
            else:
                while x[i, at, 0] == x[i, at, 0]:
                    at += 1
            indices[i, 0] = at
        return
    for i in range(outer):
        for k in range(inner):
            values[i, k] = x[i, 0, k]
            indices[i, k] = 0
        for j in range(1, n):
            for k in range(inner):
                v = x[i, j, k]
                if _beats(v, values[i, k], largest):
                    values[i, k] = v
                    indices[i, k] = j


@njit(cache=True, error_model="numpy")
def _scatter_bwd(grad, indices, out):
    outer, n, inner = out.shape
    out[:] = 0.0
    for i in range(outer):
        for k in range(inner):
            out[i, indices[i, k], k] = grad[i, k]


@njit(cache=True, error_model="numpy")
def _ties_bwd(x, y, grad, out):
    # PyTorch's amax backward: the gradient split evenly over the elements equal to the result
    # (the NaNs, when the result is NaN)
    outer, n, inner = x.shape
    zero = x.dtype.type(0.0)
    for i in range(outer):
        for k in range(inner):
            m = y[i, k]
            count = 0
            for j in range(n):
                v = x[i, j, k]
                count += (v == m) or (v != v and m != m)
            share = grad[i, k] / x.dtype.type(count)
            for j in range(n):
                v = x[i, j, k]
                out[i, j, k] = share if (v == m) or (v != v and m != m) else zero


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _var_fwd(x, divisor, take_sqrt, mean, out):
    outer, n, inner = x.shape
    if inner == 1:
        for i in range(outer):
            s = 0.0
            for j in range(n):
                s += x[i, j, 0]
            m = s / n
            ss = 0.0
            for j in range(n):
                d = x[i, j, 0] - m
                ss += d * d
            v = ss / divisor
            mean[i, 0] = m
            out[i, 0] = np.sqrt(v) if take_sqrt else v
        return
    acc = np.empty(inner, np.float64)
    mu = np.empty(inner, np.float64)
    for i in range(outer):
        acc[:] = 0.0
        for j in range(n):
            for k in range(inner):
                acc[k] += x[i, j, k]
        for k in range(inner):
            mu[k] = acc[k] / n
        acc[:] = 0.0
        for j in range(n):
            for k in range(inner):
                d = x[i, j, k] - mu[k]
                acc[k] += d * d
        for k in range(inner):
            v = acc[k] / divisor
            mean[i, k] = mu[k]
            out[i, k] = np.sqrt(v) if take_sqrt else v


@njit(cache=True, error_model="numpy")
def _centered_bwd(x, mean, coef, out):
    # grad_x = coef (x - mean), coef per output element (var and std backward)
    outer, n, inner = x.shape
    for i in range(outer):
        if inner == 1:
            m = mean[i, 0]
            c = coef[i, 0]
            for j in range(n):
                out[i, j, 0] = c * (x[i, j, 0] - m)
        else:
            for j in range(n):
                for k in range(inner):
                    out[i, j, k] = coef[i, k] * (x[i, j, k] - mean[i, k])


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _logsumexp_fwd(x, out):
    outer, n, inner = x.shape
    zero = x.dtype.type(0.0)
    if inner == 1:
        lanes = np.empty(_LANES, x.dtype)
        for i in range(outer):
            m = _row_extreme(x, i, n, True, lanes)
            shift = m if abs(m) < np.inf else zero     # all -inf: log 0; any +inf: inf
            s = 0.0
            for j in range(n):
                s += _exp(x[i, j, 0] - shift)
            out[i, 0] = shift + _log(x.dtype.type(s))
        return
    best = np.empty(inner, x.dtype)
    acc = np.empty(inner, np.float64)
    for i in range(outer):
        for k in range(inner):
            best[k] = x[i, 0, k]
        for j in range(1, n):
            for k in range(inner):
                v = x[i, j, k]
                if _beats(v, best[k], True):
                    best[k] = v
        for k in range(inner):
            best[k] = best[k] if abs(best[k]) < np.inf else zero
        acc[:] = 0.0
        for j in range(n):
            for k in range(inner):
                acc[k] += _exp(x[i, j, k] - best[k])
        for k in range(inner):
            out[i, k] = best[k] + _log(x.dtype.type(acc[k]))


@njit(cache=True, error_model="numpy")
def _logsumexp_bwd(x, y, grad, out):
    outer, n, inner = x.shape
    for i in range(outer):
        if inner == 1:
            m = y[i, 0]
            g = grad[i, 0]
            for j in range(n):
                out[i, j, 0] = g * _exp(x[i, j, 0] - m)
        else:
            for j in range(n):
                for k in range(inner):
                    out[i, j, k] = grad[i, k] * _exp(x[i, j, k] - y[i, k])


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _norm_fwd(x, kind, p, out):
    outer, n, inner = x.shape
    acc = np.empty(inner, np.float64)
    for i in range(outer):
        if kind == NORM_INF or kind == NORM_NEG_INF:
            for k in range(inner):
                acc[k] = np.inf if kind == NORM_NEG_INF else 0.0
            for j in range(n):
                for k in range(inner):
                    a = abs(np.float64(x[i, j, k]))
                    if _beats(a, acc[k], kind == NORM_INF):
                        acc[k] = a
        else:
            acc[:] = 0.0
            for j in range(n):
                for k in range(inner):
                    a = abs(np.float64(x[i, j, k]))
                    if kind == NORM_TWO:
                        acc[k] += a * a
                    elif kind == NORM_ONE:
                        acc[k] += a
                    elif kind == NORM_ZERO:
                        acc[k] += a != 0.0
                    else:
                        acc[k] += a ** p
        for k in range(inner):
            v = acc[k]
            if kind == NORM_TWO:
                v = np.sqrt(v)
            elif kind == NORM_P:
                v = v ** (1.0 / p)
            out[i, k] = v


@njit(cache=True, error_model="numpy")
def _norm_bwd(x, y, grad, kind, p, out):
    outer, n, inner = x.shape
    zero = x.dtype.type(0.0)
    one = x.dtype.type(1.0)
    pp = x.dtype.type(p)
    counts = np.empty(inner, np.int64)
    for i in range(outer):
        if kind == NORM_INF or kind == NORM_NEG_INF:
            counts[:] = 0
            for j in range(n):
                for k in range(inner):
                    a = abs(x[i, j, k])
                    counts[k] += (a == y[i, k]) or (a != a)
        for j in range(n):
            for k in range(inner):
                v = x[i, j, k]
                g = grad[i, k]
                r = y[i, k]
                sign = x.dtype.type(v > zero) - x.dtype.type(v < zero)
                if kind == NORM_TWO:
                    d = zero if r == zero else g * v / r
                elif kind == NORM_ONE:
                    d = g * sign
                elif kind == NORM_ZERO:
                    d = zero
                elif kind == NORM_P:
                    a = abs(v)
                    d = zero if r == zero else g * sign * a ** (pp - one) / r ** (pp - one)
                else:
                    a = abs(v)
                    hit = (a == r) or (a != a)
                    d = g * sign / x.dtype.type(counts[k]) if hit else zero
                out[i, j, k] = d


@njit(cache=True, error_model="numpy")
def _cumsum(x, reverse, out):
    outer, n, inner = x.shape
    acc = np.empty(inner, np.float64)
    for i in range(outer):
        acc[:] = 0.0
        for step in range(n):
            j = n - 1 - step if reverse else step
            for k in range(inner):
                acc[k] += x[i, j, k]
                out[i, j, k] = acc[k]


def sum_forward(x, dims, keepdim=False, scale=1.0):
    """sum of x over `dims` (times `scale`), accumulated in float64; dtype of x."""
    _check("sum", x)
    view = plan(x.shape, dims)
    out = np.empty((view[0], view[2]), x.dtype)
    _sum_fwd(as_view(x, view), float(scale), out)
    return out.reshape(out_shape(x.shape, dims, keepdim))


def sum_backward(grad_y, shape, dims, scale=1.0):
    """grad_x of sum over `dims` (times `scale`): grad_y broadcast back to `shape`."""
    _check("sum_backward", grad_y)
    view = plan(shape, dims)
    _check_grad("sum_backward", grad_y, view, grad_y.dtype)
    out = np.empty((view[0], view[1], view[2]), grad_y.dtype)
    _expand_bwd(_rows(grad_y, view), float(scale), out)
    return _restore(out, shape, view)


def mean_forward(x, dims, keepdim=False):
    """mean of x over `dims` (NaN over zero elements, as PyTorch)."""
    n = math.prod(x.shape[d] for d in dims)
    return sum_forward(x, dims, keepdim, 1.0 / n if n else math.nan)


def mean_backward(grad_y, shape, dims):
    n = math.prod(shape[d] for d in dims)
    return sum_backward(grad_y, shape, dims, 1.0 / n if n else math.nan)


def prod_forward(x, dims, keepdim=False):
    """product of x over `dims` (1 over zero elements)."""
    _check("prod", x)
    view = plan(x.shape, dims)
    out = np.empty((view[0], view[2]), x.dtype)
    _prod_fwd(as_view(x, view), out)
    return out.reshape(out_shape(x.shape, dims, keepdim))


def prod_backward(x, grad_y, dims):
    """grad_x of prod over `dims`, exact when x holds zeros (see the module docstring)."""
    _check("prod_backward", x)
    view = plan(x.shape, dims)
    _check_grad("prod_backward", grad_y, view, x.dtype)
    out = np.empty((view[0], view[1], view[2]), x.dtype)
    _prod_bwd(as_view(x, view), _rows(grad_y, view), out)
    return _restore(out, x.shape, view)


def _extreme(op, x, dims, keepdim, largest):
    _check(op, x)
    view = plan(x.shape, dims)
    if view[1] == 0:
        raise IndexError(f"{op}: cannot reduce over dims {dims} of zero size "
                         f"(input shape {x.shape})")
    values = np.empty((view[0], view[2]), x.dtype)
    indices = np.empty((view[0], view[2]), np.int64)
    _extreme_fwd(as_view(x, view), largest, values, indices)
    shape = out_shape(x.shape, dims, keepdim)
    return values.reshape(shape), indices.reshape(shape)


def max_forward(x, dim, keepdim=False):
    """(values, int64 indices) of the max over one axis `dim`: the first index of the max,
    or of the first NaN."""
    return _extreme("max", x, (dim,), keepdim, True)


def min_forward(x, dim, keepdim=False):
    """(values, int64 indices) of the min over one axis `dim`."""
    return _extreme("min", x, (dim,), keepdim, False)


def max_backward(grad_values, indices, shape, dim):
    """grad_x of max/min over `dim`: each gradient goes to its returned index."""
    _check("max_backward", grad_values)
    view = plan(shape, (dim,))
    _check_grad("max_backward", grad_values, view, grad_values.dtype)
    out = np.empty((view[0], view[1], view[2]), grad_values.dtype)
    _scatter_bwd(_rows(grad_values, view), _rows(indices, view), out)
    return _restore(out, shape, view)


min_backward = max_backward


def amax_forward(x, dims, keepdim=False):
    """max over `dims` (NaN if any element is NaN)."""
    return _extreme("amax", x, dims, keepdim, True)[0]


def amin_forward(x, dims, keepdim=False):
    """min over `dims` (NaN if any element is NaN)."""
    return _extreme("amin", x, dims, keepdim, False)[0]


def amax_backward(x, y, grad_y, dims):
    """grad_x of amax/amin over `dims`: split evenly among the elements equal to y."""
    _check("amax_backward", x)
    view = plan(x.shape, dims)
    _check_grad("amax_backward", grad_y, view, x.dtype)
    out = np.empty((view[0], view[1], view[2]), x.dtype)
    _ties_bwd(as_view(x, view), _rows(y, view), _rows(grad_y, view), out)
    return _restore(out, x.shape, view)


amin_backward = amax_backward


def argmax_forward(x, dim=None, keepdim=False):
    """int64 index of the max over axis `dim`, or into the flattened array when dim is None."""
    return _argextreme("argmax", x, dim, keepdim, True)


def argmin_forward(x, dim=None, keepdim=False):
    """int64 index of the min over axis `dim`, or into the flattened array when dim is None."""
    return _argextreme("argmin", x, dim, keepdim, False)


def _argextreme(op, x, dim, keepdim, largest):
    if dim is not None:
        return _extreme(op, x, (dim,), keepdim, largest)[1]
    if x.size == 0:
        raise IndexError(f"{op}: cannot take the {op[3:]} of an empty array (shape {x.shape})")
    flat = np.ascontiguousarray(x).reshape(-1)
    index = _extreme(op, flat, (0,), False, largest)[1]
    return index.reshape((1,) * x.ndim) if keepdim else index


def _divisor(n, correction):
    # PyTorch divides by max(0, n - correction); a zero divisor gives inf/NaN as there (a
    # numpy float, so dividing by it does not raise)
    return np.float64(max(0.0, n - float(correction)))


def var_forward(x, dims, correction=1, keepdim=False):
    """(var, mean) over `dims` with Bessel's `correction`; the mean is kept for backward,
    both in the shape of the (keepdim) output."""
    return _var("var", x, dims, correction, keepdim, False)


def std_forward(x, dims, correction=1, keepdim=False):
    """(std, mean) over `dims` with `correction`."""
    return _var("std", x, dims, correction, keepdim, True)


def _var(op, x, dims, correction, keepdim, take_sqrt):
    _check(op, x)
    view = plan(x.shape, dims)
    out = np.empty((view[0], view[2]), x.dtype)
    mean = np.empty((view[0], view[2]), x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        _var_fwd(as_view(x, view), _divisor(view[1], correction), take_sqrt, mean, out)
    shape = out_shape(x.shape, dims, keepdim)
    return out.reshape(shape), mean.reshape(shape)


def var_backward(x, mean, grad_y, dims, correction=1):
    """grad_x of var: 2 g (x - mean) / (n - correction)."""
    view = plan(x.shape, dims)
    _check_grad("var_backward", grad_y, view, x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = _rows(grad_y, view) * x.dtype.type(2.0 / _divisor(view[1], correction))
    return _centered(x, mean, coef, view)


def std_backward(x, mean, y, grad_y, dims, correction=1):
    """grad_x of std: g (x - mean) / ((n - correction) std), 0 where std is 0 (PyTorch)."""
    view = plan(x.shape, dims)
    _check_grad("std_backward", grad_y, view, x.dtype)
    std = _rows(y, view)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = _rows(grad_y, view) / (std * x.dtype.type(_divisor(view[1], correction)))
    coef[std == 0] = 0
    return _centered(x, mean, coef, view)


def _centered(x, mean, coef, view):
    _check("var_backward", x)
    out = np.empty((view[0], view[1], view[2]), x.dtype)
    _centered_bwd(as_view(x, view), _rows(mean, view), np.ascontiguousarray(coef, x.dtype), out)
    return _restore(out, x.shape, view)


def logsumexp_forward(x, dims, keepdim=False):
    """log(sum(exp(x))) over `dims`, shifted by the max so nothing overflows."""
    _check("logsumexp", x)
    view = plan(x.shape, dims)
    out = np.empty((view[0], view[2]), x.dtype)
    if view[1] == 0:
        out[:] = -np.inf
    else:
        _logsumexp_fwd(as_view(x, view), out)
    return out.reshape(out_shape(x.shape, dims, keepdim))


def logsumexp_backward(x, y, grad_y, dims):
    """grad_x of logsumexp: g exp(x - y), i.e. g times the softmax over `dims`."""
    _check("logsumexp_backward", x)
    view = plan(x.shape, dims)
    _check_grad("logsumexp_backward", grad_y, view, x.dtype)
    out = np.empty((view[0], view[1], view[2]), x.dtype)
    _logsumexp_bwd(as_view(x, view), _rows(y, view), _rows(grad_y, view), out)
    return _restore(out, x.shape, view)


def norm_kind(p):
    """(kind, p) for the loops from a norm order: 2, 1, inf, -inf, 0 or another number."""
    if p == 2:
        return NORM_TWO, 2.0
    if p == 1:
        return NORM_ONE, 1.0
    if p == math.inf:
        return NORM_INF, math.inf
    if p == -math.inf:
        return NORM_NEG_INF, -math.inf
    if p == 0:
        return NORM_ZERO, 0.0
    return NORM_P, float(p)


def norm_forward(x, p, dims, keepdim=False):
    """The vector p-norm of x over `dims` (p a number; inf and -inf are max/min |x|)."""
    _check("norm", x)
    kind, p = norm_kind(p)
    view = plan(x.shape, dims)
    if view[1] == 0 and kind == NORM_NEG_INF:
        raise IndexError(f"norm: the -inf norm over dims {dims} of zero size is undefined "
                         f"(input shape {x.shape})")
    out = np.empty((view[0], view[2]), x.dtype)
    _norm_fwd(as_view(x, view), kind, p, out)
    return out.reshape(out_shape(x.shape, dims, keepdim))


def norm_backward(x, y, grad_y, p, dims):
    """grad_x of the p-norm (see the module docstring; 0 at a zero 2-norm, as PyTorch)."""
    _check("norm_backward", x)
    kind, p = norm_kind(p)
    view = plan(x.shape, dims)
    _check_grad("norm_backward", grad_y, view, x.dtype)
    out = np.empty((view[0], view[1], view[2]), x.dtype)
    _norm_bwd(as_view(x, view), _rows(y, view), _rows(grad_y, view), kind, p, out)
    return _restore(out, x.shape, view)


def cumsum_forward(x, dim):
    """Running sum of x along axis `dim` (accumulated in float64)."""
    _check("cumsum", x)
    return _cumsum_any(x, dim, False)


def cumsum_backward(grad_y, dim):
    """grad_x of cumsum: the running sum of grad_y from the end."""
    _check("cumsum_backward", grad_y)
    return _cumsum_any(grad_y, dim, True)


def _cumsum_any(x, dim, reverse):
    if x.ndim == 0:
        return x.copy()
    view = plan(x.shape, (dim,))
    out = np.empty((view[0], view[1], view[2]), x.dtype)
    _cumsum(as_view(x, view), reverse, out)
    return out.reshape(x.shape)
