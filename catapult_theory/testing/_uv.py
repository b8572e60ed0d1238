"""Random uv-model problems and one real GD step on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..engine import UVState, uv_observables

__all__ = ["UVProblem", "UVStep", "uv_gd_step", "uv_problems"]


@dataclass(frozen=True)
class UVProblem:
    """A finite uv model on one datum with a learning rate ``eta = k / lam``."""

    U: np.ndarray
    v: np.ndarray
    x: np.ndarray
    y: float
    k: float

    @property
    def width(self) -> int:
        """The width ``n`` (rows of ``U``)."""
        return self.U.shape[0]

    @property
    def observables(self) -> tuple[float, float, float]:
        """``(f, lam, w2)`` of the model on its datum (computed by the engine)."""
        f, lam, w2 = uv_observables(UVState(self.U, self.v), self.x)
        return float(f), float(lam), float(w2)

    @property
    def eta(self) -> float:
        """The learning rate ``k / lam``."""
        return self.k / self.observables[1]

    def __repr__(self) -> str:
        f, lam, w2 = self.observables
        return (f"UVProblem(width={self.width}, d={self.x.shape[0]}, y={self.y!r}, k={self.k!r}, "
                f"f={f:.6g}, lam={lam:.6g}, w2={w2:.6g})")


@dataclass(frozen=True)
class UVStep:
    """Observables before and after one full-parameter GD step."""

    f: float
    lam: float
    w2: float
    eta: float
    r: float
    f_next: float
    lam_next: float
    w2_next: float
    #: ``|θ'|² − |θ|²`` computed as ``(θ' − θ)·(θ' + θ)`` from the parameters (no cancellation)
    dw2: float


@st.composite
def uv_problems(
    draw: st.DrawFn,
    min_width: int = 1,
    max_width: int = 2000,
    max_d: int = 4,
    k_min: float = 0.01,
    k_max: float = 6.0,
    y_zero: bool = False,
    max_abs_y: float = 3.0,
    scale: tuple[float, float] = (0.1, 3.0),
) -> UVProblem:
    """uv problems: width, input dimension, a seeded Gaussian state (scaled),
    a datum ``x`` (Gaussian, scaled), a target and ``k = eta*lam`` in
    ``[k_min, k_max)``, drawn often within 0.2 of ``k_max`` (where claimed
    thresholds break). All floats bounded, no NaN or infinity."""
    n = draw(st.integers(min_width, max_width))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**32 - 1))
    s = draw(st.floats(*scale, allow_nan=False, allow_infinity=False))
    xs = draw(st.floats(0.2, 3.0, allow_nan=False, allow_infinity=False))
    rng = np.random.default_rng(seed)
    U = s * rng.standard_normal((n, d))
    v = s * rng.standard_normal(n)
    x = rng.standard_normal(d)
    x *= xs / max(float(np.linalg.norm(x)), 1e-12)
    y = 0.0 if y_zero else draw(st.floats(-max_abs_y, max_abs_y, allow_nan=False, allow_infinity=False))
    # the upper edge of the k range is where a claimed threshold breaks: draw it often
    edge = max(k_min, k_max - 0.2)
    k = draw(st.one_of(st.floats(k_min, k_max, exclude_max=True, allow_nan=False, allow_infinity=False),
                       st.floats(edge, k_max, exclude_max=True, allow_nan=False, allow_infinity=False)))
    return UVProblem(U, v, x, float(y), float(k))


def uv_gd_step(p: UVProblem) -> UVStep:
    """One plain GD step on ``½ (f − y)²`` with ``eta = k / lam`` (independent of the symbolic layer)."""
    n = p.width
    f, lam, w2 = p.observables
    eta = p.k / lam
    r = f - p.y
    gU = np.outer(p.v, p.x) / np.sqrt(n)
    gv = p.U @ p.x / np.sqrt(n)
    U1 = p.U - eta * r * gU
    v1 = p.v - eta * r * gv
    f1, lam1, w21 = uv_observables(UVState(U1, v1), p.x)
    dw2 = float(np.sum((U1 - p.U) * (U1 + p.U)) + np.sum((v1 - p.v) * (v1 + p.v)))
    return UVStep(f, lam, w2, eta, r, float(f1), float(lam1), float(w21), dw2)
