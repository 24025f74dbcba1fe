"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (PyTorch's arguments,
weight shapes and default initialisation, so a torch state_dict loads as it is)."""
import math

import autograd
from autograd import dtypes
from autograd.ops.conv import conv_padding
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """Parameters and initialisation shared by the convolution layers. The weight is
    (out, in / groups, *kernel) for a convolution and (in, out / groups, *kernel) for a
    transposed one; both start as PyTorch's: kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel), and the
    bias from the same range."""

    _spatial = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding, device, dtype):
        super().__init__()
        name = type(self).__name__
        n = self._spatial
        dtypes.check_device(device, name)
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels {in_channels} and out_channels "
                             f"{out_channels} must be divisible by groups {groups}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _tuple(kernel_size, n)
        self.stride = _tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.dilation = _tuple(dilation, n)
        self.output_padding = _tuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(autograd.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(autograd.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self._spatial:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._spatial:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._spatial:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        conv = F.conv1d if self._spatial == 1 else F.conv2d
        if self.padding_mode == "zeros":
            return conv(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
        pairs = conv_padding(self.padding, input.shape[-self._spatial:], self.kernel_size,
                             self.stride, self.dilation, type(self).__name__)
        flat = tuple(p for pair in reversed(pairs) for p in pair)
        return conv(F.pad(input, flat, mode=self.padding_mode), self.weight, self.bias,
                    self.stride, 0, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: an int or a 1-tuple.
        padding: an int, a 1-tuple, 'valid' or 'same' (see `autograd.ops.conv`).
        groups: split the channels into this many independent convolutions.
        bias: learn an additive bias (default True).
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Shape: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out); weight (C_out, C_in / groups, K).
    """

    _spatial = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: an int or a pair.
        padding: an int, a pair, 'valid' or 'same' (TensorFlow's SAME split with a stride).
        groups: split the channels into this many independent convolutions (depthwise when
            groups == in_channels).
        bias: learn an additive bias (default True).
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Shape: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out); weight
    (C_out, C_in / groups, KH, KW).
    """

    _spatial = 2


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got "
                             f"{padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size):
        """PyTorch's rule: the output_padding that yields `output_size` (the last spatial
        entries of it), which must lie within [minimum, minimum + stride - 1]."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        output_size = tuple(output_size)[-n:]
        pads = []
        for a in range(n):
            size = input.shape[-n + a]
            smallest = ((size - 1) * self.stride[a] - 2 * self.padding[a]
                        + self.dilation[a] * (self.kernel_size[a] - 1) + 1)
            extra = output_size[a] - smallest
            if not 0 <= extra < max(self.stride[a], self.dilation[a]):
                raise ValueError(f"{type(self).__name__}: output_size {output_size} is not "
                                 f"reachable from input {tuple(input.shape)} (axis {a} must "
                                 f"be in [{smallest}, {smallest + self.stride[a] - 1}])")
            pads.append(extra)
        return tuple(pads)

    def forward(self, input, output_size=None):
        conv = F.conv_transpose1d if self._spatial == 1 else F.conv_transpose2d
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the adjoint of Conv1d), for learned upsampling.

    Args: as Conv1d, plus output_padding (extra length added on one side of the output).

    Shape: (N, C_in, L) -> (N, C_out, (L - 1) stride - 2 padding + dilation (K - 1) +
    output_padding + 1); weight (C_in, C_out / groups, K). forward(input, output_size)
    chooses output_padding to reach output_size.
    """

    _spatial = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (the adjoint of Conv2d): FCN's learned upsampling.

    Args: as Conv2d, plus output_padding (extra rows / columns added on one side of the
    output).

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1; weight
    (C_in, C_out / groups, KH, KW). forward(input, output_size) chooses output_padding to
    reach output_size.
    """

    _spatial = 2
