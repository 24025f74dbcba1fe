"""Batch normalisation in a multilayer perceptron (d2l chapter 8.5): each hidden layer is
Linear -> BatchNorm1d -> activation, the normalisation sitting between the affine map and the
nonlinearity as in Ioffe and Szegedy (2015). The convolutional counterpart is
`zoo.models.lenet.lenet_bn`."""
import nn

__all__ = ["mlp_bn"]


def mlp_bn(*, in_features=784, hidden=(256, 256), num_classes=10, activation=nn.ReLU):
    """Flatten, then Linear-BatchNorm1d-activation per hidden layer, then a Linear classifier.

    Args:
        in_features: size of the flattened input (C * H * W; 784 for MNIST).
        hidden: sizes of the hidden layers.
        num_classes: number of outputs.
        activation: the activation module class (default nn.ReLU).

    Shape: (N, *) -> (N, num_classes); training needs batches of more than one sample.
    """
    layers = [nn.Flatten()]
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.BatchNorm1d(size), activation()]
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
