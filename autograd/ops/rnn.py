"""Recurrent ops: LSTM, GRU and Elman cells (one step) and whole-sequence layers (one tape
node per layer, both directions), plus packing of variable-length batches.

Weights use PyTorch's layouts: w_ih (G H, I), w_hh (G H, H), b_ih and b_hh (G H,) with the
gate blocks in PyTorch's order (LSTM i, f, g, o; GRU r, z, n). The math of forward and
backward is in `kernels/rnn.py`:
    LSTM  c' = f c + i g,  h' = o tanh(c')
    GRU   h' = (1 - z) n + z h,  n = tanh(x w_in^T + b_in + r (h w_hn^T + b_hn))
    RNN   h' = tanh or relu (x w_ih^T + b_ih + h w_hh^T + b_hh)
A whole-sequence op runs every time step forward in one call and BPTT in one backward call:
the input projection of all steps is one GEMM, the weight gradients one GEMM each.

Sequence layouts (as PyTorch's nn.LSTM / GRU / RNN):
- padded: x (T, N, I), or (N, T, I) with batch_first; `lengths` (N,) makes it a
  variable-length batch, whose outputs past each length are zero and whose h_n is the state
  at each sequence's last element;
- packed: x (R, I) rows of a PackedSequence with its `batch_sizes` and `sorted_indices`.
Variable-length batches run on the packed layout internally, so a time step only computes the
sequences still running. The states h0, c0, h_n, c_n are (D, N, H), D = 2 when bidirectional,
in the caller's batch order; the output concatenates the directions: (..., D H).
"""
import numpy as np

from autograd.function import Function
from autograd.ops._util import as_float_tensor
from autograd.ops.shape import cat
from autograd.tensor import Tensor
from kernels import rnn as K

__all__ = ["LSTMCell", "GRUCell", "RNNCell", "LSTM", "GRU", "RNN", "PackPadded", "PadPacked",
           "lstm_cell", "gru_cell", "rnn_cell", "lstm", "gru", "rnn", "pack_padded",
           "pad_packed", "pad_sequence"]


def _rows(a):
    return a if a is None or a.ndim == 2 else a.reshape(1, -1)


def _unrow(a, ndim):
    return a if a is None or ndim == 2 else a.reshape(-1)


class LSTMCell(Function):
    """One LSTM step: (x, h, c) -> (h', c'). x (N, I) or (I,), h and c (N, H) or (H,)."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        ctx.ndim = x.ndim
        x, h, c = _rows(x), _rows(h), _rows(c)
        h_new, c_new, gates, tanh_c = K.lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(x, h, c, w_ih, w_hh)
        ctx.gates = gates
        ctx.tanh_c = tanh_c
        return _unrow(h_new, ctx.ndim), _unrow(c_new, ctx.ndim)

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        x, h, c, w_ih, w_hh = ctx.saved
        need = ctx.needs_input_grad
        grads = K.lstm_cell_backward(x, h, c, w_ih, w_hh, ctx.gates, ctx.tanh_c,
                                     _rows(grad_h), _rows(grad_c), need_x=need[0],
                                     need_h=need[1], need_w=any(need[3:]))
        grad_x, grad_h, grad_c, grad_w_ih, grad_w_hh, grad_b = grads
        nd = ctx.ndim
        return (_unrow(grad_x, nd), _unrow(grad_h, nd), _unrow(grad_c, nd) if need[2] else None,
                grad_w_ih, grad_w_hh, grad_b, grad_b)


class GRUCell(Function):
    """One GRU step: (x, h) -> h'. x (N, I) or (I,), h (N, H) or (H,)."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        ctx.ndim = x.ndim
        x, h = _rows(x), _rows(h)
        h_new, gates, hn = K.gru_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(x, h, w_ih, w_hh)
        ctx.gates = gates
        ctx.hn = hn
        return _unrow(h_new, ctx.ndim)

    @staticmethod
    def backward(ctx, grad_h):
        x, h, w_ih, w_hh = ctx.saved
        need = ctx.needs_input_grad
        grad_x, grad_h, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = K.gru_cell_backward(
            x, h, w_ih, w_hh, ctx.gates, ctx.hn, _rows(grad_h), need_x=need[0], need_h=need[1],
            need_w=any(need[2:]))
        nd = ctx.ndim
        return (_unrow(grad_x, nd), _unrow(grad_h, nd), grad_w_ih, grad_w_hh, grad_b_ih,
                grad_b_hh)


class RNNCell(Function):
    """One Elman step: (x, h) -> tanh or relu (x w_ih^T + b_ih + h w_hh^T + b_hh)."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
        ctx.ndim = x.ndim
        x, h = _rows(x), _rows(h)
        h_new = K.rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        ctx.save_for_backward(x, h, w_ih, w_hh)
        ctx.h_new = h_new
        ctx.nonlinearity = nonlinearity
        return _unrow(h_new, ctx.ndim)

    @staticmethod
    def backward(ctx, grad_h):
        x, h, w_ih, w_hh = ctx.saved
        need = ctx.needs_input_grad
        grad_x, grad_h, grad_w_ih, grad_w_hh, grad_b = K.rnn_cell_backward(
            x, h, w_ih, w_hh, ctx.h_new, _rows(grad_h), ctx.nonlinearity, need_x=need[0],
            need_h=need[1], need_w=any(need[2:]))
        nd = ctx.ndim
        return _unrow(grad_x, nd), _unrow(grad_h, nd), grad_w_ih, grad_w_hh, grad_b, grad_b


def _layout(op, x, lengths, batch_sizes, sorted_indices, batch_first):
    """The packed rows of x and how to map back: (rows (R, I), batch_sizes, perm or None,
    index or None, padded (shape, layout rows) or None). `index` holds, for every packed row,
    its row in the flattened padded input; `perm` the caller's batch index of every packed
    batch position."""
    if batch_sizes is not None:
        if x.ndim != 2:
            raise ValueError(f"{op}: packed input must be 2-D (R, I), got shape {x.shape}")
        batch_sizes = K.check_batch_sizes(op, batch_sizes, x.shape[0])
        perm = None if sorted_indices is None else np.asarray(sorted_indices, np.int64)
        return x, batch_sizes, perm, None, None
    if x.ndim != 3:
        raise ValueError(f"{op}: input must be 3-D ({'N, T' if batch_first else 'T, N'}, I), "
                         f"got shape {x.shape}")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    if steps == 0 or batch == 0:
        raise ValueError(f"{op}: input must have at least one time step and one sequence, got "
                         f"shape {x.shape}")
    flat = x.reshape(-1, x.shape[2])
    if lengths is None:
        batch_sizes = np.full(steps, batch, np.int64)
        if not batch_first:
            return flat, batch_sizes, None, None, x.shape
        index = (np.arange(batch, dtype=np.int64) * steps + np.arange(steps)[:, None]).ravel()
        return flat[index], batch_sizes, None, index, x.shape
    index, batch_sizes, perm = K.packed_layout(op, lengths, steps, batch, batch_first)
    return flat[index], batch_sizes, perm, index, x.shape


def _sorted_state(s, perm):
    return s if perm is None else s[:, perm]


def _unsorted_state(s, perm):
    if perm is None:
        return s
    out = np.empty_like(s)
    out[:, perm] = s
    return out


def _to_padded(rows, index, padded_shape, batch_first):
    """Packed rows (R, F) back to the padded layout, zeros past each length."""
    steps, batch = ((padded_shape[1], padded_shape[0]) if batch_first
                    else padded_shape[:2])
    if index is None:
        return rows.reshape(steps, batch, -1)
    out = np.zeros((steps * batch, rows.shape[1]), rows.dtype)
    out[index] = rows
    return out.reshape((batch, steps, -1) if batch_first else (steps, batch, -1))


def _sequence_forward(ctx, mode, x, h0, c0, weights, lengths, batch_sizes, sorted_indices,
                      batch_first, bidirectional):
    op = "lstm" if mode == "lstm" else ("gru" if mode == "gru" else "rnn")
    rows, batch_sizes, perm, index, padded = _layout(op, x, lengths, batch_sizes,
                                                     sorted_indices, batch_first)
    dirs = 2 if bidirectional else 1
    per_dir = len(weights) // dirs
    if per_dir * dirs != len(weights) or per_dir not in (2, 4):
        raise ValueError(f"{op}: expected 2 or 4 weights (w_ih, w_hh[, b_ih, b_hh]) per "
                         f"direction for {dirs} direction(s), got {len(weights)}")
    batch = int(batch_sizes[0])
    hid = weights[1].shape[-1]
    dtype = rows.dtype
    states = []
    for name, s in (("h0", h0), ("c0", c0)) if mode == "lstm" else (("h0", h0),):
        if s is None:
            s = np.zeros((dirs, batch, hid), dtype)
        elif s.shape != (dirs, batch, hid):
            raise ValueError(f"{op}: {name} must have shape {(dirs, batch, hid)}, got {s.shape}")
        states.append(_sorted_state(s, perm))
    outs, h_n, c_n, saved = [], [], [], []
    for d in range(dirs):
        w = weights[d * per_dir:(d + 1) * per_dir]
        w_ih, w_hh = w[0], w[1]
        b_ih, b_hh = (w[2], w[3]) if per_dir == 4 else (None, None)
        c_init = states[1][d] if mode == "lstm" else None
        out, h, c, s = K.rnn_sequence_forward(mode, rows, states[0][d], c_init, w_ih, w_hh,
                                              b_ih, b_hh, batch_sizes, reverse=d == 1)
        outs.append(out)
        h_n.append(h)
        c_n.append(c)
        saved.append(s)
    out = outs[0] if dirs == 1 else np.concatenate(outs, axis=1)
    if padded is not None:
        out = _to_padded(out, index, padded, batch_first)
    ctx.save_for_backward(x, *weights)
    ctx.kernel_saved = saved
    ctx.layout = (perm, index, padded, batch_first, per_dir, hid)
    h_n = _unsorted_state(np.stack(h_n), perm)
    if mode != "lstm":
        return out, h_n
    return out, h_n, _unsorted_state(np.stack(c_n), perm)


def _sequence_backward(ctx, n_states, grad_out, grad_hn, grad_cn):
    perm, index, padded, batch_first, per_dir, hid = ctx.layout
    saved = ctx.kernel_saved
    dirs = len(saved)
    x = ctx.saved[0]
    need = ctx.needs_input_grad
    if padded is not None:
        grad_out = grad_out.reshape(-1, grad_out.shape[-1])
        if index is not None:
            grad_out = grad_out[index]
    grad_hn = _sorted_state(grad_hn, perm)
    grad_cn = None if grad_cn is None else _sorted_state(grad_cn, perm)
    grad_rows = None
    grad_h0, grad_c0, grad_w = [], [], []
    for d in range(dirs):
        first = n_states + d * per_dir
        need_w = any(need[first:first + per_dir])
        go = grad_out if dirs == 1 else grad_out[:, d * hid:(d + 1) * hid]
        gx, gh, gc, gw_ih, gw_hh, gb_ih, gb_hh = K.rnn_sequence_backward(
            saved[d], go, grad_hn[d], None if grad_cn is None else grad_cn[d],
            need_x=need[0], need_w=need_w)
        if gx is not None:
            grad_rows = gx if grad_rows is None else grad_rows + gx
        grad_h0.append(gh)
        grad_c0.append(gc)
        grad_w.extend((gw_ih, gw_hh, gb_ih, gb_hh)[:per_dir])
    grad_x = None
    if need[0]:
        if padded is None:
            grad_x = grad_rows
        elif index is None:
            grad_x = grad_rows.reshape(x.shape)
        else:
            flat = np.zeros((x.size // x.shape[-1], x.shape[-1]), x.dtype)
            flat[index] = grad_rows
            grad_x = flat.reshape(x.shape)
    grad_h0 = _unsorted_state(np.stack(grad_h0), perm) if need[1] else None
    if n_states == 1:
        return (grad_x, grad_h0, *grad_w)
    grad_c0 = _unsorted_state(np.stack(grad_c0), perm) if need[2] else None
    return (grad_x, grad_h0, grad_c0, *grad_w)


class LSTM(Function):
    """A whole-sequence LSTM layer, one or both directions:
    (x, h0, c0, *weights) -> (out, h_n, c_n); weights are (w_ih, w_hh[, b_ih, b_hh]) per
    direction."""

    @staticmethod
    def forward(ctx, x, h0, c0, *weights, lengths=None, batch_sizes=None, sorted_indices=None,
                batch_first=False, bidirectional=False):
        return _sequence_forward(ctx, "lstm", x, h0, c0, weights, lengths, batch_sizes,
                                 sorted_indices, batch_first, bidirectional)

    @staticmethod
    def backward(ctx, grad_out, grad_hn, grad_cn):
        return _sequence_backward(ctx, 2, grad_out, grad_hn, grad_cn)


class GRU(Function):
    """A whole-sequence GRU layer: (x, h0, *weights) -> (out, h_n)."""

    @staticmethod
    def forward(ctx, x, h0, *weights, lengths=None, batch_sizes=None, sorted_indices=None,
                batch_first=False, bidirectional=False):
        return _sequence_forward(ctx, "gru", x, h0, None, weights, lengths, batch_sizes,
                                 sorted_indices, batch_first, bidirectional)

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        return _sequence_backward(ctx, 1, grad_out, grad_hn, None)


class RNN(Function):
    """A whole-sequence Elman layer (tanh or relu): (x, h0, *weights) -> (out, h_n)."""

    @staticmethod
    def forward(ctx, x, h0, *weights, nonlinearity="tanh", lengths=None, batch_sizes=None,
                sorted_indices=None, batch_first=False, bidirectional=False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        return _sequence_forward(ctx, "rnn_" + nonlinearity, x, h0, None, weights, lengths,
                                 batch_sizes, sorted_indices, batch_first, bidirectional)

    @staticmethod
    def backward(ctx, grad_out, grad_hn):
        return _sequence_backward(ctx, 1, grad_out, grad_hn, None)


class PackPadded(Function):
    """Rows of a padded batch (T, N, *) or (N, T, *) in packed order:
    data = x.reshape(T N, *)[index]; the backward scatters the gradient back."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.index = index
        return x.reshape((-1,) + x.shape[2:])[index]

    @staticmethod
    def backward(ctx, grad_data):
        shape = ctx.shape
        grad = np.zeros((shape[0] * shape[1],) + shape[2:], grad_data.dtype)
        grad[ctx.index] = grad_data
        return grad.reshape(shape), None


class PadPacked(Function):
    """Packed rows (R, *) back to a padded batch of `shape`, `padding_value` elsewhere."""

    @staticmethod
    def forward(ctx, data, index, shape, padding_value=0.0):
        ctx.index = index
        out = np.full((shape[0] * shape[1],) + tuple(shape[2:]), padding_value, data.dtype)
        out[index] = data
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.reshape((-1,) + grad_y.shape[2:])[ctx.index], None, None


def _tensor_or_none(a):
    return None if a is None else as_float_tensor(a)


def _int_array(a, name, op):
    if a is None:
        return None
    a = a.data if isinstance(a, Tensor) else a
    a = np.asarray(a)
    if a.dtype.kind not in "iu" or a.ndim != 1:
        raise TypeError(f"{op}: {name} must be a 1-D integer array, got {a.dtype} of shape "
                        f"{a.shape}")
    return a.astype(np.int64, copy=False)


def lstm_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, PyTorch's `torch.lstm_cell`: hx = (h, c) or None (zeros); returns
    (h', c'). x (N, I) or (I,), states (N, H) or (H,)."""
    x = as_float_tensor(x)
    if hx is None:
        shape = x.shape[:-1] + (w_hh.shape[-1],)
        h = c = Tensor(np.zeros(shape, x.dtype))
    else:
        h, c = (as_float_tensor(s) for s in hx)
    return LSTMCell.apply(x, h, c, w_ih, w_hh, _tensor_or_none(b_ih), _tensor_or_none(b_hh))


def gru_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, PyTorch's `torch.gru_cell`; hx (N, H) or None (zeros). Returns h'."""
    x = as_float_tensor(x)
    h = Tensor(np.zeros(x.shape[:-1] + (w_hh.shape[-1],), x.dtype)) if hx is None else hx
    return GRUCell.apply(x, as_float_tensor(h), w_ih, w_hh, _tensor_or_none(b_ih),
                         _tensor_or_none(b_hh))


def rnn_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman step, PyTorch's `torch.rnn_tanh_cell` / `rnn_relu_cell`. Returns h'."""
    x = as_float_tensor(x)
    h = Tensor(np.zeros(x.shape[:-1] + (w_hh.shape[-1],), x.dtype)) if hx is None else hx
    return RNNCell.apply(x, as_float_tensor(h), w_ih, w_hh, _tensor_or_none(b_ih),
                         _tensor_or_none(b_hh), nonlinearity=nonlinearity)


def _sequence_args(op, x, weights, lengths, batch_sizes, sorted_indices):
    x = as_float_tensor(x)
    weights = tuple(as_float_tensor(w) for w in weights)
    layout = dict(lengths=_int_array(lengths, "lengths", op),
                  batch_sizes=_int_array(batch_sizes, "batch_sizes", op),
                  sorted_indices=_int_array(sorted_indices, "sorted_indices", op))
    if layout["lengths"] is not None and layout["batch_sizes"] is not None:
        raise ValueError(f"{op}: pass either lengths (padded input) or batch_sizes (packed "
                         f"input), not both")
    return x, weights, layout


def lstm(x, weights, hx=None, *, bidirectional=False, batch_first=False, lengths=None,
         batch_sizes=None, sorted_indices=None):
    """One LSTM layer over a whole sequence, like nn.LSTM with num_layers=1.

    weights: (w_ih, w_hh[, b_ih, b_hh]) per direction, the reverse direction's last; hx:
    (h0, c0), each (D, N, H), or None (zeros). x (T, N, I), (N, T, I) with batch_first, or
    packed rows (R, I) with batch_sizes; `lengths` (N,) for a padded variable-length batch.
    Returns (out, (h_n, c_n)): out (T, N, D H) (or (N, T, D H), or packed (R, D H))."""
    x, weights, layout = _sequence_args("lstm", x, weights, lengths, batch_sizes,
                                        sorted_indices)
    h0, c0 = (None, None) if hx is None else (_tensor_or_none(hx[0]), _tensor_or_none(hx[1]))
    out, h_n, c_n = LSTM.apply(x, h0, c0, *weights, batch_first=batch_first,
                               bidirectional=bidirectional, **layout)
    return out, (h_n, c_n)


def gru(x, weights, hx=None, *, bidirectional=False, batch_first=False, lengths=None,
        batch_sizes=None, sorted_indices=None):
    """One GRU layer over a whole sequence, like nn.GRU with num_layers=1 (see `lstm`);
    hx (D, N, H) or None. Returns (out, h_n)."""
    x, weights, layout = _sequence_args("gru", x, weights, lengths, batch_sizes,
                                        sorted_indices)
    return GRU.apply(x, _tensor_or_none(hx), *weights, batch_first=batch_first,
                     bidirectional=bidirectional, **layout)


def rnn(x, weights, hx=None, *, nonlinearity="tanh", bidirectional=False, batch_first=False,
        lengths=None, batch_sizes=None, sorted_indices=None):
    """One Elman RNN layer over a whole sequence, like nn.RNN with num_layers=1 (see `lstm`);
    hx (D, N, H) or None. Returns (out, h_n)."""
    x, weights, layout = _sequence_args("rnn", x, weights, lengths, batch_sizes,
                                        sorted_indices)
    return RNN.apply(x, _tensor_or_none(hx), *weights, nonlinearity=nonlinearity,
                     batch_first=batch_first, bidirectional=bidirectional, **layout)


def pack_padded(x, lengths, batch_first=False, enforce_sorted=True):
    """The packed layout of a padded batch x (T, N, *) or (N, T, *):
    (data (R, *), batch_sizes (T',), sorted_indices (N,) or None, unsorted_indices or None),
    as PyTorch's pack_padded_sequence (indices None when the batch was already sorted and
    enforce_sorted is set)."""
    x = as_float_tensor(x)
    lengths = _int_array(lengths, "lengths", "pack_padded")
    if x.ndim < 2:
        raise ValueError(f"pack_padded: input must be at least 2-D, got shape {x.shape}")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    if enforce_sorted and np.any(np.diff(lengths) > 0):
        raise ValueError(f"pack_padded: lengths must be sorted in decreasing order when "
                         f"enforce_sorted=True, got {lengths.tolist()}")
    index, batch_sizes, perm = K.packed_layout("pack_padded", lengths, steps, batch,
                                               batch_first)
    data = PackPadded.apply(x, index)
    if enforce_sorted:
        return data, batch_sizes, None, None
    return data, batch_sizes, perm, np.argsort(perm).astype(np.int64)


def pad_packed(data, batch_sizes, sorted_indices=None, batch_first=False, padding_value=0.0,
               total_length=None):
    """A padded batch (T, N, *) (or (N, T, *)) from packed rows data (R, *); returns
    (padded, lengths (N,) int64) like PyTorch's pad_packed_sequence."""
    data = as_float_tensor(data)
    batch_sizes = K.check_batch_sizes("pad_packed", _int_array(batch_sizes, "batch_sizes",
                                                               "pad_packed"), data.shape[0])
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed: total_length {total_length} is shorter than the "
                             f"longest sequence ({steps})")
        steps = int(total_length)
    batch = int(batch_sizes[0])
    lengths_sorted = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    perm = (np.arange(batch, dtype=np.int64) if sorted_indices is None
            else _int_array(sorted_indices, "sorted_indices", "pad_packed"))
    lengths = np.empty(batch, np.int64)
    lengths[perm] = lengths_sorted
    index, _, _ = K.packed_layout("pad_packed", lengths, steps, batch, batch_first,
                                  perm=perm)
    shape = ((batch, steps) if batch_first else (steps, batch)) + data.shape[1:]
    return PadPacked.apply(data, index, shape, padding_value=padding_value), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0):
    """Sequences of shapes (L_i, *) stacked into one padded batch (T, N, *), T = max L_i
    (or (N, T, *) with batch_first), `padding_value` past each length; PyTorch's
    pad_sequence."""
    sequences = [as_float_tensor(s) for s in sequences]
    if not sequences:
        raise ValueError("pad_sequence: expected at least one sequence")
    tail = sequences[0].shape[1:]
    for i, s in enumerate(sequences):
        if s.ndim == 0 or s.shape[1:] != tail:
            raise ValueError(f"pad_sequence: every sequence must be (L, *{tail}), sequence {i} "
                             f"has shape {s.shape}")
    lengths = [int(s.shape[0]) for s in sequences]
    steps, batch = max(lengths), len(sequences)
    rows = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])
    seq = np.repeat(np.arange(batch, dtype=np.int64), lengths)
    index = seq * steps + rows if batch_first else rows * batch + seq
    shape = ((batch, steps) if batch_first else (steps, batch)) + tuple(tail)
    return PadPacked.apply(cat(sequences, dim=0), index, shape, padding_value=padding_value)
