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

    __slots__ = ("fn", "parents", "slots", "shapes", "saved", "versions", "__dict__",
                 "__weakref__")
    hooks = None        # {output slot: [hook, ...]} once a hook is registered
    outputs = None      # (shape, dtype) per output, for multi-output ops only

    def __init__(self, fn):
        self.fn = fn
        self.saved = ()

    @property
    def needs_input_grad(self):
        """Per positional input: does it need a gradient (a Tensor that requires grad, with
        grad mode on)? Check it before computing an expensive gradient."""
        return tuple([parent is not None for parent in self.parents])

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
        self.__dict__.clear()
        self.saved = FREED


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
        parents = []             # per input: the node its gradient flows into, or None
        record = False
        grad_enabled = _grad_mode.enabled
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if grad_enabled and a.requires_grad:
                    record = True
                    parents.append(a.grad_fn or a._accumulator())
                    continue
            else:
                arrays.append(a)
            parents.append(None)
        ctx.parents = tuple(parents)
        result = cls.forward(ctx, *arrays, **kwargs)
        if type(result) is tuple:
            return _wrap_many(ctx, args, parents, result, record)
        if type(result) is not np.ndarray:
            result = np.asarray(result)
        version = args[0]._version if cls.is_view else None
        if not record or result.dtype.kind != "f":   # integer/bool outputs carry no gradient
            return wrap(result, False, None, 0, version)
        out = wrap(result, True, ctx, 0, version)
        _record(ctx, args, parents, result.shape, (out,))
        return out


def _wrap_many(ctx, args, parents, results, record):
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
    _record(ctx, args, parents, None, outs)
    return tuple(outs)


def _record(ctx, args, parents, out_shape, outs):
    """Fill in the tape fields of `ctx`: the shapes to reduce broadcast gradients to (only
    where an input's shape differs from the output's; None when none does), the output slot
    of each multi-output parent, and the version of every saved array owned by a Tensor."""
    shapes = None
    slots = None
    for i, parent in enumerate(parents):
        if parent is not None:
            a = args[i]
            if a.data.shape != out_shape:
                if shapes is None:
                    shapes = [None] * len(args)
                shapes[i] = a.data.shape
            if a._slot:
                if slots is None:
                    slots = [0] * len(args)
                slots[i] = a._slot
    ctx.shapes = shapes
    ctx.slots = slots
    versions = None
    for array in ctx.saved:
        for t in args:
            if isinstance(t, Tensor) and t.data is array:
                break
        else:
            for t in outs:
                if t.data is array:
                    break
            else:
                continue
        if versions is None:
            versions = []
        versions.append((t._version, t._version[0]))
    ctx.versions = versions
