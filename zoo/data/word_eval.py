"""Word-embedding benchmarks that gensim==4.4.0 ships as test data: the word2vec analogy
questions (Mikolov et al. 2013) and the WordSim-353 and SimLex-999 similarity ratings."""
from typing import NamedTuple

import numpy as np

from zoo.data._store import cached_arrays, package_file

_DIR = "gensim/test/test_data/"


class WordPairs(NamedTuple):
    """Rated word pairs: pairs (P, 2) str, scores (P,) float32 (mean human rating)."""
    pairs: np.ndarray
    scores: np.ndarray


def _file(loader, name):
    return package_file(loader, "gensim", _DIR + name, "4.4.0")


def _parse_analogies(path):
    names, section, words = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            names.append(line[1:].strip())
        elif line.strip():
            row = line.split()
            if len(row) != 4 or not names:
                raise ValueError(f"load_analogies: malformed line in {path}: {line!r}")
            section.append(len(names) - 1)
            words.append(row)
    return {"names": np.array(names), "section": np.array(section, dtype=np.int64),
            "words": np.array(words)}


def load_analogies(lowercase=True):
    """The 19,544 analogy questions `a b c d` (a is to b as c is to d), by section.

    Returns a dict from section name to a (Q, 4) str array, in file order: five semantic
    sections (`capital-common-countries` ... `family`) then nine syntactic ones (`gram1-...`).
    """
    path = _file("load_analogies", "questions-words.txt")
    a = cached_arrays("analogies", [path], lambda: _parse_analogies(path))
    words = np.char.lower(a["words"]) if lowercase else a["words"]
    return {str(name): words[a["section"] == i] for i, name in enumerate(a["names"])}


def _parse_pairs(path, loader):
    pairs, scores = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        row = line.split("\t")
        if len(row) != 3:
            raise ValueError(f"{loader}: malformed line in {path}: {line!r}")
        pairs.append(row[:2])
        scores.append(float(row[2]))
    return {"pairs": np.array(pairs), "scores": np.array(scores, dtype=np.float32)}


def _load_pairs(loader, name, cache_name):
    path = _file(loader, name)
    a = cached_arrays(cache_name, [path], lambda: _parse_pairs(path, loader))
    return WordPairs(a["pairs"], a["scores"])


def load_wordsim353():
    """WordSim-353: 353 word pairs rated for relatedness on a 0..10 scale (WordPairs)."""
    return _load_pairs("load_wordsim353", "wordsim353.tsv", "wordsim353")


def load_simlex999():
    """SimLex-999: 999 word pairs rated for similarity (not relatedness), 0..10 (WordPairs)."""
    return _load_pairs("load_simlex999", "simlex999.txt", "simlex999")
