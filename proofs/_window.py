"""The catapult-window theorems, one datum, y = 0 (THEORY §5).

For a bound ``lam <= rhs(N)`` on a norm ``N`` (``|θ|²``, or ``Q`` for the bias
model) whose one-step increment is ``ΔN = η r (η r (lam + c) − 4 f)``:
if ``2 < η lam_0`` and ``η`` is below the root ``η*`` of ``ΔN`` at
``lam = rhs(N_0)``, then (i) ``N_t`` is non-increasing and ``η lam_t < 4``
for all t, (ii) ``Σ_t f_t² <= N_0 / (η (4 − η (rhs(N_0) + c)))`` so the loss
converges to 0, and (iii) ``η lam_∞ <= 2 < η lam_0``: the NTK eigenvalue falls.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.symbolic import BoundSpec, symbols as S, window_from

from . import _numeric as N
from . import _sources as src
from ._bounds import SIGNS, _derived_check, chain_step, premise_steps
from ._core import Outcome, Step, Theorem, identity, sign_certificate

__all__ = ["window_theorem", "norm_never_grows", "converges_below_edge"]

_u, _s, _t = sp.symbols("u_slack s_slack t_frac", positive=True)


def _increment(spec: BoundSpec) -> sp.Expr:
    """The norm increment the proof uses: the lemma of the symbolic layer for
    ``|θ|²``, the modified-norm premise for ``Q``."""
    if spec.norm == "w2":
        return src.lemma_increment()
    (p,) = [p for p in spec.premises if p.name == "modified-norm"]
    return p.relation.rhs


def _increment_step(spec: BoundSpec, model: str) -> Step:
    """ΔN equals the stated increment, in the word algebra and on real GD steps."""
    inc = _increment(spec)
    if spec.norm == "w2":

        def check() -> Outcome:
            der = src.theory(model).derivation
            return identity(der.named(der.weight_norm_change() - inc.subs({S.lam: der.lam, S.f: der.f})),
                            "Δ|θ|² against the lemma")

        rel = sp.Eq(N.q("Dw2"), inc)
    else:
        (p,) = [p for p in spec.premises if p.name == "modified-norm"]
        check = _derived_check(p)
        rel = p.relation
    pts = N.gd_steps(model)

    def numeric() -> Outcome:
        from ._core import numeric_relation

        return numeric_relation(rel, pts, what="real GD steps")

    return Step("norm-increment", "identity", rel,
                "word algebra (sizes symbolic) and real GD steps", uses=("theorem:weight-norm-identity",)
                if spec.norm == "w2" else (), check=check, numeric=numeric)


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
    """Numeric check of the summable step and its consequences: the loss went to 0 and
    the final eta*lam is at most the stability edge."""
    total = float(np.sum(2 * run.loss))
    if not run.loss[-1] < LOSS_ZERO:
        return Outcome(False, f"the loss did not converge to 0 (last {run.loss[-1]:.3g})")
    if run.eta_lam[-1] > edge * (1 + EDGE_RTOL):
        return Outcome(False, f"eta lam_inf = {run.eta_lam[-1]:.6g} > {edge:g} (the stability edge)")
    return Outcome(True, f"real GD: sum f_t^2 = {total:.4g} finite, loss -> {run.loss[-1]:.1e}, "
                         f"eta lam from {run.eta_lam[0]:.4g} to {run.eta_lam[-1]:.4g} <= the edge {edge:g}")


def _imported_bound(spec: BoundSpec, model: str) -> Step:
    """The NTK bound, imported from its theorem: its premises are re-checked (a
    window resting on a false premise is not proved) and composed again."""
    chain = chain_step(spec, model, uses=(f"theorem:ntk-bound-{model}",))
    prem = premise_steps(spec, model)

    def check() -> Outcome:
        for st in prem:
            for fn in (st.check, st.numeric):
                if fn is None:
                    continue
                out = fn()
                if not out:
                    return Outcome(False, f"{st.name} of the imported bound: {out.detail}")
        assert chain.check is not None
        return chain.check()

    return Step(chain.name, chain.kind, chain.statement, chain.how + " (premises re-checked)", chain.uses, check,
                chain.numeric)


def window_theorem(id: str, model: str, bound: str) -> Theorem:
    """``catapult-window-<family>`` for the catalogue's one-datum ``bound``."""
    declared = {"y = 0": {S.y: 0}, "one datum": {}}

    def build():
        spec = src.bound(model, bound)
        hyp = src.hypotheses(id, declared)
        subs = {}
        for v in hyp.values():
            subs.update(v)
        inc = _increment(spec)
        assert spec.ntk is not None
        rhs = spec.ntk.rhs
        inc_y = inc.subs(S.r, S.f - S.y).subs(subs)
        eta_star, k_max = window_from(inc, rhs)
        steps = [_increment_step(spec, model), _imported_bound(spec, model)]
        # a state with lam > 0 has |θ|² > 0 and Q > 0
        signs = {**SIGNS, S.w2: "positive", N.q("Q"): "positive", S.lam: "positive"}

        # decrease: 0 < eta < eta*, lam <= rhs(N) => ΔN <= 0
        def decrease() -> Outcome:
            lam_slack = {S.lam: rhs - _s}  # lam = rhs − s, s >= 0 (the NTK bound)
            eta_in = {S.eta: eta_star.subs(S.lam, rhs) / (1 + _u)}  # η = η*/(1 + u), u > 0
            e = inc_y.subs(lam_slack).subs(eta_in)
            return sign_certificate(e, "nonpositive", {**signs, _s: "nonnegative", _u: "positive"})

        run = N.catapult_run(model, spec.k_max)

        def decrease_numeric() -> Outcome:
            return norm_never_grows(run)

        steps.append(Step("decrease", "inequality",
                          sp.Le(inc_y.subs(S.r, S.f), 0),
                          "sign certificate with lam = rhs(N) − s (s >= 0) and eta = eta*/(1 + u) (u > 0)",
                          uses=("norm-increment", "ntk-bound"), check=decrease, numeric=decrease_numeric))
        steps.append(Step("induction", "logical",
                          f"for all t: {spec.norm}_(t+1) <= {spec.norm}_t and eta lam_t <= eta rhs({spec.norm}_0) "
                          f"< eta* rhs: the window condition at t = 0 propagates",
                          "induction on t (hypotheses of the decrease step hold at t + 1 because the norm fell)",
                          uses=("decrease", "ntk-bound")))

        # summable: N_t − N_(t+1) >= η f² (4 − η (rhs0 + c)) where lam_t <= rhs0
        c_shift = sp.simplify(sp.expand(inc_y.subs(S.r, S.f)).coeff(S.eta**2) / S.f**2 - S.lam)
        constant = sp.simplify(-sp.expand(inc_y.subs(S.r, S.f)).coeff(S.eta) / S.f**2)
        rhs0 = sp.Symbol("rhs0", positive=True)
        margin = S.eta * S.f**2 * (constant - S.eta * (rhs0 + c_shift))

        def summable() -> Outcome:
            e = (-inc_y.subs(S.r, S.f) - margin).subs(S.lam, rhs0 - _s)
            return sign_certificate(e, "nonnegative", {**signs, _s: "nonnegative", rhs0: "positive"})

        def summable_numeric() -> Outcome:
            return converges_below_edge(run, N.stability_edge(model))

        steps.append(Step("summable", "inequality", sp.Ge(-N.q("Dw2") if spec.norm == "w2" else -N.q("DQ"), margin),
                          "sign certificate with lam_t = rhs(N_0) − s: the norm falls by at least a fixed "
                          "multiple of f_t²", uses=("induction",), check=summable, numeric=summable_numeric))
        steps.append(Step("converges", "logical",
                          f"sum_t f_t^2 <= {spec.norm}_0 / (eta (4 − eta (rhs_0 + c))) < oo, so f_t -> 0: "
                          "the loss converges to 0", "telescoping the summable step", uses=("summable",)))
        steps.append(Step("sharpness-falls", "logical",
                          "eta lam_inf <= 2 < eta lam_0: if eta lam_t -> eta lam_inf > 2 the linearised residual "
                          "map multiplies r by |1 − eta lam| > 1 and f_t cannot tend to 0",
                          "contradiction with the onset multiplier", uses=("converges", "theorem:linear-onset")))

        def window_end() -> Outcome:
            return identity(spec.k_max - k_max, "the catalogue's k_max against lam0 * eta*(lam = rhs)")

        def window_numeric() -> Outcome:
            # the compiled k_max (the numbers the package reports) against the
            # stated increment: at eta = k_max/lam_0 and lam = rhs(N_0) it vanishes
            from catapult_theory.compiled import compile_expr

            args = sorted(spec.k_max.free_symbols, key=str)
            fn = compile_expr(spec.k_max, args)
            rng = np.random.default_rng(11)
            worst = 0.0
            for _ in range(10):
                syms = sorted(set(args) | inc_y.free_symbols | rhs.free_symbols, key=str)
                vals = {a: float(rng.uniform(0.5, 3)) for a in syms}
                vals[S.y] = 0.0
                kk = float(fn(*(vals[a] for a in args)))
                at = {**vals, S.eta: kk / vals[S.lam], S.lam: float(sp.sympify(rhs).xreplace(
                    {k: sp.Float(v, 30) for k, v in vals.items()}))}
                factor = float((inc_y.subs(S.r, S.f) / (S.eta * S.f**2)).xreplace(
                    {k: sp.Float(v, 30) for k, v in at.items()}))
                worst = max(worst, abs(factor))
            if worst > 1e-9:
                return Outcome(False, f"at the compiled window end the norm increment does not vanish ({worst:.2e})")
            return Outcome(True, f"compiled k_max: the increment's sign-changing factor vanishes there "
                                 f"(10 random states, worst {worst:.1e})")

        steps.append(Step("window-end", "identity", sp.Eq(sp.Symbol("k_max"), spec.k_max),
                          "k_max = lam_0 eta* with eta* the root of the stated increment at lam = rhs(N_0)",
                          uses=("decrease",), check=window_end, numeric=window_numeric))
        return steps

    spec0 = src.bound(model, bound)
    assert spec0.ntk is not None
    return Theorem(id, model, f"one datum, y = 0: 2 < eta lam_0 and eta < eta*(lam = {sp.sstr(spec0.ntk.rhs)}) "
                   f"(k < {sp.sstr(spec0.k_max)}) => {spec0.norm} non-increasing, loss -> 0, eta lam_inf <= 2",
                   tuple(declared), build)
