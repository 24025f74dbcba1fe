"""Gradient clipping, applied between `loss.backward()` and `optimizer.step()`:

    clip_grad_norm_    scale all gradients together so their joint p-norm is at most max_norm
    clip_grad_value_   clamp every gradient element to [-clip_value, clip_value]

Both change the `.grad` arrays in place (a row-sparse gradient's rows), as PyTorch's do.
"""
import math

import numpy as np

from autograd.sparse import RowSparse
from autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters, op):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected Tensors (parameters), got {type(p).__name__}")
        if p.grad is not None:
            grads.append(p)
    return grads


def _norm(values, norm_type):
    flat = values.reshape(-1)
    if flat.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(np.max(np.abs(flat)))
    if norm_type == 2:
        return math.sqrt(float(np.dot(flat, flat)))
    if norm_type == 1:
        return float(np.sum(np.abs(flat), dtype=np.float64))
    return float(np.sum(np.abs(flat).astype(np.float64) ** norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Rescale the gradients of `parameters` (a Tensor or an iterable) by
    min(1, max_norm / (total_norm + 1e-6)), where total_norm is the p-norm of all gradients
    taken together (norm_type=inf: the largest magnitude). Returns total_norm as a 0-d Tensor.

    With error_if_nonfinite=True a NaN or infinite total norm raises instead of filling the
    gradients with NaN."""
    norm_type = float(norm_type)
    params = _grads(parameters, "clip_grad_norm_")
    if not params:
        return Tensor(np.zeros((), np.float32))
    norms = []
    for p in params:
        g = p.grad
        if isinstance(g, RowSparse):
            g = g.coalesce()
            p.grad = g
            norms.append(_norm(g.values, norm_type))
        else:
            norms.append(_norm(g.data, norm_type))
    total = _norm(np.asarray(norms, dtype=np.float64), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}, so they cannot be clipped; pass "
                           f"error_if_nonfinite=False to scale them anyway")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for p in params:
        g = p.grad
        values = g.values if isinstance(g, RowSparse) else g.data
        values *= values.dtype.type(coef)
    dtype = params[0].grad.dtype if isinstance(params[0].grad, RowSparse) else \
        params[0].grad.data.dtype
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element of `parameters` to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _grads(parameters, "clip_grad_value_"):
        g = p.grad
        values = g.values if isinstance(g, RowSparse) else g.data
        np.clip(values, -clip_value, clip_value, out=values)
