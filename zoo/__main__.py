"""The zoo's command line: `python -m zoo <recipe> [key=value ...]`.

    python -m zoo demo                 the demo (`make demo`)
    python -m zoo mlp epochs=5 lr=0.1  a recipe with config overrides
    python -m zoo list                 the recipes and their configs
"""
import ast
import sys

from zoo import recipes


def _parse(pairs):
    overrides = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"zoo: expected key=value, got {pair!r}")
        try:
            overrides[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[key] = text            # a bare word is a string: data=mnist_5k
    return overrides


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(__doc__.strip())
        print("\nrecipes:")
        for name in recipes.RECIPES:
            print(f"  {name:20s} {recipes.get(name).CONFIG}")
        print("aliases: " + ", ".join(f"{a} -> {n}" for a, n in recipes.ALIASES.items()))
        return 0
    try:
        recipe = recipes.get(argv[0])
    except KeyError as error:
        raise SystemExit(f"zoo: {error.args[0]}") from None
    overrides = _parse(argv[1:])
    unknown = sorted(set(overrides) - set(recipe.CONFIG))
    if unknown:
        raise SystemExit(f"zoo: {argv[0]} has no setting {', '.join(unknown)}; its config is "
                         f"{recipe.CONFIG}")
    recipe.train(**overrides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
