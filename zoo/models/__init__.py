"""The zoo's models: small named Modules and builder functions, one file per family."""
from zoo.models.linear import (LinearRegression, LinearSVM, LogisticRegression, Perceptron,
                               SoftmaxRegression)
from zoo.models.mlp import MLP

__all__ = ["LinearRegression", "LogisticRegression", "SoftmaxRegression", "Perceptron",
           "LinearSVM", "MLP"]
