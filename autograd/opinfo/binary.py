"""Registry entries of the binary ops: every op under the broadcasting pairs and with a
Python scalar on either side."""
from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

BROADCAST_SHAPES = [((3, 4), (3, 4), "same"), ((3, 4), (4,), "row"),
                    ((3, 1), (1, 4), "outer"), ((2, 3, 4), (3, 1), "lead"),
                    ((), (3,), "0d"), ((2, 1, 3, 1), (4, 1, 5), "4d"), ((0, 3), (3,), "empty")]


def broadcasting_pairs(low=-2.0, high=2.0, b_low=None, b_high=None, away=()):
    b_low = low if b_low is None else b_low
    b_high = high if b_high is None else b_high

    def samples(rng):
        for sa, sb, label in BROADCAST_SHAPES:
            a = values(rng, sa, low, high)
            b = values(rng, sb, b_low, b_high, away)
            yield Sample((a, b), wrt=(0, 1), label=label)
        a = values(rng, (4, 3), low, high)
        yield Sample((strided(a), values(rng, (4, 3), b_low, b_high, away)), wrt=(0, 1),
                     label="strided")
    return samples


def scalar_samples(low=-2.0, high=2.0, scalar=1.5):
    """x op s and s op x for a Python float s."""
    def samples(rng):
        x = values(rng, (3, 4), low, high)
        yield Sample((x, scalar), wrt=(0,), label="tensor-scalar")
        yield Sample((scalar, x), wrt=(1,), label="scalar-tensor")
    return samples


def _both(*generators):
    def samples(rng):
        for generate in generators:
            yield from generate(rng)
    return samples


def tie_samples(rng):
    """maximum/minimum with exact ties in all but the first row: ties split the gradient."""
    a = values(rng, (3, 4))
    b = a.copy()
    b[0] += 1.0
    yield Sample((a, b), wrt=(0, 1), label="ties")


OPS = [
    OpInfo("add", ops.add, (ops.Add, ops.AddScalar),
           _both(broadcasting_pairs(), scalar_samples()), "torch.add"),
    OpInfo("sub", ops.sub, (ops.Sub, ops.RSubScalar),
           _both(broadcasting_pairs(), scalar_samples()), "torch.sub"),
    OpInfo("mul", ops.mul, (ops.Mul, ops.MulScalar),
           _both(broadcasting_pairs(), scalar_samples()), "torch.mul"),
    OpInfo("div", ops.div, (ops.Div, ops.RDivScalar),
           _both(broadcasting_pairs(b_low=0.5, b_high=2.0), scalar_samples(0.5, 2.0)),
           "torch.div"),
    OpInfo("pow", ops.pow, (ops.Pow, ops.PowScalar, ops.RPowScalar),
           _both(broadcasting_pairs(0.3, 2.0, -1.5, 1.5), scalar_samples(0.3, 2.0)),
           "torch.pow"),
    OpInfo("maximum", ops.maximum, (ops.Maximum,),
           _both(broadcasting_pairs(), tie_samples), "torch.maximum"),
    OpInfo("minimum", ops.minimum, (ops.Minimum,),
           _both(broadcasting_pairs(), tie_samples), "torch.minimum"),
]


def _where_samples(rng):
    for shape_c, shape_a, shape_b, label in [((3, 4), (3, 4), (3, 4), "same"),
                                             ((3, 1), (1, 4), (4,), "broadcast")]:
        cond = rng.uniform(size=shape_c) > 0.5
        yield Sample((cond, values(rng, shape_a), values(rng, shape_b)), wrt=(1, 2),
                     label=label)


OPS.append(OpInfo("where", ops.where, (ops.Where,), _where_samples, "torch.where"))
