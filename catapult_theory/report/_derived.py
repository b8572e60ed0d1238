"""Derived values the report quotes, each obtained from the symbolic layer.

Nothing here is typed physics: the linear stability edge and the uv divergence
threshold in ``k = eta lam`` come from the derived thresholds, the growth
factor of the residual from the linearised map, and the y != 0 divergence law
of the uv map from an invariant of the exact map (:func:`uv_divergence_law`).
Exact user inputs shown inside derived formulas (a slope 0.5) are displayed as
rationals (1/2) by :func:`exact`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import sympy as sp  # type: ignore[import-untyped]

from ..compiled import compile_expr
from ..engine import linear_stability_edge
from ..symbolic import symbols as S
from ..symbolic import theory

__all__ = ["stability_edge", "k_max", "uv_k_max", "residual_multiplier", "exact", "UVDivergenceLaw",
           "uv_divergence_law"]


def stability_edge() -> float:
    """``eta lam`` at which the linearised dynamics lose stability (derived ``eta_crit lam``, = 2)."""
    return linear_stability_edge()


@lru_cache(maxsize=None)
def _k_max_expr(model: str) -> sp.Expr:
    thresholds = theory(model).thresholds
    if "eta_max" not in thresholds:
        raise ValueError(f"{model} has no derived eta_max threshold")
    k = sp.simplify(thresholds["eta_max"].eta * S.lam)
    if k.free_symbols:  # pragma: no cover - every derived eta_max is 4/lam
        raise RuntimeError(f"the {model} divergence threshold in k is not a number: {k}")
    return k


def k_max(model: str = "uv") -> float:
    """``k = lam eta_max`` of ``model`` at ``y = 0`` (derived; = 4): where the
    weight-norm increment changes sign. ``ValueError`` for a model without ``eta_max``."""
    return float(_k_max_expr(model))


def uv_k_max() -> float:
    """:func:`k_max` of the uv model."""
    return k_max("uv")


def residual_multiplier(k: float) -> float:
    """Factor by which the residual is multiplied per step at ``eta lam = k`` in the
    linearised dynamics (the derived ``eta_crit`` multiplier, ``1 - k``)."""
    t = theory("uv").thresholds["eta_crit"]
    m = sp.simplify(t.solved_from.subs(S.eta, sp.nsimplify(k) / S.lam))
    if m.free_symbols:  # pragma: no cover - the multiplier depends on eta lam only
        raise RuntimeError(f"the linear multiplier is not a function of eta lam: {t.solved_from}")
    return float(m)


def exact(value: float) -> sp.Expr:
    """A user input as an exact SymPy number for substitution into derived
    formulas: ``0.5 -> 1/2``, ``0.75 -> 3/4`` (so the formula shows ``7/4``, not ``1.75``)."""
    return sp.nsimplify(value, rational=True)


#: report-local symbols: the normalised learning rate ``k = eta lam0`` and the
#: initial state (``f0`` may have either sign)
k_sym, lam0_sym = sp.symbols("k lam0", positive=True)
f0_sym = sp.Symbol("f0", real=True)


@dataclass(frozen=True)
class UVDivergenceLaw:
    """The divergence threshold of the exact uv map with ``y != 0``, derived.

    ``k_max`` is ``lam eta_max`` and ``eta_max`` the derived y = 0 threshold.
    ``invariant`` is ``D(f, lam, eta, y, n, x2)``; the line ``D = 0`` is mapped
    into itself by one GD step, ``D' = multiplier * D``. From ``(f0, lam0)`` with
    ``eta = k / lam0`` the threshold solves ``D = 0``: ``threshold`` is that
    equation as a polynomial in ``k`` (symbols ``k, lam0, f0, y, n, x2``).
    ``shift`` is ``c`` in ``k_max - k_div = c y^2 / n + O(n^-2)`` from ``f0 = 0``,
    and ``scale`` the same ``c`` written as ``eta_max(lam0)^2 x2`` (``shift ==
    scale`` was checked symbolically).
    """

    k_max: sp.Expr
    eta_max: sp.Expr
    invariant: sp.Expr
    multiplier: sp.Expr
    threshold: sp.Expr
    shift: sp.Expr
    scale: sp.Expr
    _root: Callable[..., np.ndarray]
    _shift: Callable[..., np.ndarray]

    def __reduce__(self) -> tuple[Callable[[], "UVDivergenceLaw"], tuple[()]]:
        """Pickled as its derivation (the compiled roots are rebuilt, never stored)."""
        return uv_divergence_law, ()

    def _record_state(self) -> dict[str, Any]:
        """Stored in a record (:mod:`catapult_theory.records`) as nothing: it is derived again."""
        return {}

    @classmethod
    def _record_restore(cls, state: dict[str, Any]) -> "UVDivergenceLaw":
        """The law, derived (the record holds no compiled function)."""
        return uv_divergence_law()

    def invariant_text(self) -> str:
        """``D`` written in the residual ``r = f - y``: ``eta*lam - k_max - (finite-width term)``."""
        lead = S.eta * S.lam - self.k_max
        rest = sp.factor(sp.expand((lead - self.invariant).subs(S.f, S.r + S.y)))
        return f"{sp.sstr(lead)} - {sp.sstr(rest)}"

    def multiplier_text(self) -> str:
        """``D' / D`` written in the residual ``r = f - y``: ``1 + (...)``."""
        rest = sp.factor(sp.expand((self.multiplier - 1).subs(S.f, S.r + S.y)))
        return f"1 + {sp.sstr(rest.subs(S.r + S.y, S.f))}"

    def threshold_text(self) -> str:
        """The threshold equation ``D(f0, lam0, eta = k / lam0) = 0`` in the initial residual ``r0 = f0 - y``."""
        r0 = sp.Symbol("r0")
        rest = sp.factor(sp.expand((k_sym - self.k_max - self.threshold).subs(f0_sym, r0 + S.y)))
        return f"k - {sp.sstr(rest)} = {sp.sstr(self.k_max)}"

    def k_div(self, f0: np.ndarray | float, lam0: np.ndarray | float, y: np.ndarray | float,
              n: np.ndarray | float, x2: np.ndarray | float) -> np.ndarray:
        """The root of ``D = 0`` in ``k`` that tends to ``k_max`` as ``y^2 / n -> 0``."""
        args = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (f0, lam0, y, n, x2)))
        return np.asarray(self._root(*args), dtype=float)

    def coefficient(self, lam0: np.ndarray | float, x2: np.ndarray | float) -> np.ndarray:
        """``c(lam0, x2)``, the coefficient of ``y^2 / n`` in ``k_max - k_div`` (f0 = 0)."""
        lam0_, x2_ = np.broadcast_arrays(np.asarray(lam0, dtype=float), np.asarray(x2, dtype=float))
        return np.asarray(self._shift(lam0_, x2_), dtype=float)


@lru_cache(maxsize=None)
def uv_divergence_law() -> UVDivergenceLaw:
    """Derive the uv map's divergence line for ``y != 0``.

    At ``y = 0`` the sign of ``eta lam - k_max`` is what decides divergence (the
    sign change of the weight-norm increment, ``eta_max``). For ``y != 0`` look
    for the invariant line nearest to it: ``D = eta lam - k_max + g (c1 y f +
    c2 y^2 + c3 f^2)`` with ``g`` the coefficient of ``f^3`` in ``f' - f`` (the
    finite-width scale ``eta^2 x2 / n``), and require that one step of the
    derived map sends ``D = 0`` to ``D' = 0`` identically in ``f, y, eta, n, x2``.
    The linear equations for ``c1, c2, c3`` have one solution; ``D' / D`` is then
    a polynomial (the multiplier). Raises ``RuntimeError`` if any step fails.
    """
    th = theory("uv")
    upd = th.update.contract()
    f, lam, eta, y, n, x2 = S.f, S.lam, S.eta, S.y, S.n, S.x2
    kmax = _k_max_expr("uv")
    g = sp.factor(sp.Poly(sp.expand(upd[f] - f), f).coeff_monomial(f**3))
    cs = sp.symbols("c1:4")
    ansatz = eta * lam - kmax + g * (cs[0] * y * f + cs[1] * y**2 + cs[2] * f**2)
    stepped = ansatz.subs({f: upd[f], lam: upd[lam]}, simultaneous=True)
    lam_on_line = sp.solve(ansatz, lam)
    if len(lam_on_line) != 1:  # pragma: no cover - the ansatz is linear in lam
        raise RuntimeError(f"cannot solve {ansatz} = 0 for lam")
    residual = sp.expand(sp.numer(sp.together(stepped.subs(lam, lam_on_line[0]))))
    eqs = sp.Poly(residual, f, y, eta, n, x2).coeffs()
    sol = sp.solve(eqs, cs, dict=True)
    if len(sol) != 1 or set(sol[0]) != set(cs):
        raise RuntimeError(f"no unique invariant line of the uv map: {sol}")
    D = sp.expand(ansatz.subs(sol[0]))
    multiplier = sp.factor(sp.cancel(stepped.subs(sol[0]) / D))
    if sp.denom(sp.together(multiplier)).free_symbols - {n}:  # pragma: no cover
        raise RuntimeError(f"D' / D is not a polynomial: {multiplier}")

    k, lam0, f0 = k_sym, lam0_sym, f0_sym
    poly = sp.Poly(sp.expand(D.subs({f: f0, lam: lam0, eta: k / lam0})), k)
    if poly.degree() != 2:  # pragma: no cover - D is quadratic in eta
        raise RuntimeError(f"the threshold equation is not quadratic in k: {poly}")
    a2, a1, a0 = poly.all_coeffs()
    # the root that tends to kmax as a2 -> 0, in the form that stays accurate there
    root = sp.simplify(-2 * a0 / (a1 + sp.sqrt(a1**2 - 4 * a2 * a0)))
    if sp.simplify(root.subs(y, 0) - kmax) != 0:  # pragma: no cover
        raise RuntimeError(f"the threshold root {root} does not tend to kmax")
    shift = sp.simplify(sp.limit(n * (kmax - root.subs(f0, 0)) / y**2, n, sp.oo))
    scale = (th.thresholds["eta_max"].eta.subs(lam, lam0)) ** 2 * x2
    if sp.simplify(shift - scale) != 0:  # pragma: no cover - checked: c = eta_max^2 x2
        raise RuntimeError(f"1/n shift {shift} is not eta_max^2 x2 = {scale}")
    return UVDivergenceLaw(
        k_max=kmax,
        eta_max=th.thresholds["eta_max"].eta,
        invariant=D,
        multiplier=multiplier,
        threshold=poly.as_expr(),
        shift=shift,
        scale=sp.Pow(sp.Symbol("eta_max"), 2) * x2,
        _root=compile_expr(root, [f0, lam0, y, n, x2]),
        _shift=compile_expr(shift, [lam0, x2]),
    )
