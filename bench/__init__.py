"""The micro-benchmark runner: tapegrad and PyTorch side by side, on this machine.

From a shell, `python -m bench` (or `make bench`; `python -m bench --help` lists the options).
From a notebook:

    from bench import run
    rows = run(only=["conv"])            # a list of dicts, one per workload

This package imports nothing heavy at import time: it records the environment first, so the
PyTorch worker can start from it unchanged by tapegrad's own import.
"""
import os

START_ENV = dict(os.environ)


def run(only=None, skip=None, dtype="float32", threads=None, min_time=1.0, torch=True,
        progress=True, baseline=None, threshold=0.2):
    """Time the chosen workloads; returns one dict per workload (fields: bench.report.ROW_FIELDS).

    only / skip: names, families ("conv"), kinds ("startup"), dotted prefixes or globs.
    dtype: "float32" or "float64".  threads: for both sides (default: the usable cores).
    min_time: seconds of timed rounds per side and workload.  torch=False: tapegrad only.
    baseline: an earlier results file (or its loaded dict) to compare with; rows that got
    slower by more than `threshold` have regression=True.
    """
    from bench.runner import run_suite
    return run_suite(only=only, skip=skip, dtype=dtype, threads=threads, min_time=min_time,
                     torch=torch, progress=progress, baseline=baseline,
                     threshold=threshold)["rows"]
