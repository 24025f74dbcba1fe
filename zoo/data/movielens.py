"""MovieLens-100K (Harper & Konstan 2015): 100,000 ratings of 1,682 movies by 943 users, from
the copy in recbole==1.2.1 (MovieLens terms forbid redistribution: install, never commit)."""
from typing import NamedTuple

import numpy as np

from zoo.data._store import cached_arrays, package_file

_DIR = "recbole/dataset_example/ml-100k/"


class Ratings(NamedTuple):
    """Explicit ratings, one row per rating, ids 0-based (the dataset's id - 1).

    user, item, rating (1..5), timestamp (Unix seconds): (R,) int64 each;
    titles: (n_items,) str, titles[i] is the title of item i.
    """
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray
    titles: np.ndarray

    @property
    def n_users(self):
        return int(self.user.max()) + 1

    @property
    def n_items(self):
        return len(self.titles)


def _parse(inter_path, item_path):
    r = np.loadtxt(inter_path, skiprows=1, dtype=np.int64, delimiter="\t")
    lines = item_path.read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.split("\t") for line in lines if line]
    ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
    titles = np.empty(len(rows), dtype=object)
    titles[ids - 1] = [row[1] for row in rows]
    # The 0-based ids below index `titles` directly, which needs ids that are exactly 1..N.
    if not np.array_equal(np.sort(ids), np.arange(1, len(ids) + 1)) or r[:, 1].max() > len(ids):
        raise ValueError(f"load_ml100k: item ids in {item_path} are not 1..{len(ids)}")
    return {"user": r[:, 0] - 1, "item": r[:, 1] - 1, "rating": r[:, 2], "timestamp": r[:, 3],
            "titles": titles.astype(str)}


def load_ml100k():
    """MovieLens-100K ratings as a Ratings tuple of (100000,) int64 arrays plus item titles.

    Users are 0..942 and items 0..1681 (the original ids minus 1), ratings 1..5, in file order.
    """
    inter = package_file("load_ml100k", "recbole", _DIR + "ml-100k.inter", "1.2.1")
    item = package_file("load_ml100k", "recbole", _DIR + "ml-100k.item", "1.2.1")
    a = cached_arrays("ml100k", [inter, item], lambda: _parse(inter, item))
    return Ratings(a["user"], a["item"], a["rating"], a["timestamp"], a["titles"])
