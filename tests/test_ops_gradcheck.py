"""The sweep: every registered op x sample, float64 central differences against a random
cotangent (autograd/gradcheck.py)."""
import numpy as np
import pytest

from autograd import gradcheck
from autograd.opinfo import OPS

CASES = [(op, s) for op in OPS for s in op.samples(np.random.default_rng(0))]


@pytest.mark.parametrize("op, sample", CASES, ids=[f"{o.name}[{s.label}]" for o, s in CASES])
def test_gradcheck(op, sample):
    error = gradcheck(op.fn, sample.args, sample.kwargs, wrt=sample.wrt, tol=op.grad_tol)
    assert error <= op.grad_tol


def test_every_op_has_samples():
    for op in OPS:
        assert any(True for _ in op.samples(np.random.default_rng(0))), op.name
