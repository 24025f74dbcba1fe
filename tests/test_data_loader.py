"""nn.data: datasets, batching, seeded shuffling, drop_last, collation, random_split."""
import numpy as np
import pytest

import autograd as ag
from nn.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def _dataset(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y, TensorDataset(x, ag.tensor(y))


def test_tensor_dataset_items():
    x, y, ds = _dataset()
    assert len(ds) == 10
    xi, yi = ds[4]
    assert isinstance(xi, ag.Tensor) and xi.tolist() == x[4].tolist() and yi.item() == 4
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_batches_in_order_with_last_partial():
    x, y, ds = _dataset()
    batches = list(DataLoader(ds, batch_size=4))
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    xb, yb = batches[0]
    assert xb.dtype == np.float32 and yb.dtype == np.int64 and xb.shape == (4, 3)
    np.testing.assert_array_equal(xb.data, x[:4])
    xb.data[0, 0] = -1                                  # batches are copies
    assert x[0, 0] == 0


def test_drop_last():
    _, _, ds = _dataset()
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b[1]) for b in loader] == [4, 4]


def test_shuffle_is_seeded_and_covers_everything():
    _, _, ds = _dataset(20)

    def epoch(loader):
        return np.concatenate([b[1].data for b in loader])

    ag.manual_seed(3)
    first = [epoch(DataLoader(ds, batch_size=6, shuffle=True)) for _ in range(2)]
    ag.manual_seed(3)
    again = [epoch(DataLoader(ds, batch_size=6, shuffle=True)) for _ in range(2)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert sorted(first[0].tolist()) == list(range(20))
    assert not np.array_equal(first[0], first[1])      # a new order every epoch
    own = DataLoader(ds, batch_size=6, shuffle=True, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(epoch(own), np.concatenate(
        [np.random.default_rng(0).permutation(20)]))


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i * i, "name": f"s{i}"}


def test_generic_dataset_collation():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["x"].dtype == np.float32
    assert batch["y"].tolist() == [0, 1, 4] and batch["y"].dtype == np.int64
    assert batch["name"] == ["s0", "s1", "s2"]
    assert default_collate([1.5, 2.5]).dtype == np.float64
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_custom_collate_fn():
    _, _, ds = _dataset()
    loader = DataLoader(ds, batch_size=5, collate_fn=lambda samples: len(samples))
    assert list(loader) == [5, 5]


def test_random_split_and_subset_loading():
    _, _, ds = _dataset(10)
    ag.manual_seed(0)
    train, val = random_split(ds, [7, 3])
    assert isinstance(train, Subset) and len(train) == 7 and len(val) == 3
    seen = sorted(train.indices.tolist() + val.indices.tolist())
    assert seen == list(range(10))
    labels = np.concatenate([b[1].data for b in DataLoader(val, batch_size=2)])
    np.testing.assert_array_equal(labels, val.indices)
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="summing"):
        random_split(ds, [5, 6])


def test_bad_arguments():
    _, _, ds = _dataset()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=2)
