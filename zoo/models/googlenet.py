"""GoogLeNet (Szegedy et al. 2015), d2l chapter 8.4: a stem of plain convolutions, then nine
Inception blocks in three stages separated by 3x3 stride-2 max-pools, global average pooling
and one linear layer. d2l trains it on Fashion-MNIST at 96x96."""
import autograd as ag
import nn
from nn import functional as F
from zoo.models._sizes import output_hw

__all__ = ["Inception", "googlenet"]


class Inception(nn.Module):
    """Four parallel branches concatenated along the channels: a 1x1 convolution; 1x1 then
    3x3; 1x1 then 5x5; 3x3 max-pool then 1x1. Every convolution is followed by ReLU and every
    branch keeps H x W.

    Args:
        in_channels: C_in.
        c1: channels of branch 1.
        c2, c3: (reduction, output) channels of branches 2 and 3.
        c4: channels of branch 4.

    Shape: (N, C_in, H, W) -> (N, c1 + c2[1] + c3[1] + c4, H, W).
    """

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.b1_1 = nn.Conv2d(in_channels, c1, 1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], 1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], 3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], 1)
        self.b3_2 = nn.Conv2d(c3[0], c3[1], 5, padding=2)
        self.b4_1 = nn.MaxPool2d(3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, 1)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return ag.cat((b1, b2, b3, b4), dim=1)

    def spatial_size(self, hw):
        return hw

    def extra_repr(self):
        return f"out_channels={self.out_channels}"


def googlenet(*, in_channels=1, num_classes=10, image_size=96):
    """d2l's GoogLeNet as an nn.Sequential of five stages and the classifier.

    Args:
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W). Global average pooling makes the network
            size-agnostic (every convolution and pool is padded, so any size works); the
            size is checked all the same, as for the other builders.

    Shape: (N, in_channels, H, W) -> (N, num_classes). 5,977,530 parameters.
    """
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, 64, 7, stride=2, padding=3), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1))
    b2 = nn.Sequential(
        nn.Conv2d(64, 64, 1), nn.ReLU(),
        nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1))
    b3 = nn.Sequential(
        Inception(192, 64, (96, 128), (16, 32), 32),
        Inception(256, 128, (128, 192), (32, 96), 64),
        nn.MaxPool2d(3, stride=2, padding=1))
    b4 = nn.Sequential(
        Inception(480, 192, (96, 208), (16, 48), 64),
        Inception(512, 160, (112, 224), (24, 64), 64),
        Inception(512, 128, (128, 256), (24, 64), 64),
        Inception(512, 112, (144, 288), (32, 64), 64),
        Inception(528, 256, (160, 320), (32, 128), 128),
        nn.MaxPool2d(3, stride=2, padding=1))
    b5 = nn.Sequential(
        Inception(832, 256, (160, 320), (32, 128), 128),
        Inception(832, 384, (192, 384), (48, 128), 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())
    net = nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(1024, num_classes))
    output_hw(net, image_size, "googlenet")
    return net
