"""The UCI 8x8 handwritten digits (1797 images) that scikit-learn ships, for tiny tests."""
import numpy as np

from zoo.data._store import ImageData, cached_arrays, package_file, stratified_split


def _parse_digits(path):
    rows = np.loadtxt(path, delimiter=",", dtype=np.float64)
    return {"x": rows[:, :-1].astype(np.uint8).reshape(-1, 8, 8),
            "y": rows[:, -1].astype(np.int64)}


def load_digits(test_fraction=0.2):
    """The 8x8 digits from scikit-learn's `sklearn/datasets/data/digits.csv.gz`.

    Returns ImageData with a fixed split holding `test_fraction` of every class in the test
    part; images float32 (N, 1, 8, 8) in [0, 1] (the 0..16 counts / 16), labels int64 0..9.
    """
    path = package_file("load_digits", "scikit-learn", "sklearn/datasets/data/digits.csv.gz")
    a = cached_arrays("digits", [path], lambda: _parse_digits(path))
    train, test = stratified_split(a["y"], test_fraction)
    x = a["x"].reshape(-1, 1, 8, 8).astype(np.float32) / np.float32(16.0)
    return ImageData(x[train], a["y"][train], x[test], a["y"][test])
