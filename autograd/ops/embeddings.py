"""Embedding ops: table lookups, bags of rows, and word2vec's losses, with row-sparse gradients.

    embedding        y = W[ids]                     grad_W = g scattered into ids' rows
    embedding_bag    y[b] = sum/mean/max of W rows over bag b (offsets, per-sample weights)
    negative_sampling_loss   one fused op: the gather of the center and context/noise rows,
                     their dot products and the masked sigmoid cross-entropy per row
    hierarchical_softmax_loss   -sum over the target word's Huffman path of
                     log sigmoid(sign * <center, node>), fused the same way
    masked_sigmoid_bce   the per-row masked mean of binary_cross_entropy_with_logits

With `sparse=True` the table's gradient is a `RowSparse` (the touched rows only): the tape
keeps it sparse in `.grad`, and SGD, Adagrad and SparseAdam update only those rows. The word2vec
losses give their context table's gradient as scaled rows (a coefficient and a center row per
column, `RowSparse.from_scaled_rows`), which SGD adds into the table without building the rows.
The math of every forward and backward is in `kernels/embedding.py`.
"""
import heapq

import numpy as np

from autograd.function import Function
from autograd.grad_mode import no_grad
from autograd.ops.loss import binary_cross_entropy_with_logits
from autograd.ops.reduce import sum as _sum
from autograd.sparse import RowSparse
from autograd.tensor import Tensor
from kernels import embedding as ke

__all__ = ["Embedding", "EmbeddingBag", "NegativeSamplingLoss", "HierarchicalSoftmaxLoss",
           "embedding", "embedding_bag", "negative_sampling_loss",
           "hierarchical_softmax_loss", "masked_sigmoid_bce", "huffman_tree"]

REDUCTIONS = ("none", "mean", "sum")


def _array(x):
    if x is None:
        return None
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _weight(op, weight):
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight))
    if weight.data.ndim != 2 or weight.data.dtype.kind != "f":
        raise ValueError(f"{op}: weight must be a 2-D float tensor (V, D), got "
                         f"{weight.data.dtype}{weight.data.shape}")
    return weight


def _padding_idx(op, padding_idx, rows):
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{op}: padding_idx {padding_idx} is out of range for {rows} rows")
    return int(padding_idx) % rows


def _reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _wants_sparse(sparse, weight):
    # a row-sparse gradient is for a leaf table and its optimizer; an op between the leaf
    # and the lookup (a cast, a product) takes the dense gradient it expects
    return bool(sparse) and weight.is_leaf


def _renorm(weight, ids, max_norm, norm_type):
    """PyTorch's max_norm: the used rows are rescaled in place, outside the graph."""
    with no_grad():
        ke.embedding_renorm_(weight.data, ids, max_norm, norm_type)
    weight._version[0] += 1


class Embedding(Function):
    """Rows of a (V, D) table at int64 ids; dense or row-sparse gradient for the table."""

    @staticmethod
    def forward(ctx, weight, ids, padding_idx=None, scale_grad_by_freq=False, sparse=False):
        out = ke.embedding_forward(weight, ids)
        ctx.ids = ids
        ctx.options = (weight.shape, padding_idx, scale_grad_by_freq, sparse)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, padding_idx, scale_grad_by_freq, sparse = ctx.options
        ids = ctx.ids
        if scale_grad_by_freq:
            flat = np.asarray(ids).reshape(-1)
            counts = np.bincount(flat, minlength=shape[0])
            grad = grad.reshape(flat.size, shape[1]) / counts[flat, None].astype(grad.dtype)
        if sparse:
            indices, rows = ke.embedding_backward_sparse(grad, ids, shape[0], padding_idx)
            return RowSparse(indices, rows, shape), None
        return ke.embedding_backward_dense(grad, ids, shape[0], padding_idx), None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002
              scale_grad_by_freq=False, sparse=False):
    """Rows of `weight` (V, D) at the int64 indices `input` (*) -> (*, D)
    (torch.nn.functional.embedding).

    padding_idx: that row's entries send no gradient. max_norm: each used row whose
    `norm_type`-norm exceeds it is first rescaled to max_norm, in place. scale_grad_by_freq:
    each row's gradient is divided by its count in `input`. sparse: the weight's gradient is
    a RowSparse holding only the used rows (for a leaf weight; otherwise dense)."""
    weight = _weight("embedding", weight)
    ids = _array(input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be int64, got {ids.dtype}")
    padding_idx = _padding_idx("embedding", padding_idx, weight.data.shape[0])
    if max_norm is not None:
        _renorm(weight, ids, max_norm, norm_type)
    return Embedding.apply(weight, ids, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq),
                           sparse=_wants_sparse(sparse, weight))


class EmbeddingBag(Function):
    """Sum, mean or max of the table rows in each bag; gradients for the table (dense or
    row-sparse) and the per-sample weights."""

    @staticmethod
    def forward(ctx, weight, per_sample_weights, ids, starts, ends, mode="mean",
                padding_idx=None, sparse=False):
        rows = weight.shape[0]
        if mode == "max":
            out, argmax = ke.embedding_bag_forward(weight, ids, starts, ends, None, mode,
                                                   padding_idx)
            ctx.argmax = argmax
            ctx.options = (weight.shape, mode, sparse)
            return out
        psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
        bag_of, factors = ke.embedding_bag_factors(ids, starts, ends, mode, psw, padding_idx,
                                                   weight.dtype)
        out, _ = ke.embedding_bag_forward(weight, ids, starts, ends, factors, mode)
        ctx.save_for_backward(weight)
        ctx.layout = (ids, bag_of, factors, padding_idx, rows)
        ctx.options = (weight.shape, mode, sparse)
        ctx.psw_shape = None if per_sample_weights is None else per_sample_weights.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, mode, sparse = ctx.options
        if mode == "max":
            return ke.embedding_bag_max_backward(grad, ctx.argmax, shape[0]), None, None, None, None
        (weight,) = ctx.saved
        ids, bag_of, factors, padding_idx, rows = ctx.layout
        grad_weight = grad_psw = None
        if ctx.needs_input_grad[0]:
            result = ke.embedding_bag_backward(grad, ids, bag_of, factors, rows, sparse)
            grad_weight = RowSparse(*result, shape) if sparse else result
        if ctx.needs_input_grad[1]:
            valid = bag_of >= 0
            if padding_idx is not None:
                valid &= ids != padding_idx
            grad_psw = ke.embedding_bag_backward_per_sample_weights(
                weight, grad, ids, bag_of, valid).reshape(ctx.psw_shape)
        return grad_weight, grad_psw, None, None, None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,  # noqa: A002
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Bags of rows of `weight` (V, D) reduced to (B, D) (torch.nn.functional.embedding_bag).

    `input` is (B, L) (each row a bag, offsets None) or 1-D (N,) with `offsets` (B,) giving
    where each bag starts (B + 1 values ending with N when include_last_offset). mode 'sum',
    'mean' or 'max'; an empty bag gives zeros. per_sample_weights (input's shape, 'sum' only)
    scale each entry and receive a gradient. padding_idx entries are skipped and not counted
    in the mean. sparse: a row-sparse weight gradient ('sum' and 'mean')."""
    op = "embedding_bag"
    weight = _weight(op, weight)
    if mode not in ke.BAG_MODES:
        raise ValueError(f"{op}: mode must be one of {ke.BAG_MODES}, got {mode!r}")
    if scale_grad_by_freq:
        raise NotImplementedError(f"{op}: scale_grad_by_freq is not supported; scale the "
                                  f"per_sample_weights instead")
    if sparse and mode == "max":
        raise ValueError(f"{op}: max mode does not support sparse weights")
    ids = _array(input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be int64, got {ids.dtype}")
    rows = weight.data.shape[0]
    flat, starts, ends = ke.embedding_bag_layout(op, ids, _array(offsets), rows,
                                                 include_last_offset)
    padding_idx = _padding_idx(op, padding_idx, rows)
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{op}: per_sample_weights is only supported for "
                                      f"mode='sum', got mode={mode!r}")
        if not isinstance(per_sample_weights, Tensor):
            per_sample_weights = Tensor(np.asarray(per_sample_weights))
        if per_sample_weights.data.shape != ids.shape:
            raise ValueError(f"{op}: per_sample_weights must have the input's shape "
                             f"{ids.shape}, got {per_sample_weights.data.shape}")
        if per_sample_weights.data.dtype != weight.data.dtype:
            raise TypeError(f"{op}: per_sample_weights must have the weight's dtype "
                            f"{weight.data.dtype}, got {per_sample_weights.data.dtype}")
    if max_norm is not None:
        _renorm(weight, flat, max_norm, norm_type)
    return EmbeddingBag.apply(weight, per_sample_weights, flat, starts, ends, mode=mode,
                              padding_idx=padding_idx, sparse=_wants_sparse(sparse, weight))


def _center_grad(rows, shape, how):
    """The center table's gradient from (ids, rows (B, D)): row-sparse, dense (scattered), or
    the rows themselves when the 'table' is the batch of input vectors."""
    ids, values = rows
    if how == "rows":
        return values
    if how == "sparse":
        return RowSparse(ids, values, shape)
    return ke.scatter_add_rows_dense(values, ids, shape[0])


def _context_grad(scaled_rows, shape, how):
    """The context table's gradient from its scaled rows (kernels/embedding.py, 'pair loss'):
    kept in that form as a RowSparse, or added into a dense table."""
    if how == "sparse":
        return RowSparse.from_scaled_rows(*scaled_rows, shape)
    return ke.scaled_rows_add_(np.zeros(shape, scaled_rows[2].dtype), *scaled_rows)


def _pair_forward(ctx, op, normalize, U, V, centers, targets, labels, mask, reduction, grads):
    """The shared forward of the word2vec losses (kernels/embedding.py, 'pair loss'). For a
    reduced loss the gradients are made here, while the rows are in cache, for a backward
    that only scales them; an unreduced loss's backward runs the kernel again with its
    per-row gradient."""
    operands = ke.pair_loss_check(op, U, V, centers, targets, labels, mask)
    want_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
    rows = operands[2].shape[0]
    dtype = operands[0].dtype
    ctx.options = (normalize, U.shape, V.shape, grads)
    if want_grad and reduction != "none":
        scale = 1.0 / rows if reduction == "mean" and rows else 1.0
        losses, center, context = ke.pair_loss_forward(*operands, normalize, scale)
        ctx.grads = (center, context)
    else:
        losses, _, _ = ke.pair_loss_forward(*operands, normalize)
        if want_grad:
            ctx.operands = operands
    if reduction == "none":
        return losses
    total = np.sum(losses, dtype=np.float64)
    if reduction == "mean":
        total = total / rows if rows else np.nan
    return np.asarray(total, dtype=dtype)


def _pair_backward(ctx, grad_loss):
    normalize, u_shape, v_shape, (center_how, context_how) = ctx.options
    if grad_loss.ndim:
        _, center, context = ke.pair_loss_forward(*ctx.operands, normalize, grad_loss)
    else:
        center, context = ctx.grads
        if grad_loss != 1:
            ids, scales, basis, source = context
            center = (center[0], center[1] * grad_loss)
            context = (ids, scales * grad_loss, basis, source)
    grad_center = grad_context = None
    if ctx.needs_input_grad[0]:
        grad_center = _center_grad(center, u_shape, center_how)
    if ctx.needs_input_grad[1]:
        grad_context = _context_grad(context, v_shape, context_how)
    return grad_center, grad_context, None, None, None, None


class NegativeSamplingLoss(Function):
    """Skip-gram / CBOW negative sampling: the masked sigmoid cross-entropy of center . context
    dot products, normalized per row (gather, dots, loss and row-sparse backward fused).
    `grads` says how each table's gradient is returned: 'sparse', 'dense' or 'rows'."""

    @staticmethod
    def forward(ctx, center_weight, context_weight, centers, targets, labels, mask,
                reduction="mean", normalize=True, grads=("sparse", "sparse")):
        return _pair_forward(ctx, "negative_sampling_loss", normalize, center_weight,
                             context_weight, centers, targets, labels, mask, reduction, grads)

    backward = staticmethod(_pair_backward)


class HierarchicalSoftmaxLoss(Function):
    """Hierarchical softmax: -sum_j log sigmoid(sign_j <center, node_j>) over the target
    word's path in a Huffman tree (gather, dots, loss and row-sparse backward fused); `nodes`
    are the path's node ids, labels 1 for a left turn, mask 0 past the path's end."""

    @staticmethod
    def forward(ctx, center_weight, node_weight, centers, nodes, labels, mask, reduction="mean",
                grads=("sparse", "sparse")):
        return _pair_forward(ctx, "hierarchical_softmax_loss", False, center_weight,
                             node_weight, centers, nodes, labels, mask, reduction, grads)

    backward = staticmethod(_pair_backward)


def _centers(op, center_ids, center_weight, rows, sparse):
    """(center ids, how the center table's gradient is returned); center_ids None makes the
    rows of `center_weight` the batch itself."""
    if center_ids is None:
        if center_weight.data.shape[0] != rows:
            raise ValueError(f"{op}: without center ids, center_weight holds one input vector "
                             f"per row: expected {rows} rows, got "
                             f"{center_weight.data.shape[0]}")
        return np.arange(rows, dtype=np.int64), "rows"
    ids = _array(center_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: center ids must be int64, got {ids.dtype}")
    return ids, "sparse" if _wants_sparse(sparse, center_weight) else "dense"


def negative_sampling_loss(center_ids, context_ids, labels, mask, center_weight,
                           context_weight, reduction="mean", *, normalize=True, sparse=True):
    """word2vec's negative-sampling loss, fused: for each row b,

        x_bk = <center_weight[center_ids[b]], context_weight[context_ids[b, k]]>
        r_b  = sum_k mask_bk BCE(sigmoid(x_bk), labels_bk) / sum_k mask_bk

    center_ids (B,) int64, context_ids (B, K) int64 (the context words then the noise words,
    padded), labels and mask (B, K) (1 for a context word / a real column). reduction 'mean'
    (over rows, d2l's loss), 'sum' or 'none' (B,). normalize=False drops the division by the
    row's mask sum (word2vec's per-pair loss). A row whose mask is all zero has loss 0.

    center_ids=None makes `center_weight` the (B, D) input vectors themselves (CBOW's averaged
    context, fastText's subword sum), which then get a dense gradient. The tables get
    row-sparse gradients unless sparse=False."""
    op = "negative_sampling_loss"
    context_weight = _weight(op, context_weight)
    center_weight = _weight(op, center_weight)
    targets = _array(context_ids)
    if targets.ndim != 2:
        raise ValueError(f"{op}: context ids must be 2-D (B, K), got shape {targets.shape}")
    centers, center_how = _centers(op, center_ids, center_weight, targets.shape[0], sparse)
    context_how = "sparse" if _wants_sparse(sparse, context_weight) else "dense"
    return NegativeSamplingLoss.apply(
        center_weight, context_weight, centers, targets, _array(labels), _array(mask),
        reduction=_reduction(op, reduction), normalize=bool(normalize),
        grads=(center_how, context_how))


def hierarchical_softmax_loss(center_ids, target_ids, center_weight, node_weight, path_nodes,
                              path_signs, reduction="mean", *, sparse=True):
    """Skip-gram's hierarchical softmax loss, fused: for each pair b (center c, target word w)

        r_b = -sum_j log sigmoid(sign_wj <center_weight[c], node_weight[node_wj]>)

    over the path of w from the root of a Huffman tree: `path_nodes` (V, L) int64 inner-node
    ids and `path_signs` (V, L) +1 (to the left child), -1 (right) or 0 (padding), as built
    by `huffman_tree`; node_weight is (V - 1, D). center_ids (B,) int64, or None (then
    center_weight is the (B, D) input vectors); target_ids (B,) int64. reduction as
    negative_sampling_loss; the tables get row-sparse gradients unless sparse=False."""
    op = "hierarchical_softmax_loss"
    node_weight = _weight(op, node_weight)
    center_weight = _weight(op, center_weight)
    targets = _array(target_ids)
    if targets.ndim != 1 or targets.dtype.kind not in "iu":
        raise ValueError(f"{op}: target ids must be 1-D int64, got {targets.dtype}"
                         f"{targets.shape}")
    nodes = _array(path_nodes)
    signs = _array(path_signs)
    if nodes.ndim != 2 or signs.shape != nodes.shape:
        raise ValueError(f"{op}: path_nodes and path_signs must be (V, L) of one shape, got "
                         f"{nodes.shape} and {signs.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= nodes.shape[0]):
        raise IndexError(f"{op}: target ids must lie in [0, {nodes.shape[0]}), got min "
                         f"{targets.min()}, max {targets.max()}")
    centers, center_how = _centers(op, center_ids, center_weight, targets.shape[0], sparse)
    node_how = "sparse" if _wants_sparse(sparse, node_weight) else "dense"
    path = signs[targets]
    return HierarchicalSoftmaxLoss.apply(
        center_weight, node_weight, centers, nodes[targets], path > 0, path != 0,
        reduction=_reduction(op, reduction), grads=(center_how, node_how))


def masked_sigmoid_bce(logits, labels, mask, reduction="mean"):
    """d2l's SigmoidBCELoss: per row, the masked mean over columns of the sigmoid
    cross-entropy of `logits` (B, K) against `labels`, sum_k m BCE / sum_k m; then 'mean' or
    'sum' over rows, or 'none' (B,). The unfused form of negative_sampling_loss, from
    binary_cross_entropy_with_logits(mask=)."""
    _reduction("masked_sigmoid_bce", reduction)
    m = _array(mask)
    per_column = binary_cross_entropy_with_logits(logits, labels, mask=m, reduction="none")
    counts = np.asarray(m, dtype=np.float64).sum(axis=-1, keepdims=True)
    inverse = np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)
    rows = _sum(per_column * Tensor(inverse.astype(per_column.data.dtype)), -1)
    if reduction == "none":
        return rows
    total = _sum(rows)
    return total / rows.data.shape[0] if reduction == "mean" else total


def huffman_tree(counts):
    """The Huffman coding tree of a vocabulary with word `counts` (V,), for
    hierarchical_softmax_loss: (path_nodes (V, L), path_signs (V, L)), each word's inner
    nodes from the root (ids 0 .. V - 2, the root V - 2) and +1 / -1 for a step to the left /
    right child, padded with node 0 and sign 0 to the longest code L. Frequent words get
    short paths (word2vec.c's tree: the two rarest subtrees are merged first)."""
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    vocab = counts.shape[0]
    if vocab < 2:
        raise ValueError(f"huffman_tree: needs at least 2 words, got {vocab}")
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.zeros(2 * vocab - 1, np.int64)
    sign = np.zeros(2 * vocab - 1, np.int8)
    for inner in range(vocab - 1):
        count_left, left = heapq.heappop(heap)
        count_right, right = heapq.heappop(heap)
        node = vocab + inner
        parent[left], parent[right] = node, node
        sign[left], sign[right] = 1, -1
        heapq.heappush(heap, (count_left + count_right, node))
    root = 2 * vocab - 2
    paths = []
    for word in range(vocab):
        nodes, signs = [], []
        child = word
        while child != root:
            nodes.append(parent[child] - vocab)
            signs.append(sign[child])
            child = parent[child]
        paths.append((nodes[::-1], signs[::-1]))
    depth = max(len(n) for n, _ in paths)
    path_nodes = np.zeros((vocab, depth), np.int64)
    path_signs = np.zeros((vocab, depth), np.float32)
    for word, (nodes, signs) in enumerate(paths):
        path_nodes[word, :len(nodes)] = nodes
        path_signs[word, :len(signs)] = signs
    return path_nodes, path_signs
