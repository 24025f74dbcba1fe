"""Registry entries of dropout, prelu and maxout.

Dropout's samples draw the mask from a fresh generator with a fixed seed on every call, so
the finite differences see the same mask as the backward; the PyTorch side applies the same
mask (drawn from the same seed) with plain tensor arithmetic.
"""
import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

_DROPOUT_SEED = 7


def _dropout_fixed(x, p):
    return ops.dropout(x, p, training=True, generator=np.random.default_rng(_DROPOUT_SEED))


def _dropout_torch(torch, x, p):
    dtype = x.detach().numpy().dtype
    keep = np.random.default_rng(_DROPOUT_SEED).random(tuple(x.shape), dtype=dtype) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * torch.from_numpy(np.asarray(keep.astype(dtype) * dtype.type(scale)))


def _dropout_samples(rng):
    for p in (0.3, 0.0, 1.0):
        yield Sample((values(rng, (4, 5)), p), label=f"matrix-p{p}")
    yield Sample((values(rng, ()), 0.5), label="scalar")
    yield Sample((strided(values(rng, (4, 3))), 0.5), label="strided")
    yield Sample((values(rng, (2, 3, 4)), 0.5), label="3d")
    yield Sample((values(rng, (0, 3)), 0.5), label="empty")


def _prelu_samples(rng):
    cases = [((3, 4), 4, "channels"), ((2, 3, 4, 5), 3, "nchw"), ((2, 3, 4), 1, "single"),
             ((5,), 1, "vector"), ((2, 3, 0), 3, "empty")]
    for shape, n, label in cases:
        x = values(rng, shape, away_from=(0,))
        w = rng.uniform(0.05, 0.5, n)
        yield Sample((x, w), wrt=(0, 1), label=label)
    x = strided(values(rng, (4, 3), away_from=(0,)))
    yield Sample((x, rng.uniform(0.05, 0.5, 3)), wrt=(0, 1), label="strided")


def _maxout_torch(torch, x, pool_size, dim=1):
    dim = dim % x.ndim
    return x.unflatten(dim, (-1, pool_size)).max(dim + 1).values


def _distinct(rng, shape):
    """Values whose groups have a clear max (no near-ties for the finite differences)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 + rng.uniform(0, 0.01, n)).reshape(shape) - n * 0.05


def _maxout_samples(rng):
    yield Sample((_distinct(rng, (3, 8)), 2), label="linear-k2")
    yield Sample((_distinct(rng, (3, 9)), 3), label="linear-k3")
    yield Sample((_distinct(rng, (2, 6, 3, 2)), 3), label="nchw")
    yield Sample((_distinct(rng, (2, 3, 4)), 2), {"dim": -1}, label="last-dim")
    yield Sample((_distinct(rng, (4, 3)), 1), label="k1")
    yield Sample((strided(_distinct(rng, (4, 6))), 2), label="strided")
    yield Sample((np.zeros((0, 4)), 2), label="empty")


OPS = [
    OpInfo("dropout", _dropout_fixed, (ops.Dropout,), _dropout_samples, _dropout_torch),
    OpInfo("prelu", ops.prelu, (ops.PReLU,), _prelu_samples, "torch.nn.functional.prelu"),
    OpInfo("maxout", ops.maxout, (ops.Maxout,), _maxout_samples, _maxout_torch),
]
