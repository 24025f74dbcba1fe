"""Utilities as PyTorch's `torch.nn.utils`: gradient clipping (`clip_grad_norm_`,
`clip_grad_value_`, from `nn.utils.clip_grad`) and the variable-length batch tools of
`nn.utils.rnn` (`pack_padded_sequence`, `pad_packed_sequence`, `pad_sequence`,
`pack_sequence`, `PackedSequence`)."""
from nn.utils import rnn
from nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
