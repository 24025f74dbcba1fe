"""Pooling layers: max, average, L^p and adaptive pooling in 1-D and 2-D (PyTorch's arguments).
Global average pooling is AdaptiveAvgPool2d(1)."""
from nn import functional as F
from nn.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "LPPool1d", "LPPool2d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _MaxPool(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Max over sliding windows of (N, C, L).

    Args:
        kernel_size: window length. stride: step (default kernel_size). padding: implicit
            -inf on both sides (at most kernel_size / 2). dilation: spacing of the window.
        return_indices: also return the argmax positions (for MaxUnpool-style use).
        ceil_mode: round the output length up (a last partial window).

    Shape: (N, C, L) or (C, L) -> (N, C, L_out).
    """

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPool):
    """Max over sliding windows of (N, C, H, W).

    Args:
        kernel_size, stride (default kernel_size), padding, dilation: an int or a pair.
        return_indices: also return the argmax positions (flat in each H W plane).
        ceil_mode: round the output size up (last partial windows).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    """

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """Average over sliding windows of (N, C, L).

    Args:
        kernel_size, stride (default kernel_size), padding (zeros, at most kernel_size / 2).
        ceil_mode: round the output length up.
        count_include_pad: count the zero padding in the divisor (default True).

    Shape: (N, C, L) or (C, L) -> (N, C, L_out).
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Average over sliding windows of (N, C, H, W).

    Args:
        kernel_size, stride (default kernel_size), padding: an int or a pair.
        ceil_mode: round the output size up.
        count_include_pad: count the zero padding in the divisor (default True).
        divisor_override: divide every window sum by this instead.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _LPPool(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """L^p pooling over (N, C, L): (sum over the window of x^p)^(1/p).

    Args: norm_type p, kernel_size, stride (default kernel_size), ceil_mode.

    Shape: (N, C, L) or (C, L) -> (N, C, L_out).
    """

    def forward(self, input):
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool2d(_LPPool):
    """L^p pooling over (N, C, H, W): (sum over the window of x^p)^(1/p); p = 1 is sum
    pooling, large p approaches max pooling.

    Args: norm_type p, kernel_size, stride (default kernel_size), ceil_mode.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    """

    def forward(self, input):
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride,
                           self.ceil_mode)


class AdaptiveAvgPool1d(Module):
    """Average pooling to a fixed length: (N, C, L) -> (N, C, output_size)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed size: (N, C, H, W) -> (N, C, *output_size).

    Args:
        output_size: an int or a pair; None keeps that input size. 1 is global average
            pooling (NiN, ResNet).
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """Max pooling to a fixed length: (N, C, L) -> (N, C, output_size)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed size: (N, C, H, W) -> (N, C, *output_size).

    Args:
        output_size: an int or a pair; None keeps that input size.
        return_indices: also return the argmax positions (flat in each H W plane).
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"
