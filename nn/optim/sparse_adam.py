"""SparseAdam: lazy Adam for the row-sparse gradients of embedding tables."""
import numpy as np

from kernels.embedding import sparse_adam_update_
from nn.optim.adam import _check_adam
from nn.optim.optimizer import Optimizer


class SparseAdam(Optimizer):
    """Lazy Adam (torch.optim.SparseAdam): each step updates only the rows present in the
    gradient, with Adam's rule on those rows,

        m_i = beta1 m_i + (1 - beta1) g_i,   v_i = beta2 v_i + (1 - beta2) g_i^2
        p_i -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m_i / (sqrt(v_i) + eps)

    where t counts the optimizer's steps (not the row's). Rows absent from a step's
    gradient keep their parameters and their moments (no decay), so a rare word's moments
    are those of its last appearance: this is what makes the update cost proportional to
    the rows used (word2vec's tables), and why it differs from dense Adam, which decays
    every moment every step. Repeated indices are summed first. Only row-sparse gradients
    are accepted (`Embedding(sparse=True)`); use Adam for dense ones.

    Args:
        params: parameters or parameter groups (see `Optimizer`).
        lr: learning rate. betas: (beta1, beta2). eps: added to the denominator.
        maximize: ascend the objective instead of descending it.

    State per parameter: step, exp_avg (m), exp_avg_sq (v).
    """

    dense_gradients = False
    sparse_gradients = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, *, maximize=False):
        _check_adam("SparseAdam", lr, betas, eps, 0.0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        grad = grad.coalesce()
        beta1, beta2 = group["betas"]
        sparse_adam_update_(param, state["exp_avg"], state["exp_avg_sq"], grad.indices,
                            grad.values, state["step"], group["lr"], beta1, beta2, group["eps"],
                            group["maximize"])
