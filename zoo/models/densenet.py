"""DenseNet (Huang et al. 2017), d2l chapter 8.7: dense blocks in which every BN-ReLU-conv
layer sees the concatenation of the block's input and all earlier layers' outputs, so the
channels grow by `growth_rate` per layer; transition layers (BN-ReLU-1x1 conv, 2x2 average
pool) halve the channels and the resolution between blocks. d2l trains it on Fashion-MNIST
at 96x96."""
import autograd as ag
import nn
from zoo.models._sizes import output_hw

__all__ = ["conv_block", "DenseBlock", "transition_block", "densenet"]


def conv_block(in_channels, num_channels):
    """BatchNorm-ReLU-3x3 conv (padding 1): the pre-activation layer of a dense block."""
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, num_channels, 3, padding=1))


class DenseBlock(nn.Module):
    """`num_convs` conv_blocks, each fed the concatenation of everything before it.

    Args:
        num_convs: number of conv_blocks.
        in_channels: C_in.
        growth_rate: channels each conv_block adds.

    Shape: (N, C_in, H, W) -> (N, C_in + num_convs * growth_rate, H, W).
    """

    def __init__(self, num_convs, in_channels, growth_rate):
        super().__init__()
        self.net = nn.Sequential(*[conv_block(in_channels + i * growth_rate, growth_rate)
                                   for i in range(num_convs)])
        self.out_channels = in_channels + num_convs * growth_rate

    def forward(self, x):
        for block in self.net:
            y = block(x)
            x = ag.cat((x, y), dim=1)
        return x

    def spatial_size(self, hw):
        return hw


def transition_block(in_channels, num_channels):
    """BatchNorm-ReLU-1x1 conv to `num_channels`, then 2x2 stride-2 average pooling.

    Shape: (N, in_channels, H, W) -> (N, num_channels, H // 2, W // 2).
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, num_channels, 1), nn.AvgPool2d(2, stride=2))


def densenet(*, in_channels=1, num_classes=10, image_size=96, num_channels=64,
             growth_rate=32, arch=(4, 4, 4, 4)):
    """d2l's DenseNet as an nn.Sequential: a ResNet-style stem (7x7 stride-2 conv, BN, ReLU,
    3x3 stride-2 max-pool), a DenseBlock per entry of `arch` with a transition block halving
    the channels between two of them, then BN-ReLU, global average pooling and a Linear.

    Args:
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W). The pooling is global, but the stem and
            the three transitions divide the resolution by 32, so at least 29x29 is needed;
            the size is checked here.
        num_channels: channels of the stem.
        growth_rate: channels added by each convolution of a dense block.
        arch: number of convolutions of each dense block.

    Shape: (N, in_channels, H, W) -> (N, num_classes). 758,226 parameters with d2l's
    defaults.
    """
    layers = [nn.Conv2d(in_channels, num_channels, 7, stride=2, padding=3),
              nn.BatchNorm2d(num_channels), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]
    channels = num_channels
    for i, num_convs in enumerate(arch):
        block = DenseBlock(num_convs, channels, growth_rate)
        layers.append(block)
        channels = block.out_channels
        if i != len(arch) - 1:
            layers.append(transition_block(channels, channels // 2))
            channels //= 2
    layers += [nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(channels, num_classes)]
    net = nn.Sequential(*layers)
    output_hw(net, image_size, "densenet")
    return net
