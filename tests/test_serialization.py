"""nn.save / nn.load: round trips, the atomic write under SIGKILL, and bad files."""
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from nn.serialization import FORMAT_VERSION, HEADER

ROOT = Path(__file__).resolve().parents[1]


def _nested():
    rng = np.random.default_rng(0)
    return {
        "model": {"0.weight": rng.standard_normal((3, 2)).astype(np.float32),
                  "0.bias": np.zeros(3, np.float64), "steps": np.array(7, np.int64)},
        "optimizer": {"state": {0: {"momentum": rng.standard_normal(3), "step": 4},
                                1: {"flags": np.array([True, False])}},
                      "param_groups": [{"lr": 0.1, "params": [0, 1], "nesterov": False,
                                        "betas": (0.9, 0.999), "name": None}]},
        "epoch": 3, "best": float("inf"), "loss": float("nan"), "note": "ok",
        "scalar": np.float32(2.5), "empty": np.zeros((0, 4)), "tuple": (1, [2.0, "x"]),
    }


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_round_trip_nested(tmp_path):
    obj = _nested()
    nn.save(obj, tmp_path / "ckpt.npz")
    _assert_same(obj, nn.load(tmp_path / "ckpt.npz"))


def test_round_trip_module_state_and_tensors(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3), nn.Linear(3, 2))
    nn.save({"model": model.state_dict(), "w": model[0].weight, "t": ag.ones(2)},
            tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    other = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3), nn.Linear(3, 2))
    other.load_state_dict(loaded["model"])
    for (k, v), (k2, v2) in zip(model.state_dict().items(), other.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(v, v2)
    assert isinstance(loaded["w"], nn.Parameter) and loaded["w"].requires_grad
    assert type(loaded["t"]) is ag.Tensor and not loaded["t"].requires_grad


def test_resume_training_from_checkpoint(tmp_path):
    """A model + Adam checkpoint resumes exactly: the next step matches an uninterrupted run."""
    def build():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
        return model, nn.optim.Adam(model.parameters(), lr=0.01)

    x, y = ag.randn(5, 3), ag.tensor([0, 1, 0, 1, 1])

    def step(model, optimizer):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    model, optimizer = build()
    step(model, optimizer)
    nn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()},
            tmp_path / "c.npz")
    step(model, optimizer)
    resumed, resumed_optimizer = build()
    checkpoint = nn.load(tmp_path / "c.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    step(resumed, resumed_optimizer)
    for (key, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=key)


def test_file_is_a_plain_npz_without_pickle(tmp_path):
    nn.save({"a": np.ones(3)}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        header = json.loads(bytes(archive[HEADER]).decode())
        assert header["version"] == FORMAT_VERSION
        assert header["root"] == {"dict": [["a", {"array": "a0"}]]}
        np.testing.assert_array_equal(archive["a0"], np.ones(3))


def test_unsupported_values_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="cannot store a set"):
        nn.save({"a": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys are strings or ints"):
        nn.save({(1, 2): 3}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dtype object"):
        nn.save([np.array([object()])], tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())


def test_overwrite_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "c.npz"
    nn.save({"v": 1}, path)
    nn.save({"v": 2}, path)
    assert nn.load(path) == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_truncated_file(tmp_path):
    path = tmp_path / "c.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(nn.CheckpointError, match="truncated or corrupted"):
        nn.load(path)


def test_corrupted_member(tmp_path):
    path = tmp_path / "c.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    middle = data.find(np.arange(1000.0)[500:502].tobytes())
    data[middle] ^= 0xFF                                      # flip bits inside the array
    path.write_bytes(bytes(data))
    with pytest.raises(nn.CheckpointError, match="truncated or corrupted"):
        nn.load(path)


def test_wrong_version(tmp_path):
    path = tmp_path / "c.npz"
    header = json.dumps({"format": "tapegrad-checkpoint", "version": 99, "root": None})
    np.savez(path, **{HEADER: np.frombuffer(header.encode(), np.uint8)})
    with pytest.raises(nn.CheckpointError, match="version 99; this tapegrad reads version 1"):
        nn.load(path)


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(nn.CheckpointError, match="not a tapegrad checkpoint"):
        nn.load(text)
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.ones(2))
    with pytest.raises(nn.CheckpointError, match="no __tapegrad_checkpoint__ header"):
        nn.load(plain)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(nn.CheckpointError, match="not a tapegrad checkpoint"):
        nn.load(other_zip)


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    header = json.dumps({"format": "tapegrad-checkpoint", "version": 1,
                         "root": {"array": "a0"}})
    np.savez(path, **{HEADER: np.frombuffer(header.encode(), np.uint8),
                      "a0": np.array([{"x": 1}], dtype=object)})
    with pytest.raises(nn.CheckpointError, match="truncated or corrupted"):
        nn.load(path)


_WRITER = """
import sys, numpy as np, nn
big = {"w": np.ones((64, 1024, 1024), np.float32)}   # 256 MB: the save takes a while
print("ready", flush=True)
while True:
    nn.save(big, sys.argv[1])
"""


def _temporary_size(directory):
    sizes = []
    for p in directory.iterdir():
        if p.name.endswith(".tmp"):
            try:
                sizes.append(p.stat().st_size)
            except FileNotFoundError:
                pass
    return max(sizes, default=0)


def test_sigkill_mid_save_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    previous = {"w": np.arange(10.0), "epoch": 1}
    nn.save(previous, path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        if proc.stdout.readline().strip() != b"ready":
            proc.wait(timeout=30)
            pytest.fail(f"the writer process failed: {proc.stderr.read().decode()[-2000:]}")
        deadline = time.monotonic() + 60
        while _temporary_size(tmp_path) < 1 << 20:        # kill once the write is under way
            assert time.monotonic() < deadline, "the writer never started a save"
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert path.stat().st_size < 1 << 20                  # the big save never landed
    _assert_same(previous, nn.load(path))
