"""Steps, theorems, certificates and the runner.

A proof is an ordered list of named :class:`Step` objects. Each step states its
claim in SymPy and says how it is checked:

``identity``
    the difference of the two sides simplifies to 0 with the sizes (width
    ``n``, input dimension ``d``, batch ``B``) kept as symbols;
``inequality``
    a certificate SymPy verifies: a sign certificate (a factorisation or sum
    whose every factor has a known sign under the stated assumptions), a chain
    of premises composed by monotone substitution (:func:`chain_certificate`),
    or a finite case split;
``logical``
    induction, monotone-limit or contradiction steps, stated with their
    hypotheses and the ids of the earlier steps they use. They are not
    machine-checked beyond that bookkeeping, and labelled so.

Every identity and inequality step may carry a ``numeric`` cross-check that
evaluates it at random points with the package's compiled maps or on a real
finite model, so that a true symbolic step about the wrong formula is caught.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import sympy as sp

__all__ = [
    "Outcome",
    "Step",
    "StepResult",
    "Theorem",
    "ProofResult",
    "KINDS",
    "identity",
    "sign_certificate",
    "chain_certificate",
    "numeric_relation",
    "assumed",
    "run_theorem",
]

#: the step kinds, in the order a certificate explains them
KINDS = ("identity", "inequality", "logical")


@dataclass(frozen=True)
class Outcome:
    """The verdict of one check and what it found."""

    ok: bool
    detail: str = ""

    def __bool__(self) -> bool:
        return self.ok


Check = Callable[[], Outcome]


@dataclass(frozen=True)
class Step:
    """One step of a proof.

    ``statement`` is a SymPy relation (or, for a ``logical`` step, a sentence);
    ``check`` verifies it symbolically (identity and inequality steps);
    ``numeric`` cross-checks it on numbers; ``uses`` names earlier steps (of this
    proof) or theorems (``theorem:ID``) it relies on.
    """

    name: str
    kind: str
    statement: sp.Basic | str
    how: str
    uses: tuple[str, ...] = ()
    check: Check | None = None
    numeric: Check | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"step {self.name!r}: unknown kind {self.kind!r}; use one of {KINDS}")
        if self.kind != "logical" and self.check is None:
            raise ValueError(f"step {self.name!r}: an {self.kind} step needs a symbolic check")


@dataclass(frozen=True)
class StepResult:
    """A step as it was checked."""

    name: str
    kind: str
    statement: str
    latex: str
    how: str
    uses: tuple[str, ...]
    status: str  # "checked" | "failed" | "logical"
    detail: str = ""
    numeric: str = ""

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "status": self.status, "uses": list(self.uses),
                "statement": self.statement, "how": self.how, "detail": self.detail, "numeric": self.numeric}


@dataclass(frozen=True)
class Theorem:
    """A theorem: an id (a contract), the model family it is about, its statement
    and hypotheses in words, and a function that builds its steps."""

    id: str
    model: str
    statement: str
    hypotheses: tuple[str, ...]
    build: Callable[[], Sequence[Step]]
    generic: bool = False

    @property
    def label(self) -> str:
        return self.id if not self.generic else f"{self.id}[{self.model}]"


@dataclass(frozen=True)
class ProofResult:
    """The outcome of one theorem."""

    theorem: str
    model: str
    statement: str
    hypotheses: tuple[str, ...]
    status: str  # "proved" | "failed"
    steps: tuple[StepResult, ...]
    seconds: float
    error: str = ""

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    @property
    def failed_steps(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps if s.status == "failed")

    @property
    def checked_steps(self) -> int:
        return sum(s.status == "checked" for s in self.steps)

    def to_json(self) -> dict:
        return {"theorem": self.theorem, "model": self.model, "status": self.status,
                "statement": self.statement, "hypotheses": list(self.hypotheses),
                "seconds": round(self.seconds, 3), "error": self.error,
                "steps": [s.to_json() for s in self.steps]}


# ------------------------------------------------------------------ checks
def identity(difference: sp.Expr, what: str = "") -> Outcome:
    """``difference`` simplifies to exactly 0."""
    d = sp.simplify(sp.expand(sp.sympify(difference)))
    if d == 0:
        return Outcome(True, "difference simplifies to 0")
    return Outcome(False, f"{what + ': ' if what else ''}difference does not vanish: {sp.sstr(d)}")


_SIGN_ASSUMPTIONS = {"positive": {"positive": True}, "nonnegative": {"nonnegative": True},
                     "real": {"real": True}}


def assumed(expr: sp.Expr, signs: Mapping[sp.Symbol, str]) -> tuple[sp.Expr, dict]:
    """``expr`` with each symbol replaced by a dummy carrying its stated sign
    (symbols not in ``signs`` keep their own assumptions, and are at least real);
    returns the new expression and the replacement map (for messages)."""
    reps = {}
    for s in sp.sympify(expr).free_symbols:
        if s in signs:
            reps[s] = sp.Dummy(s.name, **_SIGN_ASSUMPTIONS[signs[s]])
        elif not (s.is_positive or s.is_nonnegative or s.is_real):
            reps[s] = sp.Dummy(s.name, real=True)  # an unstated symbol is only known to be real
    return sp.sympify(expr).xreplace(reps), reps


def _sign_of(expr: sp.Expr, want: str) -> bool | None:
    attr = {"nonnegative": "is_nonnegative", "positive": "is_positive", "zero": "is_zero",
            "nonpositive": "is_nonpositive", "negative": "is_negative"}[want]
    for form in (expr, sp.factor(expr), sp.expand(expr), sp.simplify(expr)):
        v = getattr(form, attr)
        if v is not None:
            return bool(v)
    return None


def sign_certificate(expr: sp.Expr, want: str, signs: Mapping[sp.Symbol, str]) -> Outcome:
    """Certify ``expr`` is ``want`` (``nonnegative``, ``positive``, ...) from the
    signs of its symbols: SymPy's assumption system must decide it for the
    expression as given, factored, expanded or simplified. ``None`` (undecided)
    fails."""
    e, _ = assumed(expr, signs)
    if sp.simplify(e) == 0 and want in ("nonnegative", "nonpositive", "zero"):
        return Outcome(True, "the expression is identically 0")
    v = _sign_of(e, want)
    if v:
        return Outcome(True, f"{sp.sstr(sp.factor(expr))} is {want} under the stated signs")
    return Outcome(False, f"cannot certify {sp.sstr(sp.factor(expr))} {want} under the signs "
                          f"{ {str(k): v for k, v in signs.items() if k in expr.free_symbols} }")


def chain_certificate(
    target: sp.Basic,
    premises: Sequence[tuple[str, sp.Basic]],
    signs: Mapping[sp.Symbol, str],
    max_rounds: int = 12,
) -> tuple[Outcome, sp.Expr]:
    """Compose premises into ``target`` (``Le(lhs, rhs)``) by monotone substitution.

    Start from ``D = rhs − lhs`` (to be shown ``>= 0``). An equality premise
    ``u = v`` with ``u`` a symbol replaces ``u`` by ``v``; an inequality premise
    ``u <= v`` replaces ``u`` by ``v`` only where ``D`` is certified
    non-increasing in ``u`` (``∂D/∂u <= 0`` under the signs), which can only
    lower ``D``. When no premise applies any more, the remainder must be
    certified non-negative. Returns the outcome and the remainder (0 when the
    bound is exactly what the premises give).
    """
    if not isinstance(target, (sp.LessThan, sp.StrictLessThan)):
        raise ValueError(f"the chain target must be lhs <= rhs, got {target}")
    D = sp.expand(target.rhs - target.lhs)
    used: list[str] = []
    for _ in range(max_rounds):
        progressed = False
        for name, rel in premises:
            u = rel.lhs
            if not isinstance(u, sp.Symbol) or u not in D.free_symbols:
                continue
            if isinstance(rel, sp.Equality):
                D = sp.expand(D.subs(u, rel.rhs))
            elif isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
                slope = sp.diff(D, u)
                if not sign_certificate(slope, "nonpositive", signs):
                    continue
                D = sp.expand(D.subs(u, rel.rhs))
            else:
                continue
            used.append(name)
            progressed = True
        if not progressed:
            break
    D = sp.simplify(D)
    ok = sign_certificate(D, "nonnegative", signs)
    chain = " -> ".join(used) if used else "(no premise applied)"
    if ok:
        return Outcome(True, f"premises composed ({chain}); remainder {sp.sstr(sp.factor(D))} >= 0"), D
    return Outcome(False, f"premises ({chain}) leave remainder {sp.sstr(sp.factor(D))}, not certified >= 0"), D


def numeric_relation(
    rel: sp.Basic,
    points: Iterable[Mapping[sp.Symbol, float]],
    rtol: float = 1e-9,
    what: str = "",
    tight: bool = False,
) -> Outcome:
    """Evaluate ``rel`` (``Eq``/``Le``/``Lt``) at numeric points (each a map from
    every free symbol to a float). ``Le`` holds up to ``rtol`` of the larger
    side; ``tight`` demands equality (the inequality is attained)."""
    count = 0
    worst = 0.0 if isinstance(rel, sp.Equality) or tight else -float("inf")
    for pt in points:
        missing = rel.free_symbols - set(pt)
        if missing:
            return Outcome(False, f"{what}: no value for {sorted(map(str, missing))}")
        num = {k: sp.Float(float(v), 30) for k, v in pt.items()}
        lhs = float(sp.sympify(rel.lhs).xreplace(num).evalf())
        rhs = float(sp.sympify(rel.rhs).xreplace(num).evalf())
        scale = max(abs(lhs), abs(rhs), 1e-300)
        count += 1
        if isinstance(rel, sp.Equality) or tight:
            dev = abs(lhs - rhs) / scale
            worst = max(worst, dev)
            if dev > rtol:
                return Outcome(False, f"{what}: {'not attained' if tight and not isinstance(rel, sp.Equality) else 'fails'}"
                                      f" at a numeric point: lhs {lhs:.12g}, rhs {rhs:.12g}")
        elif isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
            if lhs > rhs + rtol * scale:
                return Outcome(False, f"{what}: violated at a numeric point: lhs {lhs:.12g} > rhs {rhs:.12g}")
            worst = max(worst, (lhs - rhs) / scale)
        else:
            return Outcome(False, f"{what}: unsupported relation {rel}")
    if count == 0:
        return Outcome(False, f"{what}: no numeric points")
    kind = "equality" if isinstance(rel, sp.Equality) or tight else "inequality"
    measure = "worst relative deviation" if kind == "equality" else "largest (lhs − rhs)/scale"
    return Outcome(True, f"{what + ': ' if what else ''}{kind} holds at {count} numeric points "
                         f"({measure} {worst:.1e})")


# ------------------------------------------------------------------ runner
def _latex(statement: sp.Basic | str) -> str:
    if isinstance(statement, str):
        return ""
    try:
        return sp.latex(statement)
    except Exception:  # pragma: no cover - latex printing of exotic objects
        return ""


def _run_check(check: Check | None) -> Outcome:
    if check is None:
        return Outcome(True, "")
    try:
        out = check()
    except Exception as exc:  # a check that crashes is a failed check, with the reason
        return Outcome(False, f"check raised {type(exc).__name__}: {exc}")
    if not isinstance(out, Outcome):
        raise TypeError(f"a check must return an Outcome, got {type(out).__name__}")
    return out


def run_theorem(th: Theorem) -> ProofResult:
    """Check every step of a theorem in order.

    A theorem is proved when every identity and inequality step passes its
    symbolic check and its numeric cross-check, every ``uses`` entry names an
    earlier step or a theorem, and at least one step is machine-checked.
    """
    t0 = time.perf_counter()
    try:
        steps = list(th.build())
    except Exception as exc:  # building the steps failed: the theorem is not proved
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return ProofResult(th.id, th.model, th.statement, th.hypotheses, "failed", (),
                           time.perf_counter() - t0, f"could not build the proof: {tb}")
    results: list[StepResult] = []
    seen: set[str] = set()
    for step in steps:
        statement = step.statement if isinstance(step.statement, str) else sp.sstr(step.statement)
        bad_uses = [u for u in step.uses if u not in seen and not u.startswith("theorem:")]
        if step.kind == "logical":
            status = "failed" if bad_uses else "logical"
            detail = (f"uses unknown or later steps {bad_uses}" if bad_uses
                      else "logical step: bookkeeping of hypotheses and uses checked, argument not machine-checked")
            results.append(StepResult(step.name, step.kind, statement, _latex(step.statement), step.how,
                                      step.uses, status, detail))
        else:
            sym = _run_check(step.check)
            num = _run_check(step.numeric)
            ok = bool(sym) and bool(num) and not bad_uses
            detail = sym.detail if sym else f"symbolic check failed: {sym.detail}"
            if bad_uses:
                detail += f"; uses unknown or later steps {bad_uses}"
            numeric = num.detail if step.numeric is not None else "no numeric cross-check"
            if step.numeric is not None and not num:
                numeric = f"numeric cross-check failed: {num.detail}"
            results.append(StepResult(step.name, step.kind, statement, _latex(step.statement), step.how,
                                      step.uses, "checked" if ok else "failed", detail, numeric))
        seen.add(step.name)
    failed = any(r.status == "failed" for r in results)
    checked = sum(r.status == "checked" for r in results)
    error = "" if checked else "no machine-checked step"
    status = "proved" if not failed and checked else "failed"
    return ProofResult(th.id, th.model, th.statement, th.hypotheses, status, tuple(results),
                       time.perf_counter() - t0, error)


@dataclass
class Registry:
    """Theorem factories by id: ``factory(model)`` builds the theorem for a model
    family (``model`` is ``None`` for family-specific theorems)."""

    factories: dict[str, tuple[Callable[[str | None], Theorem], bool, str]] = field(default_factory=dict)

    def add(self, id: str, factory: Callable[[str | None], Theorem], generic: bool = False,
            summary: str = "") -> None:
        self.factories[id] = (factory, generic, summary)
