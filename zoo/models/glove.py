"""GloVe (Pennington et al. 2014; d2l 15.5): word vectors from a weighted least-squares fit of
the log co-occurrence counts,

    loss = sum_ij h(x_ij) (w_i . c_j + b_i + b'_j - log x_ij)^2,   h(x) = min((x / c)^0.75, 1)

with c = 100, over the non-zero entries of the co-occurrence matrix (counted with 1/distance
weights, `zoo.word2vec_data.cooccurrence`). The vectors kept are center + context.
"""
import numpy as np

import nn

__all__ = ["GloVe", "glove_weight"]


def glove_weight(counts, x_max=100.0, alpha=0.75):
    """h(x) = min((x / x_max)^alpha, 1): rare pairs count less, frequent ones are capped."""
    return np.minimum((np.asarray(counts, np.float64) / x_max) ** alpha, 1.0)


class GloVe(nn.Module):
    """Center and context vectors (V, D) with their biases, all row-sparse.

    Shape: rows, cols (B,) int64 word ids of co-occurrence entries; log_counts and weights
    (B,) float32 (log x_ij and h(x_ij)). Returns the summed weighted squared error.
    """

    def __init__(self, vocab_size, dim=100, sparse=True):
        super().__init__()
        self.center = nn.Embedding(vocab_size, dim, sparse=sparse)
        self.context = nn.Embedding(vocab_size, dim, sparse=sparse)
        self.center_bias = nn.Embedding(vocab_size, 1, sparse=sparse)
        self.context_bias = nn.Embedding(vocab_size, 1, sparse=sparse)
        for table in (self.center, self.context):      # GloVe's reference initialisation
            nn.init.uniform_(table.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.center_bias.weight)
        nn.init.zeros_(self.context_bias.weight)

    def forward(self, rows, cols, log_counts, weights):
        dots = (self.center(rows) * self.context(cols)).sum(1)
        fit = dots + self.center_bias(rows).reshape(-1) + self.context_bias(cols).reshape(-1)
        error = fit - log_counts
        return (weights * error * error).sum()

    def vectors(self):
        return (self.center.weight + self.context.weight).detach()
