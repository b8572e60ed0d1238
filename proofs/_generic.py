"""Helpers for theorems that hold for any registered model family.

A family given only as symbols has no sampler of real models: its numeric
cross-checks evaluate the symbolic residual at random values of its atoms and
scalars (which catches a simplification that wrongly returned 0). The built-in
families are also checked on real GD steps (:mod:`._numeric`).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Outcome

__all__ = ["random_point_check", "BUILTIN_STEPS", "BATCH_STEPS"]

#: families with a real one-datum GD-step sampler
BUILTIN_STEPS = {"uv", "pure-quadratic", "quadratic-bias", "two-layer"}
#: families with a real many-data GD-step sampler
BATCH_STEPS = {"uv": "uv-batch", "pure-quadratic": "pure-quadratic-batch", "two-layer": "two-layer-batch"}


def random_point_check(expr: sp.Expr, what: str, count: int = 8, seed: int = 5) -> Outcome:
    """``expr`` (a residual claimed to be 0) evaluated at random values of all its
    symbols, relative to the size of its terms."""
    expr = sp.expand(sp.sympify(expr))
    syms = sorted(expr.free_symbols, key=str)
    if not syms:
        ok = expr == 0
        return Outcome(bool(ok), f"{what}: constant residual {expr}")
    fn = sp.lambdify(syms, expr, modules="numpy")
    terms = sp.Add.make_args(expr)
    scale_fn = sp.lambdify(syms, sum(abs(t) for t in terms), modules="numpy")
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(count):
        vals = rng.uniform(0.3, 2.0, size=len(syms))
        val, scale = float(fn(*vals)), float(scale_fn(*vals))
        worst = max(worst, abs(val) / max(scale, 1e-300))
    if worst > 1e-10:
        return Outcome(False, f"{what}: residual {worst:.2e} (relative) at random points")
    return Outcome(True, f"{what}: residual vanishes at {count} random points (worst relative {worst:.1e})")
