"""Softmax regression on MNIST (d2l chapter 4): one linear layer on the flattened pixels,
cross-entropy, minibatch SGD; about 92% test accuracy."""
import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data import load_mnist, load_mnist_5k
from zoo.models.linear import SoftmaxRegression
from zoo.train import fit

CONFIG = dict(data="mnist", epochs=5, batch_size=256, lr=0.1, seed=0, progress=True)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load_mnist() if config["data"] == "mnist" else load_mnist_5k()
    train_loader = DataLoader(TensorDataset(data.x_train, data.y_train),
                              batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=1000)
    model = SoftmaxRegression(784, 10)
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"])
    history = fit(model, F.cross_entropy, optimizer, train_loader, config["epochs"],
                  val_loader=test_loader, progress=config["progress"])
    print(f"softmax regression on {config['data']}: test accuracy "
          f"{history['val_acc'][-1]:.4f}")
    return model, history
