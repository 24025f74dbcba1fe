"""THE op registry: every differentiable op with sample inputs, read by the gradcheck sweep,
the PyTorch comparison and the benchmark runner. One module per op family adds its entries.

A sample's float arrays are float64 (the gradcheck runs there; the PyTorch comparison casts
them to each dtype); integer arrays and Python values pass through unchanged.
"""
from autograd.opinfo.core import OpInfo, Sample, resolve_torch_ref  # noqa: F401
from autograd.opinfo import (activation, binary, conv, embeddings, index, loss, matmul,
                             normalization, pointwise, pool, reduce, rnn, shape, softmax)

FAMILIES = (pointwise, binary, reduce, softmax, matmul, shape, index, loss, conv, pool,
            normalization, rnn, embeddings, activation)
OPS = [op for family in FAMILIES for op in family.OPS]
