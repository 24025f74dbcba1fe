"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d (PyTorch's signatures).

    conv:            y = b + W * x (cross-correlation over the spatial axes, per group)
                     grad_x = W^T * grad_y (a transposed convolution), grad_W = grad_y * x,
                     grad_b = grad_y summed over N and the spatial axes
    conv_transpose:  the adjoint: its forward is conv's grad_x, its grad_x is a convolution
All four run on the 2-D kernels of `kernels/conv.py` (a 1-D input is an image of height 1);
an unbatched input (C, H, W) or (C, L) is run as a batch of one. The backward computes only
the gradients asked for (the first layer of a network needs no input gradient).

padding is an int, a tuple (one int per spatial axis, or a (before, after) pair per axis),
'valid' (no padding) or 'same'. 'same' pads so that the output size is ceil(size / stride):
total = max((out - 1) stride + dilation (K - 1) + 1 - size, 0), before = total // 2, the rest
after (PyTorch's split at stride 1, TensorFlow's SAME at any stride).
"""
from autograd.function import Function
from autograd.ops._util import as_tensor
from kernels import conv as kconv


__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d"]


def _ints(value, n, name, op):
    """A tuple of n ints from an int or a sequence of n ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        out = tuple(int(v) for v in value)
    else:
        out = (int(value),) * n
    return out


def _positive(values, name, op):
    if min(values) < 1:
        raise ValueError(f"{op}: {name} must be positive, got {values}")
    return values


def _same_padding(size, kernel, stride, dilation):
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_padding(padding, sizes, kernel, stride, dilation, op):
    """(before, after) pairs, one per spatial axis, from PyTorch-style `padding`."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            return tuple(_same_padding(sizes[a], kernel[a], stride[a], dilation[a])
                         for a in range(n))
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', "
                         f"got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(
            isinstance(p, (tuple, list)) for p in padding):
        pairs = tuple((int(p[0]), int(p[1])) for p in padding)
    else:
        pairs = tuple((p, p) for p in _ints(padding, n, "padding", op))
    if min(min(p) for p in pairs) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return pairs


def _check_input(op, x, w, spatial):
    if w.ndim != spatial + 2:
        raise ValueError(f"{op}: weight must be {spatial + 2}-D, got shape {w.shape}")
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D "
                         f"input, got shape {x.shape}")


def _to_4d(x, spatial):
    """(N, C, H, W) view of a batched or unbatched 1-D / 2-D input."""
    if x.ndim == spatial + 1:
        x = x[None]
    if spatial == 1:
        x = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    return x


def _from_4d(y, like, spatial):
    """Undo `_to_4d` on an (N, C, H, W) result, for an input shaped like `like`."""
    if spatial == 1:
        y = y.reshape(y.shape[0], y.shape[1], y.shape[3])
    if like.ndim == spatial + 1:
        y = y[0]
    return y


def _weight_4d(w):
    return w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]) if w.ndim == 3 else w


class Conv2d(Function):
    """2-D convolution; stride, padding (top, bottom, left, right), dilation are normalised."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        spatial = weight.ndim - 2
        ctx.attrs = (stride, padding, dilation, groups, spatial)
        ctx.save_for_backward(x, weight)
        y = kconv.conv2d_forward(_to_4d(x, spatial), _weight_4d(weight), bias, stride,
                                 padding, dilation, groups)
        return _from_4d(y, x, spatial)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved
        stride, padding, dilation, groups, spatial = ctx.attrs
        need = ctx.needs_input_grad
        grad_x, grad_w, grad_b = kconv.conv2d_backward(
            _to_4d(grad_y, spatial), _to_4d(x, spatial), _weight_4d(weight), stride, padding,
            dilation, groups, need_input=need[0], need_weight=need[1], need_bias=need[2])
        if grad_x is not None:
            grad_x = _from_4d(grad_x, x, spatial)
        if grad_w is not None:
            grad_w = grad_w.reshape(weight.shape)
        return grad_x, grad_w, grad_b


class Conv1d(Conv2d):
    """1-D convolution: the 2-D kernels on an image of height 1."""


class ConvTranspose2d(Function):
    """2-D transposed convolution; stride, padding, output_padding, dilation are pairs."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        spatial = weight.ndim - 2
        ctx.attrs = (stride, padding, dilation, groups, spatial)
        ctx.save_for_backward(x, weight)
        y = kconv.conv_transpose2d_forward(_to_4d(x, spatial), _weight_4d(weight), bias,
                                           stride, padding, output_padding, dilation, groups)
        return _from_4d(y, x, spatial)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved
        stride, padding, dilation, groups, spatial = ctx.attrs
        need = ctx.needs_input_grad
        grad_x, grad_w, grad_b = kconv.conv_transpose2d_backward(
            _to_4d(grad_y, spatial), _to_4d(x, spatial), _weight_4d(weight), stride, padding,
            dilation, groups, need_input=need[0], need_weight=need[1], need_bias=need[2])
        if grad_x is not None:
            grad_x = _from_4d(grad_x, x, spatial)
        if grad_w is not None:
            grad_w = grad_w.reshape(weight.shape)
        return grad_x, grad_w, grad_b


class ConvTranspose1d(ConvTranspose2d):
    """1-D transposed convolution: the 2-D kernels on an image of height 1."""


def _conv(function, op, spatial, input, weight, bias, stride, padding, dilation, groups):
    input = as_tensor(input)
    weight = as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    _check_input(op, input.data, weight.data, spatial)
    kernel = weight.data.shape[2:]
    stride = _positive(_ints(stride, spatial, "stride", op), "stride", op)
    dilation = _positive(_ints(dilation, spatial, "dilation", op), "dilation", op)
    groups = int(groups)
    pads = conv_padding(padding, input.data.shape[-spatial:], kernel, stride, dilation, op)
    if spatial == 1:
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    return function.apply(input, weight, bias, stride=stride, padding=pads[0] + pads[1],
                          dilation=dilation, groups=groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C, L) input, (Co, C/groups, K) weight, optional (Co,) bias -> (N, Co, Lout)."""
    return _conv(Conv1d, "conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C, H, W) input, (Co, C/groups, KH, KW) weight, optional (Co,) bias ->
    (N, Co, OH, OW)."""
    return _conv(Conv2d, "conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(function, op, spatial, input, weight, bias, stride, padding,
                    output_padding, groups, dilation):
    input = as_tensor(input)
    weight = as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    _check_input(op, input.data, weight.data, spatial)
    stride = _positive(_ints(stride, spatial, "stride", op), "stride", op)
    dilation = _positive(_ints(dilation, spatial, "dilation", op), "dilation", op)
    padding = _ints(padding, spatial, "padding", op)
    output_padding = _ints(output_padding, spatial, "output_padding", op)
    if min(padding) < 0 or min(output_padding) < 0:
        raise ValueError(f"{op}: padding {padding} and output_padding {output_padding} must "
                         f"be non-negative")
    if spatial == 1:
        stride, dilation = (1,) + stride, (1,) + dilation
        padding, output_padding = (0,) + padding, (0,) + output_padding
    return function.apply(input, weight, bias, stride=stride, padding=padding,
                          output_padding=output_padding, dilation=dilation, groups=int(groups))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """(N, Ci, L) input, (Ci, Co/groups, K) weight -> (N, Co, (L - 1) s - 2 p + d (K - 1) +
    output_padding + 1)."""
    return _conv_transpose(ConvTranspose1d, "conv_transpose1d", 1, input, weight, bias, stride,
                           padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """(N, Ci, H, W) input, (Ci, Co/groups, KH, KW) weight -> (N, Co, OH, OW), the FCN
    upsampling layer (PyTorch's argument order: groups before dilation)."""
    return _conv_transpose(ConvTranspose2d, "conv_transpose2d", 2, input, weight, bias, stride,
                           padding, output_padding, groups, dilation)
