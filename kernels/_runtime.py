"""Process-wide Numba set-up, made once at import so users never need environment variables.

Threading: Numba's OpenMP threads and OpenBLAS's threads share the machine's cores. With the
default spin policy, GNU OpenMP threads keep spinning after a `prange` loop and starve the BLAS
call that follows (a 20x slowdown measured on 2 cores); a short spin count fixes it at ~2 us
per parallel call, where passive waiting costs ~50 us. The variable must be set before Numba
starts OpenMP, i.e. before the first parallel kernel runs; a user's own setting wins.

Worker threads: kernels that split work across the cores (convolution, pooling, batch norm)
use `WORKERS`, a small pool of Python threads running nogil Numba loops, instead of
`parallel=True`: no OpenMP pool spins against BLAS, a forked child works, and nothing costs
the 2.5-3 s cold compile of a parallel kernel. While shares that call BLAS run, OpenBLAS is set
to one thread and restored afterwards.

Caching: every kernel has `cache=True`. `TAPEGRAD_DISABLE_CACHE=1` points Numba's cache at a
fresh temporary directory, so nothing is read from or left on disk.
"""
import ctypes
import os
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("GOMP_SPINCOUNT", "1000")
os.environ.setdefault("KMP_BLOCKTIME", "0")

if os.environ.get("TAPEGRAD_DISABLE_CACHE", "") not in ("", "0"):
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="tapegrad-nocache-")

import numba  # noqa: E402  (after the environment above)
from numba.core.errors import NumbaIRAssumptionWarning  # noqa: E402

# Numba's pedantic SSA check warns when an inlined float32 helper (kernels/_fastmath) is used
# twice in one loop; the compiled code is right (the kernels are tested against numpy).
warnings.filterwarnings("ignore", category=NumbaIRAssumptionWarning)

# Parallel kernels switch to their serial twin below this many elements of work: a prange
# call costs ~2-3 us, more than the whole loop for small arrays (PERF.md: break-even near 64k
# float32 elements for memory-bound loops).
PARALLEL_MIN_ELEMENTS = 65536

NUM_THREADS = numba.config.NUMBA_NUM_THREADS


def _blas_thread_controls():
    """(get, set) of the thread count of the OpenBLAS that numpy loaded, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps
                            if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_", ""):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype = ctypes.c_int
                    put.argtypes = [ctypes.c_int]
                    return get, put
    return None


_BLAS_THREADS = _blas_thread_controls()


class Workers:
    """A pool of NUM_THREADS threads for the batch shares. While shares run, OpenBLAS is set
    to one thread (its count is process-wide, even through `openblas_set_num_threads_local`)
    and restored afterwards. The pool is recreated after a fork (a child process does not
    inherit the parent's threads)."""

    def __init__(self):
        self._pool = None
        self._pid = None
        self._lock = threading.Lock()
        self._active = 0
        self._saved = 1

    def run(self, fn, shares, blas=True):
        """fn(lo, hi) for every share, in parallel; the results in share order. `blas`: the
        shares call BLAS (which then runs single-threaded)."""
        if len(shares) == 1:
            return [fn(*shares[0])]
        blas = blas and _BLAS_THREADS is not None
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(NUM_THREADS, "tapegrad-kernels")
                self._pid = os.getpid()
            if blas:
                if self._active == 0:
                    self._saved = _BLAS_THREADS[0]()
                    if self._saved != 1:
                        _BLAS_THREADS[1](1)
                self._active += 1
        try:
            futures = [self._pool.submit(fn, lo, hi) for lo, hi in shares]
            return [f.result() for f in futures]
        finally:
            if blas:
                with self._lock:
                    self._active -= 1
                    if self._active == 0 and self._saved != 1:
                        _BLAS_THREADS[1](self._saved)


WORKERS = Workers()


def parallel_ranges(fn, n, work, min_work):
    """fn(lo, hi) over contiguous ranges splitting range(n) between the worker threads (fn
    must run nogil Numba code, and no BLAS); a single call fn(0, n) in the calling thread
    when `work` is below `min_work`. Returns the results in range order. The pooling and
    normalisation kernels use this instead of `prange`: no OpenMP pool to compile (a
    parallel=True kernel costs 2.5-3 s from a cold cache) or to spin against BLAS."""
    parts = min(n, NUM_THREADS)
    if parts < 2 or work < min_work:
        return [fn(0, n)]
    shares = [(k * n // parts, (k + 1) * n // parts) for k in range(parts)]
    return WORKERS.run(fn, shares, blas=False)


def blas_thread_controls_available():
    return _BLAS_THREADS is not None
