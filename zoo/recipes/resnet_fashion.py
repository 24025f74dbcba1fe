"""ResNet-18 at reduced width (d2l chapter 8.6) on Fashion-MNIST at its own 28x28 size, and
the same run in PyTorch for comparison.

`python -m zoo resnet_fashion` trains tapegrad's model for one epoch. With `compare=True`
(or `python -m zoo.recipes.resnet_fashion`) the identical PyTorch model is trained next, in
a separate process so the two libraries' thread pools never compete: the same architecture
written with torch.nn, our initial weights copied into it, the same batches in the same
order, the same optimizer. Both test accuracies and training times per epoch are printed.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data import load_fashion_mnist, load_mnist
from zoo.models.resnet import resnet18
from zoo.train import evaluate, fit

CONFIG = dict(data="fashion_mnist", width=16, stem="imagenet", epochs=1, batch_size=128,
              lr=0.05, momentum=0.9, weight_decay=5e-4, limit=None, seed=0, compare=False,
              progress=True)


def load(config):
    """The dataset of `config`, cut to its first `limit` train and test images if set."""
    data = load_fashion_mnist() if config["data"] == "fashion_mnist" else load_mnist()
    if config["limit"]:
        n = config["limit"]
        data = type(data)(data.x_train[:n], data.y_train[:n], data.x_test[:n], data.y_test[:n])
    return data


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load(config)
    # batches come from their own seeded generator, so the PyTorch run can replay them
    train_loader = DataLoader(TensorDataset(data.x_train, data.y_train),
                              batch_size=config["batch_size"], shuffle=True,
                              generator=np.random.default_rng(config["seed"]))
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=1000)
    model = resnet18(in_channels=1, num_classes=10, image_size=28, width=config["width"],
                     stem=config["stem"])
    initial = {k: v.copy() for k, v in model.state_dict().items()}
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"],
                             weight_decay=config["weight_decay"])
    history = fit(model, F.cross_entropy, optimizer, train_loader, config["epochs"],
                  progress=config["progress"])
    start = time.perf_counter()
    test = evaluate(model, F.cross_entropy, test_loader)
    history.update(test_acc=test["acc"], test_seconds=time.perf_counter() - start)
    ours = dict(test_acc=test["acc"], train_loss=history["train_loss"][-1],
                seconds=history["seconds"], test_seconds=history["test_seconds"])
    _report("tapegrad", config, ours)
    if config["compare"]:
        history["torch"] = run_torch(config, initial)
        _report("PyTorch ", config, history["torch"])
        ratio = np.mean(ours["seconds"]) / np.mean(history["torch"]["seconds"])
        print(f"time per epoch, tapegrad / PyTorch: {ratio:.2f}")
    return model, history


def _report(who, config, result):
    seconds = float(np.mean(result["seconds"]))
    print(f"{who}: ResNet-18 (width {config['width']}) on {config['data']}: test accuracy "
          f"{result['test_acc']:.4f} after {config['epochs']} epoch(s); {seconds:.1f} s per "
          f"training epoch, {result['test_seconds']:.1f} s per test pass")


def run_torch(config, initial):
    """Train the PyTorch twin from `initial` (a state_dict of arrays) in a fresh process;
    returns its result dict (test_acc, train_loss, seconds per epoch, test_seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "initial.npz")
        np.savez(path, **initial)
        done = subprocess.run([sys.executable, "-m", "zoo.recipes.resnet_fashion", "--torch",
                               json.dumps(config), path],
                              stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"resnet_fashion: the PyTorch run failed (exit code "
                           f"{done.returncode}); its error is printed above")
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_resnet18(in_channels, num_classes, width, stem):
    """`zoo.models.resnet.resnet18` written with torch.nn, parameter for parameter and with the
    same state_dict keys."""
    from torch import nn as tnn

    class Residual(tnn.Module):
        def __init__(self, in_ch, out_ch, stride=1):
            super().__init__()
            self.conv1 = tnn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1)
            self.bn1 = tnn.BatchNorm2d(out_ch)
            self.conv2 = tnn.Conv2d(out_ch, out_ch, 3, padding=1)
            self.bn2 = tnn.BatchNorm2d(out_ch)
            self.shortcut = (tnn.Conv2d(in_ch, out_ch, 1, stride=stride)
                             if stride != 1 or in_ch != out_ch else tnn.Identity())

        def forward(self, x):
            y = tnn.functional.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return tnn.functional.relu(y + self.shortcut(x))

    if stem == "imagenet":
        first = [tnn.Conv2d(in_channels, width, 7, stride=2, padding=3),
                 tnn.BatchNorm2d(width), tnn.ReLU(), tnn.MaxPool2d(3, stride=2, padding=1)]
    else:
        first = [tnn.Conv2d(in_channels, width, 3, padding=1), tnn.BatchNorm2d(width),
                 tnn.ReLU()]
    stages, channels = [], width
    for i in range(4):
        out = width * 2 ** i
        stages.append(tnn.Sequential(Residual(channels, out, stride=1 if i == 0 else 2),
                                     Residual(out, out)))
        channels = out
    return tnn.Sequential(tnn.Sequential(*first), *stages, tnn.AdaptiveAvgPool2d(1),
                          tnn.Flatten(), tnn.Linear(channels, num_classes))


def _torch_worker(config, initial_path):
    """The PyTorch side of `compare`: same model, weights, batches and optimizer."""
    import torch
    torch.set_num_threads(2)
    data = load(config)
    model = torch_resnet18(1, 10, config["width"], config["stem"])
    with np.load(initial_path) as initial:
        model.load_state_dict({k: torch.from_numpy(initial[k]) for k in initial.files})
    optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"],
                                momentum=config["momentum"],
                                weight_decay=config["weight_decay"])
    x_train, y_train = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(config["seed"])          # DataLoader(generator=...)'s orders
    batch, n = config["batch_size"], len(x_train)
    seconds = []
    for _ in range(config["epochs"]):
        model.train()
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(n))
        total = 0.0
        for first in range(0, n, batch):
            index = order[first:first + batch]
            x, y = x_train[index], y_train[index]
            optimizer.zero_grad()
            output = model(x)
            loss = torch.nn.functional.cross_entropy(output, y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)                   # the bookkeeping fit() does
            (output.detach().argmax(1) == y).sum().item()
        seconds.append(time.perf_counter() - start)
    model.eval()
    start = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for first in range(0, len(data.x_test), 1000):
            x = torch.from_numpy(data.x_test[first:first + 1000])
            y = torch.from_numpy(data.y_test[first:first + 1000])
            correct += (model(x).argmax(1) == y).sum().item()
    return dict(test_acc=correct / len(data.x_test), train_loss=total / n, seconds=seconds,
                test_seconds=time.perf_counter() - start)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--torch":
        print(json.dumps(_torch_worker(json.loads(sys.argv[2]), sys.argv[3])))
    else:
        train(compare=True)
