"""Numeric cross-checks on real finite models (beside the kernel, never instead of it).

A step may carry a check that evaluates its relation on the package's compiled
maps or on real finite models (:mod:`._numeric`): it catches a true symbolic
step about the wrong formula. These checks can fail a step; they never prove one.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import sympy as sp

from ._runner import Outcome

__all__ = ["numeric_relation"]


def numeric_relation(rel: sp.Basic, points: Iterable[Mapping[sp.Symbol, float]], rtol: float = 1e-9,
                     what: str = "", tight: bool = False) -> Outcome:
    """Evaluate ``rel`` (``Eq``/``Le``/``Lt``/``Ge``/``Gt``) at numeric points (each a
    map from every free symbol to a float). An inequality holds up to ``rtol`` of the
    larger side; ``tight`` demands equality (the inequality is attained)."""
    rel = rel.reversed if isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)) else rel
    count = 0
    worst = 0.0 if isinstance(rel, sp.Equality) or tight else -float("inf")
    byname = {}
    for pt in points:
        byname = {getattr(k, "name", str(k)): v for k, v in pt.items()}
        missing = {s for s in rel.free_symbols if s.name not in byname}
        if missing:
            return Outcome(False, f"{what}: no value for {sorted(map(str, missing))}")
        num = {s: sp.Float(float(byname[s.name]), 30) for s in rel.free_symbols}
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
    return Outcome(True, f"{what + ': ' if what else ''}{kind} holds at {count} numeric points ({measure} {worst:.1e})")
