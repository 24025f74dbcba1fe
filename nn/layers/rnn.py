"""Recurrent layers as PyTorch's: the cells `RNNCell`, `LSTMCell`, `GRUCell` (one step) and the
sequence layers `RNN`, `LSTM`, `GRU` (stacked, optionally bidirectional), with PyTorch's
parameter names, shapes, gate order and initialisation, so a torch state_dict loads as is.

A sequence layer runs each of its layers as one whole-sequence op (`F.lstm`, ...): the time
loop and backpropagation through time happen inside a single tape node per layer. Variable-
length batches come as a `PackedSequence` (`nn.utils.rnn.pack_padded_sequence`,
`pack_sequence`), or as a padded batch with `lengths=` (a tapegrad extension; outputs past
each length are zero).
"""
import math

import numpy as np

import autograd
from autograd.tensor import Tensor
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter
from nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]


class _CellBase(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = self.gates * hidden_size
        self.weight_ih = Parameter(autograd.empty(rows, input_size, dtype=dtype))
        self.weight_hh = Parameter(autograd.empty(rows, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(autograd.empty(rows, dtype=dtype))
            self.bias_hh = Parameter(autograd.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _check_input(self, x):
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input of shape (N, "
                             f"{self.input_size}) or ({self.input_size},), got {tuple(x.shape)}")

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text


class RNNCell(_CellBase):
    """An Elman cell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        bias: learn b_ih and b_hh (default True).
        nonlinearity: 'tanh' (default) or 'relu'.

    Shape: input (N, I) or (I,), hx (N, H) or (H,) (zeros if None) -> h' of hx's shape.
    weight_ih (H, I), weight_hh (H, H), bias_ih and bias_hh (H,).
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        self._check_input(input)
        return F.rnn_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                          self.bias_hh, nonlinearity=self.nonlinearity)

    def extra_repr(self):
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + ", nonlinearity='relu'"


class LSTMCell(_CellBase):
    """A long short-term memory cell (gates i, f, g, o stacked in that order, as PyTorch):
    c' = f c + i g, h' = o tanh(c').

    Args:
        input_size: features of the input x.
        hidden_size: features of h and c.
        bias: learn b_ih and b_hh (default True).

    Shape: input (N, I) or (I,), hx = (h, c) each (N, H) or (H,) (zeros if None) ->
    (h', c'). weight_ih (4H, I), weight_hh (4H, H), bias_ih and bias_hh (4H,).
    """
    gates = 4

    def forward(self, input, hx=None):  # noqa: A002
        self._check_input(input)
        return F.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh)


class GRUCell(_CellBase):
    """A gated recurrent unit (gates r, z, n stacked as PyTorch):
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h.

    Args:
        input_size: features of the input x.
        hidden_size: features of h.
        bias: learn b_ih and b_hh (default True).

    Shape: input (N, I) or (I,), hx (N, H) or (H,) (zeros if None) -> h'.
    weight_ih (3H, I), weight_hh (3H, H), bias_ih and bias_hh (3H,).
    """
    gates = 3

    def forward(self, input, hx=None):  # noqa: A002
        self._check_input(input)
        return F.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                          self.bias_hh)


class _RNNBase(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got "
                             f"{dropout!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        dirs = 2 if bidirectional else 1
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * dirs
            for suffix in ("", "_reverse")[:dirs]:
                setattr(self, f"weight_ih_l{layer}{suffix}",
                        Parameter(autograd.empty(rows, layer_input, dtype=dtype)))
                setattr(self, f"weight_hh_l{layer}{suffix}",
                        Parameter(autograd.empty(rows, hidden_size, dtype=dtype)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}",
                            Parameter(autograd.empty(rows, dtype=dtype)))
                    setattr(self, f"bias_hh_l{layer}{suffix}",
                            Parameter(autograd.empty(rows, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """Kept for PyTorch compatibility: the weights are used in place, nothing to do."""

    def _layer_weights(self, layer):
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        suffixes = ("", "_reverse") if self.bidirectional else ("",)
        return [getattr(self, f"{n}_l{layer}{s}") for s in suffixes for n in names]

    @property
    def all_weights(self):
        """The parameters per layer and direction, in PyTorch's order."""
        per_dir = 4 if self.bias else 2
        out = []
        for layer in range(self.num_layers):
            w = self._layer_weights(layer)
            out.extend(w[i:i + per_dir] for i in range(0, len(w), per_dir))
        return out

    def _run_layer(self, x, weights, hx, layout):
        raise NotImplementedError

    def _states(self, hx, batch, unbatched, dtype):
        """hx as a list of (D L, N, H) tensors (or None), checked against PyTorch's shape."""
        n = 2 if isinstance(self, LSTM) else 1
        if hx is None:
            return [None] * n
        states = list(hx) if n == 2 else [hx]
        if len(states) != n:
            raise ValueError(f"{type(self).__name__}: hx must be (h_0, c_0)")
        dirs = 2 if self.bidirectional else 1
        want = (dirs * self.num_layers,) + (() if unbatched else (batch,)) + (self.hidden_size,)
        out = []
        for s in states:
            if tuple(s.shape) != want:
                raise ValueError(f"{type(self).__name__}: expected hidden state of shape "
                                 f"{want}, got {tuple(s.shape)}")
            out.append(s.unsqueeze(1) if unbatched else s)
        return out

    def forward(self, input, hx=None, lengths=None):  # noqa: A002
        """input: (T, N, I) ((N, T, I) with batch_first), unbatched (T, I), or a
        PackedSequence; `lengths` (N,) makes a padded input a variable-length batch.
        Returns (output, h_n) (LSTM: (output, (h_n, c_n))) as PyTorch."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            x = input.data
            batch_sizes, sorted_indices = input.batch_sizes, input.sorted_indices
            sizes = batch_sizes.data if isinstance(batch_sizes, Tensor) else batch_sizes
            batch = int(np.asarray(sizes)[0])
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: expected a 3-D input (or 2-D unbatched), got shape "
                                 f"{tuple(input.shape)}")
            unbatched = input.ndim == 2
            x = input.unsqueeze(0 if self.batch_first else 1) if unbatched else input
            batch = x.shape[0] if self.batch_first else x.shape[1]
            if lengths is not None:
                seq = pack_padded_sequence(x, lengths, self.batch_first, enforce_sorted=False)
                x, batch_sizes, sorted_indices = seq.data, seq.batch_sizes, seq.sorted_indices
            else:
                batch_sizes = sorted_indices = None
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {x.shape[-1]} features, expected "
                             f"{self.input_size}")
        states = self._states(hx, batch, unbatched, x.dtype)
        dirs = 2 if self.bidirectional else 1
        layout = dict(bidirectional=self.bidirectional,
                      batch_first=self.batch_first and batch_sizes is None,
                      batch_sizes=batch_sizes, sorted_indices=sorted_indices)
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            hx_l = [None if s is None else s[layer * dirs:(layer + 1) * dirs] for s in states]
            x, new = self._run_layer(x, self._layer_weights(layer), hx_l, layout)
            for f, s in zip(finals, new):
                f.append(s)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        finals = [f[0] if len(f) == 1 else autograd.cat(f, dim=0) for f in finals]
        if unbatched:
            finals = [f.squeeze(1) for f in finals]
        if packed:
            x = PackedSequence(x, batch_sizes, sorted_indices, input.unsorted_indices)
        elif lengths is not None:
            steps = input.shape[1 if self.batch_first and not unbatched else 0]
            x = pad_packed_sequence(PackedSequence(x, batch_sizes, sorted_indices),
                                    self.batch_first, total_length=steps)[0]
        if unbatched:
            x = x.squeeze(0 if self.batch_first else 1)
        return x, (tuple(finals) if len(finals) == 2 else finals[0])

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(_RNNBase):
    """A stack of Elman layers, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        num_layers: stacked layers (default 1).
        nonlinearity: 'tanh' (default) or 'relu'.
        bias: learn b_ih and b_hh (default True).
        batch_first: input and output are (N, T, *) instead of (T, N, *).
        dropout: dropout probability on the outputs of every layer but the last (training).
        bidirectional: also run each layer backwards in time; outputs are concatenated.

    Shape: input (T, N, I) -> output (T, N, D H), h_n (D L, N, H), D = 2 if bidirectional;
    hx (D L, N, H) or None (zeros). Parameters weight_ih_l{k}[_reverse] (H, I or D H),
    weight_hh_l{k}[_reverse] (H, H), bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse] (H,).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype)
        self.nonlinearity = nonlinearity

    def _run_layer(self, x, weights, hx, layout):
        out, h = F.rnn(x, weights, hx[0], nonlinearity=self.nonlinearity, **layout)
        return out, (h,)

    def extra_repr(self):
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + ", nonlinearity='relu'"


class LSTM(_RNNBase):
    """A stack of LSTM layers (gates i, f, g, o stacked in that order, as PyTorch).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as `RNN`.

    Shape: input (T, N, I) -> output (T, N, D H), (h_n, c_n) each (D L, N, H); hx = (h_0,
    c_0) or None. Parameters as `RNN` with 4H rows: weight_ih_l{k}[_reverse] (4H, I or D H),
    weight_hh_l{k}[_reverse] (4H, H), bias_ih_l{k}[_reverse] and bias_hh_l{k}[_reverse] (4H,).
    """
    gates = 4

    def _run_layer(self, x, weights, hx, layout):
        state = None if hx[0] is None and hx[1] is None else tuple(hx)
        if state is not None and any(s is None for s in state):
            raise ValueError("LSTM: hx must give both h_0 and c_0")
        out, (h, c) = F.lstm(x, weights, state, **layout)
        return out, (h, c)


class GRU(_RNNBase):
    """A stack of GRU layers (gates r, z, n stacked as PyTorch).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as `RNN`.

    Shape: input (T, N, I) -> output (T, N, D H), h_n (D L, N, H); hx (D L, N, H) or None.
    Parameters as `RNN` with 3H rows.
    """
    gates = 3

    def _run_layer(self, x, weights, hx, layout):
        out, h = F.gru(x, weights, hx[0], **layout)
        return out, (h,)
