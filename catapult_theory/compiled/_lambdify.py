"""Lambdification of the symbolic layer's formulas, each compiled once per process.

Only the public interface of :mod:`catapult_theory.symbolic` is used: the theory
of a model (update map, thresholds), the spectral formulas and their symbols.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt
import sympy as sp

from ..errors import InvalidInput
from ..symbolic import symbols as S
from ..symbolic import theory

__all__ = ["CompiledMap", "SpectralMaps", "compile_expr", "lambdify_numpy", "spectral_maps", "update_map", "threshold"]

#: what lambdified code may call: NumPy's own namespace (the module's dict, as SymPy's
#: ``modules="numpy"`` would give, less its ``from numpy import *``, which loads NumPy's
#: lazily imported submodules such as ``f2py`` and ``testing``: ~0.15 s per process)
_ALLOWED = ({"I": 1j}, np)


def lambdify_numpy(args: Sequence[sp.Symbol], exprs: object) -> Callable[..., Any]:
    """``sympy.lambdify(args, exprs, cse=True)`` over NumPy (the printer and namespace of
    ``modules="numpy"``; the same code, tested)."""
    return sp.lambdify(list(args), exprs, modules=list(_ALLOWED), cse=True)


def compile_expr(expr: sp.Expr, args: Sequence[sp.Symbol]) -> Callable[..., np.ndarray]:
    """Lambdify one of the package's own expressions over NumPy.

    Fails loudly (``ValueError`` naming the symbol) if the expression contains
    a symbol that is not among ``args``, instead of producing a function that
    breaks later.
    """
    expr = sp.sympify(expr)
    extra = expr.free_symbols - set(args)
    if extra:
        raise ValueError(f"cannot compile {expr}: free symbols {sorted(map(str, extra))} are not arguments")
    return lambdify_numpy(args, expr)


@dataclass(frozen=True)
class CompiledMap:
    """A compiled one-step map ``state -> state'``.

    ``state`` names the state symbols (``f, lam, w2``), ``params`` the other
    arguments (``eta, y, n, x2``); calling ``step(*state, *params)`` returns the
    tuple of next-step values, broadcasting over NumPy arrays.
    """

    model: str
    state: tuple[str, ...]
    params: tuple[str, ...]
    step: Callable[..., tuple[np.ndarray, ...]]
    exprs: tuple[sp.Expr, ...]

    def __call__(self, *args: npt.ArrayLike) -> tuple[np.ndarray, ...]:
        return _broadcast_outputs(self.step(*args), args)


def _map_params(model: str) -> tuple[sp.Symbol, ...]:
    """Arguments of a map other than its state: ``eta, y`` then the rest by name."""
    th = theory(model)
    free = set().union(*(e.free_symbols for e in th.update.contract().values()))
    rest = free - set(th.update.state) - {S.eta, S.y}
    return (S.eta, S.y, *sorted(rest, key=str))


@lru_cache(maxsize=None)
def update_map(model: str) -> CompiledMap:
    """The compiled single-datum update map of ``model`` (derived once)."""
    th = theory(model)
    if not th.update.closed:
        raise InvalidInput(f"the {model} map does not close in {th.update.state}; it cannot be iterated alone")
    contract = th.update.contract()
    state = th.update.state
    params = _map_params(model)
    exprs = tuple(contract[s] for s in state)
    fn = lambdify_numpy(list(state) + list(params), list(exprs))
    return CompiledMap(model, tuple(s.name for s in state), tuple(p.name for p in params), fn, exprs)


@lru_cache(maxsize=None)
def threshold(model: str, name: str) -> Callable[..., np.ndarray]:
    """A compiled critical learning rate of ``model`` (``eta_crit``, ``eta_max``)."""
    th = theory(model)
    try:
        t = th.thresholds[name]
    except KeyError:
        raise InvalidInput(f"{model} has no threshold {name!r}; it has {sorted(th.thresholds)}") from None
    args = sorted(t.eta.free_symbols, key=str)
    fn = compile_expr(t.eta, args)
    names = tuple(a.name for a in args)

    def evaluate(**values: np.ndarray) -> np.ndarray:
        missing = set(names) - set(values)
        if missing:
            raise InvalidInput(f"{name} of {model} needs {sorted(missing)}")
        return np.asarray(fn(*(values[a] for a in names)), dtype=float)

    evaluate.__name__ = f"{model}_{name}"
    evaluate.__doc__ = f"{name} = {t.eta} (derived: {t.reason})"
    return evaluate


@dataclass(frozen=True)
class SpectralMaps:
    """Compiled per-eigencomponent maps of the quadratic models (derived by
    :func:`catapult_theory.symbolic.spectral_formulas`).

    ``weight_next(c, mu, eta, r, zeta)``, ``contributions(c, mu, zeta) -> (f, lam, w2)``
    parts of one component, ``feature_next(p, q, phi2, eta, r) -> (p', q')`` and
    ``feature_contributions(p, q, phi2) -> (f, lam, w2)`` parts of the bias block.
    """

    weight_next: Callable[..., np.ndarray]
    contributions: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]
    feature_next: Callable[..., tuple[np.ndarray, np.ndarray]]
    feature_contributions: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


@lru_cache(maxsize=None)
def spectral_maps() -> SpectralMaps:
    """The compiled spectral (reduced) maps, derived once."""
    from ..symbolic import c, mu, pf, qf, spectral_formulas
    from ..symbolic.models.quadratic import phi2, zeta

    sf = spectral_formulas()
    wn = compile_expr(sf.weight_next, [c, mu, S.eta, S.r, zeta])
    contrib = lambdify_numpy([c, mu, zeta], list(sf.contributions))
    fnext = lambdify_numpy([pf, qf, phi2, S.eta, S.r], list(sf.feature_next))
    fcontrib = lambdify_numpy([pf, qf, phi2], list(sf.feature_contributions))

    def contributions(*args: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f, lam, w2 = _broadcast_outputs(contrib(*args), args)
        return f, lam, w2

    def feature_next(*args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, q = _broadcast_outputs(fnext(*args), args)
        return p, q

    def feature_contributions(*args: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f, lam, w2 = _broadcast_outputs(fcontrib(*args), args)
        return f, lam, w2

    return SpectralMaps(wn, contributions, feature_next, feature_contributions)


def _broadcast_outputs(outputs: Sequence[object], args: tuple[npt.ArrayLike, ...]) -> tuple[np.ndarray, ...]:
    """Each output of a lambdified list as a float array of the arguments' broadcast shape
    (a constant component of a formula comes back from lambdify as a plain number)."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return tuple(np.array(np.broadcast_to(np.asarray(o, dtype=float), shape)) for o in outputs)
