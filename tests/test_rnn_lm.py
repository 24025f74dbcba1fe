"""Sequence utilities and the recurrent language models: tokenizers, Vocab, the two minibatch
schemes, truncated BPTT lowering the loss, perplexity and greedy generation."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from zoo import sequence as S
from zoo.models import rnn_lm as L

TEXT = ("the time machine, by h. g. wells. the time traveller (for so it will be convenient "
        "to speak of him) was expounding a recondite matter to us.\n") * 6


def test_tokenize_chars_and_words():
    assert S.tokenize("ab c\n") == ["a", "b", " ", "c", "\n"]
    assert S.tokenize("Don't stop, 42 times!", "word") == ["Don't", "stop", ",", "42", "times",
                                                          "!"]
    assert S.tokenize(["a b", "c"], "word") == [["a", "b"], ["c"]]
    with pytest.raises(ValueError, match="token must be 'char' or 'word'"):
        S.tokenize("x", "byte")


def test_vocab_orders_by_frequency_with_reserved_and_unknown_tokens():
    tokens = list("abbcccdddd") + ["z"]
    vocab = S.Vocab(tokens, min_freq=2, reserved_tokens=["<pad>", "<eos>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<eos>", "d", "c", "b"]
    assert len(vocab) == 6
    assert vocab["c"] == 4 and vocab["a"] == vocab.unk == 0 and vocab["z"] == 0
    assert vocab[["d", "b", "q"]] == [3, 5, 0]
    assert vocab.to_tokens([3, 4]) == ["d", "c"] and vocab.to_tokens(5) == "b"
    assert vocab.token_freqs[0] == ("d", 4)
    assert vocab.decode(vocab.encode(list("dcb"))) == "dcb"
    nested = S.Vocab([["x", "y"], ["y"]])
    assert nested.idx_to_token == ["<unk>", "y", "x"]
    assert "x" in nested and "w" not in nested


def test_load_corpus_reuses_a_vocab():
    corpus, vocab = S.load_corpus(TEXT)
    assert corpus.dtype == np.int64 and len(corpus) == len(TEXT)
    assert vocab.decode(corpus[:8]) == TEXT[:8]
    val, same = S.load_corpus("the ~", vocab=vocab)
    assert same is vocab and val[-1] == vocab.unk


def test_random_sampling_covers_disjoint_subsequences():
    corpus = np.arange(100)
    rng = np.random.default_rng(0)
    batches = list(S.seq_data_iter_random(corpus, batch_size=3, num_steps=5, rng=rng))
    assert len(batches) == 6                         # 19 or 18 subsequences -> 6 batches
    starts = []
    for x, y in batches:
        assert x.shape == (3, 5) and x.dtype == ag.int64
        np.testing.assert_array_equal(y.data, x.data + 1)
        assert np.all(np.diff(x.data, axis=1) == 1)
        starts.extend(x.data[:, 0].tolist())
    offsets = {s % 5 for s in starts}
    assert len(offsets) == 1                         # one random offset per pass
    assert len(set(starts)) == len(starts)           # no subsequence twice
    assert starts != sorted(starts)                  # in random order


def test_sequential_partitioning_continues_each_row():
    corpus = np.arange(100)
    batches = list(S.seq_data_iter_sequential(corpus, batch_size=2, num_steps=5, offset=3))
    assert len(batches) == 9                         # 48 tokens per stream
    for (x0, _), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1.data[:, 0], x0.data[:, -1] + 1)
    assert batches[0][0].data[:, 0].tolist() == [3, 3 + 48]
    loader = S.SeqDataLoader(corpus, 2, 5, use_random_iter=False,
                             rng=np.random.default_rng(0))
    assert len(list(loader)) <= len(loader)
    with pytest.raises(ValueError, match="too short"):
        S.SeqDataLoader(np.arange(10), 4, 5)


def _corpus():
    corpus, vocab = S.load_corpus(TEXT)
    return corpus, vocab


MODELS = [
    ("scratch-rnn", lambda v: L.rnn_lm_scratch(v, 32, "rnn")),
    ("scratch-gru", lambda v: L.rnn_lm_scratch(v, 32, "gru")),
    ("scratch-lstm", lambda v: L.rnn_lm_scratch(v, 32, "lstm")),
    ("scratch-deep-lstm", lambda v: L.rnn_lm_scratch(v, 16, "lstm", num_layers=2)),
    ("rnn", lambda v: L.rnn_lm(v, 32, "rnn")),
    ("gru", lambda v: L.rnn_lm(v, 32, "gru")),
    ("lstm", lambda v: L.rnn_lm(v, 32, "lstm")),
    ("deep-lstm", lambda v: L.rnn_lm(v, 32, "lstm", num_layers=2, dropout=0.1)),
    ("bidirectional-gru", lambda v: L.rnn_lm(v, 16, "gru", bidirectional=True)),
]


@pytest.mark.parametrize("name, build", MODELS, ids=[m[0] for m in MODELS])
def test_training_lowers_the_loss_and_generates(name, build):
    ag.manual_seed(0)
    corpus, vocab = _corpus()
    model = build(len(vocab))
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    loader = S.SeqDataLoader(corpus, batch_size=4, num_steps=10, rng=np.random.default_rng(0))
    before = L.evaluate_perplexity(model, loader)
    assert before == pytest.approx(len(vocab), rel=0.2)     # untrained: close to uniform
    for _ in range(4):
        perplexity, speed = L.train_epoch(model, loader, optimizer, clip=1.0)
    assert speed > 0
    after = L.evaluate_perplexity(model, loader)
    assert after < 0.7 * before
    text = L.predict("the ", 10, model, vocab)
    assert text.startswith("the ") and len(text) == 14
    assert model.training


def test_logits_are_time_major():
    ag.manual_seed(0)
    corpus, vocab = _corpus()
    model = L.rnn_lm(len(vocab), 8, "gru")
    x = ag.tensor(corpus[:12].reshape(2, 6))
    logits, state = model(x)
    assert logits.shape == (12, len(vocab)) and state.shape == (1, 2, 8)
    # row t * N + n of the logits belongs to sequence n at step t: the first step of each
    # sequence does not depend on anything later
    first, _ = model(x[:, :1])
    np.testing.assert_allclose(logits.data[:2], first.data, atol=1e-6)


def test_state_is_detached_between_sequential_minibatches():
    ag.manual_seed(0)
    corpus, vocab = _corpus()
    model = L.rnn_lm(len(vocab), 8, "lstm")
    state = model.begin_state(2)
    x = ag.tensor(corpus[:10].reshape(2, 5))
    _, state = model(x, state)
    assert state[0].requires_grad
    detached = L.detach_state(state)
    assert isinstance(detached, tuple)
    assert not detached[0].requires_grad and not detached[1].requires_grad
    np.testing.assert_array_equal(detached[0].data, state[0].data)


def test_scratch_lstm_equals_the_layer_with_the_same_weights():
    """The scratch cell (d2l's gate matrices) and nn.LSTM compute the same function once
    the weights are laid out in PyTorch's stacked (i, f, g, o) blocks."""
    ag.manual_seed(0)
    vocab_size, hid = 7, 5
    scratch = L.rnn_lm_scratch(vocab_size, hid, "lstm")
    layered = L.rnn_lm(vocab_size, hid, "lstm")
    cell = scratch.cells[0]
    with ag.no_grad():
        layered.rnn.weight_ih_l0.data[...] = np.concatenate(
            [getattr(cell, f"W_x{g}").data.T for g in "ifco"])
        layered.rnn.weight_hh_l0.data[...] = np.concatenate(
            [getattr(cell, f"W_h{g}").data.T for g in "ifco"])
        layered.rnn.bias_ih_l0.data[...] = np.concatenate(
            [getattr(cell, f"b_{g}").data for g in "ifco"])
        layered.rnn.bias_hh_l0.data[...] = 0
        layered.linear.weight.data[...] = scratch.W_hq.data.T
        layered.linear.bias.data[...] = scratch.b_q.data
    x = ag.tensor(np.random.default_rng(0).integers(0, vocab_size, (3, 4)))
    a, _ = scratch(x)
    b, _ = layered(x)
    np.testing.assert_allclose(a.data, b.data, atol=1e-6)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    corpus, vocab = _corpus()
    model = L.rnn_lm(len(vocab), 4, "rnn")
    with ag.no_grad():
        for p in model.parameters():
            p.data[...] = 0
    loader = S.SeqDataLoader(corpus, 2, 8, rng=np.random.default_rng(0))
    assert L.evaluate_perplexity(model, loader) == pytest.approx(len(vocab), rel=1e-5)
    assert math.isfinite(L.evaluate_perplexity(model, loader))


@pytest.mark.slow
def test_char_lm_matches_pytorch_on_shakespeare(torch):
    """The Shakespeare recipe and its PyTorch twin (same initial weights, minibatches and
    Adam settings) reach the same validation perplexity after 200 steps, within 2%. Their
    speed is compared by the benchmark runner, not here."""
    from zoo.recipes import char_lm
    result = char_lm.compare(steps=200, progress=False, val_chars=50_000)
    ours, theirs = result["ours"]["val_perplexity"], result["torch"]["val_perplexity"]
    assert ours < 20                                 # it learned (77 characters)
    assert abs(ours / theirs - 1) < 0.02
