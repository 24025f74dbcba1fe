"""LeNet on full MNIST (d2l chapter 7.6) with ReLU and max pooling, minibatch SGD with
momentum and a cosine learning-rate schedule: `make demo` runs it. Over 98.8% test accuracy
after 3 epochs; `activation=sigmoid pool=avg` is d2l's original, which needs more epochs."""
import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data import load_mnist, load_mnist_5k
from zoo.models.lenet import lenet
from zoo.train import fit

CONFIG = dict(data="mnist", activation="relu", pool="max", epochs=3, batch_size=32, lr=0.03,
              momentum=0.9, weight_decay=5e-4, cosine=True, seed=0, progress=True)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load_mnist() if config["data"] == "mnist" else load_mnist_5k()
    train_loader = DataLoader(TensorDataset(data.x_train, data.y_train),
                              batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=1000)
    model = lenet(activation=config["activation"], pool=config["pool"])
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"],
                             weight_decay=config["weight_decay"])
    scheduler = (nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
                 if config["cosine"] else None)
    history = fit(model, F.cross_entropy, optimizer, train_loader, config["epochs"],
                  val_loader=test_loader, scheduler=scheduler, progress=config["progress"])
    seconds = sum(history["seconds"]) / len(history["seconds"])
    print(f"LeNet ({config['activation']}, {config['pool']} pooling) on {config['data']}: "
          f"test accuracy {history['val_acc'][-1]:.4f} after {config['epochs']} epochs "
          f"({seconds:.1f} s per epoch)")
    return model, history
