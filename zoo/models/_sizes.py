"""Feature-map sizes computed from the layers' arguments, so a builder sizes its first linear
layer for the input size it is given (d2l lets LazyLinear find it with a dry run) and refuses
an input too small for the network, naming the layer where the map vanishes."""
import numbers

import nn

__all__ = ["image_hw", "output_hw"]


def image_hw(image_size):
    """(H, W) from an int (a square image) or a pair."""
    if isinstance(image_size, numbers.Integral):
        return int(image_size), int(image_size)
    h, w = (int(s) for s in image_size)
    return h, w


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _window(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    steps = -(-span // stride) if ceil_mode else span // stride
    if ceil_mode and steps * stride >= size + padding:     # PyTorch drops a window that
        steps -= 1                                         # starts in the right padding
    return steps + 1


def _layer_hw(layer, hw):
    if isinstance(layer, nn.Conv2d):
        if layer.padding == "same":
            return hw
        padding = (0, 0) if layer.padding == "valid" else layer.padding
        return tuple(_window(hw[a], layer.kernel_size[a], layer.stride[a], padding[a],
                             layer.dilation[a]) for a in range(2))
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        kernel, stride, padding = (_pair(v) for v in (layer.kernel_size, layer.stride,
                                                      layer.padding))
        dilation = _pair(getattr(layer, "dilation", 1))
        return tuple(_window(hw[a], kernel[a], stride[a], padding[a], dilation[a],
                             layer.ceil_mode) for a in range(2))
    if isinstance(layer, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size = _pair(layer.output_size)
        return tuple(hw[a] if size[a] is None else size[a] for a in range(2))
    return None


def output_hw(module, image_size, model):
    """(H, W) of `module`'s output for an input of `image_size` (int or (H, W)).

    Convolutions and pooling layers map the size; containers run their children in order; a
    block whose children do not run one after another (residual, parallel branches) defines
    `spatial_size(hw)`; any other layer keeps the size. Raises ValueError naming `model` and
    the layer when the map shrinks below 1x1.
    """
    start = image_hw(image_size)

    def walk(layer, hw):
        mapped = _layer_hw(layer, hw)
        if mapped is None and hasattr(layer, "spatial_size"):
            mapped = layer.spatial_size(hw)
        if mapped is None:
            for child in layer.children():
                hw = walk(child, hw)
            return hw
        if min(mapped) < 1:
            raise ValueError(f"{model}: a {start[0]}x{start[1]} input is too small; the "
                             f"{hw[0]}x{hw[1]} map entering {layer!r} would become "
                             f"{mapped[0]}x{mapped[1]}")
        return tuple(mapped)

    return walk(module, start)
