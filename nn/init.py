"""Parameter initialisation, PyTorch's `torch.nn.init`: each function fills a Tensor in place
(without recording the tape) and returns it. Random ones draw from the seeded generator
(`autograd.manual_seed`), or from a numpy `Generator` passed as `generator=`.

Fans follow PyTorch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel). The scales:
    xavier_uniform_   U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_    N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_  U(-b, b),  b = gain * sqrt(3 / fan)
    kaiming_normal_   N(0, s^2), s = gain / sqrt(fan)
with gain = calculate_gain(nonlinearity, a) and fan = fan_in or fan_out by `mode`.
"""
import math

import numpy as np

from autograd import random as _random
from autograd.tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "trunc_normal_", "eye_"]

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table): 1 for linear/conv/sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope 0.01 by
    default), 3/4 for selu."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape "
                         f"{tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode, op):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor, op):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {tensor.data.dtype}")


def _fill(tensor, values):
    """Write `values` into the tensor's own array (views and optimizers keep seeing it)."""
    tensor.data[...] = values
    tensor._version[0] += 1
    return tensor


def _rng(generator):
    return _random.generator() if generator is None else generator


def _draw_dtype(tensor):
    """Draw in the tensor's own dtype (no float64 temporary for a float32 model); numpy's
    generator draws float32 and float64 only."""
    return tensor.data.dtype if tensor.data.dtype in (np.float32, np.float64) else np.float64


def _uniform(generator, low, high, tensor):
    """U(low, high) of the tensor's shape."""
    draws = _rng(generator).random(tensor.shape, dtype=_draw_dtype(tensor))
    draws *= high - low
    draws += low
    return draws


def _normal(generator, mean, std, tensor):
    """N(mean, std^2) of the tensor's shape."""
    draws = _rng(generator).standard_normal(tensor.shape, dtype=_draw_dtype(tensor))
    draws *= std
    draws += mean
    return draws


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    _check(tensor, "uniform_")
    return _fill(tensor, _uniform(generator, a, b, tensor))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    _check(tensor, "normal_")
    return _fill(tensor, _normal(generator, mean, std, tensor))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) restricted to [a, b] (redrawing values outside it)."""
    _check(tensor, "trunc_normal_")
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor, val):
    _check(tensor, "constant_")
    return _fill(tensor, val)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _uniform(generator, -bound, bound, tensor))


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _normal(generator, 0.0, std, tensor))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): U(-b, b) with b = gain * sqrt(3 / fan); `a` is the leaky_relu slope.
    PyTorch's Linear and Conv layers use a = sqrt(5), i.e. b = 1 / sqrt(fan_in)."""
    _check(tensor, "kaiming_uniform_")
    fan = _fan(tensor, mode, "kaiming_uniform_")
    if fan == 0:
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _fill(tensor, _uniform(generator, -bound, bound, tensor))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): N(0, s^2) with s = gain / sqrt(fan)."""
    _check(tensor, "kaiming_normal_")
    fan = _fan(tensor, mode, "kaiming_normal_")
    if fan == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, _normal(generator, 0.0, std, tensor))


def orthogonal_(tensor, gain=1.0, generator=None):
    """Saxe et al. (2013): a (semi-)orthogonal matrix from the QR decomposition of a normal
    one, signs fixed so the result is uniform over orthogonal matrices; dims after the first
    are flattened."""
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected at least 2 dims, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))
