"""Text as sequences of token indices (d2l chapter 9): tokenizers, a `Vocab`, and the two
minibatch schemes for language models.

    tokens = tokenize(text, "char")
    vocab = Vocab(tokens, min_freq=1, reserved_tokens=["<eos>"])
    corpus = vocab.encode(tokens)                           # int64 (L,)
    for X, Y in SeqDataLoader(corpus, batch_size=32, num_steps=35, use_random_iter=False):
        ...                                                 # X, Y: int64 (N, T), Y = X shifted

Random sampling draws subsequences from random positions, so consecutive minibatches are
unrelated and the hidden state starts afresh for each; sequential partitioning splits the
corpus into `batch_size` streams and walks along them, so row i of a minibatch continues row i
of the previous one and the state can be carried over (detached: truncated BPTT).
"""
import collections
import re

import numpy as np

import autograd as ag
from autograd import random as _random

__all__ = ["tokenize", "Vocab", "load_corpus", "seq_data_iter_random",
           "seq_data_iter_sequential", "SeqDataLoader"]

_WORD = re.compile(r"[A-Za-z']+|[0-9]+|[^\sA-Za-z0-9']")


def tokenize(text, token="char"):
    """Split text into tokens. `text` is a string or a list of lines (then one token list per
    line, as d2l's `tokenize`); `token` is "char" (every character, spaces and newlines
    included) or "word" (runs of letters and apostrophes, numbers, and every punctuation mark
    on its own)."""
    if token not in ("char", "word"):
        raise ValueError(f"tokenize: token must be 'char' or 'word', got {token!r}")
    if not isinstance(text, str):
        return [tokenize(line, token) for line in text]
    return list(text) if token == "char" else _WORD.findall(text)


def _flatten(tokens):
    if tokens and isinstance(tokens[0], (list, tuple)):
        return [t for line in tokens for t in line]
    return list(tokens)


class Vocab:
    """Token <-> index maps. Index 0 is the unknown token, then `reserved_tokens`, then every
    token seen at least `min_freq` times, most frequent first (ties in order of first
    appearance). Looking up an unknown token gives index 0.

    Args:
        tokens: a list of tokens or of token lists.
        min_freq: rarer tokens map to the unknown token.
        reserved_tokens: tokens that always get an index (e.g. "<pad>", "<bos>", "<eos>").
        unk_token: the unknown token's spelling.
    """

    def __init__(self, tokens=(), min_freq=0, reserved_tokens=(), unk_token="<unk>"):
        counter = collections.Counter(_flatten(list(tokens)))
        # Counter keeps first-appearance order; a stable sort by count keeps it for ties
        self.token_freqs = sorted(counter.items(), key=lambda kv: kv[1], reverse=True)
        self.unk_token = unk_token
        self.idx_to_token = [unk_token]
        for t in reserved_tokens:
            if t not in self.idx_to_token:
                self.idx_to_token.append(t)
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        for t, freq in self.token_freqs:
            if freq < min_freq:
                break
            if t not in self.token_to_idx:
                self.token_to_idx[t] = len(self.idx_to_token)
                self.idx_to_token.append(t)

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """The index of one token, or a list of indices for a list or tuple of tokens."""
        if isinstance(tokens, (list, tuple)):
            return [self.token_to_idx.get(t, 0) for t in tokens]
        return self.token_to_idx.get(tokens, 0)

    def __contains__(self, token):
        return token in self.token_to_idx

    @property
    def unk(self):
        return 0

    def to_tokens(self, indices):
        """The token of one index, or a list of tokens for a sequence of indices."""
        if isinstance(indices, (int, np.integer)):
            return self.idx_to_token[int(indices)]
        return [self.idx_to_token[int(i)] for i in np.asarray(indices).reshape(-1)]

    def encode(self, tokens):
        """int64 indices (L,) of a flat token list."""
        lookup = self.token_to_idx.get
        return np.fromiter((lookup(t, 0) for t in tokens), np.int64, count=len(tokens))

    def decode(self, indices, sep=""):
        """The tokens of `indices` joined by `sep` ("" for characters, " " for words)."""
        return sep.join(self.to_tokens(indices))

    def __repr__(self):
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        return f"Vocab(size={len(self)}, tokens=[{head}{', ...' if len(self) > 8 else ''}])"


def load_corpus(text, token="char", vocab=None, min_freq=0, max_tokens=None):
    """(corpus int64 (L,), vocab) of a text; a given vocab is reused (e.g. the training
    split's for the validation split)."""
    tokens = tokenize(text, token)
    if max_tokens is not None:
        tokens = tokens[:max_tokens]
    vocab = Vocab(tokens, min_freq=min_freq) if vocab is None else vocab
    return vocab.encode(tokens), vocab


def _rng(rng):
    return _random.generator() if rng is None else rng


def _pair(corpus, starts, num_steps):
    index = np.asarray(starts, np.int64)[:, None] + np.arange(num_steps)
    return ag.tensor(corpus[index]), ag.tensor(corpus[index + 1])


def seq_data_iter_random(corpus, batch_size, num_steps, rng=None):
    """Minibatches of random subsequences: after a random offset in [0, num_steps) the corpus
    is cut into non-overlapping subsequences of num_steps tokens, taken in random order.
    Yields (X, Y) int64 (batch_size, num_steps), Y the next token of every X."""
    rng = _rng(rng)
    corpus = np.asarray(corpus)
    offset = int(rng.integers(0, num_steps))
    count = (len(corpus) - offset - 1) // num_steps
    starts = offset + num_steps * rng.permutation(count)
    for i in range(0, count // batch_size * batch_size, batch_size):
        yield _pair(corpus, starts[i:i + batch_size], num_steps)


def seq_data_iter_sequential(corpus, batch_size, num_steps, rng=None, offset=None):
    """Minibatches by sequential (adjacent) partitioning: after a random offset the corpus is
    split into batch_size equal streams, and minibatch k holds tokens [k T, (k + 1) T) of each
    stream, so its rows continue the rows of minibatch k - 1. Yields (X, Y) int64
    (batch_size, num_steps)."""
    corpus = np.asarray(corpus)
    if offset is None:
        offset = int(_rng(rng).integers(0, num_steps))
    per_stream = (len(corpus) - offset - 1) // batch_size
    streams = offset + per_stream * np.arange(batch_size)
    for k in range(per_stream // num_steps):
        yield _pair(corpus, streams + k * num_steps, num_steps)


class SeqDataLoader:
    """An iterable of language-model minibatches (X, Y) over a corpus of token indices, by
    random sampling or sequential partitioning; each pass draws a new random offset (and
    order) from `rng` (the library's seeded generator by default)."""

    def __init__(self, corpus, batch_size, num_steps, use_random_iter=False, rng=None):
        self.corpus = np.asarray(corpus, np.int64)
        if len(self.corpus) < batch_size * num_steps + num_steps + 1:
            raise ValueError(f"SeqDataLoader: a corpus of {len(self.corpus)} tokens is too "
                             f"short for batch_size {batch_size} x num_steps {num_steps}")
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.use_random_iter = use_random_iter
        self.rng = rng

    def __iter__(self):
        make = seq_data_iter_random if self.use_random_iter else seq_data_iter_sequential
        return make(self.corpus, self.batch_size, self.num_steps, rng=_rng(self.rng))

    def __len__(self):
        # the largest count over offsets in [0, num_steps) (the offset is drawn per pass)
        n, b, t = len(self.corpus), self.batch_size, self.num_steps
        if self.use_random_iter:
            return ((n - 1) // t) // b
        return ((n - 1) // b) // t
