"""Normalisation ops: batch_norm, layer_norm, group_norm, and dropout2d (PyTorch's signatures).

    xhat = (x - mean) / sqrt(var + eps),  y = weight xhat + bias
    batch_norm: statistics per channel over (N, *spatial); layer_norm: over the trailing
    `normalized_shape` axes; group_norm: over each group of C / G channels and the spatial axes.
    With batch statistics, grad_x = w invstd (g - mean(g) - xhat mean(g xhat)); with running
    statistics (batch_norm in eval mode) they are constants and grad_x = w invstd g.
batch_norm in training mode also updates `running_mean` and `running_var` in place (arrays
or Tensors owned by the caller, e.g. a BatchNorm layer's buffers), as PyTorch does:
    running = (1 - momentum) running + momentum batch_stat, with the unbiased batch variance.
dropout2d zeroes whole channels: y = x mask[n, c] / (1 - p), grad_x = g mask[n, c] / (1 - p).
The fused kernels are in `kernels/normalization.py`.
"""
import math

import numpy as np

from autograd import random as _random
from autograd.function import Function
from autograd.ops._util import as_tensor
from autograd.tensor import Tensor
from kernels import normalization as knorm


__all__ = ["BatchNorm", "LayerNorm", "GroupNorm", "Dropout2d", "batch_norm", "layer_norm",
           "group_norm", "dropout2d"]


def _channels_last_flat(x):
    """(N, C, L) view of an (N, C, *) input (L = 1 for (N, C))."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _new_gradient(x, needed):
    """A new array in x's own shape for a kernel to write grad_x into (a reshaped kernel
    output would be a view, which the tape copies before keeping it as a leaf's `.grad`)."""
    return np.empty(x.shape, x.dtype) if needed else None


class BatchNorm(Function):
    """Batch normalisation over (N, C, *); updates the running statistics in training mode."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        x3 = _channels_last_flat(x)
        if training:
            y, mean, var = knorm.batch_norm_forward_train(x3, weight, bias, eps, running_mean,
                                                          running_var, momentum)
        else:
            mean = running_mean.astype(np.float64)
            var = running_var.astype(np.float64)
            y = knorm.batch_norm_forward_eval(x3, weight, bias, running_mean, running_var, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, 1.0 / np.sqrt(var + eps), training)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved
        mean, invstd, training = ctx.stats
        need = ctx.needs_input_grad
        grad_x, grad_w, grad_b = knorm.batch_norm_backward(
            _channels_last_flat(grad_y), _channels_last_flat(x), weight, mean, invstd, training,
            need_input=need[0], out=_new_gradient(x, need[0]))
        return (grad_x, grad_w if need[1] else None, grad_b if need[2] else None, None, None)


class LayerNorm(Function):
    """Layer normalisation over the trailing axes `normalized_shape`."""

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps):
        d = math.prod(normalized_shape)
        x2 = x.reshape(-1, d)
        w = None if weight is None else weight.reshape(d)
        b = None if bias is None else bias.reshape(d)
        y, mean, invstd = knorm.layer_norm_forward(x2, w, b, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, invstd, normalized_shape)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved
        mean, invstd, shape = ctx.stats
        need = ctx.needs_input_grad
        d = math.prod(shape)
        w = None if weight is None else weight.reshape(d)
        grad_x, grad_w, grad_b = knorm.layer_norm_backward(
            grad_y.reshape(-1, d), x.reshape(-1, d), w, mean, invstd, need_input=need[0],
            out=_new_gradient(x, need[0]))
        return (grad_x, grad_w.reshape(shape) if need[1] else None,
                grad_b.reshape(shape) if need[2] else None)


class GroupNorm(Function):
    """Group normalisation of (N, C, *) over G groups of channels."""

    @staticmethod
    def forward(ctx, x, weight, bias, num_groups, eps):
        y, mean, invstd = knorm.group_norm_forward(_channels_last_flat(x), num_groups, weight,
                                                   bias, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, invstd)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved
        mean, invstd = ctx.stats
        need = ctx.needs_input_grad
        grad_x, grad_w, grad_b = knorm.group_norm_backward(
            _channels_last_flat(grad_y), _channels_last_flat(x), weight, mean, invstd,
            need_input=need[0], out=_new_gradient(x, need[0]))
        return grad_x, (grad_w if need[1] else None), (grad_b if need[2] else None)


class Dropout2d(Function):
    """x times a per-(sample, channel) scale: 0 for a dropped channel, 1 / (1 - p) otherwise."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return knorm.dropout2d_forward(_channels_last_flat(x), scale).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_y):
        return knorm.dropout2d_backward(_channels_last_flat(grad_y), ctx.scale,
                                        out=np.empty(grad_y.shape, grad_y.dtype))


def _optional(t):
    return None if t is None else as_tensor(t)


def _buffer(op, name, value, channels):
    """A running-statistics buffer as the array to update in place (None stays None)."""
    if value is None:
        return None
    array = value.data if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a float array or Tensor, got "
                        f"{type(value).__name__}")
    if array.shape != (channels,):
        raise ValueError(f"{op}: {name} must have shape ({channels},), got {array.shape}")
    return array


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise (N, C, *) per channel. training: batch statistics, and running_mean /
    running_var (if given) are updated in place; otherwise the running statistics are used."""
    op = "batch_norm"
    input = as_tensor(input)
    if input.data.ndim < 2:
        raise ValueError(f"{op}: expected an (N, C, *) input, got shape {input.data.shape}")
    channels = input.data.shape[1]
    running_mean = _buffer(op, "running_mean", running_mean, channels)
    running_var = _buffer(op, "running_var", running_var, channels)
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{op}: running_mean and running_var are required when training is "
                         f"False")
    if training and momentum is None:
        raise ValueError(f"{op}: momentum must be a number in training mode (BatchNorm "
                         f"layers turn momentum=None into a cumulative average themselves)")
    return BatchNorm.apply(input, _optional(weight), _optional(bias), running_mean,
                           running_var, training=bool(training),
                           momentum=float(momentum or 0.0), eps=float(eps))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing axes `normalized_shape` (an int or a tuple)."""
    op = "layer_norm"
    input = as_tensor(input)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    x = input.data
    if len(shape) == 0 or x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(f"{op}: normalized_shape {shape} must match the trailing axes of the "
                         f"input {x.shape}")
    weight = _optional(weight)
    bias = _optional(bias)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.data.shape != shape:
            raise ValueError(f"{op}: {name} must have shape {shape}, got {t.data.shape}")
    return LayerNorm.apply(input, weight, bias, normalized_shape=shape, eps=float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) over each of num_groups groups of C / num_groups channels."""
    op = "group_norm"
    input = as_tensor(input)
    if input.data.ndim < 2:
        raise ValueError(f"{op}: expected an (N, C, *) input, got shape {input.data.shape}")
    return GroupNorm.apply(input, _optional(weight), _optional(bias),
                           num_groups=int(num_groups), eps=float(eps))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero each channel of a (N, C, H, W) (or (N, C, L)) input with probability p and scale
    the rest by 1 / (1 - p). Identity when not training. The result is always a new tensor
    (`inplace` is accepted for PyTorch compatibility)."""
    op = "dropout2d"
    input = as_tensor(input)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    if input.data.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape "
                         f"{input.data.shape}; use dropout for other shapes")
    if not training or p == 0.0:
        return input
    n, c = input.data.shape[:2]
    if p == 1.0:
        scale = np.zeros((n, c), input.data.dtype)
    else:
        keep = _random.generator().random((n, c)) >= p
        scale = keep.astype(input.data.dtype) / input.data.dtype.type(1.0 - p)
    return Dropout2d.apply(input, scale=scale)
