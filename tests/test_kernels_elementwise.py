"""kernels.elementwise against plain-numpy references (float32 and float64; 0-d, empty, strided
and broadcast inputs), finite differences for every backward (float64), PyTorch's conventions
at kinks and ties, and the float32 accuracy of the fast transcendentals."""
import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pytest

from kernels import elementwise as ew

DTYPES = [np.float32, np.float64]
SHAPES = [(), (0,), (7,), (3, 4), (2, 3, 5)]
_ERF = np.vectorize(math.erf, otypes=[np.float64])
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x, beta, threshold):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


@dataclass
class Unary:
    """One unary op: kernels, saved operand, numpy reference and an input range without kinks."""
    name: str
    forward: callable
    backward: callable
    saves: str                  # "x" or "y": what the backward takes
    ref: callable               # float64 numpy reference of the forward
    lo: float = -3.0
    hi: float = 3.0
    kinks: tuple = ()           # sampled points closer than 1e-3 to these are moved away
    kwargs: dict = field(default_factory=dict)


def _unary(name, ref, saves="x", lo=-3.0, hi=3.0, kinks=(), **kwargs):
    fwd = getattr(ew, f"{name}_forward")
    bwd = getattr(ew, f"{name}_backward")
    return Unary(name if not kwargs else f"{name}{sorted(kwargs.items())}",
                 partial(fwd, **kwargs), partial(bwd, **kwargs), saves, ref, lo, hi, kinks, kwargs)


UNARY = [
    _unary("abs", np.abs, kinks=(0,)),
    _unary("exp", np.exp, saves="y", lo=-10, hi=10),
    _unary("log", np.log, lo=0.05, hi=20),
    _unary("log1p", np.log1p, lo=-0.95, hi=20),
    _unary("expm1", np.expm1, saves="y", lo=-10, hi=10),
    _unary("sqrt", np.sqrt, saves="y", lo=0.05, hi=20),
    _unary("rsqrt", lambda x: 1.0 / np.sqrt(x), saves="y", lo=0.05, hi=20),
    _unary("square", np.square),
    _unary("reciprocal", lambda x: 1.0 / x, saves="y", lo=0.2, hi=5),
    _unary("sin", np.sin, lo=-6, hi=6),
    _unary("cos", np.cos, lo=-6, hi=6),
    _unary("tanh", np.tanh, saves="y", lo=-8, hi=8),
    _unary("sigmoid", _sigmoid, saves="y", lo=-15, hi=15),
    _unary("relu", lambda x: np.maximum(x, 0), saves="y", kinks=(0,)),
    _unary("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x), kinks=(0,), negative_slope=0.2),
    _unary("relu6", lambda x: np.clip(x, 0, 6), lo=-2, hi=8, kinks=(0, 6)),
    _unary("elu", lambda x: np.where(x > 0, x, 1.5 * np.expm1(x)), kinks=(0,), alpha=1.5),
    _unary("selu", lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
           kinks=(0,)),
    _unary("gelu", lambda x: 0.5 * x * (1 + _ERF(x / math.sqrt(2))), lo=-5, hi=5),
    _unary("gelu", _gelu_tanh, lo=-5, hi=5, approximate="tanh"),
    _unary("silu", lambda x: x * _sigmoid(x), lo=-10, hi=10),
    _unary("softplus", lambda x: _softplus(x, 1.0, 20.0), lo=-10, hi=10),
    _unary("softplus", lambda x: _softplus(x, 2.0, 3.0), lo=-4, hi=4, kinks=(1.5,),
           beta=2.0, threshold=3.0),
    _unary("hardsigmoid", lambda x: np.clip(x + 3, 0, 6) / 6, lo=-5, hi=5, kinks=(-3, 3)),
    _unary("hardtanh", lambda x: np.clip(x, -0.5, 2.0), kinks=(-0.5, 2.0),
           min_val=-0.5, max_val=2.0),
    _unary("clamp", lambda x: np.clip(x, -1.0, 0.5), kinks=(-1.0, 0.5), min=-1.0, max=0.5),
    _unary("clamp", lambda x: np.maximum(x, -1.0), kinks=(-1.0,), min=-1.0),
    _unary("clamp", lambda x: np.minimum(x, 0.5), kinks=(0.5,), max=0.5),
    _unary("pow_scalar", lambda x: x**3.0, exponent=3.0),
    _unary("pow_scalar", lambda x: x**2.5, lo=0.1, hi=4, exponent=2.5),
    _unary("pow_scalar", lambda x: x**-1.5, lo=0.2, hi=4, exponent=-1.5),
    _unary("pow_scalar", lambda x: x**2.0, exponent=2),
    _unary("pow_scalar", lambda x: np.sqrt(x), lo=0.1, hi=4, exponent=0.5),
]
UNARY_IDS = [u.name for u in UNARY]


def _sample(rng, op, shape, dtype):
    x = rng.uniform(op.lo, op.hi, size=shape)
    for k in op.kinks:
        x = np.where(np.abs(x - k) < 1e-3, k + 0.01, x)
    return np.asarray(x, dtype=dtype)


def _call_backward(op, x, grad):
    saved = x if op.saves == "x" else op.forward(x)
    return op.backward(saved, grad)


def _rtol(dtype):
    return 2e-6 if dtype == np.float32 else 1e-12


@pytest.mark.parametrize("op", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_forward_matches_numpy(op, dtype):
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        x = _sample(rng, op, shape, dtype)
        y = op.forward(x)
        assert y.shape == x.shape and y.dtype == x.dtype and y.flags.c_contiguous
        want = op.ref(x.astype(np.float64))
        np.testing.assert_allclose(y, want, rtol=4 * _rtol(dtype), atol=4 * _rtol(dtype),
                                   err_msg=f"{op.name} {shape}")


@pytest.mark.parametrize("op", UNARY, ids=UNARY_IDS)
def test_unary_backward_matches_finite_differences(op):
    rng = np.random.default_rng(1)
    x = _sample(rng, op, (4, 5), np.float64)
    grad = rng.standard_normal(x.shape)
    h = 1e-6
    # the Jacobian of a pointwise op is diagonal: one central difference per element
    numeric = grad * (op.forward(x + h) - op.forward(x - h)) / (2 * h)
    analytic = _call_backward(op, x, grad)
    assert analytic.shape == x.shape and analytic.dtype == x.dtype
    err = np.linalg.norm(numeric - analytic) / (np.linalg.norm(numeric) + np.linalg.norm(analytic))
    assert err < 1e-7, f"{op.name}: relative error {err:.2e}"


@pytest.mark.parametrize("op", UNARY, ids=UNARY_IDS)
def test_unary_float32_backward_matches_float64(op):
    rng = np.random.default_rng(2)
    x = _sample(rng, op, (64,), np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    got = _call_backward(op, x, grad)
    assert got.dtype == np.float32
    want = _call_backward(op, x.astype(np.float64), grad.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("op", UNARY, ids=UNARY_IDS)
def test_unary_strided_and_0d_inputs(op):
    rng = np.random.default_rng(3)
    base = _sample(rng, op, (6, 8), np.float32)
    view = base[::2, 1::3].T                    # neither C- nor F-contiguous
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(op.forward(view), op.forward(view.copy()))
    grad = rng.standard_normal(base.shape).astype(np.float32)[1::2, ::3].T
    saved = view if op.saves == "x" else op.forward(view)
    np.testing.assert_array_equal(op.backward(saved, grad), op.backward(saved.copy(), grad.copy()))
    scalar = np.asarray(base[0, 0])
    y = op.forward(scalar)
    assert y.shape == () and y.dtype == np.float32
    assert op.backward(scalar if op.saves == "x" else y, np.asarray(np.float32(1))).shape == ()


def test_neg_and_sign():
    x = np.array([[-2.0, -0.0, 0.0, 3.5, np.nan]], dtype=np.float32)
    np.testing.assert_array_equal(ew.neg_forward(x), -x)
    np.testing.assert_array_equal(ew.neg_backward(x), -x)
    np.testing.assert_array_equal(ew.sign_forward(x), [[-1, 0, 0, 1, 0]])   # torch: sign(nan) = 0
    g = ew.sign_backward(x)
    assert g.shape == x.shape and g.dtype == x.dtype and not g.any()


def test_float_params_do_not_upcast():
    x = np.linspace(-2, 2, 9, dtype=np.float32)
    for y in (ew.leaky_relu_forward(x, 0.1), ew.elu_forward(x, 0.3), ew.clamp_forward(x, -1, 1),
              ew.pow_scalar_forward(x, 2), ew.add_scalar_forward(x, 0.1),
              ew.mul_scalar_forward(x, 3), ew.softplus_forward(x, 2, 1)):
        assert y.dtype == np.float32
    # x * 0.1 in float32 arithmetic, not float64 rounded afterwards
    np.testing.assert_array_equal(ew.mul_scalar_forward(x, 0.1), x * np.float32(0.1))


def test_bad_input_names_the_op():
    with pytest.raises(TypeError, match="exp"):
        ew.exp_forward(np.arange(3))
    with pytest.raises(ValueError, match="add"):
        ew.add_forward(np.ones((2, 3)), np.ones((4,)))
    with pytest.raises(TypeError, match="mul"):
        ew.mul_forward(np.ones(3, np.float32), np.ones(3))
    with pytest.raises(ValueError, match="gelu"):
        ew.gelu_forward(np.ones(3), approximate="erf")
    with pytest.raises(ValueError, match="compare"):
        ew.compare("lte", np.ones(3), np.ones(3))


# PyTorch's conventions at kinks and ties

def test_unary_kinks_match_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = np.array([-7.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 7.0])
    cases = [
        ("abs", torch.abs, {}),
        ("relu", F.relu, {}),
        ("leaky_relu", lambda t: F.leaky_relu(t, 0.1), {"negative_slope": 0.1}),
        ("relu6", F.relu6, {}),
        ("elu", lambda t: F.elu(t, 0.7), {"alpha": 0.7}),
        ("selu", F.selu, {}),
        ("hardsigmoid", F.hardsigmoid, {}),
        ("hardtanh", lambda t: F.hardtanh(t, -1.0, 2.0), {"min_val": -1.0, "max_val": 2.0}),
        ("clamp", lambda t: torch.clamp(t, -1.0, 2.0), {"min": -1.0, "max": 2.0}),
        ("clamp", lambda t: torch.clamp(t, min=0.5), {"min": 0.5}),
        ("softplus", lambda t: F.softplus(t, 2.0, 1.0), {"beta": 2.0, "threshold": 1.0}),
        ("gelu", F.gelu, {}),
        ("gelu", lambda t: F.gelu(t, approximate="tanh"), {"approximate": "tanh"}),
        ("silu", F.silu, {}),
        ("pow_scalar", lambda t: torch.pow(t, 2.0), {"exponent": 2.0}),
        ("pow_scalar", lambda t: torch.pow(t, 0.0), {"exponent": 0.0}),
    ]
    saves_y = {"relu"}
    rng = np.random.default_rng(4)
    for dtype in DTYPES:
        xd = x.astype(dtype)
        grad = rng.standard_normal(x.shape).astype(dtype)
        for name, tfn, kw in cases:
            t = torch.tensor(xd, requires_grad=True)
            ty = tfn(t)
            ty.backward(torch.tensor(grad))
            y = getattr(ew, f"{name}_forward")(xd, **kw)
            saved = y if name in saves_y else xd
            g = getattr(ew, f"{name}_backward")(saved, grad, **kw)
            tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10)
            np.testing.assert_allclose(y, ty.detach().numpy(), **tol, err_msg=f"{name} {kw}")
            np.testing.assert_allclose(g, t.grad.numpy(), **tol, err_msg=f"{name}' {kw}")


def test_binary_ties_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0, 3.0, 0.0, 0.0, -1.0]])
    b = np.array([[1.0], [2.5]]) * np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    b[1, 3] = 0.0
    a2 = np.array([[0.0, 0.0, 2.0, 0.0, 1.0, 4.0]])
    e2 = np.array([[0.0, 1.5, 0.0, -1.0, 2.0, 0.5]])
    grad = np.random.default_rng(5).standard_normal((2, 6))
    cases = [
        ("maximum", torch.maximum, a, b), ("minimum", torch.minimum, a, b),
        ("pow", torch.pow, a2, e2),
    ]
    for name, tfn, u, v in cases:
        tu = torch.tensor(u, requires_grad=True)
        tv = torch.tensor(v, requires_grad=True)
        out = tfn(tu, tv)
        g = grad[: out.shape[0]]
        out.backward(torch.tensor(g))
        y = getattr(ew, f"{name}_forward")(u, v)
        np.testing.assert_allclose(y, out.detach().numpy())
        if name == "pow":
            ga, gb = ew.pow_backward_a(u, v, g), ew.pow_backward_b(u, v, y, g)
        else:
            ga = getattr(ew, f"{name}_backward_a")(u, v, g)
            gb = getattr(ew, f"{name}_backward_b")(u, v, g)
        np.testing.assert_allclose(_sum_to(ga, u.shape), tu.grad.numpy(), err_msg=name)
        np.testing.assert_allclose(_sum_to(gb, v.shape), tv.grad.numpy(), err_msg=name)


# binary ops and broadcasting

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((), ()),
    ((0, 3), (3,)),
    ((3, 4), ()),
    ((), (2, 3)),
    ((3, 4), (4,)),
    ((3, 4), (3, 1)),
    ((1, 4), (3, 1)),
    ((2, 3, 4, 5), (3, 1, 1)),        # bias over channels, 4-D
    ((2, 3, 4, 5), (1, 3, 1, 5)),
    ((2, 1, 4, 1), (1, 3, 1, 5)),     # collapses to 4 groups: the materializing path
    ((5,), (2, 3, 1, 5)),
    ((1, 5), (5,)),
]
PAIR_IDS = [f"{a}-{b}" for a, b in BROADCAST_PAIRS]

BINARY = {
    "add": (ew.add_forward, np.add, (-2, 2), (-2, 2)),
    "sub": (ew.sub_forward, np.subtract, (-2, 2), (-2, 2)),
    "mul": (ew.mul_forward, np.multiply, (-2, 2), (-2, 2)),
    "div": (ew.div_forward, np.divide, (-2, 2), (0.5, 2)),
    "pow": (ew.pow_forward, np.power, (0.5, 2), (-2, 2)),
    "maximum": (ew.maximum_forward, np.maximum, (-2, 2), (-2, 2)),
    "minimum": (ew.minimum_forward, np.minimum, (-2, 2), (-2, 2)),
}


def _sum_to(grad, shape):
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def _pair(rng, name, shapes, dtype):
    (alo, ahi), (blo, bhi) = BINARY[name][2], BINARY[name][3]
    a = rng.uniform(alo, ahi, shapes[0]).astype(dtype)
    b = rng.uniform(blo, bhi, shapes[1]).astype(dtype)
    return a, b


def _binary_grads(name, a, b, grad):
    if name == "add":
        return grad, grad
    if name == "sub":
        return grad, ew.neg_backward(grad)
    if name == "mul":
        return ew.mul_backward_a(b, grad), ew.mul_backward_b(a, grad)
    if name == "div":
        return ew.div_backward_a(b, grad), ew.div_backward_b(a, b, grad)
    if name == "pow":
        y = ew.pow_forward(a, b)
        return ew.pow_backward_a(a, b, grad), ew.pow_backward_b(a, b, y, grad)
    fa = getattr(ew, f"{name}_backward_a")
    fb = getattr(ew, f"{name}_backward_b")
    return fa(a, b, grad), fb(a, b, grad)


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_matches_numpy(name, shapes):
    rng = np.random.default_rng(6)
    fwd, ref = BINARY[name][:2]
    for dtype in DTYPES:
        a, b = _pair(rng, name, shapes, dtype)
        out = fwd(a, b)
        want = ref(a, b)
        assert out.shape == want.shape and out.dtype == dtype and out.flags.c_contiguous
        np.testing.assert_allclose(out, want, rtol=_rtol(dtype))


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_backward_matches_finite_differences(name, shapes):
    rng = np.random.default_rng(7)
    fwd = BINARY[name][0]
    a, b = _pair(rng, name, shapes, np.float64)
    if name in ("maximum", "minimum"):                   # keep away from ties
        b = np.where(np.abs(a - b) < 1e-3, b + 0.01, b) if a.shape == b.shape else b
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    grad = rng.standard_normal(out_shape)
    ga, gb = _binary_grads(name, a, b, grad)
    assert ga.shape == out_shape and gb.shape == out_shape
    h = 1e-6
    for x, g_bcast, which in ((a, ga, 0), (b, gb, 1)):
        numeric = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += h
            xm[idx] -= h
            args_p = (xp, b) if which == 0 else (a, xp)
            args_m = (xm, b) if which == 0 else (a, xm)
            numeric[idx] = np.sum(grad * (fwd(*args_p) - fwd(*args_m))) / (2 * h)
        analytic = _sum_to(g_bcast, x.shape)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{name} input {which}")


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_strided_operands(name):
    rng = np.random.default_rng(8)
    fwd, ref = BINARY[name][:2]
    a, b = _pair(rng, name, ((6, 10), (10, 6)), np.float32)
    av, bv = a[::2, ::3], b[::3, ::2].T                  # (3, 4) views
    np.testing.assert_allclose(fwd(av, bv), ref(av, bv), rtol=_rtol(np.float32))
    np.testing.assert_allclose(fwd(av, bv[:1]), ref(av, bv[:1]), rtol=_rtol(np.float32))
    grad = rng.standard_normal((4, 3)).astype(np.float32).T
    ga, gb = _binary_grads(name, av, bv, grad)
    ca, cb = _binary_grads(name, av.copy(), bv.copy(), grad.copy())
    np.testing.assert_array_equal(ga, ca)
    np.testing.assert_array_equal(gb, cb)


def test_binary_backward_grad_shape_is_checked():
    with pytest.raises(ValueError, match="div"):
        ew.div_backward_b(np.ones((3, 1)), np.ones(4), np.ones((3, 5)))


# scalar operands, where, compare, accumulate

SCALAR_CASES = [
    ("add_scalar", lambda x, s: x + s, 0.3),
    ("mul_scalar", lambda x, s: x * s, -1.7),
    ("rsub_scalar", lambda x, s: s - x, 2.5),
    ("rdiv_scalar", lambda x, s: s / x, 1.5),
    ("rpow_scalar", lambda x, s: s**x, 1.7),
    ("rpow_scalar", lambda x, s: s**x, 2),
]


@pytest.mark.parametrize("name, ref, s", SCALAR_CASES, ids=[f"{c[0]}-{c[2]}" for c in SCALAR_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scalar_forward(name, ref, s, dtype):
    rng = np.random.default_rng(9)
    fwd = getattr(ew, f"{name}_forward")
    for shape in SHAPES:
        x = rng.uniform(0.5, 2.0, shape).astype(dtype)
        y = fwd(x, s)
        assert y.shape == shape and y.dtype == dtype
        np.testing.assert_allclose(y, ref(x.astype(np.float64), s), rtol=4 * _rtol(dtype))


def test_scalar_backward_finite_differences():
    rng = np.random.default_rng(10)
    x = rng.uniform(0.5, 2.0, (3, 4))
    grad = rng.standard_normal(x.shape)
    h = 1e-6

    def numeric(f):
        return grad * (f(x + h) - f(x - h)) / (2 * h)

    checks = [
        (numeric(lambda t: t * -1.7), ew.mul_scalar_backward(grad, -1.7)),
        (numeric(lambda t: 2.5 - t), ew.neg_backward(grad)),
        (numeric(lambda t: 1.5 / t), ew.rdiv_scalar_backward(x, ew.rdiv_scalar_forward(x, 1.5),
                                                             grad)),
        (numeric(lambda t: 1.7**t), ew.rpow_scalar_backward(x, ew.rpow_scalar_forward(x, 1.7),
                                                            grad, 1.7)),
    ]
    for want, got in checks:
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_rpow_scalar_zero_base_matches_torch_convention():
    x = np.array([-1.0, 0.0, 2.0])
    y = ew.rpow_scalar_forward(x, 0.0)
    np.testing.assert_array_equal(y, [np.inf, 1.0, 0.0])
    g = ew.rpow_scalar_backward(x, y, np.ones(3), 0.0)
    assert g[1] == 0.0 and g[2] == 0.0 and g[0] == -np.inf


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()),
                                    ((2, 3, 4, 5), (3, 1, 5), (1, 5)), ((), (0,), ()),
                                    ((), (), ()), ((), (1,), ())])
@pytest.mark.parametrize("dtype", DTYPES)
def test_where(shapes, dtype):
    rng = np.random.default_rng(11)
    cond = rng.random(shapes[0]) > 0.5
    a = rng.standard_normal(shapes[1]).astype(dtype)
    b = rng.standard_normal(shapes[2]).astype(dtype)
    out = ew.where_forward(cond, a, b)
    want = np.where(cond, a, b)
    assert out.shape == want.shape and out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, want)
    grad = rng.standard_normal(want.shape).astype(dtype)
    ga, gb = ew.where_backward_a(cond, grad), ew.where_backward_b(cond, grad)
    assert ga.shape == gb.shape == want.shape and ga.dtype == dtype
    np.testing.assert_array_equal(ga, np.where(cond, grad, 0))
    np.testing.assert_array_equal(gb, np.where(cond, 0, grad))
    np.testing.assert_array_equal(ga + gb, grad)


def test_compare_and_accumulate():
    a = np.array([[1.0, 2.0, np.nan]], np.float32)
    b = np.array([[1.0], [3.0]], np.float32)
    for op, ufunc in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
        got = ew.compare(op, a, b)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, ufunc(a, b))
        np.testing.assert_array_equal(ew.compare(op, a, 2.0), ufunc(a, 2.0))
    zero_d = ew.compare("lt", np.array(1.0), np.array(2.0))
    assert zero_d.shape == () and zero_d
    fortran = np.asfortranarray(np.ones((3, 4)))
    assert ew.compare("eq", fortran, fortran).flags.c_contiguous
    x = np.ones((2, 3), np.float32)
    y = np.arange(6, dtype=np.float32).reshape(2, 3)
    s = ew.accumulate(x, y)
    np.testing.assert_array_equal(s, x + y)
    assert s is not x and s is not y and x[0, 0] == 1.0
    np.testing.assert_array_equal(ew.accumulate(np.ones(()), np.ones(())), 2.0)


# float32 accuracy of the vectorized transcendentals over their whole range

def _ulp_error(got, want):
    """|got - want| in units of float32 spacing at want (0 where both overflow to inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        want32 = want.astype(np.float32)
        ulp = np.spacing(np.abs(want32)).astype(np.float64)
        err = np.abs(got.astype(np.float64) - want) / ulp
    return np.where(np.isinf(want32) & (got == want32), 0.0, err)


@pytest.mark.parametrize("name, ref, lo, hi, max_ulp, max_abs", [
    ("exp", np.exp, -104.0, 89.0, 1, 0),
    ("expm1", np.expm1, -20.0, 89.0, 2, 0),
    ("log", np.log, 1e-44, 3e38, 1, 0),
    ("log1p", np.log1p, -0.999, 1e10, 3, 0),
    ("tanh", np.tanh, -10.0, 10.0, 5, 0),
    ("sigmoid", _sigmoid, -100.0, 30.0, 3, 0),
    ("softplus", lambda x: np.logaddexp(0.0, x), -100.0, 30.0, 3, 0),
    ("silu", lambda x: x * _sigmoid(x), -80.0, 30.0, 4, 0),     # below: denormal products
    # near the zeros of sin and cos the absolute error of the argument reduction dominates
    ("sin", np.sin, -8192.0, 8192.0, 2, 1.5e-7),
    ("cos", np.cos, -8192.0, 8192.0, 2, 1.5e-7),
    ("sin", np.sin, -1e6, 1e6, 2, 1.5e-7),        # beyond the fast reduction: libm
    ("gelu", lambda x: 0.5 * x * (1 + _ERF(x / math.sqrt(2))), -10.0, 10.0, 6, 2e-6),
])
def test_float32_transcendental_accuracy(name, ref, lo, hi, max_ulp, max_abs):
    rng = np.random.default_rng(12)
    if lo > 0:
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 200_000))
    else:
        tiny = rng.uniform(-1, 1, 50_000) * np.exp(rng.uniform(-80, 0, 50_000))
        x = np.concatenate([rng.uniform(lo, hi, 100_000), rng.uniform(-1, 1, 50_000), tiny])
    x = x.astype(np.float32)
    got = getattr(ew, f"{name}_forward")(x)
    want = ref(x.astype(np.float64))
    err = _ulp_error(got, want)
    ok = (err <= max_ulp) | (np.abs(got - want) <= max_abs)
    worst = np.argmax(np.where(ok, 0, err))
    assert ok.all(), f"{name}: {err[worst]:.2f} ulp at x={x[worst]!r}"


@pytest.mark.parametrize("name", ["exp", "expm1", "log", "log1p", "tanh", "sigmoid", "softplus",
                                  "silu", "elu", "selu", "gelu", "sin", "cos"])
def test_float32_special_values(name):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 100.0, -100.0, 1e-30, -1e-30,
                  3.4e38, -3.4e38], np.float32)
    fwd = getattr(ew, f"{name}_forward")
    with np.errstate(all="ignore"):
        want = fwd(x.astype(np.float64)).astype(np.float32)
    got = fwd(x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-37, err_msg=name)
    assert np.array_equal(np.signbit(got[np.isfinite(got) & (got == 0)]),
                          np.signbit(want[np.isfinite(got) & (got == 0)]))


@pytest.mark.parametrize("exponent", [2.5, -1.5, 1 / 3, 4.0, -3.0, 13.7])
def test_float32_pow_scalar_accuracy(exponent):
    rng = np.random.default_rng(13)
    x = np.concatenate([np.exp(rng.uniform(-15, 15, 100_000)), rng.uniform(-3, 3, 50_000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, -2.0, 1.0]])
    x = x.astype(np.float32)
    got = ew.pow_scalar_forward(x, exponent)
    with np.errstate(all="ignore"):
        want = np.power(x.astype(np.float64), float(np.float32(exponent)))
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    assert _ulp_error(got[finite], want[finite]).max() <= 1


def test_float32_pow_accuracy():
    # positive bases across the whole range, negative bases with whole exponents, and
    # exponents up to the overflow limit; the error bound grows with |b ln a| (the rounding of
    # ln a is scaled by b)
    rng = np.random.default_rng(15)
    n = 400_000
    a = np.where(rng.random(n) < 0.5, 2.0 ** rng.uniform(-126, 127, n), rng.uniform(0.3, 3, n))
    ln_a = np.log(a)
    b = rng.uniform(0, 88, n) / np.maximum(np.abs(ln_a), 1e-30) * rng.choice([-1, 1], n)
    b = np.where(rng.random(n) < 0.5, rng.uniform(-10, 10, n), b)
    b = np.where(rng.random(n) < 0.2, np.round(b), b).astype(np.float32)
    a = (a * np.where(rng.random(n) < 0.2, -1, 1)).astype(np.float32)
    got = ew.pow_forward(a, b)
    with np.errstate(all="ignore"):
        want = np.power(a.astype(np.float64), b.astype(np.float64))
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    err = _ulp_error(got[finite], want[finite])
    y = np.abs(b.astype(np.float64) * np.log(np.abs(a.astype(np.float64))))[finite]
    assert err[y <= 1].max() <= 1
    assert err[y <= 10].max() <= 1.5
    assert err.max() <= 8


def test_float32_pow_special_values():
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 1e-40, -1e-40,
                  3.4e38, 1e-30], np.float32)
    a, b = np.meshgrid(v, np.concatenate([v, np.float32([3.0, -3.0, 2.5, 200.0, -200.0])]))
    a, b = a.ravel(), b.ravel()
    got = ew.pow_forward(a, b)
    with np.errstate(all="ignore"):
        want = np.power(a, b)
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=0)
    assert np.array_equal(np.signbit(got[got == 0]), np.signbit(want[got == 0]))
    # the broadcasting loop takes the same paths
    got = ew.pow_forward(v[:, None], np.float32([0.0, 2.5, -3.0, np.nan, np.inf])[None, :])
    with np.errstate(all="ignore"):
        want = np.power(v[:, None], np.float32([0.0, 2.5, -3.0, np.nan, np.inf])[None, :])
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=0)


@pytest.mark.parametrize("base", [1.7, 10.0, 0.3])
def test_float32_rpow_scalar_accuracy(base):
    rng = np.random.default_rng(14)
    x = np.concatenate([rng.uniform(-40, 40, 100_000), rng.uniform(-1, 1, 50_000)])
    x = x.astype(np.float32)
    got = ew.rpow_scalar_forward(x, base)
    with np.errstate(all="ignore"):
        want = np.power(float(np.float32(base)), x.astype(np.float64))   # as PyTorch
    assert _ulp_error(got, want).max() <= 1
