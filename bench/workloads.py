"""The workload registry: every benchmark, with tapegrad's callable and PyTorch's.

A `Workload` names one thing to time. Its sides are `Side`s, picklable recipes: `side(dtype)`
calls `build(dtype, **kwargs)` and returns a zero-argument callable. Being picklable, the
PyTorch side is sent to the worker process and built there, so the worker does not import
tapegrad. Most builders are written once against the PyTorch spelling and run for either
library (`lib="ours"` or `lib="torch"`); both sides draw their inputs from the same seeded
numpy generator, so they see identical data. Parameters use each library's own
initialisation, which does not change the work done.

The curated workloads carry the shapes of ../shared/PERF.md, so their PyTorch figures compare
with its anchor table. Op-level rows are added from the op registry (`autograd.opinfo`), and
start-up rows (import, kernel compile and cache load, first training step) run fresh
processes.
"""
import importlib
import math
import pickle
import shutil
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

OURS, TORCH, NUMPY = "ours", "torch", "numpy"


@dataclass(frozen=True)
class Side:
    """A picklable recipe for one side's callable: `side(dtype)` -> zero-argument callable."""
    build: Callable
    kwargs: dict = field(default_factory=dict)

    def __call__(self, dtype):
        return self.build(dtype, **self.kwargs)


@dataclass(frozen=True)
class Workload:
    """One benchmark row.

    `flops` counts one call (None where a count means little: pooling, normalisation, losses).
    `per` divides the time of one call into the reported unit (`unit`), e.g. 210 ops of a chain.
    `budget` scales the run's --min-time for this row (the registry's tiny samples are stable
    and many, so they get less).
    A `self_timed` side returns its own measurement in seconds (start-up rows time a fresh
    process); `warmup=False` keeps the first call, which is the point of a cold measurement,
    and `rounds` fixes the round count of rows too slow for the usual calibration.
    """
    name: str
    family: str
    shape: str
    ours: Side | None
    torch: Side | None
    flops: float | None = None
    kind: str = "op"
    per: int = 1
    unit: str = "call"
    self_timed: bool = False
    warmup: bool = True
    rounds: int | None = None
    budget: float = 1.0
    torch_note: str = ""


def library(lib):
    """The modules a builder needs, spelled the same way for tapegrad and for PyTorch."""
    if lib == TORCH:
        import torch
        return SimpleNamespace(ag=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim,
                               tensor=_torch_tensor)
    return _Ours()


def _torch_tensor(array, requires_grad=False):
    import torch
    t = torch.from_numpy(np.ascontiguousarray(array).copy())
    return t.requires_grad_(True) if requires_grad else t


def _ours_tensor(array, requires_grad=False):
    import autograd
    return autograd.tensor(np.ascontiguousarray(array).copy(), requires_grad=requires_grad)


class _Ours:
    """tapegrad's packages, each imported when a builder first uses it: a workload that needs
    only `autograd` runs while `nn` is still being written, and one that needs a missing
    piece fails alone, with the ImportError as its reason."""
    tensor = staticmethod(_ours_tensor)
    ag = property(lambda self: importlib.import_module("autograd"))
    nn = property(lambda self: importlib.import_module("nn"))
    F = property(lambda self: importlib.import_module("nn.functional"))
    optim = property(lambda self: importlib.import_module("nn.optim"))


def _rng():
    return np.random.default_rng(0)


def _normal(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _to_dtype(module, dtype):
    """Modules are built in float32 by both libraries; `.double()` is the common spelling."""
    return module.double() if np.dtype(dtype) == np.float64 else module


def _count_params(model):
    return sum(math.prod(p.shape) for p in model.parameters())


def _check_params(model, expected, what):
    """Refuse to compare two different architectures: a wrong ratio is worse than none."""
    got = _count_params(model)
    if got != expected:
        raise ValueError(f"{what} has {got} parameters but the PyTorch reference has "
                         f"{expected}: not the same architecture, so no comparison")


def _op_callable(lib, mode, forward, leaves, rng, dtype):
    """fwd: the forward with the graph recorded (as in training); fwdbwd: forward + backward,
    seeded with a fixed random cotangent (a non-scalar output) and with the leaves' `.grad`
    cleared first, so no call pays for accumulating into the previous one's gradient."""
    if mode == "fwd":
        return forward
    out = forward()
    if isinstance(out, tuple):
        raise TypeError("fwdbwd needs a single output")
    grad = None if len(out.shape) == 0 else lib.tensor(_normal(rng, tuple(out.shape), dtype))

    def fwdbwd():
        for leaf in leaves:
            leaf.grad = None
        forward().backward(grad)
    return fwdbwd


def _train_step(opt, loss, mode):
    """fwd: loss with the graph recorded; fwdbwd: zero_grad + loss + backward; step: + opt.step."""
    if mode == "fwd":
        return loss

    def fwdbwd():
        opt.zero_grad()
        loss().backward()

    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()
    return fwdbwd if mode == "fwdbwd" else step


def matmul_case(dtype, lib, n, mode):
    rng = _rng()
    a, b = _normal(rng, (n, n), dtype), _normal(rng, (n, n), dtype)
    if lib == NUMPY:
        return lambda: np.matmul(a, b)
    L = library(lib)
    A, B = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
    return _op_callable(L, mode, lambda: A @ B, (A, B), rng, dtype)


def conv2d_case(dtype, lib, n, cin, hw, cout, k, stride, padding, mode, input_grad, groups=1):
    rng = _rng()
    L = library(lib)
    x = L.tensor(_normal(rng, (n, cin, hw, hw), dtype), requires_grad=input_grad)
    cg = cin // groups
    w = L.tensor(_normal(rng, (cout, cg, k, k), dtype, 1 / math.sqrt(cg * k * k)),
                 requires_grad=True)
    b = L.tensor(_normal(rng, (cout,), dtype, 0.1), requires_grad=True)
    leaves = (x, w, b) if input_grad else (w, b)
    return _op_callable(L, mode, lambda: L.F.conv2d(x, w, b, stride=stride, padding=padding,
                                                    groups=groups),
                        leaves, rng, dtype)


def pool_case(dtype, lib, pool, n, c, hw, k, mode):
    rng = _rng()
    L = library(lib)
    x = L.tensor(_normal(rng, (n, c, hw, hw), dtype), requires_grad=True)
    fn = L.F.max_pool2d if pool == "max" else L.F.avg_pool2d
    return _op_callable(L, mode, lambda: fn(x, k), (x,), rng, dtype)


def batchnorm_case(dtype, lib, n, c, hw, mode):
    rng = _rng()
    L = library(lib)
    bn = _to_dtype(L.nn.BatchNorm2d(c), dtype)
    bn.train()
    x = L.tensor(_normal(rng, (n, c, hw, hw), dtype), requires_grad=True)
    return _op_callable(L, mode, lambda: bn(x), (x, *bn.parameters()), rng, dtype)


def cross_entropy_case(dtype, lib, n, classes, mode):
    rng = _rng()
    L = library(lib)
    logits = L.tensor(_normal(rng, (n, classes), dtype), requires_grad=True)
    target = L.tensor(rng.integers(0, classes, n))
    return _op_callable(L, mode, lambda: L.F.cross_entropy(logits, target), (logits,), rng,
                        dtype)


def optimizer_case(dtype, lib, rule, sizes, mode):
    """One optimizer step over the parameters of a stack of Linear layers whose gradients are
    set once (the step is timed alone, as in a training loop after backward)."""
    rng = _rng()
    L = library(lib)
    layers = [L.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    params = [p for layer in layers for p in _to_dtype(layer, dtype).parameters()]
    for p in params:
        p.grad = L.tensor(_normal(rng, tuple(p.shape), dtype))
    opt = getattr(L.optim, rule)(params, lr=1e-3)
    return opt.step


def lstm_cell_case(dtype, lib, batch, inp, hidden, mode):
    rng = _rng()
    L = library(lib)
    cell = _to_dtype(L.nn.LSTMCell(inp, hidden), dtype)
    x = L.tensor(_normal(rng, (batch, inp), dtype), requires_grad=True)
    h0 = L.tensor(_normal(rng, (batch, hidden), dtype))
    c0 = L.tensor(_normal(rng, (batch, hidden), dtype))
    return _op_callable(L, mode, lambda: cell(x, (h0, c0))[0], (x, *cell.parameters()), rng,
                        dtype)


def lstm_layer_case(dtype, lib, steps, batch, inp, hidden, mode):
    rng = _rng()
    L = library(lib)
    lstm = _to_dtype(L.nn.LSTM(inp, hidden), dtype)
    x = L.tensor(_normal(rng, (steps, batch, inp), dtype), requires_grad=True)
    return _op_callable(L, mode, lambda: lstm(x)[0], (x, *lstm.parameters()), rng, dtype)


def _lengths(low, high, batch):
    """Sequence lengths uniform in [low, high], the same on both sides."""
    return np.random.default_rng(1).integers(low, high + 1, batch).tolist()


def rnn_layer_case(dtype, lib, layer, steps, batch, inp, hidden, mode, num_layers=1,
                   bidirectional=False, min_length=None):
    """nn.LSTM / nn.GRU / nn.RNN over a (T, N, I) batch. With `min_length` the batch has
    variable lengths, uniform in [min_length, steps], packed on both sides (the packing is
    part of the timed forward) and the output is the packed rows."""
    rng = _rng()
    L = library(lib)
    rnn = _to_dtype(getattr(L.nn, layer)(inp, hidden, num_layers=num_layers,
                                         bidirectional=bidirectional), dtype)
    x = L.tensor(_normal(rng, (steps, batch, inp), dtype), requires_grad=True)
    if min_length is None:
        return _op_callable(L, mode, lambda: rnn(x)[0], (x, *rnn.parameters()), rng, dtype)
    lengths = _lengths(min_length, steps, batch)
    pack = L.nn.utils.rnn.pack_padded_sequence

    def forward():
        return rnn(pack(x, lengths, enforce_sorted=False))[0].data
    return _op_callable(L, mode, forward, (x, *rnn.parameters()), rng, dtype)


def lstm_cell_loop_case(dtype, lib, steps, batch, inp, hidden, mode):
    """The same layer as `lstm_layer_case`, as a Python loop over nn.LSTMCell."""
    rng = _rng()
    L = library(lib)
    cell = _to_dtype(L.nn.LSTMCell(inp, hidden), dtype)
    x = L.tensor(_normal(rng, (steps, batch, inp), dtype), requires_grad=True)

    def forward():
        state, hs = None, []
        for t in range(steps):
            state = cell(x[t], state)
            hs.append(state[0])
        return L.ag.stack(hs)
    return _op_callable(L, mode, forward, (x, *cell.parameters()), rng, dtype)


def chain_case(dtype, lib, length, mode):
    """`length` elementwise ops on a (10,) tensor: what the tape costs per op.

    The cycle mixes binary and unary ops and stays bounded (exp of sigmoid minus a number in
    [0, 1)), so 210 ops never overflow."""
    rng = _rng()
    L = library(lib)
    x = L.tensor(_normal(rng, (10,), dtype), requires_grad=True)
    w1, w2, w3, w4 = (L.tensor(rng.uniform(0.5, 1.0, 10).astype(dtype)) for _ in range(4))

    def forward():
        y = x
        for _ in range(length // 7):
            y = ((((y * w1 + w2).tanh() * w3).sigmoid() - w4).exp())
        return y
    return _op_callable(L, mode, forward, (x,), rng, dtype)


def mlp_case(dtype, lib, batch, sizes, mode):
    rng = _rng()
    L = library(lib)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [L.nn.Linear(a, b)] + ([L.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = _to_dtype(L.nn.Sequential(*layers), dtype)
    opt = L.optim.SGD(model.parameters(), lr=0.1)
    x = L.tensor(_normal(rng, (batch, sizes[0]), dtype))
    t = L.tensor(rng.integers(0, sizes[-1], batch))
    return _train_step(opt, lambda: L.F.cross_entropy(model(x), t), mode)


LENET_PARAMS = {"relu": 44_426, "sigmoid": 61_706}


def _zoo_lenet(variant):
    """The zoo's LeNet-5 in PERF.md's two variants: the one place that spells the builder call.

    relu: conv5-relu-maxpool x2, 16*4*4 -> 120 -> 84 -> 10 (the 28x28 input is not padded);
    sigmoid: d2l's, conv5 padded by 2, sigmoid and avgpool, 16*5*5 -> 120 -> 84 -> 10."""
    from zoo.models.lenet import lenet
    if variant == "relu":
        return lenet(activation="relu", pool="max", padding=0)
    return lenet(activation="sigmoid", pool="avg", padding=2)


def _torch_lenet(variant):
    from torch import nn
    act, pool, pad, flat = ((nn.ReLU, nn.MaxPool2d, 0, 16 * 4 * 4) if variant == "relu"
                            else (nn.Sigmoid, nn.AvgPool2d, 2, 16 * 5 * 5))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=pad), act(), pool(2, 2),
        nn.Conv2d(6, 16, 5), act(), pool(2, 2), nn.Flatten(),
        nn.Linear(flat, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, 10))


def lenet_case(dtype, lib, variant, batch, mode):
    rng = _rng()
    L = library(lib)
    model = _torch_lenet(variant) if lib == TORCH else _zoo_lenet(variant)
    _check_params(model, LENET_PARAMS[variant], f"LeNet-5 ({variant}) of the {lib} side")
    model = _to_dtype(model, dtype)
    model.train()
    opt = L.optim.SGD(model.parameters(), lr=0.1)
    x = L.tensor(_normal(rng, (batch, 1, 28, 28), dtype))
    t = L.tensor(rng.integers(0, 10, batch))
    return _train_step(opt, lambda: L.F.cross_entropy(model(x), t), mode)


RESNET18_CIFAR_PARAMS = 11_176_970


def _zoo_resnet18():
    """The zoo's ResNet-18 with the CIFAR stem (3x3 conv, stride 1, no max-pool): the one place
    that spells the builder call."""
    from zoo.models.resnet import resnet18
    return resnet18(num_classes=10, in_channels=3, stem="cifar")


def _torch_resnet18_cifar():
    """d2l's ResNet-18 (convolutions with bias, a plain strided 1x1 convolution on a shortcut
    that changes the shape) with the CIFAR stem, as the zoo builds it."""
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = (nn.Conv2d(cin, cout, 1, stride)
                             if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            y = nn.functional.relu(self.bn1(self.conv1(x)))
            return nn.functional.relu(self.bn2(self.conv2(y)) + self.shortcut(x))

    stages = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
    body = [nn.Sequential(Residual(i, o, s), Residual(o, o, 1)) for i, o, s in stages]
    return nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(),
                         *body, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))


def resnet18_case(dtype, lib, batch, mode):
    rng = _rng()
    L = library(lib)
    model = _torch_resnet18_cifar() if lib == TORCH else _zoo_resnet18()
    _check_params(model, RESNET18_CIFAR_PARAMS, f"ResNet-18 (CIFAR) of the {lib} side")
    model = _to_dtype(model, dtype)
    model.train()
    opt = L.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = L.tensor(_normal(rng, (batch, 3, 32, 32), dtype))
    t = L.tensor(rng.integers(0, 10, batch))
    return _train_step(opt, lambda: L.F.cross_entropy(model(x), t), mode)


def _ours_sgns_loss(L, in_emb, out_emb, centers, contexts, labels, mask, mask_sums):
    """tapegrad's fused negative-sampling loss when it exists (the one place that spells its
    call), else the same composition of ops as PyTorch's."""
    fused = getattr(L.F, "negative_sampling_loss", None)
    if fused is not None:
        flat = centers.reshape(-1)
        return lambda: fused(flat, contexts, labels, mask, in_emb.weight, out_emb.weight)
    return _sgns_loss(L, in_emb, out_emb, centers, contexts, labels, mask, mask_sums)


def _sgns_loss(L, in_emb, out_emb, centers, contexts, labels, mask, mask_sums):
    """d2l's skip-gram loss: masked binary cross-entropy of center . context logits."""
    batch, cols = contexts.shape

    def loss():
        pred = L.ag.bmm(in_emb(centers), out_emb(contexts).permute(0, 2, 1)).reshape(batch, cols)
        per_col = L.F.binary_cross_entropy_with_logits(pred, labels, weight=mask,
                                                       reduction="none")
        return (per_col.sum(1) / mask_sums).mean()
    return loss


def sgns_case(dtype, lib, vocab, dim, batch, cols, mode):
    """word2vec skip-gram with negative sampling: each row holds up to 5 context words and 5
    noise words per context word, padded to `cols` columns and masked (d2l's batching)."""
    rng = _rng()
    n_ctx = rng.integers(1, cols // 6 + 1, batch)
    col = np.arange(cols)
    labels = (col < n_ctx[:, None]).astype(dtype)
    mask = (col < 6 * n_ctx[:, None]).astype(dtype)
    centers = rng.integers(0, vocab, (batch, 1))
    contexts = rng.integers(0, vocab, (batch, cols))
    L = library(lib)
    in_emb = _to_dtype(L.nn.Embedding(vocab, dim, sparse=True), dtype)
    out_emb = _to_dtype(L.nn.Embedding(vocab, dim, sparse=True), dtype)
    opt = L.optim.SGD([*in_emb.parameters(), *out_emb.parameters()], lr=0.01)
    args = (L.tensor(centers), L.tensor(contexts), L.tensor(labels), L.tensor(mask),
            L.tensor(mask.sum(1)))
    make = _sgns_loss if lib == TORCH else _ours_sgns_loss
    return _train_step(opt, make(L, in_emb, out_emb, *args), mode)


def embedding_sparse_sgd_case(dtype, lib, vocab, dim, batch, cols, mode):
    """An embedding table's backward and its sparse SGD step alone: the lookup of (batch, cols)
    ids is recorded once and backpropagated again every call (retain_graph), with a fixed
    cotangent, into a row-sparse gradient that SGD applies."""
    rng = _rng()
    L = library(lib)
    emb = _to_dtype(L.nn.Embedding(vocab, dim, sparse=True), dtype)
    opt = L.optim.SGD(emb.parameters(), lr=0.01)
    out = emb(L.tensor(rng.integers(0, vocab, (batch, cols))))
    grad = L.tensor(_normal(rng, (batch, cols, dim), dtype))

    def step():
        opt.zero_grad()
        out.backward(grad, retain_graph=True)
        opt.step()
    return step


def embedding_bag_case(dtype, lib, vocab, dim, bags, mean_size, mode):
    """fastText's input layer: the mean of each bag of 1-D ids given by offsets (bags of
    mean_size ids on average), with a row-sparse gradient for the table."""
    rng = _rng()
    L = library(lib)
    sizes = rng.integers(mean_size // 2, mean_size + mean_size // 2 + 1, bags)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ids = L.tensor(rng.integers(0, vocab, int(sizes.sum())))
    bag = _to_dtype(L.nn.EmbeddingBag(vocab, dim, mode="mean", sparse=True), dtype)
    return _op_callable(L, mode, lambda: bag(ids, L.tensor(offsets)), [bag.weight], rng,
                        dtype)


def _conv_flops(n, cin, cout, out_hw, k):
    return 2.0 * n * cout * out_hw * out_hw * cin * k * k


def _train_flops(layers):
    """FLOPs of forward + backward for a list of per-layer forward FLOPs: the backward costs
    one weight-gradient product per layer and one input-gradient product per layer but the
    first (the input needs no gradient)."""
    return sum(layers) * 2 + sum(layers[1:])


def _lenet_flops(variant, batch):
    if variant == "relu":
        layers = [_conv_flops(batch, 1, 6, 24, 5), _conv_flops(batch, 6, 16, 8, 5)]
        sizes = [256, 120, 84, 10]
    else:
        layers = [_conv_flops(batch, 1, 6, 28, 5), _conv_flops(batch, 6, 16, 10, 5)]
        sizes = [400, 120, 84, 10]
    return layers + [2.0 * batch * a * b for a, b in zip(sizes, sizes[1:])]


def _resnet18_flops(batch):
    layers, hw = [_conv_flops(batch, 3, 64, 32, 3)], 32
    for cin, cout, stride in [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]:
        hw //= stride
        layers += [_conv_flops(batch, cin, cout, hw, 3), _conv_flops(batch, cout, cout, hw, 3)]
        if stride != 1:
            layers.append(_conv_flops(batch, cin, cout, hw, 1))
        layers += [_conv_flops(batch, cout, cout, hw, 3)] * 2
    return layers + [2.0 * batch * 512 * 10]


def _pair(build, **kwargs):
    return Side(build, {"lib": OURS, **kwargs}), Side(build, {"lib": TORCH, **kwargs})


def _op_rows(name, family, shape, build, flops=None, bwd_flops=None, kind="op", **kwargs):
    """The fwd and fwdbwd rows of one op-level workload."""
    rows = []
    for mode, f in (("fwd", flops), ("fwdbwd", bwd_flops)):
        ours, torch = _pair(build, mode=mode, **kwargs)
        rows.append(Workload(f"{name}.{mode}", family, shape, ours, torch, flops=f, kind=kind))
    return rows


def _step_rows(name, family, shape, build, layer_flops=None, **kwargs):
    """The fwd, fwdbwd and full-step rows of one training step."""
    fwd = sum(layer_flops) if layer_flops else None
    train = _train_flops(layer_flops) if layer_flops else None
    rows = []
    for mode, f in (("fwd", fwd), ("fwdbwd", train), ("step", train)):
        ours, torch = _pair(build, mode=mode, **kwargs)
        rows.append(Workload(f"{name}.{mode}", family, shape, ours, torch, flops=f,
                             kind="model"))
    return rows


def curated():
    """The workloads of PERF.md's anchor table, with its shapes, in its order."""
    rows = []
    n = 1024
    rows += _op_rows("matmul.1024", "matmul", "1024x1024 @ 1024x1024", matmul_case,
                     flops=2.0 * n**3, bwd_flops=6.0 * n**3, n=n)
    rows.append(Workload("matmul.1024.numpy_sgemm", "matmul", "1024x1024 @ 1024x1024, ours = numpy",
                         Side(matmul_case, {"lib": NUMPY, "n": n, "mode": "fwd"}),
                         Side(matmul_case, {"lib": TORCH, "n": n, "mode": "fwd"}),
                         flops=2.0 * n**3))
    mlp = [784, 256, 256, 10]
    rows += _step_rows("mlp", "mlp", "B64, 784-256-256-10, ReLU, CE, SGD", mlp_case,
                       layer_flops=[2.0 * 64 * a * b for a, b in zip(mlp, mlp[1:])],
                       batch=64, sizes=mlp)
    convs = [("lenet_conv1", 64, 1, 28, 6, 5, 1, 0, False),
             ("lenet_conv2", 64, 6, 12, 16, 5, 1, 0, True),
             ("resnet_block", 32, 64, 32, 64, 3, 1, 1, True),
             ("resnet_stem", 8, 3, 224, 64, 7, 2, 3, False)]
    for label, nb, cin, hw, cout, k, s, p, input_grad in convs:
        out_hw = (hw + 2 * p - k) // s + 1
        f = _conv_flops(nb, cin, cout, out_hw, k)
        rows += _op_rows(f"conv2d.{label}", "conv",
                         f"N{nb} {cin}x{hw}x{hw} -> {cout}, k{k}"
                         + (f" s{s}" if s > 1 else "") + (f" p{p}" if p else "")
                         + ("" if input_grad else ", first layer (no input grad)"),
                         conv2d_case, flops=f, bwd_flops=f * (3 if input_grad else 2),
                         n=nb, cin=cin, hw=hw, cout=cout, k=k, stride=s, padding=p,
                         input_grad=input_grad)
    depthwise = _conv_flops(32, 1, 64, 32, 3)
    rows += _op_rows("conv2d.mobilenet_depthwise", "conv",
                     "N32 64x32x32 -> 64, k3 p1, groups 64 (depthwise)", conv2d_case,
                     flops=depthwise, bwd_flops=3 * depthwise, n=32, cin=64, hw=32, cout=64,
                     k=3, stride=1, padding=1, input_grad=True, groups=64)
    for pool, nb, c, hw in [("max", 64, 6, 24), ("max", 32, 64, 32), ("avg", 32, 64, 32)]:
        rows += _op_rows(f"{pool}_pool2d.N{nb}C{c}", "pool", f"2x2, N{nb} C{c} {hw}x{hw}",
                         pool_case, pool=pool, n=nb, c=c, hw=hw, k=2)
    for variant, label in [("relu", "ReLU, maxpool"), ("sigmoid", "sigmoid, avgpool, d2l")]:
        rows += _step_rows(f"lenet.{variant}", "lenet", f"B64 1x28x28, {label}",
                           lenet_case, layer_flops=_lenet_flops(variant, 64),
                           variant=variant, batch=64)
    cell = 2.0 * 32 * (128 + 256) * 4 * 256
    rows += _op_rows("lstm.cell", "lstm", "B32 I128 H256, one step", lstm_cell_case,
                     flops=cell, bwd_flops=3 * cell, batch=32, inp=128, hidden=256)
    rows += _op_rows("lstm.layer.T35", "lstm", "T35 B32 I128 H256, nn.LSTM", lstm_layer_case,
                     flops=35 * cell, bwd_flops=3 * 35 * cell, steps=35, batch=32, inp=128,
                     hidden=256)
    rows += _op_rows("lstm.cell_loop.T35", "lstm", "T35 B32 I128 H256, loop over LSTMCell",
                     lstm_cell_loop_case, flops=35 * cell, bwd_flops=3 * 35 * cell, steps=35,
                     batch=32, inp=128, hidden=256)
    shape = dict(steps=35, batch=32, inp=128, hidden=256)
    deep = 2 * 35 * (cell + 2.0 * 32 * (512 + 256) * 4 * 256)   # 2 layers, 2 directions
    rows += _op_rows("lstm.bidir2.T35", "lstm", "T35 B32 I128 H256, 2 layers, bidirectional",
                     rnn_layer_case, flops=deep, bwd_flops=3 * deep, layer="LSTM",
                     num_layers=2, bidirectional=True, **shape)
    packed_rows = sum(_lengths(5, 35, 32))
    rows += _op_rows("lstm.packed.T35", "lstm",
                     "T35 B32 I128 H256, lengths U[5, 35], packed", rnn_layer_case,
                     flops=packed_rows * cell / 32, bwd_flops=3 * packed_rows * cell / 32,
                     layer="LSTM", min_length=5, **shape)
    for kind, gates in (("GRU", 3), ("RNN", 1)):
        f = 35 * cell * gates / 4
        rows += _op_rows(f"{kind.lower()}.layer.T35", kind.lower(),
                         f"T35 B32 I128 H256, nn.{kind}" + (" (tanh)" if kind == "RNN" else ""),
                         rnn_layer_case, flops=f, bwd_flops=3 * f, layer=kind, **shape)
    for nb, classes in [(64, 10), (512, 1000), (4096, 10000)]:
        rows += _op_rows(f"cross_entropy.{nb}x{classes}", "loss", f"{nb}x{classes}",
                         cross_entropy_case, n=nb, classes=classes)
    sizes = [500, 1000, 500]
    n_params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    for rule in ("Adam", "SGD"):
        ours, torch = _pair(optimizer_case, rule=rule, sizes=sizes, mode="step")
        rows.append(Workload(f"optim.{rule.lower()}.1M.step", "optim",
                             f"{n_params / 1e6:.1f}M parameters, 2 Linear layers", ours, torch))
    rows += _step_rows("word2vec.sgns", "embedding",
                       "V10k D100 B512, 30 context+noise columns, mask, sparse, SGD",
                       sgns_case, vocab=10_000, dim=100, batch=512, cols=30)
    ours, torch = _pair(embedding_sparse_sgd_case, mode="step", vocab=10_000, dim=100,
                        batch=512, cols=31)
    rows.append(Workload("embedding.sparse_sgd", "embedding",
                         "V10k D100, 512x31 ids, backward + sparse SGD", ours, torch))
    ours, torch = _pair(embedding_bag_case, mode="fwdbwd", vocab=10_000, dim=100, bags=512,
                        mean_size=10)
    rows.append(Workload("embedding_bag.fwdbwd", "embedding",
                         "V10k D100, 512 bags of 5-15 ids, mean, sparse", ours, torch))
    rows += _op_rows("batchnorm2d.train", "norm", "N32 C64 32x32, train mode", batchnorm_case,
                     n=32, c=64, hw=32)
    rows += _step_rows("resnet18.cifar", "resnet", "B16 3x32x32, SGD momentum",
                       resnet18_case, layer_flops=_resnet18_flops(16), batch=16)
    for mode in ("fwd", "fwdbwd"):
        ours, torch = _pair(chain_case, length=210, mode=mode)
        rows.append(Workload(f"tape.chain210.{mode}", "tape", "210 elementwise ops on (10,)",
                             ours, torch, per=210, unit="op"))
    return rows


def _op_family(op):
    """An op's family is the module its Function classes live in (autograd/ops/<family>.py)."""
    return op.functions[0].__module__.rsplit(".", 1)[-1] if op.functions else "op"


def _float_size(sample):
    return sum(a.size for a in sample.args
               if isinstance(a, np.ndarray) and a.dtype.kind == "f")


def registry_ops():
    """The op registry (`autograd.opinfo.OPS`); raises ImportError while it does not exist."""
    from autograd.opinfo import OPS
    return OPS


def _cast(value, dtype):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype)
    return value


def registry_case(dtype, lib, op_name, sample_index, torch_ref=None, args=None, kwargs=None,
                  wrt=(0,)):
    """fwd+bwd of one registry op on one of its samples. tapegrad's side reads the sample from
    the registry; PyTorch's side gets the arrays and `torch_ref` in its kwargs, so the worker
    does not import tapegrad, unless `torch_ref` is None: a reference that does not pickle (a
    lambda) is then read from the registry in the worker, after torch has set up its threads."""
    if lib == OURS or torch_ref is None:
        op = next(o for o in registry_ops() if o.name == op_name)
        sample = list(op.samples(np.random.default_rng(0)))[sample_index]
        args, kwargs, wrt = sample.args, sample.kwargs, sample.wrt
        fn = op.fn if lib == OURS else _torch_fn(op.torch_ref)
    else:
        fn = _torch_fn(torch_ref)
    L = library(lib)
    rng = _rng()

    def wrap(i, value):
        value = _cast(value, dtype)
        if isinstance(value, np.ndarray):
            return L.tensor(value, requires_grad=i in wrt)
        return value

    tensors = [wrap(i, a) for i, a in enumerate(args)]
    kw = {k: wrap(-1, v) for k, v in kwargs.items()}

    def forward():
        out = fn(*tensors, **kw)
        return out[0] if isinstance(out, tuple) else out
    return _op_callable(L, "fwdbwd", forward, [tensors[i] for i in wrt], rng, dtype)


def _torch_fn(ref):
    """A callable on torch tensors from a registry `torch_ref`: "torch.x.y" or fn(torch, ...)."""
    import torch
    if callable(ref):
        return lambda *args, **kwargs: ref(torch, *args, **kwargs)
    obj = torch
    for part in ref.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _picklable(obj):
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


def registry_rows():
    """One fwd+bwd row per registered op, on its largest sample; PyTorch's side where the op
    names a `torch_ref`."""
    rows = []
    for op in registry_ops():
        samples = list(op.samples(np.random.default_rng(0)))
        if not samples:
            continue
        i = max(range(len(samples)), key=lambda j: _float_size(samples[j]))
        sample = samples[i]
        shape = " ".join("x".join(map(str, a.shape)) or "scalar"
                         for a in sample.args if isinstance(a, np.ndarray))
        ours = Side(registry_case, {"lib": OURS, "op_name": op.name, "sample_index": i})
        torch = None
        if op.torch_ref is not None:
            ref = op.torch_ref if _picklable(op.torch_ref) else None
            torch = Side(registry_case, {"lib": TORCH, "op_name": op.name, "sample_index": i,
                                         "torch_ref": ref, "args": sample.args,
                                         "kwargs": sample.kwargs, "wrt": sample.wrt})
        label = f"[{sample.label}]" if sample.label else ""
        rows.append(Workload(f"registry.{op.name}{label}.fwdbwd", _op_family(op), shape, ours,
                             torch, budget=0.3, torch_note="" if torch else "no torch_ref"))
    return rows


def startup_case(dtype, lib, task, cache=None, **kwargs):
    """A self-timed callable: each call runs `task` in a fresh Python process and returns the
    seconds the child measured. `cache` is None (leave Numba's cache alone), "cold" (a new,
    empty cache every call) or "warm" (one cache for this row, filled by the warm-up call)."""
    from bench.timing import numba_cache, run_child

    def call():
        cache_dir = None
        if cache == "cold":
            cache_dir = numba_cache(None)
        elif cache == "warm":
            cache_dir = numba_cache((task, lib, dtype, tuple(sorted(kwargs.items()))))
        seconds = run_child(task, dict(kwargs, lib=lib, dtype=dtype), cache_dir)
        if cache == "cold":
            shutil.rmtree(cache_dir, ignore_errors=True)
        return seconds
    return call


def compile_families():
    """Op families of the registry, in registry order."""
    families = []
    for op in registry_ops():
        family = _op_family(op)
        if family not in families:
            families.append(family)
    return families


def startup_rows(families):
    """Start-up figures: import, Numba compile (empty cache) and cache load of each kernel
    family, and the time to LeNet's first training step, against import torch + its first
    step. Compiles run once: a cold compile of a family can take a minute."""
    def row(name, shape, ours, torch, **kw):
        return Workload(f"startup.{name}", "startup", shape, ours, torch, kind="startup",
                        self_timed=True, **kw)

    rows = [row("import", "import autograd, nn | import torch",
                Side(startup_case, {"lib": OURS, "task": "import"}),
                Side(startup_case, {"lib": TORCH, "task": "import"}))]
    for family in families:
        ours = {"lib": OURS, "task": "compile", "family": family}
        rows.append(row(f"compile.{family}.cold", f"{family} ops, empty Numba cache",
                        Side(startup_case, dict(ours, cache="cold")), None, warmup=False,
                        rounds=1, torch_note="no JIT"))
        rows.append(row(f"compile.{family}.warm", f"{family} ops, cached kernels",
                        Side(startup_case, dict(ours, cache="warm")), None, rounds=3,
                        torch_note="no JIT"))
    torch = Side(startup_case, {"lib": TORCH, "task": "first_step"})
    rows.append(row("lenet_first_step.cold", "import + LeNet + 1 step, empty Numba cache",
                    Side(startup_case, {"lib": OURS, "task": "first_step", "cache": "cold"}),
                    torch, warmup=False, rounds=1))
    rows.append(row("lenet_first_step.warm", "import + LeNet + 1 step, cached kernels",
                    Side(startup_case, {"lib": OURS, "task": "first_step", "cache": "warm"}),
                    torch, rounds=3))
    return rows


def child_task(task, lib, dtype, family=None):
    """Run one start-up task in this (fresh) process and return its seconds. Imports that are
    not the library's own (numpy, bench) happen before the clock starts."""
    from time import perf_counter
    if task == "compile":
        import autograd  # noqa: F401  (imports are the "import" row's business)
        cases = []
        for op in registry_ops():
            if _op_family(op) == family:
                for i, _ in enumerate(op.samples(np.random.default_rng(0))):
                    cases.append((op.name, i))
        start = perf_counter()
        for op_name, i in cases:
            try:
                registry_case(dtype, OURS, op_name, i)()
            except Exception:     # a broken sample is the registry row's to report
                pass
        return perf_counter() - start
    start = perf_counter()
    if task == "import":
        if lib == TORCH:
            import torch  # noqa: F401
        else:
            import autograd  # noqa: F401
            import nn  # noqa: F401
            import nn.functional  # noqa: F401
    elif task == "first_step":
        lenet_case(dtype, lib, "relu", 64, "step")()
    else:
        raise ValueError(f"unknown start-up task {task!r}")
    return perf_counter() - start


def registry():
    """Every workload, and notes on what could not be listed (e.g. no op registry yet)."""
    notes = []
    rows = curated()
    try:
        rows += registry_rows()
        families = compile_families()
    except Exception as exc:      # a half-written registry must not stop the curated rows
        notes.append(f"op registry not available ({type(exc).__name__}: {exc}): no registry "
                     f"rows and no per-family compile rows")
        families = []
    rows += startup_rows(families)
    return rows, notes

