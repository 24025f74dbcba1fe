"""Matrix products on numpy's BLAS, and the fused linear layer.

    matmul  y = a @ b (numpy's rules: 1-D operands are promoted to a row / a column and the
            promoted dim removed again; batch dims broadcast)
            grad_a = g @ b^T,  grad_b = a^T @ g (in the broadcast batch shape; the tape sums
            broadcast batch dims back to each input's shape)
    linear  y = x @ W^T + bias, x (..., in), W (out, in) (PyTorch's layout), bias (out,)
            grad_x = g @ W,  grad_W = g^T @ x,  grad_bias = g summed over rows,
            with g and x flattened to (rows, out) and (rows, in)

Every product is one np.matmul call outside jitted code (Numba's np.dot needs SciPy, and BLAS
must not run inside a prange). Transposed operands are passed as views: numpy hands them to
BLAS with a transpose flag, without a copy. A batch of rows times one matrix, (..., m, k) @
(k, n), is folded into a single (rows, k) @ (k, n) GEMM, and its weight gradient is one GEMM
over all rows instead of a batched product and a sum. The bias is added in place by a Numba
loop after the GEMM writes its preallocated output (1.3 us at 64x256, numpy's in-place add
3.3 us; the GEMM itself is 0.26 ms on one thread). A linear layer on a few rows with many
inputs runs as (W @ x^T)^T instead, transposed back with the bias added in one pass (see
`_TRANSPOSED_MAX_ROWS`).
"""
import numpy as np
from numba import njit

from kernels import reduce as kr
from kernels._checks import FLOAT_DTYPES

_INTEGER = np.dtype(np.int64)


@njit(cache=True, error_model="numpy")
def _add_bias(y, bias):
    rows, cols = y.shape
    for i in range(rows):
        for j in range(cols):
            y[i, j] += bias[j]


@njit(cache=True, error_model="numpy")
def _transpose_add_bias(y_t, bias, y):
    """y = y_t^T + bias on every row: y_t (cols, rows) C-contiguous into y (rows, cols)."""
    cols, rows = y_t.shape
    for i in range(rows):
        for j in range(cols):
            y[i, j] = y_t[j, i] + bias[j]


# OpenBLAS runs x @ W^T slowly when x has few rows: computing (W @ x^T) and transposing it
# back (with the bias added in the same pass) was 0.70-0.86x the time for 32-64 rows, 128-512
# outputs and 784 inputs (64 x 784 -> 256: 120 + 12 us against 150 us on two threads, 204 +
# 12 against 248 on one), and slower from 128 rows on. With 256 inputs the product saves
# about what the transposition costs (64 x 256 -> 256: 40 + 12 against 50 us).
_TRANSPOSED_MAX_ROWS = 64
_TRANSPOSED_MIN_COLS = 128
_TRANSPOSED_MIN_DEPTH = 512


def _check_dtypes(op, a, b):
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: both operands must have the same dtype, got {a.dtype} "
                        f"and {b.dtype}")
    if a.dtype not in FLOAT_DTYPES and a.dtype != _INTEGER:
        raise TypeError(f"{op}: expected float32, float64 or int64 operands, got {a.dtype}")


def matmul_shape(a_shape, b_shape, op="matmul"):
    """The output shape of a @ b, or a ValueError naming `op` and both shapes."""
    if not a_shape or not b_shape:
        raise ValueError(f"{op}: both operands must be at least 1-D, got shapes "
                         f"{tuple(a_shape)} and {tuple(b_shape)}")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(f"{op}: shapes {tuple(a_shape)} and {tuple(b_shape)} cannot be "
                         f"multiplied ({k_a} != {k_b})")
    batch_a = tuple(a_shape[:-2])
    batch_b = tuple(b_shape[:-2])
    try:
        batch = np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ValueError(f"{op}: batch dims {batch_a} and {batch_b} of shapes "
                         f"{tuple(a_shape)} and {tuple(b_shape)} do not broadcast") from None
    rows = (a_shape[-2],) if len(a_shape) >= 2 else ()
    cols = (b_shape[-1],) if len(b_shape) >= 2 else ()
    return tuple(batch) + rows + cols


def _folds(a, b):
    """True when a (..., m, k) @ b (k, n) can run as one (rows, k) @ (k, n) GEMM."""
    return a.ndim >= 3 and b.ndim == 2


def matmul_forward(a, b):
    """a @ b for float32/float64 (or int64) arrays of one dtype, numpy's shape rules."""
    _check_dtypes("matmul", a, b)
    shape = matmul_shape(a.shape, b.shape)
    if _folds(a, b):
        y = np.empty(shape, a.dtype)
        np.matmul(a.reshape(-1, a.shape[-1]), b, out=y.reshape(-1, b.shape[-1]))
        return y
    return np.matmul(a, b)


def _promoted(a, b, grad_y):
    """a as (..., m, k), b as (..., k, n) and grad_y as (..., m, n): 1-D operands become a
    row or a column, as in the forward."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = grad_y
    if a.ndim == 1:
        g2 = g2[..., None, :] if b.ndim > 1 else g2[..., None]
    if b.ndim == 1:
        g2 = g2[..., None]
    return a2, b2, g2


def matmul_backward_a(a, b, grad_y):
    """grad_a = grad_y @ b^T, in the broadcast batch shape (1-D a: promoted dim removed)."""
    a2, b2, g2 = _promoted(a, b, grad_y)
    if _folds(a2, b2):
        grad = np.empty(g2.shape[:-1] + (b2.shape[0],), g2.dtype)
        np.matmul(g2.reshape(-1, g2.shape[-1]), b2.T, out=grad.reshape(-1, b2.shape[0]))
    else:
        grad = np.matmul(g2, b2.swapaxes(-1, -2))
    return grad[..., 0, :] if a.ndim == 1 else grad


def matmul_backward_b(a, b, grad_y):
    """grad_b = a^T @ grad_y, in the broadcast batch shape (1-D b: promoted dim removed);
    for a batched a and a 2-D b, one GEMM over every row gives b's own shape."""
    a2, b2, g2 = _promoted(a, b, grad_y)
    if _folds(a2, b2):
        rows_a = np.ascontiguousarray(a2).reshape(-1, a2.shape[-1])
        grad = np.matmul(rows_a.T, np.ascontiguousarray(g2).reshape(-1, g2.shape[-1]))
    else:
        grad = np.matmul(a2.swapaxes(-1, -2), g2)
    return grad[..., 0] if b.ndim == 1 else grad


def linear_forward(x, weight, bias=None):
    """x (..., in) @ weight(out, in)^T + bias(out,) -> (..., out), in one GEMM."""
    _check_linear(x, weight, bias)
    rows = x.reshape(-1, x.shape[-1])
    out_features = weight.shape[0]
    y = np.empty(x.shape[:-1] + (out_features,), x.dtype)
    y2 = y.reshape(-1, out_features)
    if (rows.shape[0] <= _TRANSPOSED_MAX_ROWS and out_features >= _TRANSPOSED_MIN_COLS
            and rows.shape[1] >= _TRANSPOSED_MIN_DEPTH):
        y_t = np.matmul(weight, rows.T)
        if bias is None:
            y2[...] = y_t.T
        else:
            _transpose_add_bias(y_t, np.ascontiguousarray(bias), y2)
        return y
    np.matmul(rows, weight.T, out=y2)
    if bias is not None:
        _add_bias(y2, np.ascontiguousarray(bias))
    return y


def _check_linear(x, weight, bias):
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"linear: expected a float32 or float64 input, got {x.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape} (expected last dim {weight.shape[1]})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    dtypes = {x.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
    if len(dtypes) > 1:
        raise TypeError(f"linear: input, weight and bias must share one dtype, got "
                        f"{', '.join(sorted(str(d) for d in dtypes))}")


def linear_backward_input(grad_y, weight, x_shape):
    """grad_x = grad_y @ weight, reshaped to the input's shape."""
    grad = np.empty(x_shape, grad_y.dtype)
    np.matmul(grad_y.reshape(-1, weight.shape[0]), weight, out=grad.reshape(-1, weight.shape[1]))
    return grad


def linear_backward_weight(grad_y, x):
    """grad_W = grad_y^T @ x over the flattened rows: (out, in)."""
    rows = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    return np.matmul(np.ascontiguousarray(grad_y).reshape(-1, grad_y.shape[-1]).T, rows)


def linear_backward_bias(grad_y):
    """grad_bias = grad_y summed over every row: (out,)."""
    rows = grad_y.reshape(-1, grad_y.shape[-1])
    return kr.sum_forward(rows, (0,))
