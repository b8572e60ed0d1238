"""Two-layer homogeneous nets: setups, predicted bounds, runs and phase sweeps.

Bounds are the symbolic catalogue's ``k_max`` (``single`` for one datum,
``data`` for many) evaluated on the concrete initial state. For ReLU nets on
one datum THEORY §6 adds an argument beyond the lemma: inactive units are
frozen and the active ones follow the uv law, units dying only lower ``lam``,
so there is no divergence below ``k = 4``; it is reported as ``relu_uv = 4``
(for one datum, ``a = 0``) and it is what the digits figure marks as the
proven value ``4``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..engine import PhaseCriteria, Trajectory, rose
from ..engine import TwoLayerState, train_two_layer, two_layer_init, two_layer_observables
from ..symbolic import QUANTITIES
from ..symbolic import symbols as S
from ..symbolic.models.two_layer import a as SLOPE
from ..symbolic.models.uv import d as D_IN
from ._bound_eval import Providers, evaluate_bounds
from ._boundaries import final_values, grid_boundaries
from ._bound_status import bound_status
from ._digits import Dataset, digits01, toy_data
from ._results import PhaseSweep, RunResult

__all__ = ["TwoLayerSetup", "two_layer_setup", "two_layer_bounds", "run_two_layer", "sweep_two_layer",
           "DATA_FORMS", "TWO_LAYER_CONSTANTS"]

_Q = {q.name: q for q in QUANTITIES}

DATA_FORMS = "'toy' (x = 1, y = 0) or 'digits01' (8x8 digits 0 vs 1, 128 training images)"


@dataclass(frozen=True, eq=False)
class TwoLayerSetup:
    """A two-layer net, its data and its initial state (``lam0``, ``w2_0``, loss, sparsity)."""

    width: int
    slope: float
    data: Dataset
    init: TwoLayerState
    lam0: float
    w2_0: float
    loss0: float
    sparsity0: float
    settings: dict


def two_layer_data(spec: str, seed: int = 0, train_size: int = 128) -> Dataset:
    """The named data set: ``toy`` or ``digits01``."""
    if spec == "toy":
        return toy_data()
    if spec == "digits01":
        return digits01(train_size=train_size, seed=seed)
    raise ValueError(f"bad data spec {spec!r}: expected {DATA_FORMS}")


def two_layer_setup(width: int, slope: float, data: str = "toy", seed: int = 0, train_size: int = 128) -> TwoLayerSetup:
    """Seeded N(0,1) net of ``width`` units with slope ``a`` on a named data set."""
    ds = two_layer_data(data, seed=seed, train_size=train_size)
    init = two_layer_init(width, ds.X.shape[1], seed)
    obs = two_layer_observables(init, ds.X, ds.y, slope)
    settings = {"model": "two-layer", "width": width, "slope": slope, "data": data, "seed": seed,
                "B": int(ds.X.shape[0]), "d": int(ds.X.shape[1]),
                "test_size": 0 if ds.X_test is None else int(ds.X_test.shape[0]), "data_description": ds.description}
    return TwoLayerSetup(width, float(slope), ds, init, float(obs.lam), float(obs.w2), float(obs.loss),
                         float(obs.sparsity), settings)


#: the two-layer bound constants, keyed by symbol (see :mod:`._bound_eval`)
TWO_LAYER_CONSTANTS: Providers = {
    S.lam: lambda s: s.lam0,
    S.w2: lambda s: s.w2_0,
    SLOPE: lambda s: s.slope,
    S.n: lambda s: float(s.width),
    D_IN: lambda s: float(s.data.X.shape[1]),
    _Q["B"]: lambda s: float(s.data.X.shape[0]),
    S.x2: lambda s: float(s.data.X[0] @ s.data.X[0]),
    _Q["LX"]: lambda s: float(np.linalg.eigvalsh(s.data.X @ s.data.X.T)[-1]),
}


def two_layer_bounds(setup: TwoLayerSetup) -> dict[str, float]:
    """Predicted ``k_max``: ``single`` (one datum) or ``data`` (many), and ``relu_uv``
    (= 4, ReLU on one datum, THEORY §6)."""
    B = setup.data.X.shape[0]
    out = evaluate_bounds("two-layer", ["single" if B == 1 else "data"], setup, TWO_LAYER_CONSTANTS)
    if B == 1 and setup.slope == 0:
        out["relu_uv"] = _relu_uv_k()
    return out


def two_layer_bound_status(setup: TwoLayerSetup, names) -> dict[str, dict]:
    """Rigorous? Hypotheses hold for this data and slope? (:func:`.bound_status`)"""
    return bound_status("two-layer", names, setup.data.y, setup.data.B, slope=setup.slope)


@lru_cache(maxsize=None)
def _relu_uv_k() -> float:
    """``k`` at the uv divergence threshold, ``lam · eta_max`` (derived; = 4): each
    active ReLU unit on one datum follows the uv law."""
    import sympy as sp

    from ..symbolic import symbols as S
    from ..symbolic import theory

    k = sp.simplify(theory("uv").thresholds["eta_max"].eta * S.lam)
    if k.free_symbols:  # pragma: no cover - the uv threshold is 4/lam
        raise RuntimeError(f"uv threshold in k is not a number: {k}")
    return float(k)


def _train(setup: TwoLayerSetup, k: np.ndarray, steps: int, tol: float | None, criteria: PhaseCriteria,
           lam_every: int = 1, test_every: int = 1, progress=None):
    eta = np.atleast_1d(np.asarray(k, dtype=float)) / setup.lam0
    return train_two_layer(setup.init, setup.data, setup.slope, eta, steps, tol=tol, criteria=criteria,
                           lam_every=lam_every, test_every=test_every, progress=progress)


def run_two_layer(setup: TwoLayerSetup, k: float, steps: int, tol: float | None = None,
                  criteria: PhaseCriteria = PhaseCriteria()) -> RunResult:
    """Full-batch GD at ``η = k / lam0`` (``tol``: stop when the loss changes by less)."""
    run = _train(setup, np.array([k]), steps, tol, criteria)
    traj = run.traj.run(0)
    series = ("loss", "lam", "w2", "sparsity") + (("test_loss",) if "test_loss" in traj.extra else ())
    b = two_layer_bounds(setup)
    return RunResult(
        model="two-layer",
        phase=str(run.phase[0]),
        eta=float(k / setup.lam0),
        k=float(k),
        lam0=setup.lam0,
        w2_0=setup.w2_0,
        gd=traj,
        settings={**setup.settings, "steps": steps, "tol": tol, "stopped_at": int(run.stopped_at[0]),
                  "stop_reason": str(run.stop_reason[0]), "collapsed": bool(run.collapsed[0])},
        bounds=b,
        series=series,
        bound_status=two_layer_bound_status(setup, b),
    )


def sweep_two_layer(
    setup: TwoLayerSetup,
    k: np.ndarray,
    max_steps: int = 3000,
    tol: float | None = 1e-8,
    criteria: PhaseCriteria = PhaseCriteria(),
    refine: bool = True,
    refine_tol: float = 1e-3,
    lam_every: int = 1,
    progress=None,
) -> PhaseSweep:
    """Phases of GD on a grid of ``k``, all rates batched.

    Boundaries: ``catapult_onset`` (loss first rises), ``divergence`` (first
    blow-up), ``collapse`` (first collapsed ReLU net); refined by multisection
    when ``refine`` (each refinement round is one batched GD run), else the
    first grid point where the label appears (grid resolution). Final values
    are exact: ``lam`` and the test loss are evaluated at each run's last
    step (the test loss only there: a sweep reports final test losses).
    ``progress(step, active_rates)`` is called during the main run.
    """
    k = np.asarray(k, dtype=float)
    run = _train(setup, k, max_steps, tol, criteria, lam_every, test_every=max(max_steps, 1), progress=progress)
    traj: Trajectory = run.traj
    phase = np.asarray(run.phase, dtype=object)

    def again(ks: np.ndarray):
        return _train(setup, ks, max_steps, tol, criteria, lam_every=max(lam_every, 50), test_every=max(max_steps, 1))

    boundaries = grid_boundaries(
        k,
        {"catapult_onset": rose(traj, criteria), "divergence": traj.diverged_at >= 0,
         "collapse": np.asarray(run.collapsed, dtype=bool)},
        {"catapult_onset": lambda ks: rose(again(ks).traj, criteria),
         "divergence": lambda ks: again(ks).traj.diverged_at >= 0,
         "collapse": lambda ks: np.asarray(again(ks).collapsed, dtype=bool)} if refine else None,
        refine_tol,
    )
    final = final_values(traj, k / setup.lam0, setup.w2_0, extra=("sparsity", "test_loss"))
    final["steps"] = np.asarray(run.stopped_at, dtype=float)
    converging = np.isin(phase, ["lazy", "catapult"])
    b = two_layer_bounds(setup)
    status = two_layer_bound_status(setup, b)
    return PhaseSweep(
        model="two-layer",
        k=k,
        phase=phase,
        boundaries=boundaries,
        final=final,
        settings={**setup.settings, "max_steps": max_steps, "tol": tol, "lam0": setup.lam0, "w2_0": setup.w2_0,
                  "largest_converging_k": float(k[converging].max()) if converging.any() else None,
                  "stop_reason": [str(s) for s in run.stop_reason], "refined": refine,
                  "rigorous": {n: status[n]["rigorous"] for n in b}},
        bounds=b,
        bound_status=status,
    )
