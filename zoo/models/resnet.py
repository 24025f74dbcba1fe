"""ResNet (He et al. 2016), d2l chapter 8.6: residual blocks of two 3x3 conv-BN layers whose
input is added back before the last ReLU, through a strided 1x1 convolution when the block
changes the shape. ResNet-18 is a stem, four stages of two blocks (the first of stages 2-4
halves the resolution and doubles the channels), global average pooling and one linear
layer. d2l trains it on Fashion-MNIST at 96x96; `stem="cifar"` is the 3x3 stride-1 stem
without max-pool used for 32x32 images."""
import nn
from nn import functional as F
from zoo.models._sizes import output_hw

__all__ = ["Residual", "resnet_stage", "resnet", "resnet18", "RESNET18_ARCH"]

RESNET18_ARCH = ((2, 64), (2, 128), (2, 256), (2, 512))   # (residual blocks, channels)


class Residual(nn.Module):
    """Two 3x3 conv-BN layers; a strided 1x1 conv on the shortcut when the shape changes.

    Args:
        in_channels, out_channels: C_in and C_out.
        stride: of the first convolution and of the shortcut (2 halves H and W).

    Shape: (N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = (nn.Conv2d(in_channels, out_channels, 1, stride=stride)
                         if stride != 1 or in_channels != out_channels else nn.Identity())

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))

    def spatial_size(self, hw):
        return output_hw(self.conv1, hw, "Residual")


def resnet_stage(num_residuals, in_channels, out_channels, first_stage=False):
    """`num_residuals` Residual blocks; the first one halves H and W unless this is the
    stage right after the stem (which already downsampled)."""
    blocks = [Residual(in_channels, out_channels, stride=1 if first_stage else 2)]
    blocks += [Residual(out_channels, out_channels) for _ in range(num_residuals - 1)]
    return nn.Sequential(*blocks)


def _stem(stem, in_channels, channels):
    if stem == "imagenet":
        return nn.Sequential(
            nn.Conv2d(in_channels, channels, 7, stride=2, padding=3), nn.BatchNorm2d(channels),
            nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
    if stem == "cifar":
        return nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1), nn.BatchNorm2d(channels),
            nn.ReLU())
    raise ValueError(f"resnet: stem must be 'imagenet' or 'cifar', got {stem!r}")


def resnet(arch, *, in_channels=1, num_classes=10, image_size=96, stem="imagenet"):
    """A ResNet: the stem, one `resnet_stage` per (num_residuals, channels) of `arch`,
    global average pooling and a Linear classifier, as an nn.Sequential whose last module
    is the classifier (replace `model[-1]` to fine-tune on other classes).

    Args:
        arch: a sequence of (num_residuals, channels), e.g. RESNET18_ARCH; the stem has the
            first stage's channels.
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W). Every convolution is padded and the
            pooling is global, so any size works; the size is checked all the same.
        stem: "imagenet" (d2l: 7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max-pool: the
            resolution drops 4x) or "cifar" (3x3 stride-1 conv, BN, ReLU).

    Shape: (N, in_channels, H, W) -> (N, num_classes).
    """
    channels = arch[0][1]
    stages = []
    for i, (num_residuals, out_channels) in enumerate(arch):
        stages.append(resnet_stage(num_residuals, channels, out_channels, first_stage=i == 0))
        channels = out_channels
    net = nn.Sequential(
        _stem(stem, in_channels, arch[0][1]), *stages,
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))
    output_hw(net, image_size, "resnet")
    return net


def resnet18(*, in_channels=1, num_classes=10, image_size=96, width=64, stem="imagenet"):
    """ResNet-18: the stem convolution, four stages of two Residual blocks (16 convolutions)
    and the classifier: 18 layers with weights. `width` is the first stage's channels (64 in
    the paper; each later stage doubles it), so width=16 is a 16x cheaper network.

    11,178,378 parameters (one channel, 10 classes, width 64, d2l's stem).
    """
    arch = tuple((2, width * 2 ** i) for i in range(4))
    return resnet(arch, in_channels=in_channels, num_classes=num_classes,
                  image_size=image_size, stem=stem)
