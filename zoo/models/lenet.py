"""LeNet-5 (LeCun et al. 1998), d2l chapter 7.6: two 5x5 convolutions, each followed by an
activation and a 2x2 pooling, then fully connected layers of 120, 84 and `num_classes` units.

d2l's version uses sigmoid and average pooling and pads conv1 by 2, so a 28x28 MNIST image
covers LeNet-5's 32x32 field; the modern variant swaps in ReLU and max pooling, and trains
in a fraction of the epochs. `lenet_bn` is chapter 8.5's LeNet with batch normalisation
after every convolution and every hidden linear layer, before the activation.
"""
import nn
from zoo.models._sizes import output_hw

__all__ = ["lenet", "lenet_bn"]

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


def _choose(model, what, table, key):
    if key not in table:
        raise ValueError(f"{model}: {what} must be one of {sorted(table)}, got {key!r}")
    return table[key]


def lenet(*, in_channels=1, num_classes=10, image_size=28, activation="sigmoid", pool="avg",
          padding=2):
    """LeNet-5 as an nn.Sequential; the defaults are d2l's.

    Args:
        in_channels, num_classes: channels of the input image, number of outputs.
        image_size: H = W of the input, or (H, W); sizes the first linear layer
            (16 * 5 * 5 = 400 inputs for d2l's 28x28 with padding 2).
        activation: "sigmoid" (d2l) or "relu".
        pool: "avg" (d2l) or "max"; 2x2 windows, stride 2.
        padding: zero padding of conv1 (2 in d2l; 0 is LeNet-5 on 32x32 input).

    Shape: (N, in_channels, H, W) -> (N, num_classes). 61,706 parameters with the defaults.
    """
    act = _choose("lenet", "activation", ACTIVATIONS, activation)
    pooling = _choose("lenet", "pool", POOLS, pool)
    features = nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=padding), act(), pooling(2, stride=2),
        nn.Conv2d(6, 16, 5), act(), pooling(2, stride=2))
    h, w = output_hw(features, image_size, "lenet")
    return nn.Sequential(
        *features, nn.Flatten(),
        nn.Linear(16 * h * w, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, num_classes))


def lenet_bn(*, in_channels=1, num_classes=10, image_size=28, activation="sigmoid",
             pool="avg"):
    """d2l's LeNet with batch normalisation (chapter 8.5): conv/linear -> BatchNorm -> act.

    Unlike `lenet`, conv1 is not padded (as in the chapter); the convolutions and linear
    layers keep their biases although the batch norm that follows cancels them.

    Args: as `lenet`.

    Shape: (N, in_channels, H, W) -> (N, num_classes). 44,878 parameters at 28x28.
    """
    act = _choose("lenet_bn", "activation", ACTIVATIONS, activation)
    pooling = _choose("lenet_bn", "pool", POOLS, pool)
    features = nn.Sequential(
        nn.Conv2d(in_channels, 6, 5), nn.BatchNorm2d(6), act(), pooling(2, stride=2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), act(), pooling(2, stride=2))
    h, w = output_hw(features, image_size, "lenet_bn")
    return nn.Sequential(
        *features, nn.Flatten(),
        nn.Linear(16 * h * w, 120), nn.BatchNorm1d(120), act(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), act(),
        nn.Linear(84, num_classes))
