"""Tensor: a numpy array, its gradient, and its place on the tape. Nothing numeric happens
here: every operator and method forwards to an op in `autograd.ops`."""
import weakref

import numpy as np

from autograd import dtypes
from autograd.grad_mode import state as _grad_mode


class Tensor:
    """An n-dimensional array that can record the ops applied to it, PyTorch-style.

    `data` is the numpy array (float32 by default; float64, int64 and bool too), `grad` the
    accumulated gradient (a Tensor or None), `grad_fn` the node of the op that made it (None
    for leaves). Views made by reshape/transpose/slicing share their base's version counter,
    so an in-place change through either is seen by every saved array."""

    # Set on every tensor; the rarer fields live in `__dict__` with these class defaults, so
    # making the output of an op costs four attribute writes.
    __slots__ = ("data", "requires_grad", "grad_fn", "_version", "__dict__", "__weakref__")
    grad = None
    _slot = 0                     # which output of its grad_fn (multi-output ops)
    _leaf = None                  # a leaf's AccumulateGrad node, made on first use
    _retains_grad = False
    __array_priority__ = 1000     # numpy scalars and arrays defer to Tensor's reflected ops

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = dtypes.default_array(data, dtype)
        self.grad_fn = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- metadata
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        return "cpu"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _ops.transpose(self, -2, -1)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python scalar, got shape {self.data.shape}")
        return self.data.reshape(()).item()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy(): the tensor requires grad; call detach().numpy()")
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements "
                               f"is ambiguous")
        return bool(self.data.reshape(()))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        data = self.data
        kwargs = {"separator": ", ", "prefix": "tensor("}
        if data.dtype.kind == "f" and data.size and not np.all(np.isfinite(data) &
                                                                (data == np.round(data))):
            kwargs.update(precision=4, floatmode="fixed")
        text = "tensor(" + np.array2string(data, **kwargs)
        if data.size == 0:
            text += f", size={data.shape}"
        if data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            text += f", dtype={data.dtype}"
        if self.grad_fn is not None:
            text += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            text += ", requires_grad=True"
        return text + ")"

    # ---- the tape
    def _accumulator(self):
        """This leaf's AccumulateGrad node, made once and held by the tensor."""
        node = self._leaf
        if node is None:
            from autograd.function import AccumulateGrad
            node = self._leaf = AccumulateGrad(weakref.ref(self))
        return node

    def requires_grad_(self, requires_grad=True):
        if not self.is_leaf:
            if requires_grad:
                return self
            raise RuntimeError("requires_grad_(False): only leaf tensors can stop requiring "
                               "grad; use detach()")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating-point tensors can require "
                               f"gradients, got {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def __deepcopy__(self, memo):
        """A new leaf with copies of the data and the gradient (the default deep copy would
        carry over the leaf's accumulator, which feeds the original tensor)."""
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf tensors can be deep-copied; detach() or "
                               "clone() a computed tensor instead")
        copy = type(self).__new__(type(self))
        copy.data = self.data.copy()
        copy.grad_fn = None
        copy._version = [0]
        copy.requires_grad = self.requires_grad
        if self.grad is not None:
            copy.grad = wrap(self.grad.data.copy(), False, None, 0, None)
        memo[id(self)] = copy
        return copy

    def detach(self):
        """The same data (shared, like PyTorch), cut from the tape."""
        return wrap(self.data, False, None, 0, self._version)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep `.grad` of this non-leaf tensor after backward (leaves keep it anyway)."""
        if self.is_leaf or self._retains_grad:
            return
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad")
        self._retains_grad = True
        ref = weakref.ref(self)

        def store(grad):
            tensor = ref()
            if tensor is not None:
                if tensor.grad is None:
                    tensor.grad = wrap(grad.data.copy(), False, None, 0, None)
                else:
                    tensor.grad.data = tensor.grad.data + grad.data
        self.register_hook(store)

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle with `remove()`."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        if self.grad_fn is None:
            node = self._accumulator()
            if node.hooks is None:
                node.hooks = []
            hooks = node.hooks
        else:
            node = self.grad_fn
            if node.hooks is None:
                node.hooks = {}
                node.plain = False
            hooks = node.hooks.setdefault(self._slot, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=False, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`."""
        from autograd.autograd_api import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)

    def _assign_inplace(self, result, op):
        """Finish an in-place op: copy `result` into this tensor's buffer (so views see it),
        bump the version counter, and take over `result`'s place on the tape."""
        if _grad_mode.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in "
                               f"place; do it under no_grad() or use the out-of-place op")
        self._check_writable(op)
        if result.data.dtype != self.data.dtype and not np.can_cast(
                result.data.dtype, self.data.dtype, casting="same_kind"):
            raise RuntimeError(f"{op}: result type {result.data.dtype} cannot be stored in a "
                               f"{self.data.dtype} tensor in place")
        node = result.grad_fn
        if node is not None and node.saved:
            # the op may have saved this very buffer, which is about to be overwritten
            node.saved = tuple(a.copy() if a is self.data else a for a in node.saved)
        if self.data.shape != result.data.shape:
            raise RuntimeError(f"{op}: an in-place result of shape {result.data.shape} does "
                               f"not fit a tensor of shape {self.data.shape}")
        np.copyto(self.data, result.data, casting="unsafe")
        self._version[0] += 1
        if node is not None:
            self.grad_fn = node
            self._slot = result._slot
            self.requires_grad = True
        return self

    def _check_writable(self, op):
        if not self.data.flags.writeable:
            raise RuntimeError(f"{op}: this tensor is a read-only view (an expand() or "
                               f"broadcast_to() result); clone() it before writing to it")

    # ---- conversions
    def to(self, dtype=None, device=None, copy=False):
        if isinstance(dtype, str) and dtype.startswith(("cpu", "cuda", "mps")):
            dtype, device = None, dtype
        dtypes.check_device(device, "to")
        dtype = dtypes.resolve(dtype, "to")
        if dtype is None or dtype == self.data.dtype:
            return self.clone() if copy else self
        return _ops.cast(self, dtype)

    def type(self, dtype):
        return self.to(dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def long(self):
        return self.to(dtypes.int64)

    def bool(self):
        return self.to(dtypes.bool_)

    def cpu(self):
        return self

    def clone(self):
        return _ops.clone(self)

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_contiguous(self):
        return self.data.flags.c_contiguous

    # ---- operators (`x + y` and the other binary operators are the ops themselves, bound
    # below, so an operator costs no call of its own)
    def __pos__(self):
        return self

    def __radd__(self, other):
        return _ops.add(other, self)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __iadd__(self, other):
        return self._assign_inplace(_ops.add(self, other), "add_")

    def __isub__(self, other):
        return self._assign_inplace(_ops.sub(self, other), "sub_")

    def __imul__(self, other):
        return self._assign_inplace(_ops.mul(self, other), "mul_")

    def __itruediv__(self, other):
        return self._assign_inplace(_ops.div(self, other), "div_")

    def __ipow__(self, other):
        return self._assign_inplace(_ops.pow(self, other), "pow_")

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        value_requires_grad = isinstance(value, Tensor) and value.requires_grad
        if not _grad_mode.enabled or not (self.requires_grad or value_requires_grad):
            self._check_writable("__setitem__")          # nothing to record: write directly
            if isinstance(index, Tensor):
                index = index.data
            self.data[index] = value.data if isinstance(value, Tensor) else value
            self._version[0] += 1
            return
        self._assign_inplace(_ops.setitem(self, index, value), "__setitem__")

    # ---- in-place methods
    def add_(self, other, alpha=1):
        return self._assign_inplace(_ops.add(self, other if alpha == 1 else other * alpha),
                                    "add_")

    def sub_(self, other, alpha=1):
        return self._assign_inplace(_ops.sub(self, other if alpha == 1 else other * alpha),
                                    "sub_")

    def mul_(self, other):
        return self._assign_inplace(_ops.mul(self, other), "mul_")

    def div_(self, other):
        return self._assign_inplace(_ops.div(self, other), "div_")

    def clamp_(self, min=None, max=None):
        return self._assign_inplace(_ops.clamp(self, min, max), "clamp_")

    def relu_(self):
        return self._assign_inplace(_ops.relu(self), "relu_")

    def masked_fill_(self, mask, value):
        return self._assign_inplace(_ops.masked_fill(self, mask, value), "masked_fill_")

    def copy_(self, src):
        src = src if isinstance(src, Tensor) else Tensor(src)
        return self._assign_inplace(_ops.expand(_ops.cast(src, self.data.dtype),
                                                self.data.shape), "copy_")

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if _grad_mode.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError("fill_: a leaf tensor that requires grad cannot be modified in "
                               "place; do it under no_grad()")
        self.data[...] = value
        self._version[0] += 1
        if self.grad_fn is not None:     # the values no longer depend on the history
            self.grad_fn = None
            self.requires_grad = False
        return self

    def uniform_(self, a=0.0, b=1.0):
        from autograd.random import generator
        return self._fill_random(generator().uniform(a, b, self.data.shape), "uniform_")

    def normal_(self, mean=0.0, std=1.0):
        from autograd.random import generator
        return self._fill_random(generator().normal(mean, std, self.data.shape), "normal_")

    def _fill_random(self, values, op):
        if _grad_mode.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in "
                               f"place; do it under no_grad()")
        self.data[...] = values
        self._version[0] += 1
        return self


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def wrap(data, requires_grad, grad_fn, slot, version):
    """A Tensor around `data` without any conversion (the hot path of every op)."""
    t = _new(Tensor)
    t.data = data
    t.requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._version = [0] if version is None else version
    if slot:
        t._slot = slot
    return t


_new = object.__new__


# Tensor methods that are the op of the same name with the tensor as first argument; bound
# once the op library is loaded (it imports this module).
_OP_METHODS = (
    "neg abs exp log log1p expm1 sqrt rsqrt square reciprocal sin cos tanh sigmoid relu "
    "leaky_relu relu6 elu selu gelu silu softplus hardsigmoid hardtanh sign clamp clip pow "
    "add sub mul div maximum minimum eq ne lt le gt ge logical_not logical_and logical_or "
    "sum mean prod max min amax amin argmax argmin var std logsumexp norm cumsum "
    "softmax log_softmax matmul mm bmm outer "
    "reshape view flatten squeeze unsqueeze transpose permute expand broadcast_to contiguous "
    "split chunk unbind flip repeat tile gather scatter_add index_select masked_fill "
    "take_along_dim view_as reshape_as expand_as t isnan isinf isfinite all any"
).split()

from autograd import ops as _ops  # noqa: E402  (the ops import Tensor)

for _name in _OP_METHODS:
    if hasattr(_ops, _name):
        setattr(Tensor, _name, getattr(_ops, _name))
for _name, _op in [("__neg__", "neg"), ("__abs__", "abs"), ("__add__", "add"),
                   ("__sub__", "sub"), ("__mul__", "mul"), ("__truediv__", "div"),
                   ("__pow__", "pow"), ("__matmul__", "matmul")]:
    setattr(Tensor, _name, getattr(_ops, _op))
