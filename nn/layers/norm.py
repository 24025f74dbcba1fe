"""Normalisation layers: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, and Dropout2d (channel
dropout). Parameters, buffers and their names are PyTorch's (weight, bias, running_mean,
running_var, num_batches_tracked), so a torch state_dict loads as it is."""

import numpy as np

import autograd
from autograd import dtypes
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "Dropout2d"]


class _BatchNorm(Module):
    _ndims = (4,)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        dtypes.check_device(device, type(self).__name__)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(autograd.ones(num_features, dtype=dtype))
            self.bias = Parameter(autograd.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", autograd.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", autograd.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0.0
            self.running_var.data[...] = 1.0
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self._ndims:
            want = " or ".join(f"{n}D" for n in self._ndims)
            raise ValueError(f"{type(self).__name__}: expected {want} input (got "
                             f"{input.ndim}D input of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels "
                             f"(dim 1), got input of shape {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:       # cumulative moving average, as PyTorch
                factor = 1.0 / float(self.num_batches_tracked.data)
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_running else None,
                            self.running_var if use_running else None, self.weight, self.bias,
                            batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) per channel.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: weight of the batch statistics in the running ones (default 0.1; None
            keeps a cumulative average).
        affine: learn weight (ones) and bias (zeros).
        track_running_stats: keep running_mean / running_var for eval mode.

    Shape: (N, C) or (N, C, L), unchanged. Training uses the batch statistics and updates
    the running ones (unbiased variance); eval uses the running ones.
    """

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel (over N, H, W).

    Args: as BatchNorm1d.

    Shape: (N, C, H, W), unchanged.
    """

    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) per channel.

    Args: as BatchNorm1d.
    """

    _ndims = (5,)


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` axes of each sample.

    Args:
        normalized_shape: an int or a tuple: the trailing axes normalised together.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn weight (ones) and bias (zeros) of shape normalized_shape.
        bias: learn the bias too (default True).

    Shape: (*, *normalized_shape), unchanged.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        dtypes.check_device(device, "LayerNorm")
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(autograd.ones(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(autograd.zeros(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise each of num_groups groups of channels of each sample (Wu and He 2018).

    Args:
        num_groups: G, which must divide num_channels.
        num_channels: C.
        eps: added to the variance (default 1e-5).
        affine: learn per-channel weight (ones) and bias (zeros).

    Shape: (N, C, *), unchanged.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__()
        dtypes.check_device(device, "GroupNorm")
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by "
                             f"num_groups {num_groups}")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(autograd.ones(num_channels, dtype=dtype))
            self.bias = Parameter(autograd.zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected (N, {self.num_channels}, *) input, got "
                             f"shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class Dropout2d(Module):
    """Zero whole channels of (N, C, H, W) with probability p in training and scale the rest
    by 1 / (1 - p) (Tompson et al. 2015: neighbouring pixels are correlated, so element
    dropout hardly regularises a conv layer); identity in eval mode.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: accepted for PyTorch compatibility; the output is a new tensor.

    Shape: (N, C, H, W) or (N, C, L), unchanged.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
