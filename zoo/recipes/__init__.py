"""Training recipes, one module per model of the curriculum: each has a `CONFIG` dict and a
`train(**overrides)` that builds the data, model and optimizer, calls `zoo.train.fit`, prints
the result and returns (model, history). `python -m zoo <recipe> [key=value ...]` runs one;
every module of this package is a recipe, so a new file here needs no registration.
"""
import importlib
import pkgutil

RECIPES = tuple(sorted(info.name for info in pkgutil.iter_modules(__path__)
                       if not info.name.startswith("_")))
ALIASES = {"demo": "lenet_mnist"}      # `make demo` runs this recipe


def get(name):
    """The recipe module called `name` (or an alias such as "demo")."""
    name = ALIASES.get(name, name)
    if name not in RECIPES:
        known = ", ".join(sorted(RECIPES + tuple(ALIASES)))
        raise KeyError(f"unknown recipe {name!r}; the recipes are: {known}")
    return importlib.import_module(f"zoo.recipes.{name}")
