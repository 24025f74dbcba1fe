"""Character-level LSTM language model on Shakespeare (d2l chapters 9.5-10.1 on a real corpus):
one-hot characters -> nn.LSTM -> Linear, trained by truncated BPTT over sequential partitions
of the plays (the state carried between minibatches, detached), Adam with gradient clipping;
validation perplexity on the held-out tail of the corpus, and a greedy sample.

    python -m zoo char_lm minutes=10          train for 10 minutes, then evaluate and sample
    python -m zoo char_lm compare=300         300 steps here and in PyTorch, same everything

`compare` trains the same model with the same hyperparameters, initial weights and
minibatches in PyTorch (in its own process, so the two thread pools do not meet) and reports
both validation perplexities and times per step.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import autograd as ag
import nn
from nn import functional as F
from zoo.data import load_shakespeare, train_val_split
from zoo.models.rnn_lm import detach_state, evaluate_perplexity, predict, rnn_lm
from zoo.sequence import load_corpus, seq_data_iter_sequential

CONFIG = dict(hidden=256, num_layers=1, batch_size=32, num_steps=35, lr=2e-3, clip=1.0,
              epochs=1, minutes=None, max_steps=None, val_chars=100_000, val_batch_size=64,
              prefix="ROMEO:\n", sample_chars=300, seed=0, compare=None, progress=True)


def load_data(val_chars=None):
    """(train corpus, validation corpus, vocab): the first 90% of the plays to train on, the
    first `val_chars` characters of the rest to validate on, one vocabulary (the training
    split's characters)."""
    train_text, val_text = train_val_split(load_shakespeare())
    train_corpus, vocab = load_corpus(train_text)
    val_corpus, _ = load_corpus(val_text[:val_chars] if val_chars else val_text, vocab=vocab)
    return train_corpus, val_corpus, vocab


def _offsets(seed, epochs, num_steps):
    """The random offset of every epoch's sequential partitioning (shared by both twins)."""
    return np.random.default_rng(seed).integers(0, num_steps, epochs).tolist()


def _minibatches(corpus, config, offsets):
    """(epoch, X, Y) numpy int64 minibatches over the epochs, sequentially partitioned."""
    for epoch, offset in enumerate(offsets):
        for x, y in seq_data_iter_sequential(corpus, config["batch_size"], config["num_steps"],
                                             offset=offset):
            yield epoch, x.data, y.data


def _step_budget(config, corpus):
    per_epoch = ((len(corpus) - config["num_steps"]) // config["batch_size"]) // \
        config["num_steps"]
    steps = per_epoch * config["epochs"]
    if config["max_steps"] is not None:
        steps = min(steps, config["max_steps"])
    return steps, per_epoch


def _validation_loader(corpus, config):
    return [(x, y) for x, y in seq_data_iter_sequential(corpus, config["val_batch_size"],
                                                        config["num_steps"], offset=0)]


def fit_lm(model, train_corpus, val_corpus, config, progress=True):
    """Train `model` by truncated BPTT for config's epochs / max_steps / minutes; returns a
    history dict (steps, seconds, seconds_per_step, train and validation perplexity)."""
    from tqdm.auto import tqdm
    optimizer = nn.optim.Adam(model.parameters(), lr=config["lr"])
    params = list(model.parameters())
    steps, per_epoch = _step_budget(config, train_corpus)
    offsets = _offsets(config["seed"], config["epochs"], config["num_steps"])
    budget = None if config["minutes"] is None else 60.0 * config["minutes"]
    state, last_epoch = None, 0
    total = tokens = done = 0
    model.train()
    start = time.perf_counter()
    bar = tqdm(total=steps, disable=not progress, desc="char_lm", dynamic_ncols=True)
    for epoch, x, y in _minibatches(train_corpus, config, offsets):
        if done >= steps or (budget is not None and time.perf_counter() - start > budget):
            break
        if epoch != last_epoch:
            state, last_epoch = None, epoch      # a new offset breaks the streams' continuity
        state = detach_state(state)
        optimizer.zero_grad()
        logits, state = model(ag.tensor(x), state)
        loss = F.cross_entropy(logits, ag.tensor(y.T.reshape(-1)))
        loss.backward()
        nn.utils.clip_grad_norm_(params, config["clip"])
        optimizer.step()
        total += loss.item() * y.size
        tokens += y.size
        done += 1
        bar.update(1)
        if done % 50 == 0:
            bar.set_postfix(perplexity=f"{math.exp(total / tokens):.2f}", refresh=False)
    bar.close()
    seconds = time.perf_counter() - start
    val = evaluate_perplexity(model, _validation_loader(val_corpus, config))
    return {"steps": done, "seconds": seconds, "seconds_per_step": seconds / max(done, 1),
            "steps_per_epoch": per_epoch, "train_perplexity": math.exp(total / max(tokens, 1)),
            "val_perplexity": val}


def build(vocab_size, config):
    ag.manual_seed(config["seed"])
    return rnn_lm(vocab_size, config["hidden"], "lstm", num_layers=config["num_layers"])


def train(**overrides):
    config = {**CONFIG, **overrides}
    if config["compare"]:
        return compare(steps=int(config["compare"]), **{k: v for k, v in config.items()
                                                        if k != "compare"})
    train_corpus, val_corpus, vocab = load_data(config["val_chars"])
    model = build(len(vocab), config)
    history = fit_lm(model, train_corpus, val_corpus, config, progress=config["progress"])
    sample = predict(config["prefix"], config["sample_chars"], model, vocab)
    per_epoch = history["seconds_per_step"] * history["steps_per_epoch"]
    print(f"char-level LSTM on Shakespeare: validation perplexity {history['val_perplexity']:.3f} "
          f"after {history['steps']} steps ({history['seconds']:.0f} s; "
          f"{per_epoch:.0f} s per epoch of {history['steps_per_epoch']} steps)")
    print(sample)
    history["sample"] = sample
    return model, history


def compare(steps=300, **overrides):
    """Train the same model for `steps` steps here and in PyTorch (same initial weights,
    minibatches and hyperparameters); returns {"ours": history, "torch": history}."""
    config = {**CONFIG, **overrides, "max_steps": steps, "minutes": None, "compare": None}
    train_corpus, val_corpus, vocab = load_data(config["val_chars"])
    model = build(len(vocab), config)
    with tempfile.TemporaryDirectory(prefix="char-lm-") as tmp:
        weights = os.path.join(tmp, "init.npz")
        np.savez(weights, **{k: v.copy() for k, v in model.state_dict().items()})
        settings = os.path.join(tmp, "config.json")
        with open(settings, "w") as f:
            json.dump({**config, "vocab_size": len(vocab), "weights": weights}, f)
        result = os.path.join(tmp, "torch.json")
        # PyTorch first, in its own process: its OpenMP pool and ours never share the cores
        subprocess.run([sys.executable, "-m", "zoo.recipes.char_lm", settings, result],
                       check=True)
        with open(result) as f:
            theirs = json.load(f)
    ours = fit_lm(model, train_corpus, val_corpus, config, progress=config["progress"])
    print(f"after {steps} steps: validation perplexity {ours['val_perplexity']:.4f} (tapegrad) "
          f"vs {theirs['val_perplexity']:.4f} (PyTorch); "
          f"{1e3 * ours['seconds_per_step']:.1f} vs {1e3 * theirs['seconds_per_step']:.1f} "
          f"ms per step")
    return {"ours": ours, "torch": theirs}


def _torch_twin(settings, result):
    """The PyTorch side of `compare`: the same model, weights, minibatches and optimizer."""
    import torch
    with open(settings) as f:
        config = json.load(f)
    torch.set_num_threads(os.cpu_count() or 1)
    train_corpus, val_corpus, vocab = load_data(config["val_chars"])
    vocab_size = config["vocab_size"]

    class TorchLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(vocab_size, config["hidden"], config["num_layers"])
            self.linear = torch.nn.Linear(config["hidden"], vocab_size)

        def forward(self, inputs, state=None):
            x = torch.nn.functional.one_hot(inputs.T, vocab_size).float()
            y, state = self.rnn(x, state)
            return self.linear(y.reshape(-1, y.shape[-1])), state

    model = TorchLM()
    init = np.load(config["weights"])
    model.load_state_dict({k: torch.tensor(init[k]) for k in init.files})
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    steps, per_epoch = _step_budget(config, train_corpus)
    offsets = _offsets(config["seed"], config["epochs"], config["num_steps"])
    state, last_epoch = None, 0
    done = 0
    start = time.perf_counter()
    for epoch, x, y in _minibatches(train_corpus, config, offsets):
        if done >= steps:
            break
        if epoch != last_epoch:
            state, last_epoch = None, epoch
        if state is not None:
            state = tuple(s.detach() for s in state)
        optimizer.zero_grad()
        logits, state = model(torch.from_numpy(x), state)
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y.T.reshape(-1)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config["clip"])
        optimizer.step()
        done += 1
    seconds = time.perf_counter() - start
    total = tokens = 0
    state = None
    with torch.no_grad():
        for x, y in _validation_loader(val_corpus, config):
            logits, state = model(torch.from_numpy(x.data), state)
            n = y.data.size
            total += torch.nn.functional.cross_entropy(
                logits, torch.from_numpy(y.data.T.reshape(-1))).item() * n
            tokens += n
    with open(result, "w") as f:
        json.dump({"steps": done, "seconds": seconds, "seconds_per_step": seconds / done,
                   "steps_per_epoch": per_epoch, "val_perplexity": math.exp(total / tokens)}, f)


if __name__ == "__main__":
    _torch_twin(sys.argv[1], sys.argv[2])
