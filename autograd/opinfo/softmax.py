"""Registry entries of the softmax ops."""
OPS = []
