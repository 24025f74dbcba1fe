"""The tape: reverse-mode traversal of the recorded graph.

`run_backward` visits nodes in reverse topological order (Kahn's algorithm, iterative, so a
100 000-op chain is fine), sums the gradients arriving at each node, reduces broadcast
gradients to the input's shape (the only place this happens), runs hooks, writes `.grad` of
leaves, and frees each node's saved arrays as soon as its backward ran, unless
`retain_graph=True`. It raises, naming the op, on a freed graph and on a saved array that an
in-place op modified.
"""
import math

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


def backward_order(roots):
    """Nodes ordered so that each runs after every node that sends it a gradient."""
    pending = {}
    stack = list(dict.fromkeys(roots))      # several outputs of one node may all be roots
    seen = set(stack)
    while stack:                                   # count the consumers of each node
        node = stack.pop()
        for parent in node.parents:
            if parent is not None:
                pending[parent] = pending.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    ready = [r for r in dict.fromkeys(roots) if r not in pending]
    order = []
    while ready:                                   # a node is ready once all its consumers ran
        node = ready.pop()
        order.append(node)
        for parent in node.parents:
            if parent is not None:
                pending[parent] -= 1
                if pending[parent] == 0:
                    ready.append(parent)
    return order


def _add_grad(grads, node, slot, grad):
    """Sum `grad` into the buffer of `node`'s output `slot` (never in place: arrays are shared)."""
    if isinstance(node, AccumulateGrad) or node.outputs is None:
        old = grads.get(node)
        grads[node] = grad if old is None else old + grad
        return
    buffer = grads.get(node)
    if buffer is None:
        buffer = grads[node] = [None] * len(node.outputs)
    old = buffer[slot]
    buffer[slot] = grad if old is None else old + grad


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


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """Backpropagate `root_grads` from `roots` ((node, slot) pairs).

    With `capture` (a dict {(node, slot): None}), the gradient reaching each captured output
    is stored in it and no leaf's `.grad` is touched (this is `autograd.grad`)."""
    grads = {}
    # ids of gradient arrays that more than one holder may see (the caller's root gradients,
    # arrays a hook saw, arrays a backward passed to several inputs): a leaf copies these
    # before keeping one as its `.grad`; any other array it takes over without a copy.
    shared = set()
    for (node, slot), grad in zip(roots, root_grads):
        shared.add(id(grad))
        _add_grad(grads, node, slot, grad)
    anomaly = _grad_mode.anomaly
    for node in backward_order([node for node, _ in roots]):
        grad = grads.pop(node, None)
        if grad is None:
            continue
        if isinstance(node, AccumulateGrad):
            _accumulate_leaf(node, grad, capture, retain_graph or id(grad) in shared)
            continue
        if node.saved is FREED:
            raise RuntimeError(
                f"{node.name}.backward: the graph was freed by an earlier backward(); pass "
                f"retain_graph=True to that call, or detach() the state carried from one "
                f"iteration to the next (e.g. an RNN's hidden state between batches)")
        if node.versions is not None:
            for counter, version in node.versions:
                if counter[0] != version:
                    raise RuntimeError(
                        f"{node.name}.backward: a tensor it saved was modified by an in-place "
                        f"operation (its version is {counter[0]}, {version} was saved); "
                        f"use an out-of-place op or clone() the tensor first")
        multi = node.outputs is not None
        if node.hooks is not None or capture is not None:
            grad = _output_hooks(node, grad, multi, capture)
            shared.update(map(id, grad) if multi else (id(grad),))
        if multi:
            grad = [g if g is not None or meta is None else np.zeros(meta[0], meta[1])
                    for g, meta in zip(grad, node.outputs)]
            grads_in = node.fn.backward(node, *grad)
        else:
            grads_in = node.fn.backward(node, grad)
        if type(grads_in) is not tuple:
            grads_in = (grads_in,)
        if len(grads_in) != len(node.parents):
            raise RuntimeError(f"{node.name}.backward returned {len(grads_in)} gradients for "
                               f"{len(node.parents)} inputs")
        if len(grads_in) > 1:
            _mark_repeated(grads_in, shared)
        slots = node.slots
        shapes = node.shapes
        for i, (parent, grad_in) in enumerate(zip(node.parents, grads_in)):
            if parent is None or grad_in is None:
                continue
            if shapes is not None and shapes[i] is not None and grad_in.shape != shapes[i]:
                grad_in = unbroadcast(grad_in, shapes[i])
            if anomaly:
                _check_finite(node, i, grad_in)
            _add_grad(grads, parent, slots[i] if slots else 0, grad_in)
        if not retain_graph:
            node.free()


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


def _accumulate_leaf(node, grad, capture, shared):
    tensor = node.tensor_ref()
    if node.hooks:
        grad = _run_hooks(node.hooks, grad)
        shared = True
    if capture is not None:
        if (node, 0) in capture:
            capture[(node, 0)] = grad
        return
    if tensor is None:
        return
    if grad.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.data.dtype)
    if isinstance(grad, RowSparse) or isinstance(tensor.grad, RowSparse):
        _accumulate_sparse(tensor, grad)
    elif tensor.grad is None:
        # keep the array itself when nothing else can see it (a fresh kernel output);
        # the optimizer or clip_grad_norm_ may change `.grad` in place
        if shared or not grad.flags.owndata or not grad.flags.writeable:
            grad = grad.copy()
        tensor.grad = wrap(grad, False, None, 0, None)
    else:
        tensor.grad.data = tensor.grad.data + grad


def _accumulate_sparse(tensor, grad):
    """A row-sparse gradient stays sparse in `.grad` (an embedding table's optimizer then
    touches only those rows); mixed with a dense one it becomes dense."""
    old = tensor.grad
    if old is None:
        tensor.grad = grad.copy()
    elif isinstance(old, RowSparse) and isinstance(grad, RowSparse):
        tensor.grad = old + grad
    elif isinstance(old, RowSparse):
        tensor.grad = wrap(old + grad, False, None, 0, None)          # grad is dense
    else:
        tensor.grad = wrap(grad + old.data, False, None, 0, None)     # grad is sparse
