"""The op library: one module per family, mirroring `kernels/`. Each family lists its public
ops in `__all__`; they are all importable from here (and from `autograd`)."""
from autograd.ops.pointwise import *  # noqa: F401,F403
from autograd.ops.binary import *  # noqa: F401,F403
from autograd.ops.reduce import *  # noqa: F401,F403
from autograd.ops.softmax import *  # noqa: F401,F403
from autograd.ops.matmul import *  # noqa: F401,F403
from autograd.ops.shape import *  # noqa: F401,F403
from autograd.ops.index import *  # noqa: F401,F403
from autograd.ops.loss import *  # noqa: F401,F403
from autograd.ops.conv import *  # noqa: F401,F403
from autograd.ops.pool import *  # noqa: F401,F403
from autograd.ops.normalization import *  # noqa: F401,F403
from autograd.ops.rnn import *  # noqa: F401,F403
from autograd.ops.embeddings import *  # noqa: F401,F403
from autograd.ops.activation import *  # noqa: F401,F403
