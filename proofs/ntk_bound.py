"""``ntk-bound``: for any degree-2 homogeneous family whose gradient map obeys an
operator relation ``Ψ³θ = KΨθ`` (derived by the symbolic layer), ``lam <= K |θ|²``
on one datum, and the catapult window ``2 < η lam_0 < lam_0 · eta_max(lam = K w2_0)``
the symbolic layer reports. Generic: the same steps for a family registered at
run time.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.symbolic import Premise, gradient_operator_powers, symbols as S, window_from

from . import _numeric as N
from . import _sources as src
from ._bounds import _lemma_form, _operator_check
from ._core import Outcome, Step, Theorem, identity, numeric_relation
from ._generic import random_point_check

ID = "ntk-bound"


def _random_model_points(der, K: sp.Expr, count: int = 8) -> list[dict] | None:
    """λ and |θ|² of the model at random real parameters and data, when the model
    has no rewrite rules (a rule such as ψψ = κI constrains the data)."""
    if der.model.rules:
        return None
    rng = np.random.default_rng(17)
    mats = list(der.model.params) + sorted((a for a in der.model.output.free_symbols
                                            if isinstance(a, MatrixSymbol) and a not in der.model.params),
                                           key=str)
    pts = []
    for _ in range(count):
        dims: dict = {}
        values, scalars = {}, {}
        for msym in mats:
            shape = []
            for dim in msym.shape:
                dim = sp.sympify(dim)
                if dim.is_Integer:
                    shape.append(int(dim))
                else:
                    if dim not in dims:
                        dims[dim] = int(rng.integers(1, 6))
                    shape.append(dims[dim])
            arr = rng.standard_normal(shape)
            if msym in der.model.symmetric:
                arr = (arr + arr.T) / 2
            values[msym.name] = arr
        for dim, v in dims.items():
            for s in dim.free_symbols:
                scalars[s] = float(v)
        for s in der.model.scalars:
            scalars.setdefault(s, float(rng.uniform(0.5, 2)))
        for atom_expr, alias in der.alias.items():
            scalars[alias] = der.algebra.evaluate(atom_expr, values, scalars)
        lam = der.algebra.evaluate(der.named(der.lam).xreplace({v: k for k, v in der.alias.items()}), values, scalars)
        w2 = der.algebra.evaluate(der.w2, values, scalars)
        pt = {S.lam: lam, S.w2: w2, **scalars}
        # data invariants without an alias (xᵀx of a model that names none) stay atoms of K
        for atom in der.algebra.atoms_of(K):
            pt[atom] = der.algebra.evaluate(atom, values, scalars)
        pts.append(pt)
    return pts


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"

    def build():
        th = src.theory(model)
        der = th.derivation
        if th.K is None:
            return [Step("operator", "identity", sp.Eq(sp.Symbol("Psi^3 theta"), sp.Symbol("K Psi theta")),
                         "no operator relation Ψ³ = KΨ was found for this family",
                         check=lambda: Outcome(False, "the symbolic layer found no operator relation "
                                                      "(the family is not homogeneous or Ψ³ is not a multiple of Ψ)"))]
        K = th.K
        op = Premise("operator", f"Ψ³ = ({sp.sstr(K)}) Ψ", sp.Eq(sp.Symbol("K_op"), K), "operator", lambda: der)
        g1, _, g3 = gradient_operator_powers(der, 3)
        A = der.algebra
        coeffs = sum((der.named(c) ** 2 for blk in der.model.params
                      for c in A.sub(g3[blk], A.scale(g1[blk], K)).terms.values()), sp.S.Zero)
        euler = der.euler_residual()
        steps = [Step("homogeneous", "identity", sp.Eq(sp.Symbol("theta_dot_grad_f"), 2 * S.f),
                      "Euler residual in the word algebra: the gradient map θ -> ∇f = Ψθ is linear",
                      check=lambda: identity(euler, "Euler residual"),
                      numeric=lambda: random_point_check(euler, "Euler residual")),
                 Step("operator", "identity", op.relation, "Ψ³θ − KΨθ block by block in the word algebra",
                      uses=("homogeneous",), check=_operator_check(op),
                      numeric=lambda: random_point_check(coeffs, "operator residual"))]
        spectral = Premise("spectral", "spec(Ψ²) ⊆ {0, K}; Rayleigh", sp.Le(S.lam, K * S.w2), "lemma",
                           lemma="spectral-rayleigh")

        class _Spec:  # the form check needs the operator premise beside the lemma
            premises = (op, spectral)

        pts = ([dict(i.values) for i in N.instances("uv", 8)] if model == "uv"
               else _random_model_points(der, K))
        steps.append(Step("spectral-rayleigh", "inequality", spectral.relation,
                          "Ψ symmetric with Ψ(Ψ² − K) = 0, so spec(Ψ²) ⊆ {0, K}; lam = θᵀΨ²θ <= K|θ|² (Rayleigh)",
                          uses=("operator",), check=_lemma_form(spectral, _Spec()),  # type: ignore[arg-type]
                          numeric=(lambda: numeric_relation(spectral.relation, pts, what="real parameters"))
                          if pts else None))
        window = th.window
        _, k_max = window_from(src.lemma_increment(), K * S.w2)
        steps.append(Step("window", "identity", sp.Eq(sp.Symbol("k_max"), window if window is not None else 0),
                          "the reported window equals lam_0 eta* with eta* the lemma's root at lam = K w2_0",
                          uses=("spectral-rayleigh", "theorem:weight-norm-identity"),
                          check=lambda: identity(window - k_max, "window") if window is not None
                          else Outcome(False, "the symbolic layer reports no window"),
                          numeric=lambda: random_point_check(window - k_max, "window") if window is not None
                          else Outcome(False, "no window")))
        return steps

    return Theorem(ID, model, "Ψ³ = KΨ => lam <= K w2 and the catapult window 2 < k < lam_0 eta_max(lam = K w2_0)",
                   ("degree-2 homogeneous", "one datum"), build, generic=True)
