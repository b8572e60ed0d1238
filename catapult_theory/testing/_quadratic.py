"""Random pure-quadratic problems (several data) and one plain GD step on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..symbolic.models.quadratic import zeta_of

__all__ = ["QuadraticProblem", "QuadraticStep", "quadratic_gd_step", "quadratic_problems"]


@dataclass(frozen=True)
class QuadraticProblem:
    """``f(x_a) = (ζ/2) θᵀ ψ_a θ`` on ``B`` data, labels ``y``, learning rate ``eta``.

    ``psi`` has shape ``(B, m, m)`` (symmetric); ``zeta = (m/2)^(-1/2)``.
    """

    psi: np.ndarray
    theta: np.ndarray
    y: np.ndarray
    eta: float

    @property
    def m(self) -> int:
        """The rank: the size of ``theta``."""
        return self.theta.shape[0]

    @property
    def B(self) -> int:
        """The number of data."""
        return self.psi.shape[0]

    @property
    def zeta(self) -> float:
        """``ζ = (m/2)^(-1/2)`` (:func:`~catapult_theory.symbolic.models.quadratic.zeta_of`)."""
        return float(zeta_of(self.m))

    def outputs(self, theta: np.ndarray | None = None) -> np.ndarray:
        """``f(x_a)`` for every datum, shape ``(B,)``, at ``theta`` (default: the problem's)."""
        th = self.theta if theta is None else theta
        return 0.5 * self.zeta * np.einsum("i,aij,j->a", th, self.psi, th)

    def jacobian(self, theta: np.ndarray | None = None) -> np.ndarray:
        """``∇f(x_a)`` as rows, shape ``(B, m)``."""
        th = self.theta if theta is None else theta
        return self.zeta * self.psi @ th

    def ntk(self) -> np.ndarray:
        """The NTK ``Θ = J Jᵀ``, shape ``(B, B)``."""
        J = self.jacobian()
        return J @ J.T

    def __repr__(self) -> str:
        return f"QuadraticProblem(m={self.m}, B={self.B}, eta={self.eta!r}, |theta|^2={self.theta @ self.theta:.6g})"


@dataclass(frozen=True)
class QuadraticStep:
    """Outputs, residuals and weight norms before and after one full-batch GD step."""

    f: np.ndarray
    r: np.ndarray
    w2: float
    w2_next: float
    dw2: float
    #: rounding scale of dw2: ``|θ' − θ| (|θ'| + |θ|)``
    dw2_scale: float
    lam_max_H: float


def _symmetric(rng: np.random.Generator, m: int, paired: bool) -> np.ndarray:
    if paired:  # q diag(μ, −μ) qᵀ with an orthogonal q
        q, _ = np.linalg.qr(rng.standard_normal((m, m)))
        half = rng.uniform(0.2, 2.0, size=(m + 1) // 2)
        eig = np.concatenate([half, -half])[:m]
        return (q * eig) @ q.T
    a = rng.standard_normal((m, m))
    return (a + a.T) / 2


@st.composite
def quadratic_problems(
    draw: st.DrawFn,
    max_m: int = 24,
    max_B: int = 6,
    y_zero: bool = False,
    eta_max: float = 3.0,
) -> QuadraticProblem:
    """Pure quadratic problems: generic or ± paired symmetric ψ_a, θ a mixture of
    a top eigenvector of ``Σ_a ψ_a²`` and Gaussian noise (so that bounds can be
    nearly tight), labels, and a learning rate."""
    m = 2 * draw(st.integers(1, max_m // 2))
    B = draw(st.integers(1, max_B))
    paired = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    psi = np.stack([_symmetric(rng, m, paired) for _ in range(B)])
    align = draw(st.one_of(st.just(1.0), st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)))
    if B == 1:  # an eigenvector of ψ of largest |eigenvalue| (f != 0 there)
        mu, vec = np.linalg.eigh(psi[0])
        top = vec[:, np.argmax(np.abs(mu))]
    else:  # top eigenvector of Σ_a ψ_a², where the Ω bound is tightest
        top = np.linalg.eigh(np.einsum("aij,ajk->ik", psi, psi))[1][:, -1]
    noise = rng.standard_normal(m)
    scale = draw(st.floats(0.1, 3.0, allow_nan=False, allow_infinity=False))
    theta = scale * (align * top * np.sqrt(m) + (1 - align) * noise)
    y = np.zeros(B) if y_zero else rng.standard_normal(B)
    eta = draw(st.floats(1e-3, eta_max, allow_nan=False, allow_infinity=False))
    return QuadraticProblem(psi, theta, y, float(eta))


def quadratic_gd_step(p: QuadraticProblem) -> QuadraticStep:
    """One full-batch GD step on ``(1/2B) Σ_a r_a²`` (plain NumPy)."""
    f = p.outputs()
    r = f - p.y
    grad = (r @ p.jacobian()) / p.B
    theta1 = p.theta - p.eta * grad
    d = theta1 - p.theta
    lam = float(np.linalg.eigvalsh(p.ntk() / p.B)[-1])
    return QuadraticStep(f, r, float(p.theta @ p.theta), float(theta1 @ theta1),
                         float(d @ (theta1 + p.theta)), float(np.linalg.norm(d) * (np.linalg.norm(theta1) + np.linalg.norm(p.theta))),
                         lam)
