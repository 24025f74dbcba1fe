"""Registry entries of the recurrent ops: cells with and without bias and initial state,
batched and unbatched; whole-sequence layers with every layout option (batch_first,
bidirectional, variable lengths, packed input). The PyTorch references of the sequence ops are
a loop over torch's own cells with masks for the lengths, and torch's packing utilities."""
import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _weights(rng, mode, inp, hid, bias=True, dirs=1):
    g = _GATES[mode] * hid
    out = []
    for _ in range(dirs):
        out += [values(rng, (g, inp), -0.8, 0.8), values(rng, (g, hid), -0.8, 0.8)]
        if bias:
            out += [values(rng, (g,), -0.5, 0.5), values(rng, (g,), -0.5, 0.5)]
    return out


def _cell_samples(mode, params=({},)):
    def samples(rng):
        n, inp, hid = 3, 4, 5
        lstm = mode == "lstm"
        for kwargs in params:
            tag = "".join(f"-{v}" for v in kwargs.values())
            states = 2 if lstm else 1
            for label, batched, bias, with_state, strided_x in (
                    ("bias", True, True, True, False), ("no-bias", True, False, True, False),
                    ("no-state", True, True, False, False), ("unbatched", False, True, True,
                                                             False),
                    ("strided", True, True, True, True)):
                shape = (n,) if batched else ()
                x = values(rng, shape + (inp,))
                if strided_x:
                    x = strided(values(rng, (n, inp)))
                state = [values(rng, shape + (hid,)) if with_state else None
                         for _ in range(states)]
                w = _weights(rng, mode, inp, hid, bias)
                args = (x, *state, *w)
                wrt = tuple(i for i, a in enumerate(args) if a is not None)
                yield Sample(args, dict(kwargs), wrt=wrt, label=label + tag)
    return samples


def _lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    return ops.lstm_cell(x, None if h is None else (h, c), w_ih, w_hh, b_ih, b_hh)


def _gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    return ops.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)


def _rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    return ops.rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)


def _torch_cell(torch, mode, x, state, weights, nonlinearity="tanh"):
    """torch's cell on a batch (an unbatched input gets a batch of one)."""
    unbatched = x.dim() == 1
    if unbatched:
        x = x.unsqueeze(0)
        state = [None if s is None else s.unsqueeze(0) for s in state]
    hid = weights[1].shape[1]
    state = [torch.zeros(x.shape[0], hid, dtype=x.dtype) if s is None else s for s in state]
    if mode == "lstm":
        out = torch.lstm_cell(x, tuple(state), *weights)
    elif mode == "gru":
        out = torch.gru_cell(x, state[0], *weights)
    else:
        cell = torch.rnn_relu_cell if nonlinearity == "relu" else torch.rnn_tanh_cell
        out = cell(x, state[0], *weights)
    if unbatched:
        out = tuple(o.squeeze(0) for o in out) if mode == "lstm" else out.squeeze(0)
    return out


def _torch_lstm_cell(torch, x, h, c, *weights):
    return _torch_cell(torch, "lstm", x, [h, c], weights)


def _torch_gru_cell(torch, x, h, *weights):
    return _torch_cell(torch, "gru", x, [h], weights)


def _torch_rnn_cell(torch, x, h, *weights, nonlinearity="tanh"):
    return _torch_cell(torch, "rnn", x, [h], weights, nonlinearity)


# (label, options): every layout option alone, then combined
_SEQUENCE_CASES = (
    ("basic", {}),
    ("no-bias", {"bias": False}),
    ("no-state", {"state": False}),
    ("bidirectional", {"bidirectional": True}),
    ("batch-first", {"batch_first": True}),
    ("lengths", {"lengths": True}),
    ("lengths-bidirectional-batch-first", {"lengths": True, "bidirectional": True,
                                           "batch_first": True}),
    ("packed", {"packed": True}),
    ("packed-bidirectional-no-state", {"packed": True, "bidirectional": True,
                                       "state": False}),
    ("strided", {"strided": True}),
)


def _sequence_samples(mode, params=({},)):
    def samples(rng):
        steps, batch, inp, hid = 3, 3, 3, 2
        for kwargs in params:
            tag = "".join(f"-{v}" for v in kwargs.values())
            for label, o in _SEQUENCE_CASES:
                dirs = 2 if o.get("bidirectional") else 1
                kw = dict(kwargs)
                if o.get("bidirectional"):
                    kw["bidirectional"] = True
                if o.get("batch_first"):
                    kw["batch_first"] = True
                lengths = np.array([2, 3, 1], np.int64)
                if o.get("packed"):
                    # sequences of lengths (2, 3, 1) packed: sorted order (1, 0, 2)
                    x = values(rng, (int(lengths.sum()), inp))
                    kw["batch_sizes"] = np.array([3, 2, 1], np.int64)
                    kw["sorted_indices"] = np.array([1, 0, 2], np.int64)
                else:
                    shape = (batch, steps, inp) if o.get("batch_first") else (steps, batch, inp)
                    x = values(rng, shape)
                    if o.get("strided"):
                        x = np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0)
                    if o.get("lengths"):
                        kw["lengths"] = lengths
                with_state = o.get("state", True)
                n_states = 2 if mode == "lstm" else 1
                state = [values(rng, (dirs, batch, hid)) if with_state else None
                         for _ in range(n_states)]
                w = _weights(rng, mode, inp, hid, o.get("bias", True), dirs)
                args = (x, *state, *w)
                wrt = tuple(i for i, a in enumerate(args) if a is not None)
                yield Sample(args, kw, wrt=wrt, label=label + tag)
    return samples


def _lstm(x, h0, c0, *weights, **kw):
    out, (h, c) = ops.lstm(x, weights, None if h0 is None else (h0, c0), **kw)
    return out, h, c


def _gru(x, h0, *weights, **kw):
    return ops.gru(x, weights, h0, **kw)


def _rnn(x, h0, *weights, **kw):
    return ops.rnn(x, weights, h0, **kw)


def _torch_sequence(torch, mode, x, state, weights, bidirectional=False, batch_first=False,
                    lengths=None, batch_sizes=None, sorted_indices=None, nonlinearity="tanh"):
    """One layer as a loop over torch's cells; a finished sequence keeps its state and
    outputs zeros, and the reverse direction starts at each sequence's last element."""
    rnn_utils = torch.nn.utils.rnn
    packed = batch_sizes is not None
    if packed:
        sorted_t = torch.tensor(sorted_indices)
        seq = rnn_utils.PackedSequence(x, torch.tensor(batch_sizes), sorted_t,
                                       torch.argsort(sorted_t))
        x, lengths_t = rnn_utils.pad_packed_sequence(seq)
        lengths = lengths_t.numpy()
        batch_first = False
    elif batch_first:
        x = x.transpose(0, 1)
    steps, batch = x.shape[:2]
    lengths = torch.tensor(np.full(batch, steps) if lengths is None else lengths)
    dirs = 2 if bidirectional else 1
    per_dir = len(weights) // dirs
    hid = weights[1].shape[1]
    state = [torch.zeros(dirs, batch, hid, dtype=x.dtype) if s is None else s for s in state]
    outs, finals = [], []
    for d in range(dirs):
        w = weights[d * per_dir:(d + 1) * per_dir]
        s = [st[d] for st in state]
        seq_out = [None] * steps
        for t in (range(steps - 1, -1, -1) if d == 1 else range(steps)):
            new = _torch_cell(torch, mode, x[t], s, w, nonlinearity)
            new = list(new) if mode == "lstm" else [new]
            running = (lengths > t).unsqueeze(1)
            s = [torch.where(running, n, old) for n, old in zip(new, s)]
            seq_out[t] = torch.where(running, new[0], torch.zeros_like(new[0]))
        outs.append(torch.stack(seq_out))
        finals.append(s)
    out = torch.cat(outs, dim=2) if dirs == 2 else outs[0]
    final = [torch.stack([f[i] for f in finals]) for i in range(len(state))]
    if packed:
        out = rnn_utils.pack_padded_sequence(out, lengths, enforce_sorted=False).data
    elif batch_first:
        out = out.transpose(0, 1)
    return (out, *final)


def _torch_lstm(torch, x, h0, c0, *weights, **kw):
    return _torch_sequence(torch, "lstm", x, [h0, c0], weights, **kw)


def _torch_gru(torch, x, h0, *weights, **kw):
    return _torch_sequence(torch, "gru", x, [h0], weights, **kw)


def _torch_rnn(torch, x, h0, *weights, **kw):
    return _torch_sequence(torch, "rnn", x, [h0], weights, **kw)


def _pack_samples(rng):
    lengths = np.array([2, 4, 1], np.int64)
    yield Sample((values(rng, (4, 3, 2)), lengths), label="time-major")
    yield Sample((values(rng, (3, 4, 2)), lengths), {"batch_first": True}, label="batch-first")
    yield Sample((values(rng, (4, 3, 2, 2)), lengths), label="4d")
    yield Sample((values(rng, (4, 3, 2)), np.array([4, 2, 1])), {"enforce_sorted": True},
                 label="sorted")


def _pack(x, lengths, batch_first=False, enforce_sorted=False):
    return ops.pack_padded(x, lengths, batch_first, enforce_sorted)[0]


def _torch_pack(torch, x, lengths, batch_first=False, enforce_sorted=False):
    return torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first,
                                                   enforce_sorted=enforce_sorted).data


def _pad_samples(rng):
    batch_sizes = np.array([3, 2, 2, 1], np.int64)
    sorted_indices = np.array([1, 0, 2], np.int64)
    yield Sample((values(rng, (8, 2)), batch_sizes, sorted_indices), label="time-major")
    yield Sample((values(rng, (8, 2)), batch_sizes, sorted_indices), {"batch_first": True},
                 label="batch-first")
    yield Sample((values(rng, (8, 2)), batch_sizes, sorted_indices),
                 {"total_length": 6, "padding_value": -1.0}, label="total-length")
    yield Sample((values(rng, (8, 2, 2)), batch_sizes, sorted_indices), label="3d")


def _pad(data, batch_sizes, sorted_indices, **kw):
    return ops.pad_packed(data, batch_sizes, sorted_indices, **kw)[0]


def _torch_pad(torch, data, batch_sizes, sorted_indices, batch_first=False, padding_value=0.0,
               total_length=None):
    seq = torch.nn.utils.rnn.PackedSequence(data, batch_sizes, sorted_indices,
                                            torch.argsort(sorted_indices))
    return torch.nn.utils.rnn.pad_packed_sequence(seq, batch_first, padding_value,
                                                  total_length)[0]


def _pad_sequence_samples(rng):
    yield Sample(tuple(values(rng, (n, 3)) for n in (2, 4, 1)), wrt=(0, 1, 2),
                 label="time-major")
    yield Sample(tuple(values(rng, (n, 2, 2)) for n in (3, 1)), {"batch_first": True,
                                                                 "padding_value": -1.0},
                 wrt=(0, 1), label="batch-first-3d")


def _pad_sequence(*sequences, **kw):
    return ops.pad_sequence(list(sequences), **kw)


def _torch_pad_sequence(torch, *sequences, **kw):
    return torch.nn.utils.rnn.pad_sequence(list(sequences), **kw)


_NONLINEARITY = ({"nonlinearity": "tanh"}, {"nonlinearity": "relu"})

OPS = [
    OpInfo("lstm_cell", _lstm_cell, (ops.LSTMCell,), _cell_samples("lstm"), _torch_lstm_cell),
    OpInfo("gru_cell", _gru_cell, (ops.GRUCell,), _cell_samples("gru"), _torch_gru_cell),
    OpInfo("rnn_cell", _rnn_cell, (ops.RNNCell,), _cell_samples("rnn", _NONLINEARITY),
           _torch_rnn_cell),
    OpInfo("lstm", _lstm, (ops.LSTM,), _sequence_samples("lstm"), _torch_lstm),
    OpInfo("gru", _gru, (ops.GRU,), _sequence_samples("gru"), _torch_gru),
    OpInfo("rnn", _rnn, (ops.RNN,), _sequence_samples("rnn", _NONLINEARITY), _torch_rnn),
    OpInfo("pack_padded", _pack, (ops.PackPadded,), _pack_samples, _torch_pack),
    OpInfo("pad_packed", _pad, (ops.PadPacked,), _pad_samples, _torch_pad),
    OpInfo("pad_sequence", _pad_sequence, (ops.PadPacked,), _pad_sequence_samples,
           _torch_pad_sequence),
]
