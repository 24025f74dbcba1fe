"""Registry entries of the matmul ops."""
OPS = []
