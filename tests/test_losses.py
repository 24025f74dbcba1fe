"""Losses beyond the registry sweep: ignore_index, masks, the loss modules, dtypes, the no-grad
path, a large (row-parallel) cross-entropy against PyTorch, and bad input."""
import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F


def test_ignore_index_is_skipped_in_mean_and_gradient(rng):
    x = ag.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = np.array([0, 3, -100, 2, -100])
    loss = F.cross_entropy(x, t)
    kept = F.cross_entropy(ag.tensor(x.data[[0, 1, 3]]), t[[0, 1, 3]])
    assert float(loss) == pytest.approx(float(kept), rel=1e-14)
    loss.backward()
    np.testing.assert_array_equal(x.grad.data[[2, 4]], 0.0)
    none = F.cross_entropy(x, t, reduction="none")
    assert none.data[2] == 0.0 and none.data[4] == 0.0
    assert np.isnan(float(F.cross_entropy(x, np.full(5, -100))))   # as PyTorch: 0 / 0


def test_tensor_targets_and_lists(rng):
    x = ag.tensor(rng.standard_normal((3, 4)))
    a = F.cross_entropy(x, [1, 0, 3])
    b = F.cross_entropy(x, ag.tensor(np.array([1, 0, 3])))
    logp = x.data - np.log(np.exp(x.data).sum(1, keepdims=True))
    c = F.nll_loss(ag.tensor(logp), ag.tensor(np.array([1, 0, 3])))
    assert float(a) == float(b)
    assert float(c) == pytest.approx(float(a), rel=1e-12)


def test_probability_targets_get_target_gradients(rng, torch):
    x0, t0 = rng.standard_normal((3, 5)), rng.dirichlet(np.ones(5), 3)
    x, t = ag.tensor(x0, requires_grad=True), ag.tensor(t0, requires_grad=True)
    F.cross_entropy(x, t, label_smoothing=0.1).backward()
    xt, tt = torch.tensor(x0, requires_grad=True), torch.tensor(t0, requires_grad=True)
    torch.nn.functional.cross_entropy(xt, tt, label_smoothing=0.1).backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(400, 400), (2, 300, 256)], ids=["rows", "spatial"])
def test_large_cross_entropy_matches_torch(shape, rng, torch):
    """Shapes above the parallel threshold take the row-parallel kernels."""
    x0 = (rng.standard_normal(shape) * 4).astype(np.float32)
    t0 = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    w0 = rng.uniform(0.5, 2.0, shape[1]).astype(np.float32)
    x = ag.tensor(x0, requires_grad=True)
    loss = F.cross_entropy(x, t0, w0, label_smoothing=0.05)
    loss.backward()
    xt = torch.tensor(x0, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(xt, torch.tensor(t0), torch.tensor(w0),
                                               label_smoothing=0.05)
    loss_t.backward()
    assert float(loss) == pytest.approx(float(loss_t), rel=1e-5)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-4, atol=1e-9)


def test_no_grad_forward_matches(rng):
    x = ag.tensor(rng.standard_normal((6, 9)).astype(np.float32), requires_grad=True)
    t = rng.integers(0, 9, 6)
    with ag.no_grad():
        inference = F.cross_entropy(x, t)
    assert not inference.requires_grad
    assert float(inference) == float(F.cross_entropy(x, t))


LOSS_CALLS = [
    ("cross_entropy", lambda x, r: F.cross_entropy(x, r.integers(0, 4, 3))),
    ("cross_entropy_probs", lambda x, r: F.cross_entropy(x, r.dirichlet(np.ones(4), 3))),
    ("nll_loss", lambda x, r: F.nll_loss(x, r.integers(0, 4, 3))),
    ("binary_cross_entropy", lambda x, r: F.binary_cross_entropy(ag.sigmoid(x),
                                                                 r.uniform(size=(3, 4)))),
    ("binary_cross_entropy_with_logits",
     lambda x, r: F.binary_cross_entropy_with_logits(x, r.uniform(size=(3, 4)),
                                                     pos_weight=np.ones(4), mask=x.data > 0)),
    ("mse_loss", lambda x, r: F.mse_loss(x, r.standard_normal((3, 4)))),
    ("l1_loss", lambda x, r: F.l1_loss(x, r.standard_normal((3, 4)))),
    ("smooth_l1_loss", lambda x, r: F.smooth_l1_loss(x, r.standard_normal((3, 4)))),
    ("huber_loss", lambda x, r: F.huber_loss(x, r.standard_normal((3, 4)))),
    ("kl_div", lambda x, r: F.kl_div(x, r.dirichlet(np.ones(4), 3), reduction="batchmean")),
    ("multi_margin_loss", lambda x, r: F.multi_margin_loss(x, r.integers(0, 4, 3))),
    ("hinge_embedding_loss", lambda x, r: F.hinge_embedding_loss(x, np.sign(r.standard_normal(
        (3, 4))))),
    ("margin_ranking_loss", lambda x, r: F.margin_ranking_loss(x, x * 0.5, np.ones((3, 4)))),
    ("bpr_loss", lambda x, r: F.bpr_loss(x, r.standard_normal((3, 4)))),
]


@pytest.mark.parametrize("name, call", LOSS_CALLS, ids=[n for n, _ in LOSS_CALLS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(name, call, dtype, rng):
    """float32 stays float32 (a float64 target or weight does not upcast), loss and grad."""
    x = ag.tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=True)
    loss = call(x, rng)
    assert loss.dtype == dtype
    loss.backward()
    assert x.grad.dtype == dtype


def test_mask_is_the_d2l_masked_sigmoid_cross_entropy(rng):
    """mean over the masked-in elements; d2l's per-row form from reduction='none'."""
    logits = rng.standard_normal((4, 6))
    labels = (rng.uniform(size=(4, 6)) > 0.5) * 1.0
    mask = rng.uniform(size=(4, 6)) > 0.3
    per_element = np.logaddexp(0.0, logits) - labels * logits
    loss = F.binary_cross_entropy_with_logits(ag.tensor(logits), labels, mask=mask)
    assert float(loss) == pytest.approx(per_element[mask].mean(), rel=1e-13)
    rows = F.binary_cross_entropy_with_logits(ag.tensor(logits), labels, mask=mask,
                                              reduction="none")
    d2l = (rows.data.sum(1) / mask.sum(1))
    np.testing.assert_allclose(d2l, (per_element * mask).sum(1) / mask.sum(1), rtol=1e-13)
    module = nn.BCEWithLogitsLoss()
    assert float(module(ag.tensor(logits), labels, mask)) == pytest.approx(float(loss))


def test_loss_modules_call_the_functions(rng):
    x = ag.tensor(rng.standard_normal((5, 4)))
    t = rng.integers(0, 4, 5)
    w = np.array([1.0, 2.0, 0.5, 1.0])
    module = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    assert float(module(x, t)) == float(F.cross_entropy(x, t, w, ignore_index=1,
                                                        label_smoothing=0.1))
    assert "weight" in module.state_dict()
    y = ag.tensor(rng.standard_normal((5, 4)))
    pairs = [(nn.MSELoss(reduction="sum"), F.mse_loss(x, y, reduction="sum")),
             (nn.L1Loss(), F.l1_loss(x, y)),
             (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss(x, y, beta=0.5)),
             (nn.HuberLoss(delta=2.0), F.huber_loss(x, y, delta=2.0)),
             (nn.KLDivLoss(reduction="batchmean", log_target=True),
              F.kl_div(x, y, reduction="batchmean", log_target=True)),
             (nn.HingeEmbeddingLoss(margin=0.5), F.hinge_embedding_loss(x, ag.sign(y), 0.5)),
             (nn.BPRLoss(reduction="sum"), F.bpr_loss(x, y, reduction="sum"))]
    for module, expected in pairs[:5]:
        assert float(module(x, y)) == float(expected)
    assert float(pairs[5][0](x, ag.sign(y))) == float(pairs[5][1])
    assert float(pairs[6][0](x, y)) == float(pairs[6][1])
    assert float(nn.MultiMarginLoss(p=2, margin=0.5, weight=w)(x, t)) == float(
        F.multi_margin_loss(x, t, 2, 0.5, w))
    assert float(nn.MarginRankingLoss(margin=0.2)(x, y, ag.sign(y))) == float(
        F.margin_ranking_loss(x, y, ag.sign(y), 0.2))
    logp = ag.tensor(rng.standard_normal((5, 4)))
    assert float(nn.NLLLoss(weight=w)(logp, t)) == float(F.nll_loss(logp, t, w))
    probs = ag.sigmoid(x)
    assert float(nn.BCELoss(weight=w)(probs, ag.sigmoid(y))) == float(
        F.binary_cross_entropy(probs, ag.sigmoid(y), w))
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_bpr_sum_is_d2l(rng):
    pos, neg = rng.standard_normal(8), rng.standard_normal(8)
    d2l = -np.sum(np.log(1 / (1 + np.exp(-(pos - neg)))))
    assert float(F.bpr_loss(ag.tensor(pos), ag.tensor(neg), reduction="sum")) == \
        pytest.approx(d2l, rel=1e-13)


def test_regression_broadcast_warns_like_torch(rng):
    with pytest.warns(UserWarning, match="target size"):
        loss = F.mse_loss(ag.tensor(rng.standard_normal((3, 4))), rng.standard_normal(4))
    assert loss.shape == ()


BAD = [
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0, 4, 1])), IndexError,
     r"cross_entropy: target 4 is out of range for 4 classes"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0, -1, 1])), IndexError,
     r"cross_entropy: target -1 is out of range"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0.0, 1.0, 1.0])),
     ValueError, r"cross_entropy: a float target holds class probabilities"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([True, False, True])),
     TypeError, r"cross_entropy: class-index target must be an integer"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0, 1])), ValueError,
     r"cross_entropy: target of shape \(2,\) does not match input of shape \(3, 4\)"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0, 1, 2]),
                             np.ones(3)), ValueError, r"weight must have shape \(4,\)"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0, 1, 2]),
                             reduction="avg"), ValueError, r"reduction must be one of"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4))), np.array([0, 1, 2]),
                             label_smoothing=1.5), ValueError, r"label_smoothing must be in"),
    (lambda: F.cross_entropy(ag.tensor(np.zeros((3, 4), np.int64)), np.array([0, 1, 2])),
     TypeError, r"cross_entropy: input must be a float32 or float64 tensor"),
    (lambda: F.nll_loss(ag.tensor(np.zeros((2, 3))), np.array([3, 0])), IndexError,
     r"nll_loss: target 3 is out of range for 3 classes"),
    (lambda: F.multi_margin_loss(ag.tensor(np.zeros((2, 3))), np.array([0, 5])), IndexError,
     r"multi_margin_loss: target 5 is out of range"),
    (lambda: F.multi_margin_loss(ag.tensor(np.zeros((2, 3))), np.array([0, 1]), p=3),
     ValueError, r"only p == 1 and p == 2"),
    (lambda: F.binary_cross_entropy(ag.tensor(np.array([0.5, 1.2])), np.array([0.0, 1.0])),
     ValueError, r"binary_cross_entropy: all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy_with_logits(ag.tensor(np.zeros((2, 3))), np.zeros((3, 2))),
     ValueError, r"target of shape \(3, 2\) must have the same shape as input \(2, 3\)"),
    (lambda: F.binary_cross_entropy_with_logits(ag.tensor(np.zeros((2, 3))), np.zeros((2, 3)),
                                                pos_weight=np.ones(2)),
     ValueError, r"pos_weight of shape \(2,\) does not broadcast"),
    (lambda: F.mse_loss(ag.tensor(np.zeros((2, 3))), np.zeros((4,))), ValueError,
     r"mse_loss: shapes do not broadcast"),
    (lambda: F.huber_loss(ag.tensor(np.zeros(2)), np.zeros(2), delta=0.0), ValueError,
     r"huber_loss: delta must be > 0"),
    (lambda: F.kl_div(ag.tensor(np.zeros(2)), np.zeros(2), reduction="batch"), ValueError,
     r"kl_div: reduction must be one of .*'batchmean'"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
