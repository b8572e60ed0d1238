"""Critical learning rates derived from an update map.

* **Onset** ``eta_crit``: linearise the map of the state at a minimum
  (``r = 0``, i.e. ``f = y``); the eigenvalues of the Jacobian that depend on
  ``eta`` are the multipliers of the linearised dynamics. Linear stability is
  lost where a multiplier crosses ``−1`` (a flip: the residual oscillates with
  growing amplitude), so ``eta_crit`` solves ``multiplier = −1``.
* **Divergence** ``eta_max`` (``y = 0``): the weight-norm increment
  ``Δw2 = w2' − w2`` is factored; the factors that can change sign as ``eta``
  grows (not ``eta`` itself, not even powers) are solved for ``eta``. Below the
  root the weight norm (and with it the NTK eigenvalue) decreases whenever the
  loss is non-zero; above it both grow.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import _symbols as S
from ._derive import UpdateMap

__all__ = ["Threshold", "onset_threshold", "divergence_threshold", "sign_change_root"]


@dataclass(frozen=True)
class Threshold:
    """A critical learning rate with the object it was solved from."""

    name: str
    eta: sp.Expr
    solved_from: sp.Expr
    reason: str


def _positive_root(eq: sp.Expr) -> sp.Expr:
    sols = sp.solve(sp.Eq(eq, 0), S.eta, dict=False)
    # every contract symbol other than y is a positive quantity (widths, norms, lam)
    def positive(sol: sp.Expr) -> bool:
        reps = {s: sp.Dummy(s.name, positive=True) for s in sol.free_symbols if s != S.y}
        return bool(sol.xreplace(reps).is_positive)

    pos = [s for s in sols if positive(s)]
    if len(pos) != 1:
        raise ValueError(f"expected one positive root in eta of {eq}, found {sols}")
    return sp.simplify(pos[0])


def onset_threshold(umap: UpdateMap) -> Threshold:
    """``eta`` at which a multiplier of the map linearised at ``f = y`` is −1.

    Every increment of a GD step is proportional to ``r`` (checked), so at
    ``r = 0`` the Jacobian is the identity plus a rank-one column in ``f``:
    quantities outside the state (leftover atoms, extra invariants) only
    enter as constants, and the multipliers are those of the state's
    Jacobian with them held fixed.
    """
    incs = umap.increments()
    for s, inc in incs.items():
        if sp.simplify(inc.subs(S.r, 0)) != 0:
            raise ValueError(f"increment of {s} does not vanish at r = 0: {inc}")
    contract = umap.contract()
    state = list(umap.state)
    F = sp.Matrix([contract[s] for s in state])
    J = F.jacobian(state).subs(S.f, S.y)
    J = J.applyfunc(sp.simplify)
    multipliers = [ev for ev in J.eigenvals() if ev.has(S.eta)]
    if len(multipliers) != 1:
        raise ValueError(f"expected one eta-dependent multiplier, found {multipliers}")
    (mult,) = multipliers
    if mult.free_symbols - set(S.CONTRACT.values()):
        raise ValueError(f"the multiplier {mult} depends on more than the state")
    return Threshold(
        "eta_crit",
        _positive_root(mult + 1),
        mult,
        "multiplier of the map linearised at a minimum (r = 0) equals -1",
    )


def sign_change_root(increment: sp.Expr, name: str, reason: str) -> Threshold:
    """Root in ``eta`` of the one factor of ``increment`` that can change sign as
    ``eta`` grows (odd power, not ``eta`` itself): the learning rate above which a
    norm with this increment grows instead of shrinking."""
    inc = sp.factor(sp.expand(increment))
    _, factors = sp.factor_list(inc)
    changing = []
    for base, power in factors:
        if not base.has(S.eta) or base == S.eta:
            continue
        if power % 2 == 0:
            continue
        changing.append(base)
    if len(changing) != 1:
        raise ValueError(f"expected one sign-changing factor of {inc}, found {changing}")
    return Threshold(name, _positive_root(changing[0]), inc, reason)


def divergence_threshold(umap: UpdateMap) -> Threshold:
    """Root in ``eta`` of the sign-changing factor of ``Δw2`` at ``y = 0``."""
    if umap.leftover.get(S.w2):
        raise ValueError("the weight-norm map does not close; no threshold from its sign")
    dw2 = sp.expand(umap.contract()[S.w2] - S.w2).subs(S.y, 0)
    return sign_change_root(dw2, "eta_max", "sign change of the weight-norm increment Δw2 at y = 0: the norm "
                                            "falls for eta below it; a window end (no divergence) only through "
                                            "an NTK bound lam <= K w2 (degree 2), not by itself a divergence "
                                            "threshold")
