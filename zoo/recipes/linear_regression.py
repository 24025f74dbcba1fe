"""Linear regression by minibatch gradient descent on synthetic data (d2l chapter 3:
y = X w + b + noise with w = [2, -3.4], b = 4.2), checked against the closed form."""
import numpy as np

import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.models.linear import LinearRegression, least_squares
from zoo.train import fit

CONFIG = dict(true_w=(2.0, -3.4), true_b=4.2, noise=0.01, samples=1000, epochs=3,
              batch_size=10, lr=0.03, seed=0, progress=True)


def synthetic_data(w, b, noise, n, rng):
    """x ~ N(0, 1) of shape (n, len(w)) and y = x w + b + N(0, noise^2), float32."""
    w = np.asarray(w, dtype=np.float64)
    x = rng.standard_normal((n, len(w)))
    y = x @ w + b + noise * rng.standard_normal(n)
    return x.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    x, y = synthetic_data(config["true_w"], config["true_b"], config["noise"],
                          config["samples"], np.random.default_rng(config["seed"]))
    loader = DataLoader(TensorDataset(x, y), batch_size=config["batch_size"], shuffle=True)
    model = LinearRegression(len(config["true_w"]))
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"])
    history = fit(model, F.mse_loss, optimizer, loader, config["epochs"], accuracy=None,
                  progress=config["progress"])
    w_exact, b_exact = least_squares(x, y)
    print(f"linear regression: w {model.linear.weight.data.ravel()}, b "
          f"{model.linear.bias.data}; closed form w {w_exact.ravel()}, b {b_exact}")
    return model, history
