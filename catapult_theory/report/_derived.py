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

__all__ = ["stability_edge", "k_max", "uv_k_max", "residual_multiplier", "exact", "UVDivergenceLaw", "PeakLaw", "peak_law", "ShiftBracket", "shift_bracket",
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


@dataclass(frozen=True)
class PeakLaw:
    """The uv peak law at ``y = 0``, from the theorem ``peak-law-uv`` and a continuum limit.

    ``s_map`` and ``u_map`` are the theorem's width-free one-step map in ``s = eta^2 x2 f^2 / n``
    and ``u = eta lam`` (read from its conclusions, checked here against the derived uv map);
    ``growth`` is the factor by which ``s`` grows per step while small (its conclusion C3 at
    ``s -> 0``, as a function of ``k = u``); ``s_star`` is the peak of ``s`` in the continuum
    limit near ``u = 2``: with ``a = u - 2`` and ``a, s`` of the same small order, one step
    changes ``log s`` and ``a`` by the leading terms of the map, the ratio is an ODE for
    ``s(a)`` from ``s(k - 2) = 0``, and its maximum is ``s_star(k)``; ``s_star_leading`` is
    its first term at ``k -> 2``.
    """

    s_map: sp.Expr
    u_map: sp.Expr
    growth: sp.Expr
    s_star: sp.Expr
    s_star_leading: sp.Expr
    ode: sp.Expr

    def t_peak_predicted(self, k: np.ndarray, s0: np.ndarray) -> np.ndarray:
        """``log(1 / s0) / log(growth(k))``: steps for ``s`` to grow from ``s0`` to order 1."""
        g = sp.lambdify(k_sym, self.growth, "numpy")
        return np.asarray(np.log(1.0 / np.asarray(s0, dtype=float)) / np.log(g(np.asarray(k, dtype=float))))

    def s_star_of(self, k: np.ndarray) -> np.ndarray:
        """The continuum peak ``s_star(k)``."""
        return np.asarray(sp.lambdify(k_sym, self.s_star, "numpy")(np.asarray(k, dtype=float)), dtype=float)


@lru_cache(maxsize=None)
def peak_law() -> PeakLaw:
    """Read the width-free map from the proof of ``peak-law-uv``, check it against the
    derived uv map, and take its continuum limit near ``u = 2`` (see :class:`PeakLaw`).
    Raises ``RuntimeError`` if a step fails."""
    import proofs

    th = proofs.theorems(["peak-law-uv"])[0].build()
    f, lam, eta, n, x2 = S.f, S.lam, S.eta, S.n, S.x2
    s, u = sp.symbols("s u", positive=True)
    to_su = {lam: u / eta}
    rels = [c[0] if isinstance(c, tuple) else c for c in th.conclusion]

    def in_su(expr: sp.Expr) -> sp.Expr:
        e = sp.expand(sp.sympify(expr).subs(to_su))
        e = e.subs(f**2, s * n / (eta**2 * x2))
        e = sp.simplify(e)
        if e.free_symbols - {s, u}:
            raise RuntimeError(f"not width-free in (s, u): {e}")
        return e

    # C1: s' = s (1 - u + s)^2 ; C2: u' - 4 = (u - 4)(1 + s) (their right-hand sides, in s and u)
    s_next = in_su(rels[0].rhs)
    u_next = sp.expand(in_su(rels[1].rhs) + 4)
    # the same from the derived uv map at y = 0 (r = f)
    upd = theory("uv").update.contract()
    f1 = upd[f].subs({S.y: 0, S.r: f})
    lam1 = upd[lam].subs({S.y: 0, S.r: f})
    if sp.simplify(in_su(eta**2 * x2 * f1**2 / n) - s_next) != 0 or sp.simplify(in_su(eta * lam1) - u_next) != 0:
        raise RuntimeError("the theorem's width-free map is not the derived uv map")
    # C3: s' >= s ((u - 1)^2 - 2 (u - 1) s): the growth factor while s is small
    growth = sp.factor(sp.limit(in_su(rels[2].rhs) / s, s, 0).subs(u, k_sym))
    # continuum near u = 2: a = u - 2 = eps A, s = eps S; leading terms of one step
    eps, A, Sv, a = sp.symbols("epsilon A S a", positive=True)
    dlog_s = 2 * sp.log(sp.sqrt(sp.factor(s_next / s)))  # log s' - log s
    da = u_next - u
    scale = {u: 2 + eps * A, s: eps * Sv}
    dlog_lead = sp.series(dlog_s.subs(scale), eps, 0, 2).removeO().coeff(eps, 1)
    da_lead = sp.series(da.subs(scale), eps, 0, 2).removeO().coeff(eps, 1)
    sf = sp.Function("s")
    ode = sp.Eq(sf(a).diff(a), sp.simplify((Sv * dlog_lead / da_lead).subs({A: a, Sv: sf(a)})))
    a0 = k_sym - 2
    sol = sp.dsolve(ode, sf(a), ics={sf(a0): 0})
    s_of_a = sol.rhs
    peak = sp.solve(sp.Eq(s_of_a.diff(a), 0), a)
    if len(peak) != 1:  # pragma: no cover - the continuum s(a) has one maximum
        raise RuntimeError(f"no unique peak of the continuum s(a): {peak}")
    s_star = sp.simplify(s_of_a.subs(a, peak[0]))
    lead = sp.series(s_star, k_sym, 2, 3).removeO()
    return PeakLaw(s_map=s_next, u_map=u_next, growth=growth, s_star=s_star, s_star_leading=sp.factor(lead),
                   ode=ode)


@dataclass(frozen=True)
class ShiftBracket:
    """The theorem ``divergence-shift-uv`` on the threshold from ``f0 = 0``: with
    ``epsilon = epsilon_of(lam0, y, n, x2)`` (the coefficient of ``k^2`` in its ``D_0`` at
    ``f0 = 0``), ``lower(epsilon) <= k_div <= upper(epsilon)`` for ``epsilon <= 1/4``.
    Every expression is read from the proof's conclusions."""

    epsilon: sp.Expr
    lower: sp.Expr
    upper: sp.Expr
    eps_symbol: sp.Symbol

    def bracket(self, lam0: np.ndarray, y: np.ndarray, n: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(epsilon, lower, upper)`` at the given states."""
        e = sp.lambdify((lam0_sym, S.y, S.n, S.x2), self.epsilon, "numpy")(lam0, y, n, x2)
        e = np.asarray(e, dtype=float)
        lo = sp.lambdify(self.eps_symbol, self.lower, "numpy")(e)
        hi = sp.lambdify(self.eps_symbol, self.upper, "numpy")(e)
        return e, np.asarray(lo, dtype=float) + 0 * e, np.asarray(hi, dtype=float) + 0 * e


@lru_cache(maxsize=None)
def shift_bracket() -> ShiftBracket:
    """Read :class:`ShiftBracket` from the proof of ``divergence-shift-uv``."""
    import proofs

    th = proofs.theorems(["divergence-shift-uv"])[0].build()
    rels = [c[0] if isinstance(c, tuple) else c for c in th.conclusion]
    kd = next(r.lhs for r in rels if isinstance(r, sp.GreaterThan) and r.lhs.name == "k_div")
    lower = next(r.rhs for r in rels if isinstance(r, sp.GreaterThan) and r.lhs == kd)
    upper = next(r.rhs for r in rels if isinstance(r, sp.LessThan) and r.lhs == kd)
    eps = next(iter(lower.free_symbols))
    # D_0 at f0 = 0 as a polynomial in k = eta lam0: its k^2 coefficient is epsilon
    d0 = next(r for r in rels if isinstance(r, sp.Equality) and S.f not in r.free_symbols
              and S.lam in r.free_symbols and not r.atoms(sp.Function))
    poly = sp.Poly(sp.expand(d0.rhs.subs(S.eta, k_sym / S.lam)), k_sym)
    if poly.degree() != 2:  # pragma: no cover
        raise RuntimeError(f"the threshold from f0 = 0 is not quadratic in k: {d0}")
    epsilon = sp.simplify(poly.coeff_monomial(k_sym**2).subs(S.lam, lam0_sym))
    return ShiftBracket(epsilon=epsilon, lower=lower, upper=upper, eps_symbol=eps)
