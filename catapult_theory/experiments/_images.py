"""Two-class image data sets: the bundled 8×8 digits, MNIST, Fashion-MNIST and CIFAR-10.

A data spec names a source and two classes, optionally a side length:

``digits:A:B[:SIDE]``
    scikit-learn's bundled 8×8 digits (no download; ``pip install scikit-learn``),
    classes ``0`` .. ``9``. ``digits:0:1`` is the ``digits01`` data set.
``mnist:A:B[:SIDE]``
    MNIST from its IDX files in ``DATA_DIR/mnist/``, classes ``0`` .. ``9``.
``fmnist:A:B[:SIDE]``
    Fashion-MNIST from its IDX files in ``DATA_DIR/fashion-mnist/``, classes by index
    ``0`` .. ``9`` or by name (``tshirt``/``top``, ``trouser``, ``pullover``, ``dress``,
    ``coat``, ``sandal``, ``shirt``, ``sneaker``, ``bag``, ``ankle-boot``/``boot``).
``cifar10:A:B[:SIDE]``
    CIFAR-10 from its python batches in ``DATA_DIR/cifar-10-batches-py/``, classes by
    index or name (``airplane``/``plane``, ``automobile``/``car``, ``bird``, ``cat``,
    ``deer``, ``dog``, ``frog``, ``horse``, ``ship``, ``truck``).

Files (the standard distributions, unchanged; each IDX file may also be gzipped,
with the suffix ``.gz``)::

    DATA_DIR/mnist/train-images-idx3-ubyte   train-labels-idx1-ubyte
                   t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte
    DATA_DIR/fashion-mnist/  (the same four names)
    DATA_DIR/cifar-10-batches-py/data_batch_1 .. data_batch_5, test_batch

``DATA_DIR`` is the ``data_dir`` argument (``--data-dir``), else the environment
variable ``CATAPULT_DATA_DIR``. A missing folder or file raises
:class:`~catapult_theory.errors.InvalidInput` with one line saying what to download
and where to put it. The CIFAR-10 batches are pickles; they are read with an
unpickler that only rebuilds NumPy arrays and plain containers (a pickle asking for
anything else is refused, never executed).

Preprocessing (the same for every source, and exactly that of ``digits01``):
pixel intensities are scaled to ``[0, 1]`` (digits: ``/16``; the others: ``/255``),
images are average-pooled to ``SIDE × SIDE`` (per colour channel; ``SIDE`` must
divide the native side), flattened (CIFAR-10: the three channels one after the other),
and each image is scaled to ``|x|² = d`` (the scale of the ``1/√(n d)``
parametrisation). Inputs are not centred. Default sides: digits 8 (native, ``d = 64``),
MNIST and Fashion-MNIST 14 (2×2 pooling of 28×28, ``d = 196``), CIFAR-10 8 (4×4
pooling of 32×32, ``d = 192``): inputs of a few hundred dimensions keep width-1024
nets fast; ``SIDE`` 28 (or 32) keeps the native resolution.

Labels: ``−1`` for the first class named, ``+1`` for the second. The training set is
``train_size`` images (128 by default, as in the study) drawn without replacement by
``numpy.random.default_rng(seed).permutation``; the digits have no split, so the
other images of the two classes are the test set (as for ``digits01``); MNIST,
Fashion-MNIST and CIFAR-10 draw the training images from their training split and
``test_size`` test images (all if fewer) from their test split with the same
generator.
"""

from __future__ import annotations

import gzip
import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..data import IMAGE_SOURCES, IMAGE_SPEC_FORMS, ImageSpec, Source, is_image_spec, parse_image_spec
from ..errors import InvalidInput, check_int
from ._dataset import Dataset

__all__ = ["DATA_DIR_ENV", "IMAGE_SOURCES", "IMAGE_SPEC_FORMS", "ImageSpec", "image_data", "is_image_spec",
           "kernel_difficulty", "parse_image_spec", "resolve_data_dir"]

#: the environment variable naming the folder of the downloaded data sets
DATA_DIR_ENV = "CATAPULT_DATA_DIR"

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
_CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The data folder: ``explicit`` (``--data-dir``), else ``$CATAPULT_DATA_DIR``, else ``None``."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "")
    return Path(env).expanduser() if env else None


def _missing(src: Source, what: str, root: Path | None) -> InvalidInput:
    where = (f"{root / src.folder}/" if root is not None and src.folder else
             f"DATA_DIR/{src.folder}/ and pass --data-dir DATA_DIR (or set {DATA_DIR_ENV})")
    return InvalidInput(f"{src.title} not found ({what}): download {src.download} into {where}")


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path, ndim: int, src: Source) -> np.ndarray:
    """An IDX file of unsigned bytes (magic ``0x0000 08 ndim``, big-endian int32 sizes)."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InvalidInput(f"{src.title}: cannot read {path}: {exc}") from None
    if len(raw) < 4 + 4 * ndim or raw[:2] != b"\x00\x00" or raw[2] != 0x08 or raw[3] != ndim:
        raise InvalidInput(f"{src.title}: {path} is not an IDX file of unsigned bytes with {ndim} dimension(s)")
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    size = int(np.prod(dims))
    if len(raw) != 4 + 4 * ndim + size:
        raise InvalidInput(f"{src.title}: {path} holds {len(raw) - 4 - 4 * ndim} bytes of data, its header "
                           f"announces {size} ({'x'.join(map(str, dims))})")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays and plain containers only (the CIFAR-10 batches need no more)."""

    _ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"), ("copyreg", "_reconstructor"),
                ("copy_reg", "_reconstructor"), ("builtins", "object")})

    def find_class(self, module: str, name: str) -> Any:
        """Only the NumPy array reconstruction functions; anything else is refused."""
        if (module, name) in self._ALLOWED or (module == "__builtin__" and name == "object"):
            return super().find_class("builtins" if module == "__builtin__" else module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_cifar_batch(path: Path, src: Source) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as fh:
            batch = _ArrayUnpickler(fh, encoding="bytes").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"{src.title}: {path} is not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(batch, dict):
        raise InvalidInput(f"{src.title}: {path} is not a CIFAR-10 python batch (no dictionary)")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    data = None if data is None else np.asarray(data)
    if data is None or labels is None or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise InvalidInput(f"{src.title}: {path} is not a CIFAR-10 python batch (expected 'data' N x 3072 "
                           "and N 'labels')")
    return data.astype(np.uint8).reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


@lru_cache(maxsize=4)
def _load_raw(source: str, root: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(images, labels, test images, test labels)`` of a source, images ``(N, C, H, W)``
    as stored (no test split for the digits)."""
    src = IMAGE_SOURCES[source]
    if source == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise InvalidInput(f"the digits need scikit-learn: {src.download}") from None
        dg = load_digits()
        return np.asarray(dg.images, dtype=float)[:, None], np.asarray(dg.target), None, None
    folder_root = Path(root) if root is not None else None
    if folder_root is None:
        raise _missing(src, "no data folder given", None)
    assert src.folder is not None
    folder = folder_root / src.folder
    if not folder.is_dir():
        raise _missing(src, f"no folder {folder}", folder_root)
    if source == "cifar10":
        paths = [folder / name for name in _CIFAR_FILES]
        absent = [p.name for p in paths if not p.is_file()]
        if absent:
            raise _missing(src, f"{', '.join(absent)} missing in {folder}", folder_root)
        parts = [_read_cifar_batch(p, src) for p in paths]
        X = np.concatenate([p[0] for p in parts[:5]])
        y = np.concatenate([p[1] for p in parts[:5]])
        return X, y, parts[5][0], parts[5][1]
    found = [_find(folder, name) for name in _IDX_FILES]
    absent = [name for name, p in zip(_IDX_FILES, found) if p is None]
    if absent:
        raise _missing(src, f"{', '.join(absent)}[.gz] missing in {folder}", folder_root)
    assert all(p is not None for p in found)
    Xtr, ytr, Xte, yte = (_read_idx(p, nd, src) for p, nd in zip(found, (3, 1, 3, 1)))  # type: ignore[arg-type]
    for X, y, what in ((Xtr, ytr, "train"), (Xte, yte, "t10k")):
        if X.shape[1:] != (src.side, src.side) or X.shape[0] != y.shape[0]:
            raise InvalidInput(f"{src.title}: the {what} files hold {X.shape[0]} images of "
                               f"{'x'.join(map(str, X.shape[1:]))} and {y.shape[0]} labels "
                               f"(expected {src.side}x{src.side} images, one label each)")
    return Xtr[:, None], ytr, Xte[:, None], yte


def _pool(images: np.ndarray, side: int) -> np.ndarray:
    """Average-pool ``(N, C, H, W)`` to ``(N, C, side, side)`` (``side`` divides ``H = W``)."""
    N, C, H, _ = images.shape
    f = H // side
    return images.reshape(N, C, side, f, side, f).mean(axis=(3, 5))


def _prepare(images: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """Pixels to ``[0, 1]``, pooled, flattened, each image scaled to ``|x|² = d``."""
    src = IMAGE_SOURCES[spec.source]
    X = _pool(np.asarray(images, dtype=float) / src.scale, spec.side).reshape(images.shape[0], -1)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidInput(f"{spec.label}: {int(np.count_nonzero(norms == 0))} image(s) are entirely black and "
                           "cannot be scaled to |x|^2 = d")
    return X * (np.sqrt(X.shape[1]) / norms)


def _select(labels: np.ndarray, spec: ImageSpec) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the two classes (in file order) and their ``±1`` labels."""
    a, b = spec.classes
    keep = np.flatnonzero((labels == a) | (labels == b))
    return keep, np.where(labels[keep] == b, 1.0, -1.0)


def image_data(spec: str | ImageSpec, seed: int = 0, train_size: int = 128, test_size: int = 1000,
               data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """The two-class data set of an image spec (module docstring).

    Parameters
    ----------
    spec
        ``digits:A:B``, ``mnist:A:B``, ``fmnist:A:B`` or ``cifar10:A:B``, optionally
        ``:SIDE``; or a parsed :class:`ImageSpec`.
    seed
        Seed of the training (and test) subset draw.
    train_size
        Training images (at least one image of the two classes must be left for the
        test set of the digits).
    test_size
        Test images drawn from the test split (MNIST, Fashion-MNIST, CIFAR-10; all of
        them if fewer); the digits use every image not drawn for training.
    data_dir
        The data folder (``--data-dir``); default ``$CATAPULT_DATA_DIR``.

    Raises
    ------
    InvalidInput
        A malformed spec, a class out of range, sizes out of range, a missing folder or
        file (the message says what to download and where), a malformed file.
    """
    sp_ = spec if isinstance(spec, ImageSpec) else parse_image_spec(spec)
    seed, train_size = check_int("seed", seed, 0), check_int("train_size", train_size, 1)
    test_size = check_int("test_size", test_size, 1)
    root = resolve_data_dir(data_dir)
    X_raw, labels, Xt_raw, yt_raw = _load_raw(sp_.source, None if root is None else str(root.resolve()))
    keep, y = _select(labels, sp_)
    rng = np.random.default_rng(seed)
    a, b = sp_.class_names
    src = IMAGE_SOURCES[sp_.source]
    if Xt_raw is None or yt_raw is None:  # the digits: one pool, the rest is the test set
        total = keep.size
        if not 1 <= train_size < total:
            raise InvalidInput(f"train_size must lie in [1, {total - 1}] ({total} images of {a} and {b}), "
                               f"got {train_size}")
        X = _prepare(X_raw[keep], sp_)
        order = rng.permutation(total)
        train, test = order[:train_size], np.sort(order[train_size:])
        X_tr, y_tr, X_te, y_te = X[train], y[train], X[test], y[test]
        how = (f"{train_size} training images drawn by default_rng({seed}).permutation, the other "
               f"{total - train_size} as test set")
    else:
        keep_t, y_t = _select(yt_raw, sp_)
        if not 1 <= train_size <= keep.size:
            raise InvalidInput(f"train_size must lie in [1, {keep.size}] ({keep.size} training images of {a} and "
                               f"{b}), got {train_size}")
        if keep_t.size == 0:
            raise InvalidInput(f"{src.title}: the test split has no image of {a} or {b}")
        train = rng.permutation(keep.size)[:train_size]  # in the order drawn, as for the digits
        test = np.sort(rng.permutation(keep_t.size)[: min(test_size, keep_t.size)])
        X_tr, y_tr = _prepare(X_raw[keep[train]], sp_), y[train]
        X_te, y_te = _prepare(Xt_raw[keep_t[test]], sp_), y_t[test]
        how = (f"{train_size} training images drawn from the training split and {test.size} test images from the "
               f"test split by default_rng({seed})")
    pooled = "native resolution" if sp_.side == src.side else (
        f"average-pooled {src.side // sp_.side}x{src.side // sp_.side} to {sp_.side}x{sp_.side}")
    return Dataset(
        name=f"{sp_.source}-{sp_.classes[0]}v{sp_.classes[1]}-s{sp_.side}-{train_size}-seed{seed}",
        description=(f"{src.title}, classes {a} (y = -1) and {b} (y = +1), {pooled} (d = {sp_.d}): {how}; "
                     f"pixels/{src.scale:g}, each image scaled to |x|^2 = d, not centred"),
        X=X_tr, y=y_tr, X_test=X_te, y_test=y_te,
    )


def kernel_difficulty(data: Dataset, ridge: float = 1e-8) -> float:
    """Test loss ``½ mean (f − y)²`` of the infinite-width two-layer ReLU NTK predictor
    (kernel regression on the training set, ``ridge`` for round-off): how hard a pair is
    for a wide net trained in the lazy regime (0 for a perfectly predicted test set).

    The kernel of ``f = Σ v_i relu(u_i·x)/√(n d)`` at N(0, 1) initialisation, up to the
    factor ``1/d``: ``|x||x'| (sin t + (π − t) cos t)/(2π) + (x·x')(π − t)/(2π)``, ``t``
    the angle between ``x`` and ``x'``.
    """
    if data.X_test is None or data.y_test is None:
        raise InvalidInput("kernel_difficulty needs a test set")

    def kern(A: np.ndarray, B: np.ndarray) -> np.ndarray:
        na, nb = np.linalg.norm(A, axis=1)[:, None], np.linalg.norm(B, axis=1)[None, :]
        dot = A @ B.T
        c = np.clip(dot / (na * nb), -1.0, 1.0)  # |x| > 0 for every prepared image
        t = np.arccos(c)
        return (na * nb * (np.sin(t) + (np.pi - t) * c) + dot * (np.pi - t)) / (2 * np.pi)

    K = kern(data.X, data.X)
    alpha = np.linalg.solve(K + ridge * np.trace(K) / K.shape[0] * np.eye(K.shape[0]), data.y)
    pred = kern(data.X_test, data.X) @ alpha
    return float(0.5 * np.mean((pred - data.y_test) ** 2))
