"""Dropout (inverted): zero elements with probability p in training, identity in eval."""
from nn import functional as F
from nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """During training, zero each element with probability `p` (drawn from the seeded
    generator) and scale the others by 1 / (1 - p), so evaluation needs no rescaling; in
    eval mode return the input unchanged.

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: overwrite the input instead of allocating the output.

    Shape: any; the output has the input's shape.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
