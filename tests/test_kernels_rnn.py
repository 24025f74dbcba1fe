"""kernels/rnn.py against plain-numpy references (no autograd): cells, whole sequences in the
padded and packed layouts, both directions, BPTT, the packed layout helper and bad input."""
import numpy as np
import pytest
from numba import njit

from kernels import rnn as K

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _cell_ref(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step in numpy float64: (h', c')."""
    ax = x @ w_ih.T + b_ih
    ah = h @ w_hh.T + b_hh
    if mode == "lstm":
        i, f, g, o = np.split(ax + ah, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    if mode == "gru":
        xr, xz, xn = np.split(ax, 3, axis=1)
        hr, hz, hn = np.split(ah, 3, axis=1)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1 - z) * n + z * h, None
    a = ax + ah
    return (np.maximum(a, 0) if mode == "rnn_relu" else np.tanh(a)), None


def _loss_ref(mode, x, h0, c0, w, lengths, reverse, cot):
    """<cot, outputs> of a padded variable-length sequence run step by step in numpy."""
    steps = x.shape[0]
    h, c = h0.copy(), c0.copy()
    out = np.zeros(x.shape[:2] + (h0.shape[1],))
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        hn, cn = _cell_ref(mode, x[t], h, c, *w)
        run = (lengths > t)[:, None]
        h = np.where(run, hn, h)
        if cn is not None:
            c = np.where(run, cn, c)
        out[t] = np.where(run, hn, 0.0)
    total = np.vdot(cot[0], out) + np.vdot(cot[1], h)
    return total + (np.vdot(cot[2], c) if mode == "lstm" else 0.0), out, h, c


def _problem(rng, mode, steps=4, batch=3, inp=3, hid=5):
    g = GATES[mode] * hid
    x = rng.uniform(-1, 1, (steps, batch, inp))
    w = [rng.uniform(-0.7, 0.7, (g, inp)), rng.uniform(-0.7, 0.7, (g, hid)),
         rng.uniform(-0.3, 0.3, g), rng.uniform(-0.3, 0.3, g)]
    h0, c0 = rng.uniform(-1, 1, (batch, hid)), rng.uniform(-1, 1, (batch, hid))
    return x, w, h0, c0


def _pack(x, lengths):
    index, batch_sizes, perm = K.packed_layout("test", lengths, x.shape[0], x.shape[1], False)
    return x.reshape(-1, x.shape[2])[index], index, batch_sizes, perm


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, (2, 4, 1)], ids=["padded", "lengths"])
@pytest.mark.parametrize("mode", list(GATES))
def test_sequence_matches_numpy(mode, lengths, reverse):
    _check_sequence(mode, lengths, reverse, batch=3)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, (2, 4, 1, 4, 3, 1, 2, 4, 3)],
                         ids=["padded", "lengths"])
@pytest.mark.parametrize("mode", list(GATES))
def test_sequence_split_over_the_batch_matches_numpy(monkeypatch, mode, lengths, reverse):
    """The recurrences of parts of the batch run in parallel (here 3 parts of 9 sequences)."""
    monkeypatch.setattr(K, "_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(K, "_SPLIT_MIN_ROWS", 2)
    monkeypatch.setattr(K, "get_num_threads", lambda: 3)
    sizes = np.array([9, 8, 5, 1]) if lengths else np.full(4, 9)
    assert len(K._batch_parts(sizes, GATES[mode], 5)) == 3
    _check_sequence(mode, lengths, reverse, batch=9)


def _check_sequence(mode, lengths, reverse, batch):
    rng = np.random.default_rng(0)
    x, w, h0, c0 = _problem(rng, mode, batch=batch)
    steps = x.shape[0]
    lengths = np.full(batch, steps) if lengths is None else np.array(lengths)
    rows, index, batch_sizes, perm = _pack(x, lengths)
    lstm = mode == "lstm"
    out, h_n, c_n, saved = K.rnn_sequence_forward(mode, rows, h0[perm], c0[perm] if lstm else
                                                  None, *w, batch_sizes, reverse)
    cot = [rng.standard_normal(s) for s in ((steps, batch, h0.shape[1]), h0.shape, c0.shape)]
    _, out_ref, h_ref, c_ref = _loss_ref(mode, x, h0, c0, w, lengths, reverse, cot)
    np.testing.assert_allclose(out, out_ref.reshape(-1, h0.shape[1])[index], atol=1e-13)
    np.testing.assert_allclose(h_n, h_ref[perm], atol=1e-13)
    if lstm:
        np.testing.assert_allclose(c_n, c_ref[perm], atol=1e-13)
    grads = K.rnn_sequence_backward(saved, cot[0].reshape(-1, h0.shape[1])[index],
                                    cot[1][perm], cot[2][perm] if lstm else None)
    grad_x_rows, grad_h0, grad_c0, *grad_w = grads
    grad_x = np.zeros((steps * batch, x.shape[2]))
    grad_x[index] = grad_x_rows
    # central differences of the numpy reference along random directions
    probe = np.random.default_rng(1)
    inputs = [x, h0, c0, *w]
    analytic = [grad_x.reshape(x.shape), _unperm(grad_h0, perm),
                _unperm(grad_c0, perm) if lstm else None, *grad_w]
    for k, (value, grad) in enumerate(zip(inputs, analytic)):
        if k == 2 and not lstm:
            continue
        d = probe.standard_normal(value.shape)
        bumped = [v.copy() for v in inputs]
        bumped[k] = value + 1e-6 * d
        plus = _loss_ref(mode, bumped[0], bumped[1], bumped[2], bumped[3:], lengths, reverse,
                         cot)[0]
        bumped[k] = value - 1e-6 * d
        minus = _loss_ref(mode, bumped[0], bumped[1], bumped[2], bumped[3:], lengths, reverse,
                          cot)[0]
        assert abs((plus - minus) / 2e-6 - np.vdot(grad, d)) < 1e-6 * (1 + abs(np.vdot(grad,
                                                                                         d)))


def _unperm(s, perm):
    out = np.empty_like(s)
    out[perm] = s
    return out


@pytest.mark.parametrize("mode", list(GATES))
def test_float32_sequence_close_to_float64(mode):
    rng = np.random.default_rng(0)
    x, w, h0, c0 = _problem(rng, mode, steps=6, batch=4, inp=8, hid=16)
    batch_sizes = np.full(6, 4)
    rows = x.reshape(-1, 8)
    lstm = mode == "lstm"
    ref = K.rnn_sequence_forward(mode, rows, h0, c0 if lstm else None, *w, batch_sizes)
    f32 = [a.astype(np.float32) for a in (rows, h0, c0, *w)]
    got = K.rnn_sequence_forward(mode, f32[0], f32[1], f32[2] if lstm else None, *f32[3:],
                                 batch_sizes)
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(got[0], ref[0], atol=3e-6)
    cot = rng.standard_normal(ref[0].shape)
    g64 = K.rnn_sequence_backward(ref[3], cot, None, None)
    g32 = K.rnn_sequence_backward(got[3], cot.astype(np.float32), None, None)
    for a, b in zip(g32, g64):
        if b is not None:
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, atol=2e-5 * (1 + np.abs(b).max()))


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_cells_match_numpy(mode):
    rng = np.random.default_rng(0)
    x, w, h0, c0 = _problem(rng, mode)
    x = x[0]
    h_ref, c_ref = _cell_ref(mode, x, h0, c0, *w)
    if mode == "lstm":
        h, c, gates, tanh_c = K.lstm_cell_forward(x, h0, c0, *w)
        np.testing.assert_allclose(c, c_ref, atol=1e-14)
        grad_h, grad_c = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
        grads = K.lstm_cell_backward(x, h0, c0, w[0], w[1], gates, tanh_c, grad_h, grad_c)
        seq = K.rnn_sequence_forward(mode, x, h0, c0, *w, np.array([x.shape[0]]))
        ref = K.rnn_sequence_backward(seq[3], grad_h, None, grad_c)
        for a, b in zip(grads[:3] + grads[3:5], ref[:5]):
            np.testing.assert_allclose(a, b, atol=1e-13)
        np.testing.assert_allclose(grads[5], ref[5], atol=1e-13)
    elif mode == "gru":
        h, gates, hn = K.gru_cell_forward(x, h0, *w)
        grad_h = rng.standard_normal(h.shape)
        grads = K.gru_cell_backward(x, h0, w[0], w[1], gates, hn, grad_h)
        seq = K.rnn_sequence_forward(mode, x, h0, None, *w, np.array([x.shape[0]]))
        ref = K.rnn_sequence_backward(seq[3], grad_h, None, None)
        expected = (ref[0], ref[1], *ref[3:])
        for a, b in zip(grads, expected):
            np.testing.assert_allclose(a, b, atol=1e-13)
    else:
        nonlinearity = mode[4:]
        h = K.rnn_cell_forward(x, h0, *w, nonlinearity=nonlinearity)
        grad_h = rng.standard_normal(h.shape)
        grads = K.rnn_cell_backward(x, h0, w[0], w[1], h, grad_h, nonlinearity)
        seq = K.rnn_sequence_forward(mode, x, h0, None, *w, np.array([x.shape[0]]))
        ref = K.rnn_sequence_backward(seq[3], grad_h, None, None)
        for a, b in zip(grads, (ref[0], ref[1], *ref[3:6])):
            np.testing.assert_allclose(a, b, atol=1e-13)
    np.testing.assert_allclose(h, h_ref, atol=1e-14)


def test_no_bias_equals_zero_bias():
    rng = np.random.default_rng(0)
    x, w, h0, c0 = _problem(rng, "lstm")
    rows = x.reshape(-1, x.shape[2])
    sizes = np.full(x.shape[0], x.shape[1])
    zero = [w[0], w[1], np.zeros_like(w[2]), np.zeros_like(w[3])]
    a = K.rnn_sequence_forward("lstm", rows, h0, c0, w[0], w[1], None, None, sizes)
    b = K.rnn_sequence_forward("lstm", rows, h0, c0, *zero, sizes)
    np.testing.assert_array_equal(a[0], b[0])


@njit(cache=True)
def _gates_f32(x, t, s):
    for i in range(x.size):
        t[i] = K._gate_tanh(x[i])
        s[i] = K._gate_sigmoid(x[i])


def test_float32_gate_functions_are_accurate():
    x = np.linspace(-30, 30, 200001).astype(np.float32)
    x = np.concatenate([x, np.array([0.0, -0.0, np.inf, -np.inf], np.float32)])
    t, s = np.empty_like(x), np.empty_like(x)
    _gates_f32(x, t, s)
    x64 = x.astype(np.float64)
    assert np.abs(t - np.tanh(x64)).max() <= 6e-7
    assert np.abs(s - _sigmoid(x64)).max() <= 4e-7
    assert t[-4:].tolist() == [0.0, 0.0, 1.0, -1.0] and np.signbit(t[-3])
    nan = np.array([np.nan], np.float32)
    _gates_f32(nan, t[:1], s[:1])
    assert np.isnan(t[0]) and np.isnan(s[0])


def test_packed_layout():
    lengths = np.array([2, 4, 1, 4])
    index, batch_sizes, perm = K.packed_layout("op", lengths, 5, 4, False)
    assert perm.tolist() == [1, 3, 0, 2]              # by decreasing length, ties kept in order
    assert batch_sizes.tolist() == [4, 3, 2, 2]
    assert index[:4].tolist() == [1, 3, 0, 2]         # time step 0, in packed order
    assert index[4:7].tolist() == [4 + 1, 4 + 3, 4 + 0]
    index_bf, _, _ = K.packed_layout("op", lengths, 5, 4, True)
    assert index_bf[:4].tolist() == [5, 15, 0, 10]    # batch-first rows n * T + t
    with pytest.raises(ValueError, match=r"op: lengths must be in \[1, 5\]"):
        K.packed_layout("op", np.array([0, 2, 2, 2]), 5, 4, False)
    with pytest.raises(ValueError, match=r"op: lengths must have shape \(4,\)"):
        K.packed_layout("op", np.array([2, 2]), 5, 4, False)


def test_workspace_recycles_internal_buffers():
    rng = np.random.default_rng(0)
    x, w, h0, c0 = _problem(rng, "lstm", steps=5, batch=2, inp=3, hid=4)
    rows = x.reshape(-1, 3)
    sizes = np.full(5, 2)
    first = K.rnn_sequence_forward("lstm", rows, h0, c0, *w, sizes)
    buffer = first[3].a
    out = first[0]
    del first
    second = K.rnn_sequence_forward("lstm", rows, h0, c0, *w, sizes)
    assert second[3].a is buffer            # the projection buffer came back
    assert second[0] is not out             # outputs are never recycled
    np.testing.assert_array_equal(second[0], out)


def test_bad_input_raises_clear_errors():
    rng = np.random.default_rng(0)
    x, w, h0, c0 = _problem(rng, "lstm")
    rows = x.reshape(-1, x.shape[2])
    sizes = np.full(x.shape[0], x.shape[1])
    with pytest.raises(ValueError, match=r"lstm: w_hh must have shape \(20, 5\)"):
        K.rnn_sequence_forward("lstm", rows, h0, c0, w[0], w[1][:, :4], w[2], w[3], sizes)
    with pytest.raises(ValueError, match=r"lstm: h0 must have shape \(3, 5\)"):
        K.rnn_sequence_forward("lstm", rows, h0[:2], c0, *w, sizes)
    with pytest.raises(TypeError, match="lstm: b_ih must have the input's dtype float64"):
        K.rnn_sequence_forward("lstm", rows, h0, c0, w[0], w[1], w[2].astype(np.float32),
                               w[3], sizes)
    with pytest.raises(TypeError, match="lstm: input must be float32 or float64"):
        K.rnn_sequence_forward("lstm", rows.astype(np.int64), h0, c0, *w, sizes)
    with pytest.raises(ValueError, match="batch_sizes sum to 9"):
        K.check_batch_sizes("lstm", np.array([3, 3, 3]), rows.shape[0])
    with pytest.raises(ValueError, match="non-increasing"):
        K.check_batch_sizes("lstm", np.array([2, 3]), 5)
    with pytest.raises(ValueError, match=r"gru_cell: w_ih must have shape \(3 \* H, 3\)"):
        K.gru_cell_forward(x[0], h0, w[0], w[1])
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        K.rnn_cell_forward(x[0], h0, w[0][:5], w[1][:5], nonlinearity="sigmoid")
