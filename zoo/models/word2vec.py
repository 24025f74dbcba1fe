"""word2vec (Mikolov et al. 2013; d2l 15.1-15.4): skip-gram and CBOW with negative sampling,
skip-gram with hierarchical softmax, and the queries on trained vectors (nearest neighbours,
3CosAdd analogies, rated-pair correlation).

Each model holds two tables of word vectors, the input (center) vectors, which are the
embeddings kept after training, and the output (context) vectors. The loss of a batch is
word2vec's per-pair loss summed (`reduction='sum', normalize=False`), so plain sparse SGD at
word2vec's learning rate takes the steps word2vec takes. The input vectors start uniform in
+-1 / D as in gensim (word2vec.c uses +-0.5 / D: on Shakespeare that left the trained vectors
sharing one direction, mean cosine 0.94 against 0.81, and WordSim-353 at 0.05 against 0.07),
the output vectors at zero.
"""
import numpy as np

import autograd as ag
import nn
from nn import functional as F

__all__ = ["SkipGram", "CBOW", "SkipGramHS", "WordVectors", "spearman"]


def _word2vec_init(inputs, outputs):
    dim = inputs.weight.shape[1]
    nn.init.uniform_(inputs.weight, -1.0 / dim, 1.0 / dim)
    nn.init.zeros_(outputs.weight)


class SkipGram(nn.Module):
    """Skip-gram with negative sampling: each center word predicts its context words against
    noise words, through the fused `negative_sampling_loss`.

    Args: vocab_size V, dim D, sparse (row-sparse gradients, for SGD / SparseAdam).
    Shape: centers (B,), columns (B, K) context-then-noise ids, labels and mask (B, K).
    """

    def __init__(self, vocab_size, dim=100, sparse=True):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, dim, sparse=sparse)
        self.out_embed = nn.Embedding(vocab_size, dim, sparse=sparse)
        _word2vec_init(self.in_embed, self.out_embed)

    def forward(self, centers, columns, labels, mask):
        return F.negative_sampling_loss(centers, columns, labels, mask, self.in_embed.weight,
                                        self.out_embed.weight, reduction="sum",
                                        normalize=False)

    def vectors(self):
        return self.in_embed.weight.detach()


class CBOW(nn.Module):
    """Continuous bag of words: the mean of the context words' vectors (an EmbeddingBag)
    predicts the center word against noise words. As in word2vec.c and gensim, each context
    vector then receives the whole error of the mean, not 1/count of it (the same as a
    learning rate count times larger for the input vectors; on Shakespeare the exact gradient
    of the mean gave WordSim-353 -0.03, this update 0.02, gensim's CBOW 0.04).

    Shape: context_ids (M,) and offsets (B,) (the bags), columns (B, 1 + K) the target then
    the noise words, labels and mask (B, 1 + K).
    """

    def __init__(self, vocab_size, dim=100, sparse=True):
        super().__init__()
        self.in_embed = nn.EmbeddingBag(vocab_size, dim, mode="sum", sparse=sparse)
        self.out_embed = nn.Embedding(vocab_size, dim, sparse=sparse)
        _word2vec_init(self.in_embed, self.out_embed)

    def forward(self, context_ids, offsets, columns, labels, mask):
        total = self.in_embed(context_ids, offsets)
        counts = np.diff(np.append(offsets, len(context_ids)))
        keep = ag.tensor((1.0 - 1.0 / np.maximum(counts, 1))[:, None].astype(
            total.data.dtype))
        # the value is the mean, total / count; the gradient reaches `total` unscaled
        hidden = total - (total * keep).detach()
        return F.negative_sampling_loss(None, columns, labels, mask, hidden,
                                        self.out_embed.weight, reduction="sum",
                                        normalize=False)

    def vectors(self):
        return self.in_embed.weight.detach()


class SkipGramHS(nn.Module):
    """Skip-gram with hierarchical softmax: each (center, context) pair costs
    -sum log sigmoid(sign <v_center, u_node>) over the context word's path in a Huffman tree
    of the vocabulary (frequent words have short paths), instead of noise words.

    Args: counts (V,) word counts (they shape the tree), dim D, sparse.
    Shape: centers (B,), targets (B,) int64.
    """

    def __init__(self, counts, dim=100, sparse=True):
        super().__init__()
        counts = np.asarray(counts)
        self.in_embed = nn.Embedding(counts.size, dim, sparse=sparse)
        self.node_embed = nn.Embedding(counts.size - 1, dim, sparse=sparse)
        _word2vec_init(self.in_embed, self.node_embed)
        path_nodes, path_signs = ag.huffman_tree(counts)
        self.register_buffer("path_nodes", path_nodes)
        self.register_buffer("path_signs", path_signs)

    def forward(self, centers, targets):
        return F.hierarchical_softmax_loss(centers, targets, self.in_embed.weight,
                                           self.node_embed.weight, self.path_nodes,
                                           self.path_signs, reduction="sum")

    def vectors(self):
        return self.in_embed.weight.detach()


def _ranks(x):
    """Ranks 0..n-1 of `x`, ties given their average rank (as Spearman's rho needs)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (first + (counts - 1) / 2.0)[inverse]


def spearman(a, b):
    """Spearman's rank correlation of two equal-length sequences."""
    ra, rb = _ranks(np.asarray(a, np.float64)), _ranks(np.asarray(b, np.float64))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator else 0.0


class WordVectors:
    """Trained word vectors (V, D) with their vocabulary (a `Vocab`, or a list of words), and
    the usual queries, each over the whole table at once (one matrix product)."""

    def __init__(self, vectors, words):
        self.words = list(words.words if hasattr(words, "words") else words)
        self.index = {w: i for i, w in enumerate(self.words)}
        data = vectors.detach().numpy() if isinstance(vectors, ag.Tensor) else vectors
        self.vectors = np.asarray(data, dtype=np.float32)
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self.unit = self.vectors / np.where(norms > 0, norms, 1.0)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.vectors[self.index[word]]

    def similarity(self, a, b):
        """Cosine similarity of two words."""
        return float(self.unit[self.index[a]] @ self.unit[self.index[b]])

    def nearest(self, word, k=10):
        """The k words of highest cosine similarity to `word` (a word or a vector), with
        their similarities; the word itself is left out."""
        if isinstance(word, str):
            query, exclude = self.unit[self.index[word]], [self.index[word]]
        else:
            query, exclude = np.asarray(word, np.float32), []
            query = query / max(np.linalg.norm(query), 1e-12)
        scores = self.unit @ query
        scores[exclude] = -np.inf
        top = np.argpartition(-scores, min(k, scores.size - 1))[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.words[i], float(scores[i])) for i in top]

    def analogy(self, a, b, c, k=1):
        """3CosAdd: the words d maximising cos(d, b - a + c) (a is to b as c is to d), the
        three question words left out."""
        ids = [self.index[w] for w in (a, b, c)]
        scores = self.unit @ (self.unit[ids[1]] - self.unit[ids[0]] + self.unit[ids[2]])
        scores[ids] = -np.inf
        top = np.argsort(-scores)[:k]
        return [(self.words[i], float(scores[i])) for i in top]

    def analogy_accuracy(self, sections, batch=1024):
        """3CosAdd accuracy on analogy questions (`load_analogies()`: section -> (Q, 4) words),
        restricted to questions whose four words are in the vocabulary. Returns
        {"accuracy", "questions", "total", "sections": {name: (accuracy, questions)}}."""
        per_section, correct_all, asked_all, total = {}, 0, 0, 0
        for name, questions in sections.items():
            total += len(questions)
            known = [q for q in questions if all(w in self.index for w in q)]
            if not known:
                per_section[name] = (0.0, 0)
                continue
            ids = np.array([[self.index[w] for w in q] for q in known])
            correct = 0
            for start in range(0, len(ids), batch):
                part = ids[start:start + batch]
                target = self.unit[part[:, 1]] - self.unit[part[:, 0]] + self.unit[part[:, 2]]
                scores = target @ self.unit.T
                rows = np.arange(len(part))[:, None]
                scores[rows, part[:, :3]] = -np.inf
                correct += int((scores.argmax(1) == part[:, 3]).sum())
            per_section[name] = (correct / len(ids), len(ids))
            correct_all += correct
            asked_all += len(ids)
        return {"accuracy": correct_all / asked_all if asked_all else 0.0,
                "questions": asked_all, "total": total, "sections": per_section}

    def pair_correlation(self, pairs):
        """Spearman correlation between cosine similarity and human scores on the rated
        pairs (`load_wordsim353()`, `load_simlex999()`) whose words are both known (compared
        lower-case). Returns (rho, pairs used)."""
        ours, theirs = [], []
        for (a, b), score in zip(pairs.pairs, pairs.scores):
            a, b = str(a).lower(), str(b).lower()
            if a in self.index and b in self.index:
                ours.append(self.similarity(a, b))
                theirs.append(float(score))
        if len(ours) < 2:
            return 0.0, len(ours)
        return spearman(ours, theirs), len(ours)
