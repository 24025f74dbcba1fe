"""Word embeddings on Shakespeare (d2l chapter 15): skip-gram and CBOW with negative sampling,
skip-gram with hierarchical softmax, GloVe and fastText, evaluated with gensim's test files
(WordSim-353 and SimLex-999 Spearman correlation, the word2vec analogy questions), and compared
with gensim's own Word2Vec trained on the same sentences with the same hyperparameters.

    python -m zoo word2vec                            skip-gram, 5 epochs
    python -m zoo word2vec model=cbow
    python -m zoo word2vec compare_gensim=True        + gensim with 1 and 2 workers

The progress bar counts corpus words (before subsampling, as gensim's rate does) and shows
words per second. The learning rate decays linearly to min_lr over all epochs (word2vec's
schedule), stepped every batch.
"""
import time

import numpy as np
from tqdm.auto import tqdm

import autograd as ag
import nn
from zoo.data import load_analogies, load_shakespeare, load_simlex999, load_wordsim353
from zoo.models.fasttext import FastText
from zoo.models.glove import GloVe, glove_weight
from zoo.models.word2vec import CBOW, SkipGram, SkipGramHS, WordVectors
from zoo.word2vec_data import (NoiseSampler, Vocab, cbow_batches, cooccurrence, pair_batches,
                               skipgram_batches, tokenize)

# subsampling: 'word2vec' is the discard rule of word2vec.c and gensim, so that `sample` means
# the same to both sides of the comparison; 'd2l' is max(1 - sqrt(t / f), 0), which at the
# same t drops many more mid-frequency words (on this corpus at t = 1e-4: WordSim-353
# -0.13 against +0.05 for skip-gram).
# batch_size: 2048 centers (about 12k pairs) per step. The vectors came out alike from 512
# to 4096 (WordSim-353, mean of 3 seeds, each +-0.02: 0.065 at 512, 0.076 at 2048, 0.067 at
# 4096), and fewer steps train faster (646k words/s against 555k at 512).
CONFIG = dict(model="skipgram", dim=100, window=5, negative=5, min_count=5, sample=1e-4,
              subsampling="word2vec", epochs=5, batch_size=2048, lr=0.025, min_lr=1e-4, seed=0,
              progress=True, compare_gensim=False, compare_seeds=3, gensim_workers=(1, 2))

MODELS = ("skipgram", "cbow", "skipgram_hs", "glove", "fasttext")

# Settings each model overrides when not given: CBOW's mean of contexts takes word2vec's
# larger CBOW rate; hierarchical softmax rows are pairs, not centers; GloVe is Adagrad on
# co-occurrence entries (Pennington et al.: lr 0.05, x_max 100); fastText's sum of ~15
# subword vectors per word takes a rate ~10x smaller.
MODEL_DEFAULTS = {
    "cbow": dict(lr=0.05, batch_size=512),
    "skipgram_hs": dict(batch_size=4096),
    "glove": dict(lr=0.05, batch_size=4096, epochs=25, window=10),
    "fasttext": dict(lr=0.0025, batch_size=512),
}


def load_corpus(min_count=5):
    """(sentences, vocab, corpus) of the Shakespeare plays: each speech a sentence."""
    sentences = tokenize(load_shakespeare())
    vocab = Vocab(sentences, min_count=min_count)
    return sentences, vocab, vocab.encode(sentences)


def evaluate(vectors):
    """WordSim-353 and SimLex-999 Spearman correlations and 3CosAdd analogy accuracy, each on
    the items whose words are all in the vocabulary."""
    rho_ws, n_ws = vectors.pair_correlation(load_wordsim353())
    rho_sl, n_sl = vectors.pair_correlation(load_simlex999())
    analogies = vectors.analogy_accuracy(load_analogies())
    return {"wordsim353": rho_ws, "wordsim353_pairs": n_ws, "simlex999": rho_sl,
            "simlex999_pairs": n_sl, "analogy_accuracy": analogies["accuracy"],
            "analogy_questions": analogies["questions"]}


def _batches(name, model, corpus, vocab, noise, rng, config):
    """One epoch of (inputs to model.forward, corpus words covered, pairs in the loss)."""
    options = dict(batch_size=config["batch_size"], max_window=config["window"],
                   sample=config["sample"], subsampling=config["subsampling"])
    if name == "skipgram" or name == "fasttext":
        for b in skipgram_batches(corpus, vocab, noise, rng, num_noise=config["negative"],
                                  **options):
            yield (b.centers, b.columns, b.labels, b.mask), b.words, int(b.labels.sum())
    elif name == "cbow":
        for b in cbow_batches(corpus, vocab, noise, rng, num_noise=config["negative"],
                              **options):
            yield ((b.context_ids, b.offsets, b.columns, b.labels, b.mask), b.words,
                   b.columns.shape[0])
    else:
        for b in pair_batches(corpus, vocab, rng, **options):
            yield (b.centers, b.targets), b.words, b.centers.shape[0]


def fit_word2vec(model, batches, epochs, lr, min_lr, words_per_epoch, progress=True,
                 optimizer=None):
    """Train with sparse SGD whose rate falls linearly from lr to min_lr over all words.
    `batches(epoch)` yields (inputs, words, pairs). Returns the history of each epoch: loss
    per pair, words, seconds and words per second."""
    optimizer = optimizer or nn.optim.SGD(model.parameters(), lr=lr)
    total = words_per_epoch * epochs
    done = 0
    history = {"loss": [], "words": [], "seconds": [], "words_per_second": []}
    bar = tqdm(total=total, unit="word", unit_scale=True, disable=not progress,
               desc=type(model).__name__)
    for epoch in range(epochs):
        start, loss_sum, pairs_sum, words_epoch = time.perf_counter(), 0.0, 0, 0
        for inputs, words, pairs in batches(epoch):
            rate = lr - (lr - min_lr) * min(done / total, 1.0)
            for group in optimizer.param_groups:
                group["lr"] = rate
            optimizer.zero_grad()
            loss = model(*inputs)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            pairs_sum += pairs
            done += words
            words_epoch += words
            bar.update(words)
            bar.set_postfix(loss=f"{loss_sum / max(pairs_sum, 1):.3f}", lr=f"{rate:.4f}",
                            refresh=False)
        seconds = time.perf_counter() - start
        history["loss"].append(loss_sum / max(pairs_sum, 1))
        history["words"].append(words_epoch)
        history["seconds"].append(seconds)
        history["words_per_second"].append(words_epoch / seconds)
    bar.close()
    return history


def _train_glove(vocab, corpus, config, rng):
    rows, cols, counts = cooccurrence(corpus, len(vocab), config["window"])
    model = GloVe(len(vocab), config["dim"])
    weights = glove_weight(counts).astype(np.float32)
    logs = np.log(counts).astype(np.float32)
    optimizer = nn.optim.Adagrad(model.parameters(), lr=config["lr"])
    size = config["batch_size"]

    def batches(epoch):
        order = rng.permutation(rows.size)
        for i in range(0, order.size, size):
            pick = order[i:i + size]
            yield (rows[pick], cols[pick], logs[pick], weights[pick]), pick.size, pick.size

    # Adagrad adapts its own rates: the "decay" keeps lr constant (min_lr = lr)
    history = fit_word2vec(model, batches, config["epochs"], config["lr"], config["lr"],
                           rows.size, config["progress"], optimizer)
    return model, history


def train_model(name, vocab, corpus, config):
    """Train model `name` (see MODELS) on `corpus`; returns (model, WordVectors, history)."""
    if name not in MODELS:
        raise ValueError(f"word2vec: model must be one of {MODELS}, got {name!r}")
    rng = np.random.default_rng(config["seed"])
    ag.manual_seed(config["seed"])
    if name == "glove":
        model, history = _train_glove(vocab, corpus, config, rng)
        return model, WordVectors(model.vectors(), vocab), history
    model = {"skipgram": lambda: SkipGram(len(vocab), config["dim"]),
             "cbow": lambda: CBOW(len(vocab), config["dim"]),
             "skipgram_hs": lambda: SkipGramHS(vocab.counts, config["dim"]),
             "fasttext": lambda: FastText(vocab.words, config["dim"])}[name]()
    noise = NoiseSampler(vocab.counts)
    history = fit_word2vec(model, lambda epoch: _batches(name, model, corpus, vocab, noise, rng,
                                                         config),
                           config["epochs"], config["lr"], config["min_lr"], corpus.ids.size,
                           config["progress"])
    return model, WordVectors(model.vectors(), vocab), history


def gensim_word2vec(sentences, config, workers):
    """gensim's Word2Vec (skip-gram, negative sampling) with the same hyperparameters;
    returns (WordVectors, seconds of training). Needs gensim with its dependencies
    (`pip install gensim==4.4.0 scipy smart_open`)."""
    try:
        from gensim.models import Word2Vec
    except ImportError as error:
        raise ImportError("word2vec: the gensim comparison needs gensim==4.4.0 with scipy and "
                          "smart_open (the Makefile's test extra installs them)") from error
    model = Word2Vec(vector_size=config["dim"], window=config["window"],
                     negative=config["negative"], min_count=config["min_count"],
                     sample=config["sample"], sg=1, hs=0, alpha=config["lr"],
                     min_alpha=config["min_lr"], workers=workers, seed=config["seed"])
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=config["epochs"])
    seconds = time.perf_counter() - start
    return WordVectors(model.wv.vectors, model.wv.index_to_key), seconds


def _mean(runs):
    """The mean of each number over runs (one dict per seed)."""
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def train(**overrides):
    config = {**CONFIG, **MODEL_DEFAULTS.get(overrides.get("model", CONFIG["model"]), {}),
              **overrides}
    sentences, vocab, corpus = load_corpus(config["min_count"])
    name = config["model"]
    # the metrics on a 0.8 M word corpus move by +-0.02 from seed to seed (WordSim-353 has
    # 110 known pairs here): the comparison with gensim averages `compare_seeds` runs of each
    seeds = [config["seed"] + i for i in range(config["compare_seeds"]
                                               if config["compare_gensim"] else 1)]
    runs, model, vectors, history = [], None, None, None
    for seed in seeds:
        model, vectors, history = train_model(name, vocab, corpus, {**config, "seed": seed})
        seconds = sum(history["seconds"])
        runs.append({**evaluate(vectors), "seconds": seconds,
                     "words_per_second": sum(history["words"]) / seconds})
    results = {"tapegrad": _mean(runs)}
    if config["compare_gensim"] and name == "skipgram":
        words = corpus.ids.size * config["epochs"]
        for workers in config["gensim_workers"]:
            theirs = []
            for seed in seeds:
                wv, seconds = gensim_word2vec(sentences, {**config, "seed": seed}, workers)
                theirs.append({**evaluate(wv), "seconds": seconds,
                               "words_per_second": words / seconds})
            results[f"gensim-{workers}w"] = _mean(theirs)
    unit = "entries/s" if name == "glove" else "words/s"
    print(f"{name} on Shakespeare ({len(vocab)} words, {corpus.ids.size} tokens, "
          f"{config['epochs']} epochs" + (f", mean of {len(seeds)} seeds" if len(seeds) > 1
                                          else "") + "):")
    print(f"  {'':12s} {'wordsim353':>10s} {'simlex999':>10s} {'analogies':>10s} {unit:>10s}")
    for label, r in results.items():
        print(f"  {label:12s} {r['wordsim353']:10.3f} {r['simlex999']:10.3f} "
              f"{r['analogy_accuracy']:10.3f} {r['words_per_second']:10.0f}")
    first = results["tapegrad"]
    print(f"  (in-vocabulary: {first['wordsim353_pairs']:.0f} WordSim-353 pairs, "
          f"{first['simlex999_pairs']:.0f} SimLex-999 pairs, {first['analogy_questions']:.0f} "
          f"analogy questions)")
    for word in ("king", "love", "sword"):
        if word in vectors:
            print(f"  nearest to {word!r}: "
                  + ", ".join(w for w, _ in vectors.nearest(word, 6)))
    return model, {"config": config, "history": history, "results": results, "runs": runs}
