"""Proof steps for a bound of the catalogue: its premises, their composition, tightness.

A bound's ``premises`` are checked one by one, by kind:

* ``derived``: each quantity is given its meaning in the premise's word algebra
  and the two sides must agree identically (width and sizes symbolic);
* ``operator``: ``Ψ³θ = KΨθ`` block by block for the gradient map;
* ``lemma``: a named standard lemma whose form is checked (a Rayleigh bound uses
  a ``λ_max`` constant with coefficient 1, a spectral bound the operator
  relation's constant), the lemma itself being cited;
* ``cases``: every case value is at most the right side;
* ``definition``: bookkeeping (a logical step).

Each is also evaluated on real finite models. Then :func:`chain_certificate`
composes them into the bound's NTK inequality, and a tightness step shows that
the constant is exactly what the premises give and that real models attain it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from catapult_theory.symbolic import QUANTITIES, BoundSpec, Derivation, Premise
from catapult_theory.symbolic import gradient_operator_powers
from catapult_theory.symbolic import symbols as S

from . import _numeric as N
from ._core import Outcome, Step, chain_certificate, identity, numeric_relation

__all__ = ["SIGNS", "STEP_PREMISES", "premise_steps", "chain_step", "tight_step", "meaning", "bound_steps", "eval_poly"]

#: the sign of every quantity and model scalar, as the certificates use them
SIGNS: dict[sp.Symbol, str] = {s: sign for s, (_, sign) in QUANTITIES.items()}


def _model_signs() -> dict[sp.Symbol, str]:
    from catapult_theory.symbolic.models.quadratic import phi2, zeta
    from catapult_theory.symbolic.models.uv import d

    return {zeta: "positive", phi2: "positive", d: "positive"}


SIGNS.update(_model_signs())


def meaning(der: Derivation, expr: sp.Expr, meanings: dict, depth: int = 0) -> sp.Expr:
    """``expr`` (in quantities) written in the atoms of ``der``."""
    if depth > 8:
        raise ValueError("meanings nest too deeply (a cycle?)")
    contract = {S.f: der.f, S.lam: der.lam, S.w2: der.w2}
    reps = {}
    for s in sp.sympify(expr).free_symbols:
        if s in meanings:
            m = meanings[s]
            if callable(m):
                reps[s] = m(der)
            elif isinstance(m, MatrixExpr):
                reps[s] = der.algebra.scalarize(m)
            else:
                reps[s] = meaning(der, m, meanings, depth + 1)
        elif s in contract:
            reps[s] = contract[s]
    return sp.sympify(expr).xreplace(reps)


def eval_poly(der: Derivation, poly, matrices: dict, scalars: dict) -> np.ndarray:
    """Numeric value of a matrix polynomial of ``der``'s word algebra."""
    A = der.algebra
    total = None
    for word, coeff in poly.terms.items():
        num = {k: sp.Float(float(v), 30) for k, v in scalars.items()}
        c = A.evaluate(coeff, matrices, scalars) if A.atoms_of(coeff) else float(sp.sympify(coeff).xreplace(num))
        prod = None
        if not word:  # the identity of the block's shape
            prod = np.eye(int(sp.sympify(poly.shape[0]).xreplace(num)))
        for f in word:
            a = np.asarray(matrices[f.name], dtype=float)
            a = a[:, None] if a.ndim == 1 else a
            a = a.T if f.transposed else a
            prod = a if prod is None else prod @ a
        assert prod is not None  # a word has at least one factor, or is the identity
        term = c * prod
        total = term if total is None else total + term
    return np.zeros(1) if total is None else np.asarray(total)


def _derived_check(p: Premise) -> Callable[[], Outcome]:
    def check() -> Outcome:
        assert p.derivation is not None
        der = p.derivation()
        rel = p.relation
        diff = der.named(sp.expand(meaning(der, rel.lhs, dict(p.meanings)) - meaning(der, rel.rhs, dict(p.meanings))))
        if not isinstance(rel, sp.Equality):
            return Outcome(False, f"a derived premise must be an identity, got {rel}")
        return identity(diff, p.name)

    return check


def _operator_check(p: Premise) -> Callable[[], Outcome]:
    def check() -> Outcome:
        assert p.derivation is not None
        der = p.derivation()
        K = p.relation.rhs
        A = der.algebra
        g1, _, g3 = gradient_operator_powers(der, 3)
        bad = []
        for blk in der.model.params:
            diff = A.sub(g3[blk], A.scale(g1[blk], K))
            for word, coeff in diff.terms.items():
                if sp.simplify(der.named(coeff)) != 0:
                    bad.append(f"{blk.name}: {' '.join(map(str, word))} x {sp.sstr(sp.simplify(der.named(coeff)))}")
        if bad:
            return Outcome(False, f"Ψ³θ − ({sp.sstr(K)}) Ψθ does not vanish: {bad[:3]}")
        return Outcome(True, f"Ψ³θ = ({sp.sstr(K)}) Ψθ in every block (word algebra, sizes symbolic)")

    return check


_LAMBDA_MAX = {"Lpsi2", "LOmega", "LX", "Leff2"}


def _lemma_form(p: Premise, spec: BoundSpec) -> Callable[[], Outcome]:
    """The cited lemma's form: what a named lemma can give, it must not exceed."""

    def check() -> Outcome:
        rel = p.relation
        if p.lemma in ("rayleigh",):
            consts = [s for s in rel.rhs.free_symbols if s.name in _LAMBDA_MAX]
            if not isinstance(rel, sp.LessThan) or len(consts) != 1:
                return Outcome(False, f"a Rayleigh bound is q <= λ_max·norm with one λ_max constant: {rel}")
            (L,) = consts
            rest = sp.simplify(rel.rhs / L)
            if any(s.name in _LAMBDA_MAX for s in rest.free_symbols) or sp.Poly(rest, *rest.free_symbols).coeffs() != [1]:
                return Outcome(False, f"Rayleigh gives exactly λ_max times the norm, here {sp.sstr(rel.rhs)}")
            return Outcome(True, f"Rayleigh quotient: {sp.sstr(rel)} (λ_max = {L})")
        if p.lemma == "spectral-rayleigh":
            ops = [q for q in spec.premises if q.kind == "operator"]
            if len(ops) != 1:
                return Outcome(False, "a spectral bound needs exactly one operator relation among the premises")
            K_op = ops[0].relation.rhs
            from catapult_theory.symbolic.models.two_layer import s as slope

            # per-unit relations carry s²: the bound takes the largest, named s2
            K_used = K_op.subs(slope**2, N.q("s2")) if K_op.has(slope) else K_op
            if not isinstance(rel, sp.LessThan) or sp.simplify(rel.rhs - K_used * S.w2) != 0 or rel.lhs != S.lam:
                return Outcome(False, f"Ψ³ = KΨ gives lam <= K w2 with K = {sp.sstr(K_used)}, "
                                      f"the premise says {sp.sstr(rel)}")
            return Outcome(True, f"spec(Ψ²) ⊆ {{0, {sp.sstr(K_used)}}} from Ψ(Ψ² − K) = 0, Ψ symmetric; "
                                 f"Rayleigh gives {sp.sstr(rel)}")
        if p.lemma in ("cauchy-schwarz", "variational-lambda-max", "slopes", "batch-lemma"):
            return Outcome(True, f"cited lemma ({p.lemma}): {sp.sstr(rel)}; checked on real models")
        return Outcome(False, f"unknown lemma {p.lemma!r}")

    return check


def _cases_check(p: Premise) -> Callable[[], Outcome]:
    def check() -> Outcome:
        rhs = p.relation.rhs
        for c in p.cases:
            if isinstance(rhs, sp.Max) and sp.sympify(c) in rhs.args:
                continue
            diff = sp.simplify(rhs - c)
            from ._core import sign_certificate

            if not sign_certificate(diff, "nonnegative", SIGNS):
                return Outcome(False, f"case {p.relation.lhs} = {c} is not <= {rhs}")
        return Outcome(True, f"each case {list(p.cases)} is at most {sp.sstr(rhs)} (an argument of the max)")

    return check


def _numeric(rel: sp.Basic, points: Sequence[dict], what: str) -> Callable[[], Outcome]:
    return lambda: numeric_relation(rel, points, what=what)


#: premises checked against real GD steps rather than static models
STEP_PREMISES = {"lemma", "modified-norm", "batch-lemma"}


def premise_steps(spec: BoundSpec, sampler: str) -> list[Step]:
    """One step per premise of ``spec`` that the NTK inequality rests on (the norm
    increments, checked on GD steps, belong to the window and weight-norm theorems)."""
    points = [dict(i.values) for i in N.instances(sampler) + N.instances(sampler, 4, tight=True)]
    steps: list[Step] = []
    for p in spec.premises:
        if p.name in STEP_PREMISES:
            continue
        name = f"premise:{p.name}"
        pts = points
        if p.kind == "definition":
            steps.append(Step(name, "logical", p.relation, f"definition: {p.text}"))
            continue
        if p.kind == "heuristic":
            steps.append(Step(name, "inequality", p.relation, f"heuristic, not a proof step: {p.text}",
                              check=lambda: Outcome(False, "a heuristic premise proves nothing")))
            continue
        numeric = _numeric(p.relation, pts, p.name) if p.kind != "operator" else _operator_numeric(p, sampler)
        if p.kind == "derived":
            steps.append(Step(name, "identity", p.relation, f"derived in the word algebra: {p.text}",
                              check=_derived_check(p), numeric=numeric))
        elif p.kind == "operator":
            steps.append(Step(name, "identity", p.relation, f"operator relation of the gradient map: {p.text}",
                              check=_operator_check(p), numeric=numeric))
        elif p.kind == "lemma":
            steps.append(Step(name, "inequality" if not isinstance(p.relation, sp.Equality) else "identity",
                              p.relation, f"named lemma ({p.lemma}): {p.text}", check=_lemma_form(p, spec),
                              numeric=numeric, uses=tuple(f"premise:{q.name}" for q in spec.premises
                                                          if q.kind == "operator" and p.lemma == "spectral-rayleigh")))
        elif p.kind == "cases":
            steps.append(Step(name, "inequality", p.relation, f"case split: {p.text}", check=_cases_check(p),
                              numeric=_numeric(p.relation, [pt for pt in points if N.q("s2") in pt] or points,
                                               p.name)))
    return steps


def _operator_numeric(p: Premise, sampler: str) -> Callable[[], Outcome]:
    """Ψ³θ = KΨθ on real parameters: the word-algebra operator powers evaluated on
    the sampler's arrays (units one by one for the two-layer unit relation)."""

    def check() -> Outcome:
        assert p.derivation is not None
        der = p.derivation()
        g1, _, g3 = gradient_operator_powers(der, 3)
        names = {m.name for m in der.model.params}
        worst, count = 0.0, 0
        for inst in N.instances(sampler, 6):
            for mats, scalars in _operator_inputs(inst, names):
                K = float(sp.sympify(p.relation.rhs).xreplace({k: sp.Float(v, 30) for k, v in scalars.items()}))
                for blk in der.model.params:
                    a = eval_poly(der, g3[blk], mats, scalars)
                    b = K * eval_poly(der, g1[blk], mats, scalars)
                    dev = float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(a))), 1e-300)
                    worst, count = max(worst, dev), count + 1
        if count == 0:
            return Outcome(False, "no numeric operator points")
        if worst > 1e-9:
            return Outcome(False, f"Ψ³θ ≠ KΨθ on real parameters (relative deviation {worst:.2e})")
        return Outcome(True, f"Ψ³θ = KΨθ on {count} real parameter blocks (worst relative deviation {worst:.1e})")

    return check


def _operator_inputs(inst: N.Instance, names: set[str]):
    from catapult_theory.symbolic.models.two_layer import s as slope

    if names == {"U", "v"}:
        yield dict(inst.matrices), dict(inst.scalars)
    elif names == {"u", "vi"}:  # one unit of the two-layer net
        M = inst.matrices
        for i in range(M["U"].shape[0]):
            sc = dict(inst.scalars)
            sc[slope] = float(M["S"][i, i])
            yield {"u": M["U"][i], "vi": np.array([[M["v"][i]]]), "x": M["x"]}, sc
    else:
        raise ValueError(f"no numeric operator inputs for blocks {sorted(names)}")


def chain_step(spec: BoundSpec, sampler: str, uses: tuple[str, ...] | None = None) -> Step:
    """The premises compose into the bound's NTK inequality (and the bound's ``K``
    is the coefficient of its norm there); ``uses`` overrides the step's references
    (a theorem that imports the bound names the bound's theorem instead)."""
    ntk = spec.ntk
    assert ntk is not None

    def check() -> Outcome:
        norm = spec.norm_symbol
        if sp.simplify(sp.diff(ntk.rhs, norm) - spec.K) != 0:
            return Outcome(False, f"the NTK inequality {ntk} does not use K = {spec.K}")
        prem = [(p.name, p.relation) for p in spec.premises if p.kind != "heuristic" and p.name not in STEP_PREMISES]
        out, _ = chain_certificate(spec.ntk, prem, SIGNS)
        return out

    points = [dict(i.values) for i in N.instances(sampler, 12, seed=99)]
    return Step("ntk-bound", "inequality", spec.ntk,
                "chain certificate: premises composed by monotone substitution, remainder certified >= 0",
                numeric=lambda: numeric_relation(spec.ntk, points, what="real models"),
                uses=uses if uses is not None else
                tuple(f"premise:{p.name}" for p in spec.premises if p.name not in STEP_PREMISES), check=check)


def tight_step(spec: BoundSpec, sampler: str) -> Step:
    """The constant is the best one: the chain leaves no slack, and real models attain it."""
    ntk = spec.ntk
    assert ntk is not None

    def check() -> Outcome:
        prem = [(p.name, p.relation) for p in spec.premises if p.kind != "heuristic" and p.name not in STEP_PREMISES]
        ok, rem = chain_certificate(ntk, prem, SIGNS)
        if not ok:
            return ok
        # the remainder may only contain terms that vanish at the tight configuration
        pts = [dict(i.values) for i in N.instances(sampler, 4, tight=True)]
        for pt in pts:
            val = float(sp.sympify(rem).xreplace(pt))
            scale = float(sp.sympify(ntk.rhs).xreplace(pt))
            if abs(val) > 1e-9 * max(abs(scale), 1e-300):
                return Outcome(False, f"the premises leave slack {sp.sstr(rem)} = {val:.3g} where the bound "
                                      f"should be attained: K is not the premises' constant")
        return Outcome(True, f"remainder {sp.sstr(sp.factor(rem))} vanishes at the tight configuration")

    pts = [dict(i.values) for i in N.instances(sampler, 4, tight=True)]
    return Step("tight", "inequality", spec.ntk, "tightness: the chain's remainder vanishes at the tight "
                "configuration, and real models there satisfy the bound with equality",
                uses=("ntk-bound",), check=check,
                numeric=lambda: numeric_relation(spec.ntk, pts, what="tight case", tight=True))


def bound_steps(spec: BoundSpec, sampler: str) -> list[Step]:
    """Premises, composition and tightness of one bound."""
    return [*premise_steps(spec, sampler), chain_step(spec, sampler), tight_step(spec, sampler)]
