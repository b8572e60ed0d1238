"""``ntk-bound-pure-quadratic``: λ <= ζ² λ_max(ψ²) |θ|² on one datum.

λ = ζ² θᵀψ²θ (derived in the word algebra) and the Rayleigh–Ritz axiom for
the symmetric matrix ψ²; attained with θ in the top eigenspace of ψ² (checked
on real models).
"""

from __future__ import annotations

import sympy as sp

from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic.models.quadratic import psi, theta

from . import _sources as src
from ._kernel import Certificate, Identity, Step, Theorem, strip
from ._ntk import rayleigh_steps, tight_check, window_end_step
from ._tactics import model_table

ID = "ntk-bound-pure-quadratic"
P2 = sp.Symbol("psi2_form")


def steps_for(t, spec, prefix: str = "") -> tuple[list[Step], sp.Basic]:
    """λ = c θᵀψ²θ, Rayleigh–Ritz, and the bound with the catalogue's constant."""
    der = t.derivation
    A = der.algebra
    coeff = sp.simplify(der.named(der.lam) / A.scalarize(theta.T * psi * psi * theta))
    L = sp.Symbol("Lpsi2")
    steps = [Step(f"{prefix}form", sp.Eq(S.lam, coeff * P2), Identity(), note="λ = |∇f|² = ζ²|ψθ|²")]
    steps += rayleigh_steps(t, coeff, P2, A.scalarize(theta.T * psi * psi * theta), psi * psi, theta, L, S.w2, prefix)
    bound = strip(spec.ntk)
    K = strip(spec.K)
    steps.append(Step(f"{prefix}ntk-bound", bound,
                      Certificate(((coeff, sp.Le(P2, L * S.w2)), (-1, sp.Eq(S.lam, coeff * P2)))),
                      uses=(f"{prefix}form", f"{prefix}rayleigh", f"{prefix}lambda-max-nonneg"),
                      numeric=tight_check(spec.ntk, "pure-quadratic")))
    _ = K
    return steps, bound


def theorem(model: str | None = None) -> Theorem:
    spec = src.bound("pure-quadratic", "single")
    assert spec.ntk is not None, "a rigorous bound states its NTK inequality"
    t = model_table("pure-quadratic")
    steps, bound = steps_for(t, spec)
    end, defn = window_end_step(spec, strip(spec.ntk.rhs))
    t.add(defn)
    steps.append(end)
    return Theorem(ID, tuple(t.hypotheses), (bound, sp.Ge(sp.Symbol("Lpsi2"), 0), (end.claim, end.hypotheses)),
                   tuple(steps),
                   tuple(t.definitions), "pure-quadratic",
                   "λ <= ζ² λ_max(ψ²) |θ|² for the pure quadratic model on one datum, attained in the top "
                   "eigenspace of ψ²; the window ends where η ζ² λ_max(ψ²)|θ_0|² = 4")
