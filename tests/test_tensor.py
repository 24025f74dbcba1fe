"""Tensor basics: factories, dtypes and promotion, conversions, metadata."""
import numpy as np
import pytest

import autograd as ag


def test_default_dtypes_follow_pytorch():
    assert ag.tensor([1.0, 2.0]).dtype == ag.float32
    assert ag.tensor([1, 2]).dtype == ag.int64
    assert ag.tensor([True]).dtype == ag.bool
    assert ag.tensor(np.ones(2)).dtype == ag.float64          # numpy arrays keep float64
    assert ag.tensor(np.ones(2, np.int32)).dtype == ag.int64
    assert ag.zeros(2, 3).dtype == ag.float32
    assert ag.arange(5).dtype == ag.int64
    assert ag.arange(0.0, 1.0, 0.25).dtype == ag.float32
    assert ag.full((2,), 7).dtype == ag.int64


def test_python_scalars_never_upcast_float32():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for y in (x + 1.5, 2.5 * x, x / 3.0, 1.0 - x, 2.0 / x, x ** 2.0, 2.0 ** x, x * 2):
        assert y.dtype == ag.float32


def test_gradients_come_back_in_the_input_dtype():
    x32 = ag.tensor([1.0, 2.0], requires_grad=True)
    x64 = ag.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = x32 * x64                                 # promotes to float64, like PyTorch
    assert y.dtype == ag.float64
    y.backward(np.ones(2))
    assert x32.grad.dtype == ag.float32 and x64.grad.dtype == ag.float64
    np.testing.assert_allclose(x32.grad.data, [3.0, 4.0])


def test_integer_tensors_promote_to_float_when_needed():
    i = ag.tensor([1, 2, 3])
    assert (i + 1).dtype == ag.int64
    assert (i * 2.5).dtype == ag.float32
    assert (i / 2).dtype == ag.float32
    assert i.exp().dtype == ag.float32
    assert (i + ag.tensor([0.5, 0.5, 0.5])).dtype == ag.float32


def test_conversions():
    x = ag.tensor([1.7, -2.2], requires_grad=True)
    assert x.double().dtype == ag.float64
    assert x.long().tolist() == [1, -2]
    assert x.to(ag.float64).dtype == ag.float64
    assert x.to("float64").dtype == ag.float64
    assert x.to("cpu") is x
    y = x.double() * 2.0
    y.backward(np.ones(2))
    assert x.grad.dtype == ag.float32
    assert x.float() is x


def test_metadata_and_python_protocols():
    x = ag.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(1) == 3
    assert x.numel() == 6 and len(x) == 2 and x.dim() == 2
    assert ag.tensor([2.5]).item() == 2.5 and float(ag.tensor(2.5)) == 2.5
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.asarray(x).shape == (2, 3)
    with pytest.raises(ValueError, match="item"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ag.tensor([1.0, 2.0]))
    assert x.is_leaf and not x.requires_grad


def test_detach_shares_memory_and_cuts_the_tape():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.data, y.data)
    with pytest.raises(RuntimeError, match="detach"):
        y.numpy()
    assert d.numpy() is d.data


def test_factories():
    ag.manual_seed(3)
    a = ag.randn(2, 3)
    ag.manual_seed(3)
    b = ag.randn((2, 3))
    np.testing.assert_array_equal(a.data, b.data)
    assert ag.rand(4).data.min() >= 0 and ag.rand(4).data.max() < 1
    r = ag.randint(0, 5, (100,))
    assert r.dtype == ag.int64 and r.data.min() >= 0 and r.data.max() < 5
    assert ag.eye(3).data.trace() == 3
    assert ag.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ag.zeros_like(a).shape == (2, 3) and ag.ones_like(a).data.sum() == 6
    assert ag.full_like(a, 2.0).data.sum() == 12
    assert ag.randn_like(a).shape == (2, 3) and ag.rand_like(a).dtype == ag.float32
    assert ag.empty(2, 2).shape == (2, 2)
    assert ag.zeros(2, requires_grad=True).requires_grad
    t = ag.ones(2, dtype=ag.float64)
    assert t.dtype == ag.float64


def test_from_numpy_shares_memory():
    array = np.zeros(3, np.float32)
    t = ag.from_numpy(array)
    array[0] = 5
    assert t.data[0] == 5
