"""Evaluate the symbolic bound catalogue on a concrete initial state.

Every bound's ``k_max`` is a SymPy expression in state symbols (``lam``, ``w2``)
and data-dependent constants (``Lpsi2``, ``LX``, ``phi2``, ``Q``, ...). A family
supplies, for each such symbol, a *provider*: a function of its experiment
setup that returns the number. The expression is compiled once
(:func:`catapult_theory.compiled.compile_expr`) and evaluated with the
providers' values; a symbol without a provider is an error naming it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import sympy as sp

from ..compiled import compile_expr
from ..symbolic import bound_catalog

__all__ = ["Providers", "evaluate_bounds"]

#: symbol -> provider(setup) -> float
Providers = Mapping[sp.Symbol, Callable[[Any], float]]


@lru_cache(maxsize=None)
def _compiled(model: str, name: str) -> tuple[Callable[..., Any], tuple[sp.Symbol, ...]]:
    spec = bound_catalog(model)[name]
    args = tuple(sorted(spec.k_max.free_symbols, key=str))
    return compile_expr(spec.k_max, args), args


def evaluate_bounds(model: str, names: Iterable[str], setup: Any, providers: Providers) -> dict[str, float]:
    """``name -> k_max`` of the named bounds of ``model`` for ``setup``.

    Each constant is computed once per call (several bounds share ``lam0``, ``w2_0``).
    """
    cache: dict[sp.Symbol, float] = {}

    def value(sym: sp.Symbol) -> float:
        if sym not in cache:
            try:
                provider = providers[sym]
            except KeyError:
                raise ValueError(f"the {model} bounds need {sym}, and the family provides no value for it") from None
            cache[sym] = float(provider(setup))
        return cache[sym]

    out = {}
    for name in names:
        fn, args = _compiled(model, name)
        out[name] = float(fn(*(value(a) for a in args)))
    return out
