"""Kernels of the activations with state or structure beyond one element: dropout, PReLU
(a learnable slope per channel) and maxout.

    dropout  y = x * keep / (1 - p), keep = u >= p for u ~ U[0, 1) drawn by the caller
             grad_x = g * keep / (1 - p)
    prelu    y = x if x > 0 else w[c] x          (x seen as (N, C, M), c the channel)
             grad_x = g if x > 0 else w[c] g,    grad_w[c] = sum over n, m of g x where x <= 0
    maxout   y[a, c, b] = max over k of x[a, c, k, b]   (x seen as (A, C, K, B))
             grad_x[a, c, k, b] = g[a, c, b] at the k that was selected, else 0

Every public function takes float32/float64 arrays and returns new C-contiguous arrays of the
input dtype; the jitted loops see C-contiguous arrays of a fixed rank (one signature per
dtype) and never validate. They are serial: each touches a few arrays once, so a layer-sized
call (B64 x 256 features) takes a few microseconds, below the cost of a parallel launch.
"""
import math

import numpy as np
from numba import njit

from kernels._checks import expect_dtype, expect_float, expect_same_dtype


@njit(cache=True, error_model="numpy")
def _dropout_fwd(x, u, p, scale, out, keep):
    s = x.dtype.type(scale)
    q = u.dtype.type(p)
    for i in range(x.size):
        k = u[i] >= q
        keep[i] = k
        out[i] = x[i] * s if k else x.dtype.type(0)


@njit(cache=True, error_model="numpy")
def _dropout_bwd(keep, g, scale, out):
    s = g.dtype.type(scale)
    for i in range(g.size):
        out[i] = g[i] * s if keep[i] else g.dtype.type(0)


@njit(cache=True, error_model="numpy")
def _prelu_fwd(x, w, out):
    n, c, m = x.shape
    for i in range(n):
        for j in range(c):
            a = w[j]
            for k in range(m):
                v = x[i, j, k]
                out[i, j, k] = v if v > 0 else a * v


@njit(cache=True, error_model="numpy")
def _prelu_bwd(x, w, g, grad_x, grad_w):
    n, c, m = x.shape
    for j in range(c):
        grad_w[j] = 0
    for i in range(n):
        for j in range(c):
            a = w[j]
            acc = g.dtype.type(0)
            for k in range(m):
                v = x[i, j, k]
                gv = g[i, j, k]
                if v > 0:
                    grad_x[i, j, k] = gv
                else:
                    grad_x[i, j, k] = a * gv
                    acc += gv * v
            grad_w[j] += acc


@njit(cache=True, error_model="numpy")
def _maxout_fwd(x, out, index):
    n, c, pieces, m = x.shape
    for i in range(n):
        for j in range(c):
            for k in range(m):
                best = x[i, j, 0, k]
                arg = 0
                for p in range(1, pieces):
                    v = x[i, j, p, k]
                    if v > best or (v != v and best == best):   # NaN wins, as torch.max
                        best = v
                        arg = p
                out[i, j, k] = best
                index[i, j, k] = arg


@njit(cache=True, error_model="numpy")
def _maxout_bwd(index, g, grad_x):
    n, c, m = g.shape
    for i in range(n):
        for j in range(c):
            for k in range(m):
                grad_x[i, j, index[i, j, k], k] = g[i, j, k]


def dropout_forward(x, u, p):
    """(y, keep): x zeroed where u < p and scaled by 1 / (1 - p) elsewhere; u is uniform
    noise in [0, 1) of x's shape, keep the bool mask for `dropout_backward`."""
    expect_float("dropout", "input", x)
    expect_dtype("dropout", "noise", u, x.dtype, x.shape)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    out = np.empty(x.shape, x.dtype)
    keep = np.empty(x.shape, np.bool_)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    _dropout_fwd(x.ravel(), u.ravel(), float(p), scale, out.ravel(), keep.ravel())
    return out, keep


def dropout_backward(keep, grad_y, p):
    """Gradient of dropout w.r.t. its input from the saved mask: grad_y * keep / (1 - p)."""
    expect_float("dropout", "gradient", grad_y)
    expect_dtype("dropout", "mask", keep, np.bool_, grad_y.shape)
    out = np.empty(grad_y.shape, grad_y.dtype)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    _dropout_bwd(keep.ravel(), grad_y.ravel(), scale, out.ravel())
    return out


def _prelu_view(op, x, w):
    """x as a C-contiguous (N, C, M) array, C = w.size: channels on dim 1 (PyTorch's rule),
    or one slope for every element when w has a single value."""
    expect_float(op, "input", x)
    expect_same_dtype(op, input=x, weight=w)
    if w.ndim != 1:
        raise ValueError(f"{op}: weight must be 1-D, got shape {w.shape}")
    if w.size == 1:
        return np.ascontiguousarray(x).reshape(1, 1, x.size)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.size != channels:
        raise ValueError(f"{op}: weight has {w.size} values but the input {x.shape} has "
                         f"{channels} channels on dim 1 (use 1 or {channels} parameters)")
    return np.ascontiguousarray(x).reshape(x.shape[0], channels, math.prod(x.shape[2:]))


def prelu_forward(x, w):
    """x if x > 0 else w[c] x, for x (N, C, *) and w (C,) or (1,)."""
    x3 = _prelu_view("prelu", x, w)
    out = np.empty(x3.shape, x.dtype)
    _prelu_fwd(x3, np.ascontiguousarray(w), out)
    return out.reshape(x.shape)


def prelu_backward(x, w, grad_y):
    """(grad_x, grad_w) of prelu from the saved input and weight."""
    x3 = _prelu_view("prelu", x, w)
    if grad_y.shape != x.shape or grad_y.dtype != x.dtype:
        raise ValueError(f"prelu: gradient {grad_y.dtype}{grad_y.shape} does not match the "
                         f"input {x.dtype}{x.shape}")
    grad_x = np.empty(x3.shape, x.dtype)
    grad_w = np.empty(w.size, w.dtype)
    _prelu_bwd(x3, np.ascontiguousarray(w), np.ascontiguousarray(grad_y).reshape(x3.shape),
               grad_x, grad_w)
    return grad_x.reshape(x.shape), grad_w.reshape(w.shape)


def _maxout_shape(shape, pieces, dim):
    """(A, C, K, B): `shape` seen around `dim`, split into C groups of K = pieces."""
    return math.prod(shape[:dim]), shape[dim] // pieces, pieces, math.prod(shape[dim + 1:])


def maxout_forward(x, pieces, dim):
    """(y, index): the max over consecutive groups of `pieces` values along `dim` (which
    shrinks by that factor), and the int64 position of each max within its group."""
    expect_float("maxout", "input", x)
    if not 0 <= dim < x.ndim:
        raise ValueError(f"maxout: dim {dim} out of range for shape {x.shape}")
    if pieces < 1 or x.shape[dim] % pieces:
        raise ValueError(f"maxout: dim {dim} of size {x.shape[dim]} is not a multiple of "
                         f"pool_size {pieces}")
    out_shape = x.shape[:dim] + (x.shape[dim] // pieces,) + x.shape[dim + 1:]
    a, c, k, b = _maxout_shape(x.shape, pieces, dim)
    out = np.empty((a, c, b), x.dtype)
    index = np.empty((a, c, b), np.int64)
    if out.size:
        _maxout_fwd(np.ascontiguousarray(x).reshape(a, c, k, b), out, index)
    return out.reshape(out_shape), index


def maxout_backward(index, grad_y, in_shape, pieces, dim):
    """Gradient of maxout w.r.t. its input (shape `in_shape`): grad_y routed to the maxima."""
    expect_float("maxout", "gradient", grad_y)
    a, c, k, b = _maxout_shape(tuple(in_shape), pieces, dim)
    if index.shape != (a, c, b) or grad_y.size != index.size:
        raise ValueError(f"maxout: gradient shape {grad_y.shape} does not match the saved "
                         f"indices {index.shape}")
    grad_x = np.zeros((a, c, k, b), grad_y.dtype)
    if index.size:
        _maxout_bwd(index, np.ascontiguousarray(grad_y).reshape(a, c, b), grad_x)
    return grad_x.reshape(in_shape)
