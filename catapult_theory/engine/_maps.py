"""Iterating a compiled single-datum update map over arrays of runs."""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledMap
from ._trajectory import PhaseCriteria, Trajectory, blown_up

__all__ = ["iterate_map"]


def iterate_map(
    cmap: CompiledMap,
    *,
    f0: np.ndarray | float,
    lam0: np.ndarray | float,
    w2_0: np.ndarray | float,
    eta: np.ndarray | float,
    steps: int,
    y: np.ndarray | float = 0.0,
    criteria: PhaseCriteria = PhaseCriteria(),
    stop_early: bool = False,
    **params: np.ndarray | float,
) -> Trajectory:
    """Iterate the exact map of ``(f, lam, w2)`` for ``steps`` steps.

    All arguments broadcast together (a batch over learning rates, initial
    states, widths, targets, ...). ``params`` are the map's other arguments
    (``n``, ``x2`` for the uv model). A run that blows up is frozen at the step
    it happened (``diverged_at``); no overflow warning escapes. With
    ``stop_early`` the iteration ends once every run has diverged or converged
    (the trajectory is then shorter than ``steps``).
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    missing = [p for p in cmap.params if p not in ("eta", "y") and p not in params]
    unknown = [p for p in params if p not in cmap.params]
    if missing or unknown:
        raise ValueError(f"{cmap.model} map needs parameters {cmap.params}; missing {missing}, unknown {unknown}")
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (f0, lam0, w2_0, eta, y, *(params[p] for p in cmap.params[2:])))
    )
    f, lam, w2, eta_a, y_a, *rest = (a.copy() for a in arrays)
    for name, a in zip(("f0", "lam0", "w2_0", "eta", "y"), (f, lam, w2, eta_a, y_a)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite")
    shape = f.shape
    loss = np.empty((steps + 1,) + shape)
    lam_t = np.empty_like(loss)
    w2_t = np.empty_like(loss)
    loss[0] = 0.5 * (f - y_a) ** 2
    lam_t[0], w2_t[0] = lam, w2
    diverged_at = np.full(shape, -1, dtype=np.int64)
    active = np.ones(shape, dtype=bool)
    scale_loss0 = loss[0]
    done = 0
    for t in range(1, steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            nf, nl, nw = cmap(f, lam, w2, eta_a, y_a, *rest)
            new_loss = 0.5 * (nf - y_a) ** 2
        bad = active & (blown_up(new_loss, scale_loss0, criteria) | ~np.isfinite(nl) | ~np.isfinite(nw))
        diverged_at[bad] = t
        active &= ~bad
        f = np.where(active, nf, f)
        lam = np.where(active, nl, lam)
        w2 = np.where(active, nw, w2)
        loss[t] = np.where(active, new_loss, np.nan)
        lam_t[t] = np.where(active, nl, np.nan)
        w2_t[t] = np.where(active, nw, np.nan)
        done = t
        if stop_early:
            conv = loss[t] <= criteria.converged_loss * np.maximum(scale_loss0, criteria.loss_floor)
            if not np.any(active & ~conv):
                break
    sl = slice(0, done + 1)
    return Trajectory(loss[sl], lam_t[sl], w2_t[sl], eta_a, diverged_at)
