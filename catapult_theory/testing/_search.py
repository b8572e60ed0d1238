"""Claims written as text about realisable model states, and the search for counterexamples.

``parse_claim("w2_next < w2", "uv")`` gives a :class:`StateClaim` (a
:class:`~catapult_theory.testing.Claim` over :class:`ModelState`);
``model_states("uv", assume=["y == 0", "eta*lam < 4"])`` the states to try it
on. Assumptions that bound ``k`` (``eta*lam``), fix or bound ``y``, a dimension
(``n``) or a model scalar (``a``) shape the generator; every other assumption
filters. A claim is evaluated in floats and, where floats say it is false,
re-checked in exact arithmetic from the drawn rationals (the filters too): a
counterexample is never an artefact of rounding.

:func:`search` is the command line's search: explicit Hypothesis settings
(``max_examples``, ``seed``), counts of the examples tried and rejected, and the
shrunk counterexample with both sides of the violated relation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from hypothesis import find, reject
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from ..engine import Phase
from ..errors import InvalidInput
from ..symbolic import SymbolicModel
from ._claims import Claim
from ._expr import EXACT, FLOAT, Bound, Expr, Undefined, bounds_of, parse_expr_safe
from ._states import (
    ENTRY_STEP,
    GRID,
    K_DEFAULT,
    OUTCOMES,
    SIZE_DEFAULT,
    STEP_NAMES,
    ModelSpec,
    ModelState,
    Ranges,
    _grid_range,
    draw_state,
    state_bytes,
    model_spec,
)

__all__ = [
    "PHASES",
    "SearchResult",
    "Side",
    "StateClaim",
    "StatePlan",
    "model_states",
    "parse_claim",
    "plan_states",
    "resolve_model",
    "search",
]

#: the phase labels a claim may compare ``phase`` with (the engine's labels)
PHASES = tuple(p.value for p in Phase)


def resolve_model(model: str | Path | SymbolicModel, builder: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a registered name, a :class:`SymbolicModel` or a ``.py`` file."""
    if isinstance(model, SymbolicModel):
        return model_spec(model)
    text = str(model)
    if text.endswith(".py"):
        from ..families import load_model_file

        return model_spec(load_model_file(text, builder))
    return model_spec(text)


# ----------------------------------------------------------------------------- evaluation
class _Env(Mapping[str, Any]):
    """The values a claim reads at one state, computed on first use."""

    def __init__(self, state: ModelState, exact: bool, names: set[str]) -> None:
        self.state, self.exact, self.names = state, exact, names
        self._vals: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        if key in OUTCOMES:
            v = self.state.outcomes()[key]
            if self.exact and isinstance(v, float):
                return sp.oo if v == math.inf else sp.Rational(Fraction(v))
            return v
        if self._vals is None:
            self._vals = (self.state.exact_values(sorted(self.names & set(STEP_NAMES))) if self.exact
                          else self.state.values())
        return self._vals[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _truth(v: Any) -> bool:
    if isinstance(v, str):
        raise Undefined(f"{v!r} is not true or false")
    return bool(v) if isinstance(v, bool) else bool(v != 0)


def evaluate(e: Expr, state: ModelState, exact: bool) -> Any:
    """The value of ``e`` at ``state`` (floats or exact); raises :class:`Undefined`."""
    arith = EXACT if exact else FLOAT
    return arith.evaluate(e, _Env(state, exact, e.names()))


def _holds(e: Expr, state: ModelState, exact: bool) -> bool:
    return _truth(evaluate(e, state, exact))


@dataclass(frozen=True)
class Side:
    """The violated relation of a claim at a state, with both sides (float and exact)."""

    relation: str
    lhs_text: str
    rhs_text: str | None
    lhs: Any
    rhs: Any
    lhs_exact: str
    rhs_exact: str | None


def _violated(e: Expr, state: ModelState) -> Side:
    """The part of ``e`` that is false at ``state``: the first failing comparison of a chain,
    the first false operand of ``and``, the first of ``or`` (all false)."""
    if e.kind in ("and", "or"):
        for a in e.args:
            try:
                if not _holds(a, state, True):
                    return _violated(a, state)
            except Undefined:
                continue
    if e.kind == "cmp":
        for op, a, b in zip(e.ops, e.args, e.args[1:]):
            part = Expr("cmp", f"{a.text} {op} {b.text}", ops=(op,), args=(a, b))
            try:
                if _holds(part, state, True):
                    continue
            except Undefined:
                pass
            return Side(part.text, a.text, b.text, _plain(a, state), _plain(b, state), _exact_text(a, state),
                         _exact_text(b, state))
    return Side(e.text, e.text, None, _plain(e, state), None, _exact_text(e, state), None)


def _plain(e: Expr, state: ModelState) -> Any:
    try:
        v = evaluate(e, state, False)
    except Undefined:
        try:
            v = evaluate(e, state, True)
        except Undefined:
            return None
    if isinstance(v, (bool, str)):
        return v
    v = float(v)
    return v if math.isfinite(v) else None


def _exact_text(e: Expr, state: ModelState) -> str:
    try:
        v = evaluate(e, state, True)
    except Undefined as exc:
        return f"undefined ({exc})"
    if isinstance(v, (bool, str)):
        return str(v)
    return sp.sstr(sp.nsimplify(v) if v.is_Rational else v)


# ----------------------------------------------------------------------------- plans
def _is_k(e: Expr) -> bool:
    """``eta*lam`` (or ``lam*eta``): another spelling of ``k``."""
    return (e.kind == "bin" and e.op == "*" and {a.kind for a in e.args} == {"name"}
            and sorted(str(a.value) for a in e.args) == ["eta", "lam"])


def _merge(bounds: Sequence[Bound]) -> Bound:
    lo: Fraction | None = None
    hi: Fraction | None = None
    los = his = False
    for b in bounds:
        if b.low is not None and (lo is None or b.low > lo or (b.low == lo and b.low_strict)):
            lo, los = b.low, b.low_strict
        if b.high is not None and (hi is None or b.high < hi or (b.high == hi and b.high_strict)):
            hi, his = b.high, b.high_strict
    return Bound(bounds[0].name, lo, hi, los, his)


def _float_bound(c: Fraction, up: bool) -> tuple[float, bool]:
    """``c`` as a float on the safe side (the smallest float ``>= c`` for a lower bound, the
    largest ``<= c`` for an upper one), and whether it equals ``c`` exactly."""
    f = float(c)
    if Fraction(f) == c:
        return f, True
    if up and Fraction(f) < c:
        f = float(np.nextafter(f, math.inf))
    elif not up and Fraction(f) > c:
        f = float(np.nextafter(f, -math.inf))
    return f, False


@dataclass(frozen=True)
class StatePlan:
    """How the states of one search are made: the generator's ranges and the filters."""

    spec: ModelSpec
    ranges: Ranges
    generators: tuple[Expr, ...]
    filters: tuple[Expr, ...]
    steps: int = 1000

    def strategy(self) -> st.SearchStrategy[ModelState]:
        """The generator alone (assumptions that filter are not applied)."""
        spec, ranges, steps, filters = self.spec, self.ranges, self.steps, self.filters

        @st.composite
        def states(draw: st.DrawFn) -> ModelState:
            try:
                s = draw_state(draw, spec, ranges, steps)
            except Undefined:
                reject()
            s.assumptions = filters
            return s

        return states()

    def admits(self, state: ModelState) -> bool:
        """True when every filtering assumption holds at ``state`` (floats; undefined: no)."""
        try:
            state.values()
            return all(_holds(f, state, False) for f in self.filters)
        except Undefined:
            return False

    def describe(self) -> dict[str, Any]:
        """The generator's ranges in words (JSON-ready)."""
        r = self.ranges
        out: dict[str, Any] = {"k": {"low": r.k[0], "high": r.k[1], "low_strict": r.k[2], "high_strict": r.k[3]}}
        out["y"] = float(r.y_fixed) if r.y_fixed is not None else [r.y[0] / GRID, r.y[1] / GRID] if r.y else None
        out["sizes"] = {d.name: list(r.sizes.get(d.name, SIZE_DEFAULT)) for d in self.spec.dims}
        out["entries"] = [-128 * ENTRY_STEP / GRID, 127 * ENTRY_STEP / GRID]
        return out


def fit_sizes(spec: ModelSpec, sizes: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The dimension ranges (every dimension of ``spec``; ``sizes`` from the assumptions,
    :data:`SIZE_DEFAULT` otherwise) narrowed so that a drawn state fits the memory limit
    (:func:`~catapult_theory.resources.memory_limit`, beside what the process holds):
    the upper ends come down together as far as needed. :class:`InvalidInput` when even
    the smallest state the assumptions allow does not fit."""
    from ..resources import ENV_VAR, baseline_memory, format_bytes, memory_limit

    full: dict[str, tuple[int, int]] = {d.name: (int(sizes.get(d.name, SIZE_DEFAULT)[0]),
                                                 int(sizes.get(d.name, SIZE_DEFAULT)[1])) for d in spec.dims}
    limit, source = memory_limit()
    room = limit - baseline_memory()
    low = {d: lo for d, (lo, _) in full.items()}
    need = state_bytes(spec, low)
    if need > room:
        where = ", ".join(f"{d} = {v}" for d, v in low.items())
        raise InvalidInput(f"a state of {spec.name} with {where} holds about {format_bytes(need)} of matrices, above the "
                           f"memory limit of {format_bytes(limit)} ({source}) beside the {format_bytes(limit - room)} "
                           f"held already; assume smaller dimensions, or raise the limit with --max-memory or {ENV_VAR}")

    # the small default ranges stay as they are while the large ones come down, if that fits
    floor = {d: min(hi, max(lo, SIZE_DEFAULT[1])) for d, (lo, hi) in full.items()}
    if state_bytes(spec, floor) > room:
        floor = low

    def at(t: float) -> dict[str, int]:
        return {d: max(floor[d], lo + int(t * (hi - lo))) for d, (lo, hi) in full.items()}

    if state_bytes(spec, at(1.0)) > room:
        lo_t, hi_t = 0.0, 1.0
        for _ in range(60):
            mid = (lo_t + hi_t) / 2
            lo_t, hi_t = (mid, hi_t) if state_bytes(spec, at(mid)) <= room else (lo_t, mid)
        top = at(lo_t)
        full = {d: (lo, top[d]) for d, (lo, _) in full.items()}
    return {d: r for d, r in full.items() if d in sizes or r != tuple(SIZE_DEFAULT)}


def plan_states(model: str | Path | SymbolicModel | ModelSpec, assume: Sequence[str] = (), *,
                steps: int = 1000, builder: str | None = None) -> StatePlan:
    """Parse the assumptions and split them into generator ranges and filters.

    Raises :class:`InvalidInput` for a malformed assumption or one that leaves no values.
    """
    spec = model if isinstance(model, ModelSpec) else resolve_model(model, builder)
    names = spec.names
    gens: list[Expr] = []
    filters: list[Expr] = []
    found: dict[str, list[Bound]] = {}
    dims = {d.name for d in spec.dims}
    scalars = {c.name for c in spec.scalars} - dims
    generated = {"k", "y"} | dims | scalars
    for text in assume:
        e = parse_expr_safe(text, names, what="assumption", strings=PHASES)
        bs = bounds_of(e, {"k": _is_k})
        if bs is not None and all(b.name in generated for b in bs):
            gens.append(e)
            for b in bs:
                found.setdefault(b.name, []).append(b)
        else:
            filters.append(e)
    kw: dict[str, Any] = {}
    if "k" in found:
        b = _merge(found["k"])
        if b.low is not None and b.low == b.high:
            v = float(b.low)
            if Fraction(v) != b.low or v <= 0:
                raise InvalidInput(f"k = {b.low} cannot be drawn: k must be a positive float")
            kw["k"] = (v, v, False, False)
        else:
            lo, lo_s = (_float_bound(b.low, True) if b.low is not None else (K_DEFAULT[0], True))
            lo_strict = b.low_strict and lo_s
            if b.low is None:
                lo_strict = False
            if lo < 0 or (lo == 0 and not lo_strict):
                lo, lo_strict = 0.0, True  # k = eta*lam > 0 always
            if b.high is not None:
                hi, hi_s = _float_bound(b.high, False)
                hi_strict = b.high_strict and hi_s
            else:
                hi, hi_strict = (K_DEFAULT[1] if lo < K_DEFAULT[1] else lo + K_DEFAULT[1]), True
            if hi < lo or (hi == lo and (lo_strict or hi_strict)):
                raise InvalidInput("the assumptions leave no value for k = eta*lam")
            kw["k"] = (lo, hi, lo_strict, hi_strict)
    if "y" in found:
        b = _merge(found["y"])
        if b.low is not None and b.low == b.high:
            kw["y_fixed"] = b.low
        else:
            ylo = b.low if b.low is not None else Fraction(-3)
            yhi = b.high if b.high is not None else Fraction(3)
            if b.low is not None and b.high is None:
                yhi = max(yhi, ylo + 6)
            if b.high is not None and b.low is None:
                ylo = min(ylo, yhi - 6)
            kw["y"] = _grid_range(ylo, yhi, b.low_strict, b.high_strict, "y")
    sizes: dict[str, tuple[int, int]] = {}
    for d in dims & set(found):
        b = _merge(found[d])
        lo_i = 1 if b.low is None else math.ceil(b.low) + (1 if b.low_strict and b.low == math.ceil(b.low) else 0)
        lo_i = max(lo_i, 1)
        if b.high is None:
            hi_i = max(lo_i + SIZE_DEFAULT[1] - 1, SIZE_DEFAULT[1]) if b.low is not None else SIZE_DEFAULT[1]
        else:
            hi_i = math.floor(b.high) - (1 if b.high_strict and b.high == math.floor(b.high) else 0)
        if lo_i > hi_i:
            raise InvalidInput(f"the assumptions leave no value for the dimension {d}")
        sizes[d] = (lo_i, hi_i)
    sizes = fit_sizes(spec, sizes)
    srange: dict[str, tuple[int, int]] = {}
    for c in scalars & set(found):
        b = _merge(found[c])
        clo = b.low if b.low is not None else (b.high - 6 if b.high is not None else Fraction(-3))
        chi = b.high if b.high is not None else clo + 6
        srange[c] = _grid_range(clo, chi, b.low_strict and b.low is not None, b.high_strict and b.high is not None, c)
    ranges = Ranges(sizes=sizes, scalars=srange, **kw)
    return StatePlan(spec, ranges, tuple(gens), tuple(filters), steps)


def model_states(model: str | Path | SymbolicModel, assume: Sequence[str] = (), *, steps: int = 1000,
                 builder: str | None = None) -> st.SearchStrategy[ModelState]:
    """Realisable states of a model (a registered name, a :class:`SymbolicModel` or a ``.py`` file).

    ``assume`` are assumptions in the claim language: bounds on ``k``
    (``eta*lam``), ``y``, a dimension or a model scalar shape the generator, the
    rest filter. Each state carries the filters, so that a :class:`StateClaim`
    re-checks them exactly for a counterexample. ``steps`` is the budget of the
    runs behind the run outcomes.
    """
    plan = plan_states(model, assume, steps=steps, builder=builder)
    return plan.strategy().filter(plan.admits)


# ----------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class StateClaim(Claim[ModelState]):
    """A claim parsed from text (the :mod:`._expr` language) about a model's states.

    Calling it evaluates the claim in floats; where that says false, it re-checks
    the claim and the state's filtering assumptions in exact arithmetic and
    returns the exact verdict. Inside a Hypothesis search, a state where the
    claim (or an assumption) is undefined is rejected (``hypothesis.reject``).
    """

    expr: Expr | None = None
    model: str = ""

    def __call__(self, example: ModelState) -> bool:
        verdict = self.verdict(example)
        if verdict is None:
            reject()
        return bool(verdict)

    def verdict(self, example: ModelState) -> bool | None:
        """True or false at ``example`` (exactly, where floats say false), or ``None`` when the
        claim, or an assumption the example carries, has no value there or the assumption is false."""
        assert self.expr is not None
        try:
            if _holds(self.expr, example, False):
                return True
        except Undefined:
            pass
        try:
            ok = _holds(self.expr, example, True)
            if not ok:
                for a in getattr(example, "assumptions", ()):
                    if not _holds(a, example, True):
                        return None
        except Undefined:
            return None
        return ok

    def violated(self, example: ModelState) -> Side:
        """The violated relation at a counterexample, with both sides."""
        assert self.expr is not None
        return _violated(self.expr, example)


def parse_claim(text: str, model: str | Path | SymbolicModel | ModelSpec, builder: str | None = None) -> StateClaim:
    """Parse ``text`` as a claim about ``model``'s states (:class:`InvalidInput` if malformed).

    The claim may read the names of :attr:`ModelSpec.names` (state, next-step
    values, ``k``, the model's dimensions and scalars, run outcomes), numbers,
    ``+ - * / **``, comparisons, ``and``/``or``/``not`` and ``abs``, ``sqrt``,
    ``log``, ``exp``, ``min``, ``max``; ``phase`` compares with a quoted phase name.
    """
    spec = model if isinstance(model, ModelSpec) else resolve_model(model, builder)
    expr = parse_expr_safe(text, spec.names, what="claim", strings=PHASES)
    return StateClaim(text.strip(), lambda s: True, expr, spec.name)


# ----------------------------------------------------------------------------- the search
class _AllRejected(BaseException):
    """Every state drawn so far failed the assumptions: stop the search (not a failure to shrink)."""


@dataclass
class SearchResult:
    """Outcome of :func:`search`."""

    model: str
    claim: str
    assumptions: tuple[str, ...]
    generated_by: tuple[str, ...]
    filtered_by: tuple[str, ...]
    examples: int
    rejected: int
    max_examples: int
    seed: int
    plan: StatePlan
    counterexample: ModelState | None = None
    side: Side | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def falsified(self) -> bool:
        """True when a counterexample was found."""
        return self.counterexample is not None


def search(claim: str, model: str | Path | SymbolicModel | ModelSpec, assume: Sequence[str] = (), *,
           max_examples: int = 200, seed: int = 0, steps: int = 1000, builder: str | None = None) -> SearchResult:
    """Search for a state where ``claim`` is false, with explicit settings.

    Unlike :func:`~catapult_theory.testing.falsify` (which runs under the caller's
    profile) the settings here are fixed by the arguments: ``max_examples``
    valid examples, the random generator seeded with ``seed``, no example
    database, no deadline. A counterexample is shrunk by Hypothesis and
    re-checked in exact arithmetic.
    """
    spec = model if isinstance(model, ModelSpec) else resolve_model(model, builder)
    sc = parse_claim(claim, spec)
    plan = plan_states(spec, assume, steps=steps)
    count = {"tried": 0, "rejected": 0, "undefined": 0, "claim_undefined": 0}
    found: list[bool] = []
    give_up = max(50, 10 * max_examples)

    def condition(state: ModelState) -> bool:
        try:
            state.values()
        except Undefined:  # lam = 0 (no learning rate gives k) or a value overflows
            if not found:
                count["undefined"] += 1
            reject()
        if not plan.admits(state):
            if not found:
                count["rejected"] += 1
                if count["tried"] == 0 and count["rejected"] + count["claim_undefined"] >= give_up:
                    raise _AllRejected  # a BaseException: it ends the search at once, nothing to shrink
            reject()
        verdict = sc.verdict(state)
        if verdict is None:
            if not found:
                count["claim_undefined"] += 1
                if count["tried"] == 0 and count["rejected"] + count["claim_undefined"] >= give_up:
                    raise _AllRejected
            reject()
        holds = bool(verdict)
        if not found:
            count["tried"] += 1
        if not holds:
            found.append(True)
        return not holds

    settings = Settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
                        print_blob=False)
    result = SearchResult(spec.name, sc.name, tuple(assume), tuple(g.text for g in plan.generators),
                          tuple(f.text for f in plan.filters), 0, 0, max_examples, seed, plan)
    assert sc.expr is not None
    reads = set(sc.expr.names())
    for e in (*plan.generators, *plan.filters):
        reads |= e.names()
    result.extra["reads"] = sorted(reads)
    try:
        cex = find(plan.strategy(), condition, settings=settings, random=random.Random(seed))
    except NoSuchExample:
        cex = None
    except (Unsatisfiable, _AllRejected):
        cex = None
    result.examples, result.rejected = count["tried"], count["rejected"]
    result.extra["undefined"] = count["undefined"]
    result.extra["claim_undefined"] = count["claim_undefined"]
    if cex is None and count["tried"] == 0:
        if count["claim_undefined"] and not count["rejected"]:
            raise InvalidInput(f"the claim has no value at any drawn state of {spec.name} ({count['claim_undefined']} "
                               "tried: a division by zero, the log or sqrt of a negative number, an overflow)")
        raise InvalidInput(f"the assumptions rejected every drawn state of {spec.name} ({count['rejected']} "
                           f"rejected, {count['claim_undefined']} where the claim has no value, {count['undefined']} "
                           "with lam = 0); loosen them or state them as bounds (k, eta*lam, y, dimensions, scalars) "
                           "so that they shape the generator")
    if cex is not None:
        result.counterexample = cex
        result.side = sc.violated(cex)
    return result
