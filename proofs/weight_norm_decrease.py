"""``weight-norm-decrease``: the weight norm falls when the loss is large.

One datum, ``y = 0``: ``Δ|θ|² = η f² (η λ − 4) <= 0`` while ``η λ < 4``, strictly
when ``f != 0``. With a label: ``Δ|θ|² < 0`` whenever ``|r| > 4|y|/(4 − η λ)``,
stated as the polynomial ``(4 − η λ)² r² > 16 y²``. B data, ``y = 0``, for a
model linear in its data: ``Δ|θ|² <= (η/B)|r|² (η λ_max(H) − 4)``, with
``λ_max(H)`` from the Rayleigh–Ritz axiom. Generic: any registered degree-2
homogeneous family.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.symbolic import Algebra, symbols as S

from . import _numeric as N
from . import _sources as src
from ._crosscheck import numeric_relation
from ._kernel import Axiom, Certificate, Definition, Identity, Step, Theorem
from ._runner import Outcome
from ._tactics import DW2, model_table
from .axioms import lambda_max
from .weight_norm_identity import B, DW2_B, R_DOT_F, R_THETA_R, data_linear
from .weight_norm_identity import theorem as _identity_theorem

ID = "weight-norm-decrease"

R2, RHR = sp.symbols("r2 rHr")


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"
    t = model_table(model)
    der = t.derivation
    p = der.homogeneity_degree()
    if p is None:
        raise ValueError(f"the output of {model!r} is not homogeneous in its parameters: no weight-norm lemma")
    C = src.lemma_constant_for(p)
    lemma = src.lemma_increment(degree=p)
    residual = sp.Eq(S.r, S.f - S.y)
    y0 = (residual, sp.Eq(S.y, 0))
    hyps_y0 = src.hypotheses(ID, {"y = 0": y0, "eta > 0": (sp.Gt(S.eta, 0),), "eta lam < 4": (sp.Lt(S.eta * S.lam, C),)})
    below = tuple(h for v in hyps_y0.values() for h in v)
    steps = [Step("lemma", sp.Eq(DW2, lemma), Identity(), note="the one-datum weight-norm identity")]

    def y0_numeric() -> Outcome:
        rng = np.random.default_rng(3)
        fn = sp.lambdify([S.f, S.lam, S.eta, S.y], lemma.subs(S.r, S.f - S.y), "numpy")
        worst = -np.inf
        for _ in range(200):
            f, lam = rng.standard_normal(), rng.uniform(0.1, 5)
            eta = float(rng.uniform(0, 1)) * float(C) / lam
            worst = max(worst, float(fn(f, lam, eta, 0.0)))
        if worst > 0:
            return Outcome(False, f"the compiled increment is positive ({worst:.3g}) below eta lam = {C}")
        return Outcome(True, f"compiled increment <= 0 at 200 random states below eta lam = {C} (max {worst:.2e})")

    steps.append(Step("decrease-y0", sp.Le(DW2, 0),
                      Certificate(((S.eta * S.f**2, sp.Lt(S.eta * S.lam, C)),), sp.Integer(0)),
                      hypotheses=below, uses=("lemma",), numeric=y0_numeric))
    steps.append(Step("decrease-y0-strict", sp.Lt(DW2, 0),
                      Certificate(((S.eta * S.f**2, sp.Lt(S.eta * S.lam, C)),), sp.Integer(0)),
                      hypotheses=below + (sp.Ne(S.f, 0),), uses=("lemma",)))
    # labelled datum: with a = 4 − ηλ > 0, a·(−Δ) = η/2 [(a²r² − 16y²) + (a r + 4y)²]
    a = C - S.eta * S.lam
    large = sp.Gt(a**2 * S.r**2, C**2 * S.y**2)
    hyps_large = (residual, sp.Gt(S.eta, 0), sp.Lt(S.eta * S.lam, C), large)

    def large_numeric() -> Outcome:
        rng = np.random.default_rng(4)
        fn = sp.lambdify([S.r, S.f, S.lam, S.eta], lemma, "numpy")
        worst = -np.inf
        for _ in range(200):
            lam = rng.uniform(0.1, 5)
            eta = float(rng.uniform(0.01, 0.999)) * float(C) / lam
            y = rng.standard_normal()
            r = np.sign(rng.standard_normal()) * (float(C) * abs(y) / (float(C) - eta * lam) + rng.uniform(0, 2))
            worst = max(worst, float(fn(r, r + y, lam, eta)))
        if worst >= 0:
            return Outcome(False, f"the increment is not negative ({worst:.3g}) although the loss is large")
        return Outcome(True, "increment < 0 at 200 random labelled states with |r| > 4|y|/(4 − eta lam)")

    steps.append(Step("decrease-large-loss", sp.Lt(DW2, 0),
                      Certificate(((S.eta / (2 * a), large),), S.eta / (2 * a) * (a * S.r + C * S.y) ** 2),
                      hypotheses=hyps_large, uses=("lemma",),
                      note="(4 − ηλ)² r² > 16 y² is |r| > 4|y|/(4 − ηλ) when ηλ < 4", numeric=large_numeric))
    conclusion = [(sp.Le(DW2, 0), below), (sp.Lt(DW2, 0), below + (sp.Ne(S.f, 0),)),
                  (sp.Lt(DW2, 0), hyps_large)]
    if data_linear(der):
        ident = _identity_theorem(model)
        for d in ident.definitions:
            t.add(d)
        t.hypotheses.append(sp.Gt(B, 0))
        (batch_step,) = [s for s in ident.steps if s.name == "many-data"]
        steps.append(batch_step)
        H, Rv = MatrixSymbol("H", B, B), MatrixSymbol("R", B, 1)
        BA = Algebra(symmetric=(H,))
        rhr, rr = BA.scalarize(Rv.T * H * Rv), BA.scalarize(Rv.T * Rv)
        lam_H = lambda_max(H)
        t.add(Definition(H, "H = Θ/B, the NTK Gram matrix of the batch over B", None, "H"))
        t.add(Definition(Rv, "the vector of the B residuals", None, "R"))
        t.add(Definition(rhr, "RᵀHR", None, r"R^{T} H R"))
        t.add(Definition(rr, "|R|², the sum of the squared residuals", None, r"R^{T} R"))
        t.add(Definition(lam_H, "λ_max(H), the largest eigenvalue of H", None, r"\lambda_{\max}(H)"))
        t.add(Definition(R2, "|r|² = Σ_a r_a²", rr, r"|r|^{2}"))
        t.add(Definition(RHR, "rᵀHr", rhr, r"r^{T} H r"))
        gram = sp.Eq(R_THETA_R, B * RHR)
        data_y0 = sp.Eq(R_DOT_F, R2)
        steps.append(Step("rayleigh-H", sp.Le(RHR, lam_H * R2), Axiom("rayleigh-ritz", {"algebra": BA, "matrix": H,
                                                                                        "vector": Rv})))
        target = sp.Le(DW2_B, S.eta / B * R2 * (S.eta * lam_H - C))
        # slack: (η/B)|r|²(ηλ_H − C) − Δ_B = (η²/B)(λ_H|r|² − rᵀHr) using the identity, rf = |r|², rTr = B rHr
        bsampler = N.BATCH_SAMPLERS.get(model)
        bpts = N.gd_steps(bsampler, y_zero=True) if bsampler else None
        bnum = sp.Le(sp.Symbol("Dw2"), S.eta / sp.Symbol("B") * sp.Symbol("r2") * (S.eta * sp.Symbol("lam_H") - C))
        hyps_many = (data_y0, gram)
        steps.append(Step("decrease-many-data", target,
                          Certificate(((S.eta**2 / B, sp.Le(RHR, lam_H * R2)),
                                       (-S.eta**2 / B**2, gram),
                                       (4 * S.eta / B, data_y0)), sp.Integer(0)),
                          hypotheses=hyps_many, uses=("many-data", "rayleigh-H"),
                          note="y = 0 on every datum makes r·f = |r|²; H = Θ/B makes rᵀΘr = B rᵀHr",
                          numeric=(lambda: numeric_relation(bnum, bpts, what="real many-data GD steps, y = 0"))
                          if bpts else None))
        conclusion.append((target, hyps_many))
    return Theorem(ID, tuple(t.hypotheses), tuple(conclusion), tuple(steps), tuple(t.definitions), model,
                   f"degree {p}: the weight norm decreases when the loss is large: y = 0 and η λ < {C}; "
                   f"|r| > {C}|y|/({C} − η λ); B data, y = 0: Δ|θ|² <= (η/B)|r|²(η λ_max(H) − {C})", generic=True)
