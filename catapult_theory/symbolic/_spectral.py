"""Exact single-datum dynamics of quadratic models in the eigenbasis of ψ.

For one datum the GD step ``θ' = θ − η r ∇f`` is linear in ``θ`` and, for the
quadratic block, ``∇f = ζ ψ θ`` commutes with ``ψ``. Declaring an eigenvector
``e`` of ``ψ`` (rules ``ψ e = μ e`` and ``eᵀ e = 1``) in the word algebra, the
generic core derives:

* the weight update ``c' = (1 − η r ζ μ)² c`` for ``c = (eᵀθ)²``;
* the contributions of one component (``θ = t e``) to ``f``, ``lam``, ``w2``;
* with two orthonormal eigenvectors, that the contributions add up with no
  cross terms (so the state of the reduced engine is one weight per
  eigenvalue);
* for the bias model, the feature block: ``p = θ_φᵀ φ``, ``q = |θ_φ|²`` and
  their updates and contributions.

The reduced engine therefore has one weight per eigenvalue of ``ψ``, not per
parameter; when ``ψ² ∝ I`` it collapses to the uv map.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions import Identity, MatrixSymbol


from ._derive import Derivation, SymbolicModel
from .models.quadratic import m, zeta

__all__ = ["SpectralFormulas", "spectral_formulas", "closure_obstruction", "c", "mu", "pf", "qf"]

#: weight of one eigencomponent, its eigenvalue
c, mu = sp.symbols("c mu")
mu2 = sp.Symbol("mu2")
#: feature block of the bias model: p = θ_φᵀφ, q = |θ_φ|²
pf, qf = sp.symbols("p q")
t, t2 = sp.symbols("t t2")


@dataclass(frozen=True)
class SpectralFormulas:
    """Derived per-component maps (expressions in ``c, mu, eta, r, zeta`` etc.)."""

    weight_next: sp.Expr
    contributions: tuple[sp.Expr, sp.Expr, sp.Expr]
    feature_next: tuple[sp.Expr, sp.Expr]
    feature_contributions: tuple[sp.Expr, sp.Expr, sp.Expr]
    #: f, lam, w2 of two orthonormal eigencomponents minus the sum of single ones (zero)
    cross_terms: tuple[sp.Expr, sp.Expr, sp.Expr]


def _component_model() -> tuple[Derivation, MatrixSymbol, MatrixSymbol, MatrixSymbol]:
    theta = MatrixSymbol("theta", m, 1)
    psi = MatrixSymbol("psi", m, m)
    e = MatrixSymbol("e", m, 1)
    e2 = MatrixSymbol("e2", m, 1)
    model = SymbolicModel(
        name="pure-quadratic[eigencomponents]",
        params=(theta,),
        output=zeta / 2 * theta.T * psi * theta,
        symmetric=(psi,),
        rules=(
            (psi * e, mu * e),
            (psi * e2, mu2 * e2),
            (e.T * e, Identity(1)),
            (e2.T * e2, Identity(1)),
            (e.T * e2, sp.ZeroMatrix(1, 1)),
        ),
    )
    return Derivation(model), theta, e, e2


@lru_cache(maxsize=None)
def spectral_formulas() -> SpectralFormulas:
    """The per-eigencomponent maps of the quadratic models, derived once.

    Returns
    -------
    SpectralFormulas
        The weight update of one eigencomponent, its contributions to
        ``f, lam, w2``, the feature block of the bias model and the cross
        terms of two orthonormal components (zero).
    """
    der, theta, e, e2 = _component_model()
    A = der.algebra
    # weight update: c = (eᵀθ)², written back in c
    proj = A.scalarize(e.T * theta)
    weight_next = der.express(der.next(proj**2), {c: proj**2}, prefer=(c,))
    if weight_next.leftover:  # pragma: no cover - the derivation closes
        raise RuntimeError(f"component map does not close: {weight_next.leftover}")
    # contributions of one component θ = t e, written in c = t²
    one = {theta: A.scale(A.poly(e), t)}
    f_c, lam_c, w2_c = (sp.expand(A.substitute(q, one)).subs(t**2, c) for q in (der.f, der.lam, der.w2))
    # two orthonormal components: no cross terms
    two = {theta: A.add(A.scale(A.poly(e), t), A.scale(A.poly(e2), t2))}
    single2 = {theta: A.scale(A.poly(e2), t2)}
    f_x, lam_x, w2_x = (
        sp.simplify(A.substitute(q, two) - A.substitute(q, one) - A.substitute(q, single2))
        for q in (der.f, der.lam, der.w2)
    )
    # bias model feature block
    from .models.quadratic import quadratic_bias_model, theta_phi, phi

    bder = Derivation(quadratic_bias_model())
    B = bder.algebra
    p_atom = B.scalarize(theta_phi.T * phi)
    q_atom = B.scalarize(theta_phi.T * theta_phi)
    inv = {pf: p_atom, qf: q_atom}
    p_next = bder.express(bder.next(p_atom), inv, prefer=(qf, pf))
    q_next = bder.express(bder.next(q_atom), inv, prefer=(qf, pf))
    if p_next.leftover or q_next.leftover:  # pragma: no cover
        raise RuntimeError("feature map does not close")
    g_phi = bder.grads[theta_phi]
    feature_contrib = (pf, bder.named(B.inner(g_phi, g_phi)), qf)
    return SpectralFormulas(
        weight_next=sp.factor(weight_next.expr),
        contributions=(f_c, lam_c, w2_c),
        feature_next=(p_next.expr, q_next.expr),
        feature_contributions=feature_contrib,
        cross_terms=(f_x, lam_x, w2_x),
    )


def closure_obstruction() -> sp.Expr:
    """Why the (f, lam, w2) map closes *only* when ψ² ∝ I (the converse).

    Take ψ with the ± paired eigenvalues ``±mu1, ±mu2`` and weights ``c`` on
    them; ``f, lam, w2`` and ``m3 = ζ³ θᵀψ³θ`` are the sums of the derived
    per-component contributions (``m3`` from the same derivation with ψ³).
    Along the null direction of the Jacobian of ``(f, lam, w2)`` with respect
    to the weights, ``f``, ``lam`` and ``w2`` stay fixed; the returned
    expression is the derivative of ``m3`` along it. It vanishes exactly when
    ``mu1² = mu2²``: otherwise two states with the same ``(f, lam, w2)`` have
    different ``m3``, hence different ``f'`` (whose update contains ``m3``),
    and no map in ``(f, lam, w2)`` alone exists.
    """
    mu1, mu2 = sp.symbols("mu1 mu2", positive=True)
    sf = spectral_formulas()
    eig = [mu1, -mu1, mu2, -mu2]
    cs = sp.symbols("c1:5", nonnegative=True)
    parts = [tuple(q.subs({c: ci, mu: m}) for q in sf.contributions) for ci, m in zip(cs, eig)]
    f_, lam_, w2_ = (sum(p[i] for p in parts) for i in range(3))
    # m3 per component, derived like the contributions: ζ³ θᵀψ³θ at θ = t e
    der, theta, e, _ = _component_model()
    A = der.algebra
    m3_atom = A.scalarize(zeta**3 * theta.T * der.model.symmetric[0] ** 3 * theta)
    m3_one = sp.expand(A.substitute(m3_atom, {theta: A.scale(A.poly(e), t)})).subs(t**2, c)
    m3_ = sum(m3_one.subs({c: ci, mu: m}) for ci, m in zip(cs, eig))
    J = sp.Matrix([[sp.diff(q, ci) for ci in cs] for q in (f_, lam_, w2_)])
    (null,) = J.nullspace()
    grad_m3 = sp.Matrix([[sp.diff(m3_, ci) for ci in cs]])
    return sp.factor(sp.simplify((grad_m3 * null)[0]))
