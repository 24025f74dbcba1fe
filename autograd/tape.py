"""The tape: reverse-mode traversal of the recorded graph.

`run_backward` runs the nodes that receive a gradient from the newest down (each node's
creation number `seq` is larger than its inputs', so a node runs only after every node that
sends it a gradient; iterative, so a 100 000-op chain is fine). It sums the gradients arriving
at each node, reduces broadcast gradients to the input's shape (the only place this happens),
runs hooks, writes `.grad` of leaves once every node has run, and frees each node's saved
arrays as soon as its backward ran, unless `retain_graph=True`. It raises, naming the op, on a
freed graph and on a saved array that an in-place op modified.
"""
import math
from heapq import heappop, heappush, heappushpop

import numpy as np

from autograd.function import FREED, AccumulateGrad
from autograd.grad_mode import state as _grad_mode
from autograd.sparse import RowSparse
from autograd.tensor import Tensor, wrap


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing numpy broadcasting."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    if summed.size != math.prod(shape):
        raise RuntimeError(f"backward: a gradient of shape {grad.shape} cannot be reduced "
                           f"to its input's shape {shape}")
    return summed.reshape(shape)


def _add_to_slot(grads, node, slot, grad):
    """Sum `grad` into the buffer of output `slot` of the multi-output `node`; True if the node
    had no gradient before."""
    if node.outputs is None:        # freed by an earlier backward
        raise _freed_error(node)
    buffer = grads.get(node)
    if buffer is None:
        buffer = grads[node] = [None] * len(node.outputs)
        buffer[slot] = grad
        return True
    old = buffer[slot]
    buffer[slot] = grad if old is None else old + grad
    return False


def _run_hooks(hooks, grad):
    for hook in hooks:
        result = hook(wrap(grad, False, None, 0, None))
        if result is not None:
            grad = result.data if isinstance(result, Tensor) else np.asarray(result)
    return grad


def _check_finite(node, index, grad):
    if isinstance(grad, RowSparse):
        grad = grad.values
    finite = np.isfinite(grad)
    if not finite.all():
        bad = np.unravel_index(int(np.argmin(finite)), grad.shape) if grad.ndim else ()
        raise RuntimeError(
            f"detect_anomaly: {node.name}.backward returned a non-finite gradient for its "
            f"input {index} at index {tuple(int(i) for i in bad)}: {grad[bad]!r}")


def _freed_error(node):
    return RuntimeError(
        f"{node.name}.backward: the graph was freed by an earlier backward(); pass "
        f"retain_graph=True to that call, or detach() the state carried from one "
        f"iteration to the next (e.g. an RNN's hidden state between batches)")


def _modified_error(node, counter, version):
    return RuntimeError(
        f"{node.name}.backward: a tensor it saved was modified by an in-place "
        f"operation (its version is {counter[0]}, {version} was saved); "
        f"use an out-of-place op or clone() the tensor first")


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """Backpropagate `root_grads` from `roots` ((node, slot) pairs).

    With `capture` (a dict {(node, slot): None}), the gradient reaching each captured output
    is stored in it and no leaf's `.grad` is touched (this is `autograd.grad`)."""
    grads = {}      # node -> its summed gradient (a list per slot for multi-output nodes)
    leaves = []     # AccumulateGrad nodes that received a gradient, in order of arrival
    waiting = []    # heap of (-seq, node): nodes with a gradient, not yet run
    # ids of gradient arrays that more than one holder may see (the caller's root gradients,
    # arrays a hook saw, arrays a backward passed to several inputs): a leaf copies these
    # before keeping one as its `.grad`; any other array it takes over without a copy.
    shared = set()
    for (node, slot), grad in zip(roots, root_grads):
        shared.add(id(grad))
        if node.outputs is not None:
            if _add_to_slot(grads, node, slot, grad):
                heappush(waiting, (-node.seq, node))
            continue
        old = grads.get(node)
        grads[node] = grad if old is None else old + grad
        if old is None:
            if type(node) is AccumulateGrad:
                leaves.append(node)
            else:
                heappush(waiting, (-node.seq, node))
    anomaly = _grad_mode.anomaly
    node = heappop(waiting)[1] if waiting else None
    while node is not None:
        grad = grads.pop(node)
        if node.saved is FREED:
            raise _freed_error(node)
        versions = node.versions
        if versions is not None:
            for counter, version in versions:
                if counter[0] != version:
                    raise _modified_error(node, counter, version)
        if node.plain and capture is None:
            grads_in = node.fn.backward(node, grad)
        else:
            grads_in = _general_backward(node, grad, capture, shared)
        parents = node.parents
        if type(grads_in) is not tuple:
            if len(parents) != 1:
                raise _count_error(node, 1)
            grads_in = (grads_in,)
        elif len(grads_in) != len(parents):
            raise _count_error(node, len(grads_in))
        elif len(grads_in) == 2:
            if grads_in[0] is grads_in[1] and grads_in[0] is not None:
                shared.add(id(grads_in[0]))         # the same array for both inputs (x + x)
        elif len(grads_in) > 2:
            _mark_repeated(grads_in, shared)
        if not node.plain or anomaly:
            grads_in = _prepare(node, grads_in, anomaly)
        following = None     # the first node this one gave its first gradient
        i = 0
        for parent in parents:             # (zip costs more than this loop on 1-2 inputs)
            grad_in = grads_in[i]
            i += 1
            if parent is None or grad_in is None:
                continue
            if type(grad_in) is tuple:            # (slot, gradient) for a multi-output parent
                if _add_to_slot(grads, parent, grad_in[0], grad_in[1]):
                    if following is None:
                        following = parent
                    else:
                        heappush(waiting, (-parent.seq, parent))
                continue
            old = grads.get(parent)
            if old is not None:
                grads[parent] = old + grad_in
                continue
            grads[parent] = grad_in
            if type(parent) is AccumulateGrad:
                leaves.append(parent)
            elif following is None:
                following = parent
            else:
                heappush(waiting, (-parent.seq, parent))
        if not retain_graph:         # drop the saved arrays and the op's attributes
            node.saved = FREED
            node.__dict__.clear()
        if following is None:
            node = heappop(waiting)[1] if waiting else None
        elif waiting and waiting[0][0] < -following.seq:
            node = heappushpop(waiting, (-following.seq, following))[1]
        else:
            node = following
    for leaf in leaves:
        _accumulate_leaf(leaf, grads.pop(leaf), capture, shared, retain_graph)


def _general_backward(node, grad, capture, shared):
    """A node's backward with output hooks, gradient capture (grad()) and several outputs."""
    multi = node.outputs is not None
    if node.hooks is not None or capture is not None:
        grad = _output_hooks(node, grad, multi, capture)
        shared.update(map(id, grad) if multi else (id(grad),))
    if not multi:
        return node.fn.backward(node, grad)
    grad = [g if g is not None or meta is None else np.zeros(meta[0], meta[1])
            for g, meta in zip(grad, node.outputs)]
    return node.fn.backward(node, *grad)


def _count_error(node, count):
    return RuntimeError(f"{node.name}.backward returned {count} gradients for "
                        f"{len(node.parents)} inputs")


def _prepare(node, grads_in, anomaly):
    """The gradients of a node's inputs as the edge loop takes them: reduced to each input's
    shape, checked for non-finite values in anomaly mode, and paired with the output slot
    of a multi-output parent."""
    shapes = node.shapes
    slots = node.slots
    prepared = list(grads_in)
    for i, (parent, grad_in) in enumerate(zip(node.parents, grads_in)):
        if parent is None or grad_in is None:
            continue
        if shapes is not None and shapes[i] is not None and grad_in.shape != shapes[i]:
            grad_in = unbroadcast(grad_in, shapes[i])
        if anomaly:
            _check_finite(node, i, grad_in)
        if slots is not None and slots[i] is not None:
            grad_in = (slots[i], grad_in)
        prepared[i] = grad_in
    return prepared


def _mark_repeated(grads_in, shared):
    """Add to `shared` the arrays a backward returned for more than one input (x + x)."""
    for i, a in enumerate(grads_in):
        if a is not None:
            for b in grads_in[i + 1:]:
                if a is b:
                    shared.add(id(a))


def _output_hooks(node, grad, multi, capture):
    """Run the hooks registered on this node's output tensors, and capture for grad()."""
    if multi:
        grad = list(grad)
        for slot in range(len(grad)):
            if grad[slot] is not None:
                if node.hooks and slot in node.hooks:
                    grad[slot] = _run_hooks(node.hooks[slot], grad[slot])
                if capture is not None and (node, slot) in capture:
                    capture[(node, slot)] = grad[slot]
        return grad
    if node.hooks and 0 in node.hooks:
        grad = _run_hooks(node.hooks[0], grad)
    if capture is not None and (node, 0) in capture:
        capture[(node, 0)] = grad
    return grad


def _accumulate_leaf(node, grad, capture, shared, retain_graph):
    """Add `grad` into the leaf's `.grad`, taking the array over when no other holder can see
    it (`shared`: ids of arrays others may hold; a retained graph may return saved arrays)."""
    tensor = node.tensor_ref()
    copy = retain_graph or id(grad) in shared
    if node.hooks:
        grad = _run_hooks(node.hooks, grad)
        copy = True
    if capture is not None:
        if (node, 0) in capture:
            capture[(node, 0)] = grad
        return
    if tensor is None:
        return
    if grad.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.data.dtype)
    if isinstance(grad, RowSparse) or isinstance(tensor.grad, RowSparse):
        _accumulate_sparse(tensor, grad, copy, shared)
    elif tensor.grad is None:
        # the optimizer or clip_grad_norm_ may change `.grad` in place
        if copy or not grad.flags.owndata or not grad.flags.writeable:
            grad = grad.copy()
        tensor.grad = wrap(grad, False, None, 0, None)
    else:
        tensor.grad.data = tensor.grad.data + grad


def _accumulate_sparse(tensor, grad, copy, shared):
    """A row-sparse gradient stays sparse in `.grad` (an embedding table's optimizer then
    touches only those rows); mixed with a dense one it becomes dense. A fresh row-sparse
    gradient that no other holder can see becomes `.grad` without a copy."""
    old = tensor.grad
    if old is None:
        if copy or not _private_sparse(grad, shared):
            grad = grad.copy()
        tensor.grad = grad
    elif isinstance(old, RowSparse) and isinstance(grad, RowSparse):
        tensor.grad = old + grad
    elif isinstance(old, RowSparse):
        tensor.grad = wrap(old + grad, False, None, 0, None)          # grad is dense
    else:
        tensor.grad = wrap(grad + old.data, False, None, 0, None)     # grad is sparse


def _private_sparse(grad, shared):
    """Whether no other holder can see the arrays of a RowSparse (read in the form it is in,
    so scaled rows are not built): none is read-only, and neither it nor its base is an
    array another holder saw (a root gradient, an array a hook saw or a backward passed on
    twice)."""
    arrays = grad.scaled_rows if grad.scaled_rows is not None else (grad.indices, grad.values)
    for array in arrays:
        if (not array.flags.writeable or id(array) in shared
                or (array.base is not None and id(array.base) in shared)):
            return False
    return True
