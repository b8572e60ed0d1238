"""``peak-law-uv``: at y = 0 the uv map is width-free in s = η² x2 f²/n and u = η λ.

(i)   One GD step: s' = s (1 − u + s)² and u' − 4 = (u − 4)(1 + s), exactly (the
      width enters only through the start s_0 ∝ 1/n).
(ii)  So u − 4 keeps its sign ((u' − 4)(u − 4) >= 0), and s grows by at least
      (u − 1)² − 2(u − 1) s per step: by (k − 1)² while s is small.
(iii) At every state λ² >= 4 (x2/n) f² (Cauchy–Schwarz as the identity
      λ² − 4(x2/n) f² = (x2|v|² − |Ux|²)²/n² + 2 x2 |v(Ux)ᵀ − (Ux)vᵀ|²/n²), so
      s <= u²/4 and the loss f²/2 <= n (η λ)²/(8 η² x2): the peak loss is
      n s*/(2 η² x2) with s* <= u²/4 < 4 along a run that starts with u < 4
      (u_t < 4 for every t, by induction).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._kernel import Axiom, Certificate, Definition, Identity, Induction, Iterate, Step, Theorem, Trajectory, rsubs
from ._tactics import F_NEXT, LAM_NEXT, model_table

ID = "peak-law-uv"

T = sp.Symbol("t")
FS, LS = sp.Function("f_seq"), sp.Function("lam_seq")
WEDGE = sp.Symbol("N_wedge")


def theorem(model: str | None = None) -> Theorem:
    th = src.theory("uv")
    t = model_table("uv")
    der = t.derivation
    A = der.algebra
    f, lam, eta, y, n, x2 = S.f, S.lam, S.eta, S.y, S.n, S.x2
    s_ = eta**2 * x2 * f**2 / n
    u_ = eta * lam
    s_next = eta**2 * x2 * F_NEXT**2 / n
    u_next = eta * LAM_NEXT
    y0 = (sp.Eq(S.r, f - y), sp.Eq(y, 0))
    t.add(Definition(y, "the label of the datum", None, "y"))
    d = sp.Symbol("d")
    U, v, x = MatrixSymbol("U", n, d), MatrixSymbol("v", n, 1), MatrixSymbol("x", d, 1)
    W = A.sub(A.poly(v * (U * x).T), A.poly(U * x * v.T))
    t.add(Definition(WEDGE, "|v(Ux)ᵀ − (Ux)vᵀ|², twice |v|²|Ux|² − (vᵀUx)²", der.named(A.inner(W, W)),
                     r"|v (U x)^{T} - U x v^{T}|^{2}"))
    vv, uxux = der.named(A.scalarize(v.T * v)), der.named(A.scalarize(x.T * U.T * U * x))
    state = sp.Ge(lam**2 - 4 * x2 / n * f**2, 0)
    s_map = sp.Eq(s_next, s_ * (1 - u_ + s_) ** 2)
    u_map = sp.Eq(u_next - 4, (u_ - 4) * (1 + s_))
    steps = [
        Step("s-map", s_map, Identity(), hypotheses=y0, note="s = η² x2 f²/n, u = η λ: the width is gone"),
        Step("u-map", u_map, Identity(), hypotheses=y0),
        Step("s-growth", sp.Ge(s_next, s_ * ((u_ - 1) ** 2 - 2 * (u_ - 1) * s_)), Certificate(((1, s_map),), s_**3),
             hypotheses=y0, uses=("s-map",), note="(1 − u + s)² = (u − 1)² − 2(u − 1)s + s²"),
        Step("side-kept", sp.Ge((u_next - 4) * (u_ - 4), 0), Certificate(((u_ - 4, u_map),), (u_ - 4) ** 2 * (1 + s_)),
             hypotheses=y0, uses=("u-map",)),
        Step("wedge-square", sp.Ge(WEDGE, 0), Axiom("norm-nonneg", {"algebra": A, "vector": W, "aliases": der.alias})),
        Step("cauchy-schwarz", state, Certificate(((2 * x2 / n**2, sp.Ge(WEDGE, 0)),), (x2 * vv - uxux) ** 2 / n**2),
             uses=("wedge-square",),
             note="λ² − 4(x2/n) f² = (x2|v|² − |Ux|²)²/n² + 2 x2 |v(Ux)ᵀ − (Ux)vᵀ|²/n²"),
        Step("s-below-u2", sp.Le(s_, u_**2 / 4), Certificate(((eta**2 / 4, state),), 0), uses=("cauchy-schwarz",)),
        Step("loss-bound", sp.Le(f**2, n * u_**2 / (4 * eta**2 * x2)), Certificate(((n / (4 * x2), state),), 0),
             uses=("cauchy-schwarz",)),
    ]
    # along a run from u_0 < 4: u_t < 4 for every t
    Ft, Lt = FS(T), LS(T)
    t.add(Definition(FS, "f_t, the output at the t-th GD iterate", None, "f"))
    t.add(Definition(LS, "λ_t, the NTK eigenvalue at the t-th iterate", None, r"\lambda"))
    traj = Trajectory(T, {f: FS, lam: LS}, (S.r, Ft - y), (eta, y, n, x2))
    st = s_.subs(f, Ft)
    ut_map = sp.Eq(eta * LS(T + 1) - 4, (eta * Lt - 4) * (1 + st))
    below = sp.Lt(eta * Lt, 4)
    start = rsubs(below, {T: 0})
    steps += [
        Step("u-map-t", ut_map, Iterate("u-map")),
        Step("below-4-base", start, Certificate(((1, start),), 0), hypotheses=(start,)),
        Step("below-4-step", rsubs(below, {T: T + 1}), Certificate(((1 + st, below), (-1, ut_map)), 0),
             hypotheses=(below, start), uses=("u-map-t",)),
        Step("below-4", below, Induction("below-4-base", "below-4-step", T), hypotheses=(start,)),
    ]
    conclusion = [(s_map, y0), (u_map, y0), (steps[2].claim, y0), (steps[3].claim, y0), state, steps[6].claim,
                  steps[7].claim, (below, (start,))]
    hyps = [sp.Gt(eta, 0), sp.Gt(x2, 0), sp.Eq(y, 0)] + list(t.hypotheses)
    return Theorem(ID, tuple(hyps), tuple(conclusion), tuple(steps), tuple(t.definitions), "uv",
                   "y = 0: with s = η² x2 f²/n and u = η λ the uv map is s' = s(1 − u + s)², u' − 4 = (u − 4)(1 + s) "
                   "(width-free: n enters only through s_0), so u − 4 keeps its sign and s grows by (u − 1)² per "
                   "step while small; s <= u²/4 at every state, so the peak loss is n s*/(2 η² x2) with s* <= u²/4",
                   trajectory=traj)
