"""One benchmark run: choose the workloads, set threads on both sides, time, collect the facts."""
import ctypes
import fnmatch
import importlib.util
import os
import platform
import subprocess

import numpy as np
from tqdm.auto import tqdm

from bench import report, timing, workloads as registry_module
from bench.timing import LocalRunner, RemoteError, describe, measure


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not on Linux
        return os.cpu_count() or 1


def torch_installed():
    return importlib.util.find_spec("torch") is not None


def _tokens(values):
    """["conv,lstm", "pool"] or "conv,lstm" -> ["conv", "lstm", ...]."""
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values or ():
        out += [t.strip() for t in str(value).split(",") if t.strip()]
    return out


def matches(workload, token):
    """A token names a family ("conv"), a kind ("startup"), whole dotted parts of a workload's
    name ("lenet.relu", "numpy_sgemm", the full name) or a glob over names ("*.fwdbwd")."""
    return (token in (workload.family, workload.kind) or f".{token}." in f".{workload.name}."
            or fnmatch.fnmatchcase(workload.name, token))


def select(workloads, only=None, skip=None):
    only, skip = _tokens(only), _tokens(skip)
    return [w for w in workloads
            if (not only or any(matches(w, t) for t in only))
            and not any(matches(w, t) for t in skip)]


def _openblas():
    """numpy's OpenBLAS, reached through ctypes (threadpoolctl is not a dependency), and the
    prefix/suffix of its exported names; None if numpy does not use a loaded OpenBLAS."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            if hasattr(lib, f"{prefix}get_num_threads{suffix}"):
                return lib, prefix, suffix
    return None


def blas_set_threads(n):
    found = _openblas()
    if found is None:
        return False
    lib, prefix, suffix = found
    getattr(lib, f"{prefix}set_num_threads{suffix}")(ctypes.c_int(n))
    return True


def blas_facts():
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:                            # older numpy: no dict form
        config = {}
    facts = {"name": config.get("name"), "version": config.get("version"),
             "configuration": config.get("openblas configuration")}
    found = _openblas()
    if found is not None:
        lib, prefix, suffix = found
        facts["threads"] = getattr(lib, f"{prefix}get_num_threads{suffix}")()
        corename = getattr(lib, f"{prefix}get_corename{suffix}", None)
        if corename is not None:
            corename.restype = ctypes.c_char_p
            facts["corename"] = corename().decode()
    return facts


def numba_facts():
    import numba
    facts = {"version": numba.__version__, "NUMBA_NUM_THREADS": numba.config.NUMBA_NUM_THREADS,
             "requested_layer": numba.config.THREADING_LAYER}
    try:
        facts["threading_layer"] = numba.threading_layer()
        facts["num_threads"] = numba.get_num_threads()
    except ValueError:                           # no parallel kernel has run in this process
        facts["threading_layer"] = "not started"
        facts["num_threads"] = None
    return facts


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        return round(kib / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        return None


def _tapegrad_revision():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _load_average():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def machine_facts(torch_facts=None):
    """Where the figures come from. Call it after the run: Numba reports its threading layer
    only once a parallel kernel has run."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable_cores(),
            "memory_gib": _memory_gib(), "load_average": _load_average(),
            "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "blas": blas_facts(), "numba": numba_facts(), "torch": torch_facts,
            "tapegrad_revision": _tapegrad_revision()}


def _prepare_ours(threads, notes):
    """Import tapegrad's kernels first (their import chooses Numba's threading layer, which
    the first thread launch fixes for good), then give Numba and OpenBLAS `threads` threads."""
    kernels = None
    try:
        import kernels
    except Exception as exc:
        notes.append(f"tapegrad's kernels did not import ({describe(exc)})")
    import numba
    limit = numba.config.NUMBA_NUM_THREADS
    if threads > limit:
        notes.append(f"Numba has at most {limit} threads (NUMBA_NUM_THREADS): ours uses {limit}")
    elif threads != limit:
        numba.set_num_threads(threads)
        if kernels is not None and hasattr(kernels, "set_num_threads"):
            kernels.set_num_threads(threads)    # the kernels' own worker threads
        elif kernels is not None:
            notes.append(f"--threads {threads} set Numba's and OpenBLAS's threads; tapegrad's "
                         f"kernel worker threads have no public setter (kernels.set_num_threads) "
                         f"and stay at {limit}")
    if not blas_set_threads(threads):
        notes.append("numpy's OpenBLAS was not found: its thread count was left as it is")
    timing.CHILD_THREADS = threads


def _start_worker(threads, notes):
    from bench.worker import TorchWorker
    try:
        return TorchWorker(threads)
    except (RemoteError, OSError) as exc:
        notes.append(f"the PyTorch worker did not start ({describe(exc)}): ours only")
        return None


def run_suite(only=None, skip=None, dtype="float32", threads=None, min_time=1.0, torch=True,
              progress=True, baseline=None, threshold=0.2, workloads=None, torch_runner=None,
              command=None):
    """Run the selected workloads and return the results document (see report.validate).

    `workloads` replaces the registry and `torch_runner` the worker process (tests use both).
    """
    dtype = np.dtype(dtype).name
    threads = int(threads or usable_cores())
    from_file = isinstance(baseline, (str, os.PathLike))
    base = report.load_json(baseline) if from_file else baseline   # fail now, not after the run
    notes, worker = [], None
    load = _load_average()
    if torch and torch_runner is None:
        if torch_installed():
            worker = _start_worker(threads, notes)   # before tapegrad changes the environment
        else:
            notes.append("PyTorch is not installed, so only tapegrad was timed "
                         "(pip install torch==2.13.0 for the comparison)")
    elif not torch:
        notes.append("PyTorch not run (--no-torch)")
    _prepare_ours(threads, notes)
    if workloads is None:
        workloads, registry_notes = registry_module.registry()
        notes += registry_notes
    chosen = select(workloads, only, skip)
    rows = []
    bar = tqdm(chosen, disable=not progress, unit="workload", dynamic_ncols=True)
    try:
        for w in bar:
            bar.set_postfix_str(w.name, refresh=True)
            if worker is not None and not worker.alive():
                worker.close()
                notes.append(f"the PyTorch worker died; restarted it for {w.name}")
                worker = _start_worker(threads, notes)
            other = (torch_runner if torch_runner is not None else
                     worker if worker is not None else
                     "not run" if not torch else "PyTorch is not available")
            result = measure(w, LocalRunner(), other, dtype, min_time)
            rows.append(report.make_row(w, result))
    except KeyboardInterrupt:
        notes.append(f"interrupted after {len(rows)} of {len(chosen)} workloads")
    finally:
        bar.close()
        torch_facts = worker.facts if worker is not None else None
        if worker is not None:
            worker.close()
    options = {"only": _tokens(only), "skip": _tokens(skip), "dtype": dtype, "threads": threads,
               "min_time": min_time, "torch": bool(torch)}
    machine = dict(machine_facts(torch_facts), load_average_at_start=load)
    busiest = max((x for x in (load, machine["load_average"]) if x is not None), default=0.0)
    if busiest > 0.5 * usable_cores():
        notes.insert(0, f"the machine was busy (load average up to {busiest:.1f} on "
                        f"{usable_cores()} cores): times are unreliable, and so are ratios, as "
                        f"PyTorch's OpenMP threads were seen to stall for milliseconds on a "
                        f"busy machine; rerun on an idle one")
    doc = report.make_doc(rows, options, machine, notes, command)
    if base is not None:
        if base["options"].get("dtype") != dtype:
            doc["notes"].append(f"the baseline ran in {base['options'].get('dtype')}, "
                                f"this run in {dtype}")
        regressions = report.compare_baseline(rows, base, threshold)
        doc["baseline"] = {"file": str(baseline) if from_file else None,
                           "created": base.get("created"), "threshold": threshold,
                           "regressions": [r["name"] for r in regressions]}
    return doc
