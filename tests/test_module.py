"""nn.Module and the containers: registration, traversal, state dicts, hooks, modes, repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(ag.ones(4))
        self.register_buffer("count", np.zeros(1))
        self.register_buffer("cache", np.zeros(2), persistent=False)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.out = nn.Linear(3, 5, bias=False)
        self.out.weight = self.embed.weight


def test_registration_order_and_names():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    assert [n for n, _ in block.named_children()] == ["fc", "act"]
    assert [n for n, _ in block.named_modules()] == ["", "fc", "act"]
    assert [n for n, _ in block.named_buffers()] == ["count", "cache"]
    assert isinstance(block.count, ag.Tensor)
    assert list(block.parameters(recurse=False)) == [block.scale]


def test_reassignment_and_deletion():
    block = Block()
    block.fc.weight = nn.Parameter(ag.zeros(4, 3))
    assert [n for n, _ in block.fc.named_parameters()] == ["weight", "bias"]   # order kept
    block.fc = nn.Linear(3, 4, bias=False)
    assert [n for n, _ in block.named_parameters()] == ["scale", "fc.weight"]
    block.scale = None
    assert [n for n, _ in block.named_parameters()] == ["fc.weight"]
    with pytest.raises(TypeError, match="Parameter"):
        block.scale = ag.ones(4)
    del block.act
    assert [n for n, _ in block.named_children()] == ["fc"]
    block.count = np.ones(1)                      # a buffer stays a buffer
    assert isinstance(block.count, ag.Tensor) and "count" in dict(block.named_buffers())


def test_assign_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_tied_parameters_appear_once():
    model = Tied()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["embed.weight"]
    assert len(list(model.parameters())) == 1
    state = model.state_dict()      # PyTorch lists a tied weight under each of its names
    assert list(state) == ["embed.weight", "out.weight"]
    assert state["embed.weight"] is state["out.weight"]


def test_state_dict_round_trip():
    ag.manual_seed(0)
    a, b = Block(), Block()
    state = a.state_dict()
    assert list(state) == ["scale", "count", "fc.weight", "fc.bias"]   # no non-persistent
    assert state["fc.weight"] is a.fc.weight.data                      # shares memory
    weight_before = b.fc.weight
    array_before = b.fc.weight.data
    result = b.load_state_dict({k: v.copy() for k, v in state.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc.weight is weight_before and b.fc.weight.data is array_before   # in place
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[key], value)


def test_load_state_dict_accepts_tensors_and_casts():
    model = nn.Linear(3, 2)
    state = {"weight": ag.tensor(np.ones((2, 3))), "bias": np.arange(2, dtype=np.float64)}
    model.load_state_dict(state)
    assert model.weight.data.dtype == np.float32
    np.testing.assert_array_equal(model.bias.data, [0, 1])


def test_strict_mismatch_lists_every_key():
    model = Block()
    state = {k: v.copy() for k, v in model.state_dict().items()}
    del state["scale"], state["fc.bias"]
    state["extra"] = np.zeros(1)
    state["fc.weight"] = np.zeros((5, 3))
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for fragment in ("missing keys: scale, fc.bias", "unexpected keys: extra",
                     "fc.weight: checkpoint shape (5, 3), model shape (4, 3)"):
        assert fragment in message
    before = model.fc.weight.data.copy()
    with pytest.raises(RuntimeError, match="fc.weight"):    # shapes are checked even when
        model.load_state_dict(state, strict=False)          # not strict; nothing is copied
    np.testing.assert_array_equal(model.fc.weight.data, before)
    state["fc.weight"] = np.zeros((4, 3))
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["scale", "fc.bias"] and result.unexpected_keys == ["extra"]


def test_load_from_torch_state_dict(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    ours = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(ag.tensor(x)).data,
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_forward_hooks_and_pre_hooks():
    block = Block()
    calls = []
    handle = block.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 0)
    pre = block.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    x = ag.ones(2, 3)
    assert np.all(block(x).data == 0) and calls == [(2, 4)]
    handle.remove()
    pre.remove()
    expected = block.forward(x).data
    np.testing.assert_array_equal(block(x).data, expected)
    assert calls == [(2, 4)]


def test_train_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    x = ag.ones(4, 2)
    model.eval()
    np.testing.assert_array_equal(model[1](x).data, x.data)      # dropout is the identity


def test_zero_grad_and_requires_grad():
    model = nn.Linear(3, 2)
    (model(ag.ones(4, 3)) ** 2).mean().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert np.all(model.weight.grad.data == 0)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_apply_float_double():
    model = nn.Sequential(nn.Linear(3, 2), nn.PReLU())
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "PReLU", "Sequential"]
    weight = model[0].weight
    model.double()
    assert model[0].weight is weight and weight.dtype == np.float64
    out = model(ag.ones(2, 3, dtype=ag.float64))
    assert out.dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(RuntimeError, match="cuda"):
        model.to("cuda")


def test_repr_matches_pytorch(torch):
    ours = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.1),
                         nn.LeakyReLU(0.2)), nn.Flatten(), nn.Softmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Sequential(
        torch.nn.Dropout(0.1), torch.nn.LeakyReLU(0.2)), torch.nn.Flatten(),
        torch.nn.Softmax(dim=1))
    assert repr(ours) == repr(theirs)
    for ours_layer, theirs_layer in [
            (nn.ELU(), torch.nn.ELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
            (nn.Hardtanh(-2.0, 2.0), torch.nn.Hardtanh(-2.0, 2.0)),
            (nn.Softplus(), torch.nn.Softplus()), (nn.PReLU(3), torch.nn.PReLU(3)),
            (nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0)),
            (nn.Embedding(10, 3, max_norm=1.0, sparse=True),
             torch.nn.Embedding(10, 3, max_norm=1.0, sparse=True)),
            (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
            (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
            (nn.ModuleList([nn.Tanh()]), torch.nn.ModuleList([torch.nn.Tanh()])),
            (nn.ModuleDict({"a": nn.Sigmoid()}), torch.nn.ModuleDict({"a": torch.nn.Sigmoid()})),
            (nn.Identity(), torch.nn.Identity())]:
        assert repr(ours_layer) == repr(theirs_layer)
    assert repr(nn.Parameter(ag.tensor([1.0, 2.0]))).startswith("Parameter containing:\ntensor(")


def test_sequential_indexing_and_slicing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert model[0] is layers[0] and model[-1] is layers[2] and len(model) == 3
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert head[0].weight is model[0].weight                    # slices share the modules
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    model.append(nn.Sigmoid())
    del model[1]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    assert isinstance(model[1], nn.Linear)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    x = ag.ones(1, 2)
    np.testing.assert_allclose(named(x).data, np.tanh(named.fc(x).data), rtol=1e-6)


def test_module_list_and_dict():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.Linear(2, 1))
    assert len(blocks) == 4 and len(list(blocks.parameters())) == 8
    assert isinstance(blocks[1:3], nn.ModuleList) and len(blocks[1:3]) == 2
    blocks.insert(0, nn.Tanh())
    assert isinstance(blocks[0], nn.Tanh) and [n for n, _ in blocks.named_children()] == \
        ["0", "1", "2", "3", "4"]
    del blocks[0]
    assert [n for n, _ in blocks.named_parameters()][:2] == ["0.weight", "0.bias"]
    heads = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Linear(2, 3)})
    heads["c"] = nn.ReLU()
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                        "b.bias"]
    heads.pop("a")
    assert list(heads.keys()) == ["b", "c"]


def test_identity_flatten_unflatten():
    x = ag.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert nn.Identity(5, key=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(1, (3, 4))(nn.Flatten()(x)).shape == (2, 3, 4)
    assert nn.Unflatten(-1, (2, -1))(x).shape == (2, 3, 2, 2)


def test_deepcopy_gives_independent_parameters():
    model = nn.Linear(3, 2)
    clone = copy.deepcopy(model)
    assert clone.weight is not model.weight
    np.testing.assert_array_equal(clone.weight.data, model.weight.data)
    clone(ag.ones(1, 3)).sum().backward()
    assert clone.weight.grad is not None and model.weight.grad is None


def test_get_submodule_and_parameter():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2)))
    assert model.get_submodule("0.0") is model[0][0]
    assert model.get_parameter("0.0.bias") is model[0][0].bias
    with pytest.raises(AttributeError, match="no sub-module"):
        model.get_submodule("0.1")
