"""``weight-norm-identity``: for a degree-2 homogeneous model, one GD step changes
the squared weight norm by ``Δ|θ|² = η r (η lam r − 4 f)`` (one datum) and by
``−(4η/B) r·f + (η²/B²) rᵀΘr`` (B data). Generic: any registered family.

Euler's identity ``θ·∇f = 2f`` (checked in the word algebra and by a direct
homogeneity test) turns the cross term ``−2η r θ·∇f`` of ``|θ − η r ∇f|²`` into
``−4η r f``; for B data the step is ``θ − (η/B) Σ_a r_a ∇f_a`` and Euler per datum
gives ``θ·Σ_a r_a ∇f_a = 2 r·f``.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.symbolic import Algebra, batch_weight_norm_identity, symbols as S

from . import _numeric as N
from . import _sources as src
from ._core import Outcome, Step, Theorem, identity, numeric_relation
from ._generic import BATCH_STEPS, BUILTIN_STEPS, random_point_check

ID = "weight-norm-identity"


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"

    def build():
        der = src.theory(model).derivation
        inc = src.lemma_increment(der.lam, der.f)
        euler = der.euler_residual()
        homog = der.homogeneity_residual()
        Dw2, fsum2, rTr, B = N.q("Dw2"), N.q("fsum2"), N.q("rTr"), N.q("B")
        steps = [
            Step("euler", "identity", sp.Eq(sp.Symbol("theta_dot_grad_f"), 2 * S.f),
                 "θ·∇f − 2f computed in the word algebra, sizes symbolic",
                 check=lambda: identity(euler, "Euler residual"),
                 numeric=lambda: random_point_check(euler, "Euler residual")),
            Step("homogeneity", "identity", sp.Eq(sp.Symbol("f(c theta)"), sp.Symbol("c") ** 2 * S.f),
                 "f(cθ) − c² f(θ) in the word algebra",
                 check=lambda: identity(homog, "homogeneity residual"),
                 numeric=lambda: random_point_check(homog, "homogeneity residual")),
        ]
        one_rel = sp.Eq(Dw2, src.lemma_increment())
        one_diff = der.named(der.weight_norm_change() - inc)
        if model in BUILTIN_STEPS:
            pts = N.gd_steps(model)
            one_num = lambda: numeric_relation(one_rel, pts, what="real GD steps")  # noqa: E731
        else:
            one_num = lambda: random_point_check(one_diff, "one-datum residual")  # noqa: E731
        steps.append(Step("one-datum", "identity", one_rel,
                          "|θ − η r ∇f|² − |θ|² expanded in the word algebra against the lemma",
                          uses=("euler",), check=lambda: identity(one_diff, "Δ|θ|² against the lemma"),
                          numeric=one_num))
        # many data: the step algebra for any direction g, then Euler per datum
        c = sp.Symbol("c")
        p_ = sp.Symbol("p")
        th, g = MatrixSymbol("theta", p_, 1), MatrixSymbol("g", p_, 1)
        A = Algebra()
        tg = A.scalarize(th.T * g)
        gg = A.scalarize(g.T * g)
        moved = A.sub(A.poly(th), A.scale(A.poly(g), c))
        step_diff = A.inner(moved, moved) - A.inner(A.poly(th), A.poly(th)) - (-2 * c * tg + c**2 * gg)
        steps.append(Step("step-algebra", "identity",
                          sp.Eq(sp.Symbol("|theta - c g|^2 - |theta|^2"), -2 * c * sp.Symbol("theta.g")
                                + c**2 * sp.Symbol("|g|^2")),
                          "word algebra with generic blocks θ, g of symbolic size p",
                          check=lambda: identity(step_diff, "step algebra"),
                          numeric=lambda: random_point_check(step_diff, "step algebra")))
        const = src.lemma_constant()
        batch_rel = sp.Eq(Dw2, -const * S.eta / B * fsum2 + S.eta**2 / B**2 * rTr)
        # θ·g with g = Σ_a r_a ∇f_a is Σ_a r_a θ·∇f_a = 2 r·f by the Euler step
        euler_factor = sp.Integer(2) if euler == 0 else None

        # the step algebra with c = η/B and θ·g = (Euler factor) r·f
        derived = -2 * (S.eta / B) * (euler_factor or 2) * fsum2 + (S.eta / B) ** 2 * rTr

        def batch_check() -> Outcome:
            if euler_factor is None:
                return Outcome(False, "Euler's identity fails for this model: no many-data lemma")
            return identity(derived - batch_rel.rhs, "many-data lemma")

        if model in BATCH_STEPS:
            bpts = N.gd_steps(BATCH_STEPS[model])
            batch_num = lambda: numeric_relation(batch_rel, bpts, what="real many-data GD steps")  # noqa: E731
        else:
            batch_num = lambda: random_point_check(derived - batch_rel.rhs, "many-data residual")  # noqa: E731
        steps.append(Step("many-data", "identity", batch_rel,
                          "the step algebra with c = η/B, g = Σ_a r_a ∇f_a, and θ·∇f_a = 2 f_a (Euler per datum)",
                          uses=("step-algebra", "euler"), check=batch_check, numeric=batch_num))
        if model == "uv":
            n, d, Bs = S.n, sp.Symbol("d"), sp.Symbol("B")
            U, v, X = MatrixSymbol("U", n, d), MatrixSymbol("v", n, 1), MatrixSymbol("X", d, Bs)
            _, residual = batch_weight_norm_identity((U, v), v.T * U * X / sp.sqrt(n), Bs, constant=const)
            steps.append(Step("many-data-uv", "identity", batch_rel,
                              "the whole batch step of the uv model in the word algebra (n, d, B symbolic)",
                              uses=("many-data",),
                              check=lambda: identity(residual, "uv batch identity against the lemma"),
                              numeric=lambda: random_point_check(residual, "uv batch residual")))
        return steps

    return Theorem(ID, model, "degree-2 homogeneous: |θ'|² − |θ|² = η r (η lam r − 4 f) (one datum), "
                   "−(4η/B) r·f + (η²/B²) rᵀΘr (B data)", ("f(cθ) = c² f(θ)",), build, generic=True)
