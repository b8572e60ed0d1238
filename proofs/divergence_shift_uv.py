"""``divergence-shift-uv``: with a label y != 0 the uv model's divergence threshold
moves below 4 by the invariant line D = η λ − 4 − (η² x2/n) y r.

(i)   One GD step multiplies D by 1 + (η² x2/n) f r exactly (r = f − y), and
      that multiplier is positive when n > η² x2 y²/4 (it is at least
      1 − η² x2 y²/(4n)).
(ii)  Along GD iterates, under that width condition, D_t keeps the sign of D_0.
(iii) If D_0 > 0 and no residual r_t is 0, the loss does not tend to 0: if
      r_t² -> L then L > 0 (r_{t+1} = r_t m_t with m_t² >= 9 − 6 (η² x2/n) r_t²
      while D_t > 0).
(iv)  From f_0 = 0, D_0 = 0 reads ε k² + k − 4 = 0 in k = η λ_0, ε = x2 y²/(λ_0² n):
      the threshold is its positive root, and for ε <= 1/4
      4 − 16ε <= k_div <= 4 − 16ε + 128ε², i.e. k_div = 4 − 16 x2 y²/(λ_0² n) + O(1/n²).

Not proved: that D_0 < 0 implies convergence (measured in the report).
"""

from __future__ import annotations

import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._kernel import (Always, Axiom, Cases, Certificate, Definition, Identity, Induction, Iterate, Step, Theorem,
                      Trajectory, rsubs)
from ._tactics import F_NEXT, LAM_NEXT, model_table

ID = "divergence-shift-uv"

T = sp.Symbol("t")
FS, LS = sp.Function("f_seq"), sp.Function("lam_seq")
EPS, KD, DEN1, DEN2, L_LOSS = sp.symbols("epsilon k_div den_lower den_upper L_loss")


def theorem(model: str | None = None) -> Theorem:
    th = src.theory("uv")
    t = model_table("uv")
    f, lam, eta, y, n, x2 = S.f, S.lam, S.eta, S.y, S.n, S.x2
    c = eta**2 * x2 / n
    D = eta * lam - 4 - c * y * (f - y)
    D_next = eta * LAM_NEXT - 4 - c * y * (F_NEXT - y)
    mult = 1 + c * f * (f - y)
    residual = (sp.Eq(S.r, f - y),)
    width = sp.Lt(c * y**2, 4)
    t.add(Definition(S.y, "the label of the datum", None, "y"))
    steps = [
        Step("invariant", sp.Eq(D_next, mult * D), Identity(), hypotheses=residual,
             note="D = η λ − 4 − (η² x2/n) y r is multiplied by 1 + (η² x2/n) f r in one step"),
        Step("multiplier-positive", sp.Gt(mult, 0), Certificate(((sp.Rational(1, 4), width),), c * (f - y / 2) ** 2),
             hypotheses=(width,), note="1 + c f r >= 1 − c y²/4 with c = η² x2/n"),
    ]
    # along GD iterates: D_t keeps its sign
    Ft, Lt = FS(T), LS(T)
    Dt = eta * Lt - 4 - c * y * (Ft - y)
    Dt1 = eta * LS(T + 1) - 4 - c * y * (FS(T + 1) - y)
    mt = 1 + c * Ft * (Ft - y)
    D0 = rsubs(sp.Gt(Dt, 0), {T: 0})
    kept = (width, D0)  # the width condition and D_0 > 0
    t.add(Definition(FS, "f_t, the output at the t-th GD iterate", None, "f"))
    t.add(Definition(LS, "λ_t, the NTK eigenvalue at the t-th iterate", None, r"\lambda"))
    traj = Trajectory(T, {f: FS, lam: LS}, (S.r, Ft - y), (eta, y, n, x2))
    up = th.update.update
    f_map = up[f]
    rt = Ft - y
    m_r = 1 - eta * Lt + c * Ft * rt  # r_{t+1} = r_t m_r(t)
    a = 3 - c * rt**2
    steps += [
        Step("invariant-t", sp.Eq(Dt1, mt * Dt), Iterate("invariant")),
        Step("multiplier-t", sp.Gt(mt, 0), Iterate("multiplier-positive"), hypotheses=(width,)),
        Step("sign-base", D0, Certificate(((1, D0),), 0), hypotheses=kept),
        Step("sign-step", sp.Gt(Dt1, 0), Certificate(((1, sp.Eq(Dt1, mt * Dt)),), mt * Dt),
             hypotheses=(sp.Gt(Dt, 0),) + kept, uses=("invariant-t", "multiplier-t")),
        Step("sign-kept", sp.Gt(Dt, 0), Induction("sign-base", "sign-step", T), hypotheses=kept),
        Step("f-map", sp.Eq(F_NEXT, f_map), Identity(), note="the uv map's f component"),
        Step("f-map-t", sp.Eq(FS(T + 1), f_map.subs({f: Ft, lam: Lt, S.r: rt})), Iterate("f-map")),
        Step("residual-recursion", sp.Eq(FS(T + 1) - y, m_r * rt),
             Certificate(((1, sp.Eq(FS(T + 1), f_map.subs({f: Ft, lam: Lt, S.r: rt}))),), 0), uses=("f-map-t",)),
        Step("expansion-a", sp.Ge(m_r**2, 9 - 6 * c * rt**2),
             Certificate(((2 * Dt, sp.Ge(a, 0)),), Dt**2 + c**2 * rt**4), hypotheses=(sp.Ge(a, 0),) + kept,
             uses=("sign-kept",), note="−m = D + 3 − c r², so m² − 9 + 6 c r² = D² + 2 D (3 − c r²) + c² r⁴"),
        Step("expansion-b", sp.Ge(m_r**2, 9 - 6 * c * rt**2), Certificate(((6, sp.Lt(a, 0)),), m_r**2 + 9),
             hypotheses=(sp.Lt(a, 0),)),
        Step("expansion", sp.Ge(m_r**2, 9 - 6 * c * rt**2),
             Cases(((sp.Ge(a, 0), "expansion-a"), (sp.Lt(a, 0), "expansion-b"))), hypotheses=kept),
        Step("c-nonneg", sp.Ge(6 * c, 0), Certificate()),
    ]
    nonzero = Always(sp.Ne(rt, 0), T)
    converges = sp.Eq(sp.Limit(rt**2, T, sp.oo), L_LOSS)
    t.add(Definition(L_LOSS, "the limit of the squared residual r_t², when it has one", None, "L"))
    steps.append(Step("no-convergence-to-0", sp.Gt(L_LOSS, 0),
                      Axiom("ratio-escape", {"seq": rt, "multiplier": m_r, "index": T, "q": 9, "C": 6 * c,
                                             "limit": L_LOSS}),
                      hypotheses=(nonzero, converges) + kept, uses=("residual-recursion", "expansion", "c-nonneg")))
    # the threshold from f_0 = 0: D_0 = ε k² + k − 4 with k = η λ_0
    pos = (sp.Gt(lam, 0),)
    eps_value = x2 * y**2 / (lam**2 * n)
    t.add(Definition(EPS, "ε, any number in (0, 1/4]; from f_0 = 0 it is x2 y²/(λ_0² n)", None, r"\varepsilon"))
    from_f0 = sp.Eq(D.subs(f, 0), eps_value * (eta * lam) ** 2 + eta * lam - 4, evaluate=False)
    steps.append(Step("threshold-from-f0", from_f0, Identity(), hypotheses=pos,
                      note="at f_0 = 0, D_0 = 0 is the quadratic ε k² + k − 4 = 0 in k = η λ_0, ε = x2 y²/(λ_0² n)"))
    root = (sp.Eq(EPS * KD**2 + KD - 4, 0), sp.Gt(KD, 0), sp.Gt(EPS, 0), sp.Le(4 * EPS, 1))
    t.add(Definition(KD, "k_div, the positive root of ε k² + k − 4 = 0", None, r"k_{\mathrm{div}}"))
    lo, hi = 4 - 16 * EPS, 4 - 16 * EPS + 128 * EPS**2
    t.add(Definition(DEN1, "ε k_div + ε (4 − 16ε) + 1", EPS * KD + EPS * lo + 1, r"d_{1}"))
    t.add(Definition(DEN2, "ε k_div + ε (4 − 16ε + 128ε²) + 1", EPS * KD + EPS * hi + 1, r"d_{2}"))
    quad = root[0]
    steps += [
        Step("lower-denominator", sp.Gt(DEN1, 0), Certificate(((4 * EPS, root[3]),), EPS * KD + 1), hypotheses=root),
        Step("upper-denominator", sp.Gt(DEN2, 0), Certificate(((4 * EPS, root[3]),), EPS * KD + 128 * EPS**3 + 1),
             hypotheses=root),
        Step("threshold-lower", sp.Ge(KD, lo),
             Certificate(((1 / DEN1, quad), (128 * EPS**2 / DEN1, root[3])), 256 * EPS**3 / DEN1), hypotheses=root,
             uses=("lower-denominator",), note="(k − k')(ε(k + k') + 1) = g(k) − g(k') with g(k) = ε k² + k − 4"),
        Step("threshold-upper", sp.Le(KD, hi),
             Certificate(((-1 / DEN2, quad),), 256 * EPS**3 * ((8 * EPS - 1) ** 2 + 4) / DEN2), hypotheses=root,
             uses=("upper-denominator",), note="g(4 − 16ε + 128ε²) = 256 ε³ ((8ε − 1)² + 4) > 0"),
    ]
    conclusion = [
        (sp.Eq(D_next, mult * D), residual), (sp.Gt(mult, 0), (width,)),
        (sp.Gt(Dt, 0), kept), (sp.Gt(L_LOSS, 0), (nonzero, converges) + kept),
        (from_f0, pos), (sp.Ge(KD, lo), root), (sp.Le(KD, hi), root),
    ]
    hyps = [sp.Gt(eta, 0), sp.Gt(x2, 0)] + [h for h in t.hypotheses]
    return Theorem(ID, tuple(hyps), tuple(conclusion), tuple(steps), tuple(t.definitions), "uv",
                   "with a label y, D = η λ − 4 − (η² x2/n) y r is multiplied by 1 + (η² x2/n) f r per step (positive "
                   "when n > η² x2 y²/4), so D_t keeps the sign of D_0; D_0 > 0 and r_t != 0 for every t => the loss "
                   "does not tend to 0; from f_0 = 0 the threshold k_div solves ε k² + k − 4 = 0, ε = x2 y²/(λ_0² n): "
                   "k_div = 4 − 16ε + O(ε²). (D_0 < 0 => convergence is not proved: measured.)",
                   trajectory=traj)
