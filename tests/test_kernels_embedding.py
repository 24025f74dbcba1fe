"""Embedding kernels against plain numpy, the semantics the registry sweep cannot check by
finite differences (padding rows, scale_grad_by_freq, max_norm) against PyTorch, the row-sparse
gradients through layers and optimizers, and bad input."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd.sparse import RowSparse
from kernels import embedding as ke
from nn import functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_and_scatter_match_numpy(rng, dtype):
    w = rng.standard_normal((50, 7)).astype(dtype)
    ids = rng.integers(0, 50, (30, 4))
    np.testing.assert_array_equal(ke.embedding_forward(w, ids), w[ids])
    grad = rng.standard_normal((30, 4, 7)).astype(dtype)
    expected = np.zeros_like(w)
    np.add.at(expected, ids.reshape(-1), grad.reshape(-1, 7))
    np.testing.assert_allclose(ke.embedding_backward_dense(grad, ids, 50), expected, rtol=1e-5)
    expected[3] = 0
    np.testing.assert_allclose(ke.embedding_backward_dense(grad, ids, 50, padding_idx=3),
                               expected, rtol=1e-5)


def test_parallel_scatter_is_right_with_many_repeats(rng):
    # large enough for the column-split parallel path; only 5 distinct rows
    ids = rng.integers(0, 5, 40_000)
    grad = rng.standard_normal((40_000, 16)).astype(np.float32)
    expected = np.zeros((5, 16))
    np.add.at(expected, ids, grad.astype(np.float64))
    np.testing.assert_allclose(ke.embedding_backward_dense(grad, ids, 5), expected, rtol=1e-4)
    np.testing.assert_array_equal(ke.embedding_forward(grad[:5], ids), grad[:5][ids])


def _pair_reference(U, V, centers, targets, labels, mask, normalize):
    x = np.einsum("bd,bkd->bk", U[centers], V[targets])
    bce = np.logaddexp(0, x) - labels * x
    n = mask.sum(1) if normalize else np.ones(len(centers))
    loss = (mask * bce).sum(1) / n
    a = mask * (1 / (1 + np.exp(-x)) - labels) / n[:, None]
    grad_u = np.zeros_like(U)
    np.add.at(grad_u, centers, np.einsum("bk,bkd->bd", a, V[targets]))
    grad_v = np.zeros_like(V)
    np.add.at(grad_v, targets.reshape(-1), (a[:, :, None] * U[centers][:, None, :]).reshape(
        -1, U.shape[1]))
    return loss, grad_u, grad_v


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("rows, width", [(37, 8), (400, 32)])     # serial; two threads
def test_pair_loss_matches_numpy(rng, normalize, rows, width):
    U, V = rng.standard_normal((20, width)), rng.standard_normal((15, width)) * 0.3
    centers = rng.integers(0, 20, rows)           # more than two blocks of rows
    targets = rng.integers(0, 15, (rows, 6))
    labels = (rng.random((rows, 6)) < 0.3) * 1.0
    mask = (rng.random((rows, 6)) < 0.7) * 1.0
    mask[:, 0] = 1
    operands = ke.pair_loss_check("test", U, V, centers, targets, labels, mask)
    losses, (u_ids, u_rows), scaled = ke.pair_loss_forward(*operands, normalize, 1.0)
    loss, grad_u, grad_v = _pair_reference(U, V, centers, targets, labels, mask, normalize)
    np.testing.assert_allclose(losses, loss, rtol=1e-12)
    np.testing.assert_allclose(RowSparse(u_ids, u_rows, U.shape).to_dense(), grad_u,
                               atol=1e-12)
    v_ids, scales, basis, source = scaled
    # one scaled row per masked-in column, in row-major order, on a copy of its center row
    np.testing.assert_array_equal(v_ids, targets[mask > 0])
    np.testing.assert_array_equal(source, np.nonzero(mask > 0)[0])
    np.testing.assert_array_equal(basis, U[centers])
    dense = ke.scaled_rows_add_(np.zeros_like(V), *scaled)
    np.testing.assert_allclose(dense, grad_v, atol=1e-12)
    sparse = RowSparse.from_scaled_rows(*scaled, V.shape)
    np.testing.assert_allclose(sparse.to_dense(), grad_v, atol=1e-12)
    assert len(set(sparse.indices.tolist())) == sparse.indices.size     # built coalesced
    np.testing.assert_allclose(RowSparse(sparse.indices, sparse.values, V.shape).to_dense(),
                               grad_v, atol=1e-12)


def test_pair_loss_is_stable_for_large_logits():
    U = np.full((1, 4), 10.0, np.float32)
    V = np.array([[10.0] * 4, [-10.0] * 4], np.float32)
    operands = ke.pair_loss_check("t", U, V, [0], [[0, 1]], [[1.0, 0.0]], [[1.0, 1.0]])
    losses, _, _ = ke.pair_loss_forward(*operands, True)
    # both columns are confidently right: loss log(1 + e^-400) is 0 in float32, never nan
    assert np.isfinite(losses).all() and losses[0] < 1e-30
    operands = ke.pair_loss_check("t", U, V, [0], [[1, 0]], [[1.0, 0.0]], [[1.0, 1.0]])
    losses, _, _ = ke.pair_loss_forward(*operands, True)
    np.testing.assert_allclose(losses, [400.0], rtol=1e-6)


def test_padding_rows_get_no_gradient_like_torch(rng, torch):
    w = rng.standard_normal((6, 3))
    ids = np.array([[2, 0, 2], [5, 2, 1]])
    g = rng.standard_normal((2, 3, 3))
    for sparse in (False, True):
        ours = ag.tensor(w, requires_grad=True)
        F.embedding(ids, ours, padding_idx=2, sparse=sparse).backward(g)
        theirs = torch.tensor(w, requires_grad=True)
        torch.nn.functional.embedding(torch.tensor(ids), theirs, padding_idx=2,
                                      sparse=sparse).backward(torch.tensor(g))
        dense = ours.grad.to_dense() if sparse else ours.grad.numpy()
        np.testing.assert_allclose(dense, theirs.grad.to_dense().numpy(), atol=1e-12)
        assert not dense[2].any()
        if sparse:
            assert 2 not in ours.grad.indices.tolist()


def test_scale_grad_by_freq_like_torch(rng, torch):
    w = rng.standard_normal((6, 3))
    ids = np.array([1, 1, 4, 1, 0, 4])
    g = rng.standard_normal((6, 3))
    ours = ag.tensor(w, requires_grad=True)
    F.embedding(ids, ours, scale_grad_by_freq=True).backward(g)
    theirs = torch.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(ids), theirs, scale_grad_by_freq=True).backward(
        torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)
    sparse = ag.tensor(w, requires_grad=True)       # PyTorch refuses this combination
    F.embedding(ids, sparse, scale_grad_by_freq=True, sparse=True).backward(g)
    np.testing.assert_allclose(sparse.grad.to_dense(), ours.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_max_norm_renormalizes_like_torch(rng, torch, norm_type):
    w = rng.standard_normal((6, 4)) * 3
    ids = np.array([[0, 3, 3], [5, 0, 1]])
    g = rng.standard_normal((2, 3, 4))
    ours = ag.tensor(w.copy(), requires_grad=True)
    version = ours._version[0]
    out = F.embedding(ids, ours, max_norm=1.5, norm_type=norm_type)
    out.backward(g)
    theirs = torch.tensor(w.copy(), requires_grad=True)
    ref = torch.nn.functional.embedding(torch.tensor(ids), theirs, max_norm=1.5,
                                        norm_type=norm_type)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)
    assert ours._version[0] > version                   # modified in place, visibly
    np.testing.assert_array_equal(ours.detach().numpy()[[2, 4]], w[[2, 4]])   # unused rows


def test_embedding_bag_module_matches_torch(rng, torch):
    ours = nn.EmbeddingBag(10, 4, mode="sum", padding_idx=0)
    theirs = torch.nn.EmbeddingBag(10, 4, mode="sum", padding_idx=0)
    ours.weight.data[...] = theirs.weight.detach().numpy()
    ids = np.array([0, 3, 3, 7, 0, 9, 2])
    offsets = np.array([0, 2, 2, 5])
    psw = rng.standard_normal(7).astype(np.float32)
    a = ours(ids, offsets, per_sample_weights=ag.tensor(psw))
    b = theirs(torch.tensor(ids), torch.tensor(offsets), per_sample_weights=torch.tensor(psw))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
    assert "mode='sum'" in repr(ours)


def test_sparse_gradients_through_layers_and_optimizers(rng, torch):
    ours = nn.Embedding(20, 3, sparse=True)
    theirs = torch.nn.Embedding(20, 3, sparse=True)
    ours.weight.data[...] = theirs.weight.detach().numpy()
    opt_ours = nn.optim.SparseAdam(ours.parameters(), lr=0.1)
    opt_theirs = torch.optim.SparseAdam(list(theirs.parameters()), lr=0.1)
    for step in range(4):
        ids = rng.integers(0, 6 + 4 * step, 12)   # later steps touch rows first seen now
        g = rng.standard_normal((12, 3)).astype(np.float32)
        opt_ours.zero_grad()
        ours(ids).backward(g)
        assert isinstance(ours.weight.grad, RowSparse)
        opt_ours.step()
        opt_theirs.zero_grad()
        theirs(torch.tensor(ids)).backward(torch.tensor(g))
        opt_theirs.step()
        np.testing.assert_allclose(ours.weight.detach().numpy(),
                                   theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    state = opt_ours.state_dict()["state"][0]
    assert state["step"] == 4 and state["exp_avg"].shape == (20, 3)


def test_sparse_adam_refuses_dense_gradients():
    w = nn.Parameter(ag.zeros(4, 2))
    opt = nn.optim.SparseAdam([w])
    (w * 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam: parameter 0 of group 0.*dense"):
        opt.step()


def test_negative_sampling_step_matches_torch(rng, torch):
    """One SGD step of the fused loss against embedding + bmm + BCE-with-logits in PyTorch,
    with both tables sparse, a center that is also a context word, and tied tables."""
    V, D, B, K = 30, 6, 9, 5
    centers = rng.integers(0, V, B)
    contexts = rng.integers(0, V, (B, K))
    contexts[0, 1] = centers[0]
    labels = (np.arange(K) < 2) * np.ones((B, 1), np.float32)
    mask = (rng.random((B, K)) < 0.8).astype(np.float32)
    mask[:, 0] = 1
    w_in = rng.standard_normal((V, D)).astype(np.float32) * 0.3
    w_out = rng.standard_normal((V, D)).astype(np.float32) * 0.3
    for tied in (False, True):
        a = nn.Parameter(ag.tensor(w_in.copy()))
        b = a if tied else nn.Parameter(ag.tensor(w_out.copy()))
        params = [a] if tied else [a, b]
        opt = nn.optim.SGD(params, lr=0.5)
        F.negative_sampling_loss(centers, contexts, labels, mask, a, b).backward()
        opt.step()
        ta = torch.tensor(w_in.copy(), requires_grad=True)
        tb = ta if tied else torch.tensor(w_out.copy(), requires_grad=True)
        u = torch.nn.functional.embedding(torch.tensor(centers), ta, sparse=True)
        v = torch.nn.functional.embedding(torch.tensor(contexts), tb, sparse=True)
        x = torch.bmm(v, u.unsqueeze(2)).squeeze(2)
        m = torch.tensor(mask)
        per = torch.nn.functional.binary_cross_entropy_with_logits(
            x, torch.tensor(labels), weight=m, reduction="none").sum(1) / m.sum(1)
        per.mean().backward()
        topt = torch.optim.SGD([ta] if tied else [ta, tb], lr=0.5)
        topt.step()
        np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), atol=1e-6)
        np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), atol=1e-6)


def test_sparse_gradient_helpers():
    w = nn.Parameter(ag.tensor(np.ones((6, 2), np.float32)))
    F.embedding(np.array([1, 1, 4]), w, sparse=True).backward(np.full((3, 2), 3.0, np.float32))
    total = nn.utils.clip_grad_norm_([w], max_norm=1.0)
    np.testing.assert_allclose(float(total.item()), np.sqrt(36 + 36 + 9 + 9), rtol=1e-6)
    assert np.linalg.norm(w.grad.to_dense()) == pytest.approx(1.0, rel=1e-5)
    opt = nn.optim.SGD([w], lr=1.0)
    opt.zero_grad()
    assert w.grad is None
    # a non-leaf table (here a cast) gets the dense gradient its op expects
    base = ag.tensor(np.ones((6, 2)), requires_grad=True)
    F.embedding(np.array([0, 0]), base.float(), sparse=True).backward(np.ones((2, 2), np.float32))
    np.testing.assert_allclose(base.grad.numpy()[0], [2.0, 2.0])


def test_huffman_tree_codes_are_prefix_free_and_frequency_ordered():
    counts = np.array([50, 1, 20, 3, 3, 8, 15, 1])
    nodes, signs = ag.huffman_tree(counts)
    lengths = (signs != 0).sum(1)
    codes = ["".join("0" if s > 0 else "1" for s in row[:n]) for row, n in zip(signs, lengths)]
    assert len(set(codes)) == len(codes)
    assert not any(a != b and b.startswith(a) for a in codes for b in codes)
    assert lengths[0] <= lengths[2] <= lengths[3] and lengths[0] < lengths[1]
    assert (nodes[:, 0] == len(counts) - 2).all()          # every path starts at the root
    # Kraft equality: the probabilities of all leaves sum to 1 for any node vectors
    rng = np.random.default_rng(1)
    u, w = rng.standard_normal(4), rng.standard_normal((len(counts) - 1, 4))
    x = w @ u
    probs = [np.prod([1 / (1 + np.exp(-s * x[n])) for n, s in zip(row_n[:k], row_s[:k])])
             for row_n, row_s, k in zip(nodes, signs, lengths)]
    assert sum(probs) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.embedding(np.array([0, 7]), ag.zeros(5, 2)), IndexError,
     r"embedding: indices must lie in \[0, 5\).*max 7"),
    (lambda: F.embedding(np.array([-1]), ag.zeros(5, 2)), IndexError, "min -1"),
    (lambda: F.embedding(np.array([0.5]), ag.zeros(5, 2)), TypeError, "int64"),
    (lambda: F.embedding(np.array([0]), ag.zeros(5, 2), padding_idx=5), ValueError,
     "padding_idx 5"),
    (lambda: F.embedding_bag(np.array([0, 1]), ag.zeros(5, 2)), ValueError, "needs offsets"),
    (lambda: F.embedding_bag(np.array([0, 1]), ag.zeros(5, 2), np.array([1])), ValueError,
     r"offsets\[0\] must be 0"),
    (lambda: F.embedding_bag(np.array([[0, 1]]), ag.zeros(5, 2), mode="max", sparse=True),
     ValueError, "max mode"),
    (lambda: F.embedding_bag(np.array([[0, 1]]), ag.zeros(5, 2), mode="prod"), ValueError,
     "mode must be"),
    (lambda: F.negative_sampling_loss(np.array([0, 1]), np.zeros((3, 2), np.int64),
                                      np.ones((3, 2)), np.ones((3, 2)), ag.zeros(4, 2),
                                      ag.zeros(4, 2)), ValueError,
     r"center ids must have shape \(3,\)"),
    (lambda: F.negative_sampling_loss(np.array([0]), np.array([[9]]), np.ones((1, 1)),
                                      np.ones((1, 1)), ag.zeros(4, 2), ag.zeros(4, 2)),
     IndexError, "context ids must lie in"),
    (lambda: F.negative_sampling_loss(np.array([0]), np.array([[1]]), np.ones((1, 2)),
                                      np.ones((1, 1)), ag.zeros(4, 2), ag.zeros(4, 2)),
     ValueError, "labels must have"),
    (lambda: F.negative_sampling_loss(np.array([0]), np.array([[1]]), np.ones((1, 1)),
                                      np.ones((1, 1)), ag.zeros(4, 2), ag.zeros(4, 3)),
     ValueError, "share dtype and width"),
    (lambda: ke.scaled_rows_add_(np.zeros((4, 2)), np.array([1, 4]), np.ones(2),
                                 np.ones((1, 2)), np.array([0, 0])),
     IndexError, "entry 1 has id 4 and source 0"),
    (lambda: ke.scaled_rows_add_(np.zeros((4, 2)), np.array([1]), np.ones(1),
                                 np.ones((1, 2)), np.array([1])),
     IndexError, "entry 0 has id 1 and source 1"),
    (lambda: ke.scaled_rows_add_(np.zeros((4, 2)), np.array([1]), np.ones(2),
                                 np.ones((1, 2)), np.array([0])),
     ValueError, "must be one 1-D shape"),
    (lambda: ke.scaled_rows_add_(np.zeros((4, 2)), np.array([1]), np.ones(1),
                                 np.ones((1, 3)), np.array([0])),
     ValueError, "do not match the table's width"),
])
def test_bad_input_names_the_op(call, error, match):
    with pytest.raises(error, match=match):
        call()
