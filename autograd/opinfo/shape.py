"""Registry entries of the shape ops: views (contiguous, strided, 0-d and empty inputs), joins,
splits, padding in every mode, flip and repeat."""
from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values


def _samples(cases):
    """Samples from (label, args, kwargs) triples whose first arg is the differentiable one."""
    def samples(rng):
        for label, shape_or_array, rest, kwargs in cases:
            if isinstance(shape_or_array, tuple):
                x = values(rng, shape_or_array)
            else:
                x = shape_or_array(rng)
            yield Sample((x,) + rest, kwargs, label=label)
    return samples


def _strided(shape):
    return lambda rng: strided(values(rng, shape))


def _sliced(rng):
    """A (3, 4) view with a column step: strided but not a transpose."""
    return values(rng, (3, 8))[:, ::2]


def _reshape(x, *shape):
    return ops.reshape(x, *shape)


def _view(x, *shape):
    return ops.view(x, *shape)


def _transpose_property(x):
    return x.T


def _mt(x):
    return x.mT


def _as(fn):
    def call(x, other):
        return fn(x, other)
    return call


def _joined(fn):
    def call(*xs, dim=0):
        return fn(xs, dim)
    return call


def _join_samples(shapes_by_label):
    def samples(rng):
        for label, shapes, dim in shapes_by_label:
            xs = tuple(values(rng, s) for s in shapes)
            if label == "strided":
                xs = (strided(xs[0]),) + xs[1:]
            wrt = tuple(i for i, s in enumerate(shapes) if s != (0,))
            yield Sample(xs, {"dim": dim}, wrt=wrt, label=label)
    return samples


RESHAPE_CASES = [
    ("matrix", (3, 4), ((2, 6),), {}),
    ("infer", (3, 4), ((2, -1, 3),), {}),
    ("to-0d", (1, 1), ((),), {}),
    ("from-0d", (), ((1, 1),), {}),
    ("empty", (0, 3), ((3, 0),), {}),
    ("strided-copy", _strided((4, 3)), ((12,),), {}),
    ("strided-view", _sliced, ((3, 4, 1),), {}),
]

VIEW_CASES = [
    ("varargs", (3, 4), (2, 6), {}),
    ("tuple", (3, 4), ((4, 3),), {}),
    ("infer", (2, 3, 4), (-1, 4), {}),
    ("strided", _strided((4, 3)), (4, 3, 1), {}),
]

FLATTEN_CASES = [
    ("all", (2, 3, 4), (), {}),
    ("start1", (2, 3, 4), (), {"start_dim": 1}),
    ("middle", (2, 3, 4, 2), (), {"start_dim": 1, "end_dim": 2}),
    ("same", (2, 3), (), {"start_dim": 1, "end_dim": 1}),
    ("0d", (), (), {}),
    ("strided", _strided((4, 3)), (), {}),
]

SQUEEZE_CASES = [
    ("all", (1, 3, 1, 2), (), {}),
    ("dim", (1, 3, 1, 2), (), {"dim": 2}),
    ("dim-not-1", (1, 3, 1, 2), (), {"dim": 1}),
    ("tuple", (1, 3, 1, 2), (), {"dim": (0, -2)}),
    ("strided", _strided((1, 3)), (), {}),
]

UNSQUEEZE_CASES = [
    ("front", (3, 4), (0,), {}),
    ("middle", (3, 4), (1,), {}),
    ("end", (3, 4), (-1,), {}),
    ("0d", (), (0,), {}),
    ("strided", _strided((4, 3)), (1,), {}),
]

TRANSPOSE_CASES = [
    ("matrix", (3, 4), (0, 1), {}),
    ("negative", (2, 3, 4), (-1, 0), {}),
    ("same", (2, 3), (1, 1), {}),
    ("strided", _strided((4, 3)), (0, 1), {}),
]

PERMUTE_CASES = [
    ("3d", (2, 3, 4), ((2, 0, 1),), {}),
    ("negative", (2, 3, 4), ((-1, 1, 0),), {}),
    ("identity", (2, 3), ((0, 1),), {}),
    ("strided", _strided((4, 3)), ((1, 0),), {}),
]

EXPAND_CASES = [
    ("column", (3, 1), ((3, 4),), {}),
    ("lead", (4,), ((2, 3, 4),), {}),
    ("keep", (3, 1), ((2, -1, 5),), {}),
    ("same", (3, 4), ((3, 4),), {}),
    ("0d", (), ((2, 3),), {}),
    ("strided", _strided((1, 3)), ((2, 4, 3),), {}),
]

PAD_CASES = [
    ("constant", (2, 3), ((1, 2),), {}),
    ("value", (2, 3, 4), ((1, 0, 2, 1),), {"value": 1.5}),
    ("crop", (3, 5), ((-1, 2, 1, -2),), {}),
    ("3dims", (2, 2, 2), ((1, 1, 0, 1, 1, 0),), {}),
    ("reflect", (2, 5), ((2, 3),), {"mode": "reflect"}),
    ("reflect-2d", (1, 2, 3, 4), ((1, 2, 2, 1),), {"mode": "reflect"}),
    ("reflect-crop", (2, 5), ((-1, 2),), {"mode": "reflect"}),
    ("replicate", (2, 3, 4), ((2, 1),), {"mode": "replicate"}),
    ("replicate-3d", (1, 2, 2, 3), ((1, 2, 1, 0, 2, 1),), {"mode": "replicate"}),
    ("circular", (2, 3, 4), ((1, 3, 2, 1),), {"mode": "circular"}),
    ("circular-crop", (1, 5), ((2, -1),), {"mode": "circular"}),
    ("strided", _strided((4, 3)), ((1, 1, 2, 0),), {}),
    ("strided-reflect", _strided((4, 3)), ((2, 1),), {"mode": "reflect"}),
]

FLIP_CASES = [
    ("one", (3, 4), ((0,),), {}),
    ("both", (3, 4), ((0, 1),), {}),
    ("negative", (2, 3, 4), ((-1, 0),), {}),
    ("strided", _strided((4, 3)), ((1,),), {}),
]

REPEAT_CASES = [
    ("same-rank", (2, 3), (2, 3), {}),
    ("lead", (2, 3), (2, 1, 2), {}),
    ("ones", (2, 3), (1, 1), {}),
    ("zero", (2, 3), (0, 2), {}),
    ("0d", (), (3,), {}),
    ("strided", _strided((4, 3)), (2, 2), {}),
]

TILE_CASES = [
    ("short", (2, 3), ((2,),), {}),
    ("long", (2, 3), ((2, 1, 2),), {}),
    ("strided", _strided((4, 3)), ((2, 1),), {}),
]

SPLIT_CASES = [
    ("size", (5, 3), (2,), {}),
    ("sections", (3, 6), ([1, 3, 2],), {"dim": 1}),
    ("negative-dim", (2, 3, 4), (2,), {"dim": -1}),
    ("one-piece", (4, 3), (4,), {}),
    ("strided", _strided((4, 3)), (1,), {"dim": 1}),
]

CHUNK_CASES = [
    ("even", (6, 2), (3,), {}),
    ("uneven", (5, 2), (3,), {}),
    ("dim1", (2, 7), (4,), {"dim": 1}),
    ("strided", _strided((4, 3)), (2,), {}),
]

UNBIND_CASES = [
    ("dim0", (3, 4), (), {}),
    ("dim1", (2, 3, 4), (), {"dim": 1}),
    ("negative", (2, 3), (), {"dim": -1}),
    ("strided", _strided((4, 3)), (), {}),
]


def _other_samples(pairs):
    def samples(rng):
        for label, shape, other in pairs:
            x = values(rng, shape)
            yield Sample((x, values(rng, other)), label=label)
    return samples


def _contiguous_samples(rng):
    yield Sample((values(rng, (3, 4)),), label="contiguous")
    yield Sample((strided(values(rng, (4, 3))),), label="strided")


OPS = [
    OpInfo("reshape", _reshape, (ops.View, ops.Reshape), _samples(RESHAPE_CASES),
           lambda torch, x, *shape: x.reshape(*shape)),
    OpInfo("view", _view, (ops.View,), _samples(VIEW_CASES),
           lambda torch, x, *shape: x.view(*shape)),
    OpInfo("flatten", ops.flatten, (ops.View, ops.Reshape), _samples(FLATTEN_CASES),
           "torch.flatten"),
    OpInfo("squeeze", ops.squeeze, (ops.View,), _samples(SQUEEZE_CASES),
           lambda torch, x, dim=None: x.squeeze() if dim is None else x.squeeze(dim)),
    OpInfo("unsqueeze", ops.unsqueeze, (ops.View,), _samples(UNSQUEEZE_CASES),
           "torch.unsqueeze"),
    OpInfo("transpose", ops.transpose, (ops.Permute,), _samples(TRANSPOSE_CASES),
           "torch.transpose"),
    OpInfo("permute", ops.permute, (ops.Permute,), _samples(PERMUTE_CASES), "torch.permute"),
    OpInfo("T", _transpose_property, (ops.Permute,),
           _samples([("matrix", (3, 4), (), {}), ("vector", (3,), (), {})]),
           lambda torch, x: x.permute(*range(x.ndim - 1, -1, -1))),
    OpInfo("mT", _mt, (ops.Permute,),
           _samples([("matrix", (3, 4), (), {}), ("batch", (2, 3, 4), (), {})]),
           lambda torch, x: x.mT),
    OpInfo("expand", ops.expand, (ops.Expand,), _samples(EXPAND_CASES),
           lambda torch, x, shape: x.expand(*shape)),
    OpInfo("broadcast_to", ops.broadcast_to, (ops.Expand,), _samples(EXPAND_CASES[:2]),
           "torch.broadcast_to"),
    OpInfo("view_as", _as(ops.view_as), (ops.View,),
           _other_samples([("matrix", (3, 4), (2, 6))]), lambda torch, x, o: x.view_as(o)),
    OpInfo("reshape_as", _as(ops.reshape_as), (ops.View, ops.Reshape),
           _other_samples([("matrix", (3, 4), (6, 2))]), lambda torch, x, o: x.reshape_as(o)),
    OpInfo("expand_as", _as(ops.expand_as), (ops.Expand,),
           _other_samples([("column", (3, 1), (2, 3, 4))]),
           lambda torch, x, o: x.expand_as(o)),
    OpInfo("contiguous", ops.contiguous, (ops.Contiguous,), _contiguous_samples,
           lambda torch, x: x.contiguous()),
    OpInfo("cat", _joined(ops.cat), (ops.Cat,),
           _join_samples([("dim0", [(2, 3), (1, 3), (3, 3)], 0),
                          ("dim1", [(2, 1), (2, 3)], 1),
                          ("negative", [(2, 3, 1), (2, 3, 2)], -1),
                          ("one", [(2, 3)], 0),
                          ("empty-piece", [(2, 3), (0, 3)], 0),
                          ("legacy-empty", [(2, 3), (0,)], 0),
                          ("strided", [(4, 3), (4, 2)], 1)]),
           lambda torch, *xs, dim=0: torch.cat(xs, dim)),
    OpInfo("stack", _joined(ops.stack), (ops.Stack,),
           _join_samples([("dim0", [(2, 3), (2, 3), (2, 3)], 0),
                          ("dim1", [(2, 3), (2, 3)], 1),
                          ("end", [(2, 3), (2, 3)], -1),
                          ("0d", [(), ()], 0),
                          ("strided", [(4, 3), (4, 3)], 1)]),
           lambda torch, *xs, dim=0: torch.stack(xs, dim)),
    OpInfo("split", ops.split, (ops.Split,), _samples(SPLIT_CASES), "torch.split"),
    OpInfo("chunk", ops.chunk, (ops.Split,), _samples(CHUNK_CASES), "torch.chunk"),
    OpInfo("unbind", ops.unbind, (ops.Unbind,), _samples(UNBIND_CASES), "torch.unbind"),
    OpInfo("pad", ops.pad, (ops.Pad,), _samples(PAD_CASES), "torch.nn.functional.pad"),
    OpInfo("flip", ops.flip, (ops.Flip,), _samples(FLIP_CASES), "torch.flip"),
    OpInfo("repeat", ops.repeat, (ops.Repeat,), _samples(REPEAT_CASES),
           lambda torch, x, *sizes: x.repeat(*sizes)),
    OpInfo("tile", ops.tile, (ops.Repeat,), _samples(TILE_CASES), "torch.tile"),
]
