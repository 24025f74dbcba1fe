"""Optimizers and schedules against torch.optim: 100 steps from the same float64 weights with
identical gradients give the same parameters to 1e-10; lr sequences match; state dicts
round-trip; parameter groups, sparse gradients, gradient clipping."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.sparse import RowSparse
from nn import optim

STEPS = 100

# (optimizer, options): every option of every rule, including the lerp's two forms
# (beta1 / alpha on either side of 0.5). PyTorch's float64 sqrt is not correctly rounded (off
# by an ulp in ~0.7% of elements here), and a centered RMSprop with a short average divides by
# a near-zero variance, which can amplify such an ulp to 1e-8 over 100 steps; the options
# below keep every trajectory well-conditioned.
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.8), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.2, amsgrad=True)),
    ("AdamW", dict(lr=0.02, betas=(0.4, 0.9), weight_decay=0.0, maximize=True)),
    ("Adagrad", dict(lr=0.05)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
    ("RMSprop", dict(lr=0.005)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.002, alpha=0.4, centered=True, momentum=0.3, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, eps=1e-4, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-5, weight_decay=0.05)),
    ("Adadelta", dict(lr=2.0, maximize=True)),
]


def _problem(seed=0):
    """Initial weights and a gradient function of the weights (numpy, float64): a one-hidden
    -layer tanh regression plus a quartic term, so every step's gradient depends on the
    trajectory. The same function feeds both libraries."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal(16)
    weights = [rng.standard_normal((4, 3)) * 0.5, rng.standard_normal(3) * 0.5]

    def gradients(w1, w2, sign=1.0):
        h = np.tanh(x @ w1)
        r = h @ w2 - y
        grad_w2 = h.T @ r * (2 / len(y)) + 0.4 * w2 ** 3
        grad_h = np.outer(r, w2) * (2 / len(y))
        grad_w1 = x.T @ (grad_h * (1 - h * h)) + 0.4 * w1 ** 3
        return sign * grad_w1, sign * grad_w2

    return weights, gradients


def _run_ours(name, options, steps=STEPS, groups=None, seed=0):
    weights, gradients = _problem(seed)
    params = [ag.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = getattr(optim, name)(groups(params) if groups else params, **options)
    sign = -1.0 if options.get("maximize") else 1.0
    for _ in range(steps):
        for p, g in zip(params, gradients(*(p.data for p in params), sign)):
            p.grad = ag.tensor(g)
        opt.step()
    return [p.data for p in params], opt


def _run_torch(torch, name, options, steps=STEPS, groups=None, seed=0):
    weights, gradients = _problem(seed)
    params = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = getattr(torch.optim, name)(groups(params) if groups else params, **options)
    sign = -1.0 if options.get("maximize") else 1.0
    for _ in range(steps):
        for p, g in zip(params, gradients(*(p.detach().numpy() for p in params), sign)):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("name, options", CASES,
                         ids=[f"{n}-{'-'.join(f'{k}{v}' for k, v in o.items()) or 'default'}"
                              for n, o in CASES])
def test_matches_torch(name, options, torch):
    ours, _ = _run_ours(name, options)
    theirs = _run_torch(torch, name, options)
    start, _ = _problem()
    for a, b, w0 in zip(ours, theirs, start):
        assert not np.allclose(a, w0), "the parameters did not move"
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _two_groups(params):
    """A fine-tuning split: the body at the base lr, the head at 10x."""
    return [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.1}]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_match_torch(name, torch):
    options = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    ours, opt = _run_ours(name, options, groups=_two_groups)
    theirs = _run_torch(torch, name, options, groups=_two_groups)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_float32_parameters_stay_float32(torch):
    p = ag.tensor(np.linspace(-1, 1, 7, dtype=np.float32), requires_grad=True)
    q = torch.tensor(p.data.copy(), requires_grad=True)
    ours, theirs = optim.Adam([p], lr=0.1, amsgrad=True), torch.optim.Adam([q], lr=0.1,
                                                                             amsgrad=True)
    for step in range(20):
        g = np.cos(np.arange(7, dtype=np.float32) * (step + 1))
        p.grad = ag.tensor(g)
        q.grad = torch.tensor(g)
        ours.step()
        theirs.step()
    assert p.data.dtype == np.float32 and ours.state[0]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.05, momentum=0.9)),
                                           ("Adam", dict(lr=0.01, amsgrad=True)),
                                           ("Adagrad", dict(lr=0.05)),
                                           ("RMSprop", dict(lr=0.01, centered=True,
                                                            momentum=0.5)),
                                           ("Adadelta", dict(lr=0.5))])
def test_state_dict_round_trip(name, options, tmp_path):
    """Save mid-training (through a checkpoint file), restore into a fresh optimizer on
    copies of the weights: the continuation is identical."""
    weights, gradients = _problem()
    params = [ag.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = getattr(optim, name)(params, **options)

    def run(params, opt, steps):
        for _ in range(steps):
            for p, g in zip(params, gradients(*(p.data for p in params))):
                p.grad = ag.tensor(g)
            opt.step()

    run(params, opt, 30)
    nn.save(opt.state_dict(), tmp_path / "opt.ckpt")
    copies = [ag.tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = getattr(optim, name)(copies, **options)
    fresh.load_state_dict(nn.load(tmp_path / "opt.ckpt"))
    run(params, opt, 30)
    run(copies, fresh, 30)
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout():
    p, q = ag.tensor(np.ones(3), requires_grad=True), ag.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    p.grad = ag.tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert set(sd["state"]) == {0}                      # q had no gradient: no state yet
    assert sd["state"][0]["step"] == 1
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    sd["state"][0]["exp_avg"][...] = 7                  # a copy: the optimizer is unchanged
    assert not np.any(opt.state[0]["exp_avg"] == 7)


def test_load_state_dict_rejects_mismatch():
    p, q = ag.tensor(np.ones(3), requires_grad=True), ag.tensor(np.ones(2), requires_grad=True)
    sd = optim.SGD([p, q], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters"):
        optim.SGD([p], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 parameter groups, the optimizer 2"):
        optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).load_state_dict(sd)
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = ag.tensor(np.ones(3))
    opt.step()
    bad = opt.state_dict()
    bad["state"][0]["exp_avg"] = np.zeros(5)
    with pytest.raises(ValueError, match="'exp_avg' of parameter 0 has shape"):
        optim.Adam([p, q], lr=0.1).load_state_dict(bad)


def test_add_param_group_and_validation():
    p, q = ag.tensor(np.ones(3), requires_grad=True), ag.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 1.0})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 1.0
    q.grad = ag.tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(q.data, [0.0, 0.0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([], lr=0.1)
    with pytest.raises(ValueError, match="invalid learning rate"):
        optim.Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="unknown option"):
        optim.SGD([{"params": [q], "betas": (0.9, 0.9)}], lr=0.1)


def test_step_skips_missing_grads_and_zero_grad():
    p, q = ag.tensor(np.ones(3), requires_grad=True), ag.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p, q], lr=0.5)
    p.grad = ag.tensor(np.ones(3))
    version = p._version[0]
    opt.step()
    np.testing.assert_allclose(p.data, 0.5)
    np.testing.assert_allclose(q.data, 1.0)
    assert p._version[0] == version + 1
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, 0.0)
    opt.zero_grad()
    assert p.grad is None


def test_closure_runs_with_grad():
    p = ag.tensor(np.array([2.0, -1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = ag.mse_loss(p, np.zeros(2), reduction="sum")
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert float(loss) == pytest.approx(5.0)
    np.testing.assert_allclose(p.data, [1.0, -0.5])


def test_training_with_losses_matches_torch(torch):
    """End to end: our loss ops' gradients driving our optimizer follow torch's run."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 5))
    labels = rng.integers(0, 3, 32)
    w0 = rng.standard_normal((5, 3)) * 0.3
    w = ag.tensor(w0.copy(), requires_grad=True)
    wt = torch.tensor(w0.copy(), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    opt_t = torch.optim.SGD([wt], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    for _ in range(50):
        logits = (ag.tensor(x)[:, :, None] * w).sum(1)
        loss = ag.cross_entropy(logits, labels, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_t = torch.nn.functional.cross_entropy(torch.tensor(x) @ wt, torch.tensor(labels),
                                                   label_smoothing=0.1)
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
    np.testing.assert_allclose(w.data, wt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_sparse_gradients_update_only_their_rows():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 3))
    rows = rng.standard_normal((4, 3))
    indices = np.array([4, 1, 4, 0])
    dense = np.zeros_like(table)
    np.add.at(dense, indices, rows)
    for name, options in [("SGD", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.1))]:
        sparse_p = ag.tensor(table.copy(), requires_grad=True)
        dense_p = ag.tensor(table.copy(), requires_grad=True)
        sparse_opt = getattr(optim, name)([sparse_p], **options)
        dense_opt = getattr(optim, name)([dense_p], **options)
        for _ in range(3):
            sparse_p.grad = RowSparse(indices, rows.copy(), table.shape)
            dense_p.grad = ag.tensor(dense.copy())
            sparse_opt.step()
            dense_opt.step()
        np.testing.assert_allclose(sparse_p.data, dense_p.data, rtol=1e-14)
        np.testing.assert_array_equal(sparse_p.data[[2, 3, 5]], table[[2, 3, 5]])


DENSE_ONLY = ["Adam", "AdamW", "RMSprop", "Adadelta"]


@pytest.mark.parametrize("name", DENSE_ONLY)
def test_dense_optimizers_refuse_sparse_gradients(name):
    """Before changing any parameter, naming the parameter (its shape, its name when the
    optimizer was given named parameters) and pointing to the optimizers that take it."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Embedding(6, 4, sparse=True))
    linear, embedding = model[0], model[1]
    linear.weight.grad = ag.ones(4, 3)
    embedding.weight.grad = RowSparse(np.array([1, 2]), np.ones((2, 4), np.float32), (6, 4))
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match=rf"{name}: parameter 2 of group 0 \(shape \(6, 4\)\) "
                                           rf"has a row-sparse gradient.*SGD, Adagrad or "
                                           rf"SparseAdam.*sparse=False"):
        getattr(optim, name)(model.parameters()).step()
    with pytest.raises(RuntimeError, match=rf"{name}: parameter '1.weight' of group 0 "):
        getattr(optim, name)(model.named_parameters()).step()
    for p, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, old)


def test_named_parameters_are_kept_in_the_group():
    model = nn.Linear(2, 3)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"] == [model.weight, model.bias]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(TypeError, match="named parameters"):
        optim.SGD([("weight", model.weight), model.bias], lr=0.1)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1)), ("Adagrad", dict(lr=0.1)),
                                           ("SparseAdam", dict(lr=0.1))])
@pytest.mark.parametrize("zero", ["module", "optimizer"])
def test_zero_grad_keeps_a_sparse_gradient_empty(name, options, zero, torch):
    """zero_grad(set_to_none=False) on a row-sparse gradient leaves an empty one (PyTorch's
    sparse zero_()): a step then changes nothing but the step count, and the next backward
    accumulates into it; the trajectory matches PyTorch's."""
    table = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    ours = nn.Embedding(8, 3, sparse=True, _weight=ag.tensor(table.copy()))
    theirs = torch.nn.Embedding(8, 3, sparse=True, _weight=torch.tensor(table.copy()))
    opt = getattr(optim, name)(ours.parameters(), **options)
    topt = getattr(torch.optim, name)(list(theirs.parameters()), **options)
    zero_grad = (ours if zero == "module" else opt).zero_grad
    ids = np.array([[1, 5, 1], [0, 2, 2]])
    for step in range(3):
        ours(ids + step).sum().backward()
        theirs(torch.tensor(ids + step)).sum().backward()
        if step == 1:                  # a step on the zeroed (empty) gradient, in both
            zero_grad(set_to_none=False)
            theirs.zero_grad(set_to_none=False)
            grad = ours.weight.grad
            assert isinstance(grad, RowSparse) and grad.indices.size == 0
            np.testing.assert_array_equal(grad.to_dense(), np.zeros((8, 3)))
            opt.step()
            topt.step()
            ours(ids).sum().backward()
            theirs(torch.tensor(ids)).sum().backward()
            np.testing.assert_array_equal(ours.weight.grad.to_dense(),
                                          theirs.weight.grad.to_dense().numpy())
        opt.step()
        topt.step()
        zero_grad(set_to_none=False)
        theirs.zero_grad(set_to_none=False)
        np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    assert ours.weight.grad.indices.size == 0
    if name != "SGD":
        assert opt.state_dict()["state"][0]["step"] == topt.state_dict()["state"][0]["step"]


def test_sgd_momentum_densifies_sparse_gradients():
    table = np.arange(12.0).reshape(4, 3)
    p = ag.tensor(table.copy(), requires_grad=True)
    q = ag.tensor(table.copy(), requires_grad=True)
    rows = np.ones((2, 3))
    p.grad = RowSparse(np.array([0, 2]), rows, table.shape)
    q.grad = ag.tensor(RowSparse(np.array([0, 2]), rows, table.shape).to_dense())
    optim.SGD([p], lr=0.1, momentum=0.9).step()
    optim.SGD([q], lr=0.1, momentum=0.9).step()
    np.testing.assert_array_equal(p.data, q.data)


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (epoch + 1) + 0.05 * (epoch % 3))),
]


@pytest.mark.parametrize("name, options", SCHEDULES, ids=[f"{n}{i}" for i, (n, _) in
                                                          enumerate(SCHEDULES)])
def test_schedules_match_torch(name, options, torch):
    def lrs(lib, sched_module):
        p, q = lib[0](), lib[0]()
        opt = lib[1]([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
        sched = getattr(sched_module, name)(opt, **options)
        seq = [[g["lr"] for g in opt.param_groups]]
        for _ in range(35):
            opt.step()
            sched.step()
            seq.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == seq[-1]
        return seq

    ours = lrs((lambda: ag.tensor(np.ones(2), requires_grad=True), optim.SGD),
               optim.lr_scheduler)
    theirs = lrs((lambda: torch.ones(2, requires_grad=True), torch.optim.SGD),
                 torch.optim.lr_scheduler)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


@pytest.mark.parametrize("options", [dict(), dict(mode="max", factor=0.5, patience=2,
                                                   threshold=0.1, cooldown=1, min_lr=0.02),
                                     dict(threshold_mode="abs", patience=1, threshold=0.05,
                                          min_lr=[0.0, 0.3])])
def test_reduce_on_plateau_matches_torch(options, torch):
    metrics = [1.0, 0.9, 0.95, 0.94, 0.93, 0.96, 0.97, 0.5, 0.5, 0.49, 0.6, 0.61, 0.7, 0.8,
               0.79, 0.78, 0.9, 0.91, 0.92, 0.2] * 2

    def lrs(make, opt_cls, sched_cls):
        opt = opt_cls([{"params": [make()]}, {"params": [make()], "lr": 0.8}], lr=0.1)
        sched = sched_cls(opt, **options)
        seq = []
        for m in metrics:
            sched.step(m)
            seq.append([g["lr"] for g in opt.param_groups])
        return seq

    ours = lrs(lambda: ag.tensor(np.ones(2), requires_grad=True), optim.SGD,
               optim.lr_scheduler.ReduceLROnPlateau)
    theirs = lrs(lambda: torch.ones(2, requires_grad=True), torch.optim.SGD,
                 torch.optim.lr_scheduler.ReduceLROnPlateau)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_scheduler_state_dict_resumes():
    p = ag.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
    for _ in range(3):
        sched.step()
    state, opt_state = sched.state_dict(), opt.state_dict()
    expected = []
    for _ in range(4):
        sched.step()
        expected.append(sched.get_last_lr()[0])
    opt2 = optim.SGD([p], lr=1.0)
    opt2.load_state_dict(opt_state)
    sched2 = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=8)
    sched2.load_state_dict(state)
    got = []
    for _ in range(4):
        sched2.step()
        got.append(sched2.get_last_lr()[0])
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_clip_grad_norm_matches_torch(norm_type, torch):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    for max_norm in (0.5, 100.0):
        ours = [ag.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, t, g in zip(ours, theirs, grads):
            p.grad = ag.tensor(g.copy())
            t.grad = torch.tensor(g.copy())
        total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
        total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
        assert float(total) == pytest.approx(float(total_t), rel=1e-12)
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_and_value():
    p = ag.tensor(np.zeros(3), requires_grad=True)
    p.grad = ag.tensor(np.array([1.0, np.inf, 2.0]))
    with pytest.raises(RuntimeError, match="total norm"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = ag.tensor(np.zeros(4), requires_grad=True)
    q.grad = ag.tensor(np.array([-3.0, 0.5, 2.0, -0.1]))
    nn.utils.clip_grad_value_(q, 1.0)
    np.testing.assert_array_equal(q.grad.data, [-1.0, 0.5, 1.0, -0.1])
    assert float(nn.utils.clip_grad_norm_([ag.tensor(np.zeros(2), requires_grad=True)],
                                          1.0)) == 0.0


def test_strided_parameter_is_updated_in_place():
    base = np.arange(6.0).reshape(2, 3)
    p = ag.Tensor(base.T, requires_grad=True)            # a transposed view of `base`
    assert not p.data.flags.c_contiguous
    p.grad = ag.tensor(np.ones((3, 2)))
    optim.Adam([p], lr=0.5).step()
    np.testing.assert_allclose(base, np.arange(6.0).reshape(2, 3) - 0.5)
