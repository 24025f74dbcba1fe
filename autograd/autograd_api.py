"""`backward` and `grad`: the public entry points to the tape."""
import numpy as np

from autograd.sparse import RowSparse
from autograd.tape import run_backward
from autograd.tensor import Tensor


def _root_gradients(outputs, grad_outputs, op):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    roots, grads = [], []
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"{op}: element {i} of the outputs does not require grad and "
                               f"has no grad_fn (was it computed under no_grad, or from "
                               f"tensors without requires_grad=True?)")
        if grad is None:
            if out.data.size != 1:
                raise RuntimeError(f"{op}: a gradient can be created implicitly only for a "
                                   f"scalar output; output {i} has shape {out.data.shape}, "
                                   f"so pass gradient= of that shape")
            grad = np.ones_like(out.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
            if grad.shape != out.data.shape:
                raise RuntimeError(f"{op}: gradient of shape {grad.shape} does not match "
                                   f"output {i} of shape {out.data.shape}")
            grad = grad.astype(out.data.dtype, copy=False)
        roots.append((out.grad_fn, out._slot) if out.grad_fn is not None
                     else (out._accumulator(), 0))
        grads.append(grad)
    return roots, grads


def backward(tensors, grad_tensors=None, retain_graph=False, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into the `.grad` of every leaf they depend on."""
    if create_graph:
        raise NotImplementedError("backward(create_graph=True): higher-order gradients are "
                                  "not supported; tapegrad computes first derivatives only")
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...): use autograd.grad(outputs, inputs)")
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    roots, grads = _root_gradients(tensors, grad_tensors, "backward")
    run_backward(roots, grads, retain_graph=retain_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, create_graph=False,
         allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple of Tensors;
    no `.grad` is touched."""
    if create_graph:
        raise NotImplementedError("grad(create_graph=True): higher-order gradients are not "
                                  "supported; tapegrad computes first derivatives only")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    keys = []
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
        keys.append((t.grad_fn, t._slot) if t.grad_fn is not None else (t._accumulator(), 0))
    capture = dict.fromkeys(keys)
    roots, grads = _root_gradients(outputs, grad_outputs, "grad")
    run_backward(roots, grads, retain_graph=retain_graph, capture=capture)
    results = []
    for i, (key, t) in enumerate(zip(keys, inputs)):
        g = capture[key]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {i} was not used to compute the outputs; "
                                   f"pass allow_unused=True to get None for it")
            results.append(None)
        else:
            if isinstance(g, RowSparse):     # grad() returns dense Tensors
                g = g.to_dense()
            results.append(Tensor(np.array(g, dtype=t.data.dtype)))
    return tuple(results)
