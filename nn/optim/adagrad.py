"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
import numpy as np

from autograd.sparse import RowSparse
from kernels.optim import adagrad_sparse_update_, adagrad_update_
from nn.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011) with PyTorch's update rule:

        g = g + weight_decay p,   s += g^2,   p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate. lr_decay: learning-rate decay per step. weight_decay: L2 penalty.
        initial_accumulator_value: the starting value of s. eps: added to the denominator.
        maximize: ascend the objective instead of descending it.

    A row-sparse gradient updates only its rows of p and s (weight decay is then refused, as
    in PyTorch).
    """

    sparse_gradients = True

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        if lr < 0:
            raise ValueError(f"Adagrad: invalid learning rate {lr} (must be >= 0)")
        if lr_decay < 0:
            raise ValueError(f"Adagrad: invalid lr_decay {lr_decay} (must be >= 0)")
        if weight_decay < 0:
            raise ValueError(f"Adagrad: invalid weight_decay {weight_decay} (must be >= 0)")
        if initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: invalid initial_accumulator_value "
                             f"{initial_accumulator_value} (must be >= 0)")
        if eps < 0:
            raise ValueError(f"Adagrad: invalid epsilon {eps} (must be >= 0)")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    @staticmethod
    def _initial_state(param, group):
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def add_param_group(self, param_group):
        # PyTorch fills the accumulators as soon as a parameter joins the optimizer
        start = sum(len(g["params"]) for g in self.param_groups)
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for i, p in enumerate(group["params"]):
            self.state[start + i] = self._initial_state(p.data, group)

    def _update(self, param, grad, state, group):
        if not state:
            state.update(self._initial_state(param, group))
        state["step"] += 1
        if isinstance(grad, RowSparse):
            if group["weight_decay"] != 0:
                raise RuntimeError("Adagrad: weight_decay is not compatible with sparse "
                                   "gradients")
            grad = grad.coalesce()
            rows = -grad.values if group["maximize"] else grad.values
            adagrad_sparse_update_(param, state["sum"], grad.indices, rows, state["step"],
                                   group["lr"], group["lr_decay"], group["eps"])
            return
        adagrad_update_(param, grad, state["sum"], state["step"], group["lr"],
                        group["lr_decay"], group["eps"], group["weight_decay"],
                        group["maximize"])
