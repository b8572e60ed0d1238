"""The proof kernel: the only code that decides whether a step is checked and a
theorem proved.

A proof is data. A :class:`Theorem` states its ``hypotheses`` and its
``conclusion`` (SymPy relations), a table of ``definitions`` (each symbol
defined once) and an ordered list of :class:`Step` objects. A step states a
``claim`` (a relation), the local ``hypotheses`` it may use beyond the
theorem's, the earlier steps or theorems it ``uses`` and how it is proved
(``by``). The kernel checks exactly the printed claim; nothing else runs
inside a step.

Semantics
---------
* Every symbol denotes a real number; a symbol's SymPy assumptions
  (``positive=True``, ...) are hypotheses, lifted into the printed list of
  the step (:func:`lifted`), never used silently.
* The free symbols of a step are universally quantified: the step asserts
  "theorem hypotheses and local hypotheses imply the claim" for all values.
  A sequence is an undefined function of an index (``w(t)``); ``Always(rel, t)``
  is "for every t >= 0", and may be instantiated at any index term.
* A fact used by a step (an earlier step, possibly instantiated by a
  substitution of its free symbols, or a proved theorem) is admitted only if
  every hypothesis it rests on is available in the using step.

Methods (``by``)
----------------
:class:`Identity`
    ``lhs = rhs`` after substituting definitions and the local equalities
    ``symbol = value``: the difference simplifies to 0; every denominator is
    proved non-zero and every root's radicand non-negative.
:class:`Certificate`
    ``g >= 0`` (or ``> 0``, or ``= 0``) for ``g = rhs - lhs``, from facts
    ``s_i >= 0`` (``> 0``, ``= 0``): ``g - sum_i c_i s_i - R`` is an identity,
    each multiplier ``c_i`` of an inequality fact and the remainder ``R`` have
    a sign read off their syntax (:func:`sign`); a strict claim needs a
    strictly positive remainder or a strict fact with a positive multiplier.
:class:`Chain`
    transitivity: a certificate whose multipliers are all 1 and remainder 0.
:class:`Induction`
    ``P(t)`` for all t from a base step ``P(0)`` and a step
    ``P(t) => P(t + 1)``, whose other hypotheses hold for every t.
:class:`Cases`
    a claim proved in each case of an exhaustive split on one expression.
:class:`Axiom`
    an instance of a named axiom of :mod:`proofs.axioms`, its hypotheses
    available.
:class:`Iterate`
    a one-step fact about an arbitrary state (``w2_next = ...``) applied at
    the t-th iterate of the theorem's :class:`Trajectory`.

A theorem is proved iff every step is checked and each conclusion is the
claim of a checked step whose hypotheses are all the theorem's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction

__all__ = [
    "Always", "Axiom", "Cases", "Certificate", "Chain", "Definition", "Identity", "Induction", "Iterate",
    "KernelError", "Obligation", "Step", "StepVerdict", "Theorem", "Trajectory", "TheoremVerdict", "Use",
    "canon", "check_theorem", "lifted", "rsubs", "sign", "strip",
]


class KernelError(ValueError):
    """A malformed proof object (not a relation, an unknown method, a name defined twice)."""


# ------------------------------------------------------------------ objects
@dataclass(frozen=True)
class Definition:
    """A symbol of the proof and what it stands for.

    ``symbol`` is a SymPy symbol, or an undefined function for a sequence
    (``w(t)``). ``value`` is its expression in other symbols (``None``: a
    primitive quantity, only described by ``meaning``); ``role`` marks the
    one-step symbols of a trajectory (``"next"``, with ``of`` the state symbol
    whose value after one GD step it is)."""

    symbol: Any
    meaning: str
    value: Any = None
    latex: str | None = None
    role: str | None = None
    of: Any = None
    #: hypotheses under which the value is defined (a denominator's sign): every
    #: step whose claim involves the symbol must have them
    where: tuple = ()


@dataclass(frozen=True)
class Always:
    """``relation`` holds for every value ``index >= 0`` of the sequence index."""

    relation: Any
    index: sp.Symbol

    def at(self, value: sp.Expr) -> sp.Basic:
        r = self.relation
        return type(r)(r.lhs.xreplace({self.index: value}), r.rhs.xreplace({self.index: value}), evaluate=False)

    def __str__(self) -> str:
        return f"for all {self.index} >= 0: {_show(self.relation)}"


@dataclass(frozen=True)
class Use:
    """A reference to an earlier step (or ``theorem:ID``), with a substitution of
    its free symbols (universal instantiation)."""

    name: str
    subs: Mapping[Any, Any] = field(default_factory=dict)


Ref = "str | Use"


@dataclass(frozen=True)
class Identity:
    """The claim is an equality that holds after substituting definitions."""


@dataclass(frozen=True)
class Certificate:
    """``terms``: ``(multiplier, fact)`` pairs, a fact being a relation of the
    context or the name of a used step; ``remainder``: the rest, given in a form
    whose sign can be read (default: computed)."""

    terms: tuple = ()
    remainder: Any = None


@dataclass(frozen=True)
class Chain:
    """Transitivity through the claims of the named used steps."""

    refs: tuple = ()


@dataclass(frozen=True)
class Induction:
    base: str
    step: str
    index: sp.Symbol


@dataclass(frozen=True)
class Cases:
    """``cases``: ``(condition, step name)`` pairs; each step proves the claim
    with its condition as a local hypothesis."""

    cases: tuple = ()


@dataclass(frozen=True)
class Axiom:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Iterate:
    """The claim of ``ref`` (a fact about one GD step from an arbitrary state)
    at the t-th iterate of the theorem's trajectory."""

    ref: Any


METHODS = (Identity, Certificate, Chain, Induction, Cases, Axiom, Iterate)


@dataclass(frozen=True)
class Step:
    name: str
    claim: Any
    by: Any
    hypotheses: tuple = ()
    uses: tuple = ()
    note: str = ""
    #: an optional numeric cross-check (run beside the kernel, not by it)
    numeric: Callable[[], Any] | None = None
    #: the key of the Coq theorem that proves the same conclusion (``proofs/_coq.py``), if any
    coq: str = ""


@dataclass(frozen=True)
class Trajectory:
    """GD iterates ``θ_t``: each state symbol is a sequence at ``index``; a
    ``role="next"`` symbol is its sequence at ``index + 1``; ``residual`` maps
    the residual symbol to its value at the iterate."""

    index: sp.Symbol
    state: Mapping[sp.Symbol, Any]
    residual: tuple = ()
    #: symbols that are the same at every iterate (learning rate, data, width)
    constants: tuple = ()


@dataclass(frozen=True)
class Theorem:
    id: str
    hypotheses: tuple
    conclusion: tuple
    steps: tuple
    definitions: tuple = ()
    model: str | None = None
    title: str = ""
    trajectory: Trajectory | None = None
    generic: bool = False

    @property
    def label(self) -> str:
        return f"{self.id}[{self.model}]" if self.generic and self.model else self.id


# ------------------------------------------------------------------ normal forms
_REL = (sp.Equality, sp.Unequality, sp.LessThan, sp.StrictLessThan, sp.GreaterThan, sp.StrictGreaterThan)


def rsubs(rel: Any, mapping: Mapping) -> Any:
    """``rel`` (a relation, an ``Always`` or an expression) with ``mapping``
    applied; a relation is rebuilt without evaluating it."""
    if isinstance(rel, Always):
        return Always(rsubs(rel.relation, mapping), rel.index)
    if isinstance(rel, _REL):
        return type(rel)(rel.lhs.xreplace(mapping), rel.rhs.xreplace(mapping), evaluate=False)
    return sp.sympify(rel).xreplace(mapping)


def _plain(s: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(s.name)


def strip(expr: Any) -> Any:
    """``expr`` with every symbol replaced by the plain symbol of the same name
    and every sequence by the plain function of the same name: the printed
    name is the identity of a symbol, and no assumption is carried (the
    kernel reads every symbol as a real number). A relation is rebuilt without
    evaluating it."""
    expr = sp.sympify(expr)
    if isinstance(expr, _REL):
        return type(expr)(strip(expr.lhs), strip(expr.rhs), evaluate=False)
    reps: dict = {}
    for s in expr.free_symbols:
        if isinstance(s, sp.Dummy):
            raise KernelError(f"a dummy symbol {s} in a proof object: every symbol must be named")
        if isinstance(s, sp.Symbol):
            reps[s] = _plain(s)
    out = expr.xreplace(reps)
    if out.atoms(AppliedUndef):
        out = out.replace(lambda e: isinstance(e, AppliedUndef),
                          lambda e: sp.Function(e.func.__name__)(*e.args))
    return out


def _real(expr: sp.Expr) -> sp.Expr:
    """``expr`` over real symbols (sequence terms, limits and sums as real symbols
    named by their text), for simplification."""
    opaque = {a: sp.Symbol(sp.sstr(a), real=True) for a in expr.atoms(AppliedUndef, sp.Limit, sp.Sum)}
    e = expr.xreplace(opaque)
    return e.xreplace({s: sp.Symbol(s.name, real=True) for s in e.free_symbols
                       if isinstance(s, sp.Symbol) and not s.is_real})


def lifted(exprs: Iterable[Any]) -> tuple:
    """The hypotheses carried by symbol assumptions in ``exprs`` (``s > 0`` for a
    positive symbol, ...), which the kernel adds to the step's hypotheses."""
    out = []
    seen = set()
    for e in exprs:
        rels = [e.relation] if isinstance(e, Always) else [e]
        for r in rels:
            for s in sorted(sp.sympify(r).free_symbols, key=str):
                if not isinstance(s, sp.Symbol) or s.name in seen:
                    continue
                rel = None
                if s.is_positive:
                    rel = sp.Gt(_plain(s), 0)
                elif s.is_nonnegative:
                    rel = sp.Ge(_plain(s), 0)
                elif s.is_negative:
                    rel = sp.Lt(_plain(s), 0)
                elif s.is_nonpositive:
                    rel = sp.Le(_plain(s), 0)
                elif s.is_zero is False and s.is_real:
                    rel = sp.Ne(_plain(s), 0)
                if rel is not None:
                    seen.add(s.name)
                    out.append(rel)
    return tuple(out)


def _relation(rel: Any, what: str) -> sp.Basic:
    if isinstance(rel, (bool, sp.logic.boolalg.BooleanAtom)):
        raise KernelError(f"{what}: {rel} is a truth value, not a relation (SymPy evaluated it when it was "
                          "built: use symbols without assumptions, stating signs as hypotheses, or evaluate=False)")
    if not isinstance(rel, _REL):
        raise KernelError(f"{what}: {rel!r} is not a relation (Eq, Ne, Le, Lt, Ge, Gt)")
    return rel


def canon(rel: Any) -> tuple:
    """A key that identifies a relation up to moving terms across and swapping
    sides: ``('le', g)`` for ``g >= 0``, ``('lt', g)`` for ``g > 0``, ``('eq', ±g)``
    and ``('ne', ±g)`` for ``g = 0`` / ``g != 0`` (sign fixed canonically)."""
    if isinstance(rel, Always):
        return ("all", str(rel.index), canon(rel.relation))
    rel = strip(_relation(rel, "relation"))
    if isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        g = sp.expand(rel.rhs - rel.lhs)
    elif isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)):
        g = sp.expand(rel.lhs - rel.rhs)
    else:
        g = sp.expand(rel.lhs - rel.rhs)
        if sp.default_sort_key(-g) < sp.default_sort_key(g):
            g = sp.expand(-g)
    op = {sp.LessThan: "le", sp.GreaterThan: "le", sp.StrictLessThan: "lt", sp.StrictGreaterThan: "lt",
          sp.Equality: "eq", sp.Unequality: "ne"}[type(rel)]
    return (op, g)


def _slack(rel: sp.Basic) -> tuple[str, sp.Expr]:
    """``(op, s)`` with the relation equivalent to ``s >= 0`` (``le``), ``s > 0``
    (``lt``), ``s = 0`` (``eq``) or ``s != 0`` (``ne``)."""
    return canon(rel)


# ------------------------------------------------------------------ signs
# a sign is the set of values in {-1, 0, 1} an expression may take
_ANY = frozenset({-1, 0, 1})
POS, NONNEG, ZERO, NONZERO = frozenset({1}), frozenset({0, 1}), frozenset({0}), frozenset({-1, 1})


def _neg(s: frozenset) -> frozenset:
    return frozenset(-v for v in s)


def _mul(a: frozenset, b: frozenset) -> frozenset:
    return frozenset(x * y for x in a for y in b)


def _add(a: frozenset, b: frozenset) -> frozenset:
    out = set()
    for x in a:
        for y in b:
            if x == 0 or y == 0 or x == y:
                out.add(x + y if abs(x + y) <= 1 else x)
            else:
                out |= {-1, 0, 1}
    return frozenset(out)


class _Facts(dict):
    """Sign facts ``expression -> sign``, with a memo of the signs read under them."""

    def __init__(self) -> None:
        super().__init__()
        self.memo: dict = {}


def _facts(context: Iterable[sp.Basic]) -> dict:
    """Sign facts ``expression -> sign`` read off relations of the context."""
    facts = _Facts()

    def put(e: sp.Expr, s: frozenset) -> None:
        for key, sg in ((sp.expand(e), s), (sp.expand(-e), _neg(s))):
            facts[key] = facts.get(key, _ANY) & sg

    for rel in context:
        if isinstance(rel, Always):
            continue
        op, g = _slack(rel)
        put(g, {"le": NONNEG, "lt": POS, "eq": ZERO, "ne": NONZERO}[op])
    return facts


def sign(expr: Any, facts: Mapping, _depth: int = 0) -> frozenset:
    memo = getattr(facts, "memo", None)
    if memo is None:
        return _sign(expr, facts, _depth)
    key = (sp.sympify(expr), _depth)
    if key not in memo:
        memo[key] = _sign(expr, facts, _depth)
    return memo[key]


def _sign(expr: Any, facts: Mapping, _depth: int = 0) -> frozenset:
    """The signs ``expr`` may take, read off its syntax: numbers by value, a
    subexpression by the facts of the context, sums and products by the rules
    of signs, even powers are >= 0, ``Abs`` is >= 0, roots of non-negative
    radicands are >= 0, ``Max``/``Min`` by their arguments. Anything else may
    take any sign."""
    e = sp.sympify(expr)
    key = sp.expand(e)
    known = facts.get(key)
    if e.is_Number:
        v = float(e)
        return POS if v > 0 else (ZERO if v == 0 else _neg(POS))
    if known is not None and len(known) == 1:
        return known
    got = _ANY if known is None else known
    if isinstance(e, sp.Add):
        s = ZERO
        for a in e.args:
            s = _add(s, sign(a, facts))
        got &= s
    elif isinstance(e, sp.Mul):
        s = POS
        for a in e.args:
            s = _mul(s, sign(a, facts))
        got &= s
    elif isinstance(e, sp.Pow):
        b, k = e.args
        sb = sign(b, facts)
        if k.is_Integer:
            if int(k) % 2 == 0:
                got &= POS if 0 not in sb else NONNEG
            else:
                got &= sb
            if int(k) < 0:
                got &= _ANY - ZERO if 0 not in sb else _ANY  # a power with a zero base is undefined
        elif k.is_Rational and sb <= NONNEG:
            got &= POS if sb == POS else NONNEG
    elif isinstance(e, sp.Abs):
        got &= POS if 0 not in sign(e.args[0], facts) else NONNEG
    elif isinstance(e, (sp.Max, sp.Min)):
        signs = [sign(a, facts) for a in e.args]
        if isinstance(e, sp.Max):
            if any(s == POS for s in signs):
                got &= POS
            elif any(s <= NONNEG for s in signs):
                got &= NONNEG
        else:
            if all(s == POS for s in signs):
                got &= POS
            elif all(s <= NONNEG for s in signs):
                got &= NONNEG
    if len(got) > 1 and isinstance(e, (sp.Add, sp.Mul)) and _depth < 2:
        if isinstance(e, sp.Add):
            f = sp.factor(e)  # a product may read better factored
            if f != e and not isinstance(f, sp.Add):
                got &= sign(f, facts, _depth + 1)
        if len(got) > 1:  # or as a known-sign fact times a quotient of known sign
            free = e.free_symbols
            for key, sg in facts.items():
                if sg == ZERO or key.is_Number or not (len(sg) == 1 or sg in (NONNEG, _neg(NONNEG))):
                    continue
                if not key.free_symbols <= free:  # e = key·q with q free of what e lacks
                    continue
                q = sp.cancel(e / key)
                if q.has(key) or sp.count_ops(q) > sp.count_ops(e):
                    continue
                if len(sg) > 1 and sp.denom(q) != 1:  # e = key·q must hold where key = 0 too
                    continue
                sq = sign(q, facts, _depth + 1)
                if len(sq) == 1 or sq <= NONNEG or sq <= _neg(NONNEG):
                    got &= _mul(sg, sq)
                    if len(got) == 1 or got <= NONNEG:
                        break
    return got


def _is(s: frozenset, want: frozenset) -> bool:
    return bool(s) and s <= want


# ------------------------------------------------------------------ context
@dataclass(frozen=True)
class Obligation:
    """What a step asserts, as the kernel checked it: the context (hypotheses,
    their instances and the facts used) implies the claim, with the definitions
    substituted by the checker. The second checker is given exactly this."""

    claim: sp.Basic
    context: tuple
    definitions: Mapping
    kind: str  # "identity" | "inequality" | "structural"
    functions: Mapping = field(default_factory=dict)


@dataclass
class StepVerdict:
    name: str
    ok: bool
    detail: str
    hypotheses: tuple  # the step's printed hypotheses: local ones and lifted assumptions
    obligation: Obligation | None = None
    axioms: tuple = ()
    vacuous: bool = False


@dataclass
class TheoremVerdict:
    label: str
    proved: bool
    steps: list
    error: str = ""
    hypotheses: tuple = ()
    axioms: tuple = ()

    @property
    def failed(self) -> tuple:
        return tuple(s.name for s in self.steps if not s.ok)


def _index_terms(exprs: Iterable[Any]) -> set:
    """The arguments of sequence terms (``w(t + 1)`` gives ``t + 1``)."""
    out: set = set()
    for e in exprs:
        rel = e.relation if isinstance(e, Always) else e
        for a in sp.sympify(rel).atoms(AppliedUndef):
            if len(a.args) == 1:
                out.add(strip(a.args[0]))
    return out


class _Defs:
    """The definitions table: symbol name -> Definition, values stripped."""

    def __init__(self, defs: Sequence[Definition]):
        self.by_name: dict[str, Definition] = {}
        self.values: dict = {}
        self.funcs: dict = {}
        self.where: dict = {}
        for d in defs:
            name = d.symbol.__name__ if isinstance(d.symbol, UndefinedFunction) else str(d.symbol)
            if name in self.by_name:
                old = self.by_name[name]
                if old.value != d.value or old.meaning != d.meaning:
                    raise KernelError(f"symbol {name} is defined twice, differently")
                continue
            self.by_name[name] = d
            if d.value is None:
                continue
            if isinstance(d.symbol, UndefinedFunction):
                lam = d.value
                if not isinstance(lam, sp.Lambda):
                    raise KernelError(f"the value of the function {name} must be a Lambda")
                self.funcs[name] = sp.Lambda(tuple(strip(v) for v in lam.variables), strip(lam.expr))
            else:
                self.values[sp.Symbol(name)] = strip(d.value)
                if d.where:
                    self.where[sp.Symbol(name)] = tuple(d.where)

    def expand(self, expr: Any, depth: int = 0) -> sp.Expr:
        """``expr`` with every defined symbol replaced by its value, recursively."""
        if isinstance(expr, _REL):
            return type(expr)(self.expand(expr.lhs), self.expand(expr.rhs), evaluate=False)
        e = strip(expr)
        for _ in range(32):
            new = e.xreplace(self.values)
            if self.funcs:
                new = new.replace(lambda a: isinstance(a, AppliedUndef) and a.func.__name__ in self.funcs,
                                  lambda a: self.funcs[a.func.__name__](*a.args))
            if new == e:
                return e
            e = new
        raise KernelError("definitions nest too deeply (a cycle?)")


def _substitutions(context: Iterable[sp.Basic]) -> dict:
    """Local equalities ``symbol = value`` (or ``w(t) = value``) of the context, as
    substitutions (a symbol is replaced only by a value free of it)."""
    subs: dict = {}
    for rel in context:
        if isinstance(rel, sp.Equality):
            r = strip(rel)
            for a, b in ((r.lhs, r.rhs), (r.rhs, r.lhs)):
                if isinstance(a, (sp.Symbol, AppliedUndef)) and a not in subs and not b.has(a):
                    subs[a] = b
                    break
    return subs


def _signed_dummies(expr: sp.Expr, facts: Mapping) -> sp.Expr:
    """Symbols with a known sign replaced by symbols carrying that sign, so that
    simplification may use it (``sqrt(x**2) = x`` needs ``x >= 0``)."""
    reps = {}
    for s in expr.free_symbols:
        sg = sign(s, facts)
        if sg == POS:
            reps[s] = sp.Symbol(s.name, positive=True)
        elif sg <= NONNEG:
            reps[s] = sp.Symbol(s.name, nonnegative=True)
        elif sg == NONZERO:
            reps[s] = sp.Symbol(s.name, real=True, nonzero=True)
        else:
            reps[s] = sp.Symbol(s.name, real=True)
    return _real(expr.xreplace(reps))


def _denominators_ok(expr: sp.Expr, facts: Mapping) -> str:
    """'' if every denominator of ``expr`` is proved non-zero and every radicand
    non-negative; else the offending term."""
    for p in sp.preorder_traversal(expr):
        if isinstance(p, sp.Pow):
            b, k = p.args
            if k.is_Number and k < 0 and 0 in sign(b, facts):
                return f"division by {sp.sstr(b)}, not proved non-zero"
            if k.is_Rational and not k.is_Integer and not _is(sign(b, facts), NONNEG):
                return f"root of {sp.sstr(b)}, not proved non-negative"
    return ""


def _is_zero(expr: sp.Expr, facts: Mapping) -> bool:
    """``expr`` is 0: as a polynomial, as the numerator of one fraction (its
    denominators are proved non-zero by the callers), or after simplification
    with the signs the context gives its symbols."""
    d = sp.expand(expr)
    if d == 0:
        return True
    if sp.expand(sp.numer(sp.together(d))) == 0:
        return True
    d = _signed_dummies(d, facts)
    for form in (sp.cancel, sp.simplify):
        if sp.expand(form(d)) == 0:
            return True
    return False


# ------------------------------------------------------------------ the checker
class _Checker:
    def __init__(self, th: Theorem, cited: Mapping[str, tuple]):
        if not th.steps:
            raise KernelError("a theorem needs steps")
        self.th = th
        self.defs = _Defs(th.definitions)
        self.hyps = tuple(self._norm_hyp(h, "theorem hypothesis") for h in th.hypotheses)
        concl = [c[0] if isinstance(c, tuple) else c for c in th.conclusion]
        values = [d.value.expr if isinstance(d.value, sp.Lambda) else d.value for d in th.definitions
                  if d.value is not None]
        values += [d.symbol for d in th.definitions if isinstance(d.symbol, sp.Symbol)]
        self.hyps = self.hyps + tuple(h for h in lifted(list(th.hypotheses) + concl + [sp.Eq(v, 0, evaluate=False)
                                                                                      for v in values])
                                      if canon(h) not in {canon(x) for x in self.hyps if not isinstance(x, Always)})
        self.cited = cited
        for sym, val in self.defs.values.items():
            where = [strip(h) for h in self.defs.where.get(sym, ())]
            facts = _facts(self._instances(list(self.hyps) + where, list(self.hyps) + where))
            bad = _denominators_ok(val, facts)
            if bad:
                raise KernelError(f"the definition of {sym}: {bad} by the theorem's hypotheses"
                                  + (" and its own" if where else ""))
        self.done: dict[str, tuple[Step, StepVerdict]] = {}
        self.axioms_used: set[str] = set()

    @staticmethod
    def _norm_hyp(h: Any, what: str) -> Any:
        if isinstance(h, Always):
            return Always(strip(_relation(h.relation, what)), strip(h.index))
        return strip(_relation(h, what))

    # -- availability
    def _available(self, h: Any, local: Sequence[Any], extra: Sequence[sp.Basic] = ()) -> bool:
        pool = list(self.hyps) + list(local)
        if isinstance(h, Always):
            key = canon(Always(strip(h.relation), strip(h.index)))
            return any(isinstance(p, Always) and canon(p) == key for p in pool)
        key = canon(h)
        if key[0] in ("eq", "le") and key[1] == 0:  # a tautology (an instance made it x = x)
            return True
        if key[1].is_Number:  # a relation between numbers holds or not
            return bool({"le": key[1] >= 0, "lt": key[1] > 0, "eq": key[1] == 0, "ne": key[1] != 0}[key[0]])
        if any(not isinstance(p, Always) and canon(p) == key for p in pool) or any(canon(x) == key for x in extra):
            return True
        terms = _index_terms([h]) | {sp.Integer(0)}
        for p in pool:
            if isinstance(p, Always):
                for e in terms:
                    if canon(p.at(e)) == key:
                        return True
        return False

    def _instances(self, pool: Sequence[Any], exprs: Sequence[Any]) -> list:
        """Always hypotheses instantiated at every index term of ``exprs``."""
        terms = _index_terms(exprs) | {sp.Integer(0)}
        out = []
        for p in pool:
            if isinstance(p, Always):
                out += [p.at(e) for e in sorted(terms, key=sp.default_sort_key)]
            else:
                out.append(p)
        return out

    # -- facts from uses
    def _cited_conclusions(self, tid: str, local: Sequence[Any], extra: Sequence[sp.Basic] = (),
                           subs: Mapping | None = None) -> tuple[list, str]:
        """The conclusions of a proved theorem usable here: each one whose hypotheses
        (the theorem's and its own) are available, and whose defined symbols are
        defined identically here."""
        entry = self.cited.get(tid)
        if entry is None:
            return [], f"uses theorem:{tid}, which is not a theorem of this run"
        th_c, verdict = entry
        if not verdict.proved:
            return [], f"uses theorem:{tid}, which was not proved"
        theirs = _Defs(th_c.definitions)
        out, why = [], ""
        for c in th_c.conclusion:
            rel, own = (c if isinstance(c, tuple) else (c, ()))
            rel = strip(rel)
            bad = self._foreign(rel, theirs)
            if bad:
                why = why or f"theorem:{tid}: {bad}"
                continue
            hyps = [self._instance(h, subs or {}) for h in list(verdict.hypotheses) + list(own)]
            missing = [h for h in hyps if not self._available(h, local, extra)]
            if missing:
                why = why or f"theorem:{tid} needs {_show(missing[0])}, not available here"
                continue
            out.append(self._instance(rel, subs or {}))
        if out:
            self.axioms_used |= set(verdict.axioms)
        return out, ("" if out else why or f"theorem:{tid} has no conclusion usable here")

    def _foreign(self, rel: sp.Basic, theirs: "_Defs") -> str:
        """'' if every symbol ``rel`` reaches through the cited theorem's definitions is
        defined the same way here; else which is not."""
        todo, seen = list(sp.sympify(rel).free_symbols), set()
        while todo:
            sym = todo.pop()
            if sym in seen:
                continue
            seen.add(sym)
            d_theirs = theirs.by_name.get(str(sym))
            if d_theirs is None:
                continue
            d_ours = self.defs.by_name.get(str(sym))
            v_theirs = theirs.values.get(sym)
            if d_ours is None:
                return f"{sym} is defined there, not here"
            if v_theirs is not None and sp.expand(self.defs.values.get(sym, sp.nan) - v_theirs) != 0:
                return f"{sym} is defined differently there"
            if v_theirs is not None:
                todo += list(v_theirs.free_symbols)
        return ""

    def _resolve(self, ref: Any, local: Sequence[Any], extra: Sequence[sp.Basic] = ()) -> tuple[list, str]:
        """The claims a reference contributes (instantiated), or an error."""
        name, subs = (ref.name, dict(ref.subs)) if isinstance(ref, Use) else (str(ref), {})
        subs = {strip(k): strip(v) for k, v in subs.items()}
        if name.startswith("theorem:"):
            return self._cited_conclusions(name[len("theorem:"):], local, extra, subs)
        if name not in self.done:
            return [], f"uses {name!r}, which is not an earlier step"
        step, verdict = self.done[name]
        if not verdict.ok:
            return [], f"uses {name!r}, which failed"
        for h in verdict.hypotheses:
            hh = self._instance(h, subs)
            if not self._available(hh, local, extra):
                return [], f"step {name!r} rests on {_show(hh)}, not available here"
        self.axioms_used |= set(verdict.axioms)
        return [self._instance(step.claim, subs)], ""

    def _instance(self, rel: Any, subs: Mapping) -> Any:
        """``rel`` with its free symbols substituted; definitions are substituted
        first, since a defined symbol hides the symbols of its value."""
        if not subs:
            return Always(strip(rel.relation), strip(rel.index)) if isinstance(rel, Always) else strip(rel)
        if isinstance(rel, Always):
            return Always(rsubs(self.defs.expand(rel.relation), subs), strip(rel.index))
        r = self.defs.expand(rel)
        return type(r)(r.lhs.xreplace(subs), r.rhs.xreplace(subs), evaluate=False)

    # -- one step
    def check_step(self, step: Step) -> StepVerdict:
        if step.name in self.done:
            raise KernelError(f"step {step.name!r} appears twice")
        claim = strip(_relation(step.claim, f"step {step.name!r}"))
        local = [self._norm_hyp(h, f"hypothesis of step {step.name!r}") for h in step.hypotheses]
        local += [h for h in lifted([step.claim, *step.hypotheses]) if not self._available(h, local)]
        printed = tuple(local)
        named: dict[str, list] = {}
        pending = list(step.uses)
        errors: dict = {}
        while pending:  # a used fact may discharge a hypothesis of another
            extra = [c for got in named.values() for c in got]
            progress = False
            for ref in list(pending):
                got, err = self._resolve(ref, local, extra)
                if err:
                    errors[id(ref)] = err
                    continue
                named[ref.name if isinstance(ref, Use) else str(ref)] = got
                pending.remove(ref)
                progress = True
            if not progress:
                return StepVerdict(step.name, False, errors[id(pending[0])], printed)
        facts = [c for got in named.values() for c in got]
        for need in self._where(claim):
            if not self._available(need, local):
                return StepVerdict(step.name, False, f"the claim uses a symbol defined only when {_show(need)}, "
                                                     "which is not available here", printed)
        method = step.by
        if not isinstance(method, METHODS):
            return StepVerdict(step.name, False, f"unknown method {type(method).__name__}", printed)
        context = self._instances(list(self.hyps) + local, [claim, *facts, *local]) + facts
        try:
            if isinstance(method, (Identity, Certificate, Chain)):
                v = (self._identity(step, claim, context, printed) if isinstance(method, Identity)
                     else self._certificate(step, claim, context, named, printed))
                if not v.ok and v.obligation is None:  # for the second checker's countermodel
                    v.obligation = self._obligation(claim, context, "identity" if isinstance(claim, sp.Equality)
                                                    else "inequality")
                return v
            if isinstance(method, Induction):
                return self._induction(step, claim, local, printed)
            if isinstance(method, Cases):
                return self._cases(step, claim, local, printed)
            if isinstance(method, Axiom):
                return self._axiom(step, claim, local, context, named, printed)
            return self._iterate(step, claim, local, printed)
        except KernelError as exc:
            return StepVerdict(step.name, False, str(exc), printed)

    def _where(self, rel: Any) -> list:
        """The ``where`` hypotheses of the defined symbols ``rel`` reaches."""
        out, seen = [], set()
        todo = list(sp.sympify(rel).free_symbols)
        while todo:
            s = todo.pop()
            if s in seen:
                continue
            seen.add(s)
            out += [strip(h) for h in self.defs.where.get(s, ())]
            if s in self.defs.values:
                todo += list(self.defs.values[s].free_symbols)
        return out

    def _obligation(self, claim, context, kind) -> Obligation:
        return Obligation(claim, tuple(c for c in context if not isinstance(c, Always)), dict(self.defs.values),
                          kind, dict(self.defs.funcs))

    def _reduce(self, expr: sp.Expr, context: Sequence[sp.Basic]) -> sp.Expr:
        """``expr`` with definitions and the context's equalities ``symbol = value`` substituted."""
        subs = _substitutions(context)
        e = self.defs.expand(expr)
        for _ in range(8):
            new = self.defs.expand(e.xreplace(subs))
            if new == e:
                return e
            e = new
        return e

    def _claim_denominators(self, expr, context, facts) -> str:
        """Denominators and radicands of a claim-level expression and of the values
        the context's equalities substitute (definitions' own are checked once)."""
        bad = _denominators_ok(expr, facts)
        for v in _substitutions(context).values():
            bad = bad or _denominators_ok(v, facts)
        return bad

    def _identity(self, step, claim, context, printed) -> StepVerdict:
        if not isinstance(claim, sp.Equality):
            return StepVerdict(step.name, False, "an identity step needs an equality", printed)
        facts = _facts(context)
        vacuous = sp.expand(claim.lhs - claim.rhs) == 0
        diff = self._reduce(claim.lhs - claim.rhs, context)
        bad = self._claim_denominators(claim.lhs - claim.rhs, context, facts)
        if bad:
            return StepVerdict(step.name, False, bad, printed)
        if not _is_zero(diff, facts):
            return StepVerdict(step.name, False, f"the difference of the two sides does not vanish: "
                                                 f"{sp.sstr(sp.factor(sp.expand(diff)))}", printed)
        return StepVerdict(step.name, True, "the two sides agree identically (definitions substituted)",
                           printed, self._obligation(claim, context, "identity"), vacuous=vacuous)

    def _certificate(self, step, claim, context, named, printed) -> StepVerdict:
        op, g = _slack(claim)
        if op == "ne":
            return StepVerdict(step.name, False, "a certificate proves >=, >, <=, < or =, not !=", printed)
        facts = _facts(context)
        method = step.by
        keys = {canon(c) for c in context if not isinstance(c, Always)}
        keys |= {canon(self.defs.expand(c)) for c in context if not isinstance(c, Always)}
        terms: list = []
        if isinstance(method, Chain):
            links = []
            for ref in method.refs:
                if ref not in named:
                    return StepVerdict(step.name, False, f"the chain names {ref!r}, which the step does not use",
                                       printed)
                links += named[ref]
            ineq = [f for f in links if _slack(f)[0] in ("le", "lt")]
            eqs = [f for f in links if _slack(f)[0] == "eq"]
            if len(ineq) + len(eqs) != len(links) or len(eqs) > 6:
                return StepVerdict(step.name, False, "a chain links inequalities and equalities only", printed)
            base = g - sum((_slack(f)[1] for f in ineq), sp.Integer(0))
            for signs in _sign_choices(len(eqs)):
                rest = base - sum((c * strip(f.lhs - f.rhs) for c, f in zip(signs, eqs)), sp.Integer(0))
                if _is_zero(self._reduce(rest, context), facts):
                    terms = [(sp.Integer(1), f) for f in ineq] + list(zip(signs, eqs))
                    break
            else:
                return StepVerdict(step.name, False, "the chain's links do not add up to the claim", printed)
            remainder: Any = sp.Integer(0)
        else:
            remainder = method.remainder
            for mult, fact in method.terms:
                if isinstance(fact, (str, Use)):
                    fname = fact.name if isinstance(fact, Use) else fact
                    if fname not in named:
                        return StepVerdict(step.name, False, f"the certificate names {fname!r}, which the step "
                                                             "does not use", printed)
                    fact = named[fname][0]
                fact = strip(_relation(fact, "fact"))
                if canon(fact) not in keys and canon(self.defs.expand(fact)) not in keys:
                    return StepVerdict(step.name, False, f"the certificate uses {_show(fact)}, which is neither "
                                                         "a hypothesis nor a used fact", printed)
                terms.append((strip(sp.sympify(mult)), fact))
        total = sp.Integer(0)
        strict_ok = False
        for mult, fact in terms:
            fop, s = _slack(fact)
            if fop == "eq":  # an equality's multiplier applies to lhs - rhs as written
                s = strip(fact.lhs - fact.rhs)
            if fop == "ne":
                return StepVerdict(step.name, False, f"{_show(fact)} is not an inequality or an equality", printed)
            sm = sign(mult, facts)
            if fop in ("le", "lt") and not _is(sm, NONNEG):
                return StepVerdict(step.name, False, f"the multiplier {sp.sstr(mult)} of {_show(fact)} is not "
                                                     "proved non-negative", printed)
            bad = _denominators_ok(mult, facts)
            if bad:
                return StepVerdict(step.name, False, bad, printed)
            strict_ok |= fop == "lt" and sm == POS
            total += mult * s
        rest = g - total
        if remainder is None:  # the rest as it reads, or with the definitions substituted
            remainder = sp.factor(sp.simplify(rest))
            if not _is(sign(remainder, facts), NONNEG):
                expanded = sp.factor(sp.simplify(self._reduce(rest, context)))
                if _is(sign(expanded, facts), NONNEG):
                    remainder = expanded
        remainder = strip(sp.sympify(remainder))
        diff = self._reduce(rest - remainder, context)
        bad = self._claim_denominators(g, context, facts) or _denominators_ok(remainder, facts)
        if bad:
            return StepVerdict(step.name, False, bad, printed)
        if not _is_zero(diff, facts):
            return StepVerdict(step.name, False, "the certificate does not add up: the claim's slack minus the "
                                                 f"facts is {sp.sstr(sp.factor(self._reduce(rest, context)))}, "
                                                 f"not the stated remainder", printed)
        sr = sign(remainder, facts)
        if op == "eq":
            if not _is_zero(self._reduce(remainder, context), facts):
                return StepVerdict(step.name, False, f"an equality needs remainder 0, not {sp.sstr(remainder)}",
                                   printed)
        elif not _is(sr, NONNEG):
            return StepVerdict(step.name, False, f"the remainder {sp.sstr(remainder)} is not proved "
                                                 "non-negative", printed)
        if op == "lt" and not (sr == POS or strict_ok):
            return StepVerdict(step.name, False, "a strict claim needs a strictly positive remainder or a strict "
                                                 "fact with a positive multiplier", printed)
        return StepVerdict(step.name, True, f"certificate from {len(terms)} facts, remainder "
                                            f"{sp.sstr(remainder)}", printed,
                           self._obligation(claim, context, "inequality" if op != "eq" else "identity"))

    def _induction(self, step, claim, local, printed) -> StepVerdict:
        m: Induction = step.by
        t = strip(m.index)
        for name in (m.base, m.step):
            if name not in self.done or not self.done[name][1].ok:
                return StepVerdict(step.name, False, f"induction needs the checked step {name!r}", printed)
        if any(not isinstance(h, Always) and t in sp.sympify(h).free_symbols for h in local):
            return StepVerdict(step.name, False, "an induction's hypotheses may depend on the index only "
                                                 "for every value of it", printed)
        base_step, base_v = self.done[m.base]
        ind_step, ind_v = self.done[m.step]
        if canon(base_step.claim) != canon(rsubs(claim, {t: 0})):
            return StepVerdict(step.name, False, f"the base step claims {_show(base_step.claim)}, not "
                                                 f"{_show(rsubs(claim, {t: 0}))}", printed)
        if canon(ind_step.claim) != canon(rsubs(claim, {t: t + 1})):
            return StepVerdict(step.name, False, f"the inductive step claims {_show(ind_step.claim)}, not "
                                                 f"{_show(rsubs(claim, {t: t + 1}))}", printed)
        inv = canon(claim)
        has_inv = False
        for h in ind_v.hypotheses:
            if not isinstance(h, Always) and canon(h) == inv:
                has_inv = True
                continue
            if isinstance(h, Always):
                ok = self._available(h, local)
            elif t in h.free_symbols:
                ok = any(isinstance(p, Always) and any(canon(p.at(e)) == canon(h) for e in _index_terms([h]))
                         for p in list(self.hyps) + list(local))
            else:
                ok = self._available(h, local)
            if not ok:
                return StepVerdict(step.name, False, f"the inductive step rests on {_show(h)}, which does not "
                                                     "hold for every t here", printed)
        if not has_inv:
            return StepVerdict(step.name, False, "the inductive step does not assume the invariant at t", printed)
        for h in base_v.hypotheses:
            if not self._available(h, local):
                return StepVerdict(step.name, False, f"the base step rests on {_show(h)}, not available here",
                                   printed)
        self.axioms_used |= set(base_v.axioms) | set(ind_v.axioms)
        return StepVerdict(step.name, True, f"induction on {t}: base {m.base!r}, step {m.step!r}", printed,
                           self._obligation(claim, (), "structural"))

    def _cases(self, step, claim, local, printed) -> StepVerdict:
        conds = []
        for cond, name in step.by.cases:
            if name not in self.done or not self.done[name][1].ok:
                return StepVerdict(step.name, False, f"case {name!r} is not a checked step", printed)
            cst, cv = self.done[name]
            if canon(cst.claim) != canon(claim):
                return StepVerdict(step.name, False, f"case {name!r} proves {_show(cst.claim)}, not the claim",
                                   printed)
            ck = canon(cond)
            for h in cv.hypotheses:
                if not isinstance(h, Always) and canon(h) == ck:
                    continue
                if not self._available(h, local):
                    return StepVerdict(step.name, False, f"case {name!r} rests on {_show(h)}, not available here",
                                       printed)
            conds.append(ck)
        if not _exhaustive(conds):
            return StepVerdict(step.name, False, "the cases are not exhaustive: they must be g > 0, g = 0, g < 0 "
                                                 "(or g >= 0, g < 0, or g = 0, g != 0) for one expression g",
                               printed)
        return StepVerdict(step.name, True, f"exhaustive split into {len(conds)} cases", printed,
                           self._obligation(claim, (), "structural"))

    def _axiom(self, step, claim, local, context, named, printed) -> StepVerdict:
        from .axioms import AXIOMS

        ax = AXIOMS.get(step.by.name)
        if ax is None:
            return StepVerdict(step.name, False, f"no axiom named {step.by.name!r}", printed)
        try:
            hyps, claims = ax.instance(**dict(step.by.args))
        except (TypeError, ValueError) as exc:
            return StepVerdict(step.name, False, f"not an instance of axiom {ax.name}: {exc}", printed)
        for arg in ax.fresh:
            sym = strip(step.by.args[arg])
            if not isinstance(sym, sp.Symbol) or self._mentioned(sym):
                return StepVerdict(step.name, False, f"axiom {ax.name} names {sym}, which must be a fresh symbol "
                                                     "(not in a hypothesis, an earlier step or a value)", printed)
        target = canon(self.defs.expand(claim))
        if not any(canon(self.defs.expand(strip(c))) == target for c in claims):
            shown = "; ".join(_show(c) for c in claims)
            return StepVerdict(step.name, False, f"axiom {ax.name} gives {shown}, not the claim", printed)
        keys = {canon(c) for c in context if not isinstance(c, Always)}
        keys |= {canon(self.defs.expand(c)) for c in context if not isinstance(c, Always)}
        for h in hyps:
            h = self._norm_hyp(h, f"hypothesis of axiom {ax.name}")
            ok = (self._available(h, local) or self._universal_fact(h, named, local) if isinstance(h, Always)
                  else canon(h) in keys or canon(self.defs.expand(h)) in keys or self._available(h, local))
            if not ok:
                return StepVerdict(step.name, False, f"axiom {ax.name} needs {_show(h)}, not available here",
                                   printed)
        return StepVerdict(step.name, True, f"instance of axiom {ax.name}", printed,
                           self._obligation(claim, (), "structural"), axioms=(ax.name,))

    def _mentioned(self, sym: sp.Symbol) -> bool:
        """``sym`` occurs in a hypothesis or an earlier step (definitions substituted)."""
        rels = [h.relation if isinstance(h, Always) else h for h in self.hyps]
        for st, v in self.done.values():
            rels.append(strip(st.claim))
            rels += [h.relation if isinstance(h, Always) else h for h in v.hypotheses]
        return any(sym in self.defs.expand(r).free_symbols for r in rels)

    def _for_every_index(self, h: sp.Basic, t: sp.Symbol, local: Sequence[Any]) -> bool:
        """``h`` holds for every value of ``t``: it does not contain ``t``, or it is an
        instance of an ``Always`` of the theorem or of ``local``."""
        if isinstance(h, Always):
            return self._available(h, local)
        if t not in h.free_symbols:
            return self._available(h, local)
        return any(isinstance(p, Always) and canon(p.at(e)) == canon(h)
                   for p in list(self.hyps) + list(local) for e in _index_terms([h]))

    def _universal_fact(self, h: Always, named: Mapping[str, list], local: Sequence[Any]) -> bool:
        """``h`` is the claim of a used step (not instantiated) proved with its index
        free and resting only on hypotheses that hold for every value of the index."""
        t = strip(h.index)
        for name, claims in named.items():
            if name.startswith("theorem:") or name not in self.done:
                continue
            st, v = self.done[name]
            target = {canon(h.relation), canon(self.defs.expand(h.relation))}
            if canon(st.claim) in target or canon(self.defs.expand(strip(st.claim))) in target:
                if all(self._for_every_index(x, t, local) for x in v.hypotheses):
                    return True
        return False

    def _iterate(self, step, claim, local, printed) -> StepVerdict:
        tr = self.th.trajectory
        if tr is None:
            return StepVerdict(step.name, False, "the theorem declares no trajectory", printed)
        ref = step.by.ref
        name = ref.name if isinstance(ref, Use) else str(ref)
        if isinstance(ref, Use) and ref.subs:
            return StepVerdict(step.name, False, "an iterate applies a fact as proved, without substitution",
                               printed)
        if name.startswith("theorem:"):
            tid = name[len("theorem:"):]
            entry = self.cited.get(tid)
            if entry is None or not entry[1].proved:
                return StepVerdict(step.name, False, f"{name} is not a proved theorem of this run", printed)
            th_c, v_c = entry
            theirs = _Defs(th_c.definitions)
            candidates = []
            for c in th_c.conclusion:
                rel, own = (c if isinstance(c, tuple) else (c, ()))
                if not self._foreign(strip(rel), theirs):
                    candidates.append((strip(rel), tuple(v_c.hypotheses) + tuple(strip(h) for h in own)))
        else:
            if name not in self.done or not self.done[name][1].ok:
                return StepVerdict(step.name, False, f"{name!r} is not a checked earlier step", printed)
            candidates = [(strip(self.done[name][0].claim), self.done[name][1].hypotheses)]
        t = strip(tr.index)
        sigma: dict = {strip(sym): strip(seq(t)) for sym, seq in tr.state.items()}
        for d in self.th.definitions:
            if d.role == "next" and d.of in tr.state:
                sigma[strip(d.symbol)] = strip(tr.state[d.of](t + 1))
        if tr.residual:
            sigma[strip(tr.residual[0])] = strip(tr.residual[1])
        constants = {strip(c) for c in tr.constants}
        for src, src_hyps in candidates:
            mapped = rsubs(src, sigma)
            if canon(mapped) != canon(claim):
                continue
            loose = {s for s in src.free_symbols if s not in sigma and s not in constants}
            if loose:
                return StepVerdict(step.name, False, f"the one-step fact contains {sorted(map(str, loose))}, "
                                                     "which are neither bound by the trajectory nor constant "
                                                     "along it", printed)
            for h in src_hyps:
                hh = rsubs(strip(h) if not isinstance(h, Always) else Always(strip(h.relation), strip(h.index)),
                           sigma)
                if not self._available(hh, local):
                    return StepVerdict(step.name, False, f"the one-step fact rests on {_show(hh)}, not "
                                                         "available at the iterate", printed)
            if name.startswith("theorem:"):
                self.axioms_used |= set(self.cited[name[len("theorem:"):]][1].axioms)
            else:
                self.axioms_used |= set(self.done[name][1].axioms)
            return StepVerdict(step.name, True, f"{name} at the iterate {t} of the trajectory", printed,
                               self._obligation(claim, (), "structural"))
        return StepVerdict(step.name, False, f"no claim of {name} reads as the claim at the iterate", printed)

    def run(self) -> TheoremVerdict:
        verdicts = []
        for step in self.th.steps:
            if not isinstance(step, Step):
                raise KernelError(f"{step!r} is not a Step")
            try:
                v = self.check_step(step)
            except KernelError as exc:
                v = StepVerdict(step.name, False, str(exc), ())
            self.done[step.name] = (step, v)
            self.axioms_used |= set(v.axioms) if v.ok else set()
            verdicts.append(v)
        error = ""
        if any(not v.ok for v in verdicts):
            error = "failed steps: " + ", ".join(v.name for v in verdicts if not v.ok)
        else:
            for c in self.th.conclusion:
                c_h: tuple = ()
                rel = c
                if isinstance(c, tuple):
                    rel, c_h = c
                if not isinstance(rel, _REL):
                    error = f"the conclusion {rel} is not a relation"
                    break
                key = canon(rel)
                hit = [(st, v) for st, v in self.done.values() if v.ok and canon(st.claim) == key]
                if not hit:
                    error = f"the conclusion {_show(rel)} is not the claim of any checked step"
                    break
                c_local = [self._norm_hyp(h, "conclusion hypothesis") for h in c_h]
                if not any(all(self._available(h, c_local) for h in v.hypotheses) for _, v in hit):
                    st, v = hit[0]
                    missing = [h for h in v.hypotheses if not self._available(h, c_local)]
                    error = (f"the conclusion {_show(rel)} is proved only under {_show(missing[0])}, which is not "
                             "a hypothesis of the theorem")
                    break
        return TheoremVerdict(self.th.label, not error, verdicts, error, self.hyps, tuple(sorted(self.axioms_used)))


def _sign_choices(k: int):
    if k == 0:
        yield ()
        return
    for rest in _sign_choices(k - 1):
        for c in (1, -1, 0):
            yield (sp.Integer(c),) + rest


def _exhaustive(conds: list) -> bool:
    by_expr: dict = {}
    for op, g in conds:
        for sgn, key in ((1, g), (-1, sp.expand(-g))):
            by_expr.setdefault(key, set())
        by_expr[g].add(op)
        by_expr[sp.expand(-g)].add({"le": "ge", "lt": "gt", "eq": "eq", "ne": "ne"}[op])
    for key, ops in by_expr.items():
        # 'le' is key >= 0, 'lt' is key > 0, 'ge' is key <= 0, 'gt' is key < 0
        if {"lt", "eq", "gt"} <= ops or {"le", "gt"} <= ops or {"lt", "ge"} <= ops or {"eq", "ne"} <= ops:
            return True
    return False


def _show(rel: Any) -> str:
    if isinstance(rel, Always):
        return str(rel)
    if isinstance(rel, sp.Unequality):
        return f"{sp.sstr(rel.lhs)} != {sp.sstr(rel.rhs)}"
    return sp.sstr(rel)


def check_theorem(th: Theorem, cited: Mapping[str, tuple] | None = None) -> TheoremVerdict:
    """Check every step of ``th`` in order and decide whether it is proved.

    ``cited``: label -> ``(Theorem, TheoremVerdict)`` of the theorems it may use
    (``theorem:ID``). A malformed theorem
    (a claim that is not a relation, a name defined twice) is not proved,
    with the reason."""
    try:
        checker = _Checker(th, cited or {})
        verdict = checker.run()
        for c in th.conclusion:
            try:
                _relation(c[0] if isinstance(c, tuple) else c, "conclusion")
            except KernelError as exc:
                verdict.proved, verdict.error = False, str(exc)
        return verdict
    except KernelError as exc:
        return TheoremVerdict(th.label, False, [], str(exc))
