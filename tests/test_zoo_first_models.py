"""The first zoo models train (the loss drops) on real data, linear regression reaches the
closed form, and the training loop, recipes and CLI work; the MNIST demo is `slow`."""
import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo import recipes
from zoo.__main__ import main as zoo_main
from zoo.data import load_digits, load_mnist_5k
from zoo.models.linear import (LinearRegression, LinearSVM, LogisticRegression, Perceptron,
                               SoftmaxRegression, hinge_loss, l2_penalty, least_squares,
                               perceptron_loss, polynomial_features)
from zoo.models.mlp import MLP, l1_penalty
from zoo.recipes.linear_regression import synthetic_data
from zoo.recipes.logistic_regression import rings
from zoo.train import binary_correct, evaluate, fit


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _loader(x, y, batch_size=64, shuffle=True):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


def _signed(data, positive=1, negative=0):
    keep = (data.y_train == positive) | (data.y_train == negative)
    return data.x_train[keep], np.where(data.y_train[keep] == positive, 1.0, -1.0).astype(
        np.float32)


def test_linear_regression_matches_closed_form():
    ag.manual_seed(0)
    x, y = synthetic_data((2.0, -3.4), 4.2, 0.01, 1000, np.random.default_rng(0))
    model = LinearRegression(2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.03)
    history = fit(model, F.mse_loss, optimizer, _loader(x, y, 10), 5, accuracy=None,
                  progress=False)
    assert history["train_loss"][-1] < 1e-3 < history["train_loss"][0]
    w, b = least_squares(x, y)
    np.testing.assert_allclose(model.linear.weight.data.ravel(), w.ravel(), atol=5e-3)
    np.testing.assert_allclose(model.linear.bias.data, b, atol=5e-3)
    np.testing.assert_allclose(w.ravel(), [2.0, -3.4], atol=0.01)


def test_full_batch_gradient_descent_converges_to_least_squares(digits):
    x = digits.x_train.reshape(len(digits.x_train), -1)[:, 20:28].astype(np.float64)
    x = (x - x.mean(0)) / x.std(0)              # standardised: condition number about 8
    y = digits.y_train.astype(np.float64).reshape(-1, 1)
    model = LinearRegression(8).double()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.3)
    xt, yt = ag.tensor(x), ag.tensor(y)
    for _ in range(300):
        optimizer.zero_grad()
        F.mse_loss(model(xt), yt).backward()
        optimizer.step()
    w, b = least_squares(x, y)
    np.testing.assert_allclose(model.linear.weight.data.ravel(), w.ravel(), atol=1e-8)
    np.testing.assert_allclose(model.linear.bias.data, b, atol=1e-8)


def test_polynomial_features():
    x = np.array([[2.0, 3.0]])
    np.testing.assert_array_equal(polynomial_features(x, 2), [[2, 3, 4, 6, 9]])
    assert polynomial_features(np.ones((4, 2)), 6).shape == (4, 27)


def test_logistic_regression_needs_polynomial_features():
    x, y = rings(600, 0.05, np.random.default_rng(0))
    accuracy = {}
    for degree in (1, 2):
        ag.manual_seed(0)
        features = polynomial_features(x, degree)
        model = LogisticRegression(features.shape[1])
        optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
        history = fit(model, F.binary_cross_entropy_with_logits, optimizer,
                      _loader(features, y, 32), 8, accuracy=binary_correct, progress=False)
        accuracy[degree] = history["train_acc"][-1]
        assert history["train_loss"][-1] < history["train_loss"][0]
    assert accuracy[1] < 0.7 and accuracy[2] > 0.95


def test_softmax_regression_on_mnist_5k():
    data = load_mnist_5k()
    ag.manual_seed(0)
    model = SoftmaxRegression(784, 10)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, F.cross_entropy, optimizer, _loader(data.x_train, data.y_train, 128),
                  2, val_loader=_loader(data.x_test, data.y_test, 500, False), progress=False)
    assert history["train_loss"][1] < history["train_loss"][0]
    assert history["val_acc"][-1] > 0.8


def test_perceptron_and_binary_svm_on_digits(digits):
    x, y = _signed(digits)
    for model, loss in ((Perceptron(64), perceptron_loss), (LinearSVM(64), hinge_loss)):
        ag.manual_seed(0)
        optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
        before = evaluate(model, loss, _loader(x, y, 500, False), binary_correct)
        history = fit(model, loss, optimizer, _loader(x, y, 8), 2, accuracy=binary_correct,
                      progress=False)
        assert history["train_loss"][-1] < before["loss"]
        assert evaluate(model, loss, _loader(x, y, 500), binary_correct)["acc"] > 0.97


def test_multiclass_svm_with_l2_on_digits(digits):
    ag.manual_seed(0)
    model = LinearSVM(64, num_classes=10)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05)

    def loss(scores, target):
        return F.multi_margin_loss(scores, target) + 1e-3 * l2_penalty(model)

    history = fit(model, loss, optimizer, _loader(digits.x_train, digits.y_train, 32), 5,
                  progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["train_acc"][-1] > 0.85


def test_mlp_with_dropout_weight_decay_and_l1(digits):
    ag.manual_seed(0)
    model = MLP(64, (32, 32), 10, dropout=0.2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    penalty_before = l1_penalty(model).item()

    def loss(output, target):
        return F.cross_entropy(output, target) + 1e-4 * l1_penalty(model)

    history = fit(model, loss, optimizer, _loader(digits.x_train, digits.y_train, 32), 4,
                  val_loader=_loader(digits.x_test, digits.y_test, 500, False), progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] > 0.9
    assert penalty_before > 0 and sorted(history) == ["lr", "seconds", "train_acc",
                                                      "train_loss", "val_acc", "val_loss"]


def test_fit_clip_scheduler_and_progress_bar(digits, capsys):
    ag.manual_seed(0)
    model = SoftmaxRegression(64, 10)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.5)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, F.cross_entropy, optimizer, _loader(digits.x_train, digits.y_train),
                  2, scheduler=scheduler, clip=0.1)
    assert history["lr"] == [0.5, 0.25]
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err and "acc=" in err


def test_evaluate_restores_mode(digits):
    model = MLP(64, (16,), 10, dropout=0.5)
    result = evaluate(model, F.cross_entropy, _loader(digits.x_test, digits.y_test, 100))
    assert model.training and 0 <= result["acc"] <= 1 and result["loss"] > 0


def test_recipes_run_and_cli(capsys):
    assert recipes.get("demo") is recipes.get("lenet_mnist")
    with pytest.raises(KeyError, match="unknown recipe"):
        recipes.get("nope")
    model, history = recipes.get("perceptron").train(epochs=2, progress=False)
    assert history["val_acc"][-1] > 0.95
    assert zoo_main(["linear_regression", "epochs=1", "progress=False"]) == 0
    assert "closed form" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no setting"):
        zoo_main(["mlp", "epoch=1"])


@pytest.mark.slow
def test_mnist_mlp_demo_reaches_975():
    model, history = recipes.get("mlp").train(progress=False)
    assert len(history["val_acc"]) <= 3
    assert history["val_acc"][-1] >= 0.975
