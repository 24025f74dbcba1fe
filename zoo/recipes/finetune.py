"""Fine-tuning (d2l chapter 14.2) on Fashion-MNIST: a reduced-width ResNet-18 is trained on
five kinds of clothing (T-shirt, trouser, pullover, dress, coat), its classifier is replaced
by a fresh one for the five others (sandal, shirt, sneaker, bag, ankle boot), and it
continues on only `per_class` labelled images of each with random crops and flips, the new
head learning 10x faster than the pretrained body (two parameter groups). With
`scratch=True` the same network is also trained from scratch on the small set, every
parameter at the head's rate, to show what the pretraining brings."""
import numpy as np

import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data import load_fashion_mnist
from zoo.data.transformed import TransformedDataset
from zoo.data.transforms import Compose, RandomHorizontalFlip, RandomResizedCrop
from zoo.models.resnet import resnet18
from zoo.train import fit

CONFIG = dict(width=16, pretrain_epochs=1, pretrain_limit=None, epochs=5, per_class=100,
              batch_size=32, lr=0.005, head_lr_ratio=10.0, momentum=0.9, weight_decay=1e-3,
              augment=True, scratch=True, seed=0, progress=True)

SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)


def _subset(x, y, classes, per_class=None, limit=None):
    """The images of `classes` (labels renumbered 0, 1, ...), at most `per_class` of each
    (the first ones) and `limit` in all."""
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in classes])
    keep = np.sort(keep)[:limit]
    labels = np.searchsorted(np.asarray(classes), y[keep])
    return x[keep], labels.astype(np.int64)


def _sgd(groups, config, lr):
    return nn.optim.SGD(groups, lr=lr, momentum=config["momentum"],
                        weight_decay=config["weight_decay"])


def replace_head(model, num_classes):
    """Put a fresh Linear classifier (Xavier-uniform weights) in place of `model[-1]`."""
    head = nn.Linear(model[-1].in_features, num_classes)
    nn.init.xavier_uniform_(head.weight)
    model[-1] = head
    return head


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load_fashion_mnist()
    head_lr = config["lr"] * config["head_lr_ratio"]

    def loaders(x, y, x_test, y_test, augment, batch_size):
        dataset = TensorDataset(x, y)
        if augment:
            dataset = TransformedDataset(dataset, Compose([
                RandomResizedCrop(28, scale=(0.64, 1.0), ratio=(0.8, 1.25)),
                RandomHorizontalFlip()]))
        return (DataLoader(dataset, batch_size=batch_size, shuffle=True),
                DataLoader(TensorDataset(x_test, y_test), batch_size=1000))

    source = loaders(*_subset(data.x_train, data.y_train, SOURCE_CLASSES,
                              limit=config["pretrain_limit"]),
                     *_subset(data.x_test, data.y_test, SOURCE_CLASSES), False, 128)
    target = loaders(*_subset(data.x_train, data.y_train, TARGET_CLASSES, config["per_class"]),
                     *_subset(data.x_test, data.y_test, TARGET_CLASSES), config["augment"],
                     config["batch_size"])

    model = resnet18(num_classes=len(SOURCE_CLASSES), image_size=28, width=config["width"])
    pretrain = fit(model, F.cross_entropy, _sgd(model.parameters(), config, head_lr),
                   source[0], config["pretrain_epochs"], val_loader=source[1],
                   progress=config["progress"])
    print(f"pretrained on classes {SOURCE_CLASSES}: test accuracy {pretrain['val_acc'][-1]:.4f}")

    head = replace_head(model, len(TARGET_CLASSES))
    groups = [{"params": model[:-1].parameters()},
              {"params": head.parameters(), "lr": head_lr}]
    history = fit(model, F.cross_entropy, _sgd(groups, config, config["lr"]), target[0],
                  config["epochs"], val_loader=target[1], progress=config["progress"])
    history["pretrain"] = pretrain
    print(f"fine-tuned on {config['per_class']} images of each of classes {TARGET_CLASSES}: "
          f"test accuracy {history['val_acc'][-1]:.4f}")

    if config["scratch"]:
        scratch = resnet18(num_classes=len(TARGET_CLASSES), image_size=28,
                           width=config["width"])
        history["scratch"] = fit(scratch, F.cross_entropy,
                                 _sgd(scratch.parameters(), config, head_lr), target[0],
                                 config["epochs"], val_loader=target[1],
                                 progress=config["progress"])
        print(f"trained from scratch on the same images: test accuracy "
              f"{history['scratch']['val_acc'][-1]:.4f}")
    return model, history
