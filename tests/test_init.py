"""nn.init: the statistics of every initialiser, the gains against PyTorch's, seeding, and
the default initialisation of the layers against PyTorch's layers."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init

SHAPE = (256, 512)          # fan_in 512, fan_out 256: 131k samples, so statistics are tight


def _empty(shape=SHAPE, dtype=ag.float32):
    return nn.Parameter(ag.empty(*shape, dtype=dtype))


@pytest.mark.parametrize("name, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_uniform_normal_constant():
    w = _empty()
    assert init.uniform_(w, -2.0, 3.0) is w
    assert w.data.min() >= -2.0 and w.data.max() < 3.0
    assert w.data.mean() == pytest.approx(0.5, abs=0.02)
    assert w.data.std() == pytest.approx(5 / math.sqrt(12), rel=0.01)
    init.normal_(w, 1.0, 0.5)
    assert w.data.mean() == pytest.approx(1.0, abs=0.01)
    assert w.data.std() == pytest.approx(0.5, rel=0.01)
    init.constant_(w, 0.3)
    assert np.all(w.data == np.float32(0.3))
    init.zeros_(w)
    assert not w.data.any()
    init.ones_(w)
    assert np.all(w.data == 1)
    assert w.dtype == np.float32 and w.requires_grad


def test_xavier():
    w = _empty()
    bound = math.sqrt(6 / (512 + 256))
    init.xavier_uniform_(w, gain=2.0)
    assert np.abs(w.data).max() <= 2 * bound
    assert w.data.std() == pytest.approx(2 * bound / math.sqrt(3), rel=0.01)
    init.xavier_normal_(w)
    assert w.data.std() == pytest.approx(math.sqrt(2 / (512 + 256)), rel=0.01)


@pytest.mark.parametrize("mode, fan", [("fan_in", 512 * 9), ("fan_out", 256 * 9)])
def test_kaiming(mode, fan):
    w = _empty((256, 512, 3, 3))
    init.kaiming_uniform_(w, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(w.data).max() <= bound
    assert w.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    init.kaiming_normal_(w, a=0.1, mode=mode)
    assert w.data.std() == pytest.approx(math.sqrt(2 / (1 + 0.01)) / math.sqrt(fan), rel=0.01)
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(w, mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    w = _empty(shape, ag.float64)
    init.orthogonal_(w, gain=1.5)
    flat = w.data.reshape(shape[0], -1) / 1.5
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-12)


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(nn.Parameter(ag.empty(5)))


def test_seeded_reproducibility_and_own_generator():
    ag.manual_seed(42)
    a = nn.Linear(20, 10).weight.data.copy()
    ag.manual_seed(42)
    b = nn.Linear(20, 10).weight.data.copy()
    np.testing.assert_array_equal(a, b)
    c = nn.Linear(20, 10).weight.data
    assert not np.array_equal(a, c)
    w1, w2 = _empty((3, 4)), _empty((3, 4))
    init.normal_(w1, generator=np.random.default_rng(5))
    init.normal_(w2, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(w1.data, w2.data)


def _stats(array):
    array = np.asarray(array, dtype=np.float64)
    return np.abs(array).max(), array.mean(), array.std()


def test_linear_default_init_matches_torch(torch):
    ours = nn.Linear(512, 300)
    theirs = torch.nn.Linear(512, 300)
    o_max, o_mean, o_std = _stats(ours.weight.data)
    t_max, t_mean, t_std = _stats(theirs.weight.detach().numpy())
    bound = 1 / math.sqrt(512)
    assert o_max <= bound and t_max <= bound and o_max == pytest.approx(t_max, rel=1e-3)
    assert o_std == pytest.approx(t_std, rel=0.02) and abs(o_mean) < 1e-3
    assert np.abs(ours.bias.data).max() <= bound
    assert ours.weight.dtype == np.float32 and ours.bias.dtype == np.float32


def test_embedding_and_prelu_default_init_match_torch(torch):
    ours, theirs = nn.Embedding(1000, 64, padding_idx=3), torch.nn.Embedding(1000, 64,
                                                                             padding_idx=3)
    assert _stats(ours.weight.data)[2] == pytest.approx(
        _stats(theirs.weight.detach().numpy())[2], rel=0.02)
    assert not ours.weight.data[3].any()
    np.testing.assert_array_equal(nn.PReLU(4).weight.data,
                                  torch.nn.PReLU(4).weight.detach().numpy())


def test_init_rejects_integer_tensors():
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(ag.zeros(3, dtype=ag.int64))
