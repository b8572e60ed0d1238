"""``ntk-bound-two-layer``: one datum, λ <= max(1, a²) |x|²/(n d) |θ|² for a slope
a != 1 (a = 1 is the linear net, the uv model with x/√d: ``ntk-bound-uv``).

Within an activation region the slopes form a diagonal S with S² = (1 + a)S − aI
(each slope is 1 or a), and λ = (|x|²|Sv|² + |SUx|²)/(n d). The bound is one
identity of the word algebra, with M = max(1, a²):

    (1 − a)² n d (K|θ|² − λ) = |x|²[(M − 1)|(S − aI)v|² + (M − a²)|(S − I)v|²]
        + (M − 1)|(S − aI)Ux|² + (M − a²)|(S − I)Ux|² + (1 − a)² M |x|² |U − U x xᵀ/|x|²|²

(the slope lemma M|r|² − |Sr|² >= 0 and Cauchy–Schwarz |Ux|² <= |U|²|x|², both
as sums of squares), M >= 1 and M >= a² (the maximum). It holds in and across
activation regions; attained for |a| = 1 with units parallel to the datum.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import Identity as I_mat, MatrixSymbol

from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic.models.two_layer import a as A_SLOPE
from catapult_theory.symbolic.models.uv import d as D_IN

from . import _sources as src
from ._kernel import Axiom, Certificate, Definition, Identity, Step, Theorem, strip
from ._ntk import tight_check, window_end_step
from ._tactics import model_table

ID = "ntk-bound-two-layer"


def theorem(model: str | None = None) -> Theorem:
    spec = src.bound("two-layer", "single")
    t = model_table("two-layer")
    der = t.derivation
    A = der.algebra
    n, d, a = S.n, sp.Symbol("d"), sp.Symbol("a")
    U, v, x, Sl = MatrixSymbol("U", n, D_IN), MatrixSymbol("v", n, 1), MatrixSymbol("x", D_IN, 1), \
        MatrixSymbol("S", n, n)
    In = I_mat(n)
    M = sp.Max(1, a**2)
    x2 = sp.Symbol("x2")
    vecs = {"N1": (Sl - A_SLOPE * In) * v, "N2": (Sl - In) * v, "N3": (Sl - A_SLOPE * In) * U * x,
            "N4": (Sl - In) * U * x}
    syms = {}
    for name, vec in vecs.items():
        sym = sp.Symbol(name)
        syms[name] = sym
        t.add(Definition(sym, f"|{sp.sstr(vec)}|²", der.named(A.inner(A.poly(vec), A.poly(vec))),
                         rf"|{sp.latex(vec)}|^{{2}}"))
    W = A.sub(A.poly(U), A.scale(A.poly(U * x * x.T), 1 / S.x2))
    n5 = sp.Symbol("N5")
    syms["N5"] = n5
    t.add(Definition(n5, "|U − U x xᵀ/|x|²|²", der.named(A.inner(W, W)), r"|U - U x x^{T}/|x|^{2}|^{2}"))
    K = strip(spec.K)
    rhs = (x2 * ((M - 1) * syms["N1"] + (M - a**2) * syms["N2"]) + (M - 1) * syms["N3"]
           + (M - a**2) * syms["N4"] + (1 - a) ** 2 * M * x2 * n5)
    ident = sp.Eq((1 - a) ** 2 * n * d * (K * S.w2 - S.lam), rhs)
    ne = (sp.Ne(a, 1),)
    c = 1 / ((1 - a) ** 2 * n * d)
    bound = strip(spec.ntk)
    steps = [Step("sum-of-squares", ident, Identity(),
                  note="S² = (1 + a)S − aI is the rule of the word algebra; the identity is linear in M"),
             Step("max-above-1", sp.Ge(M, 1), Axiom("max-upper", {"args": (1, a**2)})),
             Step("max-above-a2", sp.Ge(M, a**2), Axiom("max-upper", {"args": (1, a**2)}))]
    for name, vec in vecs.items():
        steps.append(Step(f"square-{name}", sp.Ge(syms[name], 0),
                          Axiom("norm-nonneg", {"algebra": A, "vector": vec, "aliases": der.alias})))
    steps.append(Step("square-N5", sp.Ge(n5, 0), Axiom("norm-nonneg", {"algebra": A, "vector": W,
                                                                        "aliases": der.alias})))
    terms = ((c * x2 * (M - 1), sp.Ge(syms["N1"], 0)), (c * x2 * (M - a**2), sp.Ge(syms["N2"], 0)),
             (c * (M - 1), sp.Ge(syms["N3"], 0)), (c * (M - a**2), sp.Ge(syms["N4"], 0)),
             (M * x2 / (n * d), sp.Ge(n5, 0)), (c, ident))
    steps.append(Step("ntk-bound", bound, Certificate(terms, 0), hypotheses=ne,
                      uses=("sum-of-squares", "max-above-1", "max-above-a2", *(f"square-{k}" for k in syms)),
                      numeric=tight_check(spec.ntk, "two-layer")))
    end, defn = window_end_step(spec, bound.rhs)
    t.add(defn)
    steps.append(end)
    return Theorem(ID, tuple(t.hypotheses), ((bound, ne), (end.claim, end.hypotheses)), tuple(steps),
                   tuple(t.definitions), "two-layer",
                   "λ <= max(1, a²) |x|²/(n d) |θ|² for the two-layer net on one datum (slope a != 1), within and "
                   "across activation regions")
