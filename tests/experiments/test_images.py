"""Two-class image data: specs, the bundled digits, and MNIST / Fashion-MNIST / CIFAR-10
read from tiny files written here in their standard formats (IDX, gzipped or not;
CIFAR-10 python pickles)."""

import gzip
import pickle

import numpy as np
import pytest

from catapult_theory.errors import InvalidInput
from catapult_theory.experiments import (
    DATA_DIR_ENV,
    digits01,
    image_data,
    kernel_difficulty,
    named_data,
    parse_image_spec,
    two_layer_image_setup,
    two_layer_setup,
)
from catapult_theory.experiments._images import _load_raw

# --------------------------------------------------------------------------
# Writers of the standard formats (independent of the reader).
# --------------------------------------------------------------------------


def _idx(path, array, gz):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    data = header + array.tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def _mnist_like(folder, rng, n_train=60, n_test=30, gz=True):
    """Images whose mean brightness encodes the label (so a test can tell the classes apart)."""
    folder.mkdir(parents=True)
    out = {}
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 20, (count, 28, 28)) + 20 * labels[:, None, None]
        _idx(folder / f"{prefix}-images-idx3-ubyte", images, gz)
        _idx(folder / f"{prefix}-labels-idx1-ubyte", labels, gz)
        out[prefix] = (images, labels)
    return out


@pytest.fixture
def data_root(tmp_path):
    """A data folder with tiny MNIST (gzipped), Fashion-MNIST (raw) and CIFAR-10 sets."""
    _load_raw.cache_clear()
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    mnist = _mnist_like(root / "mnist", rng, gz=True)
    fmnist = _mnist_like(root / "fashion-mnist", rng, gz=False)
    cifar = root / "cifar-10-batches-py"
    cifar.mkdir()
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [int(v) for v in rng.integers(0, 10, 12)]
        img = rng.integers(0, 256, (12, 3, 32, 32)).astype(np.uint8)
        img[:, 0] = 10 * np.array(labels)[:, None, None]  # red channel encodes the label
        batches[name] = (img, labels)
        with open(cifar / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"data": img.reshape(12, 3072), b"labels": labels,
                         b"filenames": [b"x.png"] * 12}, fh, protocol=2)
    yield root, mnist, fmnist, batches
    _load_raw.cache_clear()


# --------------------------------------------------------------------------
# Specs and the bundled digits.
# --------------------------------------------------------------------------


def test_digits_pair_0_1_is_exactly_digits01():
    a, b = image_data("digits:0:1"), digits01()
    for name in ("X", "y", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert named_data("digits01").description == b.description
    # and the two-layer setups agree
    s1, s2 = two_layer_image_setup(16, 0.0, "digits:0:1"), two_layer_setup(16, 0.0, "digits01")
    assert s1.lam0 == s2.lam0 and s1.w2_0 == s2.w2_0


def test_digit_pairs_are_labelled_and_scaled():
    ds = image_data("digits:3:8", seed=2)
    assert ds.B == 128 and ds.d == 64 and set(np.unique(ds.y)) == {-1.0, 1.0}
    np.testing.assert_allclose(np.sum(ds.X**2, axis=1), 64.0)
    assert ds.B + ds.B_test == 357  # every 3 and 8 of the bundled set
    pooled = image_data("digits:3:8:4", seed=2)
    assert pooled.d == 16
    np.testing.assert_allclose(np.sum(pooled.X**2, axis=1), 16.0)


@pytest.mark.parametrize("spec, message", [
    ("digits:3:3", "must differ"),
    ("digits:3:11", "classes are 0..9"),
    ("digits:3:8:3", "must divide 8"),
    ("mnist:3", "expected"),
    ("cifar10:cat:unicorn", "airplane"),
    ("fmnist:0:1:5", "must divide 28"),
])
def test_bad_specs_are_invalid_input(spec, message):
    with pytest.raises(InvalidInput, match=message):
        parse_image_spec(spec)


def test_class_names_and_sides():
    assert parse_image_spec("fmnist:boot:T-shirt/top").classes == (9, 0)
    assert parse_image_spec("cifar10:cat:dog").classes == (3, 5)
    assert parse_image_spec("cifar10:car:plane:32").d == 3 * 32 * 32
    assert parse_image_spec("mnist:3:8").d == 14 * 14
    assert parse_image_spec("cifar10:3:5").d == 3 * 8 * 8
    with pytest.raises(InvalidInput):
        named_data("nonsense")


def test_kernel_difficulty_is_the_wide_net_ntk_and_orders_pairs():
    """The hand-written infinite-width kernel against the empirical NTK of a wide net
    (the engine's closed form); a kernel missing its second term is rejected."""
    from catapult_theory.engine import two_layer_init, two_layer_ntk

    ds = image_data("digits:4:9")
    X = ds.X[:6]
    n, d = 40000, X.shape[1]
    emp = two_layer_ntk(two_layer_init(n, d, seed=1), X, 0.0) * d  # the kernel is up to 1/d
    na = np.linalg.norm(X, axis=1)
    c = np.clip(X @ X.T / np.outer(na, na), -1, 1)
    t = np.arccos(c)
    first = np.outer(na, na) * (np.sin(t) + (np.pi - t) * c) / (2 * np.pi)
    second = (X @ X.T) * (np.pi - t) / (2 * np.pi)
    assert np.max(np.abs(emp - first - second)) < 0.03 * np.max(emp)
    assert np.max(np.abs(emp - first)) > 0.2 * np.max(emp)  # the wrong kernel
    assert kernel_difficulty(image_data("digits:0:1")) < kernel_difficulty(ds) < kernel_difficulty(
        image_data("digits:3:8"))


# --------------------------------------------------------------------------
# MNIST, Fashion-MNIST, CIFAR-10 from their standard files.
# --------------------------------------------------------------------------


def test_mnist_from_gzipped_idx_files(data_root):
    root, mnist, _, _ = data_root
    ds = image_data("mnist:3:8", data_dir=root, train_size=5, test_size=4)
    images, labels = mnist["train"]
    keep = np.flatnonzero((labels == 3) | (labels == 8))
    assert ds.B == 5 and ds.d == 196 and ds.B_test == min(4, int(np.sum(np.isin(mnist["t10k"][1], [3, 8]))))
    # brightness encodes the label: the class (-1 for 3, +1 for 8) is recoverable from each raw image
    order = np.random.default_rng(0).permutation(keep.size)[:5]
    raw = images[keep[order]].astype(float) / 255
    pooled = raw.reshape(5, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(5, -1)
    expect = pooled * np.sqrt(196) / np.linalg.norm(pooled, axis=1, keepdims=True)
    np.testing.assert_allclose(ds.X, expect)
    np.testing.assert_array_equal(ds.y, np.where(labels[keep[order]] == 8, 1.0, -1.0))
    native = image_data("mnist:3:8:28", data_dir=root, train_size=5)
    assert native.d == 784


def test_fashion_mnist_from_raw_idx_files_through_the_environment(data_root, monkeypatch):
    root, _, fmnist, _ = data_root
    monkeypatch.setenv(DATA_DIR_ENV, str(root))
    ds = image_data("fmnist:tshirt:bag", train_size=4)
    labels = fmnist["train"][1]
    assert ds.B == 4 and set(np.unique(ds.y)) <= {-1.0, 1.0}
    assert "Fashion-MNIST, classes t-shirt/top (y = -1) and bag (y = +1)" in ds.description
    assert np.sum(np.isin(labels, [0, 8])) >= 4


def test_cifar10_channels_and_pooling(data_root):
    root, _, _, batches = data_root
    ds = image_data("cifar10:airplane:truck:32", data_dir=root, train_size=3, test_size=2)
    assert ds.d == 3072 and ds.B == 3
    train_imgs = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    train_lab = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    keep = np.flatnonzero(np.isin(train_lab, [0, 9]))
    order = np.random.default_rng(0).permutation(keep.size)[:3]
    raw = train_imgs[keep[order]].reshape(3, -1).astype(float) / 255
    np.testing.assert_allclose(ds.X, raw * np.sqrt(3072) / np.linalg.norm(raw, axis=1, keepdims=True))
    small = image_data("cifar10:0:9", data_dir=root, train_size=3)  # 4x4 average pooling per channel
    assert small.d == 192
    red = train_imgs[keep[order]][:, 0].reshape(3, 8, 4, 8, 4).mean(axis=(2, 4)).reshape(3, -1) / 255
    scale = np.sqrt(192) / np.linalg.norm(
        train_imgs[keep[order]].astype(float).reshape(3, 3, 8, 4, 8, 4).mean(axis=(3, 5)).reshape(3, -1) / 255,
        axis=1, keepdims=True)
    np.testing.assert_allclose(small.X[:, :64], red * scale)


def test_missing_data_is_one_line_saying_what_to_download(tmp_path, monkeypatch):
    _load_raw.cache_clear()
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(InvalidInput) as err:
        image_data("mnist:3:8")
    msg = str(err.value)
    assert "\n" not in msg and "train-images-idx3-ubyte" in msg and "--data-dir" in msg and DATA_DIR_ENV in msg
    with pytest.raises(InvalidInput, match=r"no folder .*fashion-mnist.*download .*fashion-mnist"):
        image_data("fmnist:0:1", data_dir=tmp_path)
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(InvalidInput, match="data_batch_1.*missing.*cifar-10-python.tar.gz"):
        image_data("cifar10:0:1", data_dir=tmp_path)


def test_malformed_files_are_invalid_input_and_pickles_run_no_code(tmp_path):
    _load_raw.cache_clear()
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big"))  # truncated header
    with pytest.raises(InvalidInput, match="not an IDX file"):
        image_data("mnist:0:1", data_dir=tmp_path)
    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(cifar / name, "wb") as fh:
            pickle.dump({b"data": Evil(), b"labels": [0]}, fh, protocol=2)
    with pytest.raises(InvalidInput, match="not a CIFAR-10 python batch"):
        image_data("cifar10:0:1", data_dir=tmp_path)
    assert not marker.exists()
