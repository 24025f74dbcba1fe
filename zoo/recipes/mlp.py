"""MLP on full MNIST (d2l chapter 5): 784-256-256-10 with ReLU and dropout 0.2, SGD with
momentum, weight decay (L2) and a cosine learning-rate schedule, an optional L1 penalty.
About 98% test accuracy after 3 epochs (`python -m zoo mlp`)."""
import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data import load_mnist, load_mnist_5k
from zoo.models.mlp import MLP, l1_penalty
from zoo.train import fit

CONFIG = dict(data="mnist", hidden=(256, 256), dropout=0.2, epochs=3, batch_size=64, lr=0.1,
              momentum=0.9, weight_decay=1e-4, l1=0.0, cosine=True, seed=0, progress=True)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load_mnist() if config["data"] == "mnist" else load_mnist_5k()
    train_loader = DataLoader(TensorDataset(data.x_train, data.y_train),
                              batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=1000)
    model = MLP(784, config["hidden"], 10, dropout=config["dropout"])
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"],
                             weight_decay=config["weight_decay"])
    # cosine annealing stepped per epoch: over 3 epochs the rate is lr, 3/4 lr, then 1/4 lr
    scheduler = (nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
                 if config["cosine"] else None)
    l1 = config["l1"]

    def loss(output, target):
        value = F.cross_entropy(output, target)
        return value + l1 * l1_penalty(model) if l1 else value

    history = fit(model, loss, optimizer, train_loader, config["epochs"],
                  val_loader=test_loader, scheduler=scheduler, progress=config["progress"])
    seconds = sum(history["seconds"]) / len(history["seconds"])
    print(f"MLP on {config['data']}: test accuracy {history['val_acc'][-1]:.4f} after "
          f"{config['epochs']} epochs ({seconds:.1f} s per epoch)")
    return model, history
