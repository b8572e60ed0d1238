"""``closure-converse``: the (f, λ, |θ|²) map of the pure quadratic model closes iff
ψ has at most three distinct eigenvalues; with ψ² = κI it is the uv map.

(a) If ψ³ = αψ² + βψ + γI (ψ is symmetric, so this is "at most three distinct
eigenvalues"), the word algebra with that rule writes f', λ', |θ'|² after one
GD step as polynomials in f, λ, |θ|², η, r, ζ, α, β, γ: the map closes. With
ψ² = κI it is the uv map with x2/n -> κζ².

(b) If ψ has four distinct eigenvalues μ_1..μ_4, take the spectral weights
c_j = (e_j·θ)² and change them by ε δ_j with δ_j = 1/Π_{l != j}(μ_j − μ_l) (the
divided-difference weights): Σ δ_j μ_j^k is 0 for k = 0, 1, 2 and 1 for k = 3.
So f, λ and |θ|² do not change while f' changes by η² r² ζ³ ε/2, which is not
0 when η r ε != 0: no map of (f, λ, |θ|²) alone gives f'. (Both weight
vectors are valid for small ε when every c_j > 0.)
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import Identity as I_mat

from catapult_theory.symbolic import Derivation, SymbolicModel, symbols as S
from catapult_theory.symbolic.models.quadratic import m, psi, pure_quadratic_scalar_model, theta, zeta

from . import _sources as src
from ._kernel import Axiom, Certificate, Definition, Identity, Step, Theorem
from ._runner import Outcome
from ._tactics import F_NEXT, LAM_NEXT, W2_NEXT, table_from_derivation

ID = "closure-converse"

ALPHA, BETA, GAMMA, KAPPA = sp.symbols("alpha beta gamma kappa")
EPS = sp.Symbol("epsilon")
MU = sp.symbols("mu1:5")
DELTA = sp.symbols("delta1:5")
C = sp.symbols("c1:5")


def _cubic_model() -> SymbolicModel:
    return SymbolicModel("pure-quadratic[psi^3 = alpha psi^2 + beta psi + gamma I]", (theta,),
                         zeta / 2 * theta.T * psi * theta, symmetric=(psi,),
                         rules=((psi * psi * psi, ALPHA * psi * psi + BETA * psi + GAMMA * I_mat(m)),),
                         scalars=(zeta, ALPHA, BETA, GAMMA))


def _pair_numeric(expected: sp.Expr):
    """Real GD on a ψ with eigenvalues (2, −2, 1, −1): weights c and c + εδ give equal
    (f, λ, |θ|²) and f' differing by η² r² ζ³ ε/2."""

    def check() -> Outcome:
        eig, z, eta, y, eps = np.array([2.0, -2.0, 1.0, -1.0]), 0.7, 0.3, -0.4, 1e-3
        delta = np.array([1 / np.prod([a - b for b in eig if b != a]) for a in eig])
        c = np.array([1.5, 0.5, 1.0, 1.2])
        out = []
        for w in (c, c + eps * delta):
            th = np.sqrt(w)
            f = z / 2 * th @ (eig * th)
            th1 = th - eta * (f - y) * z * eig * th
            out.append((f, z**2 * w @ eig**2, w.sum(), z / 2 * th1 @ (eig * th1), f - y))
        (a, b) = out
        if max(abs(a[i] - b[i]) for i in range(3)) > 1e-12:
            return Outcome(False, "the two weight vectors do not share (f, λ, |θ|²)")
        want = float(expected.subs({S.eta: eta, S.r: a[4], zeta: z, EPS: eps}))
        got = b[3] - a[3]
        if abs(got - want) > 1e-9 * abs(want):
            return Outcome(False, f"real GD: Δf' = {got:.12g}, derived {want:.12g}")
        return Outcome(True, f"real GD on ψ = diag(2, −2, 1, −1): equal (f, λ, |θ|²), Δf' = {got:.6g} as derived")

    return check


def theorem(model: str | None = None) -> Theorem:
    der3 = Derivation(_cubic_model())
    um3 = der3.update_map()
    if not um3.closed:
        raise ValueError(f"the map with ψ³ = αψ² + βψ + γI does not close: {um3.leftover}")
    t = table_from_derivation(der3, "pure-quadratic")
    nxt = {S.f: F_NEXT, S.lam: LAM_NEXT, S.w2: W2_NEXT}
    steps, conclusion = [], []
    for s in um3.state:
        claim = sp.Eq(nxt[s], um3.update[s])
        steps.append(Step(f"closes-{s.name}", claim, Identity(),
                          note="in the word algebra with the rule ψ³ = αψ² + βψ + γI"))
        conclusion.append(claim)
    # ψ² = κI: the uv map with x2/n -> κζ²
    scal = Derivation(pure_quadratic_scalar_model()).update_map()
    uv = src.theory("uv").update.update
    for s in scal.state:
        mapped = uv[s].subs(S.x2 / S.n, KAPPA * zeta**2).subs(S.x2, KAPPA * zeta**2 * S.n)
        claim = sp.Eq(scal.update[s], mapped, evaluate=False)
        steps.append(Step(f"uv-form-{s.name}", claim, Identity(),
                          note="the map derived with ψψ = κI against the uv map with x2/n -> κζ²"))
        conclusion.append(claim)
    # four distinct eigenvalues: the divided-difference weights
    distinct = tuple(sp.Ne(MU[i], MU[j]) for i in range(4) for j in range(i + 1, 4))
    for j in range(4):
        t.add(Definition(MU[j], f"an eigenvalue of ψ (four distinct ones)", None, rf"\mu_{{{j + 1}}}"))
        t.add(Definition(DELTA[j], "the divided-difference weight 1/Π_{l != j}(μ_j − μ_l)",
                         1 / sp.Mul(*[MU[j] - MU[l] for l in range(4) if l != j]), rf"\delta_{{{j + 1}}}",
                         where=distinct))
    moments = [sp.Add(*[MU[j] ** k * DELTA[j] for j in range(4)]) for k in range(4)]
    for k in range(4):
        steps.append(Step(f"moment-{k}", sp.Eq(moments[k], 1 if k == 3 else 0), Identity(), hypotheses=distinct))
    h = S.eta * S.r * zeta
    dfs = {"Df": (zeta / 2 * sp.Add(*[MU[j] * EPS * DELTA[j] for j in range(4)]), "the change of f = (ζ/2) Σ_j μ_j c_j"),
           "Dlam": (zeta**2 * sp.Add(*[MU[j] ** 2 * EPS * DELTA[j] for j in range(4)]),
                    "the change of λ = ζ² Σ_j μ_j² c_j"),
           "Dw2": (sp.Add(*[EPS * DELTA[j] for j in range(4)]), "the change of |θ|² = Σ_j c_j"),
           "Dfnext": (zeta / 2 * sp.Add(*[MU[j] * (1 - h * MU[j]) ** 2 * EPS * DELTA[j] for j in range(4)]),
                      "the change of f' = (ζ/2) Σ_j μ_j (1 − η r ζ μ_j)² c_j (θ' = (I − η r ζ ψ)θ multiplies the "
                      "component along e_j by 1 − η r ζ μ_j)")}
    syms = {}
    for name, (value, meaning) in dfs.items():
        sym = sp.Symbol(f"{name}_eps")
        syms[name] = sym
        t.add(Definition(sym, f"{meaning}, when the weights c_j change by ε δ_j", value, None, where=distinct))
    t.add(Definition(EPS, "the size of the change of the weights", None, r"\varepsilon"))
    for name in ("Df", "Dlam", "Dw2"):
        claim = sp.Eq(syms[name], 0)
        steps.append(Step(f"same-{name}", claim, Identity(), hypotheses=distinct))
        conclusion.append((claim, distinct))
    gap = S.eta**2 * S.r**2 * zeta**3 * EPS / 2
    steps.append(Step("f-next-changes", sp.Eq(syms["Dfnext"], gap), Identity(), hypotheses=distinct,
                      numeric=_pair_numeric(gap)))
    moving = distinct + (sp.Ne(S.eta, 0), sp.Ne(S.r, 0), sp.Gt(EPS, 0))
    steps.append(Step("f-next-differs", sp.Gt(syms["Dfnext"], 0),
                      Certificate(((1, sp.Eq(syms["Dfnext"], gap)),), gap), hypotheses=moving,
                      uses=("f-next-changes",)))
    conclusion.append((sp.Gt(syms["Dfnext"], 0), moving))
    _ = Axiom
    return Theorem(ID, tuple(t.hypotheses), tuple(conclusion), tuple(steps), tuple(t.definitions), "pure-quadratic",
                   "the (f, λ, |θ|²) map of the pure quadratic model closes iff ψ has at most three distinct "
                   "eigenvalues: with ψ³ = αψ² + βψ + γI it is the stated polynomial map (the uv map when ψ² = κI); "
                   "with four distinct eigenvalues, states with equal (f, λ, |θ|²) have different f' when η r != 0")
