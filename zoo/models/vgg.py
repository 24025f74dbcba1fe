"""VGG (Simonyan and Zisserman 2014), d2l chapter 8.2: blocks of 3x3 padded convolutions with
ReLU, each block closed by a 2x2 max-pool that halves the resolution, then the AlexNet-style
classifier of two 4096-unit layers with dropout. VGG-11 has 8 convolutions in 5 blocks."""
import nn
from zoo.models._sizes import output_hw

__all__ = ["vgg_block", "vgg", "vgg11", "VGG11_ARCH"]

VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))   # (convolutions, channels)


def vgg_block(num_convs, in_channels, out_channels):
    """`num_convs` 3x3 convolutions (padding 1) with ReLU, then a 2x2 stride-2 max-pool.

    Shape: (N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2).
    """
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3,
                             padding=1), nn.ReLU()]
    layers.append(nn.MaxPool2d(2, stride=2))
    return nn.Sequential(*layers)


def vgg(arch, *, in_channels=1, num_classes=10, image_size=224, dropout=0.5):
    """A VGG network: one `vgg_block` per (num_convs, channels) of `arch`, then
    Flatten-Linear(4096)-ReLU-Dropout twice and the Linear classifier.

    Args:
        arch: a sequence of (num_convs, out_channels), e.g. VGG11_ARCH.
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W); sizes the first linear layer (each block
            halves the resolution, so 5 blocks need at least 32x32).
        dropout: probability of the two dropout layers.

    Shape: (N, in_channels, H, W) -> (N, num_classes).
    """
    blocks, channels = [], in_channels
    for num_convs, out_channels in arch:
        blocks.append(vgg_block(num_convs, channels, out_channels))
        channels = out_channels
    h, w = output_hw(nn.Sequential(*blocks), image_size, "vgg")
    return nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(channels * h * w, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes))


def vgg11(*, in_channels=1, num_classes=10, image_size=224, ratio=1, dropout=0.5):
    """VGG-11. `ratio` divides every block's channels: d2l trains ratio 4 (16 ... 128
    channels) on Fashion-MNIST at 224x224 to keep the computation affordable.

    128,806,154 parameters at 224x224 (ratio 1, one channel, 10 classes).
    """
    arch = tuple((num_convs, channels // ratio) for num_convs, channels in VGG11_ARCH)
    return vgg(arch, in_channels=in_channels, num_classes=num_classes, image_size=image_size,
               dropout=dropout)
