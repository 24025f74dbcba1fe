"""Registry entries of the embedding ops: lookups with repeated ids, padding, max_norm,
scale_grad_by_freq and sparse gradients; bags in every mode with offsets, empty bags,
include_last_offset, per-sample weights and padding; the fused word2vec losses (negative
sampling, hierarchical softmax) against PyTorch's bmm + binary-cross-entropy formulation, and
the plain masked sigmoid cross-entropy."""
import numpy as np

from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values


def _ids(rng, high, shape):
    ids = rng.integers(0, high, shape)
    if ids.size > 1:
        ids.reshape(-1)[1] = ids.reshape(-1)[0]       # always at least one repeat
    return ids


def embedding_samples(rng):
    w = values(rng, (6, 3))
    ids = _ids(rng, 6, (3, 4))
    yield Sample((ids, w), wrt=(1,), label="2d-repeats")
    yield Sample((_ids(rng, 6, (5,)), values(rng, (6, 3))), wrt=(1,), label="1d")
    yield Sample((np.array(4), values(rng, (6, 3))), wrt=(1,), label="0d")
    yield Sample((np.zeros((0,), np.int64), values(rng, (6, 3))), wrt=(1,), label="empty")
    yield Sample((ids, strided(values(rng, (6, 3)))), wrt=(1,), label="strided-weight")
    # padding_idx's row is read by the forward but gets no gradient, which no finite
    # difference can confirm: here the padding row is unused, and
    # tests/test_kernels_embedding.py compares used padding rows with PyTorch
    unpadded = np.where(ids == 2, 3, ids)
    yield Sample((unpadded, values(rng, (6, 3)), 2), wrt=(1,), label="padding_idx")
    yield Sample((unpadded, values(rng, (6, 3)), -4), wrt=(1,), label="negative-padding_idx")
    yield Sample((ids, values(rng, (6, 3))), {"sparse": True}, wrt=(1,), label="sparse")
    yield Sample((unpadded, values(rng, (6, 3)), 2), {"sparse": True}, wrt=(1,),
                 label="sparse-padding_idx")
    # scale_grad_by_freq divides a repeated row's gradient by its count, which is no
    # derivative: unique ids here, repeats in tests/test_kernels_embedding.py
    yield Sample((rng.permutation(6)[:4], values(rng, (6, 3))), {"scale_grad_by_freq": True},
                 wrt=(1,), label="scale_grad_by_freq")
    # rows within the norm: the renormalization (tested against PyTorch in
    # tests/test_kernels_embedding.py) leaves them alone, so finite differences stay valid
    yield Sample((ids, values(rng, (6, 3), -1.0, 1.0)), {"max_norm": 4.0}, wrt=(1,),
                 label="max_norm-inactive")
    yield Sample((ids, values(rng, (6, 3), -1.0, 1.0)), {"max_norm": 6.0, "norm_type": 1.0},
                 wrt=(1,), label="max_norm-l1-inactive")


def _embedding_bag(input, weight, offsets=None, per_sample_weights=None, **kwargs):  # noqa: A002
    return ops.embedding_bag(input, weight, offsets, per_sample_weights=per_sample_weights,
                             **kwargs)


def _torch_embedding_bag(torch, input, weight, offsets=None, per_sample_weights=None,  # noqa: A002
                         **kwargs):
    return torch.nn.functional.embedding_bag(input, weight, offsets,
                                             per_sample_weights=per_sample_weights, **kwargs)


def embedding_bag_samples(rng):
    ids2 = _ids(rng, 7, (3, 4))
    ids1 = _ids(rng, 7, (8,))
    offsets = np.array([0, 3, 3, 6])                   # bag 1 is empty
    for mode in ("sum", "mean", "max"):
        yield Sample((ids2, values(rng, (7, 3))), {"mode": mode}, wrt=(1,), label=f"2d-{mode}")
        yield Sample((ids1, values(rng, (7, 3)), offsets), {"mode": mode}, wrt=(1,),
                     label=f"offsets-empty-bag-{mode}")
        yield Sample((ids1, values(rng, (7, 3)), np.array([0, 2, 2, 5, 8])),
                     {"mode": mode, "include_last_offset": True}, wrt=(1,),
                     label=f"include_last_offset-{mode}")
        padded = ids1.copy()
        padded[[0, 4, 5]] = 3
        yield Sample((padded, values(rng, (7, 3)), offsets), {"mode": mode, "padding_idx": 3},
                     wrt=(1,), label=f"padding_idx-{mode}")
    yield Sample((ids1, values(rng, (7, 3)), offsets, values(rng, (8,))), {"mode": "sum"},
                 wrt=(1, 3), label="per_sample_weights")
    yield Sample((ids2, values(rng, (7, 3)), None, values(rng, (3, 4))),
                 {"mode": "sum", "padding_idx": int(ids2[1, 1])}, wrt=(1, 3),
                 label="per_sample_weights-2d-padding")
    for mode in ("sum", "mean"):
        yield Sample((ids1, values(rng, (7, 3)), offsets), {"mode": mode, "sparse": True},
                     wrt=(1,), label=f"sparse-{mode}")
    yield Sample((ids1, values(rng, (7, 3)), offsets, values(rng, (8,))),
                 {"mode": "sum", "sparse": True, "padding_idx": int(ids1[2])}, wrt=(1, 3),
                 label="sparse-per_sample_weights-padding")
    yield Sample((ids2, strided(values(rng, (7, 3)))), {"mode": "mean"}, wrt=(1,),
                 label="strided-weight")
    yield Sample((ids2, values(rng, (7, 3), -1.0, 1.0)), {"mode": "sum", "max_norm": 4.0},
                 wrt=(1,), label="max_norm-inactive")


def _pair_batch(rng, rows=4, cols=6, vocab=7, width=3, scale=1.0):
    """d2l's padded rows: 1-2 context words, 2 noise words each, the rest masked."""
    n_ctx = rng.integers(1, 3, rows)
    col = np.arange(cols)
    labels = (col < n_ctx[:, None]) * 1.0
    mask = (col < 3 * n_ctx[:, None]) * 1.0
    centers = _ids(rng, vocab, (rows,))
    contexts = _ids(rng, vocab, (rows, cols))
    contexts[0, 2] = centers[0]                # a word that is both a center and a context
    return (centers, contexts, labels, mask, values(rng, (vocab, width), -scale, scale),
            values(rng, (vocab, width), -scale, scale))


def _torch_negative_sampling(torch, center_ids, context_ids, labels, mask, center_weight,
                             context_weight, reduction="mean", normalize=True, sparse=True):
    F = torch.nn.functional
    u = center_weight if center_ids is None else F.embedding(center_ids, center_weight,
                                                             sparse=sparse)
    v = F.embedding(context_ids, context_weight, sparse=sparse)
    logits = torch.bmm(v, u.unsqueeze(2)).squeeze(2)
    m = mask.to(logits.dtype)
    rows = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), weight=m,
                                              reduction="none").sum(1)
    if normalize:
        rows = rows / m.sum(1)
    return {"none": rows, "sum": rows.sum(), "mean": rows.mean()}[reduction]


def negative_sampling_samples(rng):
    for reduction in ("mean", "sum", "none"):
        yield Sample(_pair_batch(rng), {"reduction": reduction}, wrt=(4, 5), label=reduction)
    yield Sample(_pair_batch(rng), {"sparse": False}, wrt=(4, 5), label="dense")
    yield Sample(_pair_batch(rng), {"normalize": False, "reduction": "sum"}, wrt=(4, 5),
                 label="unnormalized")
    batch = list(_pair_batch(rng))
    batch[3] = batch[3] > 0
    batch[2] = rng.uniform(0.0, 1.0, batch[2].shape)
    yield Sample(tuple(batch), wrt=(4, 5), label="bool-mask-soft-labels")
    batch = list(_pair_batch(rng))
    batch[0] = None
    batch[4] = values(rng, (4, 3))
    yield Sample(tuple(batch), {"reduction": "none"}, wrt=(4, 5), label="input-vectors")
    yield Sample(_pair_batch(rng, scale=3.0), wrt=(4, 5), label="large-logits")
    yield Sample(_pair_batch(rng, rows=40, cols=5, vocab=9, width=20), {"reduction": "sum"},
                 wrt=(4, 5), label="several-blocks")


def _torch_hierarchical_softmax(torch, center_ids, target_ids, center_weight, node_weight,
                                path_nodes, path_signs, reduction="mean", sparse=True):
    F = torch.nn.functional
    u = center_weight if center_ids is None else F.embedding(center_ids, center_weight,
                                                             sparse=sparse)
    signs = path_signs[target_ids].to(u.dtype)
    w = F.embedding(path_nodes[target_ids], node_weight, sparse=sparse)
    logits = torch.bmm(w, u.unsqueeze(2)).squeeze(2)
    rows = -(F.logsigmoid(signs * logits) * (signs != 0)).sum(1)
    return {"none": rows, "sum": rows.sum(), "mean": rows.mean()}[reduction]


def hierarchical_softmax_samples(rng):
    counts = np.array([9, 1, 4, 2, 2, 7])
    nodes, signs = ops.huffman_tree(counts)
    signs = signs.astype(np.float64)
    for reduction in ("mean", "sum", "none"):
        yield Sample((_ids(rng, 6, (5,)), _ids(rng, 6, (5,)), values(rng, (6, 3)),
                      values(rng, (5, 3)), nodes, signs), {"reduction": reduction},
                     wrt=(2, 3), label=reduction)
    yield Sample((_ids(rng, 6, (5,)), _ids(rng, 6, (5,)), values(rng, (6, 3)),
                  values(rng, (5, 3)), nodes, signs), {"sparse": False}, wrt=(2, 3),
                 label="dense")
    yield Sample((None, _ids(rng, 6, (5,)), values(rng, (5, 3)), values(rng, (5, 3)), nodes,
                  signs), wrt=(2, 3), label="input-vectors")


def _torch_masked_sigmoid_bce(torch, logits, labels, mask, reduction="mean"):
    m = mask.to(logits.dtype)
    rows = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, labels, weight=m, reduction="none").sum(1) / m.sum(1)
    return {"none": rows, "sum": rows.sum(), "mean": rows.mean()}[reduction]


def masked_sigmoid_bce_samples(rng):
    for reduction in ("mean", "sum", "none"):
        _, _, labels, mask, _, _ = _pair_batch(rng)
        yield Sample((values(rng, labels.shape, -4.0, 4.0), labels, mask),
                     {"reduction": reduction}, label=reduction)


OPS = [
    OpInfo("embedding", ops.embedding, (ops.Embedding,), embedding_samples,
           "torch.nn.functional.embedding"),
    OpInfo("embedding_bag", _embedding_bag, (ops.EmbeddingBag,), embedding_bag_samples,
           _torch_embedding_bag),
    OpInfo("negative_sampling_loss", ops.negative_sampling_loss, (ops.NegativeSamplingLoss,),
           negative_sampling_samples, _torch_negative_sampling),
    OpInfo("hierarchical_softmax_loss", ops.hierarchical_softmax_loss,
           (ops.HierarchicalSoftmaxLoss,), hierarchical_softmax_samples,
           _torch_hierarchical_softmax),
    OpInfo("masked_sigmoid_bce", ops.masked_sigmoid_bce, (ops.BinaryCrossEntropyWithLogits,),
           masked_sigmoid_bce_samples, _torch_masked_sigmoid_bce),
]
