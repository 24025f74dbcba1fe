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
        source = grad[n, lo:hi]
        target = out[i, lo:hi]
        for j in range(source.shape[0]):
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


# The pair loss visits the rows of a batch in blocks: the dots of a block first, then the
# transcendentals of the whole block in one flat loop that vectorizes (sigmoid and log1p per
# element inside the dot loop cost as much as the dots), then, while the block's context rows
# are still in cache, each row's center gradient. The context gradient is coalesced as it is
# made (one row per distinct id, its place found through a table of V int32 slots):
# word2vec's batches repeat frequent words hundreds of times, and every row saved is memory
# traffic saved here, in the tape and in the optimizer (a real skip-gram batch of 15k columns
# has 4.6k distinct ones). So the backward of the usual scalar loss is only a scale, or nothing.
# On two threads the rows are split for the first part, and the distinct context ids by
# id % threads for the second, so no two threads write one row (V10k D100 B512, 30 columns:
# 0.70 ms on one thread, 0.xx ms on two).
_BLOCK = 16


@njit(cache=True, error_model="numpy")
def _pair_terms(x, labels, mask, e, terms, coef):
    """Flat, elementwise: terms = m bce(x, l), coef = m (sigmoid(x) - l)."""
    dt = x.dtype.type
    one = dt(1.0)
    zero = dt(0.0)
    for i in range(x.shape[0]):
        e[i] = fm.exp(-abs(x[i]))
    for i in range(x.shape[0]):
        xi = x[i]
        lab = labels[i]
        m = mask[i]
        # exact for 0/1 labels: the linear part is 0 or |x|, the log term is added last
        linear = (one - lab) * xi + (-xi if xi < zero else zero)
        terms[i] = m * (linear + fm.log1p(e[i]))
        coef[i] = m * ((one if xi >= zero else e[i]) / (one + e[i]) - lab)


@njit(cache=True, error_model="numpy", nogil=True)
def _pair_rows(U, V, centers, targets, labels, mask, normalize, row_scale, want_grad, lo, hi,
               x, e, terms, coef, losses, grad_u):
    """Rows lo..hi: their losses; with want_grad, coef becomes the gradient a_bk of each
    logit (for a loss gradient row_scale[b]) and grad_u[b] = sum_k a_bk V[t_bk]."""
    dt = U.dtype.type
    zero = dt(0.0)
    cols = targets.shape[1]
    width = U.shape[1]
    for block in range(lo, hi, _BLOCK):
        end = min(hi, block + _BLOCK)
        for b in range(block, end):
            u = U[centers[b]]
            for k in range(cols):
                x[b * cols + k] = zero if mask[b * cols + k] == zero else \
                    _dot(u, V[targets[b, k]])
        first = block * cols
        last = end * cols
        _pair_terms(x[first:last], labels[first:last], mask[first:last], e[first:last],
                    terms[first:last], coef[first:last])
        for b in range(block, end):
            total = zero
            count = zero
            for k in range(cols):
                total += terms[b * cols + k]
                count += mask[b * cols + k]
            scale = dt(1.0)
            if normalize:
                scale = dt(1.0) / count if count != zero else zero
            losses[b] = total * scale
            if not want_grad:
                continue
            scale *= row_scale[b]
            gu = grad_u[b]
            for j in range(width):
                gu[j] = zero
            for k in range(cols):
                i = b * cols + k
                if mask[i] == zero:
                    continue
                a = coef[i] * scale
                coef[i] = a
                v = V[targets[b, k]]
                for j in range(width):
                    gu[j] += a * v[j]


@njit(cache=True)
def _assign_slots(targets, mask, owners, slot, counts):
    """slot[t]: the place of id t among the distinct masked-in ids of its owner t % owners,
    in order of first appearance; counts[o]: how many owner o has."""
    rows, cols = targets.shape
    for b in range(rows):
        for k in range(cols):
            if mask[b * cols + k] != 0:
                t = targets[b, k]
                if slot[t] < 0:
                    o = t % owners
                    slot[t] = counts[o]
                    counts[o] += 1


@njit(cache=True, error_model="numpy", nogil=True)
def _context_rows(U, centers, targets, mask, coef, slot, owner, owners, first, ids, grad_v):
    """Owner `owner`'s rows of the coalesced context gradient: grad_v[first + slot[t]] = sum
    over the columns with id t of a_bk U[c_b]. Slots were numbered in this same order, so a
    row is first met when its slot is the next one: it is written, not zeroed and added to."""
    dt = U.dtype.type
    rows, cols = targets.shape
    width = U.shape[1]
    seen = 0
    for b in range(rows):
        u = U[centers[b]]
        for k in range(cols):
            if mask[b * cols + k] == dt(0.0):
                continue
            t = targets[b, k]
            if t % owners != owner:
                continue
            r = slot[t]
            g = grad_v[first + r]
            a = coef[b * cols + k]
            if r == seen:
                ids[first + r] = t
                seen += 1
                for j in range(width):
                    g[j] = a * u[j]
            else:
                for j in range(width):
                    g[j] += a * u[j]


@njit(cache=True, parallel=True)
def _pair_parallel(U, V, centers, targets, labels, mask, normalize, row_scale, want_grad,
                   chunks, x, e, terms, coef, losses, grad_u, slot, offsets, ids, grad_v):
    n = centers.shape[0]
    step = (n + chunks - 1) // chunks
    for c in prange(chunks):
        _pair_rows(U, V, centers, targets, labels, mask, normalize, row_scale, want_grad,
                   c * step, min(n, (c + 1) * step), x, e, terms, coef, losses, grad_u)
    if want_grad:
        for o in prange(chunks):
            _context_rows(U, centers, targets, mask, coef, slot, o, chunks, offsets[o], ids,
                          grad_v)


def pair_loss_check(op, center_weight, context_weight, centers, targets, labels, mask):
    """Validated, C-contiguous operands of the pair loss: (U, V, centers (B,), targets (B, K),
    labels and mask flattened to (B K,) in the tables' dtype)."""
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
        arrays.append(np.ascontiguousarray(a.reshape(-1), dtype=U.dtype))
    return U, V, centers, flat.reshape(targets.shape), arrays[0], arrays[1]


def pair_loss_forward(U, V, centers, targets, labels, mask, normalize, row_scale=None):
    """The loss of each row (B,) and, when `row_scale` (B,) is given, the gradient rows of
    both tables for a loss gradient of row_scale[b] on row b: (losses, (centers, center rows
    (B, D)), (context ids, context rows)), the context rows coalesced to one per distinct
    masked-in id. Operands as returned by `pair_loss_check`."""
    rows, cols = targets.shape
    dtype = U.dtype
    width = U.shape[1]
    threads = NUM_THREADS if _parallel(rows * cols * width) and rows >= 2 * _BLOCK else 1
    losses = np.empty(rows, dtype)
    x, e, terms, coef = (np.empty(rows * cols, dtype) for _ in range(4))
    want_grad = row_scale is not None
    slot = np.full(V.shape[0] if want_grad else 0, -1, np.int32)
    counts = np.zeros(threads, np.int64)
    if want_grad:
        row_scale = np.ascontiguousarray(np.broadcast_to(row_scale, (rows,)), dtype=dtype)
        grad_u = np.empty((rows, width), dtype)
        _assign_slots(targets, mask, threads, slot, counts)
    else:
        row_scale = np.empty(0, dtype)
        grad_u = np.empty((0, width), dtype)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    ids = np.empty(offsets[-1], np.int64)
    grad_v = np.empty((offsets[-1], width), dtype)
    args = (U, V, centers, targets, labels, mask, bool(normalize), row_scale, want_grad)
    if threads > 1:
        _pair_parallel(*args, threads, x, e, terms, coef, losses, grad_u, slot, offsets, ids,
                       grad_v)
    else:
        _pair_rows(*args, 0, rows, x, e, terms, coef, losses, grad_u)
        if want_grad:
            _context_rows(U, centers, targets, mask, coef, slot, 0, 1, 0, ids, grad_v)
    if not want_grad:
        return losses, None, None
    return losses, (centers, grad_u), (ids, grad_v)


@njit(cache=True, error_model="numpy")
def _sparse_adam_rows(table, m, v, indices, rows, beta1, beta2, eps, step_size, sign):
    dt = table.dtype.type
    w1 = dt(1.0 - beta1)
    w2 = dt(1.0 - beta2)
    e = dt(eps)
    neg_step = dt(-step_size)
    for k in range(indices.shape[0]):
        i = indices[k]
        p_row = table[i]
        m_row = m[i]
        v_row = v[i]
        g_row = rows[k]
        for j in range(g_row.shape[0]):
            g = g_row[j] * sign
            old_m = m_row[j]
            m_update = (g - old_m) * w1
            old_v = v_row[j]
            v_update = (g * g - old_v) * w2
            m_row[j] = old_m + m_update
            v_row[j] = old_v + v_update
            p_row[j] = p_row[j] + neg_step * ((m_update + old_m) / (np.sqrt(v_update + old_v)
                                                                   + e))


def sparse_adam_update_(p, m, v, indices, rows, step, lr, beta1, beta2, eps, maximize=False):
    """One lazy-Adam step on the rows `indices` (unique, as after coalescing) of `p`, `m` and
    `v`, in place; the other rows and their moments are left untouched. The arithmetic is
    torch.optim.SparseAdam's, operation by operation:

        m_i += (g - m_i)(1 - beta1),  v_i += (g^2 - v_i)(1 - beta2)
        p_i -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m_i / (sqrt(v_i) + eps)
    """
    if not p.flags.c_contiguous or p.ndim < 1:
        raise ValueError(f"SparseAdam: the parameter must be C-contiguous, got shape {p.shape}")
    width = int(np.prod(p.shape[1:], dtype=np.int64))
    table = p.reshape(p.shape[0], width)
    rows = np.ascontiguousarray(rows, dtype=p.dtype).reshape(-1, width)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    if rows.shape[0] != indices.shape[0]:
        raise ValueError(f"SparseAdam: {indices.shape[0]} row indices for {rows.shape[0]} rows")
    if indices.size and (indices.min() < 0 or indices.max() >= p.shape[0]):
        raise IndexError(f"SparseAdam: row indices must lie in [0, {p.shape[0]}), got min "
                         f"{indices.min()}, max {indices.max()}")
    step_size = lr * (1.0 - beta2 ** step) ** 0.5 / (1.0 - beta1 ** step)
    _sparse_adam_rows(table, m.reshape(table.shape), v.reshape(table.shape), indices, rows,
                      float(beta1), float(beta2), float(eps), float(step_size),
                      p.dtype.type(-1.0 if maximize else 1.0))


@njit(cache=True, nogil=True)
def _noise_words(forbidden, allowed, per_row, accept, alias, seed, out):
    np.random.seed(seed)
    vocab = accept.shape[0]
    for b in range(out.shape[0]):
        for k in range(out.shape[1]):
            if k >= per_row[b]:
                out[b, k] = 0
                continue
            word = 0
            for _ in range(1000):       # bounded: a row whose words hold all the noise mass
                i = np.random.randint(0, vocab)
                word = i if np.random.random() < accept[i] else alias[i]
                clash = False
                for c in range(forbidden.shape[1]):
                    if allowed[b, c] and forbidden[b, c] == word:
                        clash = True
                        break
                if not clash:
                    break
            out[b, k] = word


def noise_words(forbidden, allowed, per_row, width, accept, alias, seed):
    """Noise words for negative sampling: row b gets per_row[b] words (then zeros up to
    `width`) drawn by Walker's alias method (accept (V,) float64, alias (V,) int64), each
    redrawn while it equals a word forbidden[b, c] with allowed[b, c] (the row's context or
    target words). Deterministic for a given int `seed`."""
    forbidden = np.ascontiguousarray(forbidden, dtype=np.int64)
    allowed = np.ascontiguousarray(np.broadcast_to(allowed, forbidden.shape), dtype=np.bool_)
    per_row = np.ascontiguousarray(np.broadcast_to(per_row, forbidden.shape[:1]),
                                   dtype=np.int64)
    if per_row.size and per_row.max() > width:
        raise ValueError(f"noise_words: {per_row.max()} words asked for a row of width {width}")
    out = np.empty((forbidden.shape[0], width), np.int64)
    _noise_words(forbidden, allowed, per_row, np.ascontiguousarray(accept, dtype=np.float64),
                 np.ascontiguousarray(alias, dtype=np.int64), int(seed), out)
    return out
