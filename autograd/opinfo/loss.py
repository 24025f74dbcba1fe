"""Registry entries of the loss ops."""
OPS = []
