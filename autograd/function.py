"""Function: the op contract, and `apply`, the one place where the tape is recorded.

An op subclasses `Function` with two static methods over numpy arrays:
`forward(ctx, *arrays, **attrs) -> array | tuple of arrays` and
`backward(ctx, *grad_outputs) -> one gradient (or None) per positional input`.
`Function.apply(*args, **attrs)` unwraps Tensors, runs `forward` off the tape, wraps the result,
and only when grad mode is on and an input requires a gradient records one `Node`. The Node is
the ctx, so ops keep what their backward needs on it (`ctx.save_for_backward`, or attributes).
Gradients may come back in the broadcast shape: the tape sums them to each input's shape.

Recording costs about as much as the op's kernel on a small array, so the common calls take
paths specialised by arity: one Tensor (with optional constant arguments after it) and two
Tensors. Everything else (kwargs, three or more Tensors, Tensors after constants) takes the
general path; all paths record the same Node.
"""
import itertools

import numpy as np

from autograd.grad_mode import state as _grad_mode
from autograd.tensor import Tensor

FREED = ("freed",)   # `Node.saved` after a backward without retain_graph

_new = object.__new__
# Creation order of recorded nodes: a node's inputs are always older than the node, so the
# tape runs nodes from the newest down and each one's gradient is complete when it runs.
_next_seq = itertools.count().__next__


class _NeedsInputGrad:
    """`ctx.needs_input_grad`: per positional input, does it need a gradient (a Tensor that
    requires grad, with grad mode on)? Check it before computing an expensive gradient.
    Computed on first use and then kept in the node's `__dict__`, which a non-data
    descriptor lets shadow it."""

    def __get__(self, node, owner=None):
        if node is None:
            return self
        needs = node.__dict__["needs_input_grad"] = tuple([p is not None for p in node.parents])
        return needs


class Node:
    """One recorded op: the ctx of its forward, then the tape's node for its backward."""

    __slots__ = ("fn", "parents", "saved", "versions", "seq", "__dict__", "__weakref__")
    # Rarer fields, as class defaults; setting any of the first four clears `plain`, which
    # sends the node down the tape's general path.
    shapes = None       # per input: the shape to sum a broadcast gradient down to, or None
    slots = None        # per input: which output of its multi-output parent it is, or None
    hooks = None        # {output slot: [hook, ...]} once a hook is registered
    outputs = None      # (shape, dtype) per output, for multi-output ops only
    plain = True        # none of the above

    needs_input_grad = _NeedsInputGrad()

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


class AccumulateGrad:
    """The node of a leaf tensor: backward adds its gradient into `tensor.grad`. It holds the
    tensor weakly, so a graph never keeps its parameters' owners alive through a cycle."""

    __slots__ = ("tensor_ref", "hooks", "__weakref__")
    parents = ()
    outputs = None

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
        if not kwargs:
            n = len(args)
            if n == 1:
                if isinstance(args[0], Tensor):
                    return apply1(cls, args[0])
            elif n == 2:
                if isinstance(args[0], Tensor):
                    if isinstance(args[1], Tensor):
                        return apply2(cls, args[0], args[1])
                    return apply1(cls, args[0], args[1])
        return _apply(cls, args, kwargs)


def apply1(cls, x, *consts):
    """`cls.apply(x, *consts)` for a Tensor x and non-Tensor constants (numbers, arrays,
    None, options), which get no gradient."""
    node = _new(Node)
    node.fn = cls
    node.saved = ()
    data = x.data
    if not (x.requires_grad and _grad_mode.enabled):
        node.parents = (None,) * (1 + len(consts))
        y = cls.forward(node, data, *consts)
        return _constant(y, node, (x,) + consts, x._version if cls.is_view else None)
    parent = x.grad_fn or x._leaf or x._accumulator()
    if consts:
        node.parents = (parent,) + (None,) * len(consts)
        y = cls.forward(node, data, *consts)
    else:
        node.parents = (parent,)
        y = cls.forward(node, data)
    if type(y) is not np.ndarray:
        if type(y) is tuple:
            return _wrap_many(node, (x,) + consts, y, True)
        y = np.asarray(y)
    if y.dtype is not data.dtype and y.dtype.kind != "f":   # integer/bool outputs: no grad
        return _plain(y, x._version if cls.is_view else None)
    out = _new(Tensor)
    out.data = y
    out.requires_grad = True
    out.grad_fn = node
    version = out._version = x._version if cls.is_view else [0]
    node.seq = _next_seq()
    if data.shape != y.shape:
        node.shapes = (data.shape,) + (None,) * len(consts)
        node.plain = False
    if parent.outputs is not None:
        node.slots = (x._slot,) + (None,) * len(consts)
        node.plain = False
    versions = None
    for array in node.saved:
        if array is data:
            counter = x._version
        elif array is y:
            counter = version
        else:
            continue
        if versions is None:
            versions = ((counter, counter[0]),)
        else:
            versions += ((counter, counter[0]),)
    node.versions = versions
    return out


def apply2(cls, a, b):
    """`cls.apply(a, b)` for two Tensors."""
    node = _new(Node)
    node.fn = cls
    node.saved = ()
    a_data = a.data
    b_data = b.data
    if _grad_mode.enabled:
        pa = (a.grad_fn or a._leaf or a._accumulator()) if a.requires_grad else None
        pb = (b.grad_fn or b._leaf or b._accumulator()) if b.requires_grad else None
    else:
        pa = pb = None
    node.parents = (pa, pb)
    y = cls.forward(node, a_data, b_data)
    if pa is None and pb is None:
        return _constant(y, node, (a, b), a._version if cls.is_view else None)
    if type(y) is not np.ndarray:
        if type(y) is tuple:
            return _wrap_many(node, (a, b), y, True)
        y = np.asarray(y)
    if y.dtype is not a_data.dtype and y.dtype.kind != "f":
        return _plain(y, a._version if cls.is_view else None)
    out = _new(Tensor)
    out.data = y
    out.requires_grad = True
    out.grad_fn = node
    version = out._version = a._version if cls.is_view else [0]
    node.seq = _next_seq()
    shape = y.shape
    if (pa is not None and a_data.shape != shape) or (pb is not None and b_data.shape != shape):
        node.shapes = (a_data.shape if pa is not None and a_data.shape != shape else None,
                       b_data.shape if pb is not None and b_data.shape != shape else None)
        node.plain = False
    a_multi = pa is not None and pa.outputs is not None
    b_multi = pb is not None and pb.outputs is not None
    if a_multi or b_multi:
        node.slots = (a._slot if a_multi else None, b._slot if b_multi else None)
        node.plain = False
    versions = None
    for array in node.saved:
        if array is a_data:
            counter = a._version
        elif array is b_data:
            counter = b._version
        elif array is y:
            counter = version
        else:
            continue
        if versions is None:
            versions = ((counter, counter[0]),)
        else:
            versions += ((counter, counter[0]),)
    node.versions = versions
    return out


def _plain(array, version):
    """A Tensor without history around `array` (sharing `version` for a view)."""
    t = _new(Tensor)
    t.data = array
    t.requires_grad = False
    t.grad_fn = None
    t._version = [0] if version is None else version
    return t


def _constant(result, node, args, version):
    """The output(s) of an op that recorded nothing."""
    if type(result) is np.ndarray:
        return _plain(result, version)
    if type(result) is tuple:
        return _wrap_many(node, args, result, False)
    return _plain(np.asarray(result), version)


def _apply(cls, args, kwargs):
    """The general path: any mix of Tensors and constants, keyword attributes."""
    ctx = _new(Node)
    ctx.fn = cls
    ctx.saved = ()
    arrays = []
    parents = []             # per input: the node its gradient flows into, or None
    record = False
    grad_enabled = _grad_mode.enabled
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a.data)
            if grad_enabled and a.requires_grad:
                record = True
                parents.append(a.grad_fn or a._leaf or a._accumulator())
                continue
        else:
            arrays.append(a)
        parents.append(None)
    ctx.parents = tuple(parents)
    result = cls.forward(ctx, *arrays, **kwargs)
    version = args[0]._version if cls.is_view else None
    if not record:
        return _constant(result, ctx, args, version)
    if type(result) is tuple:
        return _wrap_many(ctx, args, result, True)
    if type(result) is not np.ndarray:
        result = np.asarray(result)
    if result.dtype.kind != "f":
        return _plain(result, version)
    out = _new(Tensor)
    out.data = result
    out.requires_grad = True
    out.grad_fn = ctx
    out._version = [0] if version is None else version
    _record(ctx, args, result.shape, (out,))
    return out


def _wrap_many(ctx, args, results, record):
    results = tuple(r if type(r) is np.ndarray else np.asarray(r) for r in results)
    if not record:
        return tuple(_plain(r, None) for r in results)
    non_diff = ctx.__dict__.get("non_differentiable", ())
    outs = []
    for slot, r in enumerate(results):
        differentiable = r.dtype.kind == "f" and not any(r is nd for nd in non_diff)
        out = _plain(r, None)
        if differentiable:
            out.requires_grad = True
            out.grad_fn = ctx
            if slot:
                out._slot = slot
        outs.append(out)
    ctx.outputs = tuple((r.shape, r.dtype) if o.requires_grad else None
                        for r, o in zip(results, outs))
    ctx.plain = False
    _record(ctx, args, None, outs)
    return tuple(outs)


def _record(ctx, args, out_shape, outs):
    """Fill in the tape fields of `ctx`: its creation order, the shapes to reduce broadcast
    gradients to (only where an input's shape differs from the output's), the output slot
    taken from each multi-output parent, and the version of every saved array owned by a Tensor."""
    ctx.seq = _next_seq()
    shapes = None
    slots = None
    for i, parent in enumerate(ctx.parents):
        if parent is not None:
            a = args[i]
            if a.data.shape != out_shape:
                if shapes is None:
                    shapes = [None] * len(args)
                shapes[i] = a.data.shape
            if parent.outputs is not None:
                if slots is None:
                    slots = [None] * len(args)
                slots[i] = a._slot
    if shapes is not None:
        ctx.shapes = shapes
        ctx.plain = False
    if slots is not None:
        ctx.slots = slots
        ctx.plain = False
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
