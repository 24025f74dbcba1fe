"""Registry entries of the embedding ops."""
OPS = []
