"""Linear SVM on the 8x8 digits: the multi-class hinge loss (F.multi_margin_loss) with L2
regularisation on the weights, minibatch SGD."""
import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data import load_digits
from zoo.models.linear import LinearSVM, l2_penalty
from zoo.train import fit

CONFIG = dict(l2=1e-3, epochs=20, batch_size=32, lr=0.05, seed=0, progress=True)


def train(**overrides):
    config = {**CONFIG, **overrides}
    ag.manual_seed(config["seed"])
    data = load_digits()
    train_loader = DataLoader(TensorDataset(data.x_train, data.y_train),
                              batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=1000)
    model = LinearSVM(64, num_classes=10)
    optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"])
    l2 = config["l2"]

    def loss(scores, target):
        return F.multi_margin_loss(scores, target) + 0.5 * l2 * l2_penalty(model)

    history = fit(model, loss, optimizer, train_loader, config["epochs"],
                  val_loader=test_loader, progress=config["progress"])
    print(f"linear SVM: test accuracy {history['val_acc'][-1]:.4f}")
    return model, history
