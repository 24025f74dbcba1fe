"""Process-wide Numba set-up, made once at import so users never need environment variables.

Threading: Numba's OpenMP threads and OpenBLAS's threads share the machine's cores. With the
default spin policy, GNU OpenMP threads keep spinning after a `prange` loop and starve the BLAS
call that follows (a 20x slowdown measured on 2 cores); a short spin count fixes it at ~2 us
per parallel call, where passive waiting costs ~50 us. The variable must be set before Numba
starts OpenMP, i.e. before the first parallel kernel runs; a user's own setting wins.

Worker threads: kernels that split work across the cores (convolution, pooling, batch norm)
use `WORKERS`, a small pool of Python threads running nogil Numba loops, instead of
`parallel=True`: no OpenMP pool spins against BLAS, a forked child works, and nothing costs
the 2.5-3 s cold compile of a parallel kernel. The calling thread always does a share of the
work itself; `WORKERS.run_claimed` hands out pieces to whichever thread is free, so a worker
woken late on a busy machine delays nothing. While shares that call BLAS run, OpenBLAS is set
to one thread and restored afterwards. `set_num_threads(n)` limits the pool (1: everything
runs in the calling thread).

Caching: every kernel has `cache=True`. `TAPEGRAD_DISABLE_CACHE=1` points Numba's cache at a
fresh temporary directory, so nothing is read from or left on disk.
"""
import ctypes
import itertools
import os
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor, wait

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
_num_threads = NUM_THREADS


def set_num_threads(n):
    """Use n (1 .. NUM_THREADS) threads in the kernels' worker pool from now on (as
    torch.set_num_threads; 1: every kernel runs in the calling thread)."""
    global _num_threads
    if not 1 <= int(n) <= NUM_THREADS:
        raise ValueError(f"set_num_threads: expected 1 .. {NUM_THREADS} threads, got {n}")
    _num_threads = int(n)


def get_num_threads():
    """Threads of the kernels' worker pool (see set_num_threads)."""
    return _num_threads


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
    """A pool of NUM_THREADS threads for the batch shares (the calling thread runs one share
    itself). While shares run, OpenBLAS is set to one thread (its count is process-wide, even
    through `openblas_set_num_threads_local`) and restored afterwards. The pool is recreated
    after a fork (a child process does not inherit the parent's threads)."""

    def __init__(self):
        self._pool = None
        self._pid = None
        self._lock = threading.Lock()
        self._active = 0
        self._saved = 1

    def _pool_for_this_process(self):
        if self._pool is None or self._pid != os.getpid():
            self._pool = ThreadPoolExecutor(NUM_THREADS, "tapegrad-kernels")
            self._pid = os.getpid()
        return self._pool

    def _single_blas(self):
        """Set OpenBLAS to one thread for a run (called with the lock held)."""
        if self._active == 0:
            self._saved = _BLAS_THREADS[0]()
            if self._saved != 1:
                _BLAS_THREADS[1](1)
        self._active += 1

    def _restore_blas(self):
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._saved != 1:
                _BLAS_THREADS[1](self._saved)

    def run(self, fn, shares, blas=True):
        """fn(lo, hi) for every share, in parallel (the first share in the calling thread);
        the results in share order. `blas`: the shares call BLAS (which then runs
        single-threaded)."""
        if len(shares) == 1:
            return [fn(*shares[0])]
        blas = blas and _BLAS_THREADS is not None
        with self._lock:
            pool = self._pool_for_this_process()
            if blas:
                self._single_blas()
        try:
            futures = [pool.submit(fn, lo, hi) for lo, hi in shares[1:]]
            try:
                first = fn(*shares[0])
            finally:
                wait(futures)            # no share still runs when BLAS is restored
            return [first] + [f.result() for f in futures]
        finally:
            if blas:
                self._restore_blas()

    def run_claimed(self, fn, pieces, threads=None, blas=True):
        """Work sharing without waiting for late threads: fn(claim) runs in the calling thread
        and in up to `threads` - 1 workers (default: get_num_threads()); claim() returns the
        next index of range(pieces) that no thread has taken yet, or None. A worker that
        starts only after the calling thread ran out of pieces (on a busy machine a wake-up
        can take milliseconds) returns without running fn and is not waited for. Returns the
        results of the calls that ran, the calling thread's first. `blas`: fn calls BLAS
        (which then runs single-threaded)."""
        counter = itertools.count()

        def claim():
            k = next(counter)            # atomic under the GIL
            return k if k < pieces else None

        helpers = min(_num_threads if threads is None else threads, pieces) - 1
        if helpers < 1:
            return [fn(claim)]
        blas = blas and _BLAS_THREADS is not None
        joined = []
        closed = [False]
        run_lock = threading.Lock()

        def helper(slot):
            with run_lock:
                if closed[0]:
                    return None
                joined.append(slot)
            return fn(claim)

        with self._lock:
            pool = self._pool_for_this_process()
            if blas:
                self._single_blas()
        try:
            futures = [pool.submit(helper, slot) for slot in range(helpers)]
            try:
                results = [fn(claim)]
            finally:
                with run_lock:
                    closed[0] = True
                    started = [futures[slot] for slot in joined]
                wait(started)
            return results + [f.result() for f in started]
        finally:
            if blas:
                self._restore_blas()


WORKERS = Workers()


def parallel_ranges(fn, n, work, min_work):
    """fn(lo, hi) over contiguous ranges splitting range(n) between the worker threads (fn
    must run nogil Numba code, and no BLAS); a single call fn(0, n) in the calling thread
    when `work` is below `min_work`. Returns the results in range order. The pooling and
    normalisation kernels use this instead of `prange`: no OpenMP pool to compile (a
    parallel=True kernel costs 2.5-3 s from a cold cache) or to spin against BLAS."""
    parts = min(n, _num_threads)
    if parts < 2 or work < min_work:
        return [fn(0, n)]
    shares = [(k * n // parts, (k + 1) * n // parts) for k in range(parts)]
    return WORKERS.run(fn, shares, blas=False)


def blas_thread_controls_available():
    return _BLAS_THREADS is not None
