"""Module: the base class of every layer and model, with PyTorch's registration rules.

Assigning a `Parameter` or a `Module` to an attribute registers it, in declaration order;
buffers (running statistics and other state that is saved but not learned) are registered
with `register_buffer`. Registered objects are also ordinary instance attributes, so reading
`self.weight` costs a plain attribute lookup.

`state_dict()` maps dotted names ("0.weight", "encoder.fc.bias") to the numpy arrays the
parameters and persistent buffers hold: the arrays themselves, not copies (PyTorch's state
dict likewise shares memory with the module), so copy them to keep a snapshot. A parameter
tied to several modules appears under each of its names there, as in PyTorch, but only once
in `parameters()`. `load_state_dict` accepts numpy arrays, Tensors, or anything numpy can read
(e.g. `{k: v.numpy() for k, v in torch_model.state_dict().items()}`) and copies the values
into the existing arrays in place, so optimizers built on the parameters keep working.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from autograd import dtypes
from autograd.tensor import Tensor
from nn.parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by the hook registrations; `remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Module:
    """Base class of all layers and models.

    Subclasses call `super().__init__()` first, assign their Parameters and sub-Modules as
    attributes, and define `forward`. Calling the module runs the forward pre-hooks,
    `forward` and the forward hooks.
    """

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = {}          # dicts keep declaration order
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}
        d["training"] = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in the "
                                  f"subclass")

    def __call__(self, *args, **kwargs):
        if not self._forward_hooks and not self._forward_pre_hooks:
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ---- registration
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning '{name}'")
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, (Parameter, Module)):
            table = params if isinstance(value, Parameter) else modules
            for other in (params, buffers, modules):
                if other is not table:
                    other.pop(name, None)
            d["_non_persistent"].discard(name)
            table[name] = value            # a re-assigned name keeps its place in the order
        elif name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a Parameter; assign a "
                                f"Parameter or None, not {type(value).__name__}")
            params[name] = None
        elif name in buffers:
            buffers[name] = self._as_buffer(name, value)
            value = buffers[name]
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a sub-module; assign a "
                                f"Module or None, not {type(value).__name__}")
            modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        d = self.__dict__
        for table in (d["_parameters"], d["_buffers"], d["_modules"]):
            table.pop(name, None)
        d["_non_persistent"].discard(name)
        object.__delattr__(self, name)

    def _as_buffer(self, name, value):
        if value is None or isinstance(value, Tensor):
            return value
        if isinstance(value, (np.ndarray, list, tuple, int, float, bool, np.number)):
            return Tensor(value)
        raise TypeError(f"{type(self).__name__}: buffer '{name}' must be a Tensor, a numpy "
                        f"array or None, got {type(value).__name__}")

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: {kind} name must be a string, got "
                            f"{type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{type(self).__name__}: {kind} name {name!r} must be non-empty "
                           f"and contain no '.'")
        if name in self.__dict__ and name not in self._parameters and \
                name not in self._buffers and name not in self._modules:
            raise KeyError(f"{type(self).__name__}: attribute '{name}' already exists")

    def register_buffer(self, name, tensor, persistent=True):
        """Register state that is not learned (e.g. running statistics). A numpy array is
        wrapped in a Tensor sharing its memory; persistent buffers go into the state dict."""
        self._check_name(name, "buffer")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{type(self).__name__}: '{name}' is already a parameter or module")
        self._buffers[name] = self._as_buffer(name, tensor)
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, self._buffers[name])

    def register_parameter(self, name, param):
        """Register a Parameter (or None: a declared but absent parameter, e.g. no bias)."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}: register_parameter('{name}') needs a "
                            f"Parameter or None, got {type(param).__name__}")
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name, module):
        """Register a sub-module under `name` (same as assigning it as an attribute)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: add_module('{name}') needs a Module or "
                            f"None, got {type(module).__name__}")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at a dotted path such as "encoder.layers.0" ("" is self)."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module '{part}' "
                                     f"(looking up '{target}')")
            module = child
        return module

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter '{name}'")
        return module._parameters[name]

    # ---- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted path, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                path = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, path, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, table, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for path, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:           # tied weights are yielded once
                        continue
                    seen.add(id(value))
                yield (f"{path}.{name}" if path else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs in registration order; a tied parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and bulk updates
    def train(self, mode=True):
        """Set training mode (dropout active, batch statistics) on this module and all
        descendants; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self):
        """Evaluation mode: same as `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (the default), or to zeros in place (a
        row-sparse gradient becomes empty, as PyTorch's sparse zero_() makes it)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    def apply(self, fn):
        """Call `fn(module)` on every sub-module (children first) and on self; returns self.
        The usual use is custom initialisation."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype):
        """Convert floating-point parameters, their gradients and buffers to `dtype`. The
        Parameter objects stay the same (each gets a new array), so references to them, e.g.
        an optimizer's, remain valid."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None and p.data.dtype.kind == "f" and p.data.dtype != dtype:
                    p.data = p.data.astype(dtype)
                    if p.grad is not None:
                        p.grad.data = p.grad.data.astype(dtype)
            for b in module._buffers.values():
                if b is not None and b.data.dtype.kind == "f" and b.data.dtype != dtype:
                    b.data = b.data.astype(dtype)
        return self

    def float(self):
        return self._cast(dtypes.float32)

    def double(self):
        return self._cast(dtypes.float64)

    def to(self, *args, **kwargs):
        """`to(dtype)`, `to("cpu")` or `to(device=..., dtype=...)`; any device other than
        the CPU is an error."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, str) and not a.startswith(("float", "double", "torch.")):
                device = a
            else:
                dtype = a
        dtypes.check_device(device, f"{type(self).__name__}.to")
        if dtype is not None:
            dtype = dtypes.resolve(dtype, f"{type(self).__name__}.to")
            if dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.to: only floating-point dtypes, got "
                                f"{dtype}")
            self._cast(dtype)
        return self

    def cpu(self):
        return self

    def type(self, dtype):
        return self.to(dtype)

    # ---- hooks
    def register_forward_hook(self, hook):
        """Call `hook(module, args, output)` after every forward; a non-None result
        replaces the output. Returns a handle whose `remove()` unregisters it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook):
        """Call `hook(module, args)` before every forward; a non-None result replaces the
        positional arguments (a tuple, or a single value)."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ---- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """OrderedDict of dotted name -> numpy array (the parameters' and persistent buffers'
        own arrays, not copies; `keep_vars=True` gives the Tensors instead)."""
        if destination is None:
            destination = OrderedDict()
        for path, module in self.named_modules(prefix=prefix.rstrip("."),
                                               remove_duplicate=False):
            base = f"{path}." if path else ""
            for name, p in module._parameters.items():
                if p is not None:
                    destination[base + name] = p if keep_vars else p.data
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    destination[base + name] = b if keep_vars else b.data
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of `state_dict` into this module's parameters and buffers, in
        place. Every missing, unexpected and wrongly-shaped key is reported in one error
        (missing and unexpected keys only when `strict`; a shape mismatch always).
        Returns (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got "
                            f"{type(state_dict).__name__}")
        targets = self.state_dict(keep_vars=True)
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        values = {}
        mismatched = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.data.shape:
                mismatched.append(f"{key}: checkpoint shape {tuple(array.shape)}, model shape "
                                  f"{tuple(target.data.shape)}")
            elif not np.can_cast(array.dtype, target.data.dtype, casting="same_kind"):
                mismatched.append(f"{key}: checkpoint dtype {array.dtype} cannot be stored in "
                                  f"the model's {target.data.dtype}")
            else:
                values[key] = array
        errors = []
        if strict and missing:
            errors.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            errors.append(f"unexpected keys: {', '.join(unexpected)}")
        if mismatched:
            errors.append("wrong shapes or dtypes: " + "; ".join(mismatched))
        if errors:
            raise RuntimeError(f"{type(self).__name__}.load_state_dict: the state dict does "
                               f"not match the model:\n  " + "\n  ".join(errors))
        for key, array in values.items():      # array copies: nothing is recorded on the tape
            target = targets[key]
            if array is not target.data:
                np.copyto(target.data, array, casting="same_kind")
                target._version[0] += 1
        return IncompatibleKeys(missing, unexpected)

    # ---- repr
    def extra_repr(self):
        """The text inside this module's parentheses (its configuration); override it."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        head = type(self).__name__ + "("
        if not lines:
            return head + ")"
        if not self._modules and len(lines) == 1:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
