"""The dtypes tapegrad supports, their PyTorch-style names, and argument checking for them."""
import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

SUPPORTED = (float32, float64, int64, bool_)
DEFAULT_FLOAT = float32

_ALIASES = {"float": float32, "float32": float32, "double": float64, "float64": float64,
            "long": int64, "int64": int64, "bool": bool_}


def resolve(dtype, op="tensor"):
    """A supported numpy dtype from a dtype, a name ('float32', 'long') or a Python type."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype.startswith("torch."):
            dtype = dtype[len("torch."):]
        if dtype not in _ALIASES:
            raise TypeError(f"{op}: unknown dtype {dtype!r}; use one of float32, float64, "
                            f"int64, bool")
        return _ALIASES[dtype]
    if dtype is float:          # Python's float means the default float, as in PyTorch
        return float32
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}; use one of float32, float64, "
                        f"int64, bool") from None
    if resolved not in SUPPORTED:
        raise TypeError(f"{op}: dtype {resolved} is not supported; tapegrad has float32, "
                        f"float64, int64 and bool")
    return resolved


def check_device(device, op="tensor"):
    """tapegrad runs on the CPU only: any other device is a clear error, not a silent move."""
    if device is None:
        return
    name = str(device)
    if name != "cpu" and not name.startswith("cpu:"):
        raise RuntimeError(f"{op}: device {name!r} is not available; tapegrad runs on the "
                           f"CPU only (device='cpu')")


def default_array(data, dtype=None, op="tensor"):
    """numpy array from Python data with PyTorch's inference: Python floats become float32,
    ints int64, bools bool; numpy arrays keep their float32/float64 dtype; other integer
    widths become int64, float16 becomes float32."""
    dtype = resolve(dtype, op)
    if isinstance(data, np.ndarray):
        array = data
    else:
        array = np.asarray(data)
        if array.dtype.kind == "f" and dtype is None:
            array = array.astype(DEFAULT_FLOAT)
    if array.dtype == object:
        raise TypeError(f"{op}: cannot build a tensor from {type(data).__name__} "
                        f"(ragged or non-numeric data)")
    if dtype is None:
        kind = array.dtype.kind
        if kind == "f":
            dtype = array.dtype if array.dtype in SUPPORTED else float32
        elif kind in "iu":
            dtype = int64
        elif kind == "b":
            dtype = bool_
        else:
            raise TypeError(f"{op}: dtype {array.dtype} is not supported; tapegrad has "
                            f"float32, float64, int64 and bool")
    return array.astype(dtype, copy=False)
