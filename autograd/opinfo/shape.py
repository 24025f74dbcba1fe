"""Registry entries of the shape ops."""
OPS = []
