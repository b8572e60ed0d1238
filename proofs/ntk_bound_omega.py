"""``ntk-bound-omega``: λ_max(H) <= (ζ²/B) λ_max(Σ_a ψ_a²) |θ|² on B data.

With ``V`` the m×B matrix of columns ``ψ_a θ``, the NTK Gram matrix of the
pure quadratic model is ``Θ = ζ² VᵀV`` (``∇f_a = ζ ψ_a θ``, derived for one
datum) and ``H = Θ/B``. At a unit top eigenvector ``e`` of ``H``:
``λ_max(H) = (ζ²/B)|Ve|²``; Cauchy–Schwarz ``|Ve|² <= tr(VᵀV)`` is the identity
``tr(VᵀV) − |Ve|² = |V − Veeᵀ|²`` (|e| = 1) with ``|·|² >= 0``;
``tr(VᵀV) = θᵀ(Σ_a ψ_a²)θ`` and the Rayleigh–Ritz axiom finish. Attained for B
copies of one datum with θ in the top eigenspace of ψ² (real models).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.symbolic import Algebra, symbols as S
from catapult_theory.symbolic.models.quadratic import m, theta, zeta

from . import _sources as src
from ._kernel import Axiom, Certificate, Definition, Identity, Step, Theorem, strip
from ._ntk import tight_check, window_end_step
from ._tactics import ModelTable, positivity
from .axioms import lambda_max

ID = "ntk-bound-omega"

B = sp.Symbol("B")
LAM_H, L_OMEGA = sp.Symbol("lam_H"), sp.Symbol("LOmega")
V, E, SSUM = MatrixSymbol("V_stack", m, B), MatrixSymbol("e_max", B, 1), MatrixSymbol("Psi2_sum", m, m)


def theorem(model: str | None = None) -> Theorem:
    spec = src.bound("pure-quadratic", "omega")
    assert spec.ntk is not None, "a rigorous bound states its NTK inequality"
    A = Algebra(symmetric=(SSUM,))
    z = sp.Symbol("zeta")
    H = zeta**2 / B * V.T * V
    top, unit = A.scalarize(E.T * V.T * V * E), A.scalarize(E.T * E)
    trace, form, w2 = A.inner(A.poly(V), A.poly(V)), A.scalarize(theta.T * SSUM * theta), A.scalarize(theta.T * theta)
    W = A.sub(A.poly(V), A.poly(V * E * E.T))
    cs_value = A.inner(W, W)
    t = ModelTable("pure-quadratic", None)
    t.hypotheses = [sp.Gt(B, 0)]
    for sym, meaning, tex in ((V, "the m×B matrix with columns ψ(x_a)θ, so that ∇f_a = ζψ(x_a)θ is column a of ζV",
                               r"V"),
                              (E, "a unit top eigenvector of H", r"e"),
                              (SSUM, "Σ_a ψ(x_a)², symmetric", r"\Sigma_a \psi_a^{2}")):
        t.add(Definition(sym, meaning, None, tex))
    for atom in sorted(set().union(*(A.atoms_of(x) for x in (top, unit, trace, form, w2, cs_value))), key=str):
        t.add(Definition(atom, f"the scalar {atom.name}", None, A.atom_latex(atom)))
    t.add(Definition(LAM_H, "λ_max(H), H = Θ/B = ζ² VᵀV/B the NTK Gram matrix over B", lambda_max(H),
                     r"\lambda_{\max}(H)"))
    t.add(Definition(lambda_max(H), "the largest eigenvalue of ζ² VᵀV/B", None, r"\lambda_{\max}(\zeta^{2} V^{T} V/B)"))
    t.add(Definition(L_OMEGA, "λ_max(Σ_a ψ_a²), the top eigenvalue of the block matrix Ω up to ζ²/B",
                     lambda_max(SSUM), r"\lambda_{\max}(\Omega)"))
    t.add(Definition(lambda_max(SSUM), "the largest eigenvalue of Σ_a ψ_a²", None, r"\lambda_{\max}(\Sigma_a \psi_a^{2})"))
    t.add(Definition(S.w2, "the squared weight norm |θ|²", w2, r"|\theta|^{2}"))
    cs = sp.Symbol("N_cs")
    t.add(Definition(cs, "|V − V e eᵀ|², the part of V off the direction e", cs_value, r"|V - V e e^{T}|^{2}"))
    t.add(Definition(B, "the number of data", None, "B"))
    top_rel = sp.Eq(zeta**2 / B * top, LAM_H)
    unit_rel = sp.Eq(unit, 1)
    cs_rel = sp.Eq(trace - top, cs)
    gram = sp.Eq(trace, form)
    ray = sp.Le(form, L_OMEGA * w2)
    c = z**2 / B
    bound = strip(spec.ntk)
    steps = [
        Step("top-eigenvector", strip(top_rel), Axiom("top-eigenvector", {"algebra": A, "matrix": H, "vector": E})),
        Step("unit", unit_rel, Axiom("top-eigenvector", {"algebra": A, "matrix": H, "vector": E})),
        Step("cauchy-schwarz-identity", cs_rel, Identity(), uses=("unit",),
             note="tr(VᵀV) − eᵀVᵀVe = |V − Veeᵀ|² once eᵀe = 1: Cauchy–Schwarz as an identity"),
        Step("cauchy-schwarz-square", sp.Ge(cs, 0), Axiom("norm-nonneg", {"algebra": A, "vector": W})),
        Step("gram-trace", gram, Axiom("gram-trace", {"algebra": A, "stacked": V, "sum_of_squares": SSUM,
                                                       "vector": theta})),
        Step("rayleigh", ray, Axiom("rayleigh-ritz", {"algebra": A, "matrix": SSUM, "vector": theta})),
        Step("ntk-bound", bound,
             Certificate(((c, ray), (c, sp.Ge(cs, 0)), (1, strip(top_rel)), (c, cs_rel), (-c, gram)), 0),
             uses=("top-eigenvector", "cauchy-schwarz-identity", "cauchy-schwarz-square", "gram-trace", "rayleigh"),
             numeric=tight_check(spec.ntk, "omega")),
    ]
    end, defn = window_end_step(spec, strip(spec.ntk.rhs))
    t.add(defn)
    t.add(Definition(S.lam, "λ_0, the NTK eigenvalue at the start (its bound is λ_max(H) <= K|θ|²)", None,
                     r"\lambda"))
    steps.append(end)
    for h in positivity([bound.rhs]):
        if all(sp.sstr(h) != sp.sstr(x) for x in t.hypotheses):
            t.hypotheses.append(h)
    return Theorem(ID, tuple(t.hypotheses), (bound, (end.claim, end.hypotheses)), tuple(steps),
                   tuple(t.definitions), "pure-quadratic",
                   "λ_max(H) <= (ζ²/B) λ_max(Σ_a ψ_a²) |θ|² for the pure quadratic model on B data (any labels: a "
                   "bound on H at every state)")
