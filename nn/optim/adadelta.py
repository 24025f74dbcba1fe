"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
import numpy as np

from kernels.optim import adadelta_update_
from nn.optim.optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012) with PyTorch's update rule:

        g = g + weight_decay p,   v = rho v + (1 - rho) g^2
        delta = sqrt(u + eps) / sqrt(v + eps) g,   u = rho u + (1 - rho) delta^2
        p -= lr delta

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: scale of the update (1.0 is the paper's rule). rho: decay of the averages.
        eps: added inside both square roots. weight_decay: L2 penalty.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *,
                 maximize=False):
        if lr < 0:
            raise ValueError(f"Adadelta: invalid learning rate {lr} (must be >= 0)")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {rho} (must be in [0, 1])")
        if eps < 0:
            raise ValueError(f"Adadelta: invalid epsilon {eps} (must be >= 0)")
        if weight_decay < 0:
            raise ValueError(f"Adadelta: invalid weight_decay {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        adadelta_update_(param, grad, state["square_avg"], state["acc_delta"], group["lr"],
                         group["rho"], group["eps"], group["weight_decay"], group["maximize"])
