"""Every Function subclass in the library appears in the op registry."""
import importlib
import pkgutil

import autograd
import autograd.ops
from autograd import Function
from autograd.opinfo import OPS


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _import_library():
    for package in ("autograd.ops", "nn"):
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)


def test_every_function_is_registered():
    _import_library()
    registered = {f for op in OPS for f in op.functions}
    library = [cls for cls in _all_subclasses(Function)
               if cls.__module__.split(".")[0] in ("autograd", "nn", "zoo", "kernels")]
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in library if c not in registered)
    assert not missing, f"Function subclasses missing from autograd/opinfo: {missing}"


def test_registry_names_are_unique():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names))


def test_tensor_methods_exist():
    from autograd.tensor import _OP_METHODS
    missing = [name for name in _OP_METHODS if not hasattr(autograd.ops, name)]
    assert not missing, f"Tensor methods without an op: {missing}"
