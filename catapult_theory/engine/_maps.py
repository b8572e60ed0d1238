"""Iterating a compiled single-datum update map over arrays of runs."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput
from ..compiled import CompiledMap
from ._driver import check_int, require
from ._trajectory import PhaseCriteria, StepRecorder, Trajectory

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
    settle: bool = False,
    **params: np.ndarray | float,
) -> Trajectory:
    """Iterate the exact map of ``(f, lam, w2)`` for ``steps`` steps.

    All arguments broadcast together (a batch over learning rates, initial
    states, widths, targets, ...). ``params`` are the map's other arguments
    (``n``, ``x2`` for the uv model). A run that blows up is frozen at the step
    it happened (``diverged_at``); no overflow warning escapes. With
    ``stop_early`` the iteration ends once every run has diverged or converged
    (the trajectory is then shorter than ``steps``); with ``settle`` once every run has
    diverged or settled (loss below ``criteria.settled_loss`` times its scale: later
    steps change nothing float64 resolves).
    """
    steps = check_int("steps", steps, 0)
    missing = [p for p in cmap.params if p not in ("eta", "y") and p not in params]
    unknown = [p for p in params if p not in cmap.params]
    if missing or unknown:
        raise InvalidInput(f"{cmap.model} map needs parameters {cmap.params}; missing {missing}, unknown {unknown}")
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (f0, lam0, w2_0, eta, y, *(params[p] for p in cmap.params[2:])))
    )
    f, lam, w2, eta_a, y_a, *rest = (a.copy() for a in arrays)
    require(*((np.all(np.isfinite(a)), f"{name} must be finite")
              for name, a in zip(("f0", "lam0", "w2_0", "eta", "y"), (f, lam, w2, eta_a, y_a))))
    rec = StepRecorder(steps, f.shape, criteria)
    with np.errstate(over="ignore", invalid="ignore"):
        loss0 = 0.5 * (f - y_a) ** 2
    require((np.all(np.isfinite(loss0)), "the initial loss (f0 - y)^2 / 2 overflows float64"))
    rec.check(0, loss0, lam, w2)
    rec.store(0, loss=loss0, lam=lam, w2=w2)
    done = 0
    for t in range(1, steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            nf, nl, nw = cmap(f, lam, w2, eta_a, y_a, *rest)
            new_loss = 0.5 * (nf - y_a) ** 2
        rec.check(t, new_loss, nl, nw)
        active = rec.active
        f = np.where(active, nf, f)  # a blown-up run stays frozen at its last finite state
        lam = np.where(active, nl, lam)
        w2 = np.where(active, nw, w2)
        rec.store(t, loss=new_loss, lam=nl, w2=nw)
        done = t
        if stop_early or settle:
            level = criteria.settled_loss if settle else criteria.converged_loss
            conv = new_loss <= level * criteria.scale(loss0)
            if not np.any(active & ~conv):
                break
    return rec.trajectory(eta_a, upto=done)
