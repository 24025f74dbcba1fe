"""Parameter: a Tensor that a Module registers as learnable when it is assigned to it."""
import numpy as np

from autograd import dtypes
from autograd.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is registered by `Module.__setattr__`.

    Args:
        data: a Tensor (its array is shared, not copied, as in PyTorch), a numpy array or
            nested lists; None gives an empty float32 parameter.
        requires_grad: whether the optimizer should see a gradient for it (default True).

    Ops on a Parameter return plain Tensors; only the leaf itself is a Parameter.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.empty(0, dtypes.DEFAULT_FLOAT)
        elif isinstance(data, Tensor):
            array = data.data
        else:
            array = dtypes.default_array(data, None, "Parameter")
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
