"""Registry entries of the pool ops."""
OPS = []
