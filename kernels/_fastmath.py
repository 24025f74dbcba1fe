"""Scalar transcendentals for jitted loops, specialised by dtype at compile time.

float64 goes to libm (accuracy first: the float64 gradcheck runs there). float32 uses
pure-arithmetic formulations that LLVM can vectorize, since Numba has no SVML here and a
libm call per element keeps a loop scalar.
"""
import numpy as np
from numba import types
from numba.extending import overload


def exp(x):
    return np.exp(x)


def log(x):
    return np.log(x)


def log1p(x):
    return np.log1p(x)


def expm1(x):
    return np.expm1(x)


def tanh(x):
    return np.tanh(x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@overload(exp, inline="always")
def _exp_impl(x):
    if isinstance(x, types.Float):
        return lambda x: np.exp(x)


@overload(log, inline="always")
def _log_impl(x):
    if isinstance(x, types.Float):
        return lambda x: np.log(x)


@overload(log1p, inline="always")
def _log1p_impl(x):
    if isinstance(x, types.Float):
        return lambda x: np.log1p(x)


@overload(expm1, inline="always")
def _expm1_impl(x):
    if isinstance(x, types.Float):
        return lambda x: np.expm1(x)


@overload(tanh, inline="always")
def _tanh_impl(x):
    if isinstance(x, types.Float):
        return lambda x: np.tanh(x)


@overload(sigmoid, inline="always")
def _sigmoid_impl(x):
    if isinstance(x, types.Float):
        one = np.float32(1.0) if x == types.float32 else np.float64(1.0)

        def impl(x):
            return one / (one + np.exp(-x))
        return impl
