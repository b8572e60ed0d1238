"""The second checker: an SMT solver (Z3, nonlinear real arithmetic).

For an identity or inequality step the kernel hands over its
:class:`~proofs._kernel.Obligation`: the context (hypotheses, their instances,
the facts used) and the claim. Here they are translated into Z3's real
arithmetic with the definitions substituted, and the negation of the claim
under the context must be unsatisfiable. The translation is independent of
the kernel's certificate: Z3 decides the claim itself.

Fragment: rational functions of real variables, with ``Abs``, ``Max``,
``Min`` and rational powers (a root is a fresh non-negative variable whose
power is the radicand, and the radicand's sign is part of what is proved).
Sequence terms (``w(t + 1)``), limits and sums are opaque real variables.
Division follows Z3: ``x / 0`` is some unspecified number, so a claim that
needs a non-zero denominator is refuted unless the context proves it.
Anything else (transcendental functions, matrix symbols) is outside the
fragment, and the step says so.

The solver's budget is Z3's resource limit (``rlimit``), a count of its own
operations, not a wall-clock timeout: whether a step is accepted does not depend
on how busy the machine is. The hardest shipped step uses about 4.3 million units
(2 s on a quiet core); the budget is six times that.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

__all__ = ["SMTResult", "available", "check_obligation", "Outside"]


class Outside(Exception):
    """The expression is outside the fragment the solver is given."""


@dataclass(frozen=True)
class SMTResult:
    status: str  # "proved" | "refuted" | "unknown" | "outside" | "unavailable"
    detail: str = ""
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status == "proved"


def available() -> bool:
    try:
        import z3  # noqa: F401
    except ImportError:
        return False
    return True


class _Translator:
    def __init__(self, z3):
        self.z3 = z3
        self.vars: dict[str, object] = {}
        self.side: list = []  # constraints of the fresh root variables
        self.radicands: list = []  # what must be proved >= 0

    def var(self, name: str):
        v = self.vars.get(name)
        if v is None:
            v = self.vars[name] = self.z3.Real(name)
        return v

    def expr(self, e: sp.Basic):
        z3 = self.z3
        if isinstance(e, sp.Integer):
            return z3.RealVal(int(e))
        if isinstance(e, sp.Rational):
            return z3.RealVal(f"{e.p}/{e.q}")
        if isinstance(e, sp.Float):
            fr = Fraction(float(e))
            return z3.RealVal(f"{fr.numerator}/{fr.denominator}")
        if isinstance(e, sp.Symbol):
            return self.var(e.name)
        if isinstance(e, (AppliedUndef, sp.Limit, sp.Sum)):
            return self.var(sp.sstr(e))
        if isinstance(e, sp.Add):
            out = self.expr(e.args[0])
            for a in e.args[1:]:
                out = out + self.expr(a)
            return out
        if isinstance(e, sp.Mul):
            out = self.expr(e.args[0])
            for a in e.args[1:]:
                out = out * self.expr(a)
            return out
        if isinstance(e, sp.Pow):
            b, k = e.args
            if k.is_Integer:
                base = self.expr(b)
                n = int(k)
                if n == 0:
                    return z3.RealVal(1)
                out = base
                for _ in range(abs(n) - 1):
                    out = out * base
                return out if n > 0 else 1 / out
            if k.is_Rational:
                p, q = int(k.p), int(k.q)
                radicand = self.expr(b ** abs(p))
                root = self.z3.FreshReal("root")
                pw = root
                for _ in range(q - 1):
                    pw = pw * root
                self.side += [root >= 0, pw == radicand]
                self.radicands.append(radicand >= 0)
                return root if p > 0 else 1 / root
            raise Outside(f"power {sp.sstr(e)}")
        if isinstance(e, sp.Abs):
            a = self.expr(e.args[0])
            return z3.If(a >= 0, a, -a)
        if isinstance(e, (sp.Max, sp.Min)):
            args = [self.expr(a) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = z3.If(a > out, a, out) if isinstance(e, sp.Max) else z3.If(a < out, a, out)
            return out
        raise Outside(f"{type(e).__name__} in {sp.sstr(e)}")

    def rel(self, r: sp.Basic):
        lhs, rhs = self.expr(r.lhs), self.expr(r.rhs)
        op = type(r)
        if op is sp.Equality:
            return lhs == rhs
        if op is sp.Unequality:
            return lhs != rhs
        if op is sp.LessThan:
            return lhs <= rhs
        if op is sp.StrictLessThan:
            return lhs < rhs
        if op is sp.GreaterThan:
            return lhs >= rhs
        if op is sp.StrictGreaterThan:
            return lhs > rhs
        raise Outside(f"relation {type(r).__name__}")


def _expand_definitions(e: sp.Basic, values: dict, funcs: dict) -> sp.Basic:
    if isinstance(e, sp.core.relational.Relational):  # expanded side by side: a relation must not evaluate
        return type(e)(_expand_definitions(e.lhs, values, funcs), _expand_definitions(e.rhs, values, funcs),
                       evaluate=False)
    for _ in range(32):
        new = e.xreplace(values)
        if funcs:
            new = new.replace(lambda a: isinstance(a, AppliedUndef) and a.func.__name__ in funcs,
                              lambda a: funcs[a.func.__name__](*a.args))
        if new == e:
            return e
        e = new
    raise Outside("definitions nest too deeply")


#: Z3 resource units for one obligation with the definitions substituted, and for the
#: first, context-only attempt (which usually succeeds in well under 100 000 units).
RLIMIT = 25_000_000
RLIMIT_CONTEXT_ONLY = 750_000


def check_obligation(claim: sp.Basic, context, values: dict, funcs: dict | None = None,
                     rlimit: int = RLIMIT) -> SMTResult:
    """Is ``context => claim`` valid over the reals? First with the defined symbols
    as free variables (a claim that follows from the context for every value of
    them follows for theirs), then with the definitions substituted."""
    import time

    t0 = time.perf_counter()
    if available():
        first = _check(claim, context, {}, {}, min(rlimit, RLIMIT_CONTEXT_ONLY))
        if first.accepted:
            return SMTResult("proved", "the negation is unsatisfiable (from the context alone)",
                             time.perf_counter() - t0)
    res = _check(claim, context, values, funcs or {}, rlimit)
    return SMTResult(res.status, res.detail, time.perf_counter() - t0)


def _check(claim: sp.Basic, context, values: dict, funcs: dict, rlimit: int) -> SMTResult:
    import time

    if not available():
        return SMTResult("unavailable", "z3 is not installed (pip install z3-solver)")
    import z3

    t0 = time.perf_counter()
    tr = _Translator(z3)
    try:
        hyps = [tr.rel(_expand_definitions(h, values, funcs)) for h in context]
        goal = tr.rel(_expand_definitions(claim, values, funcs))
    except Outside as exc:
        return SMTResult("outside", f"outside the solver's fragment: {exc}", time.perf_counter() - t0)
    s = z3.Solver()
    s.set("rlimit", rlimit)
    s.add(*hyps, *tr.side)
    s.add(z3.Not(z3.And(goal, *tr.radicands)))
    res = s.check()
    dt = time.perf_counter() - t0
    if res == z3.unsat:
        return SMTResult("proved", "the negation is unsatisfiable", dt)
    if res == z3.sat:
        m = s.model()
        shown = ", ".join(f"{d.name()} = {m[d]}" for d in sorted(m.decls(), key=lambda d: d.name())
                          if not d.name().startswith("root"))
        return SMTResult("refuted", f"countermodel: {shown}", dt)
    return SMTResult("unknown", f"the solver gave up ({s.reason_unknown()})", dt)
