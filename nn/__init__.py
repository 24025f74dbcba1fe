"""tapegrad's neural-network package, PyTorch's `torch.nn` spelled the same way:
`nn.Module`, `nn.Parameter`, the layers (`nn.Linear`, `nn.Sequential`, ...), the loss modules
(`nn.CrossEntropyLoss`, ...), `nn.functional` (as `F`), `nn.init`, `nn.optim`, `nn.data`
(datasets and loaders), `nn.utils` and checkpoints (`nn.save` / `nn.load`)."""
from nn.parameter import Parameter
from nn.module import Module
from nn.layers import *  # noqa: F401,F403
from nn.losses import *  # noqa: F401,F403
from nn import data, functional, init, optim, utils  # noqa: F401
from nn.serialization import CheckpointError, load, save  # noqa: F401
