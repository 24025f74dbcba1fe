"""Training recipes, one module per model of the curriculum: each has a `CONFIG` dict and a
`train(**overrides)` that builds the data, model and optimizer, calls `zoo.train.fit`, prints
the result and returns (model, history). `python -m zoo <recipe> [key=value ...]` runs one.
"""
import importlib

RECIPES = ("linear_regression", "logistic_regression", "softmax_regression", "perceptron",
           "svm", "mlp")
ALIASES = {"demo": "mlp"}      # `make demo` runs this recipe


def get(name):
    """The recipe module called `name` (or an alias such as "demo")."""
    name = ALIASES.get(name, name)
    if name not in RECIPES:
        known = ", ".join(sorted(RECIPES + tuple(ALIASES)))
        raise KeyError(f"unknown recipe {name!r}; the recipes are: {known}")
    return importlib.import_module(f"zoo.recipes.{name}")
