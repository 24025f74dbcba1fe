"""Binary logistic regression with polynomial features and an L2 penalty: two noisy
concentric rings that no line separates become separable with the degree-6 monomials of the
two coordinates (the textbook feature map)."""
import numpy as np

import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.models.linear import LogisticRegression, l2_penalty, polynomial_features
from zoo.train import binary_correct, fit

CONFIG = dict(samples=1000, noise=0.1, degree=6, l2=1e-4, epochs=30, batch_size=32,
              lr=0.01, seed=0, progress=True)


def rings(n, noise, rng):
    """n points (float32 (n, 2)) on a ring of radius 1 (label 1) or 0.5 (label 0), with
    Gaussian noise; labels float32 {0, 1}."""
    label = rng.integers(0, 2, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(label == 1, 1.0, 0.5) + noise * rng.standard_normal(n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x.astype(np.float32), label.astype(np.float32)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    x, y = rings(config["samples"], config["noise"], rng)
    features = polynomial_features(x, config["degree"])
    split = int(0.8 * len(x))
    train_loader = DataLoader(TensorDataset(features[:split], y[:split]),
                              batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(TensorDataset(features[split:], y[split:]), batch_size=1000)
    model = LogisticRegression(features.shape[1])
    optimizer = nn.optim.Adam(model.parameters(), lr=config["lr"])
    l2 = config["l2"]

    def loss(logits, target):
        return F.binary_cross_entropy_with_logits(logits, target) + l2 * l2_penalty(model)

    history = fit(model, loss, optimizer, train_loader, config["epochs"],
                  val_loader=test_loader, accuracy=binary_correct,
                  progress=config["progress"])
    print(f"logistic regression (degree {config['degree']}): test accuracy "
          f"{history['val_acc'][-1]:.4f}")
    return model, history
