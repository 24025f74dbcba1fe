"""The loss kernels against plain-numpy references (no autograd, no torch)."""
import numpy as np
import pytest

from kernels import loss as kl


def _log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def _ce_reference(x, t, w, ignore, eps, reduction):
    """Per-row losses and d(loss)/dx of PyTorch's cross_entropy, with a unit cotangent."""
    n, c = x.shape
    w = np.ones(c) if w is None else w
    logp = _log_softmax(x)
    keep = t != ignore
    tt = np.where(keep, t, 0)
    rows = np.arange(n)
    nll = -w[tt] * logp[rows, tt]
    smooth = -(logp * w).sum(1)
    loss = np.where(keep, (1 - eps) * nll + eps / c * smooth, 0.0)
    p = np.exp(logp)
    onehot = np.zeros_like(x)
    onehot[rows, tt] = 1.0
    grad = (1 - eps) * w[tt][:, None] * (p - onehot) + eps / c * (w.sum() * p - w)
    grad = np.where(keep[:, None], grad, 0.0)
    denominator = w[tt][keep].sum()
    if reduction == "mean":
        return loss.sum() / denominator, grad / denominator
    if reduction == "sum":
        return loss.sum(), grad
    return loss, grad


# the row-parallel kernels in float32 only: each parallel compilation costs ~3 s cold
@pytest.mark.parametrize("dtype, shape", [(np.float64, (6, 5)), (np.float32, (6, 5)),
                                          (np.float32, (400, 400))],
                         ids=["float64", "float32", "float32-parallel"])
@pytest.mark.parametrize("options", [dict(), dict(weight=True), dict(ignore_index=2),
                                     dict(label_smoothing=0.3, weight=True, ignore_index=1,
                                          reduction="sum"),
                                     dict(label_smoothing=0.1, reduction="none")])
def test_softmax_cross_entropy(dtype, shape, options, rng):
    options = dict(options)
    n, c = shape
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.integers(0, c, n)
    t[:3] = [1, 2, 2]
    weight = rng.uniform(0.5, 2.0, c).astype(dtype) if options.pop("weight", False) else None
    ignore = options.get("ignore_index", -100)
    eps = options.get("label_smoothing", 0.0)
    reduction = options.get("reduction", "mean")
    loss, exps, inv, denominator = kl.softmax_cross_entropy_forward(x, t, weight, **options)
    cotangent = rng.standard_normal(loss.shape).astype(dtype)
    grad = kl.softmax_cross_entropy_backward(exps, inv, t, weight, ignore, eps, reduction,
                                             denominator, cotangent, x.shape)
    ref_loss, ref_grad = _ce_reference(x.astype(np.float64), t, None if weight is None else
                                       weight.astype(np.float64), ignore, eps, reduction)
    ref_grad = ref_grad * (cotangent[:, None] if reduction == "none" else cotangent)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    assert loss.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(loss, ref_loss, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol * np.abs(ref_grad).max())
    unsaved, *_ = kl.softmax_cross_entropy_forward(x, t, weight, save=False, **options)
    np.testing.assert_array_equal(unsaved, loss)


def test_softmax_cross_entropy_backward_overwrites(rng):
    x = rng.standard_normal((4, 6))
    t = rng.integers(0, 6, 4)
    _, exps, inv, den = kl.softmax_cross_entropy_forward(x, t)
    expected = kl.softmax_cross_entropy_backward(exps, inv, t, None, -100, 0.0, "mean", den,
                                                 np.ones(()), x.shape)
    grad = kl.softmax_cross_entropy_backward(exps, inv, t, None, -100, 0.0, "mean", den,
                                             np.ones(()), x.shape, overwrite=True)
    assert grad is exps or np.shares_memory(grad, exps)
    np.testing.assert_array_equal(grad, expected)


def test_softmax_cross_entropy_spatial_matches_rows(rng):
    x = rng.standard_normal((2, 4, 3, 5))
    t = rng.integers(0, 4, (2, 3, 5))
    loss, *_ = kl.softmax_cross_entropy_forward(x, t, reduction="none")
    rows = np.moveaxis(x, 1, -1).reshape(-1, 4)
    ref, _ = _ce_reference(rows, t.reshape(-1), None, -100, 0.0, "none")
    np.testing.assert_allclose(loss, ref.reshape(2, 3, 5), rtol=1e-13)


def test_softmax_cross_entropy_special_values():
    x = np.array([[1.0, np.nan, 0.0], [0.0, -np.inf, 1.0], [1e4, 0.0, -1e4]], np.float32)
    loss, *_ = kl.softmax_cross_entropy_forward(x, np.array([0, 1, 1]), reduction="none")
    assert np.isnan(loss[0])
    assert loss[1] == np.inf
    assert loss[2] == pytest.approx(1e4)
    assert np.isnan(kl.softmax_cross_entropy_forward(
        np.zeros((2, 3)), np.array([-100, -100]))[0])          # nothing left to average


def test_float32_exp_is_accurate():
    x = -np.linspace(0.0, 86.9, 200001, dtype=np.float32)
    rows = np.stack([x, np.zeros_like(x)])
    _, exps, _, _ = kl.softmax_cross_entropy_forward(rows, np.array([0, 0]))
    ours = exps[0]
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(ours - exact) / exact) < 3e-7


def test_soft_cross_entropy(rng):
    x = rng.standard_normal((5, 4))
    t = rng.dirichlet(np.ones(4), 5)
    w = rng.uniform(0.5, 2, 4)
    eps = 0.2
    loss, exps, inv, lse, totals = kl.soft_cross_entropy_forward(x, t, w, eps, "none")
    t_smooth = (1 - eps) * t + eps / 4
    logp = _log_softmax(x)
    np.testing.assert_allclose(loss, -(w * t_smooth * logp).sum(1), rtol=1e-13)
    g = rng.standard_normal(5)
    grad_x = kl.soft_cross_entropy_backward_logits(exps, inv, totals, t, w, eps, "none", g,
                                                   x.shape)
    ref = g[:, None] * (np.exp(logp) * (w * t_smooth).sum(1, keepdims=True) - w * t_smooth)
    np.testing.assert_allclose(grad_x, ref, rtol=1e-12)
    grad_t = kl.soft_cross_entropy_backward_target(x, lse, w, eps, "none", g)
    np.testing.assert_allclose(grad_t, -g[:, None] * (1 - eps) * w * logp, rtol=1e-12)


def test_nll_loss(rng):
    logp = _log_softmax(rng.standard_normal((2, 5, 3)).transpose(0, 2, 1).reshape(6, 5))
    x = logp.reshape(2, 3, 5).transpose(0, 2, 1).copy()          # (N, C, d)
    t = rng.integers(0, 5, (2, 3))
    t[0, 0] = 4
    w = rng.uniform(0.5, 2, 5)
    loss, den = kl.nll_loss_forward(x, t, w, ignore_index=4, reduction="mean")
    keep = t != 4
    picked = np.take_along_axis(x, t[:, None, :], 1)[:, 0, :]
    assert loss == pytest.approx((-w[t] * picked)[keep].sum() / w[t][keep].sum(), rel=1e-13)
    grad = kl.nll_loss_backward(t, w, 4, "mean", den, np.ones(()), x.shape, x.dtype)
    ref = np.zeros_like(x)
    for n in range(2):
        for s in range(3):
            if keep[n, s]:
                ref[n, t[n, s], s] = -w[t[n, s]] / den
    np.testing.assert_allclose(grad, ref, rtol=1e-13)


def test_binary_cross_entropy(rng):
    x = np.array([1e-30, 0.3, 0.7, 1.0])
    t = np.array([1.0, 0.2, 1.0, 0.0])
    loss = kl.binary_cross_entropy_forward(x, t, reduction="none")
    ref = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    np.testing.assert_allclose(loss, ref, rtol=1e-13)
    grad = kl.binary_cross_entropy_backward_input(x[1:3], t[1:3], None, "sum", np.ones(()))
    np.testing.assert_allclose(grad, (x[1:3] - t[1:3]) / (x[1:3] * (1 - x[1:3])), rtol=1e-13)
    with pytest.raises(ValueError, match="between 0 and 1"):
        kl.binary_cross_entropy_forward(np.array([0.5, 1.5]), np.array([0.0, 1.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_is_stable(dtype):
    x = np.array([-200.0, -30.0, -1.0, 0.0, 2.0, 40.0, 200.0], dtype)
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0, 1.0, 0.0], dtype)
    pw = np.full(7, 3.0, dtype)
    loss = kl.bce_with_logits_forward(x, t, None, pw, "none")
    xd, td = x.astype(np.float64), t.astype(np.float64)
    softplus = np.logaddexp(0.0, -xd)
    ref = (1 - td) * xd + (1 + 2 * td) * softplus
    assert np.all(np.isfinite(loss))
    # PyTorch's form (1 - t) x + softplus(-x) cancels to 0 in float32 at x = -30, as ours
    np.testing.assert_allclose(loss, ref, rtol=1e-6 if dtype == np.float32 else 1e-13,
                               atol=1e-6 if dtype == np.float32 else 0.0)
    grad = kl.bce_with_logits_backward_input(x, t, None, pw, "none", np.ones(7, dtype))
    sig_neg = 1 / (1 + np.exp(xd))
    np.testing.assert_allclose(grad, (1 - td) - (1 + 2 * td) * sig_neg,
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-7)


@pytest.mark.parametrize("op, ref, grad_ref, param", [
    ("mse_loss", lambda d, p: d * d, lambda d, p: 2 * d, None),
    ("l1_loss", lambda d, p: np.abs(d), lambda d, p: np.sign(d), None),
    ("smooth_l1_loss", lambda d, p: np.where(np.abs(d) < p, 0.5 * d * d / p, np.abs(d) - 0.5 * p),
     lambda d, p: np.clip(d / p, -1, 1), 0.7),
    ("huber_loss", lambda d, p: np.where(np.abs(d) < p, 0.5 * d * d, p * (np.abs(d) - 0.5 * p)),
     lambda d, p: np.clip(d, -p, p), 0.7),
])
def test_regression_losses(op, ref, grad_ref, param, rng):
    x = rng.standard_normal((4, 5)) * 2
    t = rng.standard_normal((4, 5))
    d = x - t
    np.testing.assert_allclose(kl.regression_loss_forward(op, x, t, "none", param),
                               ref(d, param), rtol=1e-13)
    np.testing.assert_allclose(kl.regression_loss_forward(op, x, t, "mean", param),
                               ref(d, param).mean(), rtol=1e-13)
    grad = kl.regression_loss_backward(op, x, t, "mean", np.array(2.0), param)
    np.testing.assert_allclose(grad, 2.0 * grad_ref(d, param) / d.size, rtol=1e-13)
    row = kl.regression_loss_forward(op, x, t[0], "none", param)     # target broadcast
    np.testing.assert_allclose(row, ref(x - t[0], param), rtol=1e-13)


def test_smooth_l1_with_zero_beta_is_l1(rng):
    x, t = rng.standard_normal(6), rng.standard_normal(6)
    np.testing.assert_allclose(kl.regression_loss_forward("smooth_l1_loss", x, t, "sum", 0.0),
                               np.abs(x - t).sum(), rtol=1e-13)
    grad = kl.regression_loss_backward("smooth_l1_loss", x, t, "sum", np.ones(()), 0.0)
    np.testing.assert_array_equal(grad, np.sign(x - t))


def test_kl_div(rng):
    x = _log_softmax(rng.standard_normal((3, 4)))
    t = np.exp(_log_softmax(rng.standard_normal((3, 4))))
    t[0, 0] = 0.0
    ref = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    np.testing.assert_allclose(kl.kl_div_forward(x, t, "batchmean"), ref.sum() / 3, rtol=1e-13)
    np.testing.assert_allclose(kl.kl_div_forward(x[1:], np.log(t[1:]), "none",
                                                 log_target=True), ref[1:], rtol=1e-12)
    np.testing.assert_allclose(kl.kl_div_backward_input(x, t, "sum", False, np.ones(())), -t)


def test_margin_losses(rng):
    x = rng.standard_normal((4, 5))
    t = rng.integers(0, 5, 4)
    w = rng.uniform(0.5, 2, 5)
    for p, margin in ((1, 1.0), (2, 0.5)):
        loss = kl.multi_margin_forward(x, t, p, margin, w, "none")
        z = np.maximum(0, margin - x[np.arange(4), t][:, None] + x) ** p
        z[np.arange(4), t] = 0
        np.testing.assert_allclose(loss, w[t] * z.sum(1) / 5, rtol=1e-13)
    y = np.where(rng.uniform(size=(4, 5)) > 0.5, 1.0, -1.0)
    hinge = kl.hinge_embedding_forward(x, y, 0.5, "none")
    np.testing.assert_allclose(hinge, np.where(y == 1, x, np.maximum(0, 0.5 - x)))
    a, b, s = rng.standard_normal(6), rng.standard_normal(6), np.sign(rng.standard_normal(6))
    np.testing.assert_allclose(kl.margin_ranking_forward(a, b, s, 0.1, "none"),
                               np.maximum(0, -s * (a - b) + 0.1))


def test_bpr_is_stable():
    pos = np.array([100.0, 0.0, -100.0], np.float32)
    neg = np.zeros(3, np.float32)
    loss = kl.bpr_forward(pos, neg, "none")
    np.testing.assert_allclose(loss, [np.exp(-100.0), np.log(2.0), 100.0], rtol=1e-6,
                               atol=1e-44)      # e^-100 is a float32 denormal
    grad_pos, grad_neg = kl.bpr_backward(pos, neg, "none", np.ones(3, np.float32))
    np.testing.assert_allclose(grad_neg, [np.exp(-100.0), 0.5, 1.0], rtol=1e-6, atol=1e-44)
    np.testing.assert_array_equal(grad_pos, -grad_neg)


def test_parallel_threshold_is_crossed():
    assert 400 * 400 >= kl.CE_PARALLEL_MIN_ELEMENTS and 2 * 256 * 300 >= \
        kl.CE_PARALLEL_MIN_ELEMENTS
