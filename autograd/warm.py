"""`make warm`: compile every registered op's kernels for float32 and float64 into Numba's
on-disk cache, by running each registry sample forward and backward in both dtypes.

    python -m autograd.warm        # prints the time taken (cold cache: the compile time)
"""
import time

import numpy as np


def warm(verbose=True):
    start = time.perf_counter()
    import autograd as ag
    from autograd.opinfo import OPS
    failures = []
    for op in OPS:
        for sample in op.samples(np.random.default_rng(0)):
            for dtype in (np.float32, np.float64):
                args = [ag.tensor(a.astype(dtype), requires_grad=i in sample.wrt)
                        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                        else ag.tensor(a) if isinstance(a, np.ndarray) else a
                        for i, a in enumerate(sample.args)]
                try:
                    outs = op.fn(*args, **sample.kwargs)
                    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
                    roots = [o for o in outs if isinstance(o, ag.Tensor) and o.requires_grad]
                    if roots:
                        ag.backward(roots, [np.ones_like(o.data) for o in roots])
                except Exception as error:          # report, keep warming the rest
                    failures.append(f"{op.name}[{sample.label}] {dtype.__name__}: {error}")
    elapsed = time.perf_counter() - start
    if verbose:
        print(f"warmed {len(OPS)} ops in {elapsed:.1f} s")
        for failure in failures:
            print("failed:", failure)
    return elapsed, failures


if __name__ == "__main__":
    warm()
