"""Building-block strategies for users' own property tests.

* :func:`k_windows`: values of ``k = eta*lam`` in a window, drawn often near its
  ends (where claimed thresholds break);
* :func:`symmetric_matrices`: symmetric matrices with a chosen spectrum
  (``Q diag(eigenvalues) Qᵀ`` with a random orthogonal ``Q``);
* :func:`datasets`: data sets ``(X, y)`` with bounded entries;
* :func:`uv_states`, :func:`two_layer_states`, :func:`pure_quadratic_states`,
  :func:`quadratic_bias_states`: realisable states of each built-in family
  (:func:`~catapult_theory.testing.model_states` for any model or model file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ._search import model_states
from ._states import K_DEFAULT, ModelState

__all__ = [
    "Dataset",
    "datasets",
    "k_windows",
    "pure_quadratic_states",
    "quadratic_bias_states",
    "symmetric_matrices",
    "two_layer_states",
    "uv_states",
]


def k_windows(low: float = K_DEFAULT[0], high: float = K_DEFAULT[1], *, edge: float = 0.2,
              exclude_high: bool = True) -> st.SearchStrategy[float]:
    """Floats ``k`` in ``[low, high)`` (``[low, high]`` with ``exclude_high=False``),
    half of them within ``edge`` of an end."""
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"k_windows needs finite low < high, got {low}, {high}")
    kw = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False}
    inner = st.floats(low, high, exclude_max=exclude_high, **kw)  # type: ignore[arg-type]
    top = st.floats(max(low, high - edge), high, exclude_max=exclude_high, **kw)  # type: ignore[arg-type]
    bottom = st.floats(low, min(high, low + edge), exclude_max=exclude_high and low + edge >= high,
                       **kw)  # type: ignore[arg-type]
    return st.one_of(inner, top, bottom)


#: default sizes of :func:`symmetric_matrices`
_SIZES = st.integers(1, 6)


@st.composite
def symmetric_matrices(draw: st.DrawFn, size: int | st.SearchStrategy[int] = _SIZES,
                       eigenvalues: Sequence[float] | st.SearchStrategy[float] | None = None) -> np.ndarray:
    """Symmetric ``size × size`` matrices ``Q diag(eigenvalues) Qᵀ`` with a random orthogonal ``Q``.

    ``eigenvalues`` is the spectrum (a sequence of length ``size``, used as given),
    a strategy for one eigenvalue (drawn ``size`` times), or ``None`` (floats in
    ``[-3, 3]``). The matrix is symmetrised exactly (``(A + Aᵀ)/2``).
    """
    n = draw(size) if isinstance(size, st.SearchStrategy) else int(size)
    if n < 1:
        raise ValueError(f"size must be >= 1, got {n}")
    if eigenvalues is None:
        eigenvalues = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
    if isinstance(eigenvalues, st.SearchStrategy):
        eig = np.array([draw(eigenvalues) for _ in range(n)], dtype=float)
    else:
        eig = np.asarray(list(eigenvalues), dtype=float)
        if eig.shape != (n,):
            raise ValueError(f"{eig.size} eigenvalues for a {n}x{n} matrix")
    seed = draw(st.integers(0, 2**32 - 1))
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    q = q * np.sign(np.where(np.diag(r) == 0, 1.0, np.diag(r)))  # Haar: fix the signs of the columns
    a = (q * eig) @ q.T
    return (a + a.T) / 2


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (shape ``(B, d)``) and targets ``y`` (shape ``(B,)``)."""

    X: np.ndarray
    y: np.ndarray

    @property
    def B(self) -> int:
        """The number of data."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """The input dimension."""
        return int(self.X.shape[1])


@st.composite
def datasets(draw: st.DrawFn, max_B: int = 8, max_d: int = 6, *, y_zero: bool = False,
             scale: float = 3.0) -> Dataset:
    """Data sets of ``1..max_B`` points in ``R^d`` (``d`` in ``1..max_d``), entries in
    ``[-scale, scale]``, targets in ``[-scale, scale]`` (or 0 with ``y_zero``)."""
    B = draw(st.integers(1, max_B))
    d = draw(st.integers(1, max_d))
    el = st.floats(-scale, scale, allow_nan=False, allow_infinity=False)
    X = np.array(draw(st.lists(el, min_size=B * d, max_size=B * d)), dtype=float).reshape(B, d)
    y = np.zeros(B) if y_zero else np.array(draw(st.lists(el, min_size=B, max_size=B)), dtype=float)
    return Dataset(X, y)


def uv_states(assume: Sequence[str] = (), *, steps: int = 1000) -> st.SearchStrategy[ModelState]:
    """Realisable states of the uv model (:func:`~catapult_theory.testing.model_states`)."""
    return model_states("uv", assume, steps=steps)


def two_layer_states(assume: Sequence[str] = (), *, steps: int = 1000) -> st.SearchStrategy[ModelState]:
    """Realisable states of the two-layer net: slope ``a`` in [0, 1], the slope matrix the
    real activation pattern ``diag(σ'(U x))``, recomputed after the step."""
    return model_states("two-layer", assume, steps=steps)


def pure_quadratic_states(assume: Sequence[str] = (), *, steps: int = 1000) -> st.SearchStrategy[ModelState]:
    """Realisable states of the pure quadratic model (``ζ = (m/2)^(-1/2)``, ψ symmetric)."""
    return model_states("pure-quadratic", assume, steps=steps)


def quadratic_bias_states(assume: Sequence[str] = (), *, steps: int = 1000) -> st.SearchStrategy[ModelState]:
    """Realisable states of the quadratic model with bias."""
    return model_states("quadratic-bias", assume, steps=steps)
