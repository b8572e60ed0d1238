"""Proof steps of the NTK bounds ``λ <= K |θ|²`` (untrusted builders; the kernel checks).

* :func:`spectral_steps`: for a gradient map ``θ -> ∇f = Ψθ`` with
  ``Ψ³ = KΨ`` (Ψ symmetric), the identity ``K|θ|² − λ = K|θ − Ψ²θ/K|²`` of the
  word algebra and ``|·|² >= 0`` give the bound with nothing cited.
* :func:`rayleigh_steps`: ``λ = c θᵀMθ`` (derived) and the Rayleigh–Ritz axiom.
* :func:`window_end_step`: the reported window end ``k_max`` is where the
  norm's increment changes sign at the bound: ``(k_max/λ) · bound = 4``.
* :func:`tight_check`: real models attain the bound (a numeric cross-check).
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.matrices.expressions import MatMul, MatPow, MatrixSymbol

from catapult_theory.symbolic import gradient_operator_powers, symbols as S

from . import _numeric as N
from . import _sources as src
from ._crosscheck import numeric_relation
from ._kernel import Axiom, Certificate, Chain, Definition, Identity, Step, strip
from ._runner import Outcome
from ._tactics import ModelTable, positivity
from .axioms import lambda_max

__all__ = ["spectral_steps", "rayleigh_steps", "window_end_step", "tight_check", "ETA_STAR"]

ETA_STAR = sp.Symbol("eta_star")


def tight_check(rel: sp.Basic, sampler: str, loose: int = 12) -> Callable[[], Outcome]:
    """The bound holds on random real models and is attained at the tight ones."""

    def check() -> Outcome:
        pts = [dict(i.values) for i in N.instances(sampler, loose, seed=99)]
        out = numeric_relation(rel, pts, what="real models")
        if not out:
            return out
        tight = [dict(i.values) for i in N.instances(sampler, 4, tight=True)]
        att = numeric_relation(rel, tight, what="tight configurations", tight=True)
        return Outcome(att.ok, f"{out.detail}; {att.detail}")

    return check


def spectral_steps(t: ModelTable, K: sp.Expr, prefix: str = "", bound_rel: sp.Basic | None = None,
                   sampler: str | None = None) -> tuple[list[Step], sp.Basic]:
    """``λ <= K |θ|²`` from the spectral identity; returns the steps and the bound."""
    der = t.derivation
    A = der.algebra
    _, g2 = gradient_operator_powers(der, 2)
    blocks = tuple(A.sub(A.poly(p), A.scale(g2[p], 1 / K)) for p in der.model.params)
    value = der.named(sp.expand(sum((A.inner(b, b) for b in blocks), sp.S.Zero)))
    res = sp.Symbol(f"{prefix}N_spec")
    t.add(Definition(res, "|θ − Ψ²θ/K|², with Ψθ = ∇f the (linear) gradient map and Ψ²θ = Ψ(∇f)", value,
                     r"|\theta - \Psi^{2}\theta/K|^{2}"))
    for h in positivity([value]):
        if all(sp.sstr(h) != sp.sstr(x) for x in t.hypotheses):
            t.hypotheses.append(h)
    bound = bound_rel if bound_rel is not None else sp.Le(S.lam, K * S.w2)
    ident = sp.Eq(K * S.w2 - S.lam, K * res)
    steps = [
        Step(f"{prefix}spectral-identity", ident, Identity(),
             note="K|θ|² − θᵀΨ²θ = K|θ − Ψ²θ/K|² holds because Ψ is symmetric and Ψ³ = KΨ; here it is checked "
                  "as an identity of the word algebra"),
        Step(f"{prefix}square", sp.Ge(res, 0), Axiom("norm-nonneg", {"algebra": A, "vector": blocks,
                                                                      "aliases": der.alias})),
        Step(f"{prefix}ntk-bound", bound,
             Certificate(((K, sp.Ge(res, 0)), (1, ident)), sp.Integer(0)),
             uses=(f"{prefix}spectral-identity", f"{prefix}square"),
             numeric=tight_check(bound, sampler) if sampler else None),
    ]
    return steps, bound


def rayleigh_steps(t: ModelTable, coeff: sp.Expr, form: sp.Symbol, form_value: sp.Expr, matrix, vector,
                   L: sp.Symbol, norm: sp.Expr, prefix: str = "") -> list[Step]:
    """``form = θᵀMθ`` (atom), ``form <= λ_max(M) norm`` (Rayleigh–Ritz): the step
    names are ``form`` and ``rayleigh``."""
    der = t.derivation
    A = der.algebra
    t.add(Definition(form, f"the quadratic form {sp.sstr(form_value)}", form_value, None))
    t.add(Definition(L, f"λ_max({sp.sstr(matrix)}), the largest eigenvalue", lambda_max(matrix), None))
    t.add(Definition(lambda_max(matrix), f"the largest eigenvalue of {sp.sstr(matrix)}", None,
                     rf"\lambda_{{\max}}({sp.latex(matrix)})"))
    e = MatrixSymbol("e_max", vector.shape[0], 1)
    top = A.scalarize(e.T * matrix * e)
    root = None
    if isinstance(matrix, MatPow) and matrix.args[1] == 2:
        root = matrix.args[0]
    elif isinstance(matrix, MatMul) and len(matrix.args) == 2 and matrix.args[0] == matrix.args[1]:
        root = matrix.args[0]
    steps = [Step(f"{prefix}rayleigh", sp.Le(form, L * norm),
                  Axiom("rayleigh-ritz", {"algebra": A, "matrix": matrix, "vector": vector}))]
    if root is not None:  # M = P P with P symmetric: λ_max(M) = eᵀPPe = |Pe|² >= 0
        t.add(Definition(e, f"a unit top eigenvector of {sp.sstr(matrix)}", None, "e"))
        t.add(Definition(top, f"eᵀ {sp.sstr(matrix)} e", None, A.atom_latex(top) if A.is_atom(top) else None))
        steps += [Step(f"{prefix}top-eigenvalue", sp.Eq(top, L),
                       Axiom("top-eigenvector", {"algebra": A, "matrix": matrix, "vector": e})),
                  Step(f"{prefix}top-square", sp.Ge(top, 0),
                       Axiom("norm-nonneg", {"algebra": A, "vector": root * e})),
                  Step(f"{prefix}lambda-max-nonneg", sp.Ge(L, 0), Chain((f"{prefix}top-eigenvalue",
                                                                          f"{prefix}top-square")),
                       uses=(f"{prefix}top-eigenvalue", f"{prefix}top-square"))]
    return steps


def window_end_step(spec, lam0_bound: sp.Expr, name: str = "window-end") -> tuple[Step, Definition]:
    """At ``η* = k_max/λ`` the bound on ``η λ`` reaches the lemma's constant: the
    norm's increment ``η f² (η λ − 4)`` changes sign exactly at the window end."""
    C = src.lemma_constant()
    value = strip(spec.k_max / S.lam)
    where = tuple(positivity([value]))
    defn = Definition(ETA_STAR, "the learning rate at the window end, k_max/λ_0 (k_max as the package reports "
                                "it)", value, r"\eta_{\ast}", where=where)
    return Step(name, sp.Eq(ETA_STAR * lam0_bound, C), Identity(), hypotheses=where,
                note="the reported k_max is the root of the norm's increment with λ replaced by its bound"), defn
