"""The zoo's models: small named Modules and builder functions, one file per family.

The recurrent language models' builders stay in their module (`zoo.models.rnn_lm.rnn_lm`):
a package attribute of that name would hide the module itself."""
from zoo.models.linear import (LinearRegression, LinearSVM, LogisticRegression, Perceptron,
                               SoftmaxRegression)
from zoo.models.mlp import MLP
from zoo.models.rnn_lm import (RNNLM, GRUScratchCell, LSTMScratchCell, RNNLMScratch,
                               RNNScratchCell)

__all__ = ["LinearRegression", "LogisticRegression", "SoftmaxRegression", "Perceptron",
           "LinearSVM", "MLP", "RNNScratchCell", "GRUScratchCell", "LSTMScratchCell",
           "RNNLMScratch", "RNNLM"]
