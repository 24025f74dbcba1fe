"""Pooling: max, average, L^p and adaptive pooling in 1-D and 2-D (PyTorch's signatures).

    max:       y = max over each window; grad_x[argmax] += grad_y (indices as PyTorch's
               `return_indices`: the flat position in the input plane; windows that tile
               the plane keep the position inside the window instead, see kernels/pool.py)
    avg:       y = window sum / divisor; grad_x[window] += grad_y / divisor
    lp:        y = (KH KW avg(x^p))^(1/p); grad_x = grad_y x^(p-1) y^(1-p) (times the scale)
    adaptive:  output_size windows spread over the input as evenly as possible; avg or max.
               Global pooling is adaptive pooling to output size 1.
Every op runs on (P, H, W) planes (P = N C, or C for an unbatched input; a 1-D input is a
plane of height 1), see `kernels/pool.py`.
"""
import math

import numpy as np

from autograd.function import Function
from autograd.ops._util import as_tensor
from kernels import pool as kpool


__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "LPPool1d", "LPPool2d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d"]


def _ints(value, n, name, op):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _planes(x, spatial):
    """(P, H, W) view of an input whose last `spatial` axes are pooled."""
    lead = math.prod(x.shape[:-spatial])
    if spatial == 1:
        return x.reshape(lead, 1, x.shape[-1])
    return x.reshape(lead, x.shape[-2], x.shape[-1])


def _unplanes(y, x, spatial):
    return y.reshape(x.shape[:-spatial] + y.shape[3 - spatial:])


def _as_2d(values, spatial, fill):
    return values if spatial == 2 else (fill,) + values


def _scatter_to_argmax(ctx, grad_y):
    """The backward of max and adaptive max pooling, from the saved argmax: flat plane
    indices, or uint8 positions inside the windows when they tile the plane (`tiles` is then
    the window)."""
    (idx,) = ctx.saved
    shape, spatial, tiles = ctx.shapes_in
    planes = _planes(grad_y, spatial)
    in_planes = (planes.shape[0],) + ((1, shape[-1]) if spatial == 1 else shape[-2:])
    grad_x = np.empty(shape, grad_y.dtype)
    if tiles is not None:
        kpool.max_pool2d_tiles_backward(planes, idx, in_planes, tiles, out=grad_x)
    else:
        kpool.max_pool2d_backward(planes, idx, in_planes, out=grad_x)
    return grad_x


class MaxPool2d(Function):
    """Max pooling; kernel, stride, padding, dilation are tuples of 1 or 2 ints."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
        spatial = len(kernel)
        planes = _planes(x, spatial)
        kernel, stride = _as_2d(kernel, spatial, 1), _as_2d(stride, spatial, 1)
        padding, dilation = _as_2d(padding, spatial, 0), _as_2d(dilation, spatial, 1)
        if kpool.windows_tile(planes.shape[1:], kernel, stride, padding, dilation, ceil_mode):
            y, idx = kpool.max_pool2d_tiles_forward(planes, kernel)
            tiles = kernel
            flat = (kpool.tile_positions_to_indices(idx, planes.shape, kernel)
                    if return_indices else None)
        else:
            need_indices = return_indices or ctx.needs_input_grad[0]
            y, idx = kpool.max_pool2d_forward(planes, kernel, stride, padding, dilation,
                                              ceil_mode, need_indices)
            flat = idx.astype(np.int64) if return_indices else None
            tiles = None
        ctx.save_for_backward(idx)
        ctx.shapes_in = (x.shape, spatial, tiles)
        y = _unplanes(y, x, spatial)
        if return_indices:
            return y, _unplanes(flat, x, spatial)
        return y

    @staticmethod
    def backward(ctx, grad_y, grad_indices=None):
        return _scatter_to_argmax(ctx, grad_y)


class MaxPool1d(MaxPool2d):
    """1-D max pooling: the 2-D kernels on planes of height 1."""


class AvgPool2d(Function):
    """Average pooling; kernel, stride, padding are tuples of 1 or 2 ints."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        spatial = len(kernel)
        params = (_as_2d(kernel, spatial, 1), _as_2d(stride, spatial, 1),
                  _as_2d(padding, spatial, 0))
        y = kpool.avg_pool2d_forward(_planes(x, spatial), *params, ceil_mode,
                                     count_include_pad, divisor_override)
        ctx.attrs = (x.shape, spatial, params, count_include_pad, divisor_override)
        return _unplanes(y, x, spatial)

    @staticmethod
    def backward(ctx, grad_y):
        shape, spatial, params, count_include_pad, divisor_override = ctx.attrs
        planes = _planes(grad_y, spatial)
        in_planes = (planes.shape[0],) + ((1, shape[-1]) if spatial == 1 else shape[-2:])
        grad_x = np.empty(shape, grad_y.dtype)
        kpool.avg_pool2d_backward(planes, in_planes, *params, count_include_pad,
                                  divisor_override, out=grad_x)
        return grad_x


class AvgPool1d(AvgPool2d):
    """1-D average pooling: the 2-D kernels on planes of height 1."""


class LPPool2d(Function):
    """L^p pooling (PyTorch's lp_pool: no padding, ceil-mode windows scaled like avg_pool)."""

    @staticmethod
    def forward(ctx, x, norm_type, kernel, stride, ceil_mode):
        spatial = len(kernel)
        params = (_as_2d(kernel, spatial, 1), _as_2d(stride, spatial, 1))
        planes = _planes(x, spatial)
        y = kpool.lp_pool2d_forward(planes, norm_type, *params, ceil_mode)
        ctx.save_for_backward(x, y)
        ctx.attrs = (spatial, norm_type, params)
        return _unplanes(y, x, spatial)

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        spatial, norm_type, params = ctx.attrs
        grad_x = np.empty(x.shape, x.dtype)
        kpool.lp_pool2d_backward(_planes(grad_y, spatial), _planes(x, spatial), y, norm_type,
                                 *params, out=grad_x)
        return grad_x


class LPPool1d(LPPool2d):
    """1-D L^p pooling: the 2-D kernels on planes of height 1."""


class AdaptiveAvgPool2d(Function):
    """Adaptive average pooling to a fixed output size (1 or 2 ints)."""

    @staticmethod
    def forward(ctx, x, output_size):
        spatial = len(output_size)
        y = kpool.adaptive_avg_pool2d_forward(_planes(x, spatial),
                                              _as_2d(output_size, spatial, 1))
        ctx.attrs = (x.shape, spatial)
        return _unplanes(y, x, spatial)

    @staticmethod
    def backward(ctx, grad_y):
        shape, spatial = ctx.attrs
        planes = _planes(grad_y, spatial)
        in_planes = (planes.shape[0],) + ((1, shape[-1]) if spatial == 1 else shape[-2:])
        grad_x = np.empty(shape, grad_y.dtype)
        kpool.adaptive_avg_pool2d_backward(planes, in_planes, out=grad_x)
        return grad_x


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """1-D adaptive average pooling."""


class AdaptiveMaxPool2d(Function):
    """Adaptive max pooling to a fixed output size (1 or 2 ints)."""

    @staticmethod
    def forward(ctx, x, output_size, return_indices):
        spatial = len(output_size)
        y, idx = kpool.adaptive_max_pool2d_forward(_planes(x, spatial),
                                                   _as_2d(output_size, spatial, 1))
        ctx.save_for_backward(idx)
        ctx.shapes_in = (x.shape, spatial, None)
        y = _unplanes(y, x, spatial)
        if return_indices:
            return y, _unplanes(idx.astype(np.int64), x, spatial)
        return y

    @staticmethod
    def backward(ctx, grad_y, grad_indices=None):
        return _scatter_to_argmax(ctx, grad_y)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """1-D adaptive max pooling."""


def _check_ndim(op, x, spatial):
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D "
                         f"input, got shape {x.shape}")


def _window(op, spatial, kernel_size, stride, padding, dilation=1):
    kernel = _ints(kernel_size, spatial, "kernel_size", op)
    stride = kernel if stride is None or stride == () or stride == [] else _ints(
        stride, spatial, "stride", op)
    return kernel, stride, _ints(padding, spatial, "padding", op), _ints(
        dilation, spatial, "dilation", op)


def _max_pool(function, op, spatial, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    input = as_tensor(input)
    _check_ndim(op, input.data, spatial)
    kernel, stride, padding, dilation = _window(op, spatial, kernel_size, stride, padding,
                                                dilation)
    return function.apply(input, kernel=kernel, stride=stride, padding=padding,
                          dilation=dilation, ceil_mode=bool(ceil_mode),
                          return_indices=bool(return_indices))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """(N, C, L) -> (N, C, Lout) window maxima (and int64 indices with return_indices)."""
    return _max_pool(MaxPool1d, "max_pool1d", 1, input, kernel_size, stride, padding,
                     dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """(N, C, H, W) -> (N, C, OH, OW) window maxima (and int64 flat indices into each H W
    plane with return_indices, as PyTorch's)."""
    return _max_pool(MaxPool2d, "max_pool2d", 2, input, kernel_size, stride, padding,
                     dilation, ceil_mode, return_indices)


def _avg_pool(function, op, spatial, input, kernel_size, stride, padding, ceil_mode,
              count_include_pad, divisor_override):
    input = as_tensor(input)
    _check_ndim(op, input.data, spatial)
    kernel, stride, padding, _ = _window(op, spatial, kernel_size, stride, padding)
    return function.apply(input, kernel=kernel, stride=stride, padding=padding,
                          ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad),
                          divisor_override=divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """(N, C, L) -> (N, C, Lout) window averages."""
    return _avg_pool(AvgPool1d, "avg_pool1d", 1, input, kernel_size, stride, padding,
                     ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """(N, C, H, W) -> (N, C, OH, OW) window averages."""
    return _avg_pool(AvgPool2d, "avg_pool2d", 2, input, kernel_size, stride, padding,
                     ceil_mode, count_include_pad, divisor_override)


def _lp_pool(function, op, spatial, input, norm_type, kernel_size, stride, ceil_mode):
    input = as_tensor(input)
    _check_ndim(op, input.data, spatial)
    kernel, stride, _, _ = _window(op, spatial, kernel_size, stride, 0)
    return function.apply(input, norm_type=float(norm_type), kernel=kernel, stride=stride,
                          ceil_mode=bool(ceil_mode))


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(N, C, L) -> (N, C, Lout) L^p norms of the windows (PyTorch's lp_pool1d)."""
    return _lp_pool(LPPool1d, "lp_pool1d", 1, input, norm_type, kernel_size, stride,
                    ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(N, C, H, W) -> (N, C, OH, OW) L^p norms of the windows (PyTorch's lp_pool2d)."""
    return _lp_pool(LPPool2d, "lp_pool2d", 2, input, norm_type, kernel_size, stride,
                    ceil_mode)


def _output_size(op, x, output_size, spatial):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != spatial:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {spatial}, got "
                             f"{output_size!r}")
        sizes = tuple(x.shape[-spatial + a] if s is None else int(s)
                      for a, s in enumerate(output_size))
    else:
        sizes = (int(output_size),) * spatial
    return sizes


def adaptive_avg_pool1d(input, output_size):
    """(N, C, L) -> (N, C, output_size) averages over adaptive windows."""
    input = as_tensor(input)
    _check_ndim("adaptive_avg_pool1d", input.data, 1)
    sizes = _output_size("adaptive_avg_pool1d", input.data, output_size, 1)
    return AdaptiveAvgPool1d.apply(input, output_size=sizes)


def adaptive_avg_pool2d(input, output_size):
    """(N, C, H, W) -> (N, C, OH, OW) averages over adaptive windows; output_size 1 is global
    average pooling. None in output_size keeps that input size."""
    input = as_tensor(input)
    _check_ndim("adaptive_avg_pool2d", input.data, 2)
    sizes = _output_size("adaptive_avg_pool2d", input.data, output_size, 2)
    return AdaptiveAvgPool2d.apply(input, output_size=sizes)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """(N, C, L) -> (N, C, output_size) maxima over adaptive windows."""
    input = as_tensor(input)
    _check_ndim("adaptive_max_pool1d", input.data, 1)
    sizes = _output_size("adaptive_max_pool1d", input.data, output_size, 1)
    return AdaptiveMaxPool1d.apply(input, output_size=sizes,
                                   return_indices=bool(return_indices))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """(N, C, H, W) -> (N, C, OH, OW) maxima over adaptive windows (and int64 indices)."""
    input = as_tensor(input)
    _check_ndim("adaptive_max_pool2d", input.data, 2)
    sizes = _output_size("adaptive_max_pool2d", input.data, output_size, 2)
    return AdaptiveMaxPool2d.apply(input, output_size=sizes,
                                   return_indices=bool(return_indices))
