"""``weight-norm-identity``: for a degree-2 homogeneous model, one GD step changes
the squared weight norm by ``Δ|θ|² = η r (η λ r − 4 f)`` (one datum). When the
output is linear in its data (uv, pure quadratic), the same identity read on
the data ``Σ_a r_a x_a`` is the many-data lemma
``Δ|θ|² = −(4η/B) r·f + (η²/B²) rᵀΘr``. Generic: any registered family.

Steps: Euler's identity ``θ·∇f = 2f`` and homogeneity ``f(cθ) = c² f(θ)``
(identities of the word algebra, which is why the constant is 4), the
one-datum identity, and for data-linear models the many-data identity (the
one-datum one with ``η -> η/B``, ``r -> 1`` and the data replaced by their
``r``-weighted sum, which is what a full-batch step does to a model linear in
its data).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.symbolic import batch_weight_norm_identity, symbols as S

from . import _numeric as N
from . import _sources as src
from ._crosscheck import numeric_relation
from ._kernel import Definition, Identity, Step, Theorem
from ._tactics import DW2, model_table

ID = "weight-norm-identity"

THETA_GRAD_F, F_SCALED, C_SCALE = sp.Symbol("theta_dot_grad_f"), sp.Symbol("f_scaled"), sp.Symbol("c")
DW2_B, R_DOT_F, R_THETA_R, B = sp.symbols("Dw2_B r_dot_f rTr B")


def data_linear(der) -> bool:
    """The output is homogeneous of degree 1 in all its data matrices together and
    no rewrite rule constrains the data: then a full-batch step is a one-datum
    step on the ``r``-weighted data."""
    if der.model.rules:
        return False
    data = [a for a in der.model.output.free_symbols if isinstance(a, MatrixSymbol) and a not in der.model.params]
    if not data:
        return False
    c = sp.Symbol("c_data", positive=True)
    scaled = sp.expand(der.algebra.scale_symbols(der.f, {m: c for m in data}))
    return sp.expand(scaled - c * der.f) == 0


def block_degree(der, block) -> int | None:
    """The degree of ``f`` in one parameter block (the others fixed), if homogeneous."""
    c = sp.Symbol("c_block", positive=True)
    scaled = sp.expand(der.algebra.scale_symbols(der.f, {block: c}))
    terms = sp.Poly(scaled, c).terms()
    if len(terms) == 1 and sp.expand(terms[0][1] - der.f) == 0:
        return int(terms[0][0][0])
    return None


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"
    t = model_table(model)
    der = t.derivation
    A = der.algebra
    p = der.homogeneity_degree()
    if p is None:
        raise ValueError(f"the output of {model!r} is not homogeneous in its parameters: no weight-norm identity")
    const = src.lemma_constant_for(p)
    dot = der.named(sp.expand(sum((A.inner(A.poly(b), g) for b, g in der.grads.items()), sp.S.Zero)))
    scaled = der.named(sp.expand(A.scale_symbols(der.f, {b: C_SCALE for b in der.model.params})))
    t.add(Definition(THETA_GRAD_F, "θ·∇f, summed over the parameter blocks", dot, r"\theta \cdot \nabla f"))
    t.add(Definition(F_SCALED, "f at the scaled parameters cθ", scaled, r"f_{c\theta}"))
    lemma = src.lemma_increment(degree=p)
    one_rel = sp.Eq(DW2, lemma)
    pts = N.gd_steps(model) if model in N.STEP_SAMPLERS else None
    steps = [
        Step("euler", sp.Eq(THETA_GRAD_F, p * S.f), Identity(),
             note=f"Euler's identity for degree {p}: the cross term −2ηr θ·∇f of |θ − ηr∇f|² is −{2 * p}ηr f"),
        Step("homogeneity", sp.Eq(F_SCALED, C_SCALE**p * S.f), Identity()),
        Step("one-datum", one_rel, Identity(),
             numeric=(lambda: numeric_relation(one_rel, pts, what="real GD steps")) if pts else None),
    ]
    conclusion = [sp.Eq(THETA_GRAD_F, p * S.f), one_rel]
    # per block: f has degree d_b in block b, so Δ|θ_b|² = η r (η r λ_b − 2 d_b f)
    degrees = {b: block_degree(der, b) for b in der.model.params}
    if len(der.model.params) > 1 and all(d is not None for d in degrees.values()):
        for b, d_b in degrees.items():
            name = b.name
            g = der.grads[b]
            lam_b, w_b, dw_b = sp.symbols(f"lam_{name} w2_{name} Dw2_{name}")
            w_val = A.inner(A.poly(b), A.poly(b))
            t.add(Definition(lam_b, f"|∇_{name} f|², the block's part of λ", der.named(A.inner(g, g)),
                             rf"\lambda_{{{sp.latex(b)}}}"))
            t.add(Definition(w_b, f"|{name}|²", der.named(w_val), rf"|{sp.latex(b)}|^{{2}}"))
            t.add(Definition(dw_b, f"the change of |{name}|² in one GD step",
                             der.named(sp.expand(der.next(w_val) - w_val)), rf"\Delta|{sp.latex(b)}|^{{2}}"))
            claim = sp.Eq(dw_b, S.eta * S.r * (S.eta * S.r * lam_b - src.lemma_constant_for(int(d_b or 0)) * S.f))
            steps.append(Step(f"block-{name}", claim, Identity(),
                              note=f"f has degree {d_b} in {name} alone (θ_b·∇_b f = {d_b} f)"))
            conclusion.append(claim)
    if data_linear(der):
        v = t.value
        t.add(Definition(R_DOT_F, "r·f = Σ_a r_a f(x_a), which is f at the data Σ_a r_a x_a (f is linear in "
                                  "its data)", v(S.f), r"r \cdot f"))
        t.add(Definition(R_THETA_R, "rᵀΘr = |Σ_a r_a ∇f(x_a)|², which is λ at the data Σ_a r_a x_a",
                         v(S.lam), r"r^{T} \Theta r"))
        dw2 = sp.expand((v(W2) - v(S.w2)))
        t.add(Definition(DW2_B, "|θ'|² − |θ|² after the full-batch step θ − (η/B) Σ_a r_a ∇f(x_a), which is the "
                                "one-datum step with η/B, r = 1 at the data Σ_a r_a x_a",
                         dw2.xreplace({S.eta: S.eta / B, S.r: 1}), r"\Delta_{B}|\theta|^{2}"))
        t.add(Definition(B, "the number of data", None, "B"))
        t.hypotheses.append(sp.Gt(B, 0))
        batch_rel = sp.Eq(DW2_B, -const * S.eta / B * R_DOT_F + S.eta**2 / B**2 * R_THETA_R)
        bsampler = N.BATCH_SAMPLERS.get(model)
        bpts = N.gd_steps(bsampler) if bsampler else None
        bnum = sp.Eq(sp.Symbol("Dw2"), -const * S.eta / sp.Symbol("B") * sp.Symbol("fsum2")
                     + S.eta**2 / sp.Symbol("B")**2 * sp.Symbol("rTr"))
        steps.append(Step("many-data", batch_rel, Identity(),
                          note="the model is linear in its data and no rule constrains them",
                          numeric=(lambda: numeric_relation(bnum, bpts, what="real many-data GD steps"))
                          if bpts else None))
        conclusion.append(batch_rel)
        if model == "uv":
            n, d, Bs = S.n, sp.Symbol("d"), B
            U, vv, X = MatrixSymbol("U", n, d), MatrixSymbol("v", n, 1), MatrixSymbol("X", d, Bs)
            dw2b, _ = batch_weight_norm_identity((U, vv), vv.T * U * X / sp.sqrt(n), Bs, constant=const)
            from catapult_theory.symbolic import Algebra

            BA = Algebra()
            Rsym = MatrixSymbol("r", 1, Bs)
            rf = BA.scalarize(Rsym * (vv.T * U * X / sp.sqrt(n)).T)
            grads = {p: BA.grad(rf, p) for p in (U, vv)}
            rtr = sp.expand(sum((BA.inner(g, g) for g in grads.values()), sp.S.Zero))
            syms = sp.symbols("Dw2_X rf_X rTr_X")
            for sym, val, meaning, tex in ((syms[0], dw2b, "Δ|θ|² of the full-batch step, data as columns of X",
                                            r"\Delta_{X}|\theta|^{2}"),
                                           (syms[1], rf, "r·f with the outputs vᵀUX/√n as a row", r"F_{X}"),
                                           (syms[2], rtr, "rᵀΘr = |∇_θ(r·f)|² with the data as columns of X",
                                            r"G_{X}")):
                t.add(Definition(sym, meaning, val, tex))
            for a in sorted(set().union(*(BA.atoms_of(e) for e in (dw2b, rf, rtr))), key=str):
                t.add(Definition(a, f"the scalar {a.name.strip('[]')} of the parameters and the batch", None,
                                 BA.atom_latex(a)))
            steps.append(Step("many-data-uv", sp.Eq(syms[0], -const * S.eta / B * syms[1]
                                                    + S.eta**2 / B**2 * syms[2]), Identity(),
                              note="the whole batch step of the uv model derived with the data as the columns of "
                                   "X (n, d, B symbolic): the same lemma, independently of the data-linear reading"))
    return Theorem(ID, tuple(t.hypotheses), tuple(conclusion), tuple(steps), tuple(t.definitions), model,
                   f"degree-{p} homogeneous: |θ'|² − |θ|² = η r (η λ r − {2 * p} f) for one datum (and per block, "
                   f"with twice the block's degree); for a model linear in its data, −({2 * p}η/B) r·f + "
                   "(η²/B²) rᵀΘr for B data", generic=True)


W2 = sp.Symbol("w2_next")
