"""Quadratic models (THEORY §2, models 2 and 3), declared as SymPy objects.

* pure quadratic ``f = (ζ/2) θᵀ ψ θ``, ``θ ∈ R^m``, ``ψ`` a symmetric data matrix;
* quadratic with bias ``f = θ_φᵀ φ + (ζ/2) θ_ψᵀ ψ θ_ψ`` with separate blocks.

Moments ``m_k = ζ^k θᵀ ψ^k θ`` (``f = m_1/2``, ``lam = m_2`` for the pure
model) are declared as extra invariants so that the non-closing maps are
written in named moments.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import Identity, MatrixSymbol

from .._derive import SymbolicModel

__all__ = [
    "m",
    "p",
    "zeta",
    "zeta_of",
    "kappa",
    "phi2",
    "m3",
    "m4",
    "fphi",
    "theta",
    "psi",
    "pure_quadratic_model",
    "pure_quadratic_scalar_model",
    "quadratic_bias_model",
]

#: rank (size of θ) and number of features
m, p = sp.symbols("m p")
#: ζ = (m/2)^(-1/2)
zeta = sp.Symbol("zeta", positive=True)


def zeta_of(rank: int) -> sp.Expr:
    """The value of ``ζ`` at rank ``m``: ``(m/2)^(-1/2) = sqrt(2/m)`` exactly (THEORY §2)."""
    return sp.sqrt(sp.Rational(2, rank))

#: ψ² = κ I in the closing special case
kappa = sp.Symbol("kappa", positive=True)
#: |φ|²
phi2 = sp.Symbol("phi2")
#: higher moments ζ^k θᵀψ^kθ
m3, m4 = sp.symbols("m3 m4")
#: the feature part of the bias model's output, θ_φᵀ φ
fphi = sp.Symbol("fphi")

theta = MatrixSymbol("theta", m, 1)
psi = MatrixSymbol("psi", m, m)


def _moments(th: MatrixSymbol) -> tuple[tuple[sp.Symbol, object], ...]:
    return ((m3, zeta**3 * th.T * psi * psi * psi * th), (m4, zeta**4 * th.T * psi * psi * psi * psi * th))


def pure_quadratic_model() -> SymbolicModel:
    """``f = (ζ/2) θᵀ ψ θ`` for a generic symmetric ``ψ`` (the map does not close)."""
    return SymbolicModel(
        name="pure-quadratic",
        params=(theta,),
        output=zeta / 2 * theta.T * psi * theta,
        symmetric=(psi,),
        scalars=(zeta,),
        extra_invariants=_moments(theta),
        description="pure quadratic model f = (zeta/2) theta^T psi theta, one datum, psi symmetric",
    )


def pure_quadratic_scalar_model() -> SymbolicModel:
    """The pure quadratic model with ``ψ² = κ I`` (the uv-like case; the map closes)."""
    return SymbolicModel(
        name="pure-quadratic[psi^2=kappa I]",
        params=(theta,),
        output=zeta / 2 * theta.T * psi * theta,
        symmetric=(psi,),
        rules=((psi * psi, kappa * Identity(m)),),
        scalars=(zeta, kappa),
        extra_invariants=_moments(theta),
        description="pure quadratic model with psi^2 = kappa I",
    )


theta_phi = MatrixSymbol("theta_phi", p, 1)
theta_psi = MatrixSymbol("theta_psi", m, 1)
phi = MatrixSymbol("phi", p, 1)


def quadratic_bias_model() -> SymbolicModel:
    """``f = θ_φᵀ φ + (ζ/2) θ_ψᵀ ψ θ_ψ`` (separate blocks; not homogeneous)."""
    return SymbolicModel(
        name="quadratic-bias",
        params=(theta_phi, theta_psi),
        output=theta_phi.T * phi + zeta / 2 * theta_psi.T * psi * theta_psi,
        symmetric=(psi,),
        aliases=((phi.T * phi, phi2),),
        scalars=(zeta,),
        extra_invariants=_moments(theta_psi) + ((fphi, theta_phi.T * phi),),
        description="quadratic model with bias f = theta_phi^T phi + (zeta/2) theta_psi^T psi theta_psi, one datum",
    )


#: the symbols an exported quadratic-model expression may use beyond the contract
EXTRA_SYMBOLS = {s.name: s for s in (zeta, kappa, phi2, m3, m4, fphi)}
