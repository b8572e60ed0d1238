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

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ..engine import (
    PhaseCriteria,
    Trajectory,
    TwoLayerRun,
    TwoLayerState,
    train_two_layer,
    two_layer_init,
    two_layer_observables,
    two_layer_output,
)
from ..errors import NET_LAM0_ADVICE, InvalidInput, check_float, check_int, check_lam0, check_positive, learning_rates
from ..symbolic import QUANTITIES
from ..symbolic import symbols as S
from ..symbolic.models.two_layer import a as SLOPE
from ..symbolic.models.uv import d as D_IN
from ._bound_eval import Providers, evaluate_bounds
from ._bound_status import BoundHypotheses, bound_status
from ._boundaries import Evaluate, final_values, grid_boundaries, phase_flags
from ..data import DATA_FORMS
from ._data import load_data
from ._digits import Dataset
from ._results import PhaseSweep, RunResult

__all__ = [
    "DATA_FORMS",
    "TEACHER_WIDTH",
    "TWO_LAYER_CONSTANTS",
    "TWO_LAYER_HYPOTHESES",
    "TwoLayerSetup",
    "random_teacher_data",
    "net_sweep",
    "run_two_layer",
    "sweep_two_layer",
    "sweep_two_layer_run",
    "two_layer_bounds",
    "two_layer_data",
    "two_layer_image_setup",
    "two_layer_setup",
]

_Q = {q.name: q for q in QUANTITIES}

DATA_FORMS = DATA_FORMS  # the one grammar of data specs (:mod:`._data`)

#: width of the teacher net that labels ``random:B:D[:T]`` data
TEACHER_WIDTH = 16


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


def random_teacher_data(B: int, D: int, test_size: int = 0, slope: float = 0.0, seed: int = 0) -> Dataset:
    """``B`` training and ``test_size`` test inputs in ``R^D``, coordinates i.i.d. N(0, 1)
    (so ``E|x|² = D``, the scale of the ``1/√(n d)`` parametrisation), labelled by a teacher:
    a two-layer net of the same slope ``a`` and width :data:`TEACHER_WIDTH` with N(0, 1)
    weights. Inputs (train, then test) and teacher come from ``default_rng([seed, 1])``,
    a stream apart from the student's initialisation (``default_rng(seed)``)."""
    B, D = check_int("B", B, 1), check_int("D", D, 1)
    test_size, seed = check_int("test_size", test_size, 0), check_int("seed", seed, 0)
    rng = np.random.default_rng([seed, 1])
    X = rng.standard_normal((B, D))
    X_test = rng.standard_normal((test_size, D)) if test_size else None
    teacher = TwoLayerState(rng.standard_normal((TEACHER_WIDTH, D)), rng.standard_normal(TEACHER_WIDTH))
    y = two_layer_output(teacher, X, slope)
    y_test = two_layer_output(teacher, X_test, slope) if X_test is not None else None
    return Dataset(
        name=f"random:{B}:{D}:{test_size}",
        description=(f"{B} inputs in R^{D}, coordinates i.i.d. N(0, 1), labels from a two-layer teacher "
                     f"(slope {slope:g}, width {TEACHER_WIDTH}, N(0, 1) weights); "
                     + (f"{test_size} test points drawn the same way" if test_size else "no test set")),
        X=X, y=y, X_test=X_test, y_test=y_test)


def two_layer_data(spec: str, seed: int = 0, train_size: int = 128, slope: float = 0.0,
                   data_dir: str | None = None) -> Dataset:
    """The data set of a spec (:mod:`._data`): ``toy``, ``toy:X:Y``, ``random:B:D[:T]``
    (:func:`random_teacher_data`, teacher of slope ``slope``), ``digits01`` or two image classes."""
    return load_data(spec, seed=seed, train_size=train_size, data_dir=data_dir,
                     teacher=lambda sp_: random_teacher_data(sp_.B, sp_.D, sp_.T or 0, slope=slope, seed=seed))


def two_layer_setup(width: int, slope: float, data: str = "toy", seed: int = 0, train_size: int = 128,
                    data_dir: str | None = None) -> TwoLayerSetup:
    """Seeded N(0,1) net of ``width`` units with slope ``a`` on a named data set (:mod:`._data`)."""
    width, seed, slope = check_int("width", width, 1), check_int("seed", seed, 0), check_float("slope", slope)
    train_size = check_int("train_size", train_size, 1)
    if not isinstance(data, str):
        raise InvalidInput(f"data must be a spec string such as 'toy', got {data!r}")
    ds = two_layer_data(data, seed=seed, train_size=train_size, slope=slope, data_dir=data_dir)
    init = two_layer_init(width, ds.X.shape[1], seed)
    obs = two_layer_observables(init, ds.X, ds.y, slope)
    check_lam0(obs.lam, NET_LAM0_ADVICE)
    settings = {"model": "two-layer", "width": width, "slope": slope, "data": data, "seed": seed,
                "B": int(ds.X.shape[0]), "d": int(ds.X.shape[1]),
                "test_size": 0 if ds.X_test is None else int(ds.X_test.shape[0]), "data_description": ds.description}
    return TwoLayerSetup(width, float(slope), ds, init, float(obs.lam), float(obs.w2), float(obs.loss),
                         float(obs.sparsity), settings)


def two_layer_image_setup(width: int, slope: float, spec: str, seed: int = 0, train_size: int = 128,
                          data_dir: str | None = None) -> TwoLayerSetup:
    """:func:`two_layer_setup` on an image spec, with the slope checked to lie in [0, 1]."""
    if not 0.0 <= float(slope) <= 1.0:
        raise InvalidInput(f"slope must lie in [0, 1], got {slope}")
    return two_layer_setup(width, float(slope), spec, seed=seed, train_size=train_size, data_dir=data_dir)


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


#: the two-layer family's own hypotheses (of its bound outside the catalogue)
TWO_LAYER_HYPOTHESES = {
    "relu_uv": BoundHypotheses(
        one_datum=True, relu=True, one_dimensional=True,
        origin="not a catalogue bound: on one datum inactive ReLU units are frozen, the active ones follow the "
               "lemma and units dying only lower the active norm, whose bound is an equality for d = 1",
        theorem_outside_catalogue="relu-one-datum", outside_catalogue=True),
}


def two_layer_bound_status(setup: TwoLayerSetup, names) -> dict[str, dict]:
    """Rigorous? Hypotheses hold for this data and slope? (:func:`.bound_status`)"""
    return bound_status("two-layer", names, setup.data.y, setup.data.B, slope=setup.slope,
                        dim=int(setup.data.X.shape[1]), hypotheses=TWO_LAYER_HYPOTHESES)


@cache
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
           lam_every: int = 1, test_every: int = 1, progress=None, lam_dense: int = 0,
           lam_rtol: float | None = None):
    eta = np.atleast_1d(learning_rates(k, setup.lam0, "lower k (--eta-lambda, --k-max)"))
    return train_two_layer(setup.init, setup.data, setup.slope, eta, steps, tol=tol, criteria=criteria,
                           lam_every=lam_every, test_every=test_every, progress=progress, lam_dense=lam_dense,
                           lam_rtol=lam_rtol)


def run_two_layer(setup: TwoLayerSetup, k: float, steps: int, tol: float | None = None,
                  criteria: PhaseCriteria = PhaseCriteria()) -> RunResult:
    """Full-batch GD at ``η = k / lam0`` (``tol``: stop when the loss changes by less)."""
    k, steps = check_positive("k", k), check_int("steps", steps, 1)
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


def net_sweep(model: str, setup: Any, k: np.ndarray, run: Any, max_steps: int, tol: float | None,
              criteria: PhaseCriteria, bounds: dict[str, float], status: dict[str, dict[str, Any]],
              predicates: Evaluate | None, refine_tol: float, extra: tuple[str, ...]) -> PhaseSweep:
    """The :class:`PhaseSweep` of a finished batched net run (two- or three-layer): boundaries
    (``catapult_onset``, ``divergence``, ``collapse``; refined with ``predicates``), final
    values (NaN for a diverged run), the step each run stopped at, and settings."""
    traj: Trajectory = run.traj
    phase = np.asarray(run.phase, dtype=object)
    boundaries = grid_boundaries(k, phase_flags(traj, criteria, run.collapsed, phase), predicates, refine_tol,
                                 phase=phase)
    final = final_values(traj, k / setup.lam0, setup.w2_0, extra=extra)
    final["steps"] = np.asarray(run.stopped_at, dtype=float)
    converging = np.isin(phase, ["lazy", "catapult"])
    return PhaseSweep(
        model=model, k=k, phase=phase, boundaries=boundaries, final=final,
        settings={**setup.settings, "max_steps": max_steps, "tol": tol, "lam0": setup.lam0, "w2_0": setup.w2_0,
                  "largest_converging_k": float(k[converging].max()) if converging.any() else None,
                  "stop_reason": [str(r) for r in run.stop_reason], "refined": predicates is not None,
                  "rigorous": {n: status[n]["rigorous"] for n in bounds}},
        bounds=bounds, bound_status=status,
    )


def sweep_two_layer_run(
    setup: TwoLayerSetup,
    k: np.ndarray,
    max_steps: int = 3000,
    tol: float | None = 1e-8,
    criteria: PhaseCriteria = PhaseCriteria(),
    refine: bool = False,
    refine_tol: float = 1e-3,
    lam_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
    lam_dense: int = 0,
    lam_rtol: float | None = None,
) -> tuple[PhaseSweep, TwoLayerRun]:
    """:func:`sweep_two_layer` (at grid resolution unless ``refine``), returned with its GD run
    so that its trajectories serve as well (``lam_dense``, ``lam_rtol``: ``lam`` at every step
    while a run moves fast, :class:`~catapult_theory.engine.GDConfig`)."""
    k = np.asarray(k, dtype=float)
    max_steps = check_int("max_steps", max_steps, 1)
    run = _train(setup, k, max_steps, tol, criteria, lam_every, test_every=max_steps, progress=progress,
                 lam_dense=lam_dense, lam_rtol=lam_rtol)

    def evaluate(ks: np.ndarray) -> dict[str, np.ndarray]:
        r = _train(setup, ks, max_steps, tol, criteria, lam_every=max(lam_every, 50), test_every=max_steps)
        return phase_flags(r.traj, criteria, r.collapsed, r.phase)

    b = two_layer_bounds(setup)
    sweep = net_sweep("two-layer", setup, k, run, max_steps, tol, criteria, b, two_layer_bound_status(setup, b),
                      evaluate if refine else None, refine_tol, ("sparsity", "test_loss"))
    return sweep, run


def sweep_two_layer(
    setup: TwoLayerSetup,
    k: np.ndarray,
    max_steps: int = 3000,
    tol: float | None = 1e-8,
    criteria: PhaseCriteria = PhaseCriteria(),
    refine: bool = True,
    refine_tol: float = 1e-3,
    lam_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
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
    return sweep_two_layer_run(setup, k, max_steps, tol, criteria, refine, refine_tol, lam_every, progress)[0]
