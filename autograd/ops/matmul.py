"""Linear algebra: matmul (numpy's broadcasting rules), mm, bmm, outer, t, and the fused
linear layer. Every product is one BLAS call (`kernels/matmul.py`):

    matmul  y = a @ b          grad_a = g @ b^T,  grad_b = a^T @ g
    outer   y = a b^T          grad_a = g @ b,    grad_b = g^T @ a
    linear  y = x W^T + bias   grad_x = g @ W,    grad_W = g^T @ x,  grad_bias = sum_rows g
    t       y = x^T (a view)   grad_x = g^T
Only the gradients an input needs are computed (ctx.needs_input_grad). Batch dims that were
broadcast come back summed by the tape. Operands must share one dtype (as in PyTorch);
int64 products run on numpy and carry no gradient.
"""
import numpy as np

from autograd.function import Function
from autograd.ops._util import as_tensor
from kernels import matmul as km


__all__ = ["Matmul", "Outer", "Linear", "MatrixTranspose", "matmul", "mm", "bmm", "outer",
           "linear", "t"]


class Matmul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return km.matmul_forward(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        grad_a = km.matmul_backward_a(a, b, grad_y) if ctx.needs_input_grad[0] else None
        grad_b = km.matmul_backward_b(a, b, grad_y) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Outer(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply.outer(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        grad_a = np.matmul(grad_y, b) if ctx.needs_input_grad[0] else None
        grad_b = np.matmul(grad_y.T, a) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Linear(Function):
    """y = x @ weight^T + bias in one GEMM; weight is (out_features, in_features)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return km.linear_forward(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved
        needs = ctx.needs_input_grad
        grad_x = km.linear_backward_input(grad_y, weight, x.shape) if needs[0] else None
        grad_w = km.linear_backward_weight(grad_y, x) if needs[1] else None
        grad_b = km.linear_backward_bias(grad_y) if needs[2] else None
        return grad_x, grad_w, grad_b


class MatrixTranspose(Function):
    """t(): the transpose of a 2-D tensor as a view (0-D and 1-D tensors are returned as is)."""

    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.T

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.T


def matmul(a, b):
    """a @ b with numpy's (and PyTorch's) rules for 1-D operands and broadcast batch dims."""
    return Matmul.apply(as_tensor(a), as_tensor(b))


def mm(a, b):
    """The product of two 2-D matrices (no broadcasting)."""
    a = as_tensor(a)
    b = as_tensor(b)
    if a.data.ndim != 2 or b.data.ndim != 2:
        raise ValueError(f"mm: expected two 2-D matrices, got shapes {a.data.shape} and "
                         f"{b.data.shape}")
    km.matmul_shape(a.data.shape, b.data.shape, "mm")
    return Matmul.apply(a, b)


def bmm(a, b):
    """Batched product of (B, m, k) and (B, k, n) tensors (no broadcasting)."""
    a = as_tensor(a)
    b = as_tensor(b)
    if a.data.ndim != 3 or b.data.ndim != 3:
        raise ValueError(f"bmm: expected two 3-D tensors, got shapes {a.data.shape} and "
                         f"{b.data.shape}")
    if a.data.shape[0] != b.data.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {a.data.shape} and {b.data.shape}")
    km.matmul_shape(a.data.shape, b.data.shape, "bmm")
    return Matmul.apply(a, b)


def outer(a, b):
    """The outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    a = as_tensor(a)
    b = as_tensor(b)
    if a.data.ndim != 1 or b.data.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.data.shape} and "
                         f"{b.data.shape}")
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"outer: both operands must have the same dtype, got {a.data.dtype} "
                        f"and {b.data.dtype}")
    return Outer.apply(a, b)


def linear(x, weight, bias=None):
    """x (..., in) @ weight (out, in)^T + bias (out,) -> (..., out), PyTorch's layout."""
    x = as_tensor(x)
    weight = as_tensor(weight)
    if bias is not None:
        bias = as_tensor(bias)
    return Linear.apply(x, weight, bias)


def t(x):
    """The transpose of a tensor with at most 2 dims (a view)."""
    x = as_tensor(x)
    if x.data.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dims, got shape {x.data.shape}; "
                         f"use transpose(dim0, dim1)")
    return MatrixTranspose.apply(x)
