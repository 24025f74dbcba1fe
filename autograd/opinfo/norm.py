"""Registry entries of the norm ops."""
OPS = []
