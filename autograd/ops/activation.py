"""Activations with a parameter, a random mask or a grouped structure (kernels/activation.py):

    dropout(x, p)      y = x keep / (1 - p), keep ~ Bernoulli(1 - p)   grad_x = g keep / (1 - p)
    prelu(x, w)        y = x if x > 0 else w[c] x (c: dim 1)           grad_w[c] = sum g x (x <= 0)
    maxout(x, k, dim)  y = max over consecutive groups of k along dim  grad to each group's max

The dropout mask is drawn from the seeded generator (`autograd.manual_seed`), or from the
numpy Generator passed as `generator=`.
"""
from autograd import random as _random
from autograd.function import Function
from autograd.ops._util import as_float_tensor, normalize_dim
from autograd.tensor import Tensor
from kernels import activation as kact

__all__ = ["Dropout", "PReLU", "Maxout", "dropout", "prelu", "maxout"]


class Dropout(Function):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""

    @staticmethod
    def forward(ctx, x, p, generator):
        noise = generator.random(x.shape, dtype=x.dtype)
        y, keep = kact.dropout_forward(x, noise, p)
        ctx.keep = keep
        ctx.p = p
        return y

    @staticmethod
    def backward(ctx, grad_y):
        return kact.dropout_backward(ctx.keep, grad_y, ctx.p), None, None


class PReLU(Function):
    """x if x > 0 else w x, with one learnable slope per channel (dim 1) or one in all."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return kact.prelu_forward(x, w)

    @staticmethod
    def backward(ctx, grad_y):
        x, w = ctx.saved
        grad_x, grad_w = kact.prelu_backward(x, w, grad_y)
        return (grad_x if ctx.needs_input_grad[0] else None,
                grad_w if ctx.needs_input_grad[1] else None)


class Maxout(Function):
    """The max over consecutive groups of `pool_size` values along `dim`."""

    @staticmethod
    def forward(ctx, x, pool_size, dim):
        y, index = kact.maxout_forward(x, pool_size, dim)
        ctx.index = index
        ctx.in_shape = x.shape
        ctx.pool_size = pool_size
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad_y):
        grad_x = kact.maxout_backward(ctx.index, grad_y, ctx.in_shape, ctx.pool_size, ctx.dim)
        return grad_x, None, None


def dropout(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Inverted dropout (PyTorch's `F.dropout`): in training, zero elements with probability
    `p` and scale the others by 1 / (1 - p); otherwise return `input` unchanged."""
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training:
        return input
    x = as_float_tensor(input)
    out = Dropout.apply(x, float(p), _random.generator() if generator is None else generator)
    if inplace:
        return x._assign_inplace(out, "dropout_")
    return out


def prelu(input, weight):  # noqa: A002
    """PReLU (PyTorch's `F.prelu`): `weight` holds 1 slope or one per channel (dim 1)."""
    x = as_float_tensor(input)
    if not isinstance(weight, Tensor):
        weight = Tensor(weight)
    return PReLU.apply(x, weight)


def maxout(input, pool_size, dim=1):  # noqa: A002
    """Maxout (Goodfellow et al. 2013): split `dim` into groups of `pool_size` consecutive
    values and keep each group's max, e.g. (N, C * k) -> (N, C)."""
    x = as_float_tensor(input)
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise ValueError(f"maxout: pool_size must be a positive int, got {pool_size!r}")
    return Maxout.apply(x, pool_size, normalize_dim(dim, x.ndim, "maxout"))
