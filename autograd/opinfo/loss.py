"""Registry entries of the losses: every option and every reduction, with PyTorch references
(class weights, pos_weight and masks are constants, targets are int64 arrays or float arrays,
differentiable where PyTorch differentiates them)."""
import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

REDUCTIONS = ("mean", "sum", "none")


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _tag(kwargs):
    return "-".join(f"{k}{v}" for k, v in kwargs.items()) or "default"


def _away(rng, make, kinks, margin=0.02, tries=100):
    """Arrays from `make(rng)` whose kink distances (from `kinks(*arrays)`) all exceed
    `margin`, so central differences do not straddle a corner."""
    for _ in range(tries):
        arrays = make(rng)
        if np.all(np.abs(kinks(*arrays)) > margin):
            return arrays
    raise RuntimeError("could not draw a sample away from the kinks")


def cross_entropy_samples(rng):
    n, c = 4, 5
    for reduction in REDUCTIONS:
        x = values(rng, (n, c))
        yield Sample((x, rng.integers(0, c, n)), {"reduction": reduction},
                     label=f"index-{reduction}")
    w = rng.uniform(0.5, 2.0, c)
    for kwargs in ({"reduction": "mean"}, {"reduction": "none"}, {"ignore_index": 1},
                   {"ignore_index": 1, "reduction": "sum"}, {"label_smoothing": 0.2},
                   {"label_smoothing": 0.3, "ignore_index": 2, "reduction": "mean"}):
        target = rng.integers(0, c, n)
        target[0] = 1
        target[1] = 2
        yield Sample((values(rng, (n, c)), target, w), kwargs, label=f"weight-{_tag(kwargs)}")
    for kwargs in ({"ignore_index": 3}, {"label_smoothing": 0.1},
                   {"label_smoothing": 0.25, "reduction": "none"},
                   {"label_smoothing": 1.0, "reduction": "sum"}):
        target = rng.integers(0, c, n)
        target[0] = 3
        yield Sample((values(rng, (n, c)), target), kwargs, label=_tag(kwargs))
    yield Sample((values(rng, (2, c, 3, 2)), rng.integers(0, c, (2, 3, 2))),
                 {"label_smoothing": 0.1}, label="spatial")
    yield Sample((values(rng, (2, c, 3)), rng.integers(0, c, (2, 3)), w),
                 {"reduction": "none", "ignore_index": 0}, label="spatial-weight-none")
    yield Sample((values(rng, (c,)), np.array(2)), label="unbatched")
    yield Sample((strided(values(rng, (n, c))), rng.integers(0, c, n)), label="strided")
    yield Sample((values(rng, (0, c)), np.zeros(0, np.int64)), {"reduction": "sum"},
                 label="empty")
    yield Sample((values(rng, (3, 40)) * 30.0, rng.integers(0, 40, 3)), label="large-logits")


def soft_cross_entropy_samples(rng):
    n, c = 4, 5
    for reduction in REDUCTIONS:
        yield Sample((values(rng, (n, c)), _softmax(values(rng, (n, c)), 1)),
                     {"reduction": reduction}, wrt=(0, 1), label=f"probs-{reduction}")
    w = rng.uniform(0.5, 2.0, c)
    yield Sample((values(rng, (n, c)), _softmax(values(rng, (n, c)), 1), w), wrt=(0, 1),
                 label="probs-weight")
    yield Sample((values(rng, (n, c)), _softmax(values(rng, (n, c)), 1), w),
                 {"label_smoothing": 0.2, "reduction": "none"}, wrt=(0, 1),
                 label="probs-weight-smoothing")
    yield Sample((values(rng, (2, c, 3)), _softmax(values(rng, (2, c, 3)), 1)),
                 {"label_smoothing": 0.1}, wrt=(0, 1), label="probs-spatial")
    yield Sample((values(rng, (c,)), _softmax(values(rng, (c,)), 0)), wrt=(0,),
                 label="probs-unbatched")


def nll_samples(rng):
    n, c = 4, 5
    for reduction in REDUCTIONS:
        yield Sample((values(rng, (n, c), -3.0, 0.0), rng.integers(0, c, n)),
                     {"reduction": reduction}, label=reduction)
    w = rng.uniform(0.5, 2.0, c)
    for kwargs in ({}, {"ignore_index": 1}, {"ignore_index": 1, "reduction": "none"}):
        target = rng.integers(0, c, n)
        target[0] = 1
        yield Sample((values(rng, (n, c), -3.0, 0.0), target, w), kwargs,
                     label=f"weight-{_tag(kwargs)}")
    yield Sample((values(rng, (2, c, 3, 2), -3.0, 0.0), rng.integers(0, c, (2, 3, 2))),
                 label="spatial")
    yield Sample((values(rng, (2, c, 3), -3.0, 0.0), rng.integers(0, c, (2, 3)), w),
                 {"reduction": "sum", "ignore_index": 4}, label="spatial-weight")
    yield Sample((values(rng, (c,), -3.0, 0.0), np.array(4)), label="unbatched")
    yield Sample((strided(values(rng, (n, c), -3.0, 0.0)), rng.integers(0, c, n)),
                 label="strided")


def bce_samples(rng):
    shape = (3, 4)
    for reduction in REDUCTIONS:
        x = values(rng, shape, 0.05, 0.95)
        t = rng.uniform(0.0, 1.0, shape)
        yield Sample((x, t), {"reduction": reduction}, wrt=(0, 1), label=reduction)
    yield Sample((values(rng, shape, 0.05, 0.95), (rng.uniform(size=shape) > 0.5) * 1.0,
                  rng.uniform(0.5, 2.0, (4,))), wrt=(0,), label="weight-binary")
    yield Sample((strided(values(rng, (3, 4), 0.05, 0.95)), rng.uniform(0.0, 1.0, (3, 4))),
                 {"reduction": "none"}, wrt=(0, 1), label="strided")


def _bce_logits(x, t, weight=None, pos_weight=None, mask=None, **kwargs):
    return ops.binary_cross_entropy_with_logits(x, t, weight, pos_weight=pos_weight, mask=mask,
                                                **kwargs)


def _torch_bce_logits(torch, x, t, weight=None, pos_weight=None, mask=None, reduction="mean"):
    F = torch.nn.functional
    if mask is None:
        return F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction,
                                                  pos_weight=pos_weight)
    m = mask.to(x.dtype)
    w = m if weight is None else weight * m
    if reduction == "mean":
        total = F.binary_cross_entropy_with_logits(x, t, w, reduction="sum",
                                                   pos_weight=pos_weight)
        return total / m.expand_as(x).sum()
    return F.binary_cross_entropy_with_logits(x, t, w, reduction=reduction,
                                              pos_weight=pos_weight)


def bce_logits_samples(rng):
    shape = (3, 4)
    for reduction in REDUCTIONS:
        yield Sample((values(rng, shape, -4.0, 4.0), rng.uniform(0.0, 1.0, shape)),
                     {"reduction": reduction}, wrt=(0, 1), label=reduction)
    w = rng.uniform(0.5, 2.0, (4,))
    pw = rng.uniform(0.5, 3.0, (4,))
    yield Sample((values(rng, shape, -4.0, 4.0), rng.uniform(0.0, 1.0, shape), w), wrt=(0, 1),
                 label="weight")
    yield Sample((values(rng, shape, -4.0, 4.0), rng.uniform(0.0, 1.0, shape), None, pw),
                 wrt=(0, 1), label="pos_weight")
    yield Sample((values(rng, shape, -4.0, 4.0), (rng.uniform(size=shape) > 0.5) * 1.0, w, pw),
                 {"reduction": "sum"}, wrt=(0,), label="weight-pos_weight")
    mask = rng.uniform(size=shape) > 0.3
    mask[0, 0] = True
    for reduction in REDUCTIONS:
        yield Sample((values(rng, shape, -4.0, 4.0), (rng.uniform(size=shape) > 0.5) * 1.0,
                      None, None, mask), {"reduction": reduction}, wrt=(0,),
                     label=f"mask-{reduction}")
    yield Sample((values(rng, shape, -4.0, 4.0), rng.uniform(0.0, 1.0, shape), w, pw,
                  mask[:, :1]), wrt=(0, 1), label="mask-broadcast-weight-pos_weight")
    yield Sample((values(rng, shape, -30.0, 30.0), rng.uniform(0.0, 1.0, shape)),
                 wrt=(0, 1), label="large-logits")


def regression_samples(param_name=None, params=(None,), kink_offsets=lambda p: (0.0,)):
    """(3, 4) input and target, both differentiable, away from the loss's kinks."""
    def samples(rng):
        for param in params:
            kwargs_base = {} if param is None else {param_name: param}
            kinks = np.array(kink_offsets(param))

            def make(r):
                return values(r, (3, 4)), values(r, (3, 4))

            def distance(x, t):
                d = np.abs(x - t)[..., None]
                return d - kinks

            for reduction in REDUCTIONS:
                x, t = _away(rng, make, distance)
                yield Sample((x, t), dict(kwargs_base, reduction=reduction), wrt=(0, 1),
                             label=f"{_tag(kwargs_base)}-{reduction}")
            x, t = _away(rng, make, distance)
            yield Sample((strided(x), t), kwargs_base, wrt=(0, 1),
                         label=f"{_tag(kwargs_base)}-strided")
        yield Sample((values(rng, (0, 3)), values(rng, (0, 3))), {"reduction": "sum"},
                     wrt=(0, 1), label="empty")
    return samples


def kl_div_samples(rng):
    shape = (3, 4)
    for reduction in REDUCTIONS + ("batchmean",):
        x = np.log(_softmax(values(rng, shape), 1))
        t = _softmax(values(rng, shape), 1)
        yield Sample((x, t), {"reduction": reduction}, wrt=(0, 1), label=reduction)
    for reduction in ("batchmean", "none"):
        x = np.log(_softmax(values(rng, shape), 1))
        t = np.log(_softmax(values(rng, shape), 1))
        yield Sample((x, t), {"reduction": reduction, "log_target": True}, wrt=(0, 1),
                     label=f"log_target-{reduction}")


def multi_margin_samples(rng):
    n, c = 4, 5

    def make(margin):
        def draw(r):
            return values(r, (n, c)), r.integers(0, c, n)
        def kinks(x, t):
            z = margin - x[np.arange(n), t][:, None] + x
            z[np.arange(n), t] = 1.0
            return z
        return draw, kinks

    w = rng.uniform(0.5, 2.0, c)
    for p, margin, weight, reduction in ((1, 1.0, None, "mean"), (1, 1.0, None, "sum"),
                                         (1, 1.0, None, "none"), (2, 1.0, None, "mean"),
                                         (2, 0.5, w, "none"), (1, 0.3, w, "mean")):
        draw, kinks = make(margin)
        x, t = _away(rng, draw, kinks)
        args = (x, t) if weight is None else (x, t, p, margin, weight)
        kwargs = {"reduction": reduction}
        if weight is None:
            kwargs.update(p=p, margin=margin)
        yield Sample(args, kwargs, label=f"p{p}-margin{margin}-"
                     f"{'weight-' if weight is not None else ''}{reduction}")
    x = _away(rng, lambda r: (values(r, (c,)),),
              lambda x: np.delete(0.2 - x[1] + x, 1))[0]
    yield Sample((x, np.array(1)), {"margin": 0.2}, label="unbatched")


def hinge_samples(rng):
    shape = (3, 4)
    for margin, reduction in ((1.0, "mean"), (1.0, "sum"), (0.5, "none"), (2.0, "mean")):
        x = values(rng, shape, -3.0, 3.0, away_from=(margin,))
        y = np.where(rng.uniform(size=shape) > 0.5, 1.0, -1.0)
        yield Sample((x, y), {"margin": margin, "reduction": reduction},
                     label=f"margin{margin}-{reduction}")


def margin_ranking_samples(rng):
    shape = (6,)

    def make(margin):
        def draw(r):
            return (values(r, shape), values(r, shape),
                    np.where(r.uniform(size=shape) > 0.5, 1.0, -1.0))
        return draw, lambda a, b, y: -y * (a - b) + margin

    for margin, reduction, wrt in ((0.0, "mean", (0, 1)), (0.5, "sum", (0, 1, 2)),
                                   (0.2, "none", (0, 1)), (1.0, "mean", (0, 1, 2))):
        draw, kinks = make(margin)
        x1, x2, y = _away(rng, draw, kinks)
        yield Sample((x1, x2, y), {"margin": margin, "reduction": reduction}, wrt=wrt,
                     label=f"margin{margin}-{reduction}")


def _torch_bpr(torch, pos, neg, reduction="mean"):
    loss = -torch.nn.functional.logsigmoid(pos - neg)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def bpr_samples(rng):
    for reduction in REDUCTIONS:
        yield Sample((values(rng, (3, 4), -3.0, 3.0), values(rng, (3, 4), -3.0, 3.0)),
                     {"reduction": reduction}, wrt=(0, 1), label=reduction)
    yield Sample((values(rng, (5, 1)), values(rng, (5, 3))), {"reduction": "sum"}, wrt=(0, 1),
                 label="broadcast-negatives")
    yield Sample((values(rng, (4,), -40.0, 40.0), values(rng, (4,), -40.0, 40.0)), wrt=(0, 1),
                 label="large-gap")


OPS = [
    OpInfo("cross_entropy", ops.cross_entropy, (ops.CrossEntropy,), cross_entropy_samples,
           "torch.nn.functional.cross_entropy"),
    OpInfo("cross_entropy_probs", ops.cross_entropy, (ops.SoftCrossEntropy,),
           soft_cross_entropy_samples, "torch.nn.functional.cross_entropy"),
    OpInfo("nll_loss", ops.nll_loss, (ops.NllLoss,), nll_samples,
           "torch.nn.functional.nll_loss"),
    OpInfo("binary_cross_entropy", ops.binary_cross_entropy, (ops.BinaryCrossEntropy,),
           bce_samples, "torch.nn.functional.binary_cross_entropy"),
    OpInfo("binary_cross_entropy_with_logits", _bce_logits,
           (ops.BinaryCrossEntropyWithLogits,), bce_logits_samples, _torch_bce_logits),
    OpInfo("mse_loss", ops.mse_loss, (ops.MseLoss,), regression_samples(),
           "torch.nn.functional.mse_loss"),
    OpInfo("l1_loss", ops.l1_loss, (ops.L1Loss,), regression_samples(),
           "torch.nn.functional.l1_loss"),
    OpInfo("smooth_l1_loss", ops.smooth_l1_loss, (ops.SmoothL1Loss,),
           regression_samples("beta", (1.0, 0.5, 0.0), lambda b: (0.0, b)),
           "torch.nn.functional.smooth_l1_loss"),
    OpInfo("huber_loss", ops.huber_loss, (ops.HuberLoss,),
           regression_samples("delta", (1.0, 0.5), lambda d: (d,)),
           "torch.nn.functional.huber_loss"),
    OpInfo("kl_div", ops.kl_div, (ops.KlDiv,), kl_div_samples, "torch.nn.functional.kl_div"),
    OpInfo("multi_margin_loss", ops.multi_margin_loss, (ops.MultiMarginLoss,),
           multi_margin_samples, "torch.nn.functional.multi_margin_loss"),
    OpInfo("hinge_embedding_loss", ops.hinge_embedding_loss, (ops.HingeEmbeddingLoss,),
           hinge_samples, "torch.nn.functional.hinge_embedding_loss"),
    OpInfo("margin_ranking_loss", ops.margin_ranking_loss, (ops.MarginRankingLoss,),
           margin_ranking_samples, "torch.nn.functional.margin_ranking_loss"),
    OpInfo("bpr_loss", ops.bpr_loss, (ops.BprLoss,), bpr_samples, _torch_bpr),
]
