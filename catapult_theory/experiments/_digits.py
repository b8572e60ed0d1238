"""Data sets for the two-layer experiments: the toy datum and the 0-vs-1 digits.

MNIST, Fashion-MNIST and CIFAR-10 cannot be downloaded here; the two-class
image experiments use the 0-vs-1 subset of scikit-learn's bundled 8×8 digits
in their place (:func:`digits01`). scikit-learn is optional
(``pip install "catapult_theory[digits]"``) and imported only when the digits
are asked for.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput
from ._dataset import Dataset

__all__ = ["Dataset", "toy_data", "digits01", "DIGITS_INSTALL_HINT"]

#: how to get the optional dependency of :func:`digits01`
DIGITS_INSTALL_HINT = 'digits01 needs scikit-learn: pip install "catapult_theory[digits]" (or pip install scikit-learn)'


def toy_data() -> Dataset:
    """One datum ``x = [1.0]`` (``d = 1``), target ``y = [0.0]``; no test set."""
    return Dataset(
        name="toy",
        description="one datum x = [1.0] (d = 1), y = [0.0]",
        X=np.array([[1.0]]),
        y=np.array([0.0]),
    )


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(DIGITS_INSTALL_HINT) from exc
    return load_digits()


def digits01(train_size: int = 128, seed: int = 0) -> Dataset:
    """The 0-vs-1 images of scikit-learn's bundled 8×8 digits (no download).

    The 360 images of the digits 0 and 1 (``d = 64`` pixels) with targets
    ``−1`` for 0 and ``+1`` for 1. A training subset of ``train_size`` images
    is drawn without replacement by ``numpy.random.default_rng(seed)``
    (``permutation``), in that order; the remaining images, in their original
    order, are the test set.

    Preprocessing: pixel intensities (integers 0..16) are divided by 16, then
    each image is scaled to ``|x|² = d`` (so ``|x|²/d = 1``, the scale of the
    ``1/√(n d)`` parametrisation). Inputs are not centred: all coordinates are
    non-negative, as for raw images.

    Parameters
    ----------
    train_size
        Number of training images, ``1 <= train_size < 360`` (at least one
        image is left for the test set).
    seed
        Seed of the training-subset draw.

    Raises
    ------
    ValueError
        For a ``train_size`` out of range or a non-integer argument.
    ImportError
        If scikit-learn is not installed (the message says how to install it).
    """
    if isinstance(train_size, bool) or not isinstance(train_size, (int, np.integer)):
        raise InvalidInput(f"train_size must be an integer, got {train_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed!r}")
    digits = _load_digits()
    keep = (digits.target == 0) | (digits.target == 1)
    images = np.asarray(digits.data[keep], dtype=float)
    labels = np.where(digits.target[keep] == 1, 1.0, -1.0)
    total = images.shape[0]
    if not 1 <= train_size < total:
        raise InvalidInput(f"train_size must lie in [1, {total - 1}] ({total} images of 0 and 1), got {train_size}")
    d = images.shape[1]
    X_all = images / 16.0
    norms = np.linalg.norm(X_all, axis=1, keepdims=True)
    X_all = X_all * (np.sqrt(d) / norms)  # every 0 or 1 image has lit pixels: norms > 0
    order = np.random.default_rng(seed).permutation(total)
    train = order[:train_size]
    test = np.sort(order[train_size:])
    return Dataset(
        name=f"digits01-{train_size}-seed{seed}",
        description=(
            f"scikit-learn 8x8 digits, classes 0 (y = -1) and 1 (y = +1): {train_size} training images "
            f"drawn by default_rng({seed}).permutation, the other {total - train_size} as test set; "
            f"pixels/16, each image scaled to |x|^2 = d = {d}, not centred"
        ),
        X=X_all[train],
        y=labels[train],
        X_test=X_all[test],
        y_test=labels[test],
    )
