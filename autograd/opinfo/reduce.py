"""Registry entries of the reductions: every dim form (None, int, negative int, an adjacent
tuple, a split tuple), keepdim both ways, strided, 0-d and empty inputs, two-way ties for the
max family (central differences see half the gradient on each of two tied elements, which is
PyTorch's even split) and zeros for prod.

max/min over a dim send the whole gradient to one tied element, which no finite difference
can confirm; their tie samples check the forward (values and indices) against PyTorch, and
tests/test_kernels_reduce.py checks the backward at ties."""
import math

import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values

DIMS = [(None, "all"), (1, "int"), (-1, "neg"), ((0, 1), "run"), ((0, 2), "split"),
        ((2, 0), "split-unsorted")]


def _keep_tag(keepdim):
    return "-keep" if keepdim else ""


def dim_samples(low=-2.0, high=2.0, dims=DIMS, kwargs=({},), single_dim=False, empty=True,
                scalar=True):
    """x of shape (2, 3, 4) under every dim form and keepdim, then strided, long, 1-D and,
    where the result is a number, 0-d and empty inputs; `kwargs` are extra options."""
    def samples(rng):
        for extra in kwargs:
            tag = "".join(f"-{k}{v}" for k, v in extra.items())
            for dim, label in dims:
                if single_dim and not isinstance(dim, int):
                    continue
                for keepdim in (False, True):
                    kw = dict(extra, keepdim=keepdim)
                    if dim is not None:
                        kw["dim"] = dim
                    yield Sample((values(rng, (2, 3, 4), low, high),), kw,
                                 label=f"{label}{_keep_tag(keepdim)}{tag}")
            yield Sample((strided(values(rng, (4, 3), low, high)),), dict(extra, dim=0),
                         label=f"strided{tag}")
            yield Sample((strided(values(rng, (3, 4), low, high)),), dict(extra, dim=-1),
                         label=f"strided-last{tag}")
            if scalar:
                yield Sample((values(rng, (), low, high),), dict(extra, dim=0),
                             label=f"0d{tag}")
            yield Sample((values(rng, (7,), low, high),), dict(extra, dim=0),
                         label=f"vector{tag}")
            yield Sample((values(rng, (40, 3), low, high),), dict(extra, dim=0),
                         label=f"long-cols{tag}")
            yield Sample((values(rng, (3, 40), low, high),), dict(extra, dim=-1),
                         label=f"long-rows{tag}")
            if empty:
                yield Sample((values(rng, (0, 3), low, high),), dict(extra, dim=0),
                             label=f"empty{tag}")
    return samples


def _chain(*generators):
    def samples(rng):
        for generate in generators:
            yield from generate(rng)
    return samples


def _two_way_ties(rng, largest=True):
    """(3, 4) rows whose extreme appears exactly twice (rows and columns both)."""
    x = values(rng, (3, 4), -1.0, 1.0)
    top = 2.0 if largest else -2.0
    x[0, 1] = x[0, 3] = top
    x[1, 0] = x[1, 2] = top + (0.5 if largest else -0.5)
    x[2, 2] = top
    return x


def _tie_samples(largest, dims=((None, "all"), (1, "rows"), (0, "cols"))):
    def samples(rng):
        x = _two_way_ties(rng, largest)
        for dim, label in dims:
            kw = {} if dim is None else {"dim": dim}
            yield Sample((x,), kw, label=f"ties-{label}")
    return samples


def _max_dim_ties(largest):
    """Ties over a dim: forward only (wrt=()), see the module docstring."""
    def samples(rng):
        x = _two_way_ties(rng, largest)
        for dim in (0, 1):
            yield Sample((x,), {"dim": dim}, wrt=(), label=f"ties-dim{dim}")
    return samples


def _max_samples(largest):
    def samples(rng):
        yield Sample((values(rng, (2, 3, 4)),), {}, label="all")
        yield Sample((strided(values(rng, (4, 3))),), {}, label="all-strided")
        for dim, label in ((0, "int0"), (1, "int"), (-1, "neg")):
            for keepdim in (False, True):
                yield Sample((values(rng, (2, 3, 4)),), {"dim": dim, "keepdim": keepdim},
                             label=f"{label}{_keep_tag(keepdim)}")
        yield Sample((strided(values(rng, (4, 3))),), {"dim": 1}, label="strided")
        yield Sample((values(rng, (40, 3)),), {"dim": 0}, label="long-cols")
        yield Sample((values(rng, (3, 40)),), {"dim": 1}, label="long-rows")
        yield Sample((values(rng, (3, 40)),), {}, label="long-all")
        yield Sample((values(rng, ()),), {"dim": 0}, label="0d")
        yield from _tie_samples(largest, ((None, "all"),))(rng)
        yield from _max_dim_ties(largest)(rng)
    return samples


def _prod_samples(rng):
    yield from dim_samples(0.5, 1.5)(rng)
    x = values(rng, (3, 4), 0.5, 1.5)
    x[0, 1] = 0.0                                 # row 0: one zero
    x[1, 0] = x[1, 3] = 0.0                       # row 1: two zeros
    for dim in (None, 1, 0):
        yield Sample((x,), {} if dim is None else {"dim": dim}, label=f"zeros-dim{dim}")


def _var_samples(rng):
    yield from dim_samples(empty=False, scalar=False)(rng)       # one element: NaN
    for kw, label in (({"correction": 0}, "correction0"), ({"correction": 2}, "correction2"),
                      ({"unbiased": False}, "biased"), ({"unbiased": True}, "unbiased")):
        yield Sample((values(rng, (3, 5)),), dict(kw, dim=1), label=label)
        yield Sample((values(rng, (3, 5)),), kw, label=f"{label}-all")


def _norm_samples(rng):
    yield from dim_samples(kwargs=({}, {"p": 1}, {"p": 3}, {"p": math.inf},
                                    {"p": -math.inf}), empty=False)(rng)
    yield Sample((values(rng, (0, 3)),), {"dim": 0}, label="empty")
    yield Sample((values(rng, (3, 4)),), {"p": "fro", "dim": (0, 1)}, label="fro")
    yield Sample((values(rng, (3, 4)),), {"p": 0, "dim": 1}, label="p0")
    yield Sample((values(rng, (3, 4)),), {"p": 1.5}, label="p1.5-all")
    zero = values(rng, (3, 4))
    zero[1] = 0.0
    yield Sample((zero,), {"dim": 1}, label="zero-row")                 # gradient 0 there
    ties = values(rng, (2, 4), -1.0, 1.0)
    ties[0, 0], ties[0, 2] = 1.5, -1.5
    yield Sample((ties,), {"p": math.inf, "dim": 1}, label="inf-ties")


def _cumsum_samples(rng):
    for dim, label in ((0, "dim0"), (1, "dim1"), (-1, "neg"), (2, "last")):
        yield Sample((values(rng, (2, 3, 4)),), {"dim": dim}, label=label)
    yield Sample((strided(values(rng, (4, 3))),), {"dim": 1}, label="strided")
    yield Sample((values(rng, ()),), {"dim": 0}, label="0d")
    yield Sample((values(rng, (7,)),), {"dim": 0}, label="vector")
    yield Sample((values(rng, (0, 3)),), {"dim": 1}, label="empty")


def _torch_prod(torch, x, dim=None, keepdim=False):
    if dim is None:
        y = torch.prod(x)
        return y.reshape((1,) * x.ndim) if keepdim else y
    if isinstance(dim, int):
        return torch.prod(x, dim, keepdim=keepdim)
    for d in sorted((d % x.ndim for d in dim), reverse=True):
        x = torch.prod(x, d, keepdim=True)
    return x if keepdim else x.squeeze(tuple(d % x.ndim for d in dim))


def _torch_all_dims(name):
    """torch.<name> taking dim=None with keepdim (PyTorch wants the dim spelled then)."""
    def fn(torch, x, **kw):
        if "keepdim" in kw and "dim" not in kw:
            kw = dict(kw, dim=None)
        return getattr(torch, name)(x, **kw)
    return fn


def _torch_logsumexp(torch, x, dim=None, keepdim=False):
    return torch.logsumexp(x, tuple(range(x.ndim)) if dim is None else dim, keepdim=keepdim)


def _dtype_samples(rng):
    """dtype= casts the input first; the entries below cast the result back, so float32 runs
    compare float32 results (through a float64 reduction) with PyTorch's."""
    yield Sample((values(rng, (3, 4)),), {"dim": 1, "dtype": "float64"}, label="float64")


def _with_dtype(op):
    def fn(x, dim, dtype):
        return ops.cast(op(x, dim, dtype=dtype), x.dtype)
    return fn


def _torch_with_dtype(name):
    def fn(torch, x, dim, dtype):
        return getattr(torch, name)(x, dim, dtype=getattr(torch, dtype)).to(x.dtype)
    return fn


OPS = [
    OpInfo("sum", ops.sum, (ops.Sum,), dim_samples(), _torch_all_dims("sum")),
    OpInfo("mean", ops.mean, (ops.Mean,), dim_samples(empty=False), _torch_all_dims("mean")),
    OpInfo("prod", ops.prod, (ops.Prod,), _prod_samples, _torch_prod),
    OpInfo("max", ops.max, (ops.MaxDim, ops.Amax), _max_samples(True),
           lambda torch, x, **kw: torch.max(x, **kw)),
    OpInfo("min", ops.min, (ops.MinDim, ops.Amin), _max_samples(False),
           lambda torch, x, **kw: torch.min(x, **kw)),
    OpInfo("amax", ops.amax, (ops.Amax,),
           _chain(dim_samples(empty=False), _tie_samples(True)), _torch_all_dims("amax")),
    OpInfo("amin", ops.amin, (ops.Amin,),
           _chain(dim_samples(empty=False), _tie_samples(False)), _torch_all_dims("amin")),
    OpInfo("var", ops.var, (ops.Var,), _var_samples, _torch_all_dims("var")),
    OpInfo("std", ops.std, (ops.Std,), _var_samples, _torch_all_dims("std")),
    OpInfo("logsumexp", ops.logsumexp, (ops.LogSumExp,),
           _chain(dim_samples(-10.0, 10.0, empty=False),
                  lambda rng: [Sample((values(rng, (3, 4), 500.0, 520.0),), {"dim": 1},
                                      label="large")]),
           _torch_logsumexp),
    OpInfo("norm", ops.norm, (ops.Norm,), _norm_samples, _torch_all_dims("norm")),
    OpInfo("cumsum", ops.cumsum, (ops.CumSum,), _cumsum_samples, "torch.cumsum"),
]
OPS += [OpInfo(f"{name}_dtype", _with_dtype(getattr(ops, name)), (cls, ops.Cast), _dtype_samples,
               _torch_with_dtype(name))
        for name, cls in (("sum", ops.Sum), ("mean", ops.Mean), ("cumsum", ops.CumSum))]
