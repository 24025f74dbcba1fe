"""Bad input: one clear exception naming the op and the values, never a Numba traceback."""
import numpy as np
import pytest

import autograd as ag


def _t(shape, dtype=np.float32):
    return ag.tensor(np.ones(shape, dtype=dtype))


CASES = [
    ("add mismatched shapes", lambda: _t((2, 3)) + _t((4,)), ValueError, r"add.*\(2, 3\).*\(4,\)"),
    ("mul mismatched shapes", lambda: _t((2, 3)) * _t((3, 2)), ValueError, r"mul.*\(2, 3\).*\(3, 2\)"),
    ("matmul mismatched", lambda: _t((2, 3)) @ _t((4, 5)), ValueError, r"matmul.*\(2, 3\).*\(4, 5\)"),
    ("float index tensor", lambda: _t((4,))[ag.tensor([0.0, 1.0])], TypeError, r"getitem.*float"),
    ("index out of range", lambda: _t((4,))[ag.tensor([0, 7])], IndexError, r"getitem.*7"),
    ("gather out of range", lambda: ag.gather(_t((2, 3)), 1, ag.tensor([[0, 5]])), IndexError,
     r"gather.*5"),
    ("index_select out of range", lambda: ag.index_select(_t((2, 3)), 0, ag.tensor([2])),
     IndexError, r"index_select.*2"),
    ("backward without gradient", lambda: (_t((3,)).requires_grad_() * 2.0).backward(),
     RuntimeError, r"scalar output.*\(3,\)"),
    ("cuda device", lambda: ag.zeros(3, device="cuda"), RuntimeError, r"'cuda'.*CPU only"),
    ("cuda tensor", lambda: ag.tensor([1.0], device="cuda:0"), RuntimeError, r"cuda"),
    ("to cuda", lambda: _t((2,)).to("cuda"), RuntimeError, r"to: device 'cuda'"),
    ("unknown dtype name", lambda: ag.zeros(3, dtype="float17"), TypeError,
     r"zeros: unknown dtype 'float17'"),
    ("unsupported dtype", lambda: ag.tensor(np.ones(2, np.complex64)), TypeError,
     r"tensor: dtype complex64 is not supported"),
    ("reshape bad size", lambda: _t((2, 3)).reshape(4, 2), (ValueError, RuntimeError),
     r"(view|reshape).*\(2, 3\)"),
    ("softmax bad dim", lambda: ag.softmax(_t((2, 3)), dim=2), IndexError, r"softmax.*dim 2"),
    ("sum bad dim", lambda: _t((2, 3)).sum(dim=3), IndexError, r"sum.*dim 3"),
    ("cat mismatched", lambda: ag.cat([_t((2, 3)), _t((2, 4))], dim=0), ValueError, r"cat"),
    ("int requires grad", lambda: ag.tensor([1, 2], requires_grad=True), RuntimeError,
     r"floating-point"),
]


@pytest.mark.parametrize("make, error, pattern", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(make, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        make()
    text = str(info.value)
    assert "numba" not in text.lower() and "typingerror" not in text.lower()
