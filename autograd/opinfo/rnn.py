"""Registry entries of the rnn ops."""
OPS = []
