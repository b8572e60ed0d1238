"""``ntk-bound-quadratic-bias``: λ <= |φ|² + ζ² λ_max(ψ²) Q with the modified norm
Q = |θ|² + (θ_φ·φ)²/|φ|², on one datum.

λ = |φ|² + ζ² θ_ψᵀψ²θ_ψ (derived), Rayleigh–Ritz on the ψ block, and
|θ_ψ|² <= Q because Q − |θ_ψ|² = |θ_φ|² + (θ_φ·φ)²/|φ|² (derived) is a sum of
squares; attained with θ_φ = 0 and θ_ψ in the top eigenspace of ψ² (real
models). Dropping the |φ|² term leaves a remainder no certificate can sign.
"""

from __future__ import annotations

import sympy as sp

from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic.models.quadratic import phi, psi, theta_phi, theta_psi

from . import _sources as src
from ._kernel import Axiom, Certificate, Definition, Identity, Step, Theorem, strip
from ._ntk import rayleigh_steps, tight_check, window_end_step
from ._tactics import model_table

ID = "ntk-bound-quadratic-bias"
P2, W2_PSI, W2_PHI, Q = sp.symbols("psi2_form w2_psi w2_phi Q")


def steps_for(t, spec) -> tuple[list[Step], sp.Basic]:
    der = t.derivation
    A = der.algebra
    phi2 = sp.Symbol("phi2")
    zeta = sp.Symbol("zeta")
    form_value = A.scalarize(theta_psi.T * psi * psi * theta_psi)
    coeff = sp.simplify((der.named(der.lam) - phi2) / form_value)
    t.add(Definition(W2_PSI, "|θ_ψ|²", A.scalarize(theta_psi.T * theta_psi), r"|\theta_{\psi}|^{2}"))
    t.add(Definition(W2_PHI, "|θ_φ|²", A.scalarize(theta_phi.T * theta_phi), r"|\theta_{\phi}|^{2}"))
    t.add(Definition(Q, "the modified norm |θ|² + (θ_φ·φ)²/|φ|²",
                     S.w2 + der.named(A.scalarize(theta_phi.T * phi)) ** 2 / phi2, "Q"))
    L = sp.Symbol("Lpsi2")
    steps = [Step("form", sp.Eq(S.lam, phi2 + coeff * P2), Identity(), note="λ = |φ|² + ζ²|ψθ_ψ|²")]
    steps += rayleigh_steps(t, coeff, P2, form_value, psi * psi, theta_psi, L, W2_PSI)
    steps.append(Step("phi-square", sp.Ge(W2_PHI, 0), Axiom("norm-nonneg", {"algebra": A, "vector": theta_phi})))
    steps.append(Step("psi-block", sp.Le(W2_PSI, Q), Certificate(((1, sp.Ge(W2_PHI, 0)),)), uses=("phi-square",),
                      note="Q − |θ_ψ|² = |θ_φ|² + (θ_φ·φ)²/|φ|²"))
    bound = strip(spec.ntk)
    steps.append(Step("ntk-bound", bound,
                      Certificate(((coeff, sp.Le(P2, L * W2_PSI)), (coeff * L, sp.Le(W2_PSI, Q)),
                                   (-1, sp.Eq(S.lam, phi2 + coeff * P2))), 0),
                      uses=("form", "rayleigh", "psi-block", "lambda-max-nonneg"),
                      numeric=tight_check(spec.ntk, "quadratic-bias")))
    _ = zeta
    return steps, bound


def theorem(model: str | None = None) -> Theorem:
    spec = src.bound("quadratic-bias", "feature")
    t = model_table("quadratic-bias")
    steps, bound = steps_for(t, spec)
    return Theorem(ID, tuple(t.hypotheses), (bound, sp.Ge(sp.Symbol("Lpsi2"), 0)), tuple(steps), tuple(t.definitions),
                   "quadratic-bias",
                   "λ <= |φ|² + ζ² λ_max(ψ²) Q for the quadratic model with bias on one datum, Q the modified norm")
