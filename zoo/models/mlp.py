"""Multilayer perceptron (d2l chapter 5) with dropout, and the L1 penalty used with it; L2
regularisation is the optimizer's weight decay."""
import nn

__all__ = ["MLP", "l1_penalty"]


class MLP(nn.Module):
    """Flatten, then Linear-activation(-Dropout) per hidden layer, then a Linear classifier.

    Args:
        in_features: size of the flattened input (784 for MNIST).
        hidden: sizes of the hidden layers.
        num_classes: number of outputs.
        dropout: dropout probability after each hidden activation (0 disables it).
        activation: the activation module class (default nn.ReLU).

    Shape: (N, *) -> (N, num_classes).
    """

    def __init__(self, in_features=784, hidden=(256, 256), num_classes=10, dropout=0.0,
                 activation=nn.ReLU):
        super().__init__()
        layers = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), activation()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def l1_penalty(module):
    """Sum of absolute weights (biases excluded): add `lam * l1_penalty(model)` to the loss
    for L1 regularisation."""
    return sum(p.abs().sum() for p in module.parameters() if p.ndim > 1)
