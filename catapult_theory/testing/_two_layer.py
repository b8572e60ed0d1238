"""Random two-layer homogeneous nets and one plain GD step on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

__all__ = ["TwoLayerProblem", "TwoLayerStep", "two_layer_gd_step", "two_layer_problems"]


@dataclass(frozen=True)
class TwoLayerProblem:
    """``f(x) = Σ_i v_i σ(u_i·x)/√(n d)``, σ slopes 1 and ``a``, on data ``X (B, d)``."""

    U: np.ndarray
    v: np.ndarray
    X: np.ndarray
    y: np.ndarray
    a: float
    eta: float

    @property
    def n(self) -> int:
        """The width (number of units)."""
        return self.U.shape[0]

    @property
    def d(self) -> int:
        """The input dimension."""
        return self.U.shape[1]

    @property
    def B(self) -> int:
        """The number of data."""
        return self.X.shape[0]

    def slopes(self, U: np.ndarray | None = None) -> np.ndarray:
        """The slope of σ of each unit on each datum, shape ``(n, B)``, at ``U`` (default: the problem's)."""
        Z = (self.U if U is None else U) @ self.X.T
        return np.where(Z > 0, 1.0, self.a)

    def outputs(self, U: np.ndarray | None = None, v: np.ndarray | None = None) -> np.ndarray:
        """``f(x_a)`` for every datum, shape ``(B,)``, at ``(U, v)`` (default: the problem's)."""
        U = self.U if U is None else U
        v = self.v if v is None else v
        Z = U @ self.X.T
        return v @ (np.where(Z > 0, 1.0, self.a) * Z) / np.sqrt(self.n * self.d)

    def jacobian(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-datum gradients: ``dU (B, n, d)`` and ``dv (B, n)``."""
        c = np.sqrt(self.n * self.d)
        D = self.slopes()  # (n, B)
        Z = self.U @ self.X.T
        dv = (D * Z).T / c
        dU = (self.v[:, None] * D).T[:, :, None] * self.X[:, None, :] / c
        return dU, dv

    def ntk(self) -> np.ndarray:
        """The NTK ``Θ = J Jᵀ``, shape ``(B, B)``."""
        dU, dv = self.jacobian()
        J = np.concatenate([dU.reshape(self.B, -1), dv], axis=1)
        return J @ J.T

    def __repr__(self) -> str:
        return f"TwoLayerProblem(n={self.n}, d={self.d}, B={self.B}, a={self.a!r}, eta={self.eta!r})"


@dataclass(frozen=True)
class TwoLayerStep:
    """Outputs, residuals, Euler's ``θ·∇f_a`` and the weight norm around one full-batch GD step."""

    f: np.ndarray
    r: np.ndarray
    euler: np.ndarray
    w2: float
    dw2: float
    #: rounding scale of dw2: ``|θ' − θ| (|θ'| + |θ|)``
    dw2_scale: float
    lam: float


@st.composite
def two_layer_problems(draw: st.DrawFn, max_n: int = 64, max_d: int = 6, max_B: int = 5, y_zero: bool = False,
                       eta_max: float = 3.0) -> TwoLayerProblem:
    """Nets with slope ``a ∈ [0, 1]``, Gaussian weights (some units aligned with a
    datum, so that ``lam <= K w2`` can be nearly tight), data and a learning rate."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    B = draw(st.integers(1, max_B))
    # the ends of the slope range (ReLU, linear) are where constants are tight or degenerate
    a = draw(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, d))
    align = draw(st.one_of(st.just(1.0), st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)))
    U = align * np.outer(rng.standard_normal(n), X[0]) + (1 - align) * rng.standard_normal((n, d))
    v = rng.standard_normal(n)
    y = np.zeros(B) if y_zero else rng.standard_normal(B)
    eta = draw(st.floats(1e-3, eta_max, allow_nan=False, allow_infinity=False))
    return TwoLayerProblem(U, v, X, y, float(a), float(eta))


def two_layer_gd_step(p: TwoLayerProblem) -> TwoLayerStep:
    """One full-batch GD step on ``(1/2B) Σ_a r_a²`` (plain NumPy, per-datum gradients)."""
    f = p.outputs()
    r = f - p.y
    dU, dv = p.jacobian()
    euler = np.einsum("bij,ij->b", dU, p.U) + dv @ p.v  # θ·∇f_a per datum
    gU = np.einsum("b,bij->ij", r, dU) / p.B
    gv = r @ dv / p.B
    U1, v1 = p.U - p.eta * gU, p.v - p.eta * gv
    dw2 = float(np.sum((U1 - p.U) * (U1 + p.U)) + (v1 - p.v) @ (v1 + p.v))
    dn = np.sqrt(np.sum((U1 - p.U) ** 2) + np.sum((v1 - p.v) ** 2))
    sn = np.sqrt(np.sum(U1**2) + np.sum(v1**2)) + np.sqrt(np.sum(p.U**2) + np.sum(p.v**2))
    lam = float(np.linalg.eigvalsh(p.ntk() / p.B)[-1])
    return TwoLayerStep(f, r, euler, float(np.sum(p.U**2) + p.v @ p.v), dw2, float(dn * sn), lam)
