"""Registry entries of the linear-algebra ops: matmul over every operand rank (1-D and 2-D
pairs, batched with and without broadcast batch dims, a batch against one matrix and the
reverse), transposed (strided) operands, mm, bmm, outer, t, and linear with and without bias
for 1-D, 2-D and 3-D inputs."""
from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

MATMUL_SHAPES = [((4,), (4,), "dot"), ((4,), (4, 3), "vec-mat"), ((3, 4), (4,), "mat-vec"),
                 ((3, 4), (4, 5), "mat-mat"), ((2, 3, 4), (2, 4, 5), "batched"),
                 ((2, 3, 4), (4, 5), "batch-mat"), ((3, 4), (2, 4, 5), "mat-batch"),
                 ((2, 1, 3, 4), (3, 4, 2), "broadcast"), ((1, 3, 4), (2, 4, 5), "broadcast-1"),
                 ((4,), (2, 4, 3), "vec-batch"), ((2, 3, 4), (4,), "batch-vec"),
                 ((0, 4), (4, 3), "empty-rows"), ((3, 0), (0, 2), "empty-inner")]


def _matmul_samples(rng):
    for sa, sb, label in MATMUL_SHAPES:
        yield Sample((values(rng, sa), values(rng, sb)), wrt=(0, 1), label=label)
    yield Sample((strided(values(rng, (3, 4))), strided(values(rng, (4, 5)))), wrt=(0, 1),
                 label="transposed")
    yield Sample((values(rng, (2, 3, 4)), strided(values(rng, (4, 5)))), wrt=(0, 1),
                 label="batch-transposed")


def _mm_samples(rng):
    yield Sample((values(rng, (3, 4)), values(rng, (4, 5))), wrt=(0, 1), label="mat-mat")
    yield Sample((strided(values(rng, (3, 4))), values(rng, (4, 2))), wrt=(0, 1),
                 label="transposed")


def _bmm_samples(rng):
    yield Sample((values(rng, (2, 3, 4)), values(rng, (2, 4, 5))), wrt=(0, 1), label="batched")
    b = values(rng, (2, 5, 4)).transpose(0, 2, 1)
    yield Sample((values(rng, (2, 3, 4)), b), wrt=(0, 1), label="transposed")


def _outer_samples(rng):
    yield Sample((values(rng, (4,)), values(rng, (3,))), wrt=(0, 1), label="vectors")
    yield Sample((strided(values(rng, (4,))), values(rng, (1,))), wrt=(0, 1), label="strided")


def _t_samples(rng):
    yield Sample((values(rng, (3, 4)),), label="matrix")
    yield Sample((strided(values(rng, (3, 4))),), label="strided")
    yield Sample((values(rng, (4,)),), label="vector")
    yield Sample((values(rng, ()),), label="0d")


def _linear_samples(rng):
    for shape, label in (((5,), "1d"), ((3, 5), "2d"), ((2, 3, 5), "3d"), ((0, 5), "empty")):
        yield Sample((values(rng, shape), values(rng, (4, 5)), values(rng, (4,))),
                     wrt=(0, 1, 2), label=f"{label}-bias")
        yield Sample((values(rng, shape), values(rng, (4, 5))), wrt=(0, 1), label=label)
    yield Sample((strided(values(rng, (3, 5))), strided(values(rng, (4, 5))), values(rng, (4,))),
                 wrt=(0, 1, 2), label="strided")
    yield Sample((strided(values(rng, (2, 3, 5))), values(rng, (4, 5)), values(rng, (4,))),
                 wrt=(0, 1, 2), label="strided-3d")


OPS = [
    OpInfo("matmul", ops.matmul, (ops.Matmul,), _matmul_samples, "torch.matmul"),
    OpInfo("mm", ops.mm, (ops.Matmul,), _mm_samples, "torch.mm"),
    OpInfo("bmm", ops.bmm, (ops.Matmul,), _bmm_samples, "torch.bmm"),
    OpInfo("outer", ops.outer, (ops.Outer,), _outer_samples, "torch.outer"),
    OpInfo("t", ops.t, (ops.MatrixTranspose,), _t_samples, "torch.t"),
    OpInfo("linear", ops.linear, (ops.Linear,), _linear_samples,
           "torch.nn.functional.linear"),
]
