"""Process-wide Numba set-up, made once at import so users never need environment variables.

Threading: Numba's OpenMP threads and OpenBLAS's threads share the machine's cores. With the
default spin policy, GNU OpenMP threads keep spinning after a `prange` loop and starve the BLAS
call that follows (a 20x slowdown measured on 2 cores); a short spin count fixes it at ~2 us
per parallel call, where passive waiting costs ~50 us. The variable must be set before Numba
starts OpenMP, i.e. before the first parallel kernel runs; a user's own setting wins.

Caching: every kernel has `cache=True`. `TAPEGRAD_DISABLE_CACHE=1` points Numba's cache at a
fresh temporary directory, so nothing is read from or left on disk.
"""
import os
import tempfile

os.environ.setdefault("GOMP_SPINCOUNT", "1000")
os.environ.setdefault("KMP_BLOCKTIME", "0")

if os.environ.get("TAPEGRAD_DISABLE_CACHE", "") not in ("", "0"):
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="tapegrad-nocache-")

import numba  # noqa: E402  (after the environment above)

# Parallel kernels switch to their serial twin below this many elements of work: a prange
# call costs ~2-3 us, more than the whole loop for small arrays (PERF.md: break-even near 64k
# float32 elements for memory-bound loops).
PARALLEL_MIN_ELEMENTS = 65536

NUM_THREADS = numba.config.NUMBA_NUM_THREADS
