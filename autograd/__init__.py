"""tapegrad's autograd: Tensor, the tape, Function, grad modes, the op library, gradcheck.

PyTorch spellings throughout: `autograd.tensor([...], requires_grad=True)`, `x.tanh()`,
`y.backward()`, `with autograd.no_grad(): ...`.
"""
from autograd import dtypes as _dtypes
from autograd.tensor import Tensor
from autograd.function import Function
from autograd.grad_mode import (detect_anomaly, enable_grad, is_grad_enabled, no_grad,
                                set_grad_enabled)
from autograd.autograd_api import backward, grad
from autograd.gradcheck import GradcheckError, gradcheck
from autograd.random import manual_seed
from autograd.factory import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                              full_like, linspace, ones, ones_like, rand, rand_like, randint,
                              randn, randn_like, randperm, tensor, zeros, zeros_like)
from autograd.ops import *  # noqa: F401,F403  (every op: autograd.tanh, autograd.cat, ...)

float32 = _dtypes.float32
float64 = _dtypes.float64
int64 = _dtypes.int64
bool = _dtypes.bool_  # noqa: A001  (PyTorch's spelling: autograd.bool)
float = float32  # noqa: A001
double = float64
long = int64
