"""Registry entries of the pointwise unary ops."""
import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values


def unary_samples(low=-2.0, high=2.0, away_from=(), params=({},)):
    """Shapes (), (5,), (3, 4), a strided (4, 3) view and an empty (0, 3), per param set."""
    def samples(rng):
        for kwargs in params:
            tag = "-".join(f"{k}{v}" for k, v in kwargs.items())
            for label, x in (("scalar", values(rng, (), low, high, away_from)),
                             ("vector", values(rng, (5,), low, high, away_from)),
                             ("matrix", values(rng, (3, 4), low, high, away_from)),
                             ("strided", strided(values(rng, (4, 3), low, high, away_from))),
                             ("empty", values(rng, (0, 3), low, high, away_from))):
                yield Sample((x,), kwargs, label=f"{label}-{tag}" if tag else label)
    return samples


def _entry(name, function, torch_ref, low=-2.0, high=2.0, away_from=(), params=({},), **kw):
    return OpInfo(name, getattr(ops, name), (function,),
                  unary_samples(low, high, away_from, params), torch_ref, **kw)


def _pow_scalar(x, exponent):
    return ops.pow(x, exponent)


def _cast_round_trip(x):
    """float64 and back (in float32 this crosses dtypes both ways)."""
    return ops.cast(ops.cast(x, np.float64, copy=True) * 2.0, x.dtype)


OPS = [
    _entry("neg", ops.Neg, "torch.neg"),
    _entry("abs", ops.Abs, "torch.abs", away_from=(0,)),
    _entry("exp", ops.Exp, "torch.exp"),
    _entry("log", ops.Log, "torch.log", low=0.2, high=3.0),
    _entry("log1p", ops.Log1p, "torch.log1p", low=-0.7, high=3.0),
    _entry("expm1", ops.Expm1, "torch.expm1"),
    _entry("sqrt", ops.Sqrt, "torch.sqrt", low=0.2, high=3.0),
    _entry("rsqrt", ops.Rsqrt, "torch.rsqrt", low=0.2, high=3.0),
    _entry("square", ops.Square, "torch.square"),
    _entry("reciprocal", ops.Reciprocal, "torch.reciprocal", low=0.3, high=3.0),
    _entry("sin", ops.Sin, "torch.sin"),
    _entry("cos", ops.Cos, "torch.cos"),
    _entry("tanh", ops.Tanh, "torch.tanh", low=-4.0, high=4.0),
    _entry("sigmoid", ops.Sigmoid, "torch.sigmoid", low=-6.0, high=6.0),
    _entry("relu", ops.Relu, "torch.relu", away_from=(0,)),
    _entry("leaky_relu", ops.LeakyRelu, "torch.nn.functional.leaky_relu", away_from=(0,),
           params=({}, {"negative_slope": 0.2})),
    _entry("relu6", ops.Relu6, "torch.nn.functional.relu6", low=-2.0, high=8.0,
           away_from=(0, 6)),
    _entry("elu", ops.Elu, "torch.nn.functional.elu", away_from=(0,),
           params=({}, {"alpha": 0.5})),
    _entry("selu", ops.Selu, "torch.selu", away_from=(0,)),
    _entry("gelu", ops.Gelu, "torch.nn.functional.gelu",
           params=({}, {"approximate": "tanh"})),
    _entry("silu", ops.Silu, "torch.nn.functional.silu", low=-5.0, high=5.0),
    _entry("softplus", ops.Softplus, "torch.nn.functional.softplus", low=-5.0, high=5.0,
           away_from=(2.0,), params=({}, {"beta": 2.0, "threshold": 4.0})),
    _entry("hardsigmoid", ops.Hardsigmoid, "torch.nn.functional.hardsigmoid", low=-4.0,
           high=4.0, away_from=(-3, 3)),
    _entry("hardtanh", ops.Hardtanh, "torch.nn.functional.hardtanh", away_from=(-1, 1),
           params=({}, {"min_val": -0.5, "max_val": 1.5})),
    _entry("sign", ops.Sign, "torch.sign", away_from=(0,)),
    _entry("clamp", ops.Clamp, "torch.clamp", away_from=(-0.5, 1.0),
           params=({"min": -0.5, "max": 1.0}, {"min": -0.5}, {"max": 1.0})),
    OpInfo("pow_scalar", _pow_scalar, (ops.PowScalar,),
           unary_samples(0.2, 2.0, params=({"exponent": 2}, {"exponent": 0.5},
                                            {"exponent": -1.5}, {"exponent": 0})),
           lambda torch, x, exponent: torch.pow(x, exponent)),
    OpInfo("cast", _cast_round_trip, (ops.Cast,), unary_samples(),
           lambda torch, x: (x.to(torch.float64) * 2.0).to(x.dtype)),
    OpInfo("clone", ops.clone, (ops.Clone,), unary_samples(), "torch.clone"),
]
