"""Function: the op contract, and `apply`, the one place where the tape is recorded.

An op subclasses `Function` with two static methods over numpy arrays:
`forward(ctx, *arrays, **attrs) -> array | tuple of arrays` and
`backward(ctx, *grad_outputs) -> one gradient (or None) per positional input`.
`Function.apply(*args, **attrs)` unwraps Tensors, runs `forward` off the tape, wraps the result,
and only when grad mode is on and an input requires a gradient records one `Node`. The Node is
the ctx, so ops keep what their backward needs on it (`ctx.save_for_backward`, or attributes).
Gradients may come back in the broadcast shape: the tape sums them to each input's shape.
"""
import numpy as np

from autograd.grad_mode import state as _grad_mode
from autograd.tensor import Tensor, wrap

FREED = ("freed",)   # `Node.saved` after a backward without retain_graph


class Node:
    """One recorded op: the ctx of its forward, then the tape's node for its backward."""

    __slots__ = ("fn", "parents", "slots", "shapes", "saved", "versions", "needs_input_grad",
                 "hooks", "outputs", "__dict__", "__weakref__")

    def __init__(self, fn):
        self.fn = fn
        self.saved = ()
        self.hooks = None
        self.outputs = None     # (shape, dtype) per output, for multi-output ops only

    def save_for_backward(self, *arrays):
        """Keep arrays for backward; they are version-checked if they belong to a Tensor."""
        self.saved = arrays

    def mark_non_differentiable(self, *arrays):
        self.__dict__["non_differentiable"] = arrays

    @property
    def name(self):
        return self.fn.__name__

    def __repr__(self):
        return f"<{self.fn.__name__}Backward>"

    def free(self):
        """Drop everything the backward kept (saved arrays, op attributes)."""
        self.saved = FREED
        self.__dict__.clear()


class AccumulateGrad:
    """The node of a leaf tensor: backward adds its gradient into `tensor.grad`. It holds the
    tensor weakly, so a graph never keeps its parameters' owners alive through a cycle."""

    __slots__ = ("tensor_ref", "hooks", "__weakref__")
    parents = ()

    def __init__(self, tensor_ref):
        self.tensor_ref = tensor_ref
        self.hooks = None

    @property
    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


def _edge(t):
    """The node a gradient for tensor `t` flows into (its grad_fn, or its leaf accumulator)."""
    node = t.grad_fn
    if node is not None:
        return node
    return t._accumulator()


class Function:
    """Base class of every differentiable op, built-in or user-defined (PyTorch's API)."""

    is_view = False   # True when forward returns a view of input 0 (shares its version counter)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = Node(cls)
        arrays = []
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                needs.append(a.requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        record = _grad_mode.enabled and True in needs
        ctx.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        result = cls.forward(ctx, *arrays, **kwargs)
        if type(result) is tuple:
            return _wrap_many(cls, ctx, args, result, record)
        if type(result) is not np.ndarray:
            result = np.asarray(result)
        version = args[0]._version if cls.is_view else None
        if not record or result.dtype.kind != "f":   # integer/bool outputs carry no gradient
            return wrap(result, False, None, 0, version)
        out = wrap(result, True, ctx, 0, version)
        _record(ctx, args, needs, result.shape, (out,))
        return out


def _wrap_many(cls, ctx, args, results, record):
    results = tuple(r if type(r) is np.ndarray else np.asarray(r) for r in results)
    if not record:
        return tuple(wrap(r, False, None, 0, None) for r in results)
    non_diff = ctx.__dict__.get("non_differentiable", ())
    outs = []
    for slot, r in enumerate(results):
        differentiable = r.dtype.kind == "f" and not any(r is nd for nd in non_diff)
        outs.append(wrap(r, differentiable, ctx if differentiable else None, slot, None))
    ctx.outputs = tuple((r.shape, r.dtype) if o.requires_grad else None
                        for r, o in zip(results, outs))
    _record(ctx, args, [isinstance(a, Tensor) and a.requires_grad for a in args], None, outs)
    return tuple(outs)


def _record(ctx, args, needs, out_shape, outs):
    """Fill in the tape fields of `ctx`: the edges to the inputs, the shapes to reduce
    broadcast gradients to, and the version of every saved array owned by a Tensor."""
    parents = []
    shapes = []
    slots = None
    for i, a in enumerate(args):
        if needs[i]:
            parents.append(_edge(a))
            shapes.append(a.data.shape if a.data.shape != out_shape else None)
            if a._slot:
                slots = slots or [0] * len(args)
                slots[i] = a._slot
        else:
            parents.append(None)
            shapes.append(None)
    ctx.parents = tuple(parents)
    ctx.shapes = tuple(shapes)
    ctx.slots = slots
    versions = None
    if ctx.saved:
        owners = [a for a in args if isinstance(a, Tensor)]
        owners.extend(outs)
        for array in ctx.saved:
            for t in owners:
                if t.data is array:
                    versions = versions or []
                    versions.append((t._version, t._version[0]))
                    break
    ctx.versions = versions
