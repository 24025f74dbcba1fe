"""The CNN zoo against d2l's PyTorch code: each model is rebuilt in torch the way the book
writes it (lazy layers sized by a dry run, so our channel and flatten arithmetic is checked
independently), the parameter counts and state_dict shapes agree, torch's weights load into
ours and give the same outputs, and a forward and backward run. The blocks keep d2l's
shapes; LeNet and a residual block match torch's forward and backward in training mode; the
transform dataset and the recipes work, and the ResNet recipe's PyTorch twin trains exactly
like ours in float64. Curriculum-size runs, the recipe's PyTorch comparison process and
full-MNIST LeNet training are `slow`."""
import functools
import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from zoo.data.transformed import TransformedDataset
from zoo.data.transforms import Compose, Normalize, RandomHorizontalFlip, RandomResizedCrop
from zoo.models._sizes import output_hw
from zoo.models.alexnet import alexnet
from zoo.models.bn import mlp_bn
from zoo.models.densenet import DenseBlock, densenet, transition_block
from zoo.models.googlenet import Inception, googlenet
from zoo.models.lenet import lenet, lenet_bn
from zoo.models.nin import nin, nin_block
from zoo.models.resnet import Residual, resnet18
from zoo.models.vgg import vgg11, vgg_block

torch = pytest.importorskip("torch")
tnn = torch.nn


def _count(model):
    return sum(math.prod(p.shape) for p in model.parameters())


def _relative(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


# d2l's PyTorch code, with lazy layers as in the book; block attribute names follow ours.
def _torch_lenet(num_classes, activation="sigmoid", pool="avg", padding=2):
    act = {"sigmoid": tnn.Sigmoid, "relu": tnn.ReLU}[activation]
    pooling = {"avg": tnn.AvgPool2d, "max": tnn.MaxPool2d}[pool]
    return tnn.Sequential(
        tnn.LazyConv2d(6, kernel_size=5, padding=padding), act(),
        pooling(kernel_size=2, stride=2),
        tnn.LazyConv2d(16, kernel_size=5), act(), pooling(kernel_size=2, stride=2),
        tnn.Flatten(),
        tnn.LazyLinear(120), act(), tnn.LazyLinear(84), act(), tnn.LazyLinear(num_classes))


def _torch_lenet_bn(num_classes):
    return tnn.Sequential(
        tnn.LazyConv2d(6, kernel_size=5), tnn.LazyBatchNorm2d(), tnn.Sigmoid(),
        tnn.AvgPool2d(kernel_size=2, stride=2),
        tnn.LazyConv2d(16, kernel_size=5), tnn.LazyBatchNorm2d(), tnn.Sigmoid(),
        tnn.AvgPool2d(kernel_size=2, stride=2), tnn.Flatten(),
        tnn.LazyLinear(120), tnn.LazyBatchNorm1d(), tnn.Sigmoid(),
        tnn.LazyLinear(84), tnn.LazyBatchNorm1d(), tnn.Sigmoid(),
        tnn.LazyLinear(num_classes))


def _torch_mlp_bn(num_classes):
    return tnn.Sequential(
        tnn.Flatten(), tnn.LazyLinear(256), tnn.LazyBatchNorm1d(), tnn.ReLU(),
        tnn.LazyLinear(256), tnn.LazyBatchNorm1d(), tnn.ReLU(), tnn.LazyLinear(num_classes))


def _torch_alexnet(num_classes):
    return tnn.Sequential(
        tnn.LazyConv2d(96, kernel_size=11, stride=4, padding=1), tnn.ReLU(),
        tnn.MaxPool2d(kernel_size=3, stride=2),
        tnn.LazyConv2d(256, kernel_size=5, padding=2), tnn.ReLU(),
        tnn.MaxPool2d(kernel_size=3, stride=2),
        tnn.LazyConv2d(384, kernel_size=3, padding=1), tnn.ReLU(),
        tnn.LazyConv2d(384, kernel_size=3, padding=1), tnn.ReLU(),
        tnn.LazyConv2d(256, kernel_size=3, padding=1), tnn.ReLU(),
        tnn.MaxPool2d(kernel_size=3, stride=2), tnn.Flatten(),
        tnn.LazyLinear(4096), tnn.ReLU(), tnn.Dropout(p=0.5),
        tnn.LazyLinear(4096), tnn.ReLU(), tnn.Dropout(p=0.5),
        tnn.LazyLinear(num_classes))


def _torch_vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(tnn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(tnn.ReLU())
    layers.append(tnn.MaxPool2d(kernel_size=2, stride=2))
    return tnn.Sequential(*layers)


def _torch_vgg11(num_classes):
    arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    return tnn.Sequential(
        *[_torch_vgg_block(*b) for b in arch], tnn.Flatten(),
        tnn.LazyLinear(4096), tnn.ReLU(), tnn.Dropout(0.5),
        tnn.LazyLinear(4096), tnn.ReLU(), tnn.Dropout(0.5),
        tnn.LazyLinear(num_classes))


def _torch_nin_block(out_channels, kernel_size, strides, padding):
    return tnn.Sequential(
        tnn.LazyConv2d(out_channels, kernel_size, strides, padding), tnn.ReLU(),
        tnn.LazyConv2d(out_channels, kernel_size=1), tnn.ReLU(),
        tnn.LazyConv2d(out_channels, kernel_size=1), tnn.ReLU())


def _torch_nin(num_classes):
    return tnn.Sequential(
        _torch_nin_block(96, kernel_size=11, strides=4, padding=0),
        tnn.MaxPool2d(3, stride=2),
        _torch_nin_block(256, kernel_size=5, strides=1, padding=2),
        tnn.MaxPool2d(3, stride=2),
        _torch_nin_block(384, kernel_size=3, strides=1, padding=1),
        tnn.MaxPool2d(3, stride=2),
        tnn.Dropout(0.5),
        _torch_nin_block(num_classes, kernel_size=3, strides=1, padding=1),
        tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten())


class _TorchInception(tnn.Module):
    def __init__(self, c1, c2, c3, c4):
        super().__init__()
        self.b1_1 = tnn.LazyConv2d(c1, kernel_size=1)
        self.b2_1 = tnn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = tnn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        self.b3_1 = tnn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = tnn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        self.b4_1 = tnn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = tnn.LazyConv2d(c4, kernel_size=1)

    def forward(self, x):
        relu = tnn.functional.relu
        b1 = relu(self.b1_1(x))
        b2 = relu(self.b2_2(relu(self.b2_1(x))))
        b3 = relu(self.b3_2(relu(self.b3_1(x))))
        b4 = relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


def _torch_googlenet(num_classes):
    b1 = tnn.Sequential(tnn.LazyConv2d(64, kernel_size=7, stride=2, padding=3), tnn.ReLU(),
                        tnn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = tnn.Sequential(tnn.LazyConv2d(64, kernel_size=1), tnn.ReLU(),
                        tnn.LazyConv2d(192, kernel_size=3, padding=1), tnn.ReLU(),
                        tnn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b3 = tnn.Sequential(_TorchInception(64, (96, 128), (16, 32), 32),
                        _TorchInception(128, (128, 192), (32, 96), 64),
                        tnn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b4 = tnn.Sequential(_TorchInception(192, (96, 208), (16, 48), 64),
                        _TorchInception(160, (112, 224), (24, 64), 64),
                        _TorchInception(128, (128, 256), (24, 64), 64),
                        _TorchInception(112, (144, 288), (32, 64), 64),
                        _TorchInception(256, (160, 320), (32, 128), 128),
                        tnn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b5 = tnn.Sequential(_TorchInception(256, (160, 320), (32, 128), 128),
                        _TorchInception(384, (192, 384), (48, 128), 128),
                        tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten())
    return tnn.Sequential(b1, b2, b3, b4, b5, tnn.LazyLinear(num_classes))


class _TorchResidual(tnn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = tnn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.bn1 = tnn.LazyBatchNorm2d()
        self.conv2 = tnn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        self.bn2 = tnn.LazyBatchNorm2d()
        self.shortcut = (tnn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
                         if use_1x1conv else tnn.Identity())

    def forward(self, x):
        y = tnn.functional.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return tnn.functional.relu(y + self.shortcut(x))


def _torch_resnet18(num_classes):
    def block(num_residuals, num_channels, first_block=False):
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(_TorchResidual(num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(_TorchResidual(num_channels))
        return tnn.Sequential(*blk)

    b1 = tnn.Sequential(tnn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
                        tnn.LazyBatchNorm2d(), tnn.ReLU(),
                        tnn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    arch = ((2, 64), (2, 128), (2, 256), (2, 512))
    return tnn.Sequential(b1, *[block(*b, first_block=(i == 0)) for i, b in enumerate(arch)],
                          tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten(),
                          tnn.LazyLinear(num_classes))


class _TorchDenseBlock(tnn.Module):
    def __init__(self, num_convs, num_channels):
        super().__init__()
        self.net = tnn.Sequential(*[
            tnn.Sequential(tnn.LazyBatchNorm2d(), tnn.ReLU(),
                           tnn.LazyConv2d(num_channels, kernel_size=3, padding=1))
            for _ in range(num_convs)])

    def forward(self, x):
        for blk in self.net:
            y = blk(x)
            x = torch.cat((x, y), dim=1)
        return x


def _torch_densenet(num_classes, num_channels=64, growth_rate=32, arch=(4, 4, 4, 4)):
    layers = [tnn.LazyConv2d(64, kernel_size=7, stride=2, padding=3), tnn.LazyBatchNorm2d(),
              tnn.ReLU(), tnn.MaxPool2d(kernel_size=3, stride=2, padding=1)]
    for i, num_convs in enumerate(arch):
        layers.append(_TorchDenseBlock(num_convs, growth_rate))
        num_channels += num_convs * growth_rate
        if i != len(arch) - 1:
            num_channels //= 2
            layers.append(tnn.Sequential(
                tnn.LazyBatchNorm2d(), tnn.ReLU(), tnn.LazyConv2d(num_channels, kernel_size=1),
                tnn.AvgPool2d(kernel_size=2, stride=2)))
    layers += [tnn.LazyBatchNorm2d(), tnn.ReLU(), tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten(),
               tnn.LazyLinear(num_classes)]
    return tnn.Sequential(*layers)


# name: (our builder, torch builder, smallest input size, d2l's input size)
MODELS = {
    "lenet": (lenet, _torch_lenet, 12, 28),
    "lenet_relu_max": (functools.partial(lenet, activation="relu", pool="max"),
                       functools.partial(_torch_lenet, activation="relu", pool="max"), 12, 28),
    "lenet_bn": (lenet_bn, _torch_lenet_bn, 16, 28),
    "mlp_bn": (None, _torch_mlp_bn, 12, 28),
    "alexnet": (alexnet, _torch_alexnet, 65, 224),
    "vgg11": (vgg11, _torch_vgg11, 32, 224),
    "nin": (nin, _torch_nin, 67, 224),
    "googlenet": (googlenet, _torch_googlenet, 16, 96),
    "resnet18": (resnet18, _torch_resnet18, 16, 96),
    "densenet": (densenet, _torch_densenet, 29, 96),
}

# the books' figures: one input channel, 10 classes, d2l's input size
D2L_PARAMS = {"lenet": 61_706, "lenet_relu_max": 61_706, "lenet_bn": 44_878,
              "mlp_bn": 270_346, "alexnet": 46_764_746, "vgg11": 128_806_154,
              "nin": 1_992_166, "googlenet": 5_977_530, "resnet18": 11_178_378,
              "densenet": 758_226}


def _build_pair(name, in_channels, num_classes, size):
    ours_builder, torch_builder, _, _ = MODELS[name]
    if name == "mlp_bn":
        ours = mlp_bn(in_features=in_channels * size * size, num_classes=num_classes)
    else:
        ours = ours_builder(in_channels=in_channels, num_classes=num_classes, image_size=size)
    torch.manual_seed(0)
    theirs = torch_builder(num_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                      # "lazy modules are new"
        with torch.no_grad():
            theirs.eval()(torch.zeros(1, in_channels, size, size))
    return ours, theirs


@functools.lru_cache(maxsize=None)
def _small_pair(name):
    """The model at its smallest input size, 3 channels and 5 classes (built once)."""
    return _build_pair(name, 3, 5, MODELS[name][2])


def _load_torch_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _forward_backward(model, in_channels, size, num_classes, batch=2):
    model.train()
    model.zero_grad()
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((batch, in_channels, size, size)).astype(np.float32))
    out = model(x)
    assert out.shape == (batch, num_classes)
    F.cross_entropy(out, ag.tensor(rng.integers(0, num_classes, batch))).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.isfinite(p.grad.data).all(), name


@pytest.mark.parametrize("name", list(MODELS))
def test_same_parameters_and_outputs_as_torch(name):
    ours, theirs = _small_pair(name)
    size = MODELS[name][2]
    assert _count(ours) == _count(theirs)
    ours_state, torch_state = ours.state_dict(), theirs.state_dict()
    assert sorted(ours_state) == sorted(torch_state)
    for key, value in torch_state.items():
        assert ours_state[key].shape == tuple(value.shape), key
    _load_torch_weights(ours, theirs)
    x = np.random.default_rng(1).standard_normal((2, 3, size, size)).astype(np.float32)
    ours.eval()
    theirs.eval()
    with ag.no_grad(), torch.no_grad():
        got, want = ours(ag.tensor(x)).data, theirs(torch.from_numpy(x)).numpy()
    assert got.shape == want.shape == (2, 5)
    assert _relative(got, want) < 1e-4


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_and_backward(name):
    ours, _ = _small_pair(name)
    _forward_backward(ours, 3, MODELS[name][2], 5)


@pytest.mark.parametrize("name", ["lenet", "lenet_bn", "mlp_bn", "nin", "googlenet",
                                  "resnet18", "densenet"])
def test_d2l_parameter_counts(name):
    builder = MODELS[name][0]
    model = mlp_bn() if name == "mlp_bn" else builder()
    assert _count(model) == D2L_PARAMS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_curriculum_size(name):
    size = MODELS[name][3]
    ours, theirs = _build_pair(name, 1, 10, size)
    assert _count(ours) == _count(theirs) == D2L_PARAMS[name]
    _forward_backward(ours, 1, size, 10)


@pytest.mark.parametrize("dtype, tol", [("float32", 2e-5), ("float64", 1e-10)])
@pytest.mark.parametrize("variant", [{}, {"activation": "relu", "pool": "max", "padding": 0}])
def test_lenet_training_step_matches_torch(variant, dtype, tol):
    ours = lenet(**variant).to(dtype)
    theirs = _torch_lenet(10, **variant)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs(torch.zeros(1, 1, 28, 28))
    theirs = theirs.to(getattr(torch, dtype))
    _load_torch_weights(ours, theirs)
    _compare_train_step(ours, theirs, (8, 1, 28, 28), dtype, tol)


@pytest.mark.parametrize("dtype, tol", [("float32", 2e-5), ("float64", 1e-10)])
@pytest.mark.parametrize("in_channels, out_channels, stride", [(4, 4, 1), (4, 6, 2)])
def test_residual_block_matches_torch(in_channels, out_channels, stride, dtype, tol):
    ours = Residual(in_channels, out_channels, stride=stride).to(dtype)
    theirs = _TorchResidual(out_channels, use_1x1conv=stride != 1 or in_channels != out_channels,
                            strides=stride)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs(torch.zeros(2, in_channels, 6, 6))
    theirs = theirs.to(getattr(torch, dtype))
    _load_torch_weights(ours, theirs)
    _compare_train_step(ours, theirs, (4, in_channels, 7, 7), dtype, tol)
    for key, value in theirs.state_dict().items():           # running statistics too
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=tol, atol=tol)


def _compare_train_step(ours, theirs, shape, dtype, tol):
    """Training-mode forward, input gradient and every parameter gradient, for a random
    cotangent."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    xo = ag.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ours.train()
    theirs.train()
    yo, yt = ours(xo), theirs(xt)
    assert _relative(yo.data, yt.detach().numpy()) < tol
    cotangent = rng.standard_normal(yo.shape).astype(dtype)
    yo.backward(ag.tensor(cotangent))
    yt.backward(torch.from_numpy(cotangent))
    assert _relative(xo.grad.data, xt.grad.numpy()) < tol
    grads = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        want = grads[key].grad.numpy()
        # a conv bias right before batch norm has a zero gradient: only rounding noise is left
        assert _relative(p.grad.data, want) < tol or np.abs(p.grad.data - want).max() < tol, key


def test_blocks_keep_d2l_shapes():
    x = ag.tensor(np.random.default_rng(0).standard_normal((4, 3, 6, 6)).astype(np.float32))
    assert Residual(3, 3)(x).shape == (4, 3, 6, 6)
    assert Residual(3, 6, stride=2)(x).shape == (4, 6, 3, 3)
    assert isinstance(Residual(3, 3).shortcut, nn.Identity)
    assert Inception(3, 2, (2, 4), (2, 3), 1)(x).shape == (4, 10, 6, 6)
    x8 = ag.tensor(np.zeros((4, 3, 8, 8), np.float32))
    block = DenseBlock(2, 3, 10)
    y = block(x8)
    assert y.shape == (4, 23, 8, 8) and block.out_channels == 23
    assert transition_block(23, 10)(y).shape == (4, 10, 4, 4)
    assert vgg_block(2, 3, 8)(x8).shape == (4, 8, 4, 4)
    assert nin_block(3, 5, 3, 1, 1)(x8).shape == (4, 5, 8, 8)


def test_input_size_sizes_the_classifier_and_is_checked():
    assert lenet(image_size=32, padding=0)[-5].in_features == 400          # LeNet-5 proper
    assert lenet(image_size=(28, 36))[-5].in_features == 16 * 5 * 7
    assert alexnet(image_size=224)[14].in_features == 6400
    assert output_hw(resnet18()[:-3], 96, "resnet18") == (3, 3)
    assert output_hw(resnet18(stem="cifar")[:-3], 32, "resnet18") == (4, 4)
    with pytest.raises(ValueError, match="alexnet: a 64x64 input is too small"):
        alexnet(image_size=64)
    with pytest.raises(ValueError, match="densenet: a 28x28 input .*AvgPool2d"):
        densenet(image_size=28)
    with pytest.raises(ValueError, match="lenet: activation must be one of"):
        lenet(activation="tanh")
    with pytest.raises(ValueError, match="stem must be"):
        resnet18(stem="tiny")


def test_resnet18_width_and_head():
    model = resnet18(width=16, num_classes=7, in_channels=3)
    assert [m.conv2.out_channels for stage in model[1:5] for m in stage] == [16, 16, 32, 32,
                                                                             64, 64, 128, 128]
    assert isinstance(model[-1], nn.Linear) and model[-1].out_features == 7


def _images(n=6, size=8):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, size, size)).astype(np.float32), np.arange(n, dtype=np.int64)


def test_transformed_dataset_per_sample_and_per_batch():
    x, y = _images()
    flip = RandomHorizontalFlip(p=1.0)
    data = TransformedDataset(TensorDataset(x, y), flip, target_transform=lambda t: t + 1)
    image, label = data[2]
    np.testing.assert_array_equal(image.data, x[2][..., ::-1])
    assert label.item() == 3 and len(data) == 6
    batches = list(DataLoader(data, batch_size=4))
    np.testing.assert_array_equal(batches[0][0].data, x[:4][..., ::-1])
    np.testing.assert_array_equal(batches[1][1].data, y[4:] + 1)
    per_sample = list(DataLoader(data, batch_size=4, collate_fn=lambda s: s))
    assert len(per_sample[0]) == 4
    np.testing.assert_array_equal(per_sample[0][1][0].data, x[1][..., ::-1])


def test_transformed_dataset_draws_per_image_and_is_seeded():
    x, y = _images(16, 12)
    augment = Compose([RandomResizedCrop(8, scale=(0.3, 1.0)), RandomHorizontalFlip(),
                       Normalize(0.5, 0.25)])
    data = TransformedDataset(TensorDataset(x, y), augment)

    def epoch():
        return np.concatenate([b[0].data for b in DataLoader(data, batch_size=5)])

    ag.manual_seed(4)
    first = epoch()
    second = epoch()
    ag.manual_seed(4)
    np.testing.assert_array_equal(epoch(), first)
    assert first.shape == (16, 1, 8, 8) and first.dtype == np.float32
    assert not np.array_equal(first, second)                     # fresh draws every epoch
    same = TransformedDataset(TensorDataset(np.repeat(x[:1], 8, 0), y[:8]), augment)
    batch = next(iter(DataLoader(same, batch_size=8)))[0].data
    assert len({b.tobytes() for b in batch}) > 1                  # each image its own crop


def test_resnet_fashion_torch_twin_trains_identically_in_float64():
    """The comparison's PyTorch model: same keys and shapes, and from the same weights on the
    same batches the two libraries' training runs agree to rounding in float64."""
    from zoo.recipes.resnet_fashion import CONFIG, load, torch_resnet18
    data = load({**CONFIG, "limit": 96})
    ag.manual_seed(0)
    ours = resnet18(image_size=28, width=4).double()
    theirs = torch_resnet18(1, 10, 4, "imagenet").double()
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    sgd = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)
    ours_opt = nn.optim.SGD(ours.parameters(), **sgd)
    torch_opt = torch.optim.SGD(theirs.parameters(), **sgd)
    for step in range(3):
        x = data.x_train[32 * step:32 * (step + 1)].astype(np.float64)
        y = data.y_train[32 * step:32 * (step + 1)]
        ours_opt.zero_grad()
        loss = F.cross_entropy(ours(ag.tensor(x)), ag.tensor(y))
        loss.backward()
        ours_opt.step()
        torch_opt.zero_grad()
        torch_loss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)),
                                                       torch.from_numpy(y))
        torch_loss.backward()
        torch_opt.step()
        assert abs(loss.item() - torch_loss.item()) < 1e-9
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-7,
                                   atol=1e-9)


def test_lenet_recipe_on_mnist_5k():
    from zoo.recipes import lenet_mnist
    model, history = lenet_mnist.train(data="mnist_5k", epochs=1, progress=False)
    assert history["val_acc"][-1] > 0.5                         # 63 steps; chance is 0.1


@pytest.mark.slow
def test_resnet_fashion_recipe_compares_with_torch():
    from zoo.recipes import resnet_fashion
    _, history = resnet_fashion.train(width=4, limit=256, batch_size=64, compare=True,
                                      progress=False)
    ours, theirs = history, history["torch"]
    assert len(ours["seconds"]) == len(theirs["seconds"]) == 1
    assert 0.0 <= ours["test_acc"] <= 1.0 and 0.0 <= theirs["test_acc"] <= 1.0
    assert abs(ours["train_loss"][-1] - theirs["train_loss"]) < 0.05   # same start, batches


def test_finetune_recipe_replaces_the_head_with_a_faster_group():
    from zoo.recipes import finetune
    model, history = finetune.train(width=4, pretrain_limit=256, per_class=8, epochs=1,
                                    scratch=False, progress=False)
    assert model[-1].out_features == len(finetune.TARGET_CLASSES)
    assert set(history) >= {"val_acc", "pretrain"}
    assert len(history["pretrain"]["val_acc"]) == 1


def test_finetune_parameter_groups():
    from zoo.recipes.finetune import replace_head
    model = resnet18(num_classes=5, image_size=28, width=4)
    old = model[-1]
    head = replace_head(model, 3)
    assert model[-1] is head and head is not old and head.out_features == 3
    body = list(model[:-1].parameters())
    assert len(body) + 2 == len(list(model.parameters()))
    optimizer = nn.optim.SGD([{"params": body}, {"params": head.parameters(), "lr": 0.1}],
                             lr=0.01)
    assert [g["lr"] for g in optimizer.param_groups] == [0.01, 0.1]


@pytest.mark.slow
def test_lenet_reaches_98_8_percent_on_mnist_in_3_epochs():
    from zoo.recipes import lenet_mnist
    _, history = lenet_mnist.train(progress=False)
    assert len(history["val_acc"]) == 3 and history["val_acc"][-1] >= 0.988
