"""Registry entries of the index ops."""
OPS = []
