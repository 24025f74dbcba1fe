"""Embedding kernels: row gathers and their scatter-add, bags of rows, and the fused pair loss of
word2vec (negative sampling and hierarchical softmax), each with its row-sparse backward.

W is a (V, D) table, ids int64 row indices, g the gradient of the output.

embedding       y[n] = W[ids[n]]                    grad_W[ids[n]] += g[n]   (repeats add up)
                padding_idx: that row's entries send no gradient. Row-sparse form: each
                distinct id once with the sum of its rows (padding dropped), never densified;
                coalescing here costs one pass and saves the tape, the optimizer and
                clip_grad_norm_ the repeats (and Adagrad and SparseAdam their own sort).
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
                Masked-out columns (m = 0) are skipped. The context gradient is returned as
                scaled rows: (t_bk, g_b a_bk, b) for each masked-in column and the B center
                rows U[c_b], which `scaled_rows_add_` adds into a table (SGD's step).
sparse Adam     lazy Adam on the rows of a coalesced gradient (torch.optim.SparseAdam).
word2vec batches  noise words by Walker's alias method, never one of the row's own words,
                and whole padded skip-gram rows (zoo/word2vec_data.py calls these).

Threads: every kernel here is serial. They move rows of a table at random and do a few flops
per byte, so they are bound by memory, and a second thread cost more than it saved (2 cores,
float32, V10k D100: gathering 15k rows 0.46 ms serial against 0.51 ms on two threads; the
scatter-add 0.44 against 0.68 with the columns split between threads, the split that keeps
repeated ids race-free; the pair loss on a real skip-gram batch 1.06 against 1.45 ms with the
rows split and the distinct context ids split by id % 2). Making the next batches on the
other core while one trains did not pay either (word2vec on Shakespeare: 425k words/s against
470k without, on this shared machine).
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels import _fastmath as fm
from kernels._checks import expect_float, expect_ndim

BAG_MODES = ("sum", "mean", "max")


# the dot product is a float reduction: it vectorizes only when its additions may be reordered
# (`reassoc`); NaN and inf still propagate (no nnan/ninf flags)

@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def _dot(a, b):
    s = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def _dot4(u, a, b, c, d):
    """<u, a>, <u, b>, <u, c>, <u, d> in one pass: u is loaded once for four rows."""
    s0 = s1 = s2 = s3 = u.dtype.type(0.0)
    for j in range(u.shape[0]):
        s0 += u[j] * a[j]
        s1 += u[j] * b[j]
        s2 += u[j] * c[j]
        s3 += u[j] * d[j]
    return s0, s1, s2, s3


@njit(cache=True)
def _bounds(ids):
    """(min, max) of a non-empty int64 array in one pass (numpy's min and max take two)."""
    low = high = ids[0]
    for i in range(1, ids.shape[0]):
        low = min(low, ids[i])
        high = max(high, ids[i])
    return low, high


def _ids(op, name, ids, rows):
    """ids as a flat C-contiguous int64 array, each in [0, rows)."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be integer (int64) indices, got {ids.dtype}")
    flat = np.ascontiguousarray(ids.reshape(-1), dtype=np.int64)
    if flat.size:
        low, high = _bounds(flat)
        if low < 0 or high >= rows:
            raise IndexError(f"{op}: {name} must lie in [0, {rows}) for a table of {rows} "
                             f"rows, got min {low}, max {high}")
    return flat


def _table(op, name, weight):
    expect_ndim(op, name, weight, 2)
    expect_float(op, name, weight)
    return np.ascontiguousarray(weight)


@njit(cache=True)
def _gather_rows(weight, ids, out):
    for n in range(ids.shape[0]):
        source = weight[ids[n]]
        target = out[n]
        for j in range(source.shape[0]):
            target[j] = source[j]


@njit(cache=True)
def _scatter_rows(grad, ids, skip, out):
    """out[ids[n]] += grad[n] for ids[n] != skip."""
    for n in range(ids.shape[0]):
        i = ids[n]
        if i == skip:
            continue
        source = grad[n]
        target = out[i]
        for j in range(source.shape[0]):
            target[j] += source[j]


def embedding_forward(weight, ids):
    """Rows of `weight` (V, D) at int64 `ids` of any shape -> (*ids.shape, D)."""
    weight = _table("embedding", "weight", weight)
    flat = _ids("embedding", "indices", ids, weight.shape[0])
    out = np.empty((flat.size, weight.shape[1]), weight.dtype)
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
    _scatter_rows(grad, flat, skip, out)
    return out


def embedding_backward_dense(grad, ids, num_rows, padding_idx=None):
    """grad_weight (V, D) of `embedding_forward` from grad (*ids.shape, D)."""
    return scatter_add_rows_dense(grad, ids, num_rows, padding_idx)


@njit(cache=True)
def _number_rows(ids, factors, skip, slot):
    """slot[t]: the place of id t among the distinct ids of the kept entries (id != skip and,
    with factors, a non-zero factor), in order of first appearance. Returns their count."""
    count = 0
    for n in range(ids.shape[0]):
        t = ids[n]
        if t == skip or (factors.shape[0] and factors[n] == 0):
            continue
        if slot[t] < 0:
            slot[t] = count
            count += 1
    return count


@njit(cache=True, error_model="numpy")
def _sum_rows(grad, source, ids, factors, skip, slot, out_ids, out):
    """out[slot[ids[n]]] = sum over n of factors[n] grad[source[n]] (source empty: row n;
    factors empty: 1). A row is written when first met (its slot is the next), then added to."""
    seen = 0
    for n in range(ids.shape[0]):
        t = ids[n]
        if t == skip:
            continue
        c = factors[n] if factors.shape[0] else grad.dtype.type(1.0)
        if c == 0:
            continue
        row = grad[source[n]] if source.shape[0] else grad[n]
        r = slot[t]
        target = out[r]
        if r == seen:
            out_ids[r] = t
            seen += 1
            for j in range(row.shape[0]):
                target[j] = c * row[j]
        else:
            for j in range(row.shape[0]):
                target[j] += c * row[j]


def sum_rows_by_id(grad, ids, num_rows, source=None, factors=None, skip=None):
    """The row-sparse form of a scatter-add, coalesced: (distinct ids (K,), rows (K, D)) with
    rows[k] = sum of factors[n] grad[source[n]] over the entries n with ids[n] == ids_k,
    entries at `skip` or with a zero factor left out. Both arrays own their memory."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    source = np.empty(0, np.int64) if source is None else np.ascontiguousarray(source,
                                                                                 np.int64)
    factors = np.empty(0, grad.dtype) if factors is None else np.ascontiguousarray(
        factors, dtype=grad.dtype)
    skip = -1 if skip is None else int(skip)
    slot = np.full(num_rows, -1, np.int32)
    count = _number_rows(ids, factors, skip, slot)
    out_ids = np.empty(count, np.int64)
    out = np.empty((count, grad.shape[-1]), grad.dtype)
    _sum_rows(np.ascontiguousarray(grad), source, ids, factors, skip, slot, out_ids, out)
    return out_ids, out


def embedding_backward_sparse(grad, ids, num_rows, padding_idx=None):
    """The row-sparse grad_weight of `embedding_forward`, coalesced: (distinct indices (K,),
    summed rows (K, D)), the entries at `padding_idx` left out."""
    flat = np.ascontiguousarray(np.asarray(ids).reshape(-1), dtype=np.int64)
    rows = _flat_grad("embedding backward", grad, flat.size, grad.shape[-1])
    return sum_rows_by_id(rows, flat, num_rows, skip=padding_idx)


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
def _bag_sum_rows(weight, ids, starts, ends, factors, out):
    dt = weight.dtype.type
    for b in range(starts.shape[0]):
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


@njit(cache=True, error_model="numpy")
def _bag_factors(ids, starts, ends, mean, psw, skip, bag_of, factors):
    dt = factors.dtype.type
    bag_of[:] = -1
    factors[:] = dt(0.0)
    for b in range(starts.shape[0]):
        count = 0
        for i in range(starts[b], ends[b]):
            bag_of[i] = b
            if ids[i] != skip:
                factors[i] = psw[i] if psw.shape[0] else dt(1.0)
                count += 1
        if mean and count:
            scale = dt(1.0) / dt(count)
            for i in range(starts[b], ends[b]):
                factors[i] *= scale


def embedding_bag_factors(ids, starts, ends, mode, per_sample_weights, padding_idx, dtype):
    """(bag_of (N,), factors (N,)): each entry's bag (-1 outside every bag) and its c_i."""
    bag_of = np.empty(ids.shape[0], np.int64)
    factors = np.empty(ids.shape[0], dtype)
    psw = (np.empty(0, dtype) if per_sample_weights is None else
           np.ascontiguousarray(per_sample_weights, dtype=dtype))
    _bag_factors(ids, starts, ends, mode == "mean", psw,
                 -1 if padding_idx is None else int(padding_idx), bag_of, factors)
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
    _bag_sum_rows(weight, ids, starts, ends, factors, out)
    return out, None


def embedding_bag_backward(grad, ids, bag_of, factors, num_rows, sparse):
    """grad_weight of a 'sum'/'mean' bag: dense (V, D), or row-sparse and coalesced
    (distinct indices, rows) over the entries with a non-zero factor."""
    grad = np.ascontiguousarray(grad)
    if sparse:
        return sum_rows_by_id(grad, ids, num_rows, source=bag_of, factors=factors)
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
# are still in cache, each row's center gradient. The context gradient is not written as rows:
# its row for column k of row b is a_bk U[c_b], so the kernel lists (t_bk, a_bk, b) for the
# masked-in columns and keeps a copy of the B center rows (the "scaled rows" of a RowSparse),
# 12 bytes a column instead of 4 D. SGD then adds them straight into the table, duplicates
# and all, and nothing ever writes, copies or re-reads a (columns, D) block (V10k D100 B512, 30
# columns, a 9.5k-column batch: forward with gradient + SGD 0.70 ms against 1.14 ms when the
# rows were built and coalesced first).
# A block is 4 rows: their ~70 context rows (28 KB) are still in L1 for the gradient pass
# (0.65 ms, against 0.67 for blocks of 8 and 0.70 for 16). Both passes take the context rows
# four at a time (one load of u for four dots, one update of the center gradient for four
# rows): the kernel took 0.37 ms against 0.40 one row at a time.
_BLOCK = 4


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


@njit(cache=True, error_model="numpy")
def _pair_rows(U, V, centers, targets, labels, mask, normalize, row_scale, want_grad, x, e,
               terms, coef, losses, grad_u, basis, ids, scales, source):
    """The loss of every row; with want_grad (a loss gradient of row_scale[b] on row b),
    grad_u[b] = sum_k a_bk V[t_bk], basis[b] = U[c_b], and for each masked-in column in
    order, ids = t_bk, scales = a_bk, source = b. Returns the number of those columns."""
    dt = U.dtype.type
    zero = dt(0.0)
    rows, cols = targets.shape
    width = U.shape[1]
    n = 0
    for block in range(0, rows, _BLOCK):
        end = min(rows, block + _BLOCK)
        for b in range(block, end):
            u = U[centers[b]]
            row = b * cols
            k = 0
            while k < cols:
                if k + 4 <= cols and mask[row + k] != zero and mask[row + k + 1] != zero \
                        and mask[row + k + 2] != zero and mask[row + k + 3] != zero:
                    x[row + k], x[row + k + 1], x[row + k + 2], x[row + k + 3] = _dot4(
                        u, V[targets[b, k]], V[targets[b, k + 1]], V[targets[b, k + 2]],
                        V[targets[b, k + 3]])
                    k += 4
                else:
                    x[row + k] = zero if mask[row + k] == zero else _dot(u, V[targets[b, k]])
                    k += 1
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
            u = U[centers[b]]
            ub = basis[b]
            gu = grad_u[b]
            for j in range(width):
                ub[j] = u[j]
                gu[j] = zero
            start = n
            for k in range(cols):
                i = b * cols + k
                if mask[i] != zero:
                    ids[n] = targets[b, k]
                    scales[n] = coef[i] * scale
                    source[n] = b
                    n += 1
            # four context rows per pass over gu: a quarter of its loads and stores
            m = start
            while m + 4 <= n:
                a0, a1, a2, a3 = scales[m], scales[m + 1], scales[m + 2], scales[m + 3]
                v0, v1, v2, v3 = V[ids[m]], V[ids[m + 1]], V[ids[m + 2]], V[ids[m + 3]]
                for j in range(width):
                    gu[j] += (a0 * v0[j] + a1 * v1[j]) + (a2 * v2[j] + a3 * v3[j])
                m += 4
            while m < n:
                a0 = scales[m]
                v0 = V[ids[m]]
                for j in range(width):
                    gu[j] += a0 * v0[j]
                m += 1
    return n


@intrinsic
def _prefetch_row(typingctx, table, row):
    """Ask the caches for row `row` of a C-contiguous 2-D table, one hint per 64-byte line
    (llvm.prefetch: a hint, never a fault)."""
    if not isinstance(table, types.Array) or table.ndim != 2 or \
            not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        start = cgutils.get_item_pointer(context, builder, signature.args[0], array,
                                         [args[1], context.get_constant(types.intp, 0)])
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        base = builder.bitcast(start, byte)
        row_bytes = builder.extract_value(array.strides, 0)
        with cgutils.for_range_slice(builder, context.get_constant(types.intp, 0), row_bytes,
                                     context.get_constant(types.intp, 64)) as (offset, _):
            # read (0), keep in all cache levels (3), data (1)
            builder.call(prefetch, [builder.gep(base, [offset]), ir.Constant(i32, 0),
                                    ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(table, row), codegen


# The SGD step updates rows of the table at random: asking for the row 8 entries ahead while
# updating this one took the scatter of a 9.5k-column batch from 215 to 200 us after a
# forward (148 to 125 us alone).
_PREFETCH_AHEAD = 8


@njit(cache=True, error_model="numpy")
def _add_scaled_rows(table, ids, scales, basis, source, alpha):
    """The scatter, after checking every id and source (here, in one pass: cheaper than
    numpy's min and max); returns -1, or the first bad entry and then changes nothing."""
    rows = table.shape[0]
    sources = basis.shape[0]
    for n in range(ids.shape[0]):
        if ids[n] < 0 or ids[n] >= rows or source[n] < 0 or source[n] >= sources:
            return n
    count = ids.shape[0]
    for n in range(min(_PREFETCH_AHEAD, count)):
        _prefetch_row(table, ids[n])
    for n in range(count):
        if n + _PREFETCH_AHEAD < count:
            _prefetch_row(table, ids[n + _PREFETCH_AHEAD])
        target = table[ids[n]]
        c = alpha * scales[n]
        row = basis[source[n]]
        for j in range(row.shape[0]):
            target[j] = fm.fma(c, row[j], target[j])
    return -1


def scaled_rows_add_(table, ids, scales, basis, source, alpha=1.0):
    """table[ids[n]] += alpha scales[n] basis[source[n]] for every n, in place (repeated ids
    accumulate): a RowSparse in scaled-rows form added to a dense (V, D) table, as an SGD step
    (alpha = -lr) or to make it dense. ids, source (N,) int64, scales (N,), basis (B, D)."""
    op = "scaled_rows_add_"
    if table.ndim != 2 or not table.flags.c_contiguous or not table.flags.writeable:
        raise ValueError(f"{op}: the table must be a writeable C-contiguous (V, D) array, got "
                         f"shape {table.shape}")
    expect_float(op, "table", table)
    if basis.ndim != 2 or basis.shape[1] != table.shape[1]:
        raise ValueError(f"{op}: basis rows {basis.shape} do not match the table's width "
                         f"{table.shape[1]}")
    if not ids.shape == scales.shape == source.shape or ids.ndim != 1:
        raise ValueError(f"{op}: ids {ids.shape}, scales {scales.shape} and source "
                         f"{source.shape} must be one 1-D shape")
    if ids.dtype != np.int64 or source.dtype != np.int64:
        raise TypeError(f"{op}: ids and source must be int64, got {ids.dtype} and "
                        f"{source.dtype}")
    bad = _add_scaled_rows(table, np.ascontiguousarray(ids),
                           np.ascontiguousarray(scales, dtype=table.dtype),
                           np.ascontiguousarray(basis, dtype=table.dtype),
                           np.ascontiguousarray(source), table.dtype.type(alpha))
    if bad >= 0:
        raise IndexError(f"{op}: entry {bad} has id {ids[bad]} and source {source[bad]}, "
                         f"outside the table's {table.shape[0]} rows or the basis' "
                         f"{basis.shape[0]} rows")
    return table


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
    """The loss of each row (B,) and, when `row_scale` (B,) is given, the gradients of both
    tables for a loss gradient of row_scale[b] on row b: (losses, (center ids (B,), center
    rows (B, D)), (ids (N,), scales (N,), basis (B, D), source (N,))), the context gradient in
    scaled-rows form (row scales[n] basis[source[n]] at ids[n], one per masked-in column).
    Operands as returned by `pair_loss_check`."""
    rows, cols = targets.shape
    dtype = U.dtype
    width = U.shape[1]
    losses = np.empty(rows, dtype)
    x, e, terms, coef = (np.empty(rows * cols, dtype) for _ in range(4))
    want_grad = row_scale is not None
    size = rows if want_grad else 0
    if not want_grad:
        row_scale = np.empty(0, dtype)
    elif np.ndim(row_scale):
        row_scale = np.ascontiguousarray(np.broadcast_to(row_scale, (rows,)), dtype=dtype)
    else:
        row_scale = np.full(rows, row_scale, dtype)
    grad_u = np.empty((size, width), dtype)
    basis = np.empty((size, width), dtype)
    ids = np.empty(size * cols, np.int64)
    scales = np.empty(size * cols, dtype)
    source = np.empty(size * cols, np.int64)
    used = _pair_rows(U, V, centers, targets, labels, mask, bool(normalize), row_scale,
                      want_grad, x, e, terms, coef, losses, grad_u, basis, ids, scales, source)
    if not want_grad:
        return losses, None, None
    return losses, (centers.copy(), grad_u), (ids[:used], scales[:used], basis, source[:used])


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


# Noise words come from xorshift64* (Vigna 2016) rather than np.random: 9 ns a word against
# 30 ns with Numba's Mersenne Twister (9M words, a Shakespeare epoch's worth), a third of the
# time of making skip-gram batches.

@njit(cache=True)
def _rng_state(seed):
    """A non-zero xorshift64* state from an int seed (one splitmix64 step)."""
    z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    state = np.empty(1, np.uint64)
    state[0] = z if z != np.uint64(0) else np.uint64(1)
    return state


@njit(cache=True)
def _uniform(state):
    """A float64 in [0, 1); advances state[0]."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return np.float64((x * np.uint64(2685821657736338717)) >> np.uint64(11)) * (2.0 ** -53)


@njit(cache=True)
def _draw_noise(accept, alias, state):
    # one uniform draw picks the column (its integer part) and the coin (its fraction)
    u = _uniform(state) * accept.shape[0]
    i = min(int(u), accept.shape[0] - 1)
    return i if u - i < accept[i] else alias[i]


@njit(cache=True)
def _noise_words(forbidden, allowed, per_row, accept, alias, seed, out):
    state = _rng_state(seed)
    for b in range(out.shape[0]):
        for k in range(out.shape[1]):
            if k >= per_row[b]:
                out[b, k] = 0
                continue
            word = 0
            for _ in range(1000):       # bounded: a row whose words hold all the noise mass
                word = _draw_noise(accept, alias, state)
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


@njit(cache=True)
def _context_counts(starts, sizes, counts):
    """counts[i]: the number of words within sizes[i] positions of i in its sentence."""
    for s in range(starts.shape[0] - 1):
        first, end = starts[s], starts[s + 1]
        for i in range(first, end):
            counts[i] = min(end, i + sizes[i] + 1) - max(first, i - sizes[i]) - 1


@njit(cache=True)
def _skipgram_rows(ids, starts, sizes, counts, num_noise, accept, alias, seed, place,
                   group_start, column_start, centers, columns):
    state = _rng_state(seed)
    for s in range(starts.shape[0] - 1):
        first, end = starts[s], starts[s + 1]
        for i in range(first, end):
            n = counts[i]
            if n == 0:
                continue
            r = place[i]
            centers[r] = ids[i]
            width = n * (1 + num_noise)
            at = column_start[n] + (r - group_start[n]) * width
            out = columns[at:at + width]
            k = 0
            for j in range(max(first, i - sizes[i]), min(end, i + sizes[i] + 1)):
                if j != i:
                    out[k] = ids[j]
                    k += 1
            for k in range(n, width):
                word = _draw_noise(accept, alias, state)
                for _ in range(1000):       # bounded: a row whose words hold all the mass
                    clash = False
                    for c in range(n):
                        if out[c] == word:
                            clash = True
                            break
                    if not clash:
                        break
                    word = _draw_noise(accept, alias, state)
                out[k] = word


def skipgram_rows(ids, starts, sizes, num_noise, accept, alias, seed, rng):
    """Skip-gram rows for every position of a corpus (ids (N,), sentence starts (S + 1,)) with
    a context, grouped by their number n of context words (the words within sizes[i]
    positions in the sentence), in random order within a group: a dict n -> (centers (R,),
    columns (R, n (1 + num_noise)) int64), each row the n context words then num_noise noise
    words per context word (Walker's alias tables `accept`, `alias`; never one of the row's
    context words). Grouping leaves no padding: every column of a row is used."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    sizes = np.ascontiguousarray(sizes, dtype=np.int64)
    counts = np.empty(ids.shape[0], np.int64)
    _context_counts(starts, sizes, counts)
    used = np.flatnonzero(counts)
    order = used[np.lexsort((rng.random(used.size), counts[used]))]
    place = np.empty(ids.shape[0], np.int64)
    place[order] = np.arange(order.size)
    top = int(counts.max()) if counts.size else 0
    per_group = np.bincount(counts[used], minlength=top + 1)
    group_start = np.concatenate([[0], np.cumsum(per_group)[:-1]])
    widths = np.arange(top + 1) * (1 + num_noise)
    column_start = np.concatenate([[0], np.cumsum(per_group * widths)[:-1]])
    centers = np.empty(order.size, np.int64)
    columns = np.empty(int((per_group * widths).sum()), np.int64)
    _skipgram_rows(ids, starts, sizes, counts, int(num_noise),
                   np.ascontiguousarray(accept, dtype=np.float64),
                   np.ascontiguousarray(alias, dtype=np.int64), int(seed), place, group_start,
                   column_start, centers, columns)
    groups = {}
    for n in range(1, top + 1):
        if per_group[n]:
            rows = slice(group_start[n], group_start[n] + per_group[n])
            block = columns[column_start[n]:column_start[n] + per_group[n] * widths[n]]
            groups[n] = (centers[rows], block.reshape(per_group[n], widths[n]))
    return groups
