"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""
import numpy as np

from autograd.sparse import RowSparse
from kernels.embedding import scaled_rows_add_
from kernels.optim import sgd_sparse_update_, sgd_update_
from nn.optim.optimizer import Optimizer


class SGD(Optimizer):
    """SGD with PyTorch's update rule (weight decay folded into the gradient):

        g = g + weight_decay p
        buf = g (first step), then momentum buf + (1 - dampening) g
        p -= lr (g + momentum buf if nesterov else buf)      (without momentum: p -= lr g)

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate. momentum: momentum factor (0 disables the buffer).
        dampening: dampening of the momentum. weight_decay: L2 penalty.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending it.

    A row-sparse gradient (an embedding with sparse=True) updates only its rows when there
    is no momentum and no weight decay (word2vec's scaled rows are added straight into the
    table, repeated rows and all); otherwise it is densified first.
    """

    sparse_gradients = True

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if lr < 0:
            raise ValueError(f"SGD: invalid learning rate {lr} (must be >= 0)")
        if momentum < 0:
            raise ValueError(f"SGD: invalid momentum {momentum} (must be >= 0)")
        if weight_decay < 0:
            raise ValueError(f"SGD: invalid weight_decay {weight_decay} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires momentum > 0 and zero "
                             f"dampening, got momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        momentum = group["momentum"]
        if isinstance(grad, RowSparse):
            if momentum == 0 and group["weight_decay"] == 0:
                lr = -group["lr"] if group["maximize"] else group["lr"]
                if grad.scaled_rows is not None:
                    scaled_rows_add_(param, *grad.scaled_rows, alpha=-lr)
                else:
                    sgd_sparse_update_(param, grad.indices, grad.values, lr)
                return
            grad = grad.to_dense()
        buf = state.get("momentum_buffer")
        first = buf is None and momentum != 0
        if first:
            buf = state["momentum_buffer"] = np.empty_like(param)   # the kernel fills it
        sgd_update_(param, grad, buf, group["lr"], momentum, group["dampening"],
                    group["weight_decay"], group["nesterov"], group["maximize"], first)
