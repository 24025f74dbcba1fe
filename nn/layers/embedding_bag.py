"""EmbeddingBag: the sum, mean or max of the embeddings of each bag of ids, without building
the (N, D) lookup (CBOW's averaged context, fastText's sum of subword vectors)."""
import autograd
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """Reduce the rows of `weight` over each bag of ids (torch.nn.EmbeddingBag).

    Args:
        num_embeddings: size of the vocabulary V.
        embedding_dim: size D of each vector.
        max_norm, norm_type: rescale used rows whose norm exceeds max_norm (see Embedding).
        mode: 'sum', 'mean' (default) or 'max'.
        sparse: a row-sparse weight gradient ('sum' and 'mean').
        include_last_offset: offsets has B + 1 entries, the last one the input's length.
        padding_idx: that row starts at zero; its entries are skipped (not counted in a
            mean) and it receives no gradient.
        _weight: an initial (V, D) weight to use instead of N(0, 1) samples.

    Shape: input (B, L) int64 with offsets None (each row a bag), or (N,) with offsets (B,)
    the start of each bag; per_sample_weights (input's shape, mode 'sum') scale each entry.
    Output (B, D); an empty bag gives zeros.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, dtype=None):
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} is out of range "
                                 f"for {num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(autograd.empty(num_embeddings, embedding_dim, dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight has shape {tuple(_weight.shape)}, "
                                 f"expected {(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is `embeddings` (V, D), frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got "
                             f"shape {tuple(embeddings.shape)}")
        module = cls(embeddings.shape[0], embeddings.shape[1], max_norm, norm_type,
                     scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                     padding_idx)
        module.weight.requires_grad_(not freeze)
        return module

    def forward(self, input, offsets=None, per_sample_weights=None):  # noqa: A002
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.sparse:
            text += ", sparse=True"
        if self.include_last_offset:
            text += ", include_last_offset=True"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
