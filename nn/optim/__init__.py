"""Optimizers and learning-rate schedules, PyTorch's `torch.optim` spelled the same way:
`nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)`, `opt.zero_grad()`, `loss.backward()`,
`opt.step()`, and `nn.optim.lr_scheduler.StepLR(opt, 10)`.

Every update rule is one fused Numba kernel per parameter (`kernels/optim.py`), in place."""
from nn.optim import lr_scheduler
from nn.optim.adadelta import Adadelta
from nn.optim.adagrad import Adagrad
from nn.optim.adam import Adam, AdamW
from nn.optim.optimizer import Optimizer
from nn.optim.rmsprop import RMSprop
from nn.optim.sgd import SGD
from nn.optim.sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta",
           "SparseAdam", "lr_scheduler"]
