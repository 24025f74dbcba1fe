"""The tape: ordering, accumulation, freeing, errors, hooks, grad modes, memory."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import Function
from autograd.sparse import RowSparse


def _leaf(values, dtype=np.float64):
    return ag.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_long_chain_is_iterative():
    x = _leaf([0.5])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward(np.ones(1))
    assert x.grad.item() == 1.0
    del y                        # dropping a 100k-node graph must not overflow the C stack
    gc.collect()


def test_diamond_accumulates_both_paths():
    x = _leaf([1.0, 2.0])
    a = x * 3.0
    b = x.exp()
    (a * b).backward(np.ones(2))
    expected = 3.0 * np.exp(x.data) + 3.0 * x.data * np.exp(x.data)
    np.testing.assert_allclose(x.grad.data, expected)


def test_shared_input_used_twice():
    x = _leaf([1.5])
    (x * x).backward(np.ones(1))
    np.testing.assert_allclose(x.grad.data, [3.0])


def test_grad_accumulates_across_backward_calls():
    x = _leaf([2.0])
    (x * 3.0).backward(np.ones(1))
    (x * 3.0).backward(np.ones(1))
    assert x.grad.item() == 6.0


def test_second_backward_through_freed_graph_raises():
    x = _leaf([1.0])
    y = x.tanh()
    z = y * 2.0
    z.backward(np.ones(1))
    with pytest.raises(RuntimeError, match=r"retain_graph=True.*detach\(\)"):
        z.backward(np.ones(1))


def test_retain_graph_allows_second_backward():
    x = _leaf([1.0])
    z = x.tanh() * 2.0
    z.backward(np.ones(1), retain_graph=True)
    z.backward(np.ones(1))
    np.testing.assert_allclose(x.grad.data, 2 * 2.0 * (1 - np.tanh(1.0) ** 2))


def test_inplace_change_of_saved_tensor_names_the_op():
    x = _leaf([1.0, 2.0])
    w = _leaf([3.0, 4.0])
    h = x * 1.0
    y = h * w                     # Mul saves h
    with ag.no_grad():
        h += 1.0
    with pytest.raises(RuntimeError, match=r"Mul\.backward.*modified by an in-place"):
        y.backward(np.ones(2))


def test_inplace_op_on_non_leaf_is_differentiated():
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    h += x                        # h = 3x
    h *= 2.0                      # h = 6x
    h.backward(np.ones(2))
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])
    assert h._version[0] == 2


def test_inplace_on_leaf_requiring_grad_raises():
    x = _leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x += 1.0
    with ag.no_grad():
        x += 1.0
    assert x.item() == 2.0


def test_setitem_is_versioned_and_differentiable():
    x = _leaf([1.0, 2.0, 3.0])
    v = _leaf([10.0])
    h = x * 1.0
    h[1] = v * 2.0
    h.backward(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(x.grad.data, [1.0, 0.0, 1.0])
    np.testing.assert_allclose(v.grad.data, [2.0])


def test_views_share_the_version_counter():
    x = _leaf(np.arange(6.0))
    h = x * 1.0
    view = h.reshape(2, 3)
    y = view * x.reshape(2, 3)     # Mul saves the view's array
    with ag.no_grad():
        h += 1.0                   # changes the memory the view points at
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        y.backward(np.ones((2, 3)))


def test_hooks_see_and_replace_gradients():
    x = _leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    h = x * 3.0
    handle = h.register_hook(lambda g: g * 10.0)
    h.backward(np.ones(2))
    np.testing.assert_allclose(seen[0], [30.0, 30.0])
    np.testing.assert_allclose(x.grad.data, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3.0).backward(np.ones(2))
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_retain_grad_keeps_non_leaf_gradient():
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    (h * h).backward(np.ones(2))
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    assert (x * 2.0).grad is None


def test_no_grad_records_nothing_and_decorates():
    x = _leaf([1.0])
    with ag.no_grad():
        y = x * 2.0
    assert y.grad_fn is None and not y.requires_grad

    @ag.no_grad()
    def f(t):
        return t * 2.0
    assert f(x).grad_fn is None
    with ag.no_grad():
        with ag.enable_grad():
            assert (x * 2.0).requires_grad
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    ag.set_grad_enabled(False)
    assert not ag.is_grad_enabled()
    ag.set_grad_enabled(True)

    @ag.set_grad_enabled(False)
    def g(t):
        return t * 2.0
    assert ag.is_grad_enabled()           # decorating must not switch the mode
    assert g(x).grad_fn is None


def test_grad_function_leaves_dot_grad_alone():
    x = _leaf([1.0, 2.0])
    w = _leaf([3.0, 4.0])
    y = (x * w).tanh()
    gx, gw = ag.grad(y, [x, w], grad_outputs=np.ones(2))
    t = 1 - np.tanh(x.data * w.data) ** 2
    np.testing.assert_allclose(gx.data, t * w.data)
    np.testing.assert_allclose(gw.data, t * x.data)
    assert x.grad is None and w.grad is None


def test_grad_of_intermediate_and_unused():
    x = _leaf([1.0])
    unused = _leaf([1.0])
    h = x * 2.0
    y = h * h
    (gh,) = ag.grad(y, [h], grad_outputs=np.ones(1), retain_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [unused], grad_outputs=np.ones(1), retain_graph=True)
    assert ag.grad(y, [unused], grad_outputs=np.ones(1), allow_unused=True) == (None,)


def test_create_graph_is_not_supported():
    x = _leaf([1.0])
    with pytest.raises(NotImplementedError, match="higher-order"):
        ag.grad(x * x, [x], grad_outputs=np.ones(1), create_graph=True)
    with pytest.raises(NotImplementedError, match="higher-order"):
        (x * x).sum().backward(create_graph=True)


def test_backward_needs_gradient_for_non_scalar():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2,\)"):
        (x * 2.0).backward()


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).backward()


def test_detect_anomaly_names_op_and_index():
    x = _leaf([1.0, 0.0, 4.0])
    y = x.sqrt()                  # d sqrt / dx at 0 is inf
    with ag.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Sqrt\.backward.*index \(1,\)"):
            y.backward(np.ones(3))


def test_custom_function_with_needs_input_grad():
    class ScaledSquare(Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return scale * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            assert ctx.needs_input_grad == (True, False)
            return grad * 2 * ctx.scale * x, None

    x = _leaf([3.0])
    y = ScaledSquare.apply(x, 0.5)
    assert repr(y.grad_fn) == "<ScaledSquareBackward>"
    y.backward(np.ones(1))
    np.testing.assert_allclose(x.grad.data, [3.0])


def test_multi_output_function_with_unused_output():
    class SplitHalves(Function):
        @staticmethod
        def forward(ctx, x):
            n = x.shape[0] // 2
            return x[:n].copy(), x[n:].copy()

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return np.concatenate([grad_a, grad_b])

    x = _leaf([1.0, 2.0, 3.0, 4.0])
    a, b = SplitHalves.apply(x)
    (b * 2.0).backward(np.ones(2))          # `a` gets no gradient: zeros are filled in
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 2.0, 2.0])


def test_repr_like_pytorch():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2., 3.], requires_grad=True)"
    assert repr(x.tanh()).endswith("grad_fn=<TanhBackward>)")
    assert "dtype=float64" in repr(ag.tensor(np.ones(2)))
    assert repr(ag.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"


def test_saved_arrays_are_freed_after_backward():
    x = _leaf(np.ones(1000))
    y = x.exp()                   # Exp saves its output array
    saved = weakref.ref(y.grad_fn.saved[0])
    z = y * 2.0
    del y
    z.backward(np.ones(1000))
    gc.collect()
    assert saved() is None


def test_graph_is_garbage_once_outputs_are_dropped_without_gc():
    gc.disable()
    try:
        x = _leaf(np.ones(10))
        y = (x * 2.0).tanh()
        node = weakref.ref(y.grad_fn)
        array = weakref.ref(y.grad_fn.saved[0])
        del y
        assert node() is None and array() is None     # freed by refcount: no cycles
    finally:
        gc.enable()


def test_training_iterations_do_not_grow_memory():
    w = _leaf(np.random.default_rng(0).standard_normal(64))
    x = ag.tensor(np.random.default_rng(1).standard_normal(64))

    def step():
        loss = ((w * x).tanh() * 2.0 - 1.0).exp()
        loss.backward(np.ones(64))
        with ag.no_grad():
            w.data -= 0.001 * w.grad.data
        w.grad = None

    for _ in range(200):
        step()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(10_000):
        step()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 100_000, f"grew by {after - before} bytes"


def test_nodes_run_after_every_consumer_whatever_the_creation_order():
    x = _leaf([0.3, -0.7])
    a = x * 2.0
    b = a.tanh()
    c = a * 3.0                   # a consumer of `a` made after `b`
    d = b * c
    e = x.exp()                   # an independent branch joining at the end
    (d + e).backward(np.ones(2))
    t = np.tanh(2 * x.data)
    expected = 2 * (1 - t ** 2) * 6 * x.data + t * 6 + np.exp(x.data)
    np.testing.assert_allclose(x.grad.data, expected)


def test_backward_from_several_roots_sharing_a_graph():
    x = _leaf([1.0, 2.0])
    h = x.sigmoid()
    y1 = h * 2.0
    y2 = h.exp()
    ag.backward([y1, y2], [np.ones(2), np.full(2, 0.5)])
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad.data, (2.0 + 0.5 * np.exp(s)) * s * (1 - s))


def test_multi_output_slot_zero_and_one_reach_their_buffers():
    class SplitHalves(Function):
        @staticmethod
        def forward(ctx, x):
            n = x.shape[0] // 2
            return x[:n].copy(), x[n:].copy()

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return np.concatenate([grad_a, grad_b])

    x = _leaf([1.0, 2.0, 3.0, 4.0])
    a, b = SplitHalves.apply(x)
    (a.tanh() * 3.0 + b * b).backward(np.ones(2))
    expected = np.concatenate([3 * (1 - np.tanh([1.0, 2.0]) ** 2), 2 * x.data[2:]])
    np.testing.assert_allclose(x.grad.data, expected)


def test_apply_takes_tensors_and_constants_in_any_position():
    class Affine(Function):
        @staticmethod
        def forward(ctx, scale, x, shift, *, power=1):
            ctx.save_for_backward(x)
            ctx.scale, ctx.power = scale, power
            return scale * x ** power + shift

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            needs = ctx.needs_input_grad
            grad_x = grad * ctx.scale * ctx.power * x ** (ctx.power - 1) if needs[1] else None
            grad_shift = grad if needs[2] else None
            return None, grad_x, grad_shift

    x = _leaf([1.0, 2.0])
    shift = _leaf([0.5, 0.5])
    Affine.apply(2.0, x, shift, power=2).backward(np.ones(2))     # constant first, kwargs
    np.testing.assert_allclose(x.grad.data, 4.0 * x.data)
    np.testing.assert_allclose(shift.grad.data, [1.0, 1.0])
    y = Affine.apply(3.0, x, ag.tensor([1.0, 1.0]))               # a Tensor without grad
    assert y.grad_fn.needs_input_grad == (False, True, False)
    with ag.no_grad():
        assert Affine.apply(3.0, x, shift).grad_fn is None


def test_fresh_row_sparse_gradient_becomes_grad_without_a_copy():
    made = []

    class Rows(Function):
        @staticmethod
        def forward(ctx, table, ids):
            ctx.ids = ids
            ctx.shape = table.shape
            return table[ids]

        @staticmethod
        def backward(ctx, grad):
            made.append(RowSparse(ctx.ids.copy(), grad * 2.0, ctx.shape))
            return made[-1], None

    table = _leaf(np.ones((5, 2)))
    root = np.ones((2, 2))
    Rows.apply(table, np.array([1, 3])).backward(root)
    assert table.grad is made[0]                   # kept: nothing else holds its arrays

    class PassRows(Rows):
        @staticmethod
        def backward(ctx, grad):
            made.append(RowSparse(ctx.ids.copy(), grad, ctx.shape))
            return made[-1], None

    other = _leaf(np.ones((5, 2)))
    PassRows.apply(other, np.array([0, 4])).backward(root)
    assert other.grad is not made[1] and other.grad.values is not root   # the caller's array
    root[:] = 7.0
    np.testing.assert_allclose(other.grad.to_dense()[[0, 4]], np.ones((2, 2)))
