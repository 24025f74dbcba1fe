"""Movie-review snippets with human sentiment ratings (Hutto & Gilbert 2014, sentences from
Pang & Lee 2005), from the research archive inside the vaderSentiment==3.3.2 source
distribution, which pip downloads from PyPI on first use."""
import io
import subprocess
import sys
import tarfile
from typing import NamedTuple

import numpy as np

from zoo.data._store import cache_dir, cached_arrays

SDIST = "vaderSentiment==3.3.2"
_ARCHIVE = "additional_resources/hutto_ICWSM_2014.tar.gz"
_MEMBER = "movieReviewSnippets_GroundTruth.txt"


class RatedTexts(NamedTuple):
    """texts: list of str; ratings (N,) float32, the mean human rating in [-4, 4]."""
    texts: list
    ratings: np.ndarray


def _sdist():
    # Only the source distribution carries the archive (the wheel has just the lexicon).
    folder = cache_dir() / "downloads"
    found = sorted(folder.glob("[vV]ader[sS]entiment-3.3.2.tar.gz"))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(folder), SDIST]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        done = subprocess.CompletedProcess(cmd, -1, "", str(e))
    found = sorted(folder.glob("[vV]ader[sS]entiment-3.3.2.tar.gz"))
    if done.returncode != 0 or not found:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(
            f"load_movie_review_snippets: could not download the {SDIST} source distribution "
            f"from PyPI (`{' '.join(cmd)}` failed{': ' + tail if tail else ''}); check that "
            f"pip can reach the package index, or put vaderSentiment-3.3.2.tar.gz in {folder}")
    return found[0]


def _member(tar, suffix, where):
    for info in tar.getmembers():
        if info.isfile() and info.name.endswith(suffix):
            return tar.extractfile(info).read()
    raise ValueError(f"load_movie_review_snippets: {where} has no file ending in {suffix}")


def _parse(sdist):
    # Read both archives in memory: nothing is extracted to disk.
    with tarfile.open(sdist, "r:gz") as outer:
        inner = _member(outer, _ARCHIVE, sdist)
    with tarfile.open(fileobj=io.BytesIO(inner), mode="r:gz") as tar:
        data = _member(tar, _MEMBER, _ARCHIVE)
    texts, ratings = [], []
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        _, rating, text = line.split("\t", 2)
        ratings.append(float(rating))
        texts.append(text.strip())
    return {"texts": np.array(texts), "ratings": np.array(ratings, dtype=np.float32)}


def load_movie_review_snippets():
    """The 10,605 movie-review sentences and their mean human rating in [-4, 4].

    Returns RatedTexts(texts, ratings); 5,242 are positive, 5,326 negative and 37 exactly 0.
    The first call downloads the 2.5 MB sdist with pip into `<cache dir>/downloads`.
    """
    sdist = _sdist()
    a = cached_arrays("movie_review_snippets", [sdist], lambda: _parse(sdist))
    return RatedTexts([str(t) for t in a["texts"]], a["ratings"])
