"""uv-model experiments: one run (GD beside the exact map) and phase sweeps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InvalidInput, check_float, check_initial_state, check_int, check_lam0, check_positive, learning_rates
from ..compiled import compile_expr, update_map
from ..engine import PhaseCriteria, Trajectory, classify, iterate_map, train_uv, uv_init, uv_observables
from ..symbolic import symbols as S
from ..symbolic import theory
from ._bound_eval import Providers, evaluate_bounds
from ._boundaries import final_values, grid_boundaries, phase_flags
from ._bound_status import bound_status
from ._results import PhaseSweep, RunResult, max_rel_dev

__all__ = ["UVSetup", "uv_datum", "uv_setup", "uv_state", "w2_at_bound", "run_uv", "sweep_map", "sweep_uv", "uv_window",
           "UV_CONSTANTS"]


def uv_datum(d: int = 1, x_norm: float = 1.0) -> np.ndarray:
    """The default datum: the first basis vector of ``R^d`` scaled to ``|x| = x_norm``."""
    if d < 1:
        raise InvalidInput(f"d must be positive, got {d}")
    x = np.zeros(d)
    x[0] = x_norm
    return x


@dataclass(frozen=True)
class UVSetup:
    """Initial state of the uv model on one datum."""

    width: int
    x: np.ndarray
    y: float
    f0: float
    lam0: float
    w2_0: float
    seed: int | None

    @property
    def x2(self) -> float:
        """``|x|²`` of the datum."""
        return float(self.x @ self.x)


def uv_setup(width: int, seed: int = 0, y: float = 0.0, d: int = 1, x_norm: float = 1.0) -> UVSetup:
    """Seeded N(0,1) initialisation and its ``(f0, lam0, w2_0)``."""
    width, seed, d = check_int("width", width, 1), check_int("seed", seed, 0), check_int("d", d, 1)
    y, x_norm = check_float("y", y), check_positive("x_norm", x_norm)
    x = uv_datum(d, x_norm)
    init = uv_init(width, d, seed)
    with np.errstate(all="ignore"):
        f0, lam0, w2_0 = uv_observables(init, x)
        x2, loss0 = x @ x, 0.5 * (f0 - y) ** 2
    check_initial_state({"|x|^2": x2, "f0": f0, "lam0": lam0, "loss0 = (f0 - y)^2 / 2": loss0},
                        "make --x-norm or --y smaller")
    check_lam0(lam0, "raise --x-norm (lam0 grows with |x|^2)")
    return UVSetup(width, x, float(y), float(f0), float(lam0), float(w2_0), seed)


@lru_cache(maxsize=None)
def _K_fn():
    """Compiled ``K`` of ``lam <= K w2`` (derived from the operator relation)."""
    K = theory("uv").K
    if K is None:  # pragma: no cover - the derivation finds it
        raise RuntimeError("uv operator relation not found")
    return compile_expr(K, [S.n, S.x2])


def w2_at_bound(lam0, n, x2):
    """``lam0 / K``: the weight norm at which ``lam <= K w2`` is tight (d = 1)."""
    return np.asarray(lam0, dtype=float) / _K_fn()(np.asarray(n, dtype=float), np.asarray(x2, dtype=float))


#: the uv bound constants, keyed by symbol (see :mod:`._bound_eval`)
UV_CONSTANTS: Providers = {
    S.lam: lambda s: s.lam0,
    S.w2: lambda s: s.w2_0,
    S.n: lambda s: float(s.width),
    S.x2: lambda s: s.x2,
}


def uv_window(setup: UVSetup) -> float:
    """Proven upper end of the catapult window in ``k`` for this initial state (y = 0):
    the catalogue's ``lemma`` bound."""
    return evaluate_bounds("uv", ["lemma"], setup, UV_CONSTANTS)["lemma"]


def uv_state(
    width: int, f0: float, lam0: float, y: float = 0.0, w2_0: float | None = None, x_norm: float = 1.0
) -> UVSetup:
    """A given initial state ``(f0, lam0)``; ``w2_0`` defaults to ``lam0 / K``
    (``K`` the derived constant of ``lam <= K w2``, an equality for ``d = 1``)."""
    width, f0, y = check_int("width", width, 1), check_float("f0", f0), check_float("y", y)
    lam0, x_norm = check_positive("lam0", lam0), check_positive("x_norm", x_norm)
    check_lam0(lam0, "raise --lam0")
    w2_0 = None if w2_0 is None else check_positive("w2_0", w2_0)
    x = uv_datum(1, x_norm)
    with np.errstate(all="ignore"):
        x2, loss0 = x @ x, 0.5 * (np.float64(f0) - y) ** 2
        if w2_0 is None:
            w2_0 = float(w2_at_bound(lam0, width, x2))
    check_initial_state({"|x|^2": x2, "loss0 = (f0 - y)^2 / 2": loss0, "w2_0": w2_0},
                        "make --f0, --y or --x-norm smaller")
    return UVSetup(width, x, float(y), float(f0), float(lam0), float(w2_0), None)


def run_uv(
    width: int,
    k: float,
    steps: int,
    seed: int = 0,
    y: float = 0.0,
    d: int = 1,
    x_norm: float = 1.0,
    criteria: PhaseCriteria = PhaseCriteria(),
) -> RunResult:
    """Train the width-``width`` uv model with ``η = k / lam0`` and iterate the
    exact map from the same initial state; both stop once the loss has settled
    (``settings["steps_run"]``: the steps taken)."""
    k, steps = check_positive("k", k), check_int("steps", steps, 1)
    setup = uv_setup(width, seed, y, d, x_norm)
    init = uv_init(width, d, seed)
    eta = float(learning_rates(k, setup.lam0, "lower --eta-lambda or raise --x-norm"))
    # both stop once settled: a long budget costs only the steps the run needs
    gd = train_uv(init, setup.x, eta, steps, y=y, criteria=criteria, settle=True)
    ref = iterate_map(
        update_map("uv"), f0=setup.f0, lam0=setup.lam0, w2_0=setup.w2_0, eta=eta, y=y,
        steps=steps, criteria=criteria, settle=True, n=width, x2=setup.x2,
    )
    return RunResult(
        model="uv",
        phase=str(classify(gd, criteria)),
        eta=eta,
        k=float(k),
        lam0=setup.lam0,
        w2_0=setup.w2_0,
        gd=gd,
        reference=ref,
        reference_name="map",
        max_rel_dev=max_rel_dev(gd, ref),
        settings={"width": width, "seed": seed, "y": y, "d": d, "x_norm": x_norm, "steps": steps,
                  "steps_run": int(gd.length - 1),
                  "f0": setup.f0, "map_phase": str(classify(ref, criteria))},
        bounds={"lemma": uv_window(setup)},
        bound_status=bound_status("uv", ["lemma"], setup.y, 1),
    )


def sweep_map(
    setup: UVSetup,
    k: np.ndarray,
    steps: int,
    criteria: PhaseCriteria = PhaseCriteria(),
    stop_early: bool = True,
) -> Trajectory:
    """The exact map from one initial state for every ``k`` at once."""
    steps = check_int("steps", steps, 1)
    k = np.asarray(k, dtype=float)
    return iterate_map(
        update_map("uv"), f0=setup.f0, lam0=setup.lam0, w2_0=setup.w2_0, eta=learning_rates(k, setup.lam0, "lower --k-max or raise --x-norm"), y=setup.y,
        steps=steps, criteria=criteria, stop_early=stop_early, n=setup.width, x2=setup.x2,
    )


def sweep_uv(
    setup: UVSetup,
    k: np.ndarray,
    steps: int = 2000,
    criteria: PhaseCriteria = PhaseCriteria(),
    tol: float = 1e-6,
    refine: bool = True,
) -> PhaseSweep:
    """Phases of the exact map on a grid of ``k``; boundaries refined by multisection
    (``refine=False``: at grid resolution).

    ``catapult_onset`` is the first ``k`` where the loss rises above its start;
    ``divergence`` the first ``k`` where the run blows up (``None`` when not in
    the grid's range).
    """
    k = np.asarray(k, dtype=float)
    traj = sweep_map(setup, k, steps, criteria)
    phase = classify(traj, criteria)
    boundaries = grid_boundaries(
        k, phase_flags(traj, criteria, phase=phase),
        (lambda ks: phase_flags(sweep_map(setup, ks, steps, criteria), criteria)) if refine else None, tol,
        phase=phase)
    final = final_values(traj, k / setup.lam0, setup.w2_0)
    final["diverged_at"] = np.where(traj.diverged_at >= 0, traj.diverged_at, -1)
    bounds = {"lemma": uv_window(setup)} if setup.y == 0 else {}
    return PhaseSweep(
        model="uv",
        k=k,
        phase=phase,
        boundaries=boundaries,
        final=final,
        settings={"width": setup.width, "y": setup.y, "f0": setup.f0, "lam0": setup.lam0, "w2_0": setup.w2_0,
                  "x2": setup.x2, "seed": setup.seed, "steps": steps, "engine": "exact map"},
        bounds=bounds,
        bound_status=bound_status("uv", bounds, setup.y, 1),
    )
