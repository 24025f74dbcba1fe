"""The conv, pool and norm layers against PyTorch's, with the torch layer's state_dict loaded
into ours: forward, input gradient and parameter gradients in float32 and float64, running
statistics, default initialisation, and PyTorch's argument names and weight shapes."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def _relative(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _pair(name, args, kwargs, dtype):
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, name)(*args, **kwargs).to(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _compare(ours, theirs, x, dtype, calls=1, tol=None):
    """Run both modules `calls` times on x (and a random cotangent); compare the outputs,
    the input gradient, every parameter gradient and the buffers."""
    tol = tol or {"float32": 2e-5, "float64": 1e-10}[dtype]
    rng = np.random.default_rng(1)
    for _ in range(calls):
        xo = ag.tensor(x.astype(dtype), requires_grad=True)
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        if isinstance(yo, tuple):
            np.testing.assert_array_equal(yo[1].data, yt[1].numpy())
            yo, yt = yo[0], yt[0]
        assert yo.shape == tuple(yt.shape)
        assert yo.data.dtype == np.dtype(dtype)
        assert _relative(yo.data, yt.detach().numpy()) <= tol
        g = rng.standard_normal(yo.shape).astype(dtype)
        yo.backward(ag.tensor(g))
        yt.backward(torch.tensor(g))
        assert _relative(xo.grad.data, xt.grad.numpy()) <= tol
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        assert p.shape == tuple(tp.shape)
        assert _relative(p.grad.data, tp.grad.numpy()) <= tol, name
    for (name, b), (tname, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert name == tname
        assert _relative(b.data, tb.numpy()) <= tol, name


CASES = [
    ("Conv2d", (3, 4, 3), {}, (2, 3, 7, 7)),
    ("Conv2d", (3, 6, (3, 2)), {"stride": 2, "padding": 1, "dilation": (1, 2), "groups": 3},
     (2, 3, 8, 9)),
    ("Conv2d", (4, 4, 3), {"padding": "same", "groups": 4, "bias": False}, (2, 4, 6, 6)),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, (2, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), {"padding": (1, 2), "padding_mode": "circular"}, (2, 2, 5, 6)),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "replicate"}, (2, 2, 5, 5)),
    ("Conv1d", (3, 5, 3), {"stride": 2, "padding": 2, "dilation": 2}, (2, 3, 11)),
    ("Conv1d", (2, 4, 4), {"padding": "same"}, (3, 2, 9)),
    ("ConvTranspose2d", (4, 3, 4), {"stride": 2, "padding": 1}, (2, 4, 5, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "output_padding": 1, "groups": 2,
                                    "bias": False}, (2, 4, 4, 3)),
    ("ConvTranspose1d", (3, 2, 3), {"stride": 3, "padding": 1, "dilation": 2}, (2, 3, 6)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 8, 7)),
    ("MaxPool2d", (2,), {"return_indices": True}, (2, 3, 6, 6)),
    ("MaxPool1d", (3,), {"stride": 2, "dilation": 2}, (2, 3, 12)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 7, 7)),
    ("AvgPool2d", (2,), {"ceil_mode": True, "divisor_override": 3}, (2, 3, 5, 5)),
    ("AvgPool1d", (2,), {}, (2, 3, 8)),
    ("LPPool2d", (2, 2), {}, (2, 3, 6, 6)),
    ("LPPool1d", (3, 3), {"stride": 2}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", ((2, 3),), {"return_indices": True}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 10)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), {"affine": False, "momentum": None}, (4, 3, 5, 5)),
    ("BatchNorm1d", (4,), {"momentum": 0.3}, (6, 4)),
    ("BatchNorm1d", (4,), {"track_running_stats": False}, (3, 4, 5)),
    ("LayerNorm", (5,), {}, (3, 4, 5)),
    ("LayerNorm", ((4, 5),), {"elementwise_affine": False}, (3, 4, 5)),
    ("LayerNorm", (5,), {"bias": False}, (3, 4, 5)),
    ("GroupNorm", (2, 6), {}, (2, 6, 3, 3)),
    ("GroupNorm", (3, 3), {"affine": False}, (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, args, kwargs, shape", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(name, args, kwargs, shape, dtype):
    ours, theirs = _pair(name, args, kwargs, dtype)
    x = np.random.default_rng(0).uniform(0.2, 2.0, shape)
    if not name.startswith("LP"):
        x -= 1.0
    calls = 3 if name.startswith("BatchNorm") else 1
    _compare(ours, theirs, x, dtype, calls=calls)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batchnorm_eval_after_training(dtype):
    ours, theirs = _pair("BatchNorm2d", (3,), {}, dtype)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 2)) * 2 + 1
        ours(ag.tensor(x.astype(dtype)))
        theirs(torch.tensor(x.astype(dtype)))
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, rng.standard_normal((2, 3, 2, 2)), dtype)
    assert int(ours.num_batches_tracked.data) == 3


def test_conv_transpose_output_size():
    ours, theirs = _pair("ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1}, "float64")
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    yo = ours(ag.tensor(x), output_size=(8, 8))
    yt = theirs(torch.tensor(x), output_size=(8, 8))
    assert yo.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="output_size"):
        ours(ag.tensor(x), output_size=(10, 10))


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv2d", (6, 16, 5), {}), ("Conv2d", (4, 8, 3), {"groups": 2}),
    ("Conv1d", (3, 4, 5), {}), ("ConvTranspose2d", (8, 4, 4), {"groups": 2}),
])
def test_default_init_matches_torch(name, args, kwargs):
    """Weight shapes and PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) range for weight and
    bias, fan_in = weight.shape[1] * prod(kernel)."""
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    shape = theirs.weight.shape
    limit = 1 / np.sqrt(shape[1] * int(np.prod(shape[2:])))
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.shape == tuple(tp.shape), n
        assert p.data.dtype == np.float32
        assert np.abs(p.data).max() <= limit + 1e-7
    w = ours.weight.data
    assert np.abs(w).max() > 0.8 * limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.25 * limit


def test_state_dict_names_match_torch():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.GroupNorm(2, 4),
                          nn.LayerNorm(4), nn.ConvTranspose2d(4, 2, 2, stride=2))
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
                                    torch.nn.GroupNorm(2, 4), torch.nn.LayerNorm(4),
                                    torch.nn.ConvTranspose2d(4, 2, 2, stride=2))
    ours = model.state_dict()
    theirs = reference.state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert ours[k].shape == tuple(theirs[k].shape), k
    model.load_state_dict({k: v.numpy() for k, v in theirs.items()})


def test_dropout2d_drops_whole_channels():
    ag.manual_seed(0)
    layer = nn.Dropout2d(0.5)
    x = ag.ones(64, 8, 3, 3, requires_grad=True)
    y = layer(x)
    per_channel = y.data.reshape(64, 8, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert 0.35 < (per_channel[:, :, 0] == 0).mean() < 0.65
    y.backward(ag.ones(64, 8, 3, 3))
    np.testing.assert_array_equal(x.grad.data, y.data)
    layer.eval()
    assert layer(x) is x


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: nn.BatchNorm2d(3), (4, 3, 5), "expected 4D input"),
    (lambda: nn.BatchNorm1d(3), (4, 5), "expected 3 channels"),
    (lambda: nn.Conv2d(3, 4, 3), (2, 2, 5, 5), "channels"),
    (lambda: nn.Conv2d(3, 4, 5), (2, 3, 3, 3), "smaller than the dilated kernel"),
    (lambda: nn.MaxPool2d(3, padding=2), (1, 1, 6, 6), "at most half"),
    (lambda: nn.GroupNorm(2, 4), (2, 3, 5), r"expected \(N, 4, \*\)"),
    (lambda: nn.LayerNorm(4), (2, 5), "normalized_shape"),
])
def test_bad_input_names_the_layer(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer()(ag.zeros(*shape))


def test_bad_construction():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout2d(1.5)
