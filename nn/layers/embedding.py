"""Embedding: a lookup table of learnable vectors indexed by int64 ids."""
import autograd
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Row `i` of `weight` for each index `i` of the input (dense gradient).

    Args:
        num_embeddings: size of the vocabulary V.
        embedding_dim: size D of each vector.
        padding_idx: if given, that row starts at zero and receives no gradient.
        _weight: an initial (V, D) weight to use instead of N(0, 1) samples.

    Shape: int64 (*) -> (*, D). weight is (V, D), initialised N(0, 1) as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, _weight=None,
                 dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
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
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, "
                                 f"expected {(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding whose weight is `embeddings` (V, D), frozen unless `freeze=False`."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        module = cls(embeddings.shape[0], embeddings.shape[1], padding_idx=padding_idx,
                     _weight=embeddings)
        module.weight.requires_grad_(not freeze)
        return module

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
