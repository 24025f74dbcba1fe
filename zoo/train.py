"""The one training loop of the zoo: `fit` and `evaluate`, with a tqdm progress bar showing
the running loss and accuracy. Works the same from scripts and notebooks (tqdm.auto).

    history = fit(model, F.cross_entropy, optimizer, train_loader, epochs=3,
                  val_loader=test_loader)
    history["val_acc"][-1]

A batch is `(input, target)` or `(*inputs, target)`; `loss(output, target)` returns a scalar
Tensor. Accuracy is counted by `accuracy(output, target) -> number correct` ("auto": argmax
over dim 1 when the targets are int64 class indices; None: not measured).
"""
import time

from tqdm.auto import tqdm

import autograd as ag
import nn

__all__ = ["fit", "evaluate", "multiclass_correct", "binary_correct"]


def multiclass_correct(output, target):
    """Number of rows whose argmax over dim 1 equals the int64 class target."""
    return (output.argmax(1) == target).sum().item()


def binary_correct(output, target):
    """Number of correct signs: output > 0 predicts the positive class; the targets are
    {0, 1} or {-1, +1}."""
    predicted = output.reshape(-1) > 0
    truth = target.reshape(-1) > 0
    return (predicted == truth).sum().item()


def _resolve_accuracy(accuracy, output, target):
    if accuracy != "auto":
        return accuracy
    if target.dtype == ag.int64 and output.ndim == target.ndim + 1:
        return multiclass_correct
    return None


def _split(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError("fit: each batch must be (input, target) or (*inputs, target), got "
                        f"{type(batch).__name__}")
    return batch[:-1], batch[-1]


def _step_scheduler(scheduler, metric):
    if scheduler is None:
        return
    if isinstance(scheduler, nn.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(metric)
    else:
        scheduler.step()


def fit(model, loss, optimizer, train_loader, epochs, val_loader=None, scheduler=None,
        clip=None, accuracy="auto", progress=True):
    """Train `model` for `epochs` passes over `train_loader`.

    Args:
        model: the Module; put in train mode for each epoch.
        loss: callable(output, target) -> scalar Tensor (a loss module, `F.cross_entropy`, or
            a closure adding a penalty).
        optimizer: an `nn.optim` optimizer over the model's parameters.
        train_loader: an iterable of batches, e.g. an `nn.data.DataLoader`.
        epochs: number of passes.
        val_loader: evaluated after every epoch when given.
        scheduler: an lr scheduler, stepped once per epoch (ReduceLROnPlateau gets the
            validation loss, or the training loss without a val_loader).
        clip: max global gradient norm (`nn.utils.clip_grad_norm_`), or None.
        accuracy: callable(output, target) -> number correct, "auto" or None.
        progress: show a tqdm bar per epoch (kept on screen for up to 10 epochs, else
            only the last).

    Returns a history dict of per-epoch lists: train_loss, train_acc, val_loss, val_acc
    (None where not measured), lr and seconds.
    """
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": [], "lr": [],
               "seconds": []}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        total = seen = correct = 0
        counter = accuracy
        # one bar per epoch; with many epochs only the last one stays on screen
        bar = tqdm(total=_length(train_loader), desc=f"epoch {epoch}/{epochs}",
                   disable=not progress, leave=epochs <= 10 or epoch == epochs,
                   dynamic_ncols=True)
        for step, batch in enumerate(train_loader):
            inputs, target = _split(batch)
            optimizer.zero_grad()
            output = model(*inputs)
            value = loss(output, target)
            value.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
            n = len(target)
            total += value.item() * n
            seen += n
            if counter == "auto":
                counter = _resolve_accuracy(accuracy, output, target)
            if counter is not None:
                correct += counter(output.detach(), target)
            bar.update()
            if progress and step % 10 == 0:
                bar.set_postfix(_postfix(total / seen, correct / seen if counter else None),
                                refresh=False)
        if seen == 0:
            raise ValueError("fit: the training loader yielded no batches")
        history["train_loss"].append(total / seen)
        history["train_acc"].append(correct / seen if counter else None)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        val = evaluate(model, loss, val_loader, accuracy) if val_loader is not None else None
        history["val_loss"].append(val["loss"] if val else None)
        history["val_acc"].append(val["acc"] if val else None)
        history["seconds"].append(time.perf_counter() - start)
        if progress:
            postfix = _postfix(history["train_loss"][-1], history["train_acc"][-1])
            if val:
                postfix.update(_postfix(val["loss"], val["acc"], prefix="val_"))
            bar.set_postfix(postfix)
        bar.close()
        _step_scheduler(scheduler, val["loss"] if val else history["train_loss"][-1])
    return history


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _postfix(loss, acc, prefix=""):
    postfix = {f"{prefix}loss": f"{loss:.4f}"}
    if acc is not None:
        postfix[f"{prefix}acc"] = f"{acc:.4f}"
    return postfix


def evaluate(model, loss, loader, accuracy="auto", progress=False):
    """Mean loss and accuracy of `model` over `loader` in eval mode without the tape;
    returns {"loss": float, "acc": float or None}. The model's mode is restored after."""
    was_training = model.training
    model.eval()
    total = seen = correct = 0
    counter = accuracy
    try:
        with ag.no_grad():
            for batch in tqdm(loader, desc="eval", disable=not progress, leave=False):
                inputs, target = _split(batch)
                output = model(*inputs)
                n = len(target)
                total += loss(output, target).item() * n
                seen += n
                if counter == "auto":
                    counter = _resolve_accuracy(accuracy, output, target)
                if counter is not None:
                    correct += counter(output, target)
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total / seen, "acc": correct / seen if counter else None}
