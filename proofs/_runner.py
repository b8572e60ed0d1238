"""Running theorems: the kernel's verdict, then the second checker and the
numeric cross-checks on each step, gathered into a :class:`ProofResult`.

The kernel (:mod:`._kernel`) alone decides whether a step's claim follows.
Beside it, every identity and inequality step in the solver's fragment is
handed to Z3 (:mod:`._smt`): a refutation fails the step with the
countermodel. Every such step is also evaluated at random signed points that
satisfy its context (a step whose two sides are literally the same is flagged
``vacuous``), and a step may carry a check on real finite models. A theorem is
``proved`` only when the kernel proves it and no checker refutes a step.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from . import _smt
from ._kernel import (Always, Axiom, Cases, Certificate, Chain, Identity, Induction, Iterate, Obligation, Step,
                      Theorem, TheoremVerdict, check_theorem, strip)

__all__ = ["Outcome", "ProofResult", "StepResult", "run_theorem", "signed_point_check", "METHOD_NAMES"]


@dataclass(frozen=True)
class Outcome:
    """The verdict of a numeric cross-check and what it found."""

    ok: bool
    detail: str = ""

    def __bool__(self) -> bool:
        return self.ok


METHOD_NAMES = {Identity: "identity", Certificate: "certificate", Chain: "chain", Induction: "induction",
                Cases: "cases", Axiom: "axiom", Iterate: "iterate"}


@dataclass(frozen=True)
class StepResult:
    """A step as it was checked."""

    name: str
    method: str
    claim: sp.Basic
    hypotheses: tuple
    uses: tuple
    status: str  # "checked" | "failed"
    detail: str
    checked_by: tuple
    smt: str = ""
    numeric: str = ""
    axioms: tuple = ()
    note: str = ""
    vacuous: bool = False
    #: "File.v name" of the Coq theorem that also proves this step's claim (when Coq ran and accepted it)
    coq: str = ""

    @property
    def kind(self) -> str:
        return self.method

    @property
    def statement(self) -> str:
        return sp.sstr(self.claim)

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.method, "status": self.status, "claim": sp.sstr(self.claim),
                "statement": sp.sstr(self.claim),
                "hypotheses": [_show(h) for h in self.hypotheses], "uses": [_ref_name(u) for u in self.uses],
                "checked_by": list(self.checked_by), "detail": self.detail, "smt": self.smt,
                "numeric": self.numeric, "axioms": list(self.axioms), "note": self.note, "vacuous": self.vacuous,
                "coq": self.coq}


@dataclass(frozen=True)
class ProofResult:
    """The outcome of one theorem."""

    theorem: str
    model: str
    statement: str
    hypotheses: tuple
    conclusion: tuple
    status: str  # "proved" | "failed"
    steps: tuple
    seconds: float
    error: str = ""
    axioms: tuple = ()
    definitions: tuple = ()
    generic: bool = False

    @property
    def label(self) -> str:
        return f"{self.theorem}[{self.model}]" if self.generic else self.theorem

    def _repr_markdown_(self) -> str:
        """Jupyter: the theorem's certificate (``catapult prove --format md``)."""
        from catapult_theory.display_hooks import show

        return show("proof_markdown", self)  # type: ignore[no-any-return]

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    @property
    def failed_steps(self) -> tuple:
        return tuple(s.name for s in self.steps if s.status == "failed")

    @property
    def checked_steps(self) -> int:
        return sum(s.status == "checked" for s in self.steps)

    @property
    def outside_fragment(self) -> tuple:
        return tuple(s.name for s in self.steps if s.smt.startswith("outside"))

    def to_json(self) -> dict:
        return {"theorem": self.theorem, "model": self.model, "status": self.status, "statement": self.statement,
                "hypotheses": [_show(h) for h in self.hypotheses],
                "conclusion": [_show(c[0] if isinstance(c, tuple) else c) for c in self.conclusion],
                "axioms": list(self.axioms), "seconds": round(self.seconds, 3), "error": self.error,
                "outside_fragment": list(self.outside_fragment),
                "steps": [s.to_json() for s in self.steps]}


def _show(rel: Any) -> str:
    from ._kernel import _show as show

    return show(rel)


def _safe_strip(claim: Any) -> Any:
    try:
        return strip(claim)
    except Exception:  # a malformed claim is shown as given (its step failed for it)
        return claim


def _ref_name(ref: Any) -> str:
    return ref.name if hasattr(ref, "name") else str(ref)


# ------------------------------------------------------------------ numeric cross-check
def _vector_fn(args, expr):
    return sp.lambdify(args, expr, modules="numpy")


def _rx(rel: sp.Basic, mapping: dict) -> sp.Basic:
    """``rel`` with ``mapping`` applied, without evaluating the relation."""
    if isinstance(rel, sp.core.relational.Relational):
        return type(rel)(rel.lhs.xreplace(mapping), rel.rhs.xreplace(mapping), evaluate=False)
    return rel.xreplace(mapping)


def _assignments(ctx: list) -> tuple[list, list]:
    """Equalities of the context solved for one symbol each (``x = value``), and
    the other relations (tested by rejection)."""
    assign: list = []
    rest: list = []
    taken: set = set()
    rels = [c for c in ctx if isinstance(c, sp.core.relational.Relational)]
    # bare "symbol = value" equalities first
    rels.sort(key=lambda c: 0 if isinstance(c, sp.Equality) and (c.lhs.is_Symbol or c.rhs.is_Symbol) else 1)
    for c in rels:
        if not isinstance(c, sp.Equality):
            rest.append(c)
            continue
        done = False
        for x, other in ((c.lhs, c.rhs), (c.rhs, c.lhs)):
            if x.is_Symbol and x not in taken and x not in other.free_symbols:
                other = other.xreplace(dict(assign))
                if x in other.free_symbols:
                    continue
                assign = [(y, v.xreplace({x: other})) for y, v in assign]
                assign.append((x, other))
                taken.add(x)
                done = True
                break
        if done:
            continue
        if sp.count_ops(c.lhs - c.rhs) > 120:  # too big to solve: tested by rejection
            rest.append(c)
            continue
        d = (c.lhs - c.rhs).xreplace(dict(assign))
        for x in sorted(d.free_symbols - taken, key=str):
            dx = sp.diff(d, x)
            if dx == 0 or x in dx.free_symbols:  # not linear in x
                continue
            sol = -d.xreplace({x: 0}) / dx
            assign = [(y, v.xreplace({x: sol})) for y, v in assign]
            assign.append((x, sol))
            taken.add(x)
            done = True
            break
        if not done:
            rest.append(c)
    return assign, rest


def signed_point_check(ob: Obligation, count: int = 6, draws: int = 4000, seed: int = 13) -> Outcome:
    """The step's claim at random points with signed values (definitions substituted)
    that satisfy its context; equalities ``symbol = value`` of the context are used
    as assignments. Vectorised over the draws."""
    from ._smt import _expand_definitions

    claim = _expand_definitions(ob.claim, dict(ob.definitions), dict(ob.functions))
    ctx = [_expand_definitions(c, dict(ob.definitions), dict(ob.functions)) for c in ob.context]
    opaque: dict = {}
    for e in [claim, *ctx]:
        opaque.update({a: sp.Symbol(f"_o{len(opaque) + i}") for i, a in
                       enumerate(x for x in e.atoms(AppliedUndef, sp.Limit, sp.Sum) if x not in opaque)})
    claim = _rx(claim, opaque)
    ctx = [_rx(c, opaque) for c in ctx]
    assign, rest = _assignments(ctx)
    assigned = {x for x, _ in assign}
    free = sorted(set().union(claim.free_symbols, *(c.free_symbols for c in ctx)) - assigned, key=str)
    rng = np.random.default_rng(seed)
    vals = {x: rng.choice([-1.0, 1.0], draws) * rng.uniform(0.05, 3.0, draws) for x in free}
    with np.errstate(all="ignore"):
        pending = list(assign)
        while pending:
            ready = [(x, v) for x, v in pending if all(q in vals for q in v.free_symbols)]
            if not ready:
                return Outcome(True, "the context's equalities form a cycle (not evaluated)")
            for x, v in ready:
                syms = sorted(v.free_symbols, key=str)
                vals[x] = np.broadcast_to(np.asarray(_vector_fn(syms, v)(*(vals[q] for q in syms)), float),
                                          (draws,))
                pending.remove((x, v))
        ok = np.ones(draws, bool)
        # one compiled function for the context's differences and the claim's two sides
        exprs = [c.lhs - c.rhs for c in rest] + [claim.lhs, claim.rhs]
        syms = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
        values = _vector_fn(syms, exprs)(*(vals[q] for q in syms))
        values = [np.broadcast_to(np.asarray(v, float), (draws,)) for v in values]
        for c, diff in zip(rest, values):
            test = {sp.Equality: np.abs(diff) <= 1e-12, sp.Unequality: diff != 0, sp.LessThan: diff <= 0,
                    sp.StrictLessThan: diff < 0, sp.GreaterThan: diff >= 0, sp.StrictGreaterThan: diff > 0}[type(c)]
            ok &= test
        lhs, rhs = values[-2], values[-1]
        ok &= np.isfinite(lhs) & np.isfinite(rhs)
    idx = np.flatnonzero(ok)[:max(count, 64)]
    if idx.size == 0:
        return Outcome(True, f"no signed point in {draws} draws satisfies the context (not evaluated)")
    L, R = lhs[idx], rhs[idx]
    scale = np.maximum(np.maximum(np.abs(L), np.abs(R)), 1.0)
    op = type(claim)
    if op is sp.Equality:
        good = np.abs(L - R) <= 1e-9 * scale
    elif op in (sp.LessThan, sp.StrictLessThan):
        good = L <= R + 1e-9 * scale
    elif op in (sp.GreaterThan, sp.StrictGreaterThan):
        good = L >= R - 1e-9 * scale
    else:
        good = np.abs(L - R) > 1e-12 * scale
    if not np.all(good):
        j = idx[int(np.flatnonzero(~good)[0])]
        shown = ", ".join(f"{x} = {vals[x][j]:.6g}" for x in free[:12])
        return Outcome(False, f"violated at a signed point: lhs {lhs[j]:.12g}, rhs {rhs[j]:.12g} ({shown})")
    worst = float(np.max(np.abs(L - R) / scale)) if op is sp.Equality else None
    return Outcome(True, f"holds at {idx.size} signed points satisfying the context"
                   + (f" (worst relative deviation {worst:.1e})" if worst is not None else ""))


# ------------------------------------------------------------------ running
def _claims_of(th: Theorem) -> tuple[tuple, tuple]:
    return tuple(c[0] if isinstance(c, tuple) else c for c in th.conclusion), tuple(th.hypotheses)


def run_theorem(th: Theorem | Callable[[], Theorem], cited: Mapping[str, tuple[Theorem, ProofResult,
                                                                              TheoremVerdict]] | None = None,
                smt: bool = True, model: str = "", label: str = "", coq: Any = None) -> ProofResult:
    """Check one theorem (or build it first from a factory)."""
    t0 = time.perf_counter()
    try:
        theorem = th() if callable(th) and not isinstance(th, Theorem) else th
    except Exception as exc:  # building the proof failed: the theorem is not proved
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return ProofResult(label or "?", model, "", (), (), "failed", (), time.perf_counter() - t0,
                           f"could not build the proof: {tb}")
    assert isinstance(theorem, Theorem)
    cited = cited or {}
    verdict = check_theorem(theorem, {k: (v[0], v[2]) for k, v in cited.items()})
    steps = []
    refuted = False
    by_name = {v.name: v for v in verdict.steps}
    for step in theorem.steps:
        v = by_name.get(step.name)
        if v is None:
            break
        method = METHOD_NAMES.get(type(step.by), type(step.by).__name__)
        checked_by: list[str] = []
        smt_detail = numeric_detail = ""
        ok = v.ok
        if ok:
            checked_by.append("sympy" if method in ("identity", "certificate", "chain") else "kernel")
            ob = v.obligation
            if ob is not None and ob.kind in ("identity", "inequality"):
                if smt:
                    res = _smt.check_obligation(ob.claim, ob.context, dict(ob.definitions), dict(ob.functions))
                    smt_detail = f"{res.status}: {res.detail}"
                    if res.accepted:
                        checked_by.append("z3")
                    elif res.status == "refuted":
                        ok, refuted = False, True
                num = signed_point_check(ob)
                numeric_detail = num.detail
                if not num:
                    ok = False
                    numeric_detail = f"numeric cross-check failed: {num.detail}"
            if step.numeric is not None:
                try:
                    extra = step.numeric()
                except Exception as exc:  # a crashing cross-check is a failed one, with its reason
                    extra = Outcome(False, f"check raised {type(exc).__name__}: {exc}")
                numeric_detail = (numeric_detail + "; " if numeric_detail else "") + (
                    extra.detail if extra else f"numeric cross-check failed: {extra.detail}")
                ok = ok and bool(extra)
            if v.axioms:
                checked_by.append("axiom")
        coq_ref = ""
        if ok and step.coq and coq is not None and coq.proves(theorem.id, step.coq):
            from ._coq import COQ_THEOREMS

            checked_by.append("coq")
            coq_ref = " ".join(COQ_THEOREMS[(theorem.id, step.coq)])
        detail = v.detail
        if not v.ok and v.obligation is not None and smt and v.obligation.kind in ("identity", "inequality"):
            ob = v.obligation
            res = _smt.check_obligation(ob.claim, ob.context, dict(ob.definitions), dict(ob.functions))
            smt_detail = f"{res.status}: {res.detail}"
            if res.status == "refuted":
                detail += f"; the claim is false: {res.detail}"
            elif res.accepted:
                detail += "; the SMT solver accepts the claim: the proof given for it is what fails"
        if v.ok and not ok and refuted:
            detail = f"{v.detail}; the SMT solver refutes the claim: {smt_detail}"
        steps.append(StepResult(step.name, method, _safe_strip(step.claim), v.hypotheses, tuple(step.uses),
                                "checked" if ok else "failed", detail, tuple(checked_by), smt_detail,
                                numeric_detail, v.axioms, step.note, v.vacuous, coq_ref))
    failed = [s.name for s in steps if s.status == "failed"]
    error = verdict.error
    if verdict.proved and failed:
        error = "failed steps: " + ", ".join(failed)
    status = "proved" if verdict.proved and not failed else "failed"
    return ProofResult(theorem.id, theorem.model or model, theorem.title, verdict.hypotheses or
                       tuple(theorem.hypotheses), tuple(theorem.conclusion), status, tuple(steps),
                       time.perf_counter() - t0, error, verdict.axioms, tuple(theorem.definitions), theorem.generic)
