"""Registry entries of softmax and log_softmax: every dim of a 3-D input (the last, a middle
one, the first, negative), strided, 0-d, 1-D, long rows, empty, large magnitudes (stability),
and dtype=."""
from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values


def _samples(rng):
    for dim, label in ((-1, "last"), (2, "dim2"), (1, "middle"), (0, "first"), (-2, "neg")):
        yield Sample((values(rng, (2, 3, 4)),), {"dim": dim}, label=label)
    yield Sample((strided(values(rng, (4, 5))),), {"dim": 1}, label="strided")
    yield Sample((strided(values(rng, (4, 5))),), {"dim": 0}, label="strided-first")
    yield Sample((values(rng, ()),), {"dim": 0}, label="0d")
    yield Sample((values(rng, (6,)),), {"dim": 0}, label="vector")
    yield Sample((values(rng, (3, 40)),), {"dim": 1}, label="long-rows")
    yield Sample((values(rng, (0, 4)),), {"dim": 1}, label="empty")
    yield Sample((values(rng, (3, 5), 200.0, 230.0),), {"dim": 1}, label="large")
    yield Sample((values(rng, (3, 5), -230.0, -200.0),), {"dim": 0}, label="large-negative")


def _dtype_samples(rng):
    yield Sample((values(rng, (3, 5)),), {"dim": 1, "dtype": "float64"}, label="float64")


def _with_dtype(op):
    """The op with dtype=, cast back so float32 runs compare float32 results."""
    def fn(x, dim, dtype):
        return ops.cast(op(x, dim, dtype=dtype), x.dtype)
    return fn


def _torch_with_dtype(name):
    def fn(torch, x, dim, dtype):
        return getattr(torch, name)(x, dim, dtype=getattr(torch, dtype)).to(x.dtype)
    return fn


OPS = [
    OpInfo("softmax", ops.softmax, (ops.Softmax,), _samples, "torch.softmax"),
    OpInfo("log_softmax", ops.log_softmax, (ops.LogSoftmax,), _samples, "torch.log_softmax"),
    OpInfo("softmax_dtype", _with_dtype(ops.softmax), (ops.Softmax, ops.Cast), _dtype_samples,
           _torch_with_dtype("softmax")),
    OpInfo("log_softmax_dtype", _with_dtype(ops.log_softmax), (ops.LogSoftmax, ops.Cast),
           _dtype_samples, _torch_with_dtype("log_softmax")),
]
