"""Registry entries of the indexing ops: every kind of index getitem takes (basic, integer
arrays with repeats, bool masks, mixes), setitem's value shapes, and gather, scatter_add,
index_select, masked_fill and take_along_dim along each dim, with repeated indices."""
import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

_MASK = np.array([[True, False, True, True], [False, False, True, False],
                  [True, True, False, False]])


def _to_torch_index(torch, x, index):
    """A numpy-style index for torch: arrays become tensors, and a negative-step slice (which
    torch lacks) becomes the equivalent index tensor for its dim."""
    items = index if isinstance(index, tuple) else (index,)
    converted = []
    dim = 0
    for item in items:
        if isinstance(item, np.ndarray):
            converted.append(torch.from_numpy(item))
        elif isinstance(item, slice) and item.step is not None and item.step < 0:
            converted.append(torch.from_numpy(np.arange(x.shape[dim])[item].copy()))
        else:
            converted.append(item)
        dim += item is not None
    return tuple(converted) if isinstance(index, tuple) else converted[0]


def _torch_getitem(torch, x, index):
    return x[_to_torch_index(torch, x, index)]


def _torch_setitem(torch, x, index, value):
    y = x.clone()
    y[_to_torch_index(torch, x, index)] = value
    return y


def _getitem_samples(rng):
    x34 = values(rng, (3, 4))
    x234 = values(rng, (2, 3, 4))
    cases = [
        ("int", x34, 1), ("neg-int", x34, -1), ("slice", x34, slice(1, None)),
        ("step", x34, (slice(None), slice(None, None, 2))),
        ("neg-step", x34, (slice(None), slice(None, None, -2))),
        ("int-slice", x34, (1, slice(0, 3))),
        ("none-ellipsis", x234, (None, Ellipsis, 0)),
        ("scalar", x34, (1, 2)),
        ("rows", x34, np.array([0, 2, 2, 1])),
        ("rows-2d", x34, np.array([[0, 1], [2, 2]])),
        ("neg-rows", x34, np.array([-1, 0, -1])),
        ("0d-array", x34, np.array(1)),
        ("list", x34, [2, 0, 2]),
        ("column-array", x34, (slice(None), np.array([1, 1, 3]))),
        ("two-arrays", x34, (np.array([0, 2, 2]), np.array([1, 3, 1]))),
        ("separated", x234, (np.array([0, 1, 1]), slice(None), np.array([2, 0, 2]))),
        ("array-slice", x234, (np.array([1, 0, 1]), slice(1, 3))),
        ("mask", x34, _MASK),
        ("row-mask", x34, np.array([True, False, True])),
        ("slice-mask", x34, (slice(None), np.array([True, False, True, True]))),
        ("empty-array", x34, np.array([], dtype=np.int64)),
        ("strided", strided(values(rng, (4, 3))), (slice(None), np.array([2, 0, 2]))),
        ("strided-basic", strided(values(rng, (4, 3))), (slice(1, None), 1)),
    ]
    for label, x, index in cases:
        yield Sample((x, index), label=label)


def _setitem_samples(rng):
    x = values(rng, (3, 4))
    cases = [
        ("slice-tensor", slice(1, 3), values(rng, (2, 4))),
        ("broadcast-row", (slice(None), slice(1, 3)), values(rng, (2,))),
        ("scalar", (0, 1), 2.5),
        ("int-row", 1, values(rng, (4,))),
        ("leading-one", 0, values(rng, (1, 4))),
        ("0d-value", slice(None), values(rng, ())),
        ("rows-array", np.array([2, 0]), values(rng, (2, 4))),
        ("mask-scalar", _MASK, -1.0),
        ("mask-values", _MASK, values(rng, (int(_MASK.sum()),))),
        ("neg-step", (slice(None), slice(None, None, -2)), values(rng, (3, 2))),
    ]
    for label, index, value in cases:
        wrt = (0, 2) if isinstance(value, np.ndarray) else (0,)
        yield Sample((x, index, value), wrt=wrt, label=label)


def _gather_samples(rng):
    cases = [
        ("dim1", (3, 4), 1, (3, 5)), ("dim0", (3, 4), 0, (2, 4)),
        ("smaller", (3, 4), 1, (2, 2)), ("negative-dim", (2, 3, 4), -1, (2, 3, 2)),
        ("middle", (2, 3, 4), 1, (2, 5, 4)), ("0d", (), 0, ()),
    ]
    for label, shape, dim, index_shape in cases:
        n = shape[dim] if shape else 1
        index = rng.integers(0, n, index_shape)
        yield Sample((values(rng, shape), dim, index), label=label)
    yield Sample((strided(values(rng, (4, 3))), 0, rng.integers(0, 4, (5, 3))),
                 label="strided")


def _scatter_add_samples(rng):
    cases = [
        ("dim0", (3, 4), 0, (4, 4)), ("dim1", (3, 4), 1, (3, 6)),
        ("smaller", (3, 4), 1, (2, 3)), ("negative-dim", (2, 3, 4), -1, (2, 3, 5)),
    ]
    for label, shape, dim, index_shape in cases:
        index = rng.integers(0, shape[dim], index_shape)
        yield Sample((values(rng, shape), dim, index, values(rng, index_shape)), wrt=(0, 3),
                     label=label)
    yield Sample((strided(values(rng, (4, 3))), 1, rng.integers(0, 3, (4, 5)),
                  strided(values(rng, (4, 5)))), wrt=(0, 3), label="strided")


def _index_select_samples(rng):
    x34 = values(rng, (3, 4))
    cases = [
        ("dim0", x34, 0, np.array([2, 0, 2, 1])), ("dim1", x34, 1, np.array([3, 3, 0])),
        ("negative-dim", values(rng, (2, 3, 4)), -1, np.array([1, 2, 1])),
        ("empty", x34, 0, np.array([], dtype=np.int64)),
        ("0d-index", x34, 1, np.array(2)),
        ("strided", strided(values(rng, (4, 3))), 1, np.array([0, 2, 2])),
    ]
    for label, x, dim, index in cases:
        yield Sample((x, dim, index), label=label)


def _masked_fill_samples(rng):
    row = np.array([True, False, False, True])
    cases = [
        ("same", values(rng, (3, 4)), _MASK, 1.5, (0,)),
        ("broadcast-mask", values(rng, (3, 4)), row, -2.0, (0,)),
        ("mask-bigger", values(rng, (3, 1)), _MASK, 0.5, (0,)),
        ("tensor-value", values(rng, (3, 4)), _MASK, values(rng, ()), (0, 2)),
        ("strided", strided(values(rng, (4, 3))), _MASK.T.copy(), 0.0, (0,)),
    ]
    for label, x, mask, value, wrt in cases:
        yield Sample((x, mask, value), wrt=wrt, label=label)


def _take_along_dim_samples(rng):
    cases = [
        ("dim1", (3, 4), (3, 2), 1, 4), ("dim0", (3, 4), (5, 4), 0, 3),
        ("broadcast-index", (3, 4), (1, 5), 1, 4), ("broadcast-input", (1, 4), (3, 2), 1, 4),
        ("flat", (3, 4), (5,), None, 12),
    ]
    for label, shape, index_shape, dim, n in cases:
        index = rng.integers(0, n, index_shape)
        yield Sample((values(rng, shape), index), {"dim": dim}, label=label)
    index = np.array([[-1, 0], [2, -4], [3, -2]])
    yield Sample((values(rng, (3, 4)), index), {"dim": 1}, label="negative-index")


OPS = [
    OpInfo("getitem", ops.getitem, (ops.GetItemView, ops.GetItem), _getitem_samples,
           _torch_getitem),
    OpInfo("setitem", ops.setitem, (ops.SetItem,), _setitem_samples, _torch_setitem),
    OpInfo("gather", ops.gather, (ops.Gather,), _gather_samples, "torch.gather"),
    OpInfo("scatter_add", ops.scatter_add, (ops.ScatterAdd,), _scatter_add_samples,
           "torch.scatter_add"),
    OpInfo("index_select", ops.index_select, (ops.IndexSelect,), _index_select_samples,
           "torch.index_select"),
    OpInfo("masked_fill", ops.masked_fill, (ops.MaskedFill,), _masked_fill_samples,
           "torch.masked_fill"),
    OpInfo("take_along_dim", ops.take_along_dim, (ops.Gather, ops.Expand),
           _take_along_dim_samples, "torch.take_along_dim"),
]
