"""fastText's subword skip-gram (Bojanowski et al. 2017; d2l 15.6): a word's vector is the sum
of the vectors of its character 3- to 6-grams (framed by `<` and `>`) and of the whole word,
taken through an EmbeddingBag, so related word forms share parameters and a word never seen in
training still gets a vector from its n-grams.
"""
import numpy as np

import nn
from nn import functional as F
from zoo.word2vec_data import subword_ngrams

__all__ = ["FastText"]


class FastText(nn.Module):
    """Skip-gram with negative sampling whose center vectors are subword sums.

    Args: words (the vocabulary, in id order), dim D, min_n / max_n n-gram lengths, mode
    'sum' (a word vector is the sum of its subwords) or 'mean', sparse.
    Shape: as SkipGram (centers (B,), columns (B, K), labels, mask).
    """

    def __init__(self, words, dim=100, min_n=3, max_n=6, mode="sum", sparse=True):
        super().__init__()
        self.grams, ids, offsets = subword_ngrams(words, min_n, max_n)
        self.index = {g: i for i, g in enumerate(self.grams)}
        self.min_n, self.max_n = min_n, max_n
        self.subwords = nn.EmbeddingBag(len(self.grams), dim, mode=mode, sparse=sparse)
        self.out_embed = nn.Embedding(len(words), dim, sparse=sparse)
        nn.init.uniform_(self.subwords.weight, -1.0 / dim, 1.0 / dim)   # fastText's init
        nn.init.zeros_(self.out_embed.weight)
        self.register_buffer("gram_ids", ids)
        self.register_buffer("gram_offsets", offsets)
        self.register_buffer("gram_counts", np.diff(np.append(offsets, ids.size)))

    def _bags(self, word_ids):
        """The subword ids of each word in `word_ids` (B,), end to end, and their offsets."""
        word_ids = np.asarray(word_ids).reshape(-1)
        counts = self.gram_counts.data[word_ids]
        starts = self.gram_offsets.data[word_ids]
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        within = np.arange(counts.sum()) - np.repeat(offsets, counts)
        return self.gram_ids.data[np.repeat(starts, counts) + within], offsets

    def word_vectors(self, word_ids):
        """(B, D) vectors of vocabulary words, each the sum of its subword vectors."""
        ids, offsets = self._bags(word_ids)
        return self.subwords(ids, offsets)

    def forward(self, centers, columns, labels, mask):
        return F.negative_sampling_loss(None, columns, labels, mask, self.word_vectors(centers),
                                        self.out_embed.weight, reduction="sum",
                                        normalize=False)

    def vectors(self):
        return self.word_vectors(np.arange(self.out_embed.weight.shape[0])).detach()

    def vector(self, word):
        """The vector of any word, in the vocabulary or not, from its known n-grams."""
        grams, ids, _ = subword_ngrams([word], self.min_n, self.max_n)
        known = [self.index[g] for g in grams if g in self.index]
        if not known:
            return np.zeros(self.subwords.weight.shape[1], np.float32)
        return self.subwords.weight.data[known].sum(0)
