"""Datasets and batching (PyTorch's `torch.utils.data`): Dataset, TensorDataset, Subset,
random_split and DataLoader.

A DataLoader over a TensorDataset (or a Subset of one) with the default collation gathers
each batch with one fancy index per array instead of building and stacking N samples, so an
epoch of MNIST costs a few milliseconds of batching. Shuffling draws a permutation per epoch
from the seeded generator (`autograd.manual_seed`) or the numpy Generator passed as
`generator=`, so runs are reproducible.
"""
import math
import numbers

import numpy as np

from autograd import random as _random
from autograd.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate"]


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} has no __len__")

    def _gather(self, indices):
        """The collated batch at int64 `indices`, or None if this dataset cannot gather."""
        return None


def _as_array(x, op):
    if isinstance(x, Tensor):
        return x.data
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"{op}: cannot hold {type(x).__name__} data (ragged or non-numeric)")
    return array


class TensorDataset(Dataset):
    """Samples are the i-th rows of each given array or Tensor (all of one length):
    `TensorDataset(images, labels)[i] == (images[i], labels[i])`, as Tensors."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one array or Tensor")
        self.arrays = [_as_array(t, "TensorDataset") for t in tensors]
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"TensorDataset: every array needs the same first dimension, "
                             f"got shapes {shapes}")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(a)
                             for t, a in zip(tensors, self.arrays))

    def __getitem__(self, index):
        return tuple(Tensor(a[index]) for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])

    def _gather(self, indices):
        return tuple(Tensor(a[indices]) for a in self.arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def _gather(self, indices):
        gather = getattr(self.dataset, "_gather", None)
        return None if gather is None else gather(self.indices[indices])


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping Subsets of the given lengths (ints summing to
    len(dataset), or fractions summing to 1, remainders spread one by one from the first)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(not isinstance(x, numbers.Integral) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative ints summing "
                         f"to the dataset's length {n}, or fractions summing to 1")
    rng = _random.generator() if generator is None else generator
    order = rng.permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def default_collate(samples):
    """Stack a list of samples into a batch: Tensors, arrays and numbers are stacked into one
    Tensor (Python floats as float64 and ints as int64, as in PyTorch); tuples, lists and
    dicts are collated per field, strings kept as a list."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, str):
        return list(samples)
    arrays = [_as_array(s, "default_collate") for s in samples]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"default_collate: samples have different shapes {sorted(shapes)}; "
                         f"pass a collate_fn that pads them")
    return Tensor(np.stack(arrays))


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a Dataset (anything with __getitem__ and __len__).
        batch_size: samples per batch (default 1).
        shuffle: draw a new order every epoch (from `generator` or the seeded one).
        drop_last: drop the last batch if it is smaller than batch_size.
        collate_fn: turns a list of samples into a batch (default: `default_collate`).
        generator: a numpy Generator for the shuffling order.
        num_workers: must be 0; batches are loaded in the main process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False,
                 collate_fn=None, generator=None, num_workers=0):
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        if num_workers != 0:
            raise ValueError(f"DataLoader: num_workers={num_workers} is not supported; "
                             f"batches are loaded in the main process (num_workers=0)")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            rng = _random.generator() if self.generator is None else self.generator
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        gather = getattr(self.dataset, "_gather", None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            batch = gather(indices) if gather is not None else None
            if batch is None:
                batch = collate([self.dataset[int(i)] for i in indices])
            yield batch
