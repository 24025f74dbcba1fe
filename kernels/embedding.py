"""Embedding kernels: row gathers and their scatter-add, bags of rows, and the fused pair loss of
word2vec (negative sampling and hierarchical softmax), each with its row-sparse backward.

W is a (V, D) table, ids int64 row indices, g the gradient of the output.

embedding       y[n] = W[ids[n]]                    grad_W[ids[n]] += g[n]   (repeats add up)
                padding_idx: that row's entries send no gradient. Row-sparse form: the
                indices ids (padding dropped) and the rows g[n], never densified.
max_norm        before the lookup, in place and without gradient, every used row whose p-norm
                exceeds max_norm is scaled by max_norm / (norm + 1e-7) (PyTorch's renorm).
embedding_bag   y[b] = sum_{i in bag b} c_i W[ids[i]],  grad_W[ids[i]] += c_i g[b]
                c_i = 1 ('sum'), per_sample_weights[i] ('sum'), 1 / (entries of bag b) ('mean');
                padding entries have c_i = 0 and are not counted; an empty bag gives zeros.
                grad per_sample_weights[i] = <W[ids[i]], g[b]>.
                'max': y[b, j] = max_i W[ids[i], j],  grad_W[argmax_i, j] += g[b, j].
pair loss       for rows b (a center) and columns k (its context and noise words):
                x_bk = <U[c_b], V[t_bk]>
                r_b = sum_k m_bk bce(x_bk, l_bk) / n_b,  n_b = sum_k m_bk (normalize) or 1
                bce(x, l) = (1 - l) x + max(-x, 0) + log(1 + e^-|x|)  = softplus(x) - l x
                dr_b/dx_bk = a_bk = m_bk (sigmoid(x_bk) - l_bk) / n_b
                grad_U[c_b] += sum_k g_b a_bk V[t_bk],   grad_V[t_bk] += g_b a_bk U[c_b]
                Negative sampling normalizes (the masked mean over each row, d2l's loss);
                hierarchical softmax does not: t = the target word's path nodes, l = 1 for
                a left turn and 0 for a right one, so r_b = -sum_j log sigmoid(s_j x_bj).
                Masked-out columns (m = 0) are skipped, and the context gradient lists only
                the masked-in columns.

Parallelism: a row-sparse gradient has one output row per input row, so its backward has no
write conflicts and runs over the rows of a batch on every thread; the dense scatter-add splits
the columns D between threads instead, so repeated indices never race.
"""
import numpy as np
from numba import njit, prange

from kernels import _fastmath as fm
from kernels._checks import expect_float, expect_ndim
from kernels._runtime import NUM_THREADS, PARALLEL_MIN_ELEMENTS

REDUCTIONS = ("none", "mean", "sum")
BAG_MODES = ("sum", "mean", "max")


# the dot product is a float reduction: it vectorizes only when its additions may be reordered
# (`reassoc`); NaN and inf still propagate (no nnan/ninf flags)

@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def _dot(a, b):
    s = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s


def _ids(op, name, ids, rows):
    """ids as a flat C-contiguous int64 array, each in [0, rows)."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be integer (int64) indices, got {ids.dtype}")
    flat = np.ascontiguousarray(ids.reshape(-1), dtype=np.int64)
    if flat.size:
        low, high = flat.min(), flat.max()
        if low < 0 or high >= rows:
            raise IndexError(f"{op}: {name} must lie in [0, {rows}) for a table of {rows} "
                             f"rows, got min {low}, max {high}")
    return flat


def _table(op, name, weight):
    expect_ndim(op, name, weight, 2)
    expect_float(op, name, weight)
    return np.ascontiguousarray(weight)


def _parallel(work):
    return NUM_THREADS > 1 and work >= PARALLEL_MIN_ELEMENTS


@njit(cache=True)
def _gather_rows(weight, ids, out):
    for n in range(ids.shape[0]):
        source = weight[ids[n]]
        target = out[n]
        for j in range(source.shape[0]):
            target[j] = source[j]


@njit(cache=True, parallel=True)
def _gather_rows_parallel(weight, ids, out):
    for n in prange(ids.shape[0]):
        source = weight[ids[n]]
        target = out[n]
        for j in range(source.shape[0]):
            target[j] = source[j]


@njit(cache=True)
def _scatter_cols(grad, ids, skip, lo, hi, out):
    """out[ids[n], lo:hi] += grad[n, lo:hi] for ids[n] != skip."""
    for n in range(ids.shape[0]):
        i = ids[n]
        if i == skip:
            continue
        source = grad[n]
        target = out[i]
        for j in range(lo, hi):
            target[j] += source[j]


@njit(cache=True, parallel=True)
def _scatter_cols_parallel(grad, ids, skip, chunks, out):
    width = out.shape[1]
    step = (width + chunks - 1) // chunks
    for c in prange(chunks):
        lo = c * step
        hi = min(width, lo + step)
        _scatter_cols(grad, ids, skip, lo, hi, out)


def embedding_forward(weight, ids):
    """Rows of `weight` (V, D) at int64 `ids` of any shape -> (*ids.shape, D)."""
    weight = _table("embedding", "weight", weight)
    flat = _ids("embedding", "indices", ids, weight.shape[0])
    out = np.empty((flat.size, weight.shape[1]), weight.dtype)
    if _parallel(out.size):
        _gather_rows_parallel(weight, flat, out)
    else:
        _gather_rows(weight, flat, out)
    return out.reshape(np.shape(ids) + (weight.shape[1],))


def _flat_grad(op, grad, n, width):
    grad = np.ascontiguousarray(grad)
    if grad.size != n * width:
        raise ValueError(f"{op}: gradient of shape {grad.shape} for {n} rows of width {width}")
    return grad.reshape(n, width)


def scatter_add_rows_dense(grad, ids, num_rows, padding_idx=None):
    """A dense (V, D) table with grad[n] added at row ids[n] (repeats accumulate, the
    `padding_idx` row skipped): the backward of a row gather. grad is (N, D), ids (N,)."""
    flat = np.ascontiguousarray(np.asarray(ids).reshape(-1), dtype=np.int64)
    width = grad.shape[-1]
    grad = _flat_grad("embedding backward", grad, flat.size, width)
    out = np.zeros((num_rows, width), grad.dtype)
    skip = -1 if padding_idx is None else int(padding_idx)
    if _parallel(grad.size) and width >= 2 * NUM_THREADS:
        _scatter_cols_parallel(grad, flat, skip, NUM_THREADS, out)
    else:
        _scatter_cols(grad, flat, skip, 0, width, out)
    return out


def embedding_backward_dense(grad, ids, num_rows, padding_idx=None):
    """grad_weight (V, D) of `embedding_forward` from grad (*ids.shape, D)."""
    return scatter_add_rows_dense(grad, ids, num_rows, padding_idx)


def embedding_backward_sparse(grad, ids, padding_idx=None):
    """The row-sparse grad_weight of `embedding_forward`: (indices (K,), rows (K, D)), the
    entries at `padding_idx` left out."""
    flat = np.ascontiguousarray(np.asarray(ids).reshape(-1), dtype=np.int64)
    rows = _flat_grad("embedding backward", grad, flat.size, grad.shape[-1])
    if padding_idx is not None:
        keep = flat != padding_idx
        if not keep.all():
            return flat[keep], rows[keep]
    return flat, rows


@njit(cache=True, error_model="numpy")
def _renorm_rows(weight, ids, max_norm, norm_type):
    dt = weight.dtype.type
    limit = dt(max_norm)
    for n in range(ids.shape[0]):
        row = weight[ids[n]]
        if norm_type == 2.0:
            norm = np.sqrt(_dot(row, row))
        elif norm_type == 1.0:
            norm = dt(0.0)
            for j in range(row.shape[0]):
                norm += abs(row[j])
        elif np.isinf(norm_type):
            norm = dt(0.0)
            for j in range(row.shape[0]):
                norm = max(norm, abs(row[j]))
        else:
            total = 0.0
            for j in range(row.shape[0]):
                total += abs(np.float64(row[j])) ** norm_type
            norm = dt(total ** (1.0 / norm_type))
        if norm > limit:
            scale = limit / (norm + dt(1e-7))
            for j in range(row.shape[0]):
                row[j] *= scale


def embedding_renorm_(weight, ids, max_norm, norm_type=2.0):
    """Scale, in place, each row of `weight` used by `ids` whose `norm_type`-norm exceeds
    `max_norm` down to max_norm (PyTorch's embedding_renorm_; a repeated id is scaled once)."""
    if not weight.flags.c_contiguous or not weight.flags.writeable:
        raise ValueError("embedding: max_norm renormalizes the weight in place, so it must be "
                         "a writeable C-contiguous array")
    if max_norm < 0 or norm_type <= 0:
        raise ValueError(f"embedding: max_norm must be >= 0 and norm_type > 0, got "
                         f"max_norm={max_norm}, norm_type={norm_type}")
    flat = _ids("embedding", "indices", ids, weight.shape[0])
    _renorm_rows(weight, flat, float(max_norm), float(norm_type))
    return weight


@njit(cache=True, error_model="numpy")
def _bag_sum_rows(weight, ids, starts, ends, factors, lo, hi, out):
    dt = weight.dtype.type
    for b in range(lo, hi):
        target = out[b]
        for j in range(target.shape[0]):
            target[j] = dt(0.0)
        for i in range(starts[b], ends[b]):
            c = factors[i]
            if c == dt(0.0):
                continue
            source = weight[ids[i]]
            for j in range(target.shape[0]):
                target[j] += c * source[j]


@njit(cache=True, parallel=True)
def _bag_sum_parallel(weight, ids, starts, ends, factors, chunks, out):
    n = starts.shape[0]
    step = (n + chunks - 1) // chunks
    for c in prange(chunks):
        _bag_sum_rows(weight, ids, starts, ends, factors, c * step, min(n, (c + 1) * step), out)


@njit(cache=True, error_model="numpy")
def _bag_max_rows(weight, ids, starts, ends, skip, out, argmax):
    dt = weight.dtype.type
    for b in range(starts.shape[0]):
        target = out[b]
        best = argmax[b]
        for j in range(target.shape[0]):
            target[j] = dt(0.0)
            best[j] = -1
        for i in range(starts[b], ends[b]):
            row = ids[i]
            if row == skip:
                continue
            source = weight[row]
            for j in range(target.shape[0]):
                if best[j] < 0 or source[j] > target[j]:     # the first maximum wins
                    target[j] = source[j]
                    best[j] = row


@njit(cache=True, error_model="numpy")
def _bag_rows_backward(grad, bag_of, factors, keep, out):
    """out[k] = factors[keep[k]] grad[bag_of[keep[k]]]: the row-sparse rows."""
    for k in range(keep.shape[0]):
        i = keep[k]
        c = factors[i]
        source = grad[bag_of[i]]
        target = out[k]
        for j in range(source.shape[0]):
            target[j] = c * source[j]


@njit(cache=True, error_model="numpy")
def _bag_scatter(grad, ids, bag_of, factors, out):
    dt = grad.dtype.type
    for i in range(ids.shape[0]):
        c = factors[i]
        if c == dt(0.0):
            continue
        source = grad[bag_of[i]]
        target = out[ids[i]]
        for j in range(source.shape[0]):
            target[j] += c * source[j]


@njit(cache=True, error_model="numpy")
def _bag_max_scatter(grad, argmax, out):
    for b in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            row = argmax[b, j]
            if row >= 0:
                out[row, j] += grad[b, j]


@njit(cache=True, error_model="numpy")
def _bag_weight_grad(weight, grad, ids, bag_of, valid, out):
    dt = weight.dtype.type
    for i in range(ids.shape[0]):
        out[i] = _dot(weight[ids[i]], grad[bag_of[i]]) if valid[i] else dt(0.0)


def embedding_bag_layout(op, ids, offsets, num_rows, include_last_offset=False):
    """The flat ids (N,) and each bag's [start, end) from `ids` (B, L) without offsets, or
    `ids` (N,) with `offsets` (B,) (B + 1 with include_last_offset)."""
    ids = np.asarray(ids)
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for 2-D input (each row is a bag), "
                             f"got offsets with input of shape {ids.shape}")
        bags, length = ids.shape
        starts = np.arange(bags, dtype=np.int64) * length
        return _ids(op, "input", ids, num_rows), starts, starts + length
    if ids.ndim != 1:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D, got shape {ids.shape}")
    if offsets is None:
        raise ValueError(f"{op}: 1-D input needs offsets (the start of each bag)")
    offsets = np.asarray(offsets)
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu":
        raise ValueError(f"{op}: offsets must be a 1-D integer array, got "
                         f"{offsets.dtype}{offsets.shape}")
    flat = _ids(op, "input", ids, num_rows)
    offsets = offsets.astype(np.int64)
    if offsets.size and offsets[0] != 0:
        raise ValueError(f"{op}: offsets[0] must be 0 (the first bag starts the input), got "
                         f"{offsets[0]}")
    if np.any(np.diff(offsets) < 0) or (offsets.size and offsets[-1] > flat.size):
        raise ValueError(f"{op}: offsets must be non-decreasing and at most the input length "
                         f"{flat.size}, got {offsets.tolist()[:8]}...")
    if include_last_offset:
        if offsets.size == 0:
            raise ValueError(f"{op}: include_last_offset needs at least one offset")
        return flat, offsets[:-1].copy(), offsets[1:].copy()
    ends = np.empty_like(offsets)
    ends[:-1] = offsets[1:]
    if offsets.size:
        ends[-1] = flat.size
    return flat, offsets, ends


def embedding_bag_factors(ids, starts, ends, mode, per_sample_weights, padding_idx, dtype):
    """(bag_of (N,), factors (N,)): each entry's bag (-1 outside every bag) and its c_i."""
    bag_of = np.full(ids.shape[0], -1, np.int64)
    sizes = ends - starts
    spans = np.repeat(np.arange(starts.shape[0]), sizes)
    positions = np.arange(spans.size) - np.repeat(np.cumsum(sizes) - sizes, sizes) \
        + np.repeat(starts, sizes)
    bag_of[positions] = spans
    valid = bag_of >= 0
    if padding_idx is not None:
        valid &= ids != padding_idx
    factors = valid.astype(dtype)
    if mode == "mean":
        counts = np.bincount(bag_of[valid], minlength=starts.shape[0]).astype(dtype)
        factors[valid] /= counts[bag_of[valid]]
    elif per_sample_weights is not None:
        factors *= per_sample_weights
    return bag_of, factors


def embedding_bag_forward(weight, ids, starts, ends, factors, mode, padding_idx=None):
    """(B, D) bags of `weight` rows: 'sum'/'mean' with each entry's factor, or 'max' (then also
    returns the (B, D) int64 row of each maximum, -1 in an empty bag)."""
    weight = _table("embedding_bag", "weight", weight)
    bags = starts.shape[0]
    out = np.empty((bags, weight.shape[1]), weight.dtype)
    if mode == "max":
        argmax = np.empty((bags, weight.shape[1]), np.int64)
        skip = -1 if padding_idx is None else int(padding_idx)
        _bag_max_rows(weight, ids, starts, ends, skip, out, argmax)
        return out, argmax
    factors = np.ascontiguousarray(factors, dtype=weight.dtype)
    if _parallel(ids.shape[0] * weight.shape[1]) and bags >= NUM_THREADS:
        _bag_sum_parallel(weight, ids, starts, ends, factors, NUM_THREADS, out)
    else:
        _bag_sum_rows(weight, ids, starts, ends, factors, 0, bags, out)
    return out, None


def embedding_bag_backward(grad, ids, bag_of, factors, num_rows, sparse):
    """grad_weight of a 'sum'/'mean' bag: dense (V, D), or row-sparse (indices, rows) over the
    entries with a non-zero factor."""
    grad = np.ascontiguousarray(grad)
    if sparse:
        keep = np.flatnonzero(factors)
        rows = np.empty((keep.size, grad.shape[1]), grad.dtype)
        _bag_rows_backward(grad, bag_of, factors, keep, rows)
        return ids[keep], rows
    out = np.zeros((num_rows, grad.shape[1]), grad.dtype)
    _bag_scatter(grad, ids, bag_of, factors, out)
    return out


def embedding_bag_max_backward(grad, argmax, num_rows):
    """Dense grad_weight of a 'max' bag: each g[b, j] goes to its maximum's row."""
    out = np.zeros((num_rows, grad.shape[1]), grad.dtype)
    _bag_max_scatter(np.ascontiguousarray(grad), argmax, out)
    return out


def embedding_bag_backward_per_sample_weights(weight, grad, ids, bag_of, valid):
    """grad of the per-sample weights: <W[ids[i]], g[bag i]> for valid entries, else 0."""
    out = np.empty(ids.shape[0], weight.dtype)
    _bag_weight_grad(np.ascontiguousarray(weight), np.ascontiguousarray(grad), ids, bag_of,
                     valid, out)
    return out


@njit(cache=True, error_model="numpy")
def _pair_forward_rows(U, V, centers, targets, labels, mask, normalize, lo, hi, losses, coef):
    dt = U.dtype.type
    one = dt(1.0)
    zero = dt(0.0)
    for b in range(lo, hi):
        u = U[centers[b]]
        total = zero
        count = zero
        for k in range(targets.shape[1]):
            m = mask[b, k]
            if m == zero:
                coef[b, k] = zero
                continue
            x = _dot(u, V[targets[b, k]])
            lab = labels[b, k]
            # exact for 0/1 labels: the linear part is 0 or |x|, the log term is added last
            linear = (one - lab) * x + (-x if x < zero else zero)
            total += m * (linear + fm.softplus(-abs(x)))
            coef[b, k] = m * (fm.sigmoid(x) - lab)
            count += m
        scale = one
        if normalize:
            scale = one / count if count != zero else zero
            for k in range(targets.shape[1]):
                coef[b, k] *= scale
        losses[b] = total * scale


@njit(cache=True, parallel=True)
def _pair_forward_parallel(U, V, centers, targets, labels, mask, normalize, chunks, losses,
                           coef):
    n = centers.shape[0]
    step = (n + chunks - 1) // chunks
    for c in prange(chunks):
        _pair_forward_rows(U, V, centers, targets, labels, mask, normalize, c * step,
                           min(n, (c + 1) * step), losses, coef)


@njit(cache=True, error_model="numpy")
def _pair_backward_rows(U, V, centers, targets, mask, coef, grad_rows, starts, lo, hi,
                        grad_u, grad_v):
    dt = U.dtype.type
    for b in range(lo, hi):
        u = U[centers[b]]
        gu = grad_u[b]
        for j in range(gu.shape[0]):
            gu[j] = dt(0.0)
        g = grad_rows[b]
        pos = starts[b]
        for k in range(targets.shape[1]):
            if mask[b, k] == dt(0.0):
                continue
            a = g * coef[b, k]
            v = V[targets[b, k]]
            for j in range(gu.shape[0]):
                gu[j] += a * v[j]
            gv = grad_v[pos]
            for j in range(gu.shape[0]):
                gv[j] = a * u[j]
            pos += 1


@njit(cache=True, parallel=True)
def _pair_backward_parallel(U, V, centers, targets, mask, coef, grad_rows, starts, chunks,
                            grad_u, grad_v):
    n = centers.shape[0]
    step = (n + chunks - 1) // chunks
    for c in prange(chunks):
        _pair_backward_rows(U, V, centers, targets, mask, coef, grad_rows, starts, c * step,
                            min(n, (c + 1) * step), grad_u, grad_v)


@njit(cache=True)
def _compact_columns(targets, mask):
    """The masked-in targets in row order, and where each row's run starts (B + 1)."""
    rows, cols = targets.shape
    starts = np.empty(rows + 1, np.int64)
    n = 0
    for b in range(rows):
        starts[b] = n
        for k in range(cols):
            if mask[b, k] != 0:
                n += 1
    starts[rows] = n
    picked = np.empty(n, np.int64)
    n = 0
    for b in range(rows):
        for k in range(cols):
            if mask[b, k] != 0:
                picked[n] = targets[b, k]
                n += 1
    return picked, starts


def pair_loss_check(op, center_weight, context_weight, centers, targets, labels, mask):
    """Validated, C-contiguous operands of the pair loss: (U, V, centers (B,), targets (B, K),
    labels and mask (B, K) in the tables' dtype)."""
    U = _table(op, "center weight", center_weight)
    V = _table(op, "context weight", context_weight)
    if U.dtype != V.dtype or U.shape[1] != V.shape[1]:
        raise ValueError(f"{op}: the two tables must share dtype and width, got "
                         f"{U.dtype}{U.shape} and {V.dtype}{V.shape}")
    targets = np.asarray(targets)
    if targets.ndim != 2:
        raise ValueError(f"{op}: context ids must be 2-D (B, K), got shape {targets.shape}")
    centers = np.asarray(centers)
    if centers.shape not in ((targets.shape[0],), (targets.shape[0], 1)):
        raise ValueError(f"{op}: center ids must have shape ({targets.shape[0]},) to match "
                         f"context ids {targets.shape}, got {centers.shape}")
    centers = _ids(op, "center ids", centers, U.shape[0])
    flat = _ids(op, "context ids", targets, V.shape[0])
    arrays = []
    for name, a in (("labels", labels), ("mask", mask)):
        a = np.asarray(a)
        if a.shape != targets.shape:
            raise ValueError(f"{op}: {name} must have the context ids' shape {targets.shape}, "
                             f"got {a.shape}")
        arrays.append(np.ascontiguousarray(a, dtype=U.dtype))
    return U, V, centers, flat.reshape(targets.shape), arrays[0], arrays[1]


def pair_loss_forward(U, V, centers, targets, labels, mask, normalize):
    """(losses (B,), coef (B, K)): each row's loss r_b and dr_b/dx_bk (checked operands from
    `pair_loss_check`)."""
    rows = centers.shape[0]
    losses = np.empty(rows, U.dtype)
    coef = np.empty(targets.shape, U.dtype)
    if _parallel(targets.size * U.shape[1]) and rows >= NUM_THREADS:
        _pair_forward_parallel(U, V, centers, targets, labels, mask, bool(normalize),
                               NUM_THREADS, losses, coef)
    else:
        _pair_forward_rows(U, V, centers, targets, labels, mask, bool(normalize), 0, rows,
                           losses, coef)
    return losses, coef


def pair_loss_backward(U, V, centers, targets, mask, coef, grad_rows):
    """The row-sparse gradients of both tables from the loss gradient of each row (B,):
    (center rows (B, D) at `centers`, (context indices (M,), context rows (M, D))) over the M
    masked-in columns."""
    picked, starts = _compact_columns(targets, mask)
    grad_rows = np.ascontiguousarray(np.broadcast_to(grad_rows, centers.shape), dtype=U.dtype)
    grad_u = np.empty((centers.shape[0], U.shape[1]), U.dtype)
    grad_v = np.empty((picked.shape[0], U.shape[1]), U.dtype)
    if _parallel(targets.size * U.shape[1]) and centers.shape[0] >= NUM_THREADS:
        _pair_backward_parallel(U, V, centers, targets, mask, coef, grad_rows, starts,
                                NUM_THREADS, grad_u, grad_v)
    else:
        _pair_backward_rows(U, V, centers, targets, mask, coef, grad_rows, starts, 0,
                            centers.shape[0], grad_u, grad_v)
    return grad_u, (picked, grad_v)
