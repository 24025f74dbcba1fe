"""word2vec's data (d2l 15.3, Mikolov et al. 2013): a vocabulary with a minimum count,
subsampling of frequent words, random context windows, noise words from the unigram
distribution raised to 0.75 (never one of the row's own context words), and minibatches of
rows with their labels and masks; GloVe's co-occurrence counts and fastText's subwords.

Everything works on whole arrays of word ids (an epoch is a few numpy passes and one Numba
loop over the corpus, `kernels.embedding.skipgram_rows`, not a Python loop per word), so the
data side keeps up with the fused training step.

    sentences = tokenize(load_shakespeare())
    vocab = Vocab(sentences, min_count=5)
    corpus = vocab.encode(sentences)                       # ids + sentence starts
    noise = NoiseSampler(vocab.counts)
    for batch in skipgram_batches(corpus, vocab, noise, rng, batch_size=512):
        batch.centers, batch.columns, batch.labels, batch.mask ...
"""
import re
from collections import Counter
from typing import NamedTuple

import numpy as np

from kernels.embedding import noise_words, skipgram_rows

__all__ = ["tokenize", "Vocab", "Corpus", "NoiseSampler", "discard_probability", "subsample",
           "context_windows", "SkipGramBatch", "CbowBatch", "PairBatch", "skipgram_batches",
           "cbow_batches", "pair_batches", "cooccurrence", "subword_ngrams"]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def tokenize(text):
    """Sentences of lower-case words from a text of paragraphs (`load_shakespeare`'s layout:
    each speech a paragraph that opens with a `SPEAKER:` line, which is dropped). A word is a
    run of letters with inner apostrophes ("o'er", "mistress'")."""
    sentences = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.strip().split("\n")
        if lines and lines[0].endswith(":") and lines[0][:-1].isupper():
            lines = lines[1:]
        words = _WORD.findall(" ".join(lines).lower())
        if words:
            sentences.append(words)
    return sentences


class Corpus(NamedTuple):
    """Word ids of all sentences end to end (N,) int64, and where each sentence starts
    (S + 1,), the last entry N."""
    ids: np.ndarray
    starts: np.ndarray

    def sentence_of(self):
        """The sentence index of each position (N,)."""
        return np.repeat(np.arange(self.starts.size - 1), np.diff(self.starts))


class Vocab:
    """The words seen at least `min_count` times, most frequent first (ties alphabetical).

    `vocab[word]` is its id, `vocab.words[i]` the word, `vocab.counts` (V,) int64 the counts.
    """

    def __init__(self, sentences, min_count=5):
        counter = Counter(word for sentence in sentences for word in sentence)
        kept = sorted((w for w, c in counter.items() if c >= min_count),
                      key=lambda w: (-counter[w], w))
        if not kept:
            raise ValueError(f"Vocab: no word occurs at least min_count={min_count} times")
        self.words = kept
        self.counts = np.array([counter[w] for w in kept], dtype=np.int64)
        self.index = {w: i for i, w in enumerate(kept)}
        self.min_count = min_count

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.index[word]

    def get(self, word, default=None):
        return self.index.get(word, default)

    def encode(self, sentences):
        """The Corpus of `sentences`, words outside the vocabulary dropped (as word2vec
        does before windows are drawn)."""
        ids, starts = [], [0]
        for sentence in sentences:
            ids.extend(self.index[w] for w in sentence if w in self.index)
            starts.append(len(ids))
        return Corpus(np.array(ids, dtype=np.int64), np.array(starts, dtype=np.int64))

    def __repr__(self):
        return f"Vocab({len(self)} words, min_count={self.min_count})"


def discard_probability(counts, t=1e-4, formula="d2l"):
    """Subsampling: the probability of dropping each occurrence of word w, f(w) its share of
    the corpus. formula 'd2l': max(1 - sqrt(t / f(w)), 0) (Mikolov et al., d2l's formula);
    'word2vec': max(1 - (sqrt(f(w) / t) + 1) t / f(w), 0), the one word2vec.c and gensim run,
    which for the same t keeps more of the mid-frequency words (at f = 4t it keeps 3/4 of
    them where 'd2l' keeps 1/2)."""
    freq = counts / counts.sum()
    if formula == "d2l":
        return np.maximum(1.0 - np.sqrt(t / freq), 0.0)
    if formula == "word2vec":
        return np.maximum(1.0 - (np.sqrt(freq / t) + 1.0) * t / freq, 0.0)
    raise ValueError(f"discard_probability: formula must be 'd2l' or 'word2vec', got "
                     f"{formula!r}")


def subsample(corpus, counts, t, rng, formula="d2l"):
    """A new Corpus with frequent words dropped at random (`discard_probability`); sentence
    boundaries are kept, so windows never cross them."""
    if not t:
        return corpus
    drop = discard_probability(counts, t, formula)
    keep = rng.random(corpus.ids.size) >= drop[corpus.ids]
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    return Corpus(corpus.ids[keep], kept_before[corpus.starts])


class NoiseSampler:
    """Noise words from P(w) proportional to count(w)^power (0.75 in word2vec), drawn by
    Walker's alias method: two array lookups per word, exact probabilities."""

    def __init__(self, counts, power=0.75):
        p = np.asarray(counts, dtype=np.float64) ** power
        self.probs = p / p.sum()
        n = p.size
        scaled = self.probs * n
        self.accept = np.ones(n)
        self.alias = np.arange(n)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            s, big = small.pop(), large.pop()
            self.accept[s] = scaled[s]
            self.alias[s] = big
            scaled[big] -= 1.0 - scaled[s]
            (small if scaled[big] < 1.0 else large).append(big)

    def sample(self, shape, rng):
        """int64 word ids of the given shape."""
        column = rng.integers(0, self.probs.size, shape)
        return np.where(rng.random(shape) < self.accept[column], column, self.alias[column])

    def sample_avoiding(self, forbidden, allowed, per_row, width, rng):
        """(N, width) noise words: row b gets per_row[b] of them (zeros after), none equal to
        a word forbidden[b, c] where allowed[b, c] (the row's context words)."""
        return noise_words(forbidden, allowed, per_row, width, self.accept, self.alias,
                           rng.integers(2 ** 31))


def context_windows(corpus, max_window, rng):
    """For every position: a window size drawn uniformly from 1..max_window, and the ids of
    the words within it in the same sentence. Returns (centers (N,), contexts (N, 2W) padded
    with 0, valid (N, 2W) bool); positions with no context are left out."""
    n = corpus.ids.size
    sentence = corpus.sentence_of()
    first, last = corpus.starts[sentence], corpus.starts[sentence + 1]
    size = rng.integers(1, max_window + 1, n)
    position = np.arange(n)
    offsets = np.concatenate([-np.arange(max_window, 0, -1), np.arange(1, max_window + 1)])
    where = position[:, None] + offsets
    valid = (np.abs(offsets) <= size[:, None]) & (where >= first[:, None]) & \
        (where < last[:, None])
    contexts = corpus.ids[np.where(valid, where, 0)] * valid
    has = valid.any(1)
    return corpus.ids[has], contexts[has], valid[has]


class SkipGramBatch(NamedTuple):
    """One row per center word: columns = its n context words then K noise words per
    context word (B, n (1 + K)); labels 1 on the context words; mask 1 on used columns (all
    of them here: a batch holds rows of one n, so nothing is padded)."""
    centers: np.ndarray
    columns: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    words: int            # corpus positions (before subsampling) this batch stands for


class CbowBatch(NamedTuple):
    """One row per target word: its context words as bags (ids (M,), offsets (B,)) for an
    EmbeddingBag, and columns = the target then K noise words, all used."""
    context_ids: np.ndarray
    offsets: np.ndarray
    columns: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    words: int


class PairBatch(NamedTuple):
    """(center, context) word pairs, one per row, for hierarchical softmax."""
    centers: np.ndarray
    targets: np.ndarray
    words: int


def _chunks(corpus, chunk_words):
    """Pieces of about `chunk_words` positions, cut at sentence starts."""
    cuts = np.searchsorted(corpus.starts, np.arange(0, corpus.ids.size, chunk_words))
    cuts = np.unique(np.concatenate([cuts, [corpus.starts.size - 1]]))
    for a, b in zip(cuts[:-1], cuts[1:]):
        starts = corpus.starts[a:b + 1]
        yield Corpus(corpus.ids[starts[0]:starts[-1]], starts - starts[0])


def _epoch(corpus, vocab, rng, sample, max_window, chunk_words, make_rows, batch_size,
           subsampling):
    """Shared driver: per chunk, subsample, draw windows, build rows, shuffle, slice."""
    for chunk in _chunks(corpus, chunk_words):
        kept = subsample(chunk, vocab.counts, sample, rng, subsampling)
        centers, contexts, valid = context_windows(kept, max_window, rng)
        if centers.size == 0:
            continue
        rows = make_rows(centers, contexts, valid)
        order = rng.permutation(rows[0].shape[0])
        n_batches = -(-order.size // batch_size)
        words = chunk.ids.size
        for i in range(n_batches):
            pick = order[i * batch_size:(i + 1) * batch_size]
            share = words * (i + 1) // n_batches - words * i // n_batches
            yield tuple(r[pick] for r in rows), share


def skipgram_batches(corpus, vocab, noise, rng, batch_size=512, max_window=5, num_noise=5,
                     sample=1e-4, chunk_words=100_000, subsampling="d2l"):
    """One epoch of skip-gram minibatches with negative sampling (SkipGramBatch), in random
    order within chunks of about `chunk_words` corpus words; noise words never equal one of
    the row's context words. The rows of a batch share their number of context words (the
    window sizes are drawn as usual), so a batch has no padding: half the columns of the
    padded layout, whose rows have 1 to 2 max_window contexts."""
    for chunk in _chunks(corpus, chunk_words):
        kept = subsample(chunk, vocab.counts, sample, rng, subsampling)
        sizes = rng.integers(1, max_window + 1, kept.ids.size)
        groups = skipgram_rows(kept.ids, kept.starts, sizes, num_noise, noise.accept,
                               noise.alias, rng.integers(2 ** 31), rng)
        parts = [(n, i) for n, (centers, _) in groups.items()
                 for i in range(0, centers.size, batch_size)]
        if not parts:
            continue
        words = chunk.ids.size
        labels = {}
        for k, p in enumerate(rng.permutation(len(parts))):
            n, i = parts[p]
            centers, columns = groups[n]
            rows = slice(i, i + batch_size)
            if n not in labels:
                label = np.zeros((min(batch_size, centers.size), columns.shape[1]), np.float32)
                label[:, :n] = 1.0
                ones = np.ones_like(label)
                label.flags.writeable = ones.flags.writeable = False   # shared by batches
                labels[n] = (label, ones)
            size = centers[rows].size
            share = words * (k + 1) // len(parts) - words * k // len(parts)
            yield SkipGramBatch(centers[rows], columns[rows], labels[n][0][:size],
                                labels[n][1][:size], share)


def cbow_batches(corpus, vocab, noise, rng, batch_size=512, max_window=5, num_noise=5,
                 sample=1e-4, chunk_words=100_000, subsampling="d2l"):
    """One epoch of CBOW minibatches (CbowBatch): predict each word from the bag of its
    context words; K noise words per target, never the target itself."""

    def make_rows(centers, contexts, valid):
        words = noise.sample_avoiding(centers[:, None], True, num_noise, num_noise, rng)
        return centers, contexts, valid, words

    for (centers, contexts, valid, negatives), words in _epoch(
            corpus, vocab, rng, sample, max_window, chunk_words, make_rows, batch_size,
            subsampling):
        sizes = valid.sum(1)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        columns = np.concatenate([centers[:, None], negatives], 1)
        labels = np.zeros(columns.shape, np.float32)
        labels[:, 0] = 1.0
        yield CbowBatch(contexts[valid], offsets, columns, labels,
                        np.ones(columns.shape, np.float32), words)


def pair_batches(corpus, vocab, rng, batch_size=4096, max_window=5, sample=1e-4,
                 chunk_words=100_000, subsampling="d2l"):
    """One epoch of (center, context) pairs (PairBatch), for hierarchical softmax."""

    def make_rows(centers, contexts, valid):
        return np.repeat(centers, valid.sum(1)), contexts[valid]

    for (centers, targets), words in _epoch(corpus, vocab, rng, sample, max_window,
                                            chunk_words, make_rows, batch_size, subsampling):
        yield PairBatch(centers, targets, words)


def cooccurrence(corpus, vocab_size, window=10):
    """GloVe's co-occurrence counts: X_ij = sum over the times word j appears within `window`
    positions of word i (same sentence) of 1 / distance, symmetric. Returns (rows, cols,
    values) of the non-zero entries, rows and cols int64, values float64."""
    sentence = corpus.sentence_of()
    keys, weights = [], []
    for d in range(1, window + 1):
        same = sentence[d:] == sentence[:-d]
        left, right = corpus.ids[:-d][same], corpus.ids[d:][same]
        keys += [left * vocab_size + right, right * vocab_size + left]
        weights += [np.full(2 * left.size, 1.0 / d)]
    keys = np.concatenate(keys)
    unique, inverse = np.unique(keys, return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate(weights))
    return unique // vocab_size, unique % vocab_size, values


def subword_ngrams(words, min_n=3, max_n=6):
    """fastText's subwords: each word framed as `<word>`, its character n-grams for
    min_n <= n <= max_n, plus the whole framed word. Returns (ngram list, ids (M,) into it,
    offsets (V,) where each word's ids start) for an EmbeddingBag."""
    index, ids, offsets = {}, [], []
    for word in words:
        framed = f"<{word}>"
        grams = {framed}
        for n in range(min_n, max_n + 1):
            grams.update(framed[i:i + n] for i in range(len(framed) - n + 1))
        offsets.append(len(ids))
        for gram in sorted(grams):
            ids.append(index.setdefault(gram, len(index)))
    return list(index), np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64)
