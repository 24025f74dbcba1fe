"""word2vec and friends: the data pipeline (vocabulary, subsampling, windows, noise words,
padded batches), the models (skip-gram, CBOW, hierarchical softmax, GloVe, fastText), the
queries, and (slow) real training on Shakespeare against gensim."""
import numpy as np
import pytest

import autograd as ag
import nn
from zoo.models.fasttext import FastText
from zoo.models.glove import GloVe, glove_weight
from zoo.models.word2vec import CBOW, SkipGram, SkipGramHS, WordVectors, spearman
from kernels.embedding import skipgram_rows
from zoo.word2vec_data import (Corpus, NoiseSampler, Vocab, cbow_batches, context_windows,
                               cooccurrence, discard_probability, pair_batches,
                               skipgram_batches, subsample, subword_ngrams, tokenize)

TEXT = """HAMLET:
To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer

OPHELIA:
Good my lord, how does your honour for this many a day?

HAMLET:
I humbly thank you; well, well, well.
"""


def _toy(rng, vocab_size=30, sentences=40):
    words = [f"w{i}" for i in range(vocab_size)]
    zipf = 1.0 / np.arange(1, vocab_size + 1)
    text = [list(rng.choice(words, size=rng.integers(3, 15), p=zipf / zipf.sum()))
            for _ in range(sentences)]
    vocab = Vocab(text, min_count=1)
    return text, vocab, vocab.encode(text)


def test_tokenize_drops_speakers_and_keeps_inner_apostrophes():
    sentences = tokenize(TEXT)
    assert len(sentences) == 3
    assert sentences[0][:4] == ["to", "be", "or", "not"]
    assert "hamlet" not in sentences[0] and "'tis" not in sentences[0] and "tis" in sentences[0]
    assert sentences[2] == ["i", "humbly", "thank", "you", "well", "well", "well"]


def test_vocab_min_count_order_and_encoding():
    sentences = tokenize(TEXT)
    vocab = Vocab(sentences, min_count=2)
    assert vocab.words[:2] == ["to", "well"] and vocab.counts[0] == 3     # ties: a-z
    assert list(vocab.counts) == sorted(vocab.counts, reverse=True)
    corpus = vocab.encode(sentences)
    assert corpus.starts.tolist()[0] == 0 and corpus.starts[-1] == corpus.ids.size
    assert all(vocab.words[i] in ("well", "to", "be", "the") for i in corpus.ids)
    with pytest.raises(ValueError, match="min_count=99"):
        Vocab(sentences, min_count=99)


def test_discard_probability_formulas():
    counts = np.array([10_000, 1_000, 100, 10])
    t = 1e-3 * 1.0
    f = counts / counts.sum()
    np.testing.assert_allclose(discard_probability(counts, t),
                               np.maximum(1 - np.sqrt(t / f), 0))
    keep = (np.sqrt(f / t) + 1) * t / f
    np.testing.assert_allclose(discard_probability(counts, t, "word2vec"),
                               np.maximum(1 - keep, 0))
    assert discard_probability(counts, t)[-1] == 0.0
    with pytest.raises(ValueError, match="formula"):
        discard_probability(counts, t, "other")


def test_subsampling_rate_and_sentence_boundaries(rng):
    ids = rng.choice(2, size=200_000, p=[0.9, 0.1])
    corpus = Corpus(ids, np.array([0, 50_000, 200_000]))
    counts = np.bincount(ids)
    kept = subsample(corpus, counts, 1e-2, rng)
    expected = (1 - discard_probability(counts, 1e-2)) * counts
    np.testing.assert_allclose(np.bincount(kept.ids), expected, rtol=0.05)
    assert kept.starts[0] == 0 and kept.starts[-1] == kept.ids.size
    assert kept.starts[1] == pytest.approx(expected.sum() / 4, rel=0.05)


def test_context_windows_stay_in_sentences_and_shrink_at_random(rng):
    corpus = Corpus(np.arange(10), np.array([0, 4, 10]))
    centers, contexts, valid = context_windows(corpus, 3, rng)
    assert contexts.shape == (10, 6)
    for c, row, ok in zip(centers, contexts, valid):
        sentence = range(0, 4) if c < 4 else range(4, 10)
        assert set(row[ok]) <= set(sentence) - {c}
        assert ok.any()
    sizes = []
    for _ in range(200):
        _, _, valid = context_windows(Corpus(np.arange(20), np.array([0, 20])), 4, rng)
        sizes.append(valid[10].sum() // 2)     # a middle word: 2 x window size
    assert set(sizes) == {1, 2, 3, 4}


def test_noise_follows_unigram_to_the_three_quarters(rng):
    counts = np.array([1000, 200, 50, 10, 1])
    noise = NoiseSampler(counts)
    draws = noise.sample(400_000, rng)
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / draws.size, expected,
                               atol=3e-3)
    forbidden = np.array([[0, 1], [2, 0]])
    words = noise.sample_avoiding(forbidden, np.array([[True, True], [True, False]]),
                                  np.array([3, 4]), 5, rng)
    assert words.shape == (2, 5) and (words[0, 3:] == 0).all() and (words[1, 4:] == 0).all()
    many = noise.sample_avoiding(np.zeros((5000, 1), np.int64), True, 4, 4, rng)
    assert not (many == 0).any()                # the most frequent word, never drawn
    share = np.bincount(many.ravel(), minlength=5)[1:] / many.size
    np.testing.assert_allclose(share, expected[1:] / expected[1:].sum(), atol=1e-2)


def test_skipgram_batches_layout(rng):
    _, vocab, corpus = _toy(rng)
    noise = NoiseSampler(vocab.counts)
    batches = list(skipgram_batches(corpus, vocab, noise, rng, batch_size=16, max_window=2,
                                    num_noise=3, sample=0))
    assert sum(b.words for b in batches) == corpus.ids.size
    sentence = corpus.sentence_of()
    assert sum(len(b.centers) for b in batches) == int(
        (np.bincount(sentence)[sentence] > 1).sum())       # every word with a neighbour
    widths = set()
    for b in batches:
        n = int(b.labels[0].sum())
        assert 1 <= n <= 4 and b.columns.shape == (len(b.centers), 4 * n)
        assert (b.labels[:, :n] == 1).all() and not b.labels[:, n:].any() and b.mask.all()
        widths.add(n)
        for row in b.columns:
            assert not set(row[:n]) & set(row[n:])      # noise is never a context word
    assert widths == {1, 2, 3, 4}


def test_skipgram_rows_match_their_windows(rng):
    corpus = Corpus(np.arange(100, 112), np.array([0, 5, 6, 12]))   # a one-word sentence
    sizes = rng.integers(1, 3, 12)
    noise = NoiseSampler(np.ones(120))
    groups = skipgram_rows(corpus.ids, corpus.starts, sizes, 2, noise.accept, noise.alias, 7,
                           rng)
    seen = set()
    for n, (centers, columns) in groups.items():
        assert columns.shape == (centers.size, 3 * n)
        for c, row in zip(centers, columns):
            i = c - 100
            first, end = (0, 5) if i < 5 else (6, 12)
            expected = [100 + j for j in range(max(first, i - sizes[i]),
                                               min(end, i + sizes[i] + 1)) if j != i]
            assert list(row[:n]) == expected
            seen.add(int(c))
    assert seen == set(range(100, 112)) - {105}


def test_cbow_and_pair_batches(rng):
    _, vocab, corpus = _toy(rng)
    noise = NoiseSampler(vocab.counts)
    for b in cbow_batches(corpus, vocab, noise, rng, batch_size=16, max_window=2,
                          num_noise=3, sample=0):
        assert b.columns.shape == (len(b.offsets), 4) and (b.labels[:, 0] == 1).all()
        assert b.offsets[0] == 0 and (np.diff(b.offsets) >= 1).all()
        assert not (b.columns[:, 1:] == b.columns[:, :1]).any()
    pairs = list(pair_batches(corpus, vocab, rng, batch_size=32, max_window=1, sample=0))
    centers = np.concatenate([p.centers for p in pairs])
    sentence = corpus.sentence_of()
    n_expected = int((sentence[1:] == sentence[:-1]).sum()) * 2      # window 1: neighbours
    assert centers.size == n_expected


def test_cooccurrence_counts_with_inverse_distance():
    corpus = Corpus(np.array([0, 1, 2, 0, 1]), np.array([0, 3, 5]))
    rows, cols, values = cooccurrence(corpus, 3, window=2)
    table = np.zeros((3, 3))
    table[rows, cols] = values
    expected = np.array([[0, 1 + 1, 0.5], [1 + 1, 0, 1], [0.5, 1, 0]])
    np.testing.assert_allclose(table, expected)


def test_subword_ngrams():
    grams, ids, offsets = subword_ngrams(["where", "her"], 3, 6)
    where = {grams[i] for i in ids[offsets[0]:offsets[1]]}
    assert {"<wh", "whe", "her", "ere", "re>", "<where", "where>", "<where>"} <= where
    her = {grams[i] for i in ids[offsets[1]:]}
    assert "her" in where and "her" in her and "<her>" in her and "<her" in her
    assert len(grams) == len(set(grams))


def test_glove_weight():
    np.testing.assert_allclose(glove_weight([1, 100, 1000]), [0.01 ** 0.75, 1.0, 1.0])


def _train(model, batches, steps=30, lr=0.5, optimizer=None):
    optimizer = optimizer or nn.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        inputs = batches[step % len(batches)]
        optimizer.zero_grad()
        loss = model(*inputs)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_models_learn_on_a_toy_corpus(rng):
    ag.manual_seed(0)
    _, vocab, corpus = _toy(rng)
    noise = NoiseSampler(vocab.counts)
    sg = [(b.centers, b.columns, b.labels, b.mask) for b in skipgram_batches(
        corpus, vocab, noise, rng, batch_size=64, max_window=2, num_noise=3, sample=0)]
    # a fastText word vector sums ~7 subword vectors: a smaller rate for the same step
    for model, lr in ((SkipGram(len(vocab), 8), 0.05), (FastText(vocab.words, 8), 0.005)):
        losses = _train(model, sg, lr=lr)
        assert np.mean(losses[-5:]) < np.mean(losses[:5])
    cbow = [(b.context_ids, b.offsets, b.columns, b.labels, b.mask) for b in cbow_batches(
        corpus, vocab, noise, rng, batch_size=64, max_window=2, num_noise=3, sample=0)]
    losses = _train(CBOW(len(vocab), 8), cbow, lr=0.1)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    hs = SkipGramHS(vocab.counts, 8)
    pairs = [(b.centers, b.targets) for b in pair_batches(corpus, vocab, rng, batch_size=64,
                                                          max_window=2, sample=0)]
    losses = _train(hs, pairs, lr=0.05)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    rows, cols, counts = cooccurrence(corpus, len(vocab), 3)
    glove = GloVe(len(vocab), 8)
    batch = [(rows, cols, np.log(counts).astype(np.float32),
              glove_weight(counts).astype(np.float32))]
    losses = _train(glove, batch, steps=20, optimizer=nn.optim.Adagrad(glove.parameters(),
                                                                       lr=0.1))
    assert losses[-1] < 0.5 * losses[0]
    assert glove.vectors().shape == (len(vocab), 8)


def test_hierarchical_softmax_is_a_distribution_over_the_vocabulary():
    counts = np.array([40, 1, 9, 3, 3, 20])
    model = SkipGramHS(counts, 4)
    nn.init.normal_(model.node_embed.weight)
    nn.init.normal_(model.in_embed.weight)
    targets = np.arange(6)
    losses = [model(np.array([2]), np.array([w])).item() for w in targets]
    assert np.exp(-np.array(losses)).sum() == pytest.approx(1.0, rel=1e-5)


def test_fasttext_vectors_share_subwords():
    model = FastText(["king", "kings", "queen"], 6)
    nn.init.normal_(model.subwords.weight)
    vectors = model.vectors().numpy()
    np.testing.assert_allclose(vectors[0], model.vector("king"), rtol=1e-5)
    unseen = model.vector("kingly")                      # out of vocabulary: known n-grams
    assert np.abs(unseen).sum() > 0
    assert not model.vector("zzz").any()


def test_word_vector_queries():
    words = ["king", "queen", "man", "woman", "apple"]
    vectors = np.array([[1, 1, 0], [1, -1, 0], [0, 1, 0.1], [0, -1, 0.1], [0, 0, 1]], float)
    wv = WordVectors(vectors, words)
    assert wv.nearest("king", 1)[0][0] in ("man", "queen")
    assert wv.analogy("man", "king", "woman")[0][0] == "queen"
    result = wv.analogy_accuracy({"family": np.array([["man", "king", "woman", "queen"],
                                                      ["man", "king", "woman", "prince"]])})
    assert result["accuracy"] == 1.0 and result["questions"] == 1 and result["total"] == 2
    assert wv.similarity("king", "king") == pytest.approx(1.0)
    nearest = wv.nearest(np.array([0, 0, 2.0]), 2)
    assert nearest[0][0] == "apple"


def test_spearman_handles_ties():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(0.9486832980505138)


@pytest.mark.slow
def test_skipgram_on_shakespeare_matches_gensim():
    """Skip-gram on the 38 plays, 5 epochs, against gensim's Word2Vec with the same settings
    (1 and 2 worker threads): WordSim-353 Spearman within 0.03 of gensim's, at more than half
    its words per second (in-vocabulary pairs of gensim's test files)."""
    pytest.importorskip("gensim.models")
    from zoo.recipes import word2vec
    _, result = word2vec.train(compare_gensim=True, progress=False)
    ours = result["results"]["tapegrad"]
    for workers in (1, 2):
        theirs = result["results"][f"gensim-{workers}w"]
        assert abs(ours["wordsim353"] - theirs["wordsim353"]) <= 0.03
        assert ours["words_per_second"] >= 0.5 * theirs["words_per_second"]
