"""``closure-converse``: the (f, lam, |θ|²) map of the pure quadratic model closes
iff ψ² ∝ I.

If ψ² = κI the derived map is closed and is the uv map (x2/n -> κζ²). If ψ has
two eigenvalue pairs ±μ1, ±μ2 with μ1² ≠ μ2², moving the spectral weights along
the null direction of ∂(f, lam, w2)/∂c keeps (f, lam, w2) and changes m3 at the
rate 2μ2ζ³(μ1² − μ2²)·… ≠ 0; f' depends on m3 with coefficient η²r²/2 ≠ 0, so
two states with the same (f, lam, w2) have different f': no closed map exists.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.symbolic import Derivation, closure_obstruction, symbols as S
from catapult_theory.symbolic.models.quadratic import kappa, m3, pure_quadratic_scalar_model, zeta

from . import _sources as src
from ._bounds import SIGNS
from ._core import Outcome, Step, Theorem, identity, sign_certificate
from ._generic import random_point_check

ID = "closure-converse"


_EIG, _Z = np.array([2.0, -2.0, 1.0, -1.0]), 0.7


def _pair(eta: float = 0.3, y: float = -0.4):
    """Two spectral weight vectors with equal (f, lam, w2) and different m3: their
    (f, m3) and f' after one real GD step of θ = √c in the eigenbasis."""
    M = np.array([_Z / 2 * _EIG, _Z**2 * _EIG**2, np.ones(4)])
    null = np.linalg.svd(M)[2][-1]
    c1 = np.array([1.5, 0.5, 1.0, 1.2])
    out = []
    for c in (c1, c1 + 0.1 * null):
        th = np.sqrt(c)
        f = _Z / 2 * th @ (_EIG * th)
        th1 = th - eta * (f - y) * _Z * _EIG * th
        out.append((M @ c, _Z**3 * c @ _EIG**3, _Z / 2 * th1 @ (_EIG * th1), f))
    return out, eta, y


def _slope_numeric(dfdm3: sp.Expr) -> Outcome:
    (a, b), eta, y = _pair()
    slope = (b[2] - a[2]) / (b[1] - a[1])
    want = float(dfdm3.subs({S.eta: eta, S.f: a[3], S.y: y}))
    if abs(slope - want) > 1e-9 * max(abs(want), 1e-12):
        return Outcome(False, f"real GD: Δf'/Δm3 = {slope:.10g}, derived ∂f'/∂m3 = {want:.10g}")
    return Outcome(True, f"real GD: Δf'/Δm3 = {slope:.10g} equals the derived ∂f'/∂m3")


def theorem(model: str | None = None) -> Theorem:
    def build():
        um = Derivation(pure_quadratic_scalar_model()).update_map()
        uv = src.theory("uv").update.contract()
        diffs = []
        for s, e in um.contract().items():
            mapped = uv[s].subs(S.x2 / S.n, kappa * zeta**2).subs(S.x2, kappa * zeta**2 * S.n)
            diffs.append(sp.expand(e - mapped))
        steps = [Step("closes-if", "identity", sp.Eq(sp.Symbol("map[psi^2 = kappa I]"), sp.Symbol("uv map")),
                      "the map derived with the rule ψψ = κI is closed and equals the uv map with x2/n -> κζ²",
                      check=lambda: identity(sum(d**2 for d in diffs), "scalar-ψ² map against the uv map")
                      if um.closed else Outcome(False, f"the ψ² = κI map does not close: {um.leftover}"),
                      numeric=lambda: random_point_check(sum(d**2 for d in diffs), "map difference"))]
        f_next = src.theory("pure-quadratic").update.contract()[S.f]
        dfdm3 = sp.diff(f_next, m3)
        r_ = sp.Symbol("r_nonzero", positive=True)
        steps.append(Step("f-needs-m3", "inequality", sp.Gt(sp.Abs(sp.Derivative(sp.Symbol("f_next"), m3)), 0),
                          f"∂f'/∂m3 = {sp.sstr(sp.factor(dfdm3))} is non-zero off a minimum (|f − y| = r > 0)",
                          check=lambda: sign_certificate(sp.Abs(dfdm3.subs(S.f, S.y + r_)), "positive",
                                                         {**SIGNS, S.eta: "positive"}),
                          numeric=lambda: _slope_numeric(dfdm3)))
        obs = closure_obstruction()
        mu1, mu2 = sorted(obs.free_symbols - {zeta}, key=str)
        u = sp.Symbol("u_gap", positive=True)
        steps.append(Step("equal-moduli", "identity", sp.Eq(obs.subs(mu2, mu1), 0),
                          "the derivative of m3 along the null direction vanishes when μ1 = μ2",
                          check=lambda: identity(obs.subs(mu2, mu1), "obstruction at μ1 = μ2"),
                          numeric=lambda: random_point_check(obs.subs(mu2, mu1), "obstruction at μ1 = μ2")))

        def numeric_pair() -> Outcome:
            (a, b), _, _ = _pair()
            if not np.allclose(a[0], b[0], atol=1e-12) or abs(a[1] - b[1]) < 1e-6:
                return Outcome(False, "the two weight vectors do not share (f, lam, w2) with different m3")
            if abs(a[2] - b[2]) < 1e-9:
                return Outcome(False, "equal f' from states with different m3")
            return Outcome(True, f"equal (f, lam, w2), m3 {a[1]:.6g} vs {b[1]:.6g}, f' = {a[2]:.6g} vs {b[2]:.6g} "
                                 "after one real GD step")

        steps.append(Step("unequal-moduli", "inequality", sp.Ne(obs, 0),
                          "with μ1 = μ2 + u (u > 0) the obstruction has a fixed sign",
                          check=lambda: sign_certificate(obs.subs(mu1, mu2 + u), "positive",
                                                         {**SIGNS, mu2: "positive"}) or
                          sign_certificate(obs.subs(mu1, mu2 + u), "negative", {**SIGNS, mu2: "positive"}),
                          numeric=numeric_pair))
        steps.append(Step("no-closed-map", "logical",
                          "if ψ² is not a multiple of I, two states with the same (f, lam, w2) have different f': "
                          "no map of (f, lam, w2) alone exists; with ψ² = κI it does",
                          "contradiction from f-needs-m3 and unequal-moduli; closes-if for the converse",
                          uses=("closes-if", "f-needs-m3", "equal-moduli", "unequal-moduli")))
        return steps

    return Theorem(ID, "pure-quadratic", "the (f, lam, w2) map of the pure quadratic model closes iff psi^2 = kappa I",
                   ("one datum",), build)
