"""Registry entries of the conv ops."""
OPS = []
