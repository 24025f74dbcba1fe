"""The linear models of the first chapters: linear regression (with its closed form as an
oracle), logistic regression on polynomial features, softmax regression, the perceptron and
the linear SVM, with the losses the textbooks pair them with."""
import itertools

import numpy as np

import nn
from nn import functional as F

__all__ = ["LinearRegression", "LogisticRegression", "SoftmaxRegression", "Perceptron",
           "LinearSVM", "least_squares", "polynomial_features", "hinge_loss",
           "perceptron_loss", "l2_penalty"]


class LinearRegression(nn.Module):
    """y = x w + b, trained on the mean squared error.

    Shape: (N, in_features) -> (N, out_features).
    """

    def __init__(self, in_features, out_features=1):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.linear(x)


def least_squares(x, y):
    """The closed-form fit of linear regression (numpy arrays): (w (F, K), b (K,)) minimising
    ||x w + b - y||^2 for x (N, F) and y (N, K) or (N,)."""
    design = np.hstack([x, np.ones((len(x), 1), x.dtype)]).astype(np.float64)
    solution = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
    return solution[:-1], solution[-1]


def polynomial_features(x, degree):
    """Every monomial of the columns of x (numpy (N, F)) of total degree 1..degree, lowest
    degree first, e.g. x1, x2, x1^2, x1 x2, x2^2, ... (27 columns for F = 2, degree 6). The
    constant term is left to the model's bias."""
    columns = []
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(x.shape[1]), d):
            columns.append(np.prod(x[:, combo], axis=1))
    return np.stack(columns, axis=1).astype(x.dtype)


class LogisticRegression(nn.Module):
    """Binary logistic regression: the logit x w + b; P(y = 1 | x) = sigmoid(logit).
    Train with `F.binary_cross_entropy_with_logits`; feed `polynomial_features(x, d)` for a
    non-linear decision boundary.

    Shape: (N, in_features) -> (N,) logits.
    """

    def __init__(self, in_features):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)

    def forward(self, x):
        return self.linear(x).reshape(-1)


class SoftmaxRegression(nn.Module):
    """Multinomial logistic regression: class logits x W^T + b of the flattened input.
    Train with `F.cross_entropy`.

    Shape: (N, *) -> (N, num_classes).
    """

    def __init__(self, in_features, num_classes):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x):
        return self.linear(self.flatten(x))


class Perceptron(nn.Module):
    """Rosenblatt's perceptron: predicts sign(x w + b) for labels in {-1, +1}. SGD with lr 1
    on `perceptron_loss` is the classic update w += y x on each mistake.

    Shape: (N, *) -> (N,) scores.
    """

    def __init__(self, in_features):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(in_features, 1)

    def forward(self, x):
        return self.linear(self.flatten(x)).reshape(-1)


class LinearSVM(nn.Module):
    """Linear support vector machine: scores x W^T + b of the flattened input. Binary
    (num_classes=1, labels in {-1, +1}) with `hinge_loss`; multi-class with
    `F.multi_margin_loss`; the L2 term by `l2_penalty` or the optimizer's weight decay.

    Shape: (N, *) -> (N,) for num_classes=1, else (N, num_classes).
    """

    def __init__(self, in_features, num_classes=1):
        super().__init__()
        self.num_classes = num_classes
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x):
        scores = self.linear(self.flatten(x))
        return scores.reshape(-1) if self.num_classes == 1 else scores


def hinge_loss(scores, target, margin=1.0):
    """mean(max(0, margin - y s)) for scores s and labels y in {-1, +1}."""
    return F.relu(margin - target * scores).mean()


def perceptron_loss(scores, target):
    """mean(max(0, -y s)): zero for correct signs, the perceptron criterion otherwise."""
    return F.relu(-(target * scores)).mean()


def l2_penalty(module):
    """Sum of squared weights (biases and 1-D parameters excluded), the SVM's ||w||^2."""
    return sum((p * p).sum() for name, p in module.named_parameters() if p.ndim > 1)
