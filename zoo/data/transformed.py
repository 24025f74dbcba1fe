"""A dataset wrapper that runs an image transform (`zoo.data.transforms`) on every sample as it
is loaded, so each epoch sees fresh random crops, flips and colour changes:

    train = TransformedDataset(TensorDataset(x, y), Compose([RandomResizedCrop(28, (0.6, 1)),
                                                              RandomHorizontalFlip()]))
    loader = DataLoader(train, batch_size=64, shuffle=True)

Indexing one sample transforms that image; the DataLoader's default batching gathers the
batch from the wrapped dataset and transforms it in one call, in which each image still gets
its own random draw. Both paths draw from the seeded generator (`autograd.manual_seed`).
"""
import numpy as np

from autograd.tensor import Tensor
from nn.data import Dataset

__all__ = ["TransformedDataset"]


def _array(field):
    return field.data if isinstance(field, Tensor) else np.asarray(field)


class TransformedDataset(Dataset):
    """`dataset` with `transform` applied to each sample's input and `target_transform` to its
    target.

    Args:
        dataset: a Dataset whose samples are (input, target), e.g. a TensorDataset of images
            (C, H, W) and labels.
        transform: callable on a numpy image (C, H, W) or batch (N, C, H, W), returning one
            of the same kind (a `zoo.data.transforms` transform), or None.
        target_transform: callable on the numpy targets, or None.

    Samples and batches are (Tensor, Tensor).
    """

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset = dataset
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self._apply(self.dataset[index])

    def _gather(self, indices):
        gather = getattr(self.dataset, "_gather", None)
        batch = None if gather is None else gather(indices)
        return None if batch is None else self._apply(batch)

    def _apply(self, sample):
        if not isinstance(sample, (tuple, list)) or len(sample) != 2:
            raise TypeError(f"TransformedDataset: expected (input, target) samples, got "
                            f"{type(sample).__name__}")
        x, target = sample
        if self.transform is not None:
            x = Tensor(np.ascontiguousarray(self.transform(_array(x))))
        if self.target_transform is not None:
            target = Tensor(np.asarray(self.target_transform(_array(target))))
        return x, target

    def __repr__(self):
        return (f"TransformedDataset({type(self.dataset).__name__} of {len(self)}, "
                f"transform={self.transform!r})")
