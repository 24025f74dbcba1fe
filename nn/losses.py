"""Loss modules: each holds its options (and class weights as buffers) and calls the function
of the same name in `nn.functional`.

Shape conventions (as PyTorch): N batch, C classes, d1... extra dims.
    CrossEntropyLoss, NLLLoss   input (N, C), (N, C, d1, ...) or (C,); target (N[, d...])
                                int64 class indices, or (CrossEntropyLoss) class
                                probabilities of the input's shape
    BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss,
    HingeEmbeddingLoss          input and target of one shape (any)
    MultiMarginLoss             input (N, C) or (C,), target (N,) or () int64
    MarginRankingLoss           input1, input2, target of one shape
    BPRLoss                     positive and negative scores of one shape
With reduction='none' the output has the target's shape; otherwise it is a scalar.
"""
from nn import functional as F
from nn.module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss",
           "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MultiMarginLoss", "HingeEmbeddingLoss",
           "MarginRankingLoss", "BPRLoss"]


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy over dim 1 of the logits, one fused op.

    Args:
        weight: (C,) rescaling of each class, or None.
        ignore_index: class-index targets equal to it add nothing (and are not counted by
            'mean', which divides by the total weight of the kept targets).
        reduction: 'none' | 'mean' | 'sum'.
        label_smoothing: in [0, 1]; the target becomes (1 - s) target + s / C.

    Shape: input (N, C), (N, C, d1, ...) or (C,); target (N[, d1, ...]) int64 or class
    probabilities of the input's shape; output scalar, or the target's batch shape for 'none'.
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices under log-probabilities (use after
    log_softmax; CrossEntropyLoss fuses the two).

    Args: weight (C,), ignore_index, reduction as `CrossEntropyLoss`.
    Shape: input (N, C[, d...]) or (C,); target (N[, d...]) int64.
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (log terms clamped at -100).

    Args: weight (broadcast to the input) or None; reduction.
    Shape: input and target of one shape.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable op on the logits.

    Args:
        weight: broadcast to the input, or None.
        reduction: 'none' | 'mean' | 'sum'.
        pos_weight: multiplies the loss of positive targets, one per class (last dim).
    Call it as `loss(input, target)` or `loss(input, target, mask)`: a mask (bool or 0/1)
    drops elements, and 'mean' then averages over the masked-in elements only (the masked
    sigmoid cross-entropy of word2vec's negative sampling).
    Shape: input and target of one shape; mask broadcast to it.
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target, mask=None):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight, mask=mask)


class MSELoss(_Loss):
    """Mean squared error (input - target)^2.  Shape: input and target of one shape."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|.  Shape: input and target of one shape."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).

    Args: reduction; beta >= 0 (0 gives L1Loss).
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target).

    Args: reduction; delta > 0.
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """Pointwise KL divergence target (log target - input) of log-probabilities `input`.

    Args: reduction 'none' | 'mean' | 'sum' | 'batchmean' (the sum over the batch size, the
    true KL divergence per sample); log_target: the target is given as log-probabilities.
    """

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge (SVM) loss sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C.

    Args: p (1 or 2), margin, weight (C,) or None, reduction.
    Shape: input (N, C) or (C,); target (N,) or () int64.
    """

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p}")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """input where target is 1, max(0, margin - input) where it is -1.

    Args: margin, reduction.  Shape: input and target (of 1 and -1) of one shape.
    """

    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -target (input1 - input2) + margin): target 1 asks input1 to rank above input2.

    Args: margin, reduction.  Shape: input1, input2, target of one shape.
    """

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class BPRLoss(_Loss):
    """Bayesian personalized ranking -log sigmoid(pos - neg) (Rendle et al. 2009).

    Args: reduction ('sum' is d2l's BPRLoss).  Shape: pos and neg broadcast together.
    """

    def forward(self, pos, neg):
        return F.bpr_loss(pos, neg, reduction=self.reduction)
