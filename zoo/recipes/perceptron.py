"""Rosenblatt's perceptron on the 8x8 digits, 0 against 1 (nearly linearly separable):
labels in {-1, +1}, one sample per step, lr 1, i.e. w += y x on every mistake."""
import numpy as np

import autograd as ag
import nn
from nn.data import DataLoader, TensorDataset
from zoo.data import load_digits
from zoo.models.linear import Perceptron, perceptron_loss
from zoo.train import binary_correct, fit

CONFIG = dict(positive=1, negative=0, epochs=3, batch_size=1, lr=1.0, seed=0, progress=True)


def _binary(x, y, positive, negative):
    keep = (y == positive) | (y == negative)
    return x[keep], np.where(y[keep] == positive, 1.0, -1.0).astype(np.float32)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load_digits()
    x_train, y_train = _binary(data.x_train, data.y_train, config["positive"],
                               config["negative"])
    x_test, y_test = _binary(data.x_test, data.y_test, config["positive"], config["negative"])
    train_loader = DataLoader(TensorDataset(x_train, y_train),
                              batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=1000)
    model = Perceptron(64)
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"])
    history = fit(model, perceptron_loss, optimizer, train_loader, config["epochs"],
                  val_loader=test_loader, accuracy=binary_correct,
                  progress=config["progress"])
    print(f"perceptron ({config['positive']} vs {config['negative']}): test accuracy "
          f"{history['val_acc'][-1]:.4f}")
    return model, history
