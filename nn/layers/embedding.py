"""Embedding and EmbeddingBag: lookup tables of learnable vectors indexed by int64 ids, the
rows themselves or the sum, mean or max of each bag of them (CBOW's averaged context,
fastText's sum of subword vectors) without building the (N, D) lookup."""
import autograd
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


class _Table(Module):
    """The (V, D) weight both layers share: N(0, 1) with a zero padding row, or `_weight`."""

    def _init_table(self, num_embeddings, embedding_dim, padding_idx, _weight, dtype):
        name = type(self).__name__
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"{name}: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(autograd.empty(num_embeddings, embedding_dim, dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"{name}: _weight has shape {tuple(_weight.shape)}, "
                                 f"expected {(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def _pretrained(cls, embeddings, freeze, **options):
        if embeddings.ndim != 2:
            raise ValueError(f"{cls.__name__}.from_pretrained: embeddings must be 2-D, got "
                             f"shape {tuple(embeddings.shape)}")
        module = cls(embeddings.shape[0], embeddings.shape[1], _weight=embeddings, **options)
        module.weight.requires_grad_(not freeze)
        return module

    def _options_repr(self, text):
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            text += ", sparse=True"
        return text


class Embedding(_Table):
    """Row `i` of `weight` for each index `i` of the input (PyTorch's nn.Embedding).

    Args:
        num_embeddings: size of the vocabulary V.
        embedding_dim: size D of each vector.
        padding_idx: if given, that row starts at zero and receives no gradient.
        max_norm: if given, each looked-up row with a larger norm is rescaled to it in place.
        norm_type: the p of the p-norm for max_norm (default 2).
        scale_grad_by_freq: scale gradients by the inverse frequency of the ids in the batch.
        sparse: make weight.grad row-sparse (only the rows used), for optimizers that
            update those rows only (SGD, Adagrad, SparseAdam); dense by default.
        _weight: an initial (V, D) weight to use instead of N(0, 1) samples.

    Shape: int64 (*) -> (*, D). weight is (V, D), initialised N(0, 1) as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 dtype=None):
        super().__init__()
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        self._init_table(num_embeddings, embedding_dim, padding_idx, _weight, dtype)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is `embeddings` (V, D) (shared, not copied), frozen
        unless `freeze=False`."""
        return cls._pretrained(embeddings, freeze, padding_idx=padding_idx, max_norm=max_norm,
                               norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                               sparse=sparse)

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                           self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        return self._options_repr(f"{self.num_embeddings}, {self.embedding_dim}")


class EmbeddingBag(_Table):
    """Reduce the rows of `weight` over each bag of ids (torch.nn.EmbeddingBag).

    Args:
        num_embeddings: size of the vocabulary V.
        embedding_dim: size D of each vector.
        max_norm, norm_type: rescale used rows whose norm exceeds max_norm (see Embedding).
        scale_grad_by_freq: not supported (raises when used, as the functional form does).
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
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self._init_table(num_embeddings, embedding_dim, padding_idx, _weight, dtype)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is `embeddings` (V, D), frozen unless freeze=False."""
        return cls._pretrained(embeddings, freeze, max_norm=max_norm, norm_type=norm_type,
                               scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                               include_last_offset=include_last_offset, padding_idx=padding_idx)

    def forward(self, input, offsets=None, per_sample_weights=None):  # noqa: A002
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        if self.include_last_offset:
            text += ", include_last_offset=True"
        return self._options_repr(text)
