"""Numba kernels: numpy arrays in, numpy arrays out. No Tensor, no tape.

Importing this package sets up the threading the kernels need (see `_runtime`) before any
parallel kernel is compiled or loaded from the cache.
"""
from kernels import _runtime  # noqa: F401  (side effect: threading and cache set-up)
from kernels._runtime import get_num_threads, set_num_threads  # noqa: F401
