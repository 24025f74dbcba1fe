"""Variable-length batches, PyTorch's `torch.nn.utils.rnn` spelled the same way:

    PackedSequence        the packed layout (data rows of every time step in turn, batch_sizes)
    pack_padded_sequence  a padded batch (T, N, *) and its lengths -> PackedSequence
    pad_packed_sequence   PackedSequence -> (padded batch, lengths)
    pad_sequence          a list of (L_i, *) sequences -> one padded batch
    pack_sequence         a list of (L_i, *) sequences -> PackedSequence
    unpad_sequence        a padded batch and its lengths -> the list of sequences
    unpack_sequence       PackedSequence -> the list of sequences

All are differentiable: gradients flow from the packed or padded result back to the inputs.
The recurrent layers (`nn.LSTM`, `nn.GRU`, `nn.RNN`) take and return a PackedSequence.
"""
from typing import NamedTuple

import numpy as np

import autograd
from autograd.tensor import Tensor
from nn import functional as F

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    """A variable-length batch in the packed layout: `data` (R, *) holds the rows of every
    time step in turn, `batch_sizes` (T,) int64 how many sequences are still running at each
    step, `sorted_indices` the batch in that order (by decreasing length) and
    `unsorted_indices` its inverse (both None when the batch was given sorted)."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _int_tensor(a):
    return None if a is None else autograd.tensor(np.asarray(a, np.int64))


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Pack a padded batch (T, N, *) (or (N, T, *) with batch_first) of sequences of
    `lengths` (N,); with enforce_sorted=False the lengths may come in any order."""
    data, batch_sizes, sorted_indices, unsorted_indices = F.pack_padded(
        input, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    return PackedSequence(data, _int_tensor(batch_sizes), _int_tensor(sorted_indices),
                          _int_tensor(unsorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch (T, N, *) (or (N, T, *)) of a PackedSequence, and the lengths (N,)."""
    padded, lengths = F.pad_packed(sequence.data, sequence.batch_sizes,
                                   sequence.sorted_indices, batch_first=batch_first,
                                   padding_value=padding_value, total_length=total_length)
    return padded, autograd.tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0):
    """Stack sequences of shapes (L_i, *) into one padded batch (T, N, *), T = max L_i."""
    return F.pad_sequence(sequences, batch_first=batch_first, padding_value=padding_value)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences of shapes (L_i, *)."""
    lengths = [int(s.shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch (T, N, *) (or (N, T, *)), the i-th cut to lengths[i]."""
    lengths = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths.tolist())]


def unpack_sequence(packed_sequences):
    """The sequences of a PackedSequence, in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
