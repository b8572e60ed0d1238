"""The catapult-window theorems, one datum, y = 0 (THEORY §5), on GD iterates.

For a norm ``N`` (``|θ|²``, or ``Q`` for the bias model) whose one-step change at
y = 0 is ``η f² (η (λ + c) − 4)`` (the lemma, or the modified norm) and an NTK
bound ``λ + c <= b + K N`` at every state, along the GD iterates ``θ_t`` with
``η (b + K N_0) < 4``:

(i)   ``N_{t+1} <= N_t`` and ``η λ_t < 4`` for every t (induction on ``N_t <= N_0``);
(ii)  ``Σ_{s<=t} f_s² <= N_0 / (η (4 − η (b + K N_0)))`` for every t (telescoping
      through the partial-sum invariant), so ``f_t² -> 0`` (axiom: bounded series);
(iii) uv model: ``λ_t − K|θ_t|²`` is constant along the map, so ``λ_t`` converges
      (axiom: monotone convergence of ``|θ_t|²``), and if ``f_t != 0`` for every t,
      ``f_{t+1} = f_t (1 − η λ_t + η² K f_t²)`` forces ``η λ_∞ <= 2`` (axiom: a
      never-zero sequence tending to 0 has ratio limit of modulus <= 1); with
      ``2 < η λ_0`` that is ``λ_∞ < λ_0``: the catapult.

For the other families (iii) is not claimed: their (f, λ) map does not close,
so the limit of λ is not established.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np
import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _numeric as N
from . import _sources as src
from ._kernel import (Always, Axiom, Certificate, Definition, Identity, Induction, Iterate, Step, Theorem,
                      Trajectory, Use, rsubs, strip)
from ._runner import Outcome
from ._ntk import ETA_STAR
from ._tactics import F_NEXT, LAM_NEXT, W2_NEXT, model_table, positivity

__all__ = ["window_theorem", "sequence_steps", "norm_never_grows", "converges_below_edge", "T", "FS", "LS", "NS"]

T, SD = sp.symbols("t s")
FS, LS, NS = sp.Function("f_seq"), sp.Function("lam_seq"), sp.Function("N_seq")
W_INF, LAM_INF = sp.symbols("w_inf lam_inf")

#: a norm step counts as growth above this fraction of the initial norm (rounding of |θ|²)
NORM_RTOL = 1e-12
#: the final eta*lam may exceed the stability edge by this fraction (still converging polynomially)
EDGE_RTOL = 1e-6
#: a run has converged when its loss is below this
LOSS_ZERO = 1e-20


def norm_never_grows(run: N.Run) -> Outcome:
    """Numeric check of the decrease step: the run stayed finite and its norm never grew."""
    if run.diverged:
        return Outcome(False, f"GD diverged at k = {run.k:.4g} inside the window (k_max = {run.k_max:.4g})")
    rise = float(np.max(np.diff(run.norm)))
    if rise > NORM_RTOL * run.norm[0]:
        return Outcome(False, f"the norm grew by {rise:.3g} in a real GD run at k = {run.k:.4g}")
    return Outcome(True, f"real GD at k = {run.k:.4g} (window end {run.k_max:.4g}): the norm never grew "
                         f"over {len(run.norm) - 1} steps")


def converges_below_edge(run: N.Run, edge: float) -> Outcome:
    """Numeric check of the limit steps: the loss went to 0 and the final eta*lam is at
    most the stability edge."""
    total = float(np.sum(2 * run.loss))
    if not run.loss[-1] < LOSS_ZERO:
        return Outcome(False, f"the loss did not converge to 0 (last {run.loss[-1]:.3g})")
    if run.eta_lam[-1] > edge * (1 + EDGE_RTOL):
        return Outcome(False, f"eta lam_inf = {run.eta_lam[-1]:.6g} > {edge:g} (the stability edge)")
    return Outcome(True, f"real GD: sum f_t^2 = {total:.4g} finite, loss -> {run.loss[-1]:.1e}, "
                         f"eta lam from {run.eta_lam[0]:.4g} to {run.eta_lam[-1]:.4g} <= the edge {edge:g}")


def _uniq_extend(dst: list, items) -> None:
    for h in items:
        if all(sp.sstr(h) != sp.sstr(x) for x in dst):
            dst.append(h)


def sequence_steps(increment_t, ntk_t, window, K, C, shift, base, decrease_check=None, loss_check=None,
                   uses_K: tuple = ("K-nonneg",)) -> list[Step]:
    """The steps from the one-step facts at the iterates to the window's conclusions.

    ``increment_t``: ``N_{t+1} = N_t + η f_t² (η (λ_t + c) − C)`` or ``<=`` (units
    dying only remove mass); ``ntk_t``: ``λ_t <= base − c + K N_t``; ``window``:
    ``η (base + K N_0) < C``. Uses the earlier steps ``norm-increment-t``,
    ``ntk-bound-t``, ``norm-nonneg-t`` and ``uses_K`` (``K >= 0``)."""
    t0 = sp.Integer(0)
    Fs, Ls, Ns = FS(T), LS(T), NS(T)
    cs = S.eta * (C - S.eta * (base + K * NS(t0)))  # the summable margin
    inv = sp.Le(Ns, NS(t0))
    dec = sp.Le(NS(T + 1), Ns)
    f2 = Fs**2
    sign = -1 if isinstance(increment_t, sp.Equality) else 1  # an equality as written, or the slack of <=
    drop = ((sign, increment_t), (S.eta**2 * f2, ntk_t), (S.eta**2 * K * f2, inv))
    steps = [
        Step("decrease-step", dec, Certificate(drop + ((S.eta * f2, window),), 0), hypotheses=(inv,),
             uses=("norm-increment-t", "ntk-bound-t", *uses_K), numeric=decrease_check),
        Step("invariant-step", sp.Le(NS(T + 1), NS(t0)), Certificate(((1, dec), (1, inv)), 0), hypotheses=(inv,),
             uses=("decrease-step",)),
        Step("invariant-base", sp.Le(NS(t0), NS(t0), evaluate=False), Certificate((), 0)),
        Step("invariant", inv, Induction("invariant-base", "invariant-step", T)),
        Step("non-increasing", dec, Certificate(((1, dec),), 0), uses=("invariant", "decrease-step"),
             coq="norm-non-increasing"),
        Step("sharpness-below-4", sp.Lt(S.eta * Ls, C - S.eta * shift),
             Certificate(((S.eta, ntk_t), (S.eta * K, inv), (1, window)), 0),
             uses=("ntk-bound-t", "invariant", *uses_K), coq="eta-lam-below-4"),
        # (ii) telescoping: cs * sum_{s<t} f_s^2 <= N_0 − N_t
        Step("summable-step", sp.Le(cs * f2, Ns - NS(T + 1)), Certificate(drop, 0),
             uses=("norm-increment-t", "ntk-bound-t", "invariant", *uses_K)),
    ]
    psum = sp.Sum(FS(SD) ** 2, (SD, 0, T - 1))
    pinv = sp.Le(cs * psum, NS(t0) - Ns)
    rec = sp.Eq(sp.Sum(FS(SD) ** 2, (SD, 0, T)), psum + f2)
    empty = sp.Eq(sp.Sum(FS(SD) ** 2, (SD, 0, -1)), 0, evaluate=False)
    sum_ax = Axiom("finite-sum", {"term": f2, "index": T, "dummy": SD})
    bounded = sp.Le(sp.Sum(FS(SD) ** 2, (SD, 0, T)), NS(t0) / cs)
    steps += [
        Step("sum-empty", empty, sum_ax),
        Step("sum-recursion", rec, sum_ax),
        Step("partial-sums-base", rsubs(pinv, {T: t0}), Certificate(((-cs, empty),), 0), uses=("sum-empty",)),
        Step("partial-sums-step", rsubs(pinv, {T: T + 1}),
             Certificate(((1, pinv), (1, sp.Le(cs * f2, Ns - NS(T + 1))), (-cs, rec)), 0), hypotheses=(pinv,),
             uses=("summable-step", "sum-recursion")),
        Step("partial-sums", pinv, Induction("partial-sums-base", "partial-sums-step", T)),
        Step("bounded-sums", bounded,
             Certificate(((1 / cs, rsubs(pinv, {T: T + 1})), (1 / cs, sp.Ge(NS(T + 1), 0))), 0),
             uses=(Use("partial-sums", {T: T + 1}), Use("norm-nonneg-t", {T: T + 1})), coq="sum-bound"),
        Step("square-nonneg", sp.Ge(f2, 0), Certificate((), f2)),
        Step("loss-to-zero", sp.Eq(sp.Limit(f2, T, sp.oo), 0),
             Axiom("series-terms-to-zero", {"term": f2, "index": T, "bound": NS(t0) / cs, "dummy": SD}),
             uses=("square-nonneg", "bounded-sums"), coq="loss-to-zero", numeric=loss_check),
    ]
    return steps


def window_theorem(id: str, model: str, bound: str, ntk_module: str) -> Theorem:
    """``catapult-window-<family>`` for the catalogue's one-datum ``bound``, citing
    the NTK theorem of ``ntk_module``."""
    spec = src.bound(model, bound)
    assert spec.ntk is not None, "a rigorous bound states its NTK inequality"
    ntk_th = import_module(f"proofs.{ntk_module}").theorem()
    t = model_table(model)
    for d in ntk_th.definitions:
        t.add(d)
    der = t.derivation
    C = src.lemma_constant()
    K = strip(spec.K)
    if spec.norm == "w2":
        norm, norm_next = S.w2, W2_NEXT
        shift = sp.Integer(0)
        increment = src.lemma_increment()
    else:
        norm, norm_next = sp.Symbol("Q"), sp.Symbol("Q_next")
        (p,) = [p for p in spec.premises if p.name == "modified-norm"]
        increment = strip(p.relation.rhs)
        shift = sp.expand(sp.diff(increment, S.r, 2) / (2 * S.eta**2) - S.lam)  # η r (η r (λ + c) − 4 f)
        A = der.algebra
        q_atoms = t.value(norm).xreplace({S.w2: t.value(S.w2)})
        raw = q_atoms.xreplace({v: k for k, v in der.alias.items()})
        t.add(Definition(norm_next, "Q after one GD step", der.named(sp.expand(der.next(raw))), r"Q^{\prime}",
                         role="next", of=norm))
        _ = A
    ntk_rhs = strip(spec.ntk.rhs)
    base = sp.expand(ntk_rhs + shift - K * norm)  # λ + c <= base + K N
    t0 = sp.Integer(0)
    Fs, Ls, Ns = FS(T), LS(T), NS(T)
    t.add(Definition(FS, "f_t, the output at the t-th GD iterate θ_t (θ_{t+1} = θ_t − η f_t ∇f(θ_t))", None, "f"))
    t.add(Definition(LS, "λ_t, the NTK eigenvalue at θ_t", None, r"\lambda"))
    t.add(Definition(NS, f"N_t, the norm {'|θ_t|²' if spec.norm == 'w2' else 'Q at θ_t'}", None,
                     "w" if spec.norm == "w2" else "Q"))
    t.add(Definition(S.y, "the target", None, "y"))
    window = sp.Lt(S.eta * (base + K * NS(t0)), C)
    hyps = [sp.Eq(S.y, 0), sp.Gt(S.eta, 0), window, sp.Gt(S.eta * LS(t0), 2)]
    _uniq_extend(hyps, t.hypotheses)
    _uniq_extend(hyps, ntk_th.hypotheses)
    ntk_claim = None
    for c in ntk_th.conclusion:
        rel, own = (c if isinstance(c, tuple) else (c, ()))
        if isinstance(rel, sp.LessThan) and strip(rel.lhs) == S.lam:
            ntk_claim = strip(rel)
            _uniq_extend(hyps, own)
    assert ntk_claim is not None
    constants = sorted((set(ntk_claim.free_symbols) | set(increment.free_symbols) | set(K.free_symbols))
                       - {S.f, S.lam, S.w2, S.r, norm}, key=str)
    traj = Trajectory(T, {S.f: FS, S.lam: LS, norm: NS}, (S.r, Fs - S.y), tuple(constants) + (S.y,))
    lemma_t = sp.Eq(NS(T + 1), Ns + increment.subs({S.r: Fs - S.y, S.f: Fs, S.lam: Ls}))
    ntk_t = sp.Le(Ls, ntk_claim.rhs.subs(norm, Ns))
    dec = sp.Le(NS(T + 1), Ns)
    f2 = Fs**2
    bounded = sp.Le(sp.Sum(FS(SD) ** 2, (SD, 0, T)), NS(t0) / (S.eta * (C - S.eta * (base + K * NS(t0)))))
    steps = [
        Step("norm-increment", sp.Eq(norm_next, norm + increment), Identity(),
             note="the one-step change of the norm, in the word algebra (the lemma, or the modified norm)"),
        Step("norm-increment-t", lemma_t, Iterate("norm-increment")),
        Step("ntk-bound-t", ntk_t, Iterate(f"theorem:{ntk_th.label}")),
    ]
    if spec.norm == "w2":
        steps.append(Step("norm-nonneg", sp.Ge(S.w2, 0), Axiom("norm-nonneg", {
            "algebra": der.algebra, "vector": tuple(der.model.params), "aliases": der.alias})))
    else:
        w2_ok = Step("w2-nonneg", sp.Ge(S.w2, 0), Axiom("norm-nonneg", {
            "algebra": der.algebra, "vector": tuple(der.model.params), "aliases": der.alias}))
        steps += [w2_ok, Step("norm-nonneg", sp.Ge(norm, 0), Certificate(((1, sp.Ge(S.w2, 0)),)),
                              uses=("w2-nonneg",))]
    steps.append(Step("norm-nonneg-t", sp.Ge(Ns, 0), Iterate("norm-nonneg")))
    steps.append(Step("K-nonneg", sp.Ge(K, 0), Certificate(()), uses=(f"theorem:{ntk_th.label}",),
                      note="the bound's constant is non-negative"))
    run = N.catapult_run(model, spec.k_max)
    core = sequence_steps(lemma_t, ntk_t, window, K, C, shift, base,
                          decrease_check=lambda: norm_never_grows(run),
                          loss_check=(lambda: converges_below_edge(run, N.stability_edge(model))) if model == "uv"
                          else (lambda: _loss_only(run)))
    steps += core
    # the reported window end: at η* = k_max/λ_0 the window condition is an equality
    end_value = strip(spec.k_max / S.lam)
    where = tuple(positivity([end_value]))
    t.add(Definition(ETA_STAR, "the learning rate at the reported window end, k_max/λ_0", end_value, r"\eta_{\ast}",
                     where=where))
    end = sp.Eq(ETA_STAR * (base + K * norm), C)
    steps.append(Step("window-end", end, Identity(), hypotheses=where,
                      note="the reported k_max is where η (b + K N_0) reaches the lemma's constant"))
    conclusion: list = [dec, sp.Lt(S.eta * Ls, C - S.eta * shift), bounded, sp.Eq(sp.Limit(f2, T, sp.oo), 0),
                        (end, where)]
    title = (f"one datum, y = 0, along the GD iterates: if 2 < η λ_0 and η ({sp.sstr(base)} + K N_0) < {C} "
             f"(K = {sp.sstr(K)}, N = {'|θ|²' if spec.norm == 'w2' else 'Q'}), then N_t is non-increasing, "
             f"η λ_t < {sp.sstr(C - S.eta * shift)}, Σ f_t² <= N_0/(η({C} − η({sp.sstr(base)} + K N_0))) and f_t -> 0")
    if model == "uv":
        extra_steps, extra_concl = _uv_sharpness(t, K, run, model)
        steps += extra_steps
        conclusion += extra_concl
        title += "; λ_t converges, and if f_t != 0 for every t then η λ_∞ <= 2 < η λ_0 (the catapult)"
    else:
        title += " (η λ_∞ <= 2 is proved for the uv model only: catapult-window-uv)"
    return Theorem(id, tuple(hyps), tuple(conclusion), tuple(steps), tuple(t.definitions), model, title,
                   trajectory=traj)


def _loss_only(run: N.Run) -> Outcome:
    if run.diverged or not run.loss[-1] < LOSS_ZERO:
        return Outcome(False, f"the loss did not converge to 0 (last {run.loss[-1]:.3g})")
    return Outcome(True, f"real GD at k = {run.k:.4g}: loss -> {run.loss[-1]:.1e}")


def _uv_sharpness(t, K, run, model) -> tuple[list, list]:
    """(iii) for the uv model: λ_t − K|θ_t|² is invariant, λ_t converges, and
    η λ_∞ <= 2 when no iterate has f = 0."""
    th = src.theory("uv")
    up = th.update.update
    Fs, Ls, Ns = FS(T), LS(T), NS(T)
    t0 = sp.Integer(0)
    c0 = LS(t0) - K * NS(t0)
    t.add(Definition(W_INF, "|θ_∞|², the limit of |θ_t|² (it exists: monotone convergence)", None, r"w_{\infty}"))
    t.add(Definition(LAM_INF, "λ_∞, the limit of λ_t (= K w_∞ + λ_0 − K w_0)", K * W_INF + c0, r"\lambda_{\infty}"))
    nonzero = Always(sp.Ne(Fs, 0), T)
    mult = 1 - S.eta * Ls + S.eta**2 * K * Fs**2
    f_rec = sp.Eq(FS(T + 1), mult * Fs)
    lam_lim = sp.Eq(sp.Limit(Ls, T, sp.oo), LAM_INF)
    edge = sp.Le(S.eta * LAM_INF, 2)
    steps = [
        Step("lam-minus-Kw", sp.Eq(LAM_NEXT - K * W2_NEXT, S.lam - K * S.w2), Identity(),
             note="λ' − K|θ'|² = λ − K|θ|² for the uv model (K = x2/n)"),
        Step("lam-minus-Kw-t", sp.Eq(LS(T + 1) - K * NS(T + 1), Ls - K * Ns), Iterate("lam-minus-Kw")),
        Step("lam-offset-base", sp.Eq(LS(t0) - K * NS(t0), c0, evaluate=False), Identity()),
        Step("lam-offset-step", sp.Eq(LS(T + 1) - K * NS(T + 1), c0),
             Certificate(((1, sp.Eq(LS(T + 1) - K * NS(T + 1), Ls - K * Ns)), (1, sp.Eq(Ls - K * Ns, c0))), 0),
             hypotheses=(sp.Eq(Ls - K * Ns, c0),), uses=("lam-minus-Kw-t",)),
        Step("lam-offset", sp.Eq(Ls - K * Ns, c0), Induction("lam-offset-base", "lam-offset-step", T)),
        Step("w-converges", sp.Eq(sp.Limit(Ns, T, sp.oo), W_INF),
             Axiom("monotone-convergence", {"seq": Ns, "index": T, "lower": 0, "limit": W_INF}),
             uses=("non-increasing", "norm-nonneg-t")),
        Step("Kw-converges", sp.Eq(sp.Limit(K * Ns + c0, T, sp.oo), K * W_INF + c0),
             Axiom("limit-of-polynomial", {"expr": K * Ns + c0, "index": T, "limits": {Ns: W_INF}}),
             uses=("w-converges",)),
        Step("lam-converges", lam_lim,
             Axiom("limit-congruence", {"seq": Ls, "other": K * Ns + c0, "index": T, "limit": K * W_INF + c0}),
             uses=("lam-offset", "Kw-converges"), coq="lam-converges"),
        Step("f-map", sp.Eq(F_NEXT, up[S.f]), Identity(), note="the uv map's f component"),
        Step("f-map-t", sp.Eq(FS(T + 1), up[S.f].subs({S.f: Fs, S.lam: Ls, S.r: Fs - S.y})), Iterate("f-map")),
        Step("f-recursion", f_rec, Certificate(((1, sp.Eq(FS(T + 1), up[S.f].subs({S.f: Fs, S.lam: Ls,
                                                                                     S.r: Fs - S.y}))),), 0),
             uses=("f-map-t",)),
        Step("multiplier-converges", sp.Eq(sp.Limit(mult, T, sp.oo), 1 - S.eta * LAM_INF),
             Axiom("limit-of-polynomial", {"expr": mult, "index": T, "limits": {Ls: LAM_INF, Fs**2: 0}}),
             uses=("lam-converges", "loss-to-zero")),
        Step("ratio", sp.Ge(1 - S.eta * LAM_INF, -1),
             Axiom("ratio-limit", {"seq": Fs, "multiplier": mult, "index": T, "limit": 1 - S.eta * LAM_INF}),
             hypotheses=(nonzero,), uses=("f-recursion", "multiplier-converges", "loss-to-zero"),
             numeric=lambda: converges_below_edge(run, N.stability_edge(model))),
        Step("sharpness-at-most-2", edge, Certificate(((1, sp.Ge(1 - S.eta * LAM_INF, -1)),), 0),
             hypotheses=(nonzero,), uses=("ratio",), coq="sharpness-at-most-2"),
        Step("catapult", sp.Lt(LAM_INF, LS(t0)),
             Certificate(((1 / S.eta, edge), (1 / S.eta, sp.Gt(S.eta * LS(t0), 2))), 0),
             hypotheses=(nonzero,), uses=("sharpness-at-most-2",), coq="catapult"),
    ]
    return steps, [lam_lim, (edge, (nonzero,)), (sp.Lt(LAM_INF, LS(t0)), (nonzero,))]
