"""Loss functions, named and called as in torch.nn.functional; each is one fused op.

`reduction` is 'none', 'mean' (the default) or 'sum'. The math of every forward and backward
is in `kernels/loss.py`:
    cross_entropy   softmax + negative log-likelihood in one kernel; int64 class targets (with
                    weight, ignore_index, label_smoothing) or class probabilities of the
                    input's shape; (N, C), (N, C, d1, ...) or (C,) inputs
    nll_loss        on log-probabilities, same target rules
    binary_cross_entropy, binary_cross_entropy_with_logits (weight, pos_weight, mask)
    mse_loss, l1_loss, smooth_l1_loss (beta), huber_loss (delta), kl_div (log_target)
    multi_margin_loss (p, margin, weight), hinge_embedding_loss, margin_ranking_loss
    bpr_loss        Bayesian personalized ranking, -log sigmoid(pos - neg)
Gradients flow to the input and, where the loss is differentiable in it and PyTorch gives one,
to a float target. Class weights and masks are constants.
"""
import warnings

import numpy as np

from autograd.function import Function
from autograd.tensor import Tensor
from kernels import loss as kl

__all__ = ["CrossEntropy", "SoftCrossEntropy", "NllLoss", "BinaryCrossEntropy",
           "BinaryCrossEntropyWithLogits", "MseLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "KlDiv", "MultiMarginLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "BprLoss",
           "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "kl_div", "multi_margin_loss", "hinge_embedding_loss",
           "margin_ranking_loss", "bpr_loss"]


def _values(x):
    """A Tensor as it is, anything else (array, list, number) as a numpy array."""
    if isinstance(x, Tensor) or x is None:
        return x
    return np.asarray(x)


def _array(x):
    if x is None:
        return None
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _as_dtype(grad, like):
    """A gradient in the dtype of the array it is for (a float64 target of a float32 loss)."""
    return grad if grad.dtype == like.dtype else grad.astype(like.dtype)


class CrossEntropy(Function):
    """Softmax cross-entropy against int64 class indices (fused; saves exp(x - max) rows).

    The backward writes the gradient over the saved exps, so a forward and backward allocate
    one (N, C) array between them (at 4096x10000 float32 a fresh 164 MB array costs more in
    page faults than the whole backward pass). A second backward through a retained graph
    finds the exps consumed and recomputes them from the logits."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index=-100, label_smoothing=0.0,
                reduction="mean"):
        save = ctx.needs_input_grad[0]
        loss, exps, inv_sums, denominator = kl.softmax_cross_entropy_forward(
            logits, target, weight, ignore_index, label_smoothing, reduction, save=save)
        if save:
            ctx.save_for_backward(exps, inv_sums, target, weight)
            ctx.logits = logits
            ctx.options = (ignore_index, label_smoothing, reduction, denominator)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        exps, inv_sums, target, weight = ctx.saved
        ignore_index, label_smoothing, reduction, denominator = ctx.options
        if ctx.__dict__.get("consumed"):
            _, exps, inv_sums, _ = kl.softmax_cross_entropy_forward(
                ctx.logits, target, weight, ignore_index, label_smoothing, reduction)
        ctx.consumed = True
        grad_logits = kl.softmax_cross_entropy_backward(
            exps, inv_sums, target, weight, ignore_index, label_smoothing, reduction,
            denominator, grad_loss, ctx.logits.shape, overwrite=True)
        return grad_logits, None, None


class SoftCrossEntropy(Function):
    """Softmax cross-entropy against class probabilities (targets of the input's shape)."""

    @staticmethod
    def forward(ctx, logits, target, weight, label_smoothing=0.0, reduction="mean"):
        save = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        loss, exps, inv_sums, lses, row_totals = kl.soft_cross_entropy_forward(
            logits, target, weight, label_smoothing, reduction, save=save)
        if save:
            ctx.save_for_backward(logits, target, weight, exps, inv_sums, lses, row_totals)
            ctx.options = (label_smoothing, reduction)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        logits, target, weight, exps, inv_sums, lses, row_totals = ctx.saved
        label_smoothing, reduction = ctx.options
        grad_logits = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_logits = kl.soft_cross_entropy_backward_logits(
                exps, inv_sums, row_totals, target, weight, label_smoothing, reduction,
                grad_loss, logits.shape)
        if ctx.needs_input_grad[1]:
            grad_target = _as_dtype(kl.soft_cross_entropy_backward_target(
                logits, lses, weight, label_smoothing, reduction, grad_loss), target)
        return grad_logits, grad_target, None


class NllLoss(Function):
    """Negative log-likelihood of int64 class indices under log-probabilities."""

    @staticmethod
    def forward(ctx, log_probs, target, weight, ignore_index=-100, reduction="mean"):
        loss, denominator = kl.nll_loss_forward(log_probs, target, weight, ignore_index,
                                                reduction)
        ctx.save_for_backward(target, weight)
        ctx.options = (ignore_index, reduction, denominator, log_probs.shape, log_probs.dtype)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        target, weight = ctx.saved
        ignore_index, reduction, denominator, shape, dtype = ctx.options
        return kl.nll_loss_backward(target, weight, ignore_index, reduction, denominator,
                                    grad_loss, shape, dtype), None, None


class BinaryCrossEntropy(Function):
    """Binary cross-entropy of probabilities in [0, 1]."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction="mean"):
        ctx.save_for_backward(x, target, weight)
        ctx.reduction = reduction
        return kl.binary_cross_entropy_forward(x, target, weight, reduction)

    @staticmethod
    def backward(ctx, grad_loss):
        x, target, weight = ctx.saved
        grad_x = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_x = kl.binary_cross_entropy_backward_input(x, target, weight, ctx.reduction,
                                                            grad_loss)
        if ctx.needs_input_grad[1]:
            grad_target = _as_dtype(kl.binary_cross_entropy_backward_target(
                x, weight, ctx.reduction, grad_loss), target)
        return grad_x, grad_target, None


class BinaryCrossEntropyWithLogits(Function):
    """Binary cross-entropy of sigmoid(x), computed stably from the logits x; an element
    `mask` multiplies the weight and makes 'mean' the mean over the masked elements."""

    @staticmethod
    def forward(ctx, x, target, weight, pos_weight, mask, reduction="mean"):
        denominator = None
        if mask is not None:
            mask = np.broadcast_to(mask.astype(x.dtype, copy=False), x.shape)
            denominator = float(np.sum(mask, dtype=np.float64))
            weight = mask if weight is None else weight.astype(x.dtype, copy=False) * mask
        ctx.save_for_backward(x, target, weight, pos_weight)
        ctx.options = (reduction, denominator)
        return kl.bce_with_logits_forward(x, target, weight, pos_weight, reduction, denominator)

    @staticmethod
    def backward(ctx, grad_loss):
        x, target, weight, pos_weight = ctx.saved
        reduction, denominator = ctx.options
        grad_x = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_x = kl.bce_with_logits_backward_input(x, target, weight, pos_weight, reduction,
                                                       grad_loss, denominator)
        if ctx.needs_input_grad[1]:
            grad_target = _as_dtype(kl.bce_with_logits_backward_target(
                x, weight, pos_weight, reduction, grad_loss, denominator), target)
        return grad_x, grad_target, None, None, None


def _regression(name, op, param_name=None):
    """Function for a pointwise regression loss l(x - t); grad_t = -grad_x."""

    def forward(ctx, x, target, reduction="mean", param=None):
        ctx.save_for_backward(x, target)
        ctx.options = (reduction, param)
        return kl.regression_loss_forward(op, x, target, reduction, param)

    def backward(ctx, grad_loss):
        x, target = ctx.saved
        reduction, param = ctx.options
        grad_x = kl.regression_loss_backward(op, x, target, reduction, grad_loss, param)
        grad_target = _as_dtype(-grad_x, target) if ctx.needs_input_grad[1] else None
        return (grad_x if ctx.needs_input_grad[0] else None), grad_target

    doc = f"{op} (pointwise, fused with its reduction)."
    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward),
                                    "__module__": __name__, "__doc__": doc})


MseLoss = _regression("MseLoss", "mse_loss")
L1Loss = _regression("L1Loss", "l1_loss")
SmoothL1Loss = _regression("SmoothL1Loss", "smooth_l1_loss")
HuberLoss = _regression("HuberLoss", "huber_loss")


class KlDiv(Function):
    """Pointwise KL divergence target * (log target - x) of log-probabilities x."""

    @staticmethod
    def forward(ctx, x, target, reduction="mean", log_target=False):
        ctx.save_for_backward(x, target)
        ctx.options = (reduction, log_target)
        return kl.kl_div_forward(x, target, reduction, log_target)

    @staticmethod
    def backward(ctx, grad_loss):
        x, target = ctx.saved
        reduction, log_target = ctx.options
        grad_x = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_x = kl.kl_div_backward_input(x, target, reduction, log_target, grad_loss)
        if ctx.needs_input_grad[1]:
            grad_target = _as_dtype(kl.kl_div_backward_target(x, target, reduction, log_target,
                                                              grad_loss), target)
        return grad_x, grad_target


class MultiMarginLoss(Function):
    """Multi-class hinge (SVM) loss of scores against int64 class indices."""

    @staticmethod
    def forward(ctx, x, target, weight, p=1, margin=1.0, reduction="mean"):
        ctx.save_for_backward(x, target, weight)
        ctx.options = (p, margin, reduction)
        return kl.multi_margin_forward(x, target, p, margin, weight, reduction)

    @staticmethod
    def backward(ctx, grad_loss):
        x, target, weight = ctx.saved
        p, margin, reduction = ctx.options
        return kl.multi_margin_backward(x, target, p, margin, weight, reduction,
                                        grad_loss), None, None


class HingeEmbeddingLoss(Function):
    """x where the label is 1, max(0, margin - x) where it is -1."""

    @staticmethod
    def forward(ctx, x, target, margin=1.0, reduction="mean"):
        ctx.save_for_backward(x, target)
        ctx.options = (margin, reduction)
        return kl.hinge_embedding_forward(x, target, margin, reduction)

    @staticmethod
    def backward(ctx, grad_loss):
        x, target = ctx.saved
        margin, reduction = ctx.options
        return kl.hinge_embedding_backward(x, target, margin, reduction, grad_loss), None


class MarginRankingLoss(Function):
    """max(0, -y (x1 - x2) + margin)."""

    @staticmethod
    def forward(ctx, x1, x2, target, margin=0.0, reduction="mean"):
        ctx.save_for_backward(x1, x2, target)
        ctx.options = (margin, reduction)
        return kl.margin_ranking_forward(x1, x2, target, margin, reduction)

    @staticmethod
    def backward(ctx, grad_loss):
        x1, x2, target = ctx.saved
        margin, reduction = ctx.options
        need = ctx.needs_input_grad
        grad_x1, grad_x2, grad_y = kl.margin_ranking_backward(
            x1, x2, target, margin, reduction, grad_loss, need_target=need[2])
        return ((grad_x1 if need[0] else None), (_as_dtype(grad_x2, x2) if need[1] else None),
                (_as_dtype(grad_y, target) if need[2] else None))


class BprLoss(Function):
    """Bayesian personalized ranking: softplus(neg - pos)."""

    @staticmethod
    def forward(ctx, pos, neg, reduction="mean"):
        ctx.save_for_backward(pos, neg)
        ctx.reduction = reduction
        return kl.bpr_forward(pos, neg, reduction)

    @staticmethod
    def backward(ctx, grad_loss):
        pos, neg = ctx.saved
        grad_pos, grad_neg = kl.bpr_backward(pos, neg, ctx.reduction, grad_loss)
        return ((grad_pos if ctx.needs_input_grad[0] else None),
                (_as_dtype(grad_neg, neg) if ctx.needs_input_grad[1] else None))


def _input(op, x):
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float32 or float64 tensor, got {x.data.dtype}")
    return x


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of softmax(input) over dim 1 (input (N, C), (N, C, d1, ...) or (C,)).

    `target` holds int64 class indices of shape (N[, d1, ...]) (entries equal to
    `ignore_index` are skipped, and 'mean' divides by the total weight of the rest), or class
    probabilities of the input's shape (float). `weight` (C,) rescales each class;
    `label_smoothing` mixes the target with the uniform distribution, as in PyTorch."""
    x = _input("cross_entropy", input)
    target = _values(target)
    t = target.data if isinstance(target, Tensor) else target
    if t.dtype.kind == "f":
        if t.shape != x.data.shape:
            raise ValueError(f"cross_entropy: a float target holds class probabilities and "
                             f"must have the input's shape {x.data.shape}, got {t.shape}; "
                             f"class indices must be int64")
        return SoftCrossEntropy.apply(x, target, _values(weight),
                                      label_smoothing=label_smoothing, reduction=reduction)
    return CrossEntropy.apply(x, t, _array(weight), ignore_index=ignore_index,
                              label_smoothing=label_smoothing, reduction=reduction)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood: -input[n, target[n]] (weighted), input (N, C[, d...]) or (C,)
    of log-probabilities, target int64 class indices."""
    x = _input("nll_loss", input)
    return NllLoss.apply(x, _array(target), _array(weight), ignore_index=ignore_index,
                         reduction=reduction)


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x; log terms clamped at -100."""
    x = _input("binary_cross_entropy", input)
    return BinaryCrossEntropy.apply(x, _values(target), _array(weight), reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean",
                                     pos_weight=None, mask=None):
    """Binary cross-entropy of sigmoid(input) against `target`, computed from the logits
    without overflow. `weight` broadcasts to the input; `pos_weight` multiplies the positive
    term (broadcast over the last dim, one per class).

    `mask` (bool or 0/1, broadcast to the input) gives the masked sigmoid cross-entropy of
    d2l's word2vec: masked-out elements contribute nothing, and reduction='mean' divides by
    the number of masked-in elements instead of the element count. d2l's per-row form is
    `binary_cross_entropy_with_logits(x, t, mask=m, reduction='none').sum(1) / m.sum(1)`."""
    x = _input("binary_cross_entropy_with_logits", input)
    return BinaryCrossEntropyWithLogits.apply(x, _values(target), _array(weight),
                                              _array(pos_weight), _array(mask),
                                              reduction=reduction)


def _broadcasts(*shapes):
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False        # the kernel raises the error, naming the op and the shapes
    return True


def _regression_call(op, cls, input, target, reduction, param=None):
    x = _input(op, input)
    target = _values(target)
    t_shape = target.data.shape if isinstance(target, Tensor) else target.shape
    if t_shape != x.data.shape and _broadcasts(t_shape, x.data.shape):
        warnings.warn(f"{op}: using a target size ({t_shape}) that is different to the input "
                      f"size ({x.data.shape}); the two are broadcast, which is likely not "
                      f"what you want", stacklevel=3)
    return cls.apply(x, target, reduction=reduction, param=param)


def mse_loss(input, target, *, reduction="mean"):
    """Squared error (input - target)^2."""
    return _regression_call("mse_loss", MseLoss, input, target, reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Absolute error |input - target|."""
    return _regression_call("l1_loss", L1Loss, input, target, reduction)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    return _regression_call("smooth_l1_loss", SmoothL1Loss, input, target, reduction,
                            float(beta))


def huber_loss(input, target, *, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target)."""
    return _regression_call("huber_loss", HuberLoss, input, target, reduction, float(delta))


def kl_div(input, target, *, reduction="mean", log_target=False):
    """KL divergence sum target (log target - input) for log-probabilities `input`;
    reduction='batchmean' divides the sum by the batch size (the true KL per sample)."""
    x = _input("kl_div", input)
    return KlDiv.apply(x, _values(target), reduction=reduction, log_target=bool(log_target))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, *, reduction="mean"):
    """Multi-class hinge loss sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C, input (N, C)
    or (C,), target int64 class indices."""
    x = _input("multi_margin_loss", input)
    return MultiMarginLoss.apply(x, _array(target), _array(weight), p=int(p),
                                 margin=float(margin), reduction=reduction)


def hinge_embedding_loss(input, target, margin=1.0, *, reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    x = _input("hinge_embedding_loss", input)
    return HingeEmbeddingLoss.apply(x, _array(target), margin=float(margin),
                                    reduction=reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, *, reduction="mean"):
    """max(0, -target (input1 - input2) + margin): target 1 means input1 should rank higher."""
    x1 = _input("margin_ranking_loss", input1)
    x2 = _input("margin_ranking_loss", input2)
    return MarginRankingLoss.apply(x1, x2, _values(target), margin=float(margin),
                                   reduction=reduction)


def bpr_loss(pos, neg, *, reduction="mean"):
    """Bayesian personalized ranking loss -log sigmoid(pos - neg) (as softplus(neg - pos), so
    large score gaps neither overflow nor lose precision). d2l's BPRLoss sums:
    reduction='sum'."""
    p = _input("bpr_loss", pos)
    n = _input("bpr_loss", neg)
    return BprLoss.apply(p, n, reduction=reduction)
