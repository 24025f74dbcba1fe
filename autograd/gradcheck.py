"""gradcheck: compare the tape's gradients with central finite differences, in float64.

The scalar checked is <cotangent, f(x)> with a random cotangent (never `.sum()`, whose
gradient cannot see a wrong softmax or normalisation backward). The error reported is the
relative error ||g_num - g|| / (||g_num|| + ||g||). Inputs with more than `max_elements`
elements are checked along random directions instead of element by element.
"""
import numpy as np

from autograd.autograd_api import grad
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor


class GradcheckError(AssertionError):
    pass


def _outputs(result):
    outs = result if isinstance(result, (tuple, list)) else (result,)
    return [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]


def _objective(fn, args, kwargs, cotangents):
    with no_grad():
        outs = _outputs(fn(*args, **kwargs))
    return sum(float(np.vdot(c, o.data)) for c, o in zip(cotangents, outs))


def relative_error(numeric, analytic):
    denominator = np.linalg.norm(numeric) + np.linalg.norm(analytic)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(numeric - analytic) / denominator)


def gradcheck(fn, inputs, kwargs=None, wrt=None, eps=1e-6, tol=1e-6, seed=0,
              max_elements=2000, directions=6, raise_exception=True):
    """Check d<c, fn(*inputs)>/d(inputs[i]) for every i in `wrt` (default: every float
    input). Float inputs are converted to float64 Tensors. Returns the largest relative error,
    or raises GradcheckError naming the input when it exceeds `tol`."""
    kwargs = kwargs or {}
    rng = np.random.default_rng(seed)
    args = []
    for a in inputs:
        data = a.data if isinstance(a, Tensor) else a
        if isinstance(data, np.ndarray) and data.dtype.kind == "f":
            # a float64 array is used as it is, so a strided sample stays strided
            args.append(Tensor(data.astype(np.float64, copy=data.dtype != np.float64)))
        else:
            args.append(a)
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if isinstance(a, Tensor) and
               a.data.dtype.kind == "f"]
    for i in wrt:
        args[i].requires_grad_(True)
    outs = _outputs(fn(*args, **kwargs))
    if not outs:
        raise GradcheckError("gradcheck: the function returned no floating-point tensor")
    cotangents = [rng.standard_normal(o.data.shape) for o in outs]
    differentiable = [o for o in outs if o.requires_grad]
    analytic = [None] * len(wrt)
    if differentiable:
        used = [c for c, o in zip(cotangents, outs) if o.requires_grad]
        analytic = list(grad(differentiable, [args[i] for i in wrt], grad_outputs=used,
                             allow_unused=True))
    worst = 0.0
    for k, i in enumerate(wrt):
        x = args[i]
        g = np.zeros_like(x.data) if analytic[k] is None else analytic[k].data
        if g.shape != x.data.shape:
            raise GradcheckError(f"gradcheck: gradient of input {i} has shape {g.shape}, "
                                 f"the input has {x.data.shape}")
        base = x.data.copy()
        if x.data.size <= max_elements:
            numeric = np.zeros_like(base)
            for index in np.ndindex(base.shape):     # in place, so strided inputs stay strided
                x.data[index] = base[index] + eps
                plus = _objective(fn, args, kwargs, cotangents)
                x.data[index] = base[index] - eps
                minus = _objective(fn, args, kwargs, cotangents)
                x.data[index] = base[index]
                numeric[index] = (plus - minus) / (2 * eps)
            ana = g
        else:
            numeric = np.empty(directions)
            ana = np.empty(directions)
            for j in range(directions):
                d = rng.standard_normal(base.shape)
                d /= np.linalg.norm(d)
                x.data[...] = base + eps * d
                plus = _objective(fn, args, kwargs, cotangents)
                x.data[...] = base - eps * d
                minus = _objective(fn, args, kwargs, cotangents)
                x.data[...] = base
                numeric[j] = (plus - minus) / (2 * eps)
                ana[j] = np.vdot(g, d)
        error = relative_error(numeric, ana)
        worst = max(worst, error)
        if error > tol and raise_exception:
            where = ""
            if numeric.shape == ana.shape and numeric.size and ana.shape == base.shape:
                j = int(np.argmax(np.abs(numeric - ana)))
                idx = np.unravel_index(j, base.shape) if base.ndim else ()
                where = (f"; worst element {tuple(int(t) for t in idx)}: numeric "
                         f"{numeric.flat[j]:.6g}, analytic {ana.flat[j]:.6g}")
            raise GradcheckError(f"gradcheck: input {i} (shape {base.shape}) relative error "
                                 f"{error:.3g} > {tol:g}{where}")
    return worst
