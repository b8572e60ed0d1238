"""Phase boundaries: first grid transition, refined by vectorised multisection."""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["first_transition", "refine_boundary", "refine_boundaries", "grid_boundaries", "final_values"]


def first_transition(k: np.ndarray, flags: np.ndarray) -> tuple[float, float] | None:
    """Bracket ``(k_lo, k_hi)`` around the first grid point where ``flags`` turns true.

    ``None`` if the flag never turns true on the grid, or is already true at
    the first grid point (the boundary is then not in range).
    """
    k = np.asarray(k, dtype=float)
    flags = np.asarray(flags, dtype=bool)
    if not flags.any() or flags[0]:
        return None
    i = int(np.argmax(flags))
    return float(k[i - 1]), float(k[i])


def refine_boundaries(
    predicate: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float = 1e-6,
    points: int = 15,
    max_rounds: int | None = None,
) -> np.ndarray:
    """Refine many brackets at once.

    ``predicate`` takes an array of shape ``(P, points)`` (row ``p`` belongs to
    bracket ``p``) and returns booleans of that shape; it must be false at each
    ``lo`` and true at each ``hi``. Each round evaluates ``points`` interior
    points of every bracket in one call and keeps the sub-bracket around the
    first true point: brackets shrink by exactly ``points + 1`` per round, so
    ``ceil(log(width / tol) / log(points + 1))`` rounds reach the tolerance
    (the default ``max_rounds``; a bracket of width 1e100 needs 89). Returns the
    midpoints of the final brackets (widths below ``tol``); a smaller
    ``max_rounds`` that stops short raises ``RuntimeError`` rather than return an
    unconverged midpoint.
    """
    lo = np.array(lo, dtype=float, ndmin=1)
    hi = np.array(hi, dtype=float, ndmin=1)
    if lo.shape != hi.shape or np.any(~(lo < hi)):
        raise ValueError("every bracket needs lo < hi")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    if max_rounds is None:
        widest = float(np.max(hi - lo))
        max_rounds = max(1, int(np.ceil(np.log(widest / tol) / np.log(points + 1))) + 1)
    frac = np.linspace(0.0, 1.0, points + 2)[1:-1]
    for _ in range(max_rounds):
        if np.all(hi - lo <= tol):
            break
        grid = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        flags = np.asarray(predicate(grid), dtype=bool).reshape(grid.shape)
        anyf = flags.any(axis=1)
        i = np.argmax(flags, axis=1)
        rows = np.arange(len(lo))
        new_hi = np.where(anyf, grid[rows, i], hi)
        new_lo = np.where(anyf, np.where(i > 0, grid[rows, np.maximum(i - 1, 0)], lo), grid[:, -1])
        lo, hi = new_lo, new_hi
    if np.any(hi - lo > tol):
        raise RuntimeError(f"boundary refinement stopped after {max_rounds} rounds with brackets up to "
                           f"{float(np.max(hi - lo)):.3g} wide (tolerance {tol})")
    return 0.5 * (lo + hi)


def refine_boundary(
    predicate: Callable[[np.ndarray], np.ndarray],
    bracket: tuple[float, float],
    tol: float = 1e-6,
    points: int = 15,
    max_rounds: int | None = None,
) -> float:
    """Refine one bracket ``(lo, hi)`` (``predicate`` false at ``lo``, true at ``hi``).

    ``predicate`` takes a 1-D array of ``k`` values.
    """
    out = refine_boundaries(lambda g: predicate(g[0])[None, :], np.array([bracket[0]]), np.array([bracket[1]]),
                            tol, points, max_rounds)
    return float(out[0])


def grid_boundaries(
    k: np.ndarray,
    flags: dict[str, np.ndarray],
    predicates: dict[str, Callable[[np.ndarray], np.ndarray]] | None,
    tol: float,
) -> dict[str, float | None]:
    """Each named boundary: the first grid transition of its flags, refined by
    multisection with its predicate (``predicates=None``: the first grid point
    where the flag is true, i.e. grid resolution)."""
    out: dict[str, float | None] = {}
    for name, fl in flags.items():
        bracket = first_transition(k, fl)
        if bracket is None:
            out[name] = None
        elif predicates is None:
            out[name] = bracket[1]
        else:
            out[name] = refine_boundary(predicates[name], bracket, tol=tol)
    return out


def final_values(traj, eta: np.ndarray, w2_0: float, extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Per run, the final ``eta*lam``, ``w2/w2_0``, peak and final loss (and the
    final value of each ``extra`` series present); NaN for diverged runs, which
    have no final state."""
    div = traj.diverged_at >= 0
    out = {
        "lam_eta": np.where(div, np.nan, eta * traj.final("lam")),
        "w2_ratio": np.where(div, np.nan, traj.final("w2") / w2_0),
        "peak_loss": np.where(div, np.nan, traj.peak_loss()),
        "train_loss": np.where(div, np.nan, traj.final("loss")),
    }
    for name in extra:
        if name in traj.extra:
            out[name] = np.where(div, np.nan, traj.final(name))
    return out
