"""The zoo's real datasets, read from installed registry packages and returned as numpy arrays.

Every loader parses its files once and caches the result as an .npz under `$TAPEGRAD_DATA`
(default `~/.cache/tapegrad`); a missing package raises DatasetNotInstalledError saying what to
install. Image augmentation lives in `zoo.data.transforms`.
"""
from zoo.data._store import DatasetNotInstalledError, ImageData, cache_dir
from zoo.data.digits import load_digits
from zoo.data.fashion_mnist import load_fashion_mnist
from zoo.data.mnist import load_mnist, load_mnist_5k
from zoo.data.movielens import Ratings, load_ml100k
from zoo.data.sentiment import RatedTexts, load_movie_review_snippets
from zoo.data.text import load_shakespeare, train_val_split
from zoo.data.transformed import TransformedDataset
from zoo.data.word_eval import WordPairs, load_analogies, load_simlex999, load_wordsim353

__all__ = ["TransformedDataset", 
    "DatasetNotInstalledError", "ImageData", "cache_dir",
    "load_mnist", "load_mnist_5k", "load_digits", "load_fashion_mnist",
    "load_shakespeare", "train_val_split",
    "load_analogies", "load_wordsim353", "load_simlex999", "WordPairs",
    "load_ml100k", "Ratings",
    "load_movie_review_snippets", "RatedTexts",
]
