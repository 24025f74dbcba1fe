"""Registry entries of the normalisation ops and dropout2d: batch_norm in training (2-D,
3-D and 4-D input, with and without affine parameters and running statistics) and in eval
mode, layer_norm over one or several trailing axes, group_norm from one group to one per
channel, and dropout2d with a fixed mask (the generator is reseeded at each call)."""
import numpy as np

from autograd import ops
from autograd import random as _random
from autograd.opinfo.core import OpInfo, Sample, strided, values


def batch_norm_samples(rng):
    def stats(c):
        return np.zeros(c), np.ones(c)

    for shape, label in (((4, 3, 3, 3), "4d"), ((6, 4), "2d"), ((3, 4, 5), "3d")):
        c = shape[1]
        x = values(rng, shape)
        yield Sample((x, *stats(c), values(rng, (c,)), values(rng, (c,))),
                     {"training": True}, wrt=(0, 3, 4), label=f"train-{label}")
    x = values(rng, (4, 3, 3, 3))
    w, b = values(rng, (3,)), values(rng, (3,))
    yield Sample((x, *stats(3)), {"training": True}, wrt=(0,), label="train-no-affine")
    yield Sample((x, None, None, w, b), {"training": True}, wrt=(0, 3, 4),
                 label="train-no-running-stats")
    yield Sample((x, *stats(3), w, b), {"training": True, "momentum": 0.3, "eps": 1e-3},
                 wrt=(0, 3, 4), label="momentum-eps")
    yield Sample((x, *stats(3), w, b), {"training": True}, wrt=(3, 4),
                 label="train-no-input-grad")
    yield Sample((strided(values(rng, (5, 3, 2, 4))), *stats(3), w, b), {"training": True},
                 wrt=(0, 3, 4), label="train-strided")
    running = (values(rng, (3,)), values(rng, (3,), 0.5, 2.0))
    yield Sample((x, *running, w, b), {"training": False}, wrt=(0, 3, 4), label="eval-4d")
    yield Sample((values(rng, (5, 3)), *running), {"training": False, "eps": 1e-2}, wrt=(0,),
                 label="eval-2d-no-affine")


def layer_norm_samples(rng):
    x = values(rng, (3, 4, 5))
    yield Sample((x, (5,), values(rng, (5,)), values(rng, (5,))), wrt=(0, 2, 3),
                 label="last-axis")
    yield Sample((x, (4, 5), values(rng, (4, 5)), values(rng, (4, 5))), wrt=(0, 2, 3),
                 label="two-axes")
    yield Sample((x, (5,)), {"eps": 1e-3}, label="no-affine")
    yield Sample((strided(values(rng, (6, 4))), (4,), values(rng, (4,)), values(rng, (4,))),
                 wrt=(0, 2, 3), label="strided")


def group_norm_samples(rng):
    x = values(rng, (2, 6, 3, 3))
    w, b = values(rng, (6,)), values(rng, (6,))
    yield Sample((x, 3, w, b), wrt=(0, 2, 3), label="3-groups")
    yield Sample((x, 1, w, b), wrt=(0, 2, 3), label="1-group")
    yield Sample((x, 6, w, b), wrt=(0, 2, 3), label="instance")
    yield Sample((values(rng, (2, 4, 5)), 2), {"eps": 1e-3}, label="3d-no-affine")
    yield Sample((values(rng, (3, 6)), 2, w, b), wrt=(0, 2, 3), label="2d")


def _dropout2d_fixed_mask(x, p=0.5, training=True):
    """dropout2d drawing its mask from a generator seeded with 0 at each call (the
    gradcheck calls it many times and needs the same function every time)."""
    saved = _random.generator()
    _random.manual_seed(0)
    try:
        return ops.dropout2d(x, p, training)
    finally:
        _random._generator = saved


def _torch_dropout2d(torch, x, p=0.5, training=True):
    if not training:
        return x
    keep = np.random.default_rng(0).random(tuple(x.shape[:2])) >= p
    scale = keep / (1.0 - p) if p < 1 else np.zeros(keep.shape)
    scale = torch.tensor(scale, dtype=x.dtype).reshape(tuple(x.shape[:2]) + (1,) * (x.ndim - 2))
    return x * scale


def dropout2d_samples(rng):
    yield Sample((values(rng, (4, 3, 2, 2)),), {"p": 0.5}, label="4d")
    yield Sample((values(rng, (2, 5, 4)),), {"p": 0.3}, label="3d")
    yield Sample((values(rng, (2, 3, 2, 2)),), {"p": 1.0}, label="p1")
    yield Sample((values(rng, (2, 3, 2, 2)),), {"p": 0.5, "training": False}, label="eval")


OPS = [
    OpInfo("batch_norm", ops.batch_norm, (ops.BatchNorm,), batch_norm_samples,
           "torch.nn.functional.batch_norm"),
    OpInfo("layer_norm", ops.layer_norm, (ops.LayerNorm,), layer_norm_samples,
           "torch.nn.functional.layer_norm"),
    OpInfo("group_norm", ops.group_norm, (ops.GroupNorm,), group_norm_samples,
           "torch.nn.functional.group_norm"),
    OpInfo("dropout2d", _dropout2d_fixed_mask, (ops.Dropout2d,), dropout2d_samples,
           _torch_dropout2d),
]
