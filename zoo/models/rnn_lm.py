"""Recurrent language models (d2l chapters 9.5-10.4): the Elman RNN, GRU and LSTM written from
scratch with tapegrad ops (one time step at a time, as the curriculum does first), and the
same models on the recurrent layers (nn.RNN / nn.GRU / nn.LSTM: one op per layer for the
whole sequence), deep and bidirectional. Inputs are token indices (N, T), one-hot encoded;
outputs are next-token logits (T N, V) in time-major order, to be scored against
`Y.T.reshape(-1)`.

Training is truncated backpropagation through time: `train_epoch` carries the hidden state
from one minibatch to the next (detached, so gradients stop at the minibatch boundary) when
the minibatches are sequential partitions, and starts from zeros for random samples; it
clips the global gradient norm and reports perplexity, exp(mean cross-entropy per token).
`predict` generates greedily: it warms the state up on a prefix, then feeds its own
predictions back.
"""
import math
import time

import numpy as np

import autograd as ag
import nn
from nn import functional as F

__all__ = ["RNNScratchCell", "GRUScratchCell", "LSTMScratchCell", "RNNLMScratch", "RNNLM",
           "rnn_lm", "rnn_lm_scratch", "detach_state", "predict", "train_epoch",
           "evaluate_perplexity"]


def _normal(shape, sigma):
    return nn.Parameter(ag.randn(*shape) * sigma)


def _zeros(*shape):
    return nn.Parameter(ag.zeros(*shape))


class RNNScratchCell(nn.Module):
    """H = tanh(X W_xh + H W_hh + b_h)."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xh = _normal((num_inputs, num_hiddens), sigma)
        self.W_hh = _normal((num_hiddens, num_hiddens), sigma)
        self.b_h = _zeros(num_hiddens)

    def begin_state(self, batch_size):
        return ag.zeros(batch_size, self.num_hiddens)

    def forward(self, x, state):
        h = ag.tanh(x @ self.W_xh + state @ self.W_hh + self.b_h)
        return h, h


class GRUScratchCell(nn.Module):
    """Z = sigmoid(X W_xz + H W_hz + b_z), R = sigmoid(X W_xr + H W_hr + b_r),
    H~ = tanh(X W_xh + (R * H) W_hh + b_h), H = Z * H + (1 - Z) * H~."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        for gate in ("z", "r", "h"):
            setattr(self, f"W_x{gate}", _normal((num_inputs, num_hiddens), sigma))
            setattr(self, f"W_h{gate}", _normal((num_hiddens, num_hiddens), sigma))
            setattr(self, f"b_{gate}", _zeros(num_hiddens))

    def begin_state(self, batch_size):
        return ag.zeros(batch_size, self.num_hiddens)

    def forward(self, x, h):
        z = ag.sigmoid(x @ self.W_xz + h @ self.W_hz + self.b_z)
        r = ag.sigmoid(x @ self.W_xr + h @ self.W_hr + self.b_r)
        h_tilde = ag.tanh(x @ self.W_xh + (r * h) @ self.W_hh + self.b_h)
        h = z * h + (1 - z) * h_tilde
        return h, h


class LSTMScratchCell(nn.Module):
    """I, F, O = sigmoid(X W_x. + H W_h. + b_.), C~ = tanh(X W_xc + H W_hc + b_c),
    C = F * C + I * C~, H = O * tanh(C)."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        for gate in ("i", "f", "o", "c"):
            setattr(self, f"W_x{gate}", _normal((num_inputs, num_hiddens), sigma))
            setattr(self, f"W_h{gate}", _normal((num_hiddens, num_hiddens), sigma))
            setattr(self, f"b_{gate}", _zeros(num_hiddens))

    def begin_state(self, batch_size):
        return ag.zeros(batch_size, self.num_hiddens), ag.zeros(batch_size, self.num_hiddens)

    def forward(self, x, state):
        h, c = state
        i = ag.sigmoid(x @ self.W_xi + h @ self.W_hi + self.b_i)
        f = ag.sigmoid(x @ self.W_xf + h @ self.W_hf + self.b_f)
        o = ag.sigmoid(x @ self.W_xo + h @ self.W_ho + self.b_o)
        c_tilde = ag.tanh(x @ self.W_xc + h @ self.W_hc + self.b_c)
        c = f * c + i * c_tilde
        h = o * ag.tanh(c)
        return h, (h, c)


_SCRATCH_CELLS = {"rnn": RNNScratchCell, "gru": GRUScratchCell, "lstm": LSTMScratchCell}


class RNNLMScratch(nn.Module):
    """A language model on scratch cells: one-hot tokens, `num_layers` stacked cells run one
    time step at a time, and a linear read-out W_hq, b_q to the vocabulary at every step."""

    def __init__(self, vocab_size, num_hiddens, cell="rnn", num_layers=1, sigma=0.01):
        super().__init__()
        if cell not in _SCRATCH_CELLS:
            raise ValueError(f"RNNLMScratch: cell must be one of {sorted(_SCRATCH_CELLS)}, "
                             f"got {cell!r}")
        self.vocab_size = vocab_size
        make = _SCRATCH_CELLS[cell]
        self.cells = nn.ModuleList([make(vocab_size if k == 0 else num_hiddens, num_hiddens,
                                         sigma) for k in range(num_layers)])
        self.W_hq = _normal((num_hiddens, vocab_size), sigma)
        self.b_q = _zeros(vocab_size)

    def begin_state(self, batch_size):
        return [cell.begin_state(batch_size) for cell in self.cells]

    def forward(self, inputs, state=None):
        if state is None:
            state = self.begin_state(inputs.shape[0])
        x_all = F.one_hot(inputs.T, self.vocab_size).float()        # (T, N, V)
        state = list(state)
        outputs = []
        for t in range(x_all.shape[0]):
            x = x_all[t]
            for k, cell in enumerate(self.cells):
                x, state[k] = cell(x, state[k])
            outputs.append(x @ self.W_hq + self.b_q)
        return ag.cat(outputs, dim=0), state


class RNNLM(nn.Module):
    """A language model on a recurrent layer: one-hot tokens -> `rnn` (nn.RNN, nn.GRU or
    nn.LSTM, any depth, optionally bidirectional) -> a Linear read-out to the vocabulary."""

    def __init__(self, rnn, vocab_size):
        super().__init__()
        self.rnn = rnn
        self.vocab_size = vocab_size
        dirs = 2 if rnn.bidirectional else 1
        self.linear = nn.Linear(rnn.hidden_size * dirs, vocab_size)

    def begin_state(self, batch_size):
        dirs = 2 if self.rnn.bidirectional else 1
        shape = (dirs * self.rnn.num_layers, batch_size, self.rnn.hidden_size)
        dtype = self.linear.weight.dtype
        if isinstance(self.rnn, nn.LSTM):
            return ag.zeros(*shape, dtype=dtype), ag.zeros(*shape, dtype=dtype)
        return ag.zeros(*shape, dtype=dtype)

    def forward(self, inputs, state=None):
        x = F.one_hot(inputs.T, self.vocab_size).to(self.linear.weight.dtype)   # (T, N, V)
        y, state = self.rnn(x, state)
        return self.linear(y.reshape(-1, y.shape[-1])), state


_LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def rnn_lm(vocab_size, num_hiddens=256, cell="lstm", num_layers=1, bidirectional=False,
           dropout=0.0):
    """An RNNLM on nn.RNN / nn.GRU / nn.LSTM (`cell`); num_layers=2 is the deep variant."""
    if cell not in _LAYERS:
        raise ValueError(f"rnn_lm: cell must be one of {sorted(_LAYERS)}, got {cell!r}")
    layer = _LAYERS[cell](vocab_size, num_hiddens, num_layers=num_layers,
                          bidirectional=bidirectional, dropout=dropout)
    return RNNLM(layer, vocab_size)


def rnn_lm_scratch(vocab_size, num_hiddens=256, cell="lstm", num_layers=1):
    """An RNNLMScratch: the same model from cells written with tapegrad ops."""
    return RNNLMScratch(vocab_size, num_hiddens, cell=cell, num_layers=num_layers)


def detach_state(state):
    """The state (a Tensor, or tuples/lists of them) cut from the tape: truncated BPTT."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


def predict(prefix, num_preds, model, vocab, sep=""):
    """Greedy generation: run the model over `prefix` (a string of characters, or a list of
    tokens) to warm up its state, then append `num_preds` tokens, each the argmax of the
    logits given the previous one. Returns the prefix and the prediction joined by `sep`."""
    tokens = list(prefix)
    if not tokens:
        raise ValueError("predict: the prefix must hold at least one token")
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():
            state = model.begin_state(1)
            indices = [vocab[tokens[0]]]
            for token in tokens[1:]:
                _, state = model(ag.tensor([[indices[-1]]]), state)
                indices.append(vocab[token])
            for _ in range(num_preds):
                logits, state = model(ag.tensor([[indices[-1]]]), state)
                indices.append(int(np.argmax(logits.data[-1])))
    finally:
        model.train(was_training)
    return sep.join(vocab.to_tokens(indices))


def train_epoch(model, loader, optimizer, clip=1.0, use_random_iter=None):
    """One pass of truncated BPTT over `loader` ((X, Y) minibatches). The state is detached
    between sequential minibatches and reset for random ones (`use_random_iter`, by default
    the loader's own). Returns (perplexity, tokens per second)."""
    if use_random_iter is None:
        use_random_iter = getattr(loader, "use_random_iter", False)
    model.train()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state = None
    total = tokens = 0
    start = time.perf_counter()
    for x, y in loader:
        state = None if use_random_iter else detach_state(state)
        optimizer.zero_grad()
        logits, state = model(x, state)
        loss = F.cross_entropy(logits, y.T.reshape(-1))
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        n = y.numel()
        total += loss.item() * n
        tokens += n
    if tokens == 0:
        raise ValueError("train_epoch: the loader yielded no minibatches")
    return math.exp(total / tokens), tokens / (time.perf_counter() - start)


def evaluate_perplexity(model, loader):
    """exp(mean cross-entropy per token) over `loader`, the state carried between
    minibatches (sequential partitions); no tape, eval mode."""
    was_training = model.training
    model.eval()
    state = None
    total = tokens = 0
    try:
        with ag.no_grad():
            for x, y in loader:
                logits, state = model(x, state)
                n = y.numel()
                total += F.cross_entropy(logits, y.T.reshape(-1)).item() * n
                tokens += n
    finally:
        model.train(was_training)
    if tokens == 0:
        raise ValueError("evaluate_perplexity: the loader yielded no minibatches")
    return math.exp(total / tokens)
