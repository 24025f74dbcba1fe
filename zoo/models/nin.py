"""Network in Network (Lin et al. 2013), d2l chapter 8.3: AlexNet's convolution shapes, each
followed by two 1x1 convolutions (a per-pixel MLP), and no fully connected layers: the last
NiN block has one channel per class and global average pooling turns it into the logits."""
import nn
from zoo.models._sizes import output_hw

__all__ = ["nin_block", "nin"]


def nin_block(in_channels, out_channels, kernel_size, stride, padding):
    """A convolution then two 1x1 convolutions, each followed by ReLU.

    Shape: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out) as the first
    convolution gives.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU())


def nin(*, in_channels=1, num_classes=10, image_size=224, dropout=0.5):
    """d2l's NiN as an nn.Sequential.

    Args:
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W). Global average pooling makes the network
            size-agnostic; the size is checked (at least 67x67) so a small input fails here,
            naming the layer, rather than inside a pooling op.
        dropout: probability of the dropout before the last block.

    Shape: (N, in_channels, H, W) -> (N, num_classes). 1,992,166 parameters.
    """
    net = nn.Sequential(
        nin_block(in_channels, 96, 11, stride=4, padding=0), nn.MaxPool2d(3, stride=2),
        nin_block(96, 256, 5, stride=1, padding=2), nn.MaxPool2d(3, stride=2),
        nin_block(256, 384, 3, stride=1, padding=1), nn.MaxPool2d(3, stride=2),
        nn.Dropout(dropout),
        nin_block(384, num_classes, 3, stride=1, padding=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())
    output_hw(net, image_size, "nin")
    return net
