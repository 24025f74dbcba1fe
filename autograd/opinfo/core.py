"""The registry's record types and the sample-value helpers the families share."""
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np


@dataclass(frozen=True)
class Sample:
    args: tuple                    # float64 arrays (differentiable), int64 arrays, Python values
    kwargs: dict = field(default_factory=dict)
    wrt: tuple = (0,)              # positional args to gradcheck
    label: str = ""                # the pytest id: "conv2d[stride2-pad1]"


@dataclass(frozen=True)
class OpInfo:
    name: str
    fn: Callable                                   # public entry point taking Tensors
    functions: tuple                               # Function classes this entry exercises
    samples: Callable[[np.random.Generator], Iterable[Sample]]
    torch_ref: object = None    # "torch.tanh", or a callable(torch, *args, **kwargs)
    grad_tol: float = 1e-6      # max relative error of the float64 gradcheck
    torch_tol: dict = field(default_factory=lambda: {"float32": 1e-5, "float64": 1e-10})


def resolve_torch_ref(ref, torch):
    """A callable on torch tensors from an OpInfo's `torch_ref`."""
    if callable(ref):
        return lambda *args, **kwargs: ref(torch, *args, **kwargs)
    obj = torch
    for part in ref.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def values(rng, shape, low=-2.0, high=2.0, away_from=(), margin=0.05):
    """float64 values uniform in [low, high), nudged at least `margin` away from each kink in
    `away_from`, where finite differences would straddle a corner."""
    x = rng.uniform(low, high, shape)
    for kink in away_from:
        close = np.abs(x - kink) < margin
        x = np.where(close, kink + np.where(x >= kink, margin, -margin) * 2, x)
    return x


def strided(x):
    """The same values as a non-contiguous view (a transposed copy of the transpose)."""
    return np.ascontiguousarray(x.T).T if x.ndim >= 2 else x[::-1].copy()[::-1]
