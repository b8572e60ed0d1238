"""``linear-onset``: linear stability of a minimum is lost at ``η = eta_crit``
(``eta_crit · lam = 2``), where a multiplier of the one-step map, linearised at
``r = 0``, passes through −1. Generic: any registered family.

Steps: every increment vanishes at ``r = 0`` (minima are fixed points); the
η-dependent eigenvalue of the Jacobian there is the derived multiplier; it equals
−1 at ``eta_crit``; it lies in (−1, 1] below and below −1 above.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._bounds import SIGNS
from ._core import Outcome, Step, Theorem, identity, sign_certificate
from ._generic import random_point_check

ID = "linear-onset"

_u = sp.Symbol("u_slack", positive=True)


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"

    def build():
        th = src.theory(model)
        um = th.update
        crit = th.thresholds["eta_crit"]
        mult = crit.solved_from
        incs = um.increments()
        contract = um.contract()
        state = list(um.state)
        F = sp.Matrix([contract[s] for s in state])
        J = F.jacobian(state).subs(S.f, S.y)
        mu = sp.Symbol("mu")
        at_r0 = [sp.simplify(inc.subs(S.r, 0)) for inc in incs.values()]
        signs = {**SIGNS, S.lam: "positive"}

        def fixed_numeric() -> Outcome:
            return random_point_check(sum(sp.expand(inc.subs(S.r, 0)) ** 2 for inc in incs.values()),
                                      "increments at r = 0")

        steps = [Step("fixed-point", "identity", sp.Eq(sp.Symbol("increments(r=0)"), 0),
                      "each derived increment with r = 0 simplifies to 0",
                      check=lambda: identity(sum(a**2 for a in at_r0), "increments at r = 0"),
                      numeric=fixed_numeric)]
        charpoly = sp.factor((J - mu * sp.eye(len(state))).det())

        def jac_numeric() -> Outcome:
            # finite differences of the lambdified map at random states with f = y
            syms = sorted(set().union(*(e.free_symbols for e in contract.values())) - set(state) - {S.y},
                          key=str)
            fn = sp.lambdify(state + [S.y] + syms, list(F), "numpy")
            mfn = sp.lambdify([S.eta, S.lam, *sorted(mult.free_symbols - {S.eta, S.lam}, key=str)], mult, "numpy")
            rng = np.random.default_rng(8)
            worst = 0.0
            for _ in range(5):
                vals = {s: float(rng.uniform(0.5, 1.5)) for s in state + syms}
                vals[S.y] = vals[S.f]
                base = np.array(fn(*[vals[s] for s in state], vals[S.y], *[vals[s] for s in syms]), dtype=float)
                cols = []
                for s in state:
                    h = 1e-6
                    v2 = dict(vals)
                    v2[s] += h
                    cols.append((np.array(fn(*[v2[q] for q in state], v2[S.y], *[v2[q] for q in syms]),
                                          dtype=float) - base) / h)
                Jn = np.array(cols).T
                m = float(mfn(vals[S.eta], vals[S.lam], *[vals[q] for q in sorted(mult.free_symbols - {S.eta, S.lam},
                                                                                     key=str)]))
                ev = np.linalg.eigvals(Jn)
                worst = max(worst, float(np.min(np.abs(ev - m))))
            if worst > 1e-4:
                return Outcome(False, f"the multiplier is not an eigenvalue of the numeric Jacobian ({worst:.2e})")
            return Outcome(True, f"multiplier among the eigenvalues of a finite-difference Jacobian "
                                 f"(5 random states, worst {worst:.1e})")

        steps.append(Step("multiplier", "identity", sp.Eq(sp.Symbol("det(J - mu I)|_{mu=multiplier}"), 0),
                          f"characteristic polynomial of the Jacobian at f = y, {sp.sstr(charpoly)}, "
                          f"vanishes at the multiplier {sp.sstr(mult)}", uses=("fixed-point",),
                          check=lambda: identity(charpoly.subs(mu, mult), "characteristic polynomial"),
                          numeric=jac_numeric))
        flip = mult.subs(S.eta, crit.eta) + 1
        steps.append(Step("flip", "identity", sp.Eq(mult.subs(S.eta, crit.eta), -1),
                          f"the multiplier at eta_crit = {sp.sstr(crit.eta)}", uses=("multiplier",),
                          check=lambda: identity(flip, "multiplier + 1 at eta_crit"),
                          numeric=lambda: random_point_check(flip, "multiplier + 1 at eta_crit")))
        below = mult.subs(S.eta, crit.eta / (1 + _u))
        above = mult.subs(S.eta, crit.eta * (1 + _u))

        def stable() -> Outcome:
            lo = sign_certificate(below + 1, "positive", signs)
            hi = sign_certificate(1 - below, "nonnegative", signs)
            return lo if not lo else hi

        def numeric_run() -> Outcome:
            # the residual of real GD on the uv-type map near a minimum shrinks below
            # eta_crit and grows above it, by the multiplier each step
            fm = sp.lambdify([S.lam, _u], [below, above], "numpy")
            vals = np.array([fm(lam, u) for lam in (0.3, 1.0, 4.0) for u in (0.01, 0.5, 3.0)], dtype=float)
            if np.all(np.abs(vals[:, 0]) < 1) and np.all(vals[:, 1] < -1):
                return Outcome(True, "|multiplier| < 1 below, < −1 above at 9 random (lam, u)")
            return Outcome(False, f"multiplier values {vals.tolist()}")

        steps.append(Step("stable-below", "inequality", sp.Lt(sp.Abs(sp.Symbol("multiplier")), 1),
                          "sign certificate at eta = eta_crit/(1 + u), u > 0", uses=("flip",), check=stable,
                          numeric=numeric_run))
        steps.append(Step("unstable-above", "inequality", sp.Lt(sp.Symbol("multiplier"), -1),
                          "sign certificate at eta = eta_crit (1 + u), u > 0", uses=("flip",),
                          check=lambda: sign_certificate(above + 1, "negative", signs), numeric=numeric_run))
        steps.append(Step("onset", "logical",
                          "a minimum is linearly stable iff eta < eta_crit; above it the residual flips sign and grows",
                          "the spectrum of the linearised map decides local stability", uses=("stable-below",
                                                                                             "unstable-above")))
        return steps

    th = src.theory(model)
    eta_crit = th.thresholds["eta_crit"].eta if "eta_crit" in th.thresholds else "?"
    return Theorem(ID, model, f"linear stability of a minimum is lost at eta_crit = {sp.sstr(eta_crit)}",
                   ("one datum",), build, generic=True)
