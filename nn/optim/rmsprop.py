"""RMSprop: gradients scaled by a running root-mean-square, optionally centered."""
import numpy as np

from kernels.optim import rmsprop_update_
from nn.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e) with PyTorch's update rule:

        g = g + weight_decay p,   v = alpha v + (1 - alpha) g^2
        d = sqrt(v - a^2) + eps with a = alpha a + (1 - alpha) g (centered), else sqrt(v) + eps
        buf = momentum buf + g / d,  p -= lr buf       (without momentum: p -= lr g / d)

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate. alpha: smoothing constant. eps: added to the denominator.
        weight_decay: L2 penalty. momentum: momentum factor.
        centered: normalise by the estimated variance instead of the second moment.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        if lr < 0:
            raise ValueError(f"RMSprop: invalid learning rate {lr} (must be >= 0)")
        if eps < 0:
            raise ValueError(f"RMSprop: invalid epsilon {eps} (must be >= 0)")
        if momentum < 0:
            raise ValueError(f"RMSprop: invalid momentum {momentum} (must be >= 0)")
        if weight_decay < 0:
            raise ValueError(f"RMSprop: invalid weight_decay {weight_decay} (must be >= 0)")
        if alpha < 0:
            raise ValueError(f"RMSprop: invalid alpha {alpha} (must be >= 0)")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
        momentum = group["momentum"]
        centered = group["centered"]
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        rmsprop_update_(param, grad, state["square_avg"], state.get("grad_avg"),
                        state.get("momentum_buffer"), group["lr"], group["alpha"], group["eps"],
                        group["weight_decay"], momentum, centered, group["maximize"])
