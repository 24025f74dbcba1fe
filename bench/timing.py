"""Timing that survives a noisy machine.

One workload is timed like this: each side is built and warmed up (the first call, which
includes Numba's compile or cache load, is kept as `first`), the number of calls per round is
calibrated so a round lasts about `min_time / MAX_ROUNDS`, and then rounds of ours and
PyTorch's alternate, the side that goes first swapping every round, so a slow spell of the
machine hits both. The rounds are split into `GROUPS` consecutive groups; the reported time is
the lowest of the group medians (PERF.md's "best of a few medians"), next to the median and
minimum of all rounds and their spread (interquartile range / median).

PyTorch's side runs in its own process (bench/worker.py) and is driven through the same
runner interface as ours, so the two thread pools never run at the same time. Start-up rows
time fresh interpreters (`run_child`), each with its own Numba cache directory when asked.
"""
import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from time import perf_counter

import numpy as np

MAX_ROUNDS = 15
MIN_ROUNDS = 3
GROUPS = 3


@dataclass(frozen=True)
class Stats:
    """Per-call seconds of one side: `best` is what is reported."""
    best: float
    median: float
    min: float
    spread: float
    rounds: tuple
    number: int
    first: float | None


def summarize(rounds, number=1, first=None, groups=GROUPS):
    """Stats of per-call round times (in time order)."""
    r = np.asarray(rounds, dtype=float)
    if r.size == 0:
        raise ValueError("summarize: no rounds")
    chunks = np.array_split(r, min(groups, r.size))
    median = float(np.median(r))
    q1, q3 = np.percentile(r, [25, 75])
    return Stats(best=float(min(np.median(c) for c in chunks)), median=median,
                 min=float(r.min()), spread=float((q3 - q1) / median) if median > 0 else 0.0,
                 rounds=tuple(float(x) for x in r), number=number, first=first)


def calls_per_round(estimate, round_time):
    """How many calls make a round of about `round_time` seconds (at least one)."""
    if not estimate or estimate <= 0:
        return 1
    return max(1, int(round(round_time / estimate)))


def round_count(round_seconds, min_time):
    """Rounds per side: as many as fit in `min_time`, within [MIN_ROUNDS, MAX_ROUNDS]."""
    if not round_seconds:
        return MIN_ROUNDS
    return int(min(MAX_ROUNDS, max(MIN_ROUNDS, min_time // max(round_seconds))))


def time_calls(fn, number, self_timed=False):
    """Seconds per call over `number` calls; a self-timed `fn` returns its own seconds."""
    if self_timed:
        return sum(fn() for _ in range(number)) / number
    start = perf_counter()
    for _ in range(number):
        fn()
    return (perf_counter() - start) / number


class RemoteError(RuntimeError):
    """A failure reported by the PyTorch worker, already described."""


def describe(exc):
    """One line for a table note: the exception's type and the first line of its message."""
    if isinstance(exc, RemoteError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class LocalRunner:
    """Builds and times one side in this process. The worker wraps one of these."""

    def __init__(self):
        self.fn = None
        self.self_timed = False

    def setup(self, side, dtype, warmup_time, self_timed=False, warmup=True):
        """Build the callable and warm it up; returns {"first": s, "estimate": s per call}."""
        self.fn, self.self_timed = side(dtype), self_timed
        if not warmup:
            return {"first": None, "estimate": None}
        first = time_calls(self.fn, 1, self_timed)
        if self_timed:
            return {"first": first, "estimate": first}
        times, spent = [], 0.0      # the first call compiled or loaded kernels: estimate anew
        while not times or (spent < warmup_time and len(times) < 1000):
            times.append(time_calls(self.fn, 1))
            spent += times[-1]
        gc.collect()                  # the previous workload's garbage is not this one's cost
        return {"first": first, "estimate": float(np.median(times))}

    def round(self, number):
        return time_calls(self.fn, number, self.self_timed)

    def teardown(self):
        self.fn = None
        gc.collect()


@dataclass
class _Side:
    runner: object
    info: dict
    number: int = 1
    rounds: list = None
    error: str | None = None


def measure(workload, ours, torch, dtype, min_time, warmup_time=None):
    """Time both sides of `workload` in interleaved rounds.

    `ours` and `torch` are runners (or None when a side is not run). Returns a dict
    side -> Stats, or side -> str (why there is no figure).
    """
    min_time *= workload.budget
    warmup_time = min(0.5, 0.2 * min_time) if warmup_time is None else warmup_time
    result, sides = {}, {}
    for key, runner, side, note in (("ours", ours, workload.ours, ""),
                                    ("torch", torch, workload.torch, workload.torch_note)):
        if side is None or runner is None:
            result[key] = note or "not run"
            continue
        if isinstance(runner, str):
            result[key] = runner
            continue
        try:
            info = runner.setup(side, dtype, warmup_time, workload.self_timed, workload.warmup)
        except Exception as exc:
            result[key] = describe(exc)
            _teardown(runner)
            continue
        sides[key] = _Side(runner, info, rounds=[])
    if not sides:
        return result

    round_time = min_time / MAX_ROUNDS
    for s in sides.values():
        if not workload.self_timed:
            s.number = calls_per_round(s.info["estimate"], round_time)
    n_rounds = workload.rounds or round_count(
        [s.number * s.info["estimate"] for s in sides.values() if s.info["estimate"]], min_time)
    order = list(sides)
    for i in range(n_rounds):
        for key in (order if i % 2 == 0 else order[::-1]):
            s = sides[key]
            if s.error is None:
                try:
                    s.rounds.append(s.runner.round(s.number))
                except Exception as exc:
                    s.error = describe(exc)
    for key, s in sides.items():
        _teardown(s.runner)
        if s.error is not None or not s.rounds:
            result[key] = s.error or "no rounds"
        else:
            result[key] = summarize(s.rounds, s.number, s.info.get("first"))
    return result


def _teardown(runner):
    try:
        runner.teardown()
    except Exception:
        pass                          # a failed side is reported already; a dead worker too


# Set by the runner to its thread count, for the start-up children of tapegrad's side (the
# PyTorch worker's children inherit the worker's environment, which already has it).
CHILD_THREADS = None

_WARM_CACHES = {}


def numba_cache(key):
    """A temporary Numba cache directory, removed when the run ends: a new, empty one for
    key None, else the same one for every call with `key` (filled by the first)."""
    if key in _WARM_CACHES:
        return _WARM_CACHES[key]
    path = tempfile.mkdtemp(prefix="tapegrad-bench-cache-")
    if key is not None:
        _WARM_CACHES[key] = path
    atexit.register(shutil.rmtree, path, True)
    return path


def child_env(cache_dir=None):
    """The environment of a start-up child: this one, with the repository importable, the run's
    thread count, and for the compile rows Numba's cache in `cache_dir`."""
    env = dict(os.environ)
    if CHILD_THREADS:
        for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[name] = str(CHILD_THREADS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
        env.pop("TAPEGRAD_DISABLE_CACHE", None)
    return env


CHILD_CODE = ("import json, sys; from bench.workloads import child_task; "
              "print(json.dumps(child_task(**json.loads(sys.argv[1]))))")


def run_child(task, kwargs, cache_dir=None, timeout=1800):
    """Run a start-up task (bench.workloads.child_task) in a fresh interpreter; returns the
    seconds it measured itself."""
    proc = subprocess.run([sys.executable, "-c", CHILD_CODE, json.dumps(dict(kwargs, task=task))],
                          env=child_env(cache_dir), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(f"the child process failed: {lines[-1] if lines else proc.returncode}")
    return float(proc.stdout.strip().splitlines()[-1])
