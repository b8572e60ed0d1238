"""``linear-onset``: at a minimum the residual's one-step multiplier is
``μ = 1 − η λ``; it lies in (−1, 1) for 0 < η < eta_crit, equals −1 at the
reported ``eta_crit`` (``eta_crit λ = 2``) and is below −1 above it. Generic:
any registered family.

Steps, in the word algebra (sizes symbolic): one GD step changes f by an
expression whose value at r = 0 is 0 (minima are fixed points, as are λ and
|θ|²) and whose coefficient of r is −ηλ, so near a minimum
``r' = (1 − ηλ) r + O(r²)``; then the sign certificates of μ + 1 and 1 − μ.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._kernel import Certificate, Definition, Identity, Step, Theorem
from ._runner import Outcome
from ._tactics import F_NEXT, LAM_NEXT, W2_NEXT, model_table

ID = "linear-onset"

MU, F1, ETA_CRIT = sp.symbols("mu f_rate eta_crit")


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"
    th = src.theory(model)
    t = model_table(model)
    crit = th.thresholds["eta_crit"]
    at0 = {}
    for sym, nxt, base in ((sp.Symbol("Df_0"), F_NEXT, S.f), (sp.Symbol("Dlam_0"), LAM_NEXT, S.lam),
                           (sp.Symbol("Dw2_0"), W2_NEXT, S.w2)):
        value = sp.expand((t.value(nxt) - t.value(base)).subs(S.r, 0))
        tex = {"f": "f", "lam": r"\lambda", "w2": r"|\theta|^{2}"}[base.name]
        t.add(Definition(sym, f"the change of {base} in one GD step at r = 0", value, r"\Delta_{0} " + tex))
        at0[sym] = base
    rate = sp.expand(sp.diff(t.value(F_NEXT) - t.value(S.f), S.r).subs(S.r, 0))
    t.add(Definition(F1, "the coefficient of r in the change of f: ∂(f' − f)/∂r at r = 0", rate,
                     r"f_{r}"))
    t.add(Definition(MU, "the residual's multiplier at a minimum: r' = μ r + O(r²)", 1 + F1, r"\mu"))
    pos = (sp.Gt(S.lam, 0),)
    t.add(Definition(ETA_CRIT, "the reported onset threshold (linear stability edge)", crit.eta, r"\eta_{c}",
                     where=pos))
    steps = [Step(f"fixed-{base.name}", sp.Eq(sym, 0), Identity()) for sym, base in at0.items()]
    steps.append(Step("rate", sp.Eq(F1, -S.eta * S.lam), Identity(), note="f' − f = −ηλ r + O(r²)"))
    steps.append(Step("multiplier", sp.Eq(MU, 1 - S.eta * S.lam), Identity()))
    flip = sp.Eq(1 - ETA_CRIT * S.lam, -1)
    steps.append(Step("flip", flip, Identity(), hypotheses=pos, note="μ at the reported eta_crit"))
    below = (sp.Gt(S.eta, 0), sp.Gt(S.lam, 0), sp.Lt(S.eta * S.lam, 2))
    above = (sp.Gt(S.eta * S.lam, 2),)
    steps.append(Step("stable-below-lower", sp.Gt(MU, -1), Certificate(((1, sp.Lt(S.eta * S.lam, 2)),)),
                      hypotheses=below, uses=("multiplier",)))

    def numeric_run() -> Outcome:
        fm = sp.lambdify([S.eta, S.lam], 1 - S.eta * S.lam, "numpy")
        rng = np.random.default_rng(8)
        lam = rng.uniform(0.1, 5, 50)
        below_v = fm(rng.uniform(0.01, 0.99, 50) * float(crit.eta.subs(S.lam, 1)) / lam, lam)
        above_v = fm(rng.uniform(1.01, 3, 50) * float(crit.eta.subs(S.lam, 1)) / lam, lam)
        if np.all(np.abs(below_v) < 1) and np.all(above_v < -1):
            return Outcome(True, "|μ| < 1 below eta_crit and μ < −1 above it at 50 random (η, λ)")
        return Outcome(False, "the multiplier does not change stability at the reported eta_crit")

    steps.append(Step("stable-below-upper", sp.Lt(MU, 1), Certificate(((S.eta, sp.Gt(S.lam, 0)),)),
                      hypotheses=below, uses=("multiplier",), numeric=numeric_run))
    steps.append(Step("unstable-above", sp.Lt(MU, -1), Certificate(((1, sp.Gt(S.eta * S.lam, 2)),)),
                      hypotheses=above, uses=("multiplier",)))
    conclusion = [*(st.claim for st in steps[:4]), (flip, pos), (sp.Gt(MU, -1), below), (sp.Lt(MU, 1), below),
                  (sp.Lt(MU, -1), above)]
    return Theorem(ID, tuple(t.hypotheses), tuple(conclusion), tuple(steps), tuple(t.definitions), model,
                   f"at a minimum the residual is multiplied by μ = 1 − ηλ per step: |μ| < 1 for 0 < η < eta_crit = "
                   f"{sp.sstr(crit.eta)}, μ = −1 at eta_crit, μ < −1 above", generic=True)
