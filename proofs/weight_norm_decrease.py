"""``weight-norm-decrease``: the weight norm falls when the loss is large.

One datum, ``y = 0``: ``Δ|θ|² = η f² (η lam − 4) < 0`` while ``η lam < 4``
(``f ≠ 0``). With a label: ``Δ|θ|² < 0`` whenever ``|r| > 4|y| / (4 − η lam)``.
B data, ``y = 0``: ``Δ|θ|² <= (η/B)|r|² (η λ_max(H) − 4)``. Generic: any
registered degree-2 homogeneous family (it rests on ``weight-norm-identity``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.symbolic import sign_change_root, symbols as S

from . import _numeric as N
from . import _sources as src
from ._bounds import SIGNS
from ._core import Outcome, Step, Theorem, chain_certificate, identity, numeric_relation, sign_certificate
from ._generic import BATCH_STEPS, BUILTIN_STEPS, random_point_check

ID = "weight-norm-decrease"

_u, _t, _R, _Y = sp.symbols("u_slack t_excess R_abs Y_abs", positive=True)


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"
    declared = {"y = 0": {S.y: 0}}

    def build():
        hyp = src.hypotheses(ID, declared)
        subs: dict = {}
        for v in hyp.values():
            subs.update(v)
        der = src.theory(model).derivation
        inc = src.lemma_increment()
        Dw2 = N.q("Dw2")
        one_diff = der.named(der.weight_norm_change() - src.lemma_increment(der.lam, der.f))
        pts = N.gd_steps(model) if model in BUILTIN_STEPS else None
        steps = [Step("lemma", "identity", sp.Eq(Dw2, inc), "the one-datum lemma in the word algebra",
                      uses=("theorem:weight-norm-identity",),
                      check=lambda: identity(one_diff, "Δ|θ|² against the lemma"),
                      numeric=(lambda: numeric_relation(sp.Eq(Dw2, inc), pts, what="real GD steps")) if pts
                      else (lambda: random_point_check(one_diff, "lemma residual")))]
        # y = 0: the threshold is the sign change of the stated increment
        inc_y0 = inc.subs(S.r, S.f - S.y).subs(subs)
        eta_star = sign_change_root(inc.subs(S.r, S.f).subs(S.y, 0), "eta_norm", "lemma at y = 0").eta
        below = inc_y0.subs(S.eta, eta_star / (1 + _u))
        signs = {**SIGNS, S.lam: "positive"}

        def y0_numeric() -> Outcome:
            rng = np.random.default_rng(3)
            fn = sp.lambdify([S.f, S.lam, S.eta, S.y], inc.subs(S.r, S.f - S.y), "numpy")
            worst = -np.inf
            for _ in range(200):
                f, lam = rng.standard_normal(), rng.uniform(0.1, 5)
                eta = float(rng.uniform(0, 1)) * float(eta_star.subs(S.lam, lam))
                worst = max(worst, float(fn(f, lam, eta, 0.0)))
            if worst > 0:
                return Outcome(False, f"the compiled increment is positive ({worst:.3g}) below the threshold")
            return Outcome(True, f"compiled increment <= 0 at 200 random states below eta* (max {worst:.2e})")

        steps.append(Step("decrease-y0", "inequality", sp.Le(inc_y0, 0),
                          f"sign certificate at eta = eta*/(1 + u), eta* = {sp.sstr(eta_star)} (u > 0)",
                          uses=("lemma",), check=lambda: sign_certificate(below, "nonpositive", signs),
                          numeric=y0_numeric))

        # labelled datum: |r| = C|y|/(C − η lam) + t, η lam = C − u, two sign cases of r·y
        C = src.lemma_constant()
        cases = []
        for sgn in (1, -1):
            r_val = _R
            y_val = sgn * _Y
            lam_val = (C - _u) / S.eta
            R_val = C * _Y / _u + _t
            e = inc.subs({S.f: r_val + y_val}).subs(S.r, r_val).subs(S.lam, lam_val).subs(_R, R_val)
            cases.append(e)

        def large_loss() -> Outcome:
            for sgn, e in zip((1, -1), cases):
                out = sign_certificate(e, "negative", {**signs, S.eta: "positive"})
                if not out:
                    return Outcome(False, f"case sign(r y) = {sgn}: {out.detail}")
            return Outcome(True, "both sign cases of r·y certified negative (r, y replaced by ±|r|, ±|y|; "
                                 "r·y <= |r||y| and the mirrored case r -> −r, y -> −y give the same increment)")

        def large_numeric() -> Outcome:
            rng = np.random.default_rng(4)
            fn = sp.lambdify([S.r, S.f, S.lam, S.eta], inc, "numpy")
            worst = -np.inf
            for _ in range(200):
                lam, eta = rng.uniform(0.1, 5), 0.0
                eta = float(rng.uniform(0.01, 0.999)) * float(C) / lam
                y = rng.standard_normal()
                r = np.sign(rng.standard_normal()) * (float(C) * abs(y) / (float(C) - eta * lam) + rng.uniform(0, 2))
                worst = max(worst, float(fn(r, r + y, lam, eta)))
            if worst >= 0:
                return Outcome(False, f"the increment is not negative ({worst:.3g}) although the loss is large")
            return Outcome(True, f"increment < 0 at 200 random labelled states with |r| > C|y|/(C − eta lam)")

        steps.append(Step("decrease-large-loss", "inequality",
                          sp.Lt(inc, 0), "case split on sign(r y), certificate with |r| = 4|y|/(4 − eta lam) + t",
                          uses=("lemma",), check=large_loss, numeric=large_numeric))

        # many data, y = 0: Δw2 = −(4η/B)|r|² + (η²/B²) rᵀΘr <= (η/B)|r|² (η λ_max(H) − 4)
        B, r2, rTr, lam_H, fsum2 = N.q("B"), N.q("r2"), N.q("rTr"), N.q("lam_H"), N.q("fsum2")
        batch = sp.Eq(Dw2, -C * S.eta / B * fsum2 + S.eta**2 / B**2 * rTr)
        y0_sum = sp.Eq(fsum2, r2) if "y = 0" in hyp else sp.Eq(fsum2, fsum2)
        rayleigh = sp.Le(rTr, B * lam_H * r2)
        target = sp.Le(Dw2, S.eta / B * r2 * (S.eta * lam_H - C))

        def many() -> Outcome:
            out, _ = chain_certificate(target, [("many-data", batch), ("y = 0: f = r", y0_sum),
                                                ("rayleigh", rayleigh)], signs)
            return out

        if model in BATCH_STEPS:
            bpts = N.gd_steps(BATCH_STEPS[model], y_zero=True)
            many_num = lambda: numeric_relation(target, bpts, what="real many-data GD steps, y = 0")  # noqa: E731
        else:
            many_num = None
        steps.append(Step("decrease-many-data", "inequality", target,
                          "chain certificate: the many-data lemma, r·f = |r|² at y = 0, rᵀΘr <= B λ_max(H)|r|²",
                          uses=("theorem:weight-norm-identity",), check=many, numeric=many_num))
        return steps

    return Theorem(ID, model, "the weight norm decreases when the loss is large: y = 0 and eta lam < 4; "
                   "|r| > 4|y|/(4 − eta lam); B data, y = 0: Δw2 <= (eta/B)|r|²(eta λ_max(H) − 4)",
                   tuple(declared), build, generic=True)
