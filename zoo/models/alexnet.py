"""AlexNet (Krizhevsky et al. 2012), d2l chapter 8.1: five convolutions (11x11 stride 4, 5x5,
three 3x3) with ReLU and three 3x3 stride-2 max-pools, then two dropout-regularised
4096-unit layers. d2l trains it on Fashion-MNIST upscaled to 224x224, one channel."""
import nn
from zoo.models._sizes import output_hw

__all__ = ["alexnet"]


def alexnet(*, in_channels=1, num_classes=10, image_size=224, dropout=0.5):
    """d2l's AlexNet as an nn.Sequential.

    Args:
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W); sizes the first linear layer
            (256 * 5 * 5 = 6400 inputs at 224x224). The smallest input is 65x65.
        dropout: probability of the two dropout layers.

    Shape: (N, in_channels, H, W) -> (N, num_classes). 46,764,746 parameters at 224x224.
    """
    features = nn.Sequential(
        nn.Conv2d(in_channels, 96, 11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2))
    h, w = output_hw(features, image_size, "alexnet")
    return nn.Sequential(
        *features, nn.Flatten(),
        nn.Linear(256 * h * w, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes))
