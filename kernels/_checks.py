"""Input checks for kernel wrappers: raise one clear error naming the op and the values,
before a jitted loop could see a bad input (and fail with a typing traceback)."""
import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def expect_float(op, name, array):
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {array.dtype}")


def expect_dtype(op, name, array, dtype, shape=None):
    if array.dtype != np.dtype(dtype):
        raise TypeError(f"{op}: {name} must be {np.dtype(dtype)}, got {array.dtype}")
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"{op}: {name} must have shape {tuple(shape)}, got {array.shape}")


def expect_ndim(op, name, array, *ndims):
    if array.ndim not in ndims:
        want = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{op}: {name} must be {want}-D, got shape {array.shape}")


def expect_same_dtype(op, **arrays):
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{n} {d}" for n, d in dtypes.items())
        raise TypeError(f"{op}: inputs must share one dtype, got {listed}")


def expect_same_shape(op, **arrays):
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{n} {s}" for n, s in shapes.items())
        raise ValueError(f"{op}: inputs must have the same shape, got {listed}")


def expect_indices(op, name, indices, size):
    """int64 indices in [-size, size) (negative counted from the end, as numpy and PyTorch)."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer (int64) array, got {indices.dtype}")
    if indices.size and (indices.min() < -size or indices.max() >= size):
        raise IndexError(f"{op}: {name} out of range for size {size}: "
                         f"min {indices.min()}, max {indices.max()}")
