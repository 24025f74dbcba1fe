"""Checkpoints: `save(obj, path)` and `load(path)` for state dicts, optimizer state dicts and
any nesting of dicts, lists and tuples over arrays, Tensors, numbers, strings and None.

Format (version 1). A checkpoint is an uncompressed `.npz` archive (a zip of `.npy` files):
    __tapegrad_checkpoint__.npy   uint8 bytes of a UTF-8 JSON header
    a0.npy, a1.npy, ...           the arrays, one member each, in any numeric or bool dtype
The header is {"format": "tapegrad-checkpoint", "version": 1, "root": NODE}, where a NODE is
    null, true/false, a JSON number or string      the Python value itself
    {"float": "nan" | "inf" | "-inf"}              a non-finite Python float
    {"array": "a3"}                                a numpy array (member a3)
    {"tensor": "a3", "requires_grad": b, "parameter": b}   a Tensor or an nn.Parameter
    {"scalar": "a3"}                               a numpy scalar (a 0-d member)
    {"list": [NODE, ...]}, {"tuple": [NODE, ...]}
    {"dict": [[KEY, NODE], ...]}                   KEY a string or an int, order kept
Reading uses `np.load(..., allow_pickle=False)`, so loading a file never executes code.

Writing is atomic: the archive goes to a temporary file in the target's directory, is flushed
and fsync'ed, then renamed over the target with `os.replace`. A crash mid-save leaves the
previous checkpoint intact (and possibly a stray `.<name>.*.tmp` file).

Any problem with a file (not a zip, truncated, corrupted, no header, another format or a
newer version) raises one `CheckpointError` naming the file and the problem.
"""
import json
import math
import os
import tempfile
import zipfile

import numpy as np

from autograd.tensor import Tensor
from nn.parameter import Parameter

__all__ = ["save", "load", "CheckpointError", "FORMAT_VERSION"]

FORMAT = "tapegrad-checkpoint"
FORMAT_VERSION = 1
HEADER = "__tapegrad_checkpoint__"


class CheckpointError(ValueError):
    """A file that is not a readable tapegrad checkpoint."""


def _encode(obj, arrays, path):
    """The JSON node for `obj`; arrays are appended to `arrays` and named by position."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, Tensor):
        name = _add_array(obj.data, arrays, path)
        return {"tensor": name, "requires_grad": bool(obj.requires_grad),
                "parameter": isinstance(obj, Parameter)}
    if isinstance(obj, np.ndarray):
        return {"array": _add_array(obj, arrays, path)}
    if isinstance(obj, np.generic):
        return {"scalar": _add_array(np.asarray(obj), arrays, path)}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (str, int, np.integer)):
                raise TypeError(f"save: dict key {key!r} at {path} is a "
                                f"{type(key).__name__}; checkpoint keys are strings or ints")
            key = key if isinstance(key, str) else int(key)
            items.append([key, _encode(value, arrays, f"{path}[{key!r}]")])
        return {"dict": items}
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {path}; a checkpoint holds "
                    f"dicts, lists and tuples of arrays, Tensors, numbers, strings and None")


def _add_array(array, arrays, path):
    if array.dtype.kind not in "biuf":
        raise TypeError(f"save: the array at {path} has dtype {array.dtype}; a checkpoint "
                        f"holds numeric and bool arrays only")
    name = f"a{len(arrays)}"
    arrays.append(array)
    return name


def save(obj, path):
    """Write `obj` (e.g. `{"model": model.state_dict(), "optimizer": opt.state_dict(),
    "epoch": 3}`) to `path` atomically, in the format described in this module."""
    path = os.fspath(path)
    arrays = []
    root = _encode(obj, arrays, "the root")
    header = json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "root": root})
    members = {HEADER: np.frombuffer(header.encode("utf-8"), dtype=np.uint8)}
    members.update((f"a{i}", a) for i, a in enumerate(arrays))
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:    # make the rename itself durable; not every platform can open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _decode(node, archive, path):
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, list) or not isinstance(node, dict) or len(node) < 1:
        raise CheckpointError(f"load: {path}: the header holds an invalid entry {node!r}")
    if "float" in node:
        return float(node["float"])
    if "array" in node:
        return _member(archive, node["array"], path)
    if "scalar" in node:
        return _member(archive, node["scalar"], path)[()]
    if "tensor" in node:
        data = _member(archive, node["tensor"], path)
        if node.get("parameter"):
            return Parameter(data, requires_grad=bool(node.get("requires_grad")))
        return Tensor(data, requires_grad=bool(node.get("requires_grad")))
    if "list" in node:
        return [_decode(v, archive, path) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive, path) for v in node["tuple"])
    if "dict" in node:
        return {key: _decode(value, archive, path) for key, value in node["dict"]}
    raise CheckpointError(f"load: {path}: the header holds an unknown entry {node!r}")


def _member(archive, name, path):
    if not isinstance(name, str) or name not in archive.files:
        raise CheckpointError(f"load: {path} is corrupted: the header refers to an array "
                              f"{name!r} that the file does not hold")
    return archive[name]


def _corrupted(path, error):
    return CheckpointError(f"load: {path} is truncated or corrupted ({error}); the file "
                           f"cannot be read")


def load(path):
    """Read a checkpoint written by `save`; arrays come back as numpy arrays, Tensors and
    Parameters as such. Never executes code from the file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        if magic[:2] == b"PK" or magic == b"":
            raise _corrupted(path, "empty file" if magic == b"" else "bad zip signature")
        raise CheckpointError(f"load: {path} is not a tapegrad checkpoint (not an .npz "
                              f"archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if HEADER not in archive.files:
                raise CheckpointError(f"load: {path} is an .npz archive but not a tapegrad "
                                      f"checkpoint (it has no {HEADER} header)")
            try:
                header = json.loads(bytes(archive[HEADER]).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise _corrupted(path, f"unreadable header: {error}") from None
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CheckpointError(f"load: {path} is not a tapegrad checkpoint (its header "
                                      f"names no {FORMAT!r} format)")
            version = header.get("version")
            if version != FORMAT_VERSION:
                raise CheckpointError(f"load: {path} has checkpoint format version "
                                      f"{version!r}; this tapegrad reads version "
                                      f"{FORMAT_VERSION}")
            if "root" not in header:
                raise _corrupted(path, "the header has no root entry")
            return _decode(header["root"], archive, path)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError,
            KeyError) as error:
        raise _corrupted(path, f"{type(error).__name__}: {error}") from None
