"""The layers, one module per family; each lists its public classes in `__all__`."""
from nn.layers.container import *  # noqa: F401,F403
from nn.layers.linear import *  # noqa: F401,F403
from nn.layers.activation import *  # noqa: F401,F403
from nn.layers.dropout import *  # noqa: F401,F403
from nn.layers.embedding import *  # noqa: F401,F403
from nn.layers.conv import *  # noqa: F401,F403
from nn.layers.pool import *  # noqa: F401,F403
from nn.layers.norm import *  # noqa: F401,F403
from nn.layers.rnn import *  # noqa: F401,F403
