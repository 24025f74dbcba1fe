"""Every layer against the PyTorch layer of the same name with the same weights: forward,
the input gradient and every parameter gradient, in float32 and float64."""
import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F


def _relative(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _compare(ours, theirs, x, torch, dtype="float32", integer_input=False):
    """Copy theirs' weights into ours, then check forward and backward against a random
    cotangent."""
    tol = 1e-5 if dtype == "float32" else 1e-10
    if dtype == "float64":
        ours.double()
        theirs.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    if integer_input:
        x_ours, x_theirs = ag.tensor(x), torch.tensor(x)
    else:
        x = x.astype(dtype)
        x_ours = ag.tensor(x, requires_grad=True)
        x_theirs = torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert out_ours.shape == tuple(out_theirs.shape)
    assert out_ours.dtype == np.dtype(dtype)
    assert _relative(out_ours.data, out_theirs.detach().numpy()) <= tol, "forward"
    grad = np.random.default_rng(1).standard_normal(out_ours.shape).astype(dtype)
    out_ours.backward(grad)
    out_theirs.backward(torch.tensor(grad))
    if not integer_input:
        assert _relative(x_ours.grad.data, x_theirs.grad.numpy()) <= tol, "input gradient"
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, f"{name}: no gradient"
        assert p.grad.dtype == np.dtype(dtype)
        assert _relative(p.grad.data, theirs_params[name].grad.numpy()) <= tol, name


def _x(*shape, low=-2.0, high=2.0):
    return np.random.default_rng(0).uniform(low, high, shape)


DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(torch, dtype, bias):
    _compare(nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias), _x(4, 5), torch,
             dtype)
    _compare(nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias), _x(2, 4, 5), torch,
             dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_sequential(torch, dtype):
    ours = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(),
                         nn.Linear(8, 3), nn.LogSoftmax(dim=1))
    t = torch.nn
    theirs = t.Sequential(t.Flatten(), t.Linear(12, 8), t.ReLU(), t.Linear(8, 8), t.Tanh(),
                          t.Linear(8, 3), t.LogSoftmax(dim=1))
    _compare(ours, theirs, _x(5, 3, 4), torch, dtype)


ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {"alpha": 0.7}),
    ("SELU", (), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}), ("Hardsigmoid", (), {}), ("Hardtanh", (-0.5, 1.5), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 3.0}), ("PReLU", (), {}),
    ("PReLU", (4,), {"init": 0.1})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS,
                         ids=[f"{n}{a}{k}" for n, a, k in ACTIVATIONS])
def test_activation(torch, dtype, name, args, kwargs):
    x = _x(3, 4, 5)
    x[np.abs(x) < 0.05] = 0.3                     # keep finite differences off the kinks
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs),
             x, torch, dtype)


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU", "Hardtanh", "SiLU"])
def test_inplace_activation(torch, name):
    x = ag.tensor(_x(3, 4).astype(np.float32))
    expected = getattr(nn, name)()(x).data.copy()
    out = getattr(nn, name)(inplace=True)(x)
    assert out is x
    np.testing.assert_array_equal(x.data, expected)


def test_softmax_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="implicit dimension"):
        out = nn.Softmax()(ag.ones(2, 3))
    np.testing.assert_allclose(out.data, np.full((2, 3), 1 / 3), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding(torch, dtype):
    ids = np.array([[1, 3, 0], [3, 3, 9]])
    _compare(nn.Embedding(10, 4), torch.nn.Embedding(10, 4), ids, torch, dtype,
             integer_input=True)
    _compare(nn.Embedding(10, 4, padding_idx=3), torch.nn.Embedding(10, 4, padding_idx=3),
             ids, torch, dtype, integer_input=True)


def test_embedding_from_pretrained(torch):
    weights = ag.tensor(_x(5, 2).astype(np.float32))
    frozen = nn.Embedding.from_pretrained(weights)
    assert not frozen.weight.requires_grad and frozen.weight.data is weights.data
    out = frozen(ag.tensor([4, 0]))
    np.testing.assert_array_equal(out.data, weights.data[[4, 0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout(torch, dtype):
    ours = nn.Maxout(6, 4, pool_size=3)
    theirs = torch.nn.Linear(6, 12)

    class TorchMaxout(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight, self.bias = theirs.weight, theirs.bias

        def forward(self, x):
            y = torch.nn.functional.linear(x, self.weight, self.bias)
            return y.unflatten(-1, (4, 3)).max(-1).values

    _compare(ours, TorchMaxout(), _x(5, 6), torch, dtype)


def test_dropout_train_and_eval():
    ag.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = ag.tensor(np.ones((200, 100), np.float32), requires_grad=True)
    y = layer(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)
    y.backward(np.full(y.shape, 2.0, np.float32))
    np.testing.assert_allclose(x.grad.data, np.where(kept, 2 / 0.75, 0), rtol=1e-6)
    ag.manual_seed(0)
    np.testing.assert_array_equal(nn.Dropout(0.25)(x).data, y.data)     # seeded
    layer.eval()
    assert layer(x) is x
    assert not np.any(nn.Dropout(1.0)(x).data)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_functional_forms_match_layers():
    x = ag.tensor(_x(4, 6).astype(np.float32))
    lin = nn.Linear(6, 2)
    np.testing.assert_array_equal(F.linear(x, lin.weight, lin.bias).data, lin(x).data)
    np.testing.assert_array_equal(F.relu(x).data, nn.ReLU()(x).data)
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).data, x.data)
    assert F.unflatten(x, 1, (2, 3)).shape == (4, 2, 3)
    assert callable(F.cross_entropy) and callable(F.embedding)
