"""Recurrent layers against torch.nn: weights copied both ways, every option; outputs, final
states and every gradient compared (float64 to 1e-10, float32 to 1e-5)."""
import numpy as np
import pytest

import autograd as ag
import nn
from nn.utils import rnn as rnn_utils

LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
OPTIONS = [
    ("basic", {}),
    ("two-layers", {"num_layers": 2}),
    ("bidirectional", {"bidirectional": True}),
    ("batch-first", {"batch_first": True}),
    ("no-bias", {"bias": False}),
    ("deep-bidirectional-batch-first", {"num_layers": 2, "bidirectional": True,
                                        "batch_first": True}),
]
STEPS, BATCH, INP, HID = 5, 3, 4, 6


def _relative(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _pair(torch, name, kwargs, dtype, direction):
    """(ours, theirs) with the same weights, copied torch -> ours or ours -> torch."""
    torch.manual_seed(0)
    ag.manual_seed(0)
    theirs = getattr(torch.nn, name)(INP, HID, **kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, name)(INP, HID, **kwargs, dtype=dtype)
    if direction == "torch-to-ours":
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    else:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _flat(result):
    out, state = result
    return [out, *state] if isinstance(state, tuple) else [out, state]


def _compare(torch, ours, theirs, x, hx, tol, lengths=None):
    """Run both on x (and hx), backpropagate the same random cotangents, compare."""
    xo = ag.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    hxo = hxt = None
    if hx is not None:
        hxo = tuple(ag.tensor(h, requires_grad=True) for h in hx)
        hxt = tuple(torch.tensor(h, requires_grad=True) for h in hx)
    lstm = isinstance(ours, nn.LSTM)
    if lengths is None:
        res_o = ours(xo, None if hxo is None else (hxo if lstm else hxo[0]))
        res_t = theirs(xt, None if hxt is None else (hxt if lstm else hxt[0]))
        outs_o, outs_t = _flat(res_o), _flat(res_t)
    else:
        res_o = ours(xo, None if hxo is None else (hxo if lstm else hxo[0]), lengths=lengths)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=theirs.batch_first, enforce_sorted=False)
        res_t = theirs(packed, None if hxt is None else (hxt if lstm else hxt[0]))
        padded, _ = torch.nn.utils.rnn.pad_packed_sequence(
            res_t[0], batch_first=theirs.batch_first, total_length=x.shape[1 if
                                                                       theirs.batch_first else 0])
        outs_o, outs_t = _flat(res_o), [padded] + _flat(res_t)[1:]
    rng = np.random.default_rng(1)
    cots = []
    for o, t in zip(outs_o, outs_t):
        assert _relative(o.data, t.detach().numpy()) <= tol
        cots.append(rng.standard_normal(o.shape).astype(x.dtype))
    ag.backward(outs_o, cots)
    torch.autograd.backward(outs_t, [torch.tensor(c) for c in cots])
    assert _relative(xo.grad.data, xt.grad.numpy()) <= tol
    if hx is not None:
        for a, b in zip(hxo, hxt):
            assert _relative(a.grad.data, b.grad.numpy()) <= tol
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert _relative(p.grad.data, grads_t[name].grad.numpy()) <= tol, name


@pytest.mark.parametrize("direction", ["torch-to-ours", "ours-to-torch"])
@pytest.mark.parametrize("label, options", OPTIONS, ids=[o[0] for o in OPTIONS])
@pytest.mark.parametrize("name, extra", LAYERS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_layer_matches_torch(torch, name, extra, label, options, direction):
    kwargs = {**extra, **options}
    ours, theirs = _pair(torch, name, kwargs, "float64", direction)
    rng = np.random.default_rng(0)
    shape = (BATCH, STEPS, INP) if kwargs.get("batch_first") else (STEPS, BATCH, INP)
    x = rng.standard_normal(shape)
    dirs = 2 if kwargs.get("bidirectional") else 1
    states = 2 if name == "LSTM" else 1
    hx = [rng.standard_normal((dirs * kwargs.get("num_layers", 1), BATCH, HID))
          for _ in range(states)]
    _compare(torch, ours, theirs, x, None, 1e-10)
    _compare(torch, ours, theirs, x, hx, 1e-10)


@pytest.mark.parametrize("name, extra", LAYERS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_layer_float32_matches_torch(torch, name, extra):
    ours, theirs = _pair(torch, name, {**extra, "num_layers": 2, "bidirectional": True},
                         "float32", "torch-to-ours")
    x = np.random.default_rng(0).standard_normal((STEPS, BATCH, INP)).astype(np.float32)
    _compare(torch, ours, theirs, x, None, 2e-6)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("name, extra", LAYERS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_variable_lengths_match_packed_torch(torch, name, extra, batch_first):
    kwargs = {**extra, "num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    ours, theirs = _pair(torch, name, kwargs, "float64", "torch-to-ours")
    rng = np.random.default_rng(0)
    batch = 4
    shape = (batch, STEPS, INP) if batch_first else (STEPS, batch, INP)
    x = rng.standard_normal(shape)
    lengths = np.array([3, 5, 1, 3])
    states = 2 if name == "LSTM" else 1
    hx = [rng.standard_normal((4, batch, HID)) for _ in range(states)]
    _compare(torch, ours, theirs, x, hx, 1e-10, lengths=lengths)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_packed_sequence_input(torch, name):
    ours, theirs = _pair(torch, name, {"bidirectional": True}, "float64", "torch-to-ours")
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, INP)) for n in (2, 4, 3)]
    xo = [ag.tensor(s, requires_grad=True) for s in seqs]
    xt = [torch.tensor(s, requires_grad=True) for s in seqs]
    po = rnn_utils.pack_sequence(xo, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence(xt, enforce_sorted=False)
    np.testing.assert_array_equal(po.batch_sizes.data, pt.batch_sizes.numpy())
    np.testing.assert_array_equal(po.sorted_indices.data, pt.sorted_indices.numpy())
    out_o, state_o = ours(po)
    out_t, state_t = theirs(pt)
    assert isinstance(out_o, rnn_utils.PackedSequence)
    assert _relative(out_o.data.data, out_t.data.detach().numpy()) <= 1e-10
    h_o = state_o[0] if name == "LSTM" else state_o
    h_t = state_t[0] if name == "LSTM" else state_t
    assert _relative(h_o.data, h_t.detach().numpy()) <= 1e-10
    padded_o, len_o = rnn_utils.pad_packed_sequence(out_o, batch_first=True)
    padded_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=True)
    np.testing.assert_array_equal(len_o.data, len_t.numpy())
    cot = np.random.default_rng(1).standard_normal(padded_o.shape)
    ag.backward([padded_o], [cot])
    padded_t.backward(torch.tensor(cot))
    for a, b in zip(xo, xt):
        assert _relative(a.grad.data, b.grad.numpy()) <= 1e-10


@pytest.mark.parametrize("name, extra", LAYERS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_unbatched_input(torch, name, extra):
    ours, theirs = _pair(torch, name, {**extra, "num_layers": 2}, "float64", "torch-to-ours")
    x = np.random.default_rng(0).standard_normal((STEPS, INP))
    out_o = _flat(ours(ag.tensor(x)))
    out_t = _flat(theirs(torch.tensor(x)))
    for o, t in zip(out_o, out_t):
        assert o.shape == tuple(t.shape)
        assert _relative(o.data, t.detach().numpy()) <= 1e-10


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {}), ("LSTMCell", {"bias": False})]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("name, kwargs", CELLS,
                         ids=["rnn-tanh", "rnn-relu", "lstm", "gru", "lstm-no-bias"])
def test_cell_matches_torch(torch, name, kwargs, batched, with_state):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(INP, HID, **kwargs).double()
    ours = getattr(nn, name)(INP, HID, **kwargs, dtype="float64")
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    lead = (BATCH,) if batched else ()
    x = rng.standard_normal(lead + (INP,))
    xo, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lstm = name == "LSTMCell"
    if with_state:
        hx = [rng.standard_normal(lead + (HID,)) for _ in range(2 if lstm else 1)]
        hxo = [ag.tensor(h, requires_grad=True) for h in hx]
        hxt = [torch.tensor(h, requires_grad=True) for h in hx]
        out_o = ours(xo, tuple(hxo) if lstm else hxo[0])
        out_t = theirs(xt, tuple(hxt) if lstm else hxt[0])
    else:
        out_o, out_t = ours(xo), theirs(xt)
    out_o = list(out_o) if lstm else [out_o]
    out_t = list(out_t) if lstm else [out_t]
    cots = [rng.standard_normal(o.shape) for o in out_o]
    for o, t in zip(out_o, out_t):
        assert _relative(o.data, t.detach().numpy()) <= 1e-12
    ag.backward(out_o, cots)
    torch.autograd.backward(out_t, [torch.tensor(c) for c in cots])
    assert _relative(xo.grad.data, xt.grad.numpy()) <= 1e-12
    if with_state:
        for a, b in zip(hxo, hxt):
            assert _relative(a.grad.data, b.grad.numpy()) <= 1e-12
    grads_t = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        assert _relative(p.grad.data, grads_t[pname].grad.numpy()) <= 1e-12, pname


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_parameters_follow_torch(torch, name):
    kwargs = {} if name.endswith("Cell") else {"num_layers": 2, "bidirectional": True}
    ours = getattr(nn, name)(INP, 64, **kwargs)
    theirs = getattr(torch.nn, name)(INP, 64, **kwargs)
    shapes_o = [(k, v.shape) for k, v in ours.state_dict().items()]
    shapes_t = [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert shapes_o == shapes_t
    bound = 1 / 8.0
    for p in ours.parameters():
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
        assert abs(p.data.std() - bound / np.sqrt(3)) < 0.02      # U(-b, b)
    assert repr(ours) == repr(theirs)


def test_one_tape_node_per_layer():
    model = nn.LSTM(INP, HID, num_layers=3, bidirectional=True)
    out, _ = model(ag.randn(STEPS, BATCH, INP))
    names, stack, seen = [], [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not hasattr(node, "fn"):
            continue
        seen.add(id(node))
        names.append(node.name)
        stack.extend(node.parents)
    assert names == ["LSTM"] * 3


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_one_tape_node_per_cell_step(name):
    cell = getattr(nn, name)(INP, HID)
    x = ag.randn(BATCH, INP, requires_grad=True)
    out = cell(x, None)
    h = out[0] if name == "LSTMCell" else out
    node = h.grad_fn
    assert node.name == name
    assert all(p is None or not hasattr(p, "fn") for p in node.parents)


def test_dropout_between_layers():
    ag.manual_seed(0)
    model = nn.GRU(INP, HID, num_layers=2, dropout=0.5)
    x = ag.randn(STEPS, BATCH, INP)
    model.eval()
    a = model(x)[0].data
    b = model(x)[0].data
    np.testing.assert_array_equal(a, b)
    model.train()
    c = model(x)[0].data
    assert not np.allclose(a, c)
    single = nn.GRU(INP, HID, num_layers=1, dropout=0.5)
    np.testing.assert_array_equal(single(x)[0].data, single(x)[0].data)


def test_bad_input_names_the_layer():
    model = nn.LSTM(INP, HID, num_layers=2)
    with pytest.raises(ValueError, match="LSTM: input has 3 features, expected 4"):
        model(ag.randn(STEPS, BATCH, 3))
    with pytest.raises(ValueError, match=r"LSTM: expected hidden state of shape \(2, 3, 6\)"):
        model(ag.randn(STEPS, BATCH, INP), (ag.zeros(1, BATCH, HID), ag.zeros(1, BATCH, HID)))
    with pytest.raises(ValueError, match="lengths must be in"):
        model(ag.randn(STEPS, BATCH, INP), lengths=[1, 9, 2])
    with pytest.raises(ValueError, match="GRUCell: expected input of shape"):
        nn.GRUCell(INP, HID)(ag.randn(BATCH, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(INP, HID, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="dtype"):
        model(ag.randn(STEPS, BATCH, INP, dtype="float64"))


def test_nn_utils_rnn_spellings():
    import nn.utils.rnn as utils_rnn
    from nn.utils import clip_grad_norm_, clip_grad_value_  # noqa: F401
    from nn.utils.rnn import (PackedSequence, pack_padded_sequence,  # noqa: F401
                              pack_sequence, pad_packed_sequence, pad_sequence)
    assert nn.utils.rnn is utils_rnn
    for name in ("PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
                 "pack_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"):
        assert callable(getattr(nn.utils.rnn, name)), name
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_round_trip(batch_first):
    rng = np.random.default_rng(0)
    lengths = [3, 5, 1, 4]
    seqs = [rng.standard_normal((n, 2, 3)) for n in lengths]
    padded = rnn_utils.pad_sequence([ag.tensor(s) for s in seqs], batch_first=batch_first,
                                    padding_value=-1.0)
    assert padded.shape == ((4, 5, 2, 3) if batch_first else (5, 4, 2, 3))
    packed = rnn_utils.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                            enforce_sorted=False)
    assert isinstance(packed, rnn_utils.PackedSequence)
    assert packed.batch_sizes.data.tolist() == [4, 3, 3, 2, 1]
    back, back_lengths = rnn_utils.pad_packed_sequence(packed, batch_first=batch_first,
                                                       padding_value=-1.0)
    assert back_lengths.data.tolist() == lengths
    np.testing.assert_array_equal(back.data, padded.data)
    for s, u in zip(seqs, rnn_utils.unpack_sequence(packed)):
        np.testing.assert_array_equal(u.data, s)
    for s, u in zip(seqs, rnn_utils.unpad_sequence(back, back_lengths, batch_first)):
        np.testing.assert_array_equal(u.data, s)
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(padded, lengths, batch_first=batch_first)


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_nn_utils_rnn_matches_torch(torch, batch_first, enforce_sorted):
    rng = np.random.default_rng(0)
    lengths = [5, 4, 4, 2] if enforce_sorted else [2, 5, 4, 1]
    seqs = [rng.standard_normal((n, 3)) for n in lengths]
    xo = [ag.tensor(s, requires_grad=True) for s in seqs]
    xt = [torch.tensor(s, requires_grad=True) for s in seqs]
    pad_o = rnn_utils.pad_sequence(xo, batch_first=batch_first, padding_value=0.5)
    pad_t = torch.nn.utils.rnn.pad_sequence(xt, batch_first=batch_first, padding_value=0.5)
    np.testing.assert_array_equal(pad_o.data, pad_t.detach().numpy())
    po = rnn_utils.pack_padded_sequence(pad_o, lengths, batch_first, enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(pad_t, torch.tensor(lengths), batch_first,
                                                 enforce_sorted)
    np.testing.assert_array_equal(po.data.data, pt.data.detach().numpy())
    np.testing.assert_array_equal(po.batch_sizes.data, pt.batch_sizes.numpy())
    for ours, theirs in ((po.sorted_indices, pt.sorted_indices),
                         (po.unsorted_indices, pt.unsorted_indices)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_array_equal(ours.data, theirs.numpy())
    seq_o = rnn_utils.pack_sequence(xo, enforce_sorted=enforce_sorted)
    seq_t = torch.nn.utils.rnn.pack_sequence(xt, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(seq_o.data.data, seq_t.data.detach().numpy())
    out_o, len_o = rnn_utils.pad_packed_sequence(po, batch_first, padding_value=-2.0,
                                                 total_length=7)
    out_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first, padding_value=-2.0,
                                                          total_length=7)
    np.testing.assert_array_equal(out_o.data, out_t.detach().numpy())
    np.testing.assert_array_equal(len_o.data, len_t.numpy())
    cot = rng.standard_normal(out_o.shape)
    ag.backward([out_o, seq_o.data], [cot, np.ones(seq_o.data.shape)])
    torch.autograd.backward([out_t, seq_t.data],
                            [torch.tensor(cot), torch.ones(seq_t.data.shape, dtype=torch.float64)])
    for a, b in zip(xo, xt):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=0, atol=1e-15)
    for a, b in zip(rnn_utils.unpack_sequence(po), torch.nn.utils.rnn.unpack_sequence(pt)):
        np.testing.assert_array_equal(a.data, b.detach().numpy())
