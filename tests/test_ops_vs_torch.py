"""Forward and backward of every registered op against the matching PyTorch op, in float32
and float64 (skipped only when torch is absent; `make test` installs it)."""
import numpy as np
import pytest

import autograd as ag
from autograd.opinfo import OPS, resolve_torch_ref
from autograd.sparse import RowSparse

CASES = [(op, s) for op in OPS if op.torch_ref is not None
         for s in op.samples(np.random.default_rng(0))]


def _relative(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _outputs(result):
    outs = result if isinstance(result, (tuple, list)) else (result,)
    return list(outs)


def _convert(sample, dtype, make):
    args = []
    for i, a in enumerate(sample.args):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            args.append(make(a.astype(dtype), i in sample.wrt))
        elif isinstance(a, np.ndarray):
            args.append(make(a, False))
        else:
            args.append(a)
    return args


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op, sample", CASES, ids=[f"{o.name}[{s.label}]" for o, s in CASES])
def test_matches_torch(op, sample, dtype, torch):
    ours_args = _convert(sample, dtype, lambda a, g: ag.tensor(a, requires_grad=g))
    theirs_args = _convert(sample, dtype,
                           lambda a, g: torch.tensor(a).requires_grad_(g))
    ours = _outputs(op.fn(*ours_args, **sample.kwargs))
    theirs = _outputs(resolve_torch_ref(op.torch_ref, torch)(*theirs_args, **sample.kwargs))
    tol = op.torch_tol[dtype]
    assert len(ours) == len(theirs)
    rng = np.random.default_rng(1)
    cotangents = []
    for o, t in zip(ours, theirs):
        t_values = t.detach().numpy()
        assert o.data.shape == t_values.shape, (o.data.shape, t_values.shape)
        if o.data.dtype.kind == "f":
            assert o.data.dtype == np.dtype(dtype), f"forward dtype {o.data.dtype}"
            assert _relative(o.data, t_values) <= tol, "forward"
            cotangents.append(rng.standard_normal(o.data.shape).astype(dtype))
        else:
            np.testing.assert_array_equal(o.data, t_values)
            cotangents.append(None)
    pairs = [(o, t, c) for o, t, c in zip(ours, theirs, cotangents)
             if c is not None and o.requires_grad and t.requires_grad]
    if not pairs:
        return
    ag.backward([o for o, _, _ in pairs], [c for _, _, c in pairs])
    torch.autograd.backward([t for _, t, _ in pairs], [torch.tensor(c) for _, _, c in pairs])
    for i in sample.wrt:
        ours_grad = ours_args[i].grad
        theirs_grad = theirs_args[i].grad
        if isinstance(ours_grad, RowSparse):          # an embedding's sparse=True gradient
            ours_grad = ag.tensor(ours_grad.to_dense())
        if theirs_grad is not None and theirs_grad.is_sparse:
            theirs_grad = theirs_grad.to_dense()
        if theirs_grad is None:
            assert ours_grad is None or not np.any(ours_grad.data), f"input {i}"
            continue
        assert ours_grad is not None, f"input {i}: no gradient"
        assert ours_grad.data.dtype == np.dtype(dtype), f"input {i} gradient dtype"
        assert _relative(ours_grad.data, theirs_grad.numpy()) <= tol, f"input {i} gradient"
