"""kernels.matmul against plain numpy: every operand rank and broadcast batch, transposed
operands, int64, the backward of each case against an explicit einsum, the linear layer, and
the shape and dtype errors (which name the op and both shapes)."""
import numpy as np
import pytest

from kernels import matmul as km

SHAPES = [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((3, 4), (4, 5)),
          ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
          ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]


def _promote(a, b):
    return (a[None] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)


def _reduce_to(grad, shape):
    """Sum a broadcast gradient down to `shape` (what the tape does)."""
    lead = grad.ndim - len(shape)
    grad = grad.sum(tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axes, keepdims=True).reshape(shape)


@pytest.mark.parametrize("sa, sb", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_backward_match_numpy(rng, sa, sb, dtype):
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    y = km.matmul_forward(a, b)
    np.testing.assert_allclose(y, np.matmul(a, b), rtol=1e-5)
    assert y.dtype == dtype
    grad = rng.standard_normal(y.shape).astype(dtype)
    a2, b2 = _promote(a, b)
    g2 = grad.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
                      + (a2.shape[-2], b2.shape[-1]))
    full_a = np.einsum("...mn,...kn->...mk", g2, np.broadcast_to(b2, g2.shape[:-2] + b2.shape[-2:]))
    full_b = np.einsum("...mk,...mn->...kn", np.broadcast_to(a2, g2.shape[:-2] + a2.shape[-2:]), g2)
    grad_a = km.matmul_backward_a(a, b, grad)
    grad_b = km.matmul_backward_b(a, b, grad)
    tol = {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(_reduce_to(grad_a, a.shape),
                               _reduce_to(full_a, a2.shape).reshape(a.shape), **tol)
    np.testing.assert_allclose(_reduce_to(grad_b, b.shape),
                               _reduce_to(full_b, b2.shape).reshape(b.shape), **tol)


def test_batch_times_matrix_weight_gradient_is_one_gemm(rng):
    a = rng.standard_normal((2, 3, 4))
    b = rng.standard_normal((4, 5))
    grad = rng.standard_normal((2, 3, 5))
    grad_b = km.matmul_backward_b(a, b, grad)
    assert grad_b.shape == (4, 5)
    np.testing.assert_allclose(grad_b, np.einsum("bmk,bmn->kn", a, grad))


def test_transposed_operands_and_int64(rng):
    a = rng.standard_normal((5, 3)).astype(np.float32).T
    b = rng.standard_normal((4, 5)).astype(np.float32).T
    np.testing.assert_allclose(km.matmul_forward(a, b), a @ b, rtol=1e-5)
    ints = np.arange(6, dtype=np.int64).reshape(2, 3)
    out = km.matmul_forward(ints, ints.T.copy())
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, ints @ ints.T)


def test_linear_matches_numpy(rng):
    w = rng.standard_normal((4, 5)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    for shape in ((5,), (3, 5), (2, 3, 5), (0, 5)):
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(km.linear_forward(x, w, bias), x @ w.T + bias, rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(km.linear_forward(x, w), x @ w.T, rtol=1e-5, atol=1e-6)
        grad = rng.standard_normal(shape[:-1] + (4,)).astype(np.float32)
        rows_g, rows_x = grad.reshape(-1, 4), x.reshape(-1, 5)
        np.testing.assert_allclose(km.linear_backward_input(grad, w, x.shape), grad @ w,
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(km.linear_backward_weight(grad, x), rows_g.T @ rows_x,
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(km.linear_backward_bias(grad), rows_g.sum(0), rtol=1e-5,
                                   atol=1e-6)


def test_errors_name_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be "
                                         r"multiplied \(3 != 4\)"):
        km.matmul_forward(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: batch dims \(2,\) and \(3,\)"):
        km.matmul_forward(np.zeros((2, 3, 4)), np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match="at least 1-D"):
        km.matmul_forward(np.zeros(()), np.zeros(3))
    with pytest.raises(TypeError, match="matmul: both operands must have the same dtype"):
        km.matmul_forward(np.zeros((2, 3), np.float32), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not match "
                                         r"weight of shape \(4, 5\)"):
        km.linear_forward(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(4,\)"):
        km.linear_forward(np.zeros((2, 5)), np.zeros((4, 5)), np.zeros(3))


def test_linear_with_few_rows_and_many_outputs_matches_numpy(rng):
    """Up to 64 rows, at least 128 outputs and 512 inputs take the transposed product."""
    for dtype in (np.float32, np.float64):
        w = rng.standard_normal((130, 520)).astype(dtype)
        bias = rng.standard_normal(130).astype(dtype)
        for shape in ((520,), (64, 520), (2, 3, 520)):
            x = rng.standard_normal(shape).astype(dtype)
            for b in (bias, None):
                y = km.linear_forward(x, w, b)
                expected = x @ w.T + (0 if b is None else b)
                assert y.shape == expected.shape and y.dtype == dtype and y.flags.c_contiguous
                np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
