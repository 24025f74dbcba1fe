"""Adam and AdamW (decoupled weight decay), with the AMSGrad variant."""
import numpy as np

from kernels.optim import adam_update_
from nn.optim.optimizer import Optimizer


def _check_adam(name, lr, betas, eps, weight_decay):
    if lr < 0:
        raise ValueError(f"{name}: invalid learning rate {lr} (must be >= 0)")
    if eps < 0:
        raise ValueError(f"{name}: invalid epsilon {eps} (must be >= 0)")
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{name}: invalid betas {betas} (two values in [0, 1))")
    if weight_decay < 0:
        raise ValueError(f"{name}: invalid weight_decay {weight_decay} (must be >= 0)")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with PyTorch's update rule and bias correction:

        g = g + weight_decay p                     (L2; AdamW decays p directly instead)
        m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2,   vmax = max(vmax, v)
        p -= lr / (1 - beta1^t) m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate. betas: (beta1, beta2), the moment decay rates.
        eps: added to the denominator. weight_decay: L2 penalty.
        amsgrad: use the running maximum of v (Reddi et al. 2018).
        maximize: ascend the objective instead of descending it.

    State per parameter: step, exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (amsgrad).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        _check_adam(type(self).__name__, lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        amsgrad = group["amsgrad"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        elif amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        adam_update_(param, grad, state["exp_avg"], state["exp_avg_sq"],
                     state.get("max_exp_avg_sq"), state["step"], group["lr"], beta1, beta2,
                     group["eps"], group["weight_decay"], self._decoupled, amsgrad,
                     group["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): each step first scales
    the parameters by 1 - lr weight_decay, and the gradient carries no L2 term.

    Args: as `Adam`, with weight_decay defaulting to 1e-2 (PyTorch's default)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
