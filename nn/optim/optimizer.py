"""Optimizer: parameter groups, per-parameter state, and the one loop over the parameters.

A subclass names its defaults and supplies `_update(param, grad, state, group)`, which calls
one fused kernel of `kernels/optim.py` on the arrays in place. `step()` is the only loop: it
walks the groups, skips parameters without a gradient, runs under `no_grad`, and bumps each
updated parameter's version counter (a graph that saved it notices the change). A subclass
declares which gradients its rule takes (`dense_gradients`, `sparse_gradients`: the row-sparse
gradient of an Embedding with sparse=True); `step()` refuses any other before it changes a
parameter.

State is keyed by a parameter's position in the optimizer (groups in order, parameters in
order within each group), assigned once as parameters are added, never by `id(p)`, so
`state_dict()` is a plain nested dict of arrays and numbers that a checkpoint can hold:

    {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
     "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

which mirrors `torch.optim.Optimizer.state_dict()` (its state tensors become arrays).
"""
import numpy as np

from autograd.grad_mode import enable_grad, no_grad
from autograd.sparse import RowSparse
from autograd.tensor import Tensor


class Optimizer:
    """Base class of the optimizers.

    Args:
        params: an iterable of Tensors (parameters requiring grad), or of dicts, each a
            parameter group `{"params": [...], "lr": ..., ...}` whose options override the
            defaults (e.g. a pretrained body at lr and a new head at 10 lr).
        defaults: the options every group starts from.

    `params` may also be (name, Tensor) pairs, e.g. `model.named_parameters()`: the group
    then keeps the names as "param_names", and errors name the parameter.
    """

    # the gradients `_update` takes: dense arrays, row-sparse ones (RowSparse), or both
    dense_gradients = True
    sparse_gradients = False

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        self._positions = {}            # id(param) -> position, to refuse duplicates
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            f"of dicts, got a single Tensor (wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (missing ones from the defaults)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}.add_param_group: the group has no 'params'")
        params = [params] if isinstance(params, Tensor) else list(params)
        if params and isinstance(params[0], tuple):
            if "param_names" in group or not all(
                    isinstance(pair, tuple) and len(pair) == 2 for pair in params):
                raise TypeError(f"{name}: named parameters must all be (name, Tensor) pairs, "
                                f"with no separate 'param_names'")
            group["param_names"] = [str(n) for n, _ in params]
            params = [p for _, p in params]
        names = group.get("param_names")
        if names is not None and len(names) != len(params):
            raise ValueError(f"{name}: {len(names)} param_names for {len(params)} parameters")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(p).__name__}")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{name}: parameter {i} of the group has dtype "
                                f"{p.data.dtype}; only float tensors can be optimized")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i} of "
                                 f"the group was computed by an op); use .detach() and "
                                 f"requires_grad_()")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter appears twice in one parameter group")
        if any(id(p) in self._positions for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        unknown = sorted(k for k in group if k not in self.defaults
                         and k not in ("params", "param_names", "initial_lr"))
        if unknown:
            raise TypeError(f"{name}: unknown option(s) {unknown} in a parameter group; the "
                            f"options are {sorted(self.defaults)}")
        if group.get("lr", 0.0) < 0:
            raise ValueError(f"{name}: invalid learning rate {group['lr']} in a parameter "
                             f"group (must be >= 0)")
        start = sum(len(g["params"]) for g in self.param_groups)
        for i, p in enumerate(params):
            self._positions[id(p)] = start + i
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default, frees the memory), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()          # a RowSparse becomes empty, as in PyTorch

    def step(self, closure=None):
        """Update every parameter that has a gradient. `closure`, if given, re-evaluates the
        model and returns the loss (it runs with grad enabled); its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_gradients()
        with no_grad():
            position = 0
            for group in self.param_groups:
                params = group["params"]
                for i, p in enumerate(params):
                    grad = p.grad
                    if grad is None:
                        continue
                    state = self.state.get(position + i)
                    if state is None:
                        state = self.state[position + i] = {}
                    data = p.data
                    if data.flags.c_contiguous:
                        self._update(data, grad.data, state, group)
                    else:                   # a strided parameter: update a copy, write back
                        work = np.ascontiguousarray(data)
                        self._update(work, grad.data, state, group)
                        data[...] = work
                    p._version[0] += 1
                position += len(params)
        return loss

    def _check_gradients(self):
        """Refuse a gradient of a kind the update rule does not take, naming the parameter."""
        for g, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                sparse = isinstance(p.grad, RowSparse)
                if sparse and not self.sparse_gradients:
                    raise RuntimeError(
                        f"{self._describe(g, i)} has a row-sparse gradient (an Embedding or "
                        f"EmbeddingBag with sparse=True), and {type(self).__name__} does not "
                        f"support sparse gradients; optimize it with SGD, Adagrad or "
                        f"SparseAdam, or make the layer dense (sparse=False)")
                if not sparse and not self.dense_gradients:
                    raise RuntimeError(
                        f"{self._describe(g, i)} has a dense gradient, and "
                        f"{type(self).__name__} takes only row-sparse gradients (an Embedding "
                        f"with sparse=True); optimize it with a dense optimizer such as Adam")

    def _describe(self, g, i):
        """'Adam: parameter 'fc.weight' of group 0 (shape (3, 4))', for error messages."""
        group = self.param_groups[g]
        names = group.get("param_names")
        which = repr(names[i]) if names else str(i)
        return (f"{type(self).__name__}: parameter {which} of group {g} (shape "
                f"{tuple(group['params'][i].data.shape)})")

    def _update(self, param, grad, state, group):
        """Update `param` (an array) in place from `grad` (an array or a RowSparse) and the
        parameter's `state` dict (empty before its first step)."""
        raise NotImplementedError

    def state_dict(self):
        """The optimizer's state and options as a plain nested dict (arrays are copies)."""
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(packed)
        state = {position: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                            for k, v in entry.items()}
                 for position, entry in sorted(self.state.items())}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a `state_dict()`: the groups must match this optimizer's in number and
        size; their options and every parameter's state are copied in (arrays cast to the
        parameter's dtype)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and "
                             f"'param_groups', got {keys}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has "
                             f"{len(saved_groups)} parameter groups, the optimizer "
                             f"{len(self.param_groups)}")
        mapping = {}
        params = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict and "
                                 f"{len(group['params'])} in the optimizer")
            for key, p in zip(saved["params"], group["params"]):
                mapping[key] = len(params)
                params.append(p)
        state = {}
        for key, entry in state_dict["state"].items():
            if key not in mapping:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key!r}, which "
                                 f"no parameter group lists")
            p = params[mapping[key]]
            restored = {}
            for k, v in entry.items():
                if isinstance(v, Tensor):
                    v = v.data
                if isinstance(v, np.ndarray) and v.ndim and v.dtype.kind == "f":
                    if v.shape != p.data.shape:
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter "
                                         f"{key!r} has shape {v.shape}, the parameter "
                                         f"{p.data.shape}")
                    v = np.array(v, dtype=p.data.dtype, copy=True)
                elif isinstance(v, np.ndarray):
                    v = v.copy() if v.ndim else v.item()
                restored[k] = v
            state[mapping[key]] = restored
        for saved, group in zip(saved_groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(v, list) and k == "betas" else v
        self.state = state
