"""Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of 10 kinds of clothing, read from the
IDX files of Debian's `dataset-fashion-mnist` package."""
import gzip
from pathlib import Path

import numpy as np

from zoo.data._store import (MAKE_HINT, DatasetNotInstalledError, ImageData, cached_arrays)

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
          "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
# IDX type codes (http://yann.lecun.com/exdb/mnist/); the data is big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array stored in an IDX file (optionally gzip-compressed), in native byte order."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (header {data[:4]!r})")
    dtype, ndim = np.dtype(_IDX_DTYPES[data[2]]), data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(data) - offset != dtype.itemsize * int(np.prod(shape)):
        raise ValueError(f"read_idx: {path} holds {len(data) - offset} data bytes, "
                         f"but its header announces shape {shape} of {dtype}")
    array = np.frombuffer(data, dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_fashion_mnist(root=DEFAULT_ROOT):
    """Fashion-MNIST: 60000 train and 10000 test images, 6000 / 1000 per class.

    Returns ImageData(x_train (60000, 1, 28, 28) float32 in [0, 1], y_train (60000,) int64,
    x_test (10000, 1, 28, 28), y_test (10000,)); class names are in `CLASSES`. `root` holds
    the four *-ubyte.gz files, by default where `apt-get install dataset-fashion-mnist` puts them.
    """
    paths = {key: Path(root) / name for key, name in _FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise DatasetNotInstalledError(
            f"load_fashion_mnist: {', '.join(missing)} not found; the data ships in the Debian "
            f"package dataset-fashion-mnist: install it with `apt-get install "
            f"dataset-fashion-mnist` as root ({MAKE_HINT})")

    def parse():
        return {key: read_idx(p) for key, p in paths.items()}

    a = cached_arrays("fashion_mnist", list(paths.values()), parse)
    x_train, x_test = (a[k].reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255.0)
                       for k in ("x_train", "x_test"))
    return ImageData(x_train, a["y_train"].astype(np.int64),
                     x_test, a["y_test"].astype(np.int64))
