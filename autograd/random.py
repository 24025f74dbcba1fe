"""The one seeded random generator behind every random function (factories, init, dropout, shuffling)."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator used by every random function, so runs are reproducible."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    """The current `np.random.Generator` (read it at each use: `manual_seed` replaces it)."""
    return _generator
