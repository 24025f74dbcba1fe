"""Registry entries of the reduce ops."""
OPS = []
