"""``relu-one-datum``: a ReLU net on one datum cannot diverge below k = 4 (d = 1).

Within an activation region the slopes form a diagonal S with S² = S (ReLU);
S' is the pattern at the next iterate. On one datum:

(i)   inactive units do not move: (I − S)U' = (I − S)U and (I − S)v' = (I − S)v,
      so they stay inactive, and S' <= S (S'S = SS' = S' = S'²): units only die;
(ii)  the active norm N = |SU|² + |Sv|² changes by the lemma, η r (η λ r − 4 f), with
      the same S, and units dying only lower it: N' <= N + η r (η λ r − 4 f);
(iii) λ = (|x|²|Sv|² + |SUx|²)/(n d) <= K N with K = |x|²/(n d) (Cauchy–Schwarz as an
      identity), with equality for d = 1;
(iv)  so along GD iterates at y = 0 with η K N_0 < 4 — for d = 1 that is
      k = η λ_0 < 4 — the active norm never grows and the loss tends to 0, units
      dying or not. A collapse (every unit dead, f = 0) is possible below 4 and is
      harmless at y = 0: the loss is then 0 (real runs below 4 in the cross-check).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import Identity as I_mat, MatrixSymbol

from catapult_theory.symbolic import Derivation, SymbolicModel, symbols as S
from catapult_theory.symbolic.models.uv import d as D_IN

from . import _sources as src
from ._kernel import Axiom, Certificate, Definition, Identity, Iterate, Step, Theorem, Trajectory
from ._runner import Outcome
from ._tactics import table_from_derivation
from ._window import FS, LS, NS, T, sequence_steps

ID = "relu-one-datum"

NA, NA_SAME, NA_NEXT, FROZEN, DROP, SPREAD = sp.symbols("N_A N_A_same N_A_next N_frozen N_drop N_spread")
LAM1, NA1 = sp.symbols("lam_d1 N_A_d1")


def _model(dim) -> SymbolicModel:
    n = S.n
    U, v, x = MatrixSymbol("U", n, dim), MatrixSymbol("v", n, 1), MatrixSymbol("x", dim, 1)
    Sl, Sn = MatrixSymbol("S", n, n), MatrixSymbol("S_next", n, n)
    rules = ((Sl * Sl, Sl), (Sn * Sn, Sn), (Sn * Sl, Sn), (Sl * Sn, Sn))
    return SymbolicModel(f"two-layer[ReLU, one datum, d={dim}]", (U, v), v.T * Sl * U * x / sp.sqrt(n * dim),
                         symmetric=(Sl, Sn), rules=rules, aliases=((x.T * x, S.x2),) if dim != 1 else (),
                         scalars=(D_IN,),
                         description="ReLU net on one datum in its region S (S² = S); S_next <= S the next region")


def _relu_runs() -> Outcome:
    """Plain GD on ReLU nets, d = 1, x = 1, y = 0, at k = 3.8 and 3.95 for six seeds
    (all twelve runs at once): none diverges, the active norm never grows, the loss
    falls by a factor 10⁶ or more; and the package's toy net collapses below 4."""
    n, seeds, ks = 64, range(6), (3.8, 3.95)
    rng = [np.random.default_rng(seed) for seed in seeds]
    draws = [(g.standard_normal(n), g.standard_normal(n)) for g in rng]
    uu = np.array([u for u, _ in draws for _ in ks])
    vv = np.array([v for _, v in draws for _ in ks])
    k = np.array([kk for _ in seeds for kk in ks])
    s = (uu > 0).astype(float)
    lam0 = np.sum(s * (vv**2 + uu**2), axis=1) / n
    f0 = np.sum(vv * s * uu, axis=1) / np.sqrt(n)
    eta = (k / lam0)[:, None]
    norm = np.sum(s * (uu**2 + vv**2), axis=1)
    done = np.zeros(len(k), bool)
    f = f0
    for _ in range(20000):
        s = (uu > 0).astype(float)
        f = np.sum(vv * s * uu, axis=1) / np.sqrt(n)
        active = np.sum(s * (uu**2 + vv**2), axis=1)
        if not np.all(np.isfinite(f)) or np.any(active > norm * (1 + 1e-12)):
            return Outcome(False, "the active norm grew or GD diverged below k = 4")
        norm = active
        done |= f * f < 1e-12 * f0 * f0
        if np.all(done):
            break
        step = np.where(done, 0.0, f)[:, None] * eta / np.sqrt(n)
        uu, vv = uu - step * s * vv, vv - step * s * uu
    ratio = f * f / (f0 * f0)
    results = [(seed, kk, float(ratio[i]), int(s[i].sum())) for i, (seed, kk) in
               enumerate((sd, kk) for sd in seeds for kk in ks)]
    slow = [r for r in results if r[2] > 1e-6]
    if slow:
        return Outcome(False, f"the loss did not fall by 1e6 in 20000 steps below k = 4: {slow}")
    collapsed = sum(r[3] == 0 for r in results)
    # the package's toy ReLU net (width 1024, x = 1, y = 0), seed 1, collapses below 4: harmless at y = 0
    from catapult_theory.experiments import run_two_layer, two_layer_setup

    toy = run_two_layer(two_layer_setup(1024, 0.0, "toy", seed=1), 3.8, 3000)
    loss = float(toy.gd.loss[-1])
    if toy.phase != "collapsed" or loss != 0.0:
        return Outcome(False, f"the toy ReLU net, seed 1, k = 3.8: phase {toy.phase}, final loss {loss:.3g}")
    return Outcome(True, f"{len(results)} ReLU runs at k = 3.8, 3.95 (d = 1): the active norm never grew, the loss "
                         f"fell by 1e6 or more in all, {collapsed} ended collapsed; the toy net (width 1024), seed 1, "
                         "k = 3.8: collapsed, loss exactly 0")


def theorem(model: str | None = None) -> Theorem:
    der = Derivation(_model(D_IN))
    A = der.algebra
    t = table_from_derivation(der, "two-layer")
    n, x2, eta = S.n, S.x2, S.eta
    U, v, x = MatrixSymbol("U", n, D_IN), MatrixSymbol("v", n, 1), MatrixSymbol("x", D_IN, 1)
    Sl, Sn = MatrixSymbol("S", n, n), MatrixSymbol("S_next", n, n)
    P, Pn = A.poly(Sl), A.poly(Sn)
    inactive = A.sub(A.poly(I_mat(n)), P)
    Ust, vst = der.step[U], der.step[v]

    def norm(*blocks) -> sp.Expr:
        return der.named(sp.expand(sum((A.inner(b, b) for b in blocks), sp.S.Zero)))

    moved = (A.mul(inactive, A.sub(Ust, A.poly(U))), A.mul(inactive, A.sub(vst, A.poly(v))))
    na = norm(A.mul(P, A.poly(U)), A.mul(P, A.poly(v)))
    na_same = norm(A.mul(P, Ust), A.mul(P, vst))
    na_next = norm(A.mul(Pn, Ust), A.mul(Pn, vst))
    dying = (A.mul(A.sub(P, Pn), Ust), A.mul(A.sub(P, Pn), vst))
    M = A.mul(P, A.poly(U))
    spread = A.sub(M, A.scale(A.mul(M, A.poly(x * x.T)), 1 / S.x2))
    K = x2 / (n * D_IN)
    t.add(Definition(FROZEN, "|(I − S)(U' − U)|² + |(I − S)(v' − v)|²: how far the inactive units move", norm(*moved),
                     r"|(I - S)\Delta\theta|^{2}"))
    t.add(Definition(NA, "the active norm |SU|² + |Sv|²", na, r"N_{A}"))
    t.add(Definition(NA_SAME, "|SU'|² + |Sv'|²: the active norm after the step, in the same region", na_same,
                     r"N_{A}^{S}"))
    t.add(Definition(NA_NEXT, "|S'U'|² + |S'v'|²: the active norm at the next iterate, in its own region S' <= S",
                     na_next, r"N_{A}^{\prime}", role="next", of=NA))
    t.add(Definition(DROP, "|(S − S')U'|² + |(S − S')v'|²: the mass of the units that die", norm(*dying),
                     r"N_{\mathrm{drop}}"))
    t.add(Definition(SPREAD, "|SU − SU x xᵀ/|x|²|²", norm(spread), r"N_{\perp}"))
    lemma = src.lemma_increment()
    drop_rel = sp.Eq(NA_SAME - NA_NEXT, DROP)
    steps = [
        Step("inactive-frozen", sp.Eq(FROZEN, 0), Identity(),
             note="(I − S)∇f = 0: a unit with u·x <= 0 has no gradient, so it stays inactive (S' <= S)"),
        Step("active-lemma", sp.Eq(NA_SAME, NA + lemma), Identity(), note="the lemma on the active units"),
        Step("dying-identity", drop_rel, Identity(), note="(S − S')² = S − S' for nested projections"),
        Step("dying-square", sp.Ge(DROP, 0), Axiom("norm-nonneg", {"algebra": A, "vector": dying,
                                                                  "aliases": der.alias})),
        Step("norm-increment", sp.Le(NA_NEXT, NA + lemma),
             Certificate(((1, sp.Eq(NA_SAME, NA + lemma)), (1, drop_rel), (1, sp.Ge(DROP, 0))), 0),
             uses=("active-lemma", "dying-identity", "dying-square")),
        Step("spread-square", sp.Ge(SPREAD, 0), Axiom("norm-nonneg", {"algebra": A, "vector": spread,
                                                                     "aliases": der.alias})),
        Step("ntk-bound", sp.Le(S.lam, K * NA), Certificate(((x2 / (n * D_IN), sp.Ge(SPREAD, 0)),), 0),
             uses=("spread-square",), note="K N_A − λ = |x|² |SU − SUxxᵀ/|x|²|²/(n d)"),
        Step("active-nonneg", sp.Ge(NA, 0), Axiom("norm-nonneg", {"algebra": A, "vector": (M, A.mul(P, A.poly(v))),
                                                                 "aliases": der.alias})),
    ]
    # d = 1: λ = K N_A exactly, so the window η K N_0 < 4 is k = η λ_0 < 4
    der1 = Derivation(_model(1))
    A1 = der1.algebra
    U1, v1 = MatrixSymbol("U", n, 1), MatrixSymbol("v", n, 1)
    P1 = A1.poly(MatrixSymbol("S", n, n))
    t.add(Definition(LAM1, "λ for d = 1", der1.named(der1.lam), r"\lambda_{1}"))
    na1 = der1.named(sp.expand(A1.inner(A1.mul(P1, A1.poly(U1)), A1.mul(P1, A1.poly(U1)))
                               + A1.inner(A1.mul(P1, A1.poly(v1)), A1.mul(P1, A1.poly(v1)))))
    t.add(Definition(NA1, "the active norm for d = 1", na1, r"N_{A1}"))
    for a in sorted(A1.atoms_of(na1) | A1.atoms_of(der1.lam), key=str):
        t.add(Definition(a, f"the scalar {a.name.strip('[]')} (d = 1)", None, A1.atom_latex(a)))
    x1sq = A1.scalarize(MatrixSymbol("x", 1, 1).T * MatrixSymbol("x", 1, 1))  # |x|² of the 1x1 datum
    d1 = sp.Eq(LAM1, x1sq / n * NA1)
    steps.append(Step("d1-equality", d1, Identity(),
                      note="for d = 1, |SUx|² = |x|²|SU|²: the bound is an equality and k_max = 4"))
    # along GD iterates at y = 0
    Ft, Lt, Nt = FS(T), LS(T), NS(T)
    traj = Trajectory(T, {S.f: FS, S.lam: LS, NA: NS}, (S.r, Ft - S.y), (eta, S.y, n, x2, D_IN))
    t.add(Definition(FS, "f_t, the output at the t-th GD iterate", None, "f"))
    t.add(Definition(LS, "λ_t", None, r"\lambda"))
    t.add(Definition(NS, "N_t, the active norm at the t-th iterate (in its own region)", None, "N"))
    t.add(Definition(S.y, "the target", None, "y"))
    C = src.lemma_constant()
    window = sp.Lt(eta * K * NS(0), C)
    increment_t = sp.Le(NS(T + 1), Nt + lemma.subs({S.r: Ft - S.y, S.f: Ft, S.lam: Lt}))
    ntk_t = sp.Le(Lt, K * Nt)
    steps += [
        Step("norm-increment-t", increment_t, Iterate("norm-increment")),
        Step("ntk-bound-t", ntk_t, Iterate("ntk-bound")),
        Step("norm-nonneg-t", sp.Ge(Nt, 0), Iterate("active-nonneg")),
        Step("K-nonneg", sp.Ge(K, 0), Certificate()),
    ]
    steps += sequence_steps(increment_t, ntk_t, window, K, C, sp.Integer(0), sp.Integer(0), loss_check=_relu_runs)
    dec = sp.Le(NS(T + 1), Nt)
    bounded = next(st.claim for st in steps if st.name == "bounded-sums")
    conclusion = [sp.Eq(FROZEN, 0), sp.Le(NA_NEXT, NA + lemma), sp.Le(S.lam, K * NA), d1,
                  dec, sp.Lt(eta * Lt, C), bounded, sp.Eq(sp.Limit(Ft**2, T, sp.oo), 0)]
    hyps = [sp.Eq(S.y, 0), sp.Gt(eta, 0), sp.Gt(x2, 0), window] + list(t.hypotheses)
    return Theorem(ID, tuple(hyps), tuple(conclusion), tuple(steps), tuple(t.definitions), "two-layer",
                   "ReLU net, one datum, y = 0: inactive units are frozen (units only die), the active norm changes "
                   "by the lemma and dying units only lower it, λ <= |x|²/(n d) N_A (equality for d = 1); so with "
                   "η K N_0 < 4 — k = η λ_0 < 4 for d = 1 — the active norm never grows and the loss tends to 0, "
                   "collapsed or not", trajectory=traj)
