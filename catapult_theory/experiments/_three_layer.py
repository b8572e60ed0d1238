"""Three-layer ReLU MLPs: setups, the degree-3 bound, runs and phase sweeps.

The net is degree-3 homogeneous (:mod:`catapult_theory.symbolic.models.three_layer`):
the two-layer weight-norm lemma does not apply as it stands. What the symbolic
layer derives instead, for any number ``B`` of data and labels ``y = 0``: one GD step
changes the squared weight norm by ``(η/B)[η rᵀHr − 6 r·f]`` (Euler ``θ·∇f = 3f``
per datum), which is at most ``(η/B)|r|²(η λ_max(H) − 6)``, and
``λ_max(H) <= tr(Θ)/B <= K |θ|⁴`` with ``K = mean|x|²/(3 n² d)``. The induction of
the two-layer proof then runs with ``η K |θ_t|⁴ <= η K |θ_0|⁴ < 6``: the window
``k < 6 lam_0/(K |θ_0|⁴)`` (the ``degree3`` bound), rigorous and of order
``d/n²``: empty for any wide net. The measured boundaries (catapult onset,
divergence, collapse) are what the sweep reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from ..compiled import compile_expr
from ..engine import (
    PhaseCriteria,
    ThreeLayerRun,
    ThreeLayerState,
    three_layer_init,
    three_layer_observables,
    three_layer_output,
    train_three_layer,
)
from ..errors import NET_LAM0_ADVICE, InvalidInput, check_float, check_int, check_lam0, check_positive, learning_rates
from ..symbolic import symbols as S
from ..symbolic.models.three_layer import three_layer_facts
from ..symbolic.models.uv import d as D_IN
from ._bound_eval import Providers
from ._bound_status import BoundHypotheses, bound_status
from ._boundaries import phase_flags
from ._two_layer import net_sweep
from ._dataset import Dataset
from ..data import DataSpec
from ._data import load_data
from ._results import PhaseSweep, RunResult

__all__ = [
    "THREE_LAYER_CONSTANTS",
    "THREE_LAYER_HYPOTHESES",
    "ThreeLayerSetup",
    "run_three_layer",
    "sweep_three_layer",
    "three_layer_bound_status",
    "three_layer_bounds",
    "three_layer_setup",
]


@dataclass(frozen=True, eq=False)
class ThreeLayerSetup:
    """A three-layer net, its data and its initial state (``lam0``, ``w2_0``, loss, sparsity)."""

    width: int
    slope: float
    data: Dataset
    init: ThreeLayerState
    lam0: float
    w2_0: float
    loss0: float
    sparsity0: tuple[float, float]
    settings: dict


#: width of the teacher net that labels ``random:B:D[:T]`` data
TEACHER_WIDTH = 16


def random_teacher_data(spec: DataSpec, slope: float, seed: int = 0) -> Dataset:
    """``random:B:D[:T]``: ``B`` training and ``T`` test inputs in ``R^D``, coordinates i.i.d.
    N(0, 1), labelled by a three-layer teacher of the same slope and width
    :data:`TEACHER_WIDTH` with N(0, 1) weights; inputs and teacher from ``default_rng([seed, 1])``,
    a stream apart from the student's initialisation."""
    B, D, T = spec.B, spec.D, spec.T or 0
    rng = np.random.default_rng([seed, 1])
    X = rng.standard_normal((B, D))
    X_test = rng.standard_normal((T, D)) if T else None
    teacher = ThreeLayerState(rng.standard_normal((TEACHER_WIDTH, D)),
                              rng.standard_normal((TEACHER_WIDTH, TEACHER_WIDTH)), rng.standard_normal(TEACHER_WIDTH))
    y = three_layer_output(teacher, X, slope)
    y_test = three_layer_output(teacher, X_test, slope) if X_test is not None else None
    return Dataset(
        name=f"random:{B}:{D}:{T}",
        description=(f"{B} inputs in R^{D}, coordinates i.i.d. N(0, 1), labels from a three-layer teacher "
                     f"(slope {slope:g}, width {TEACHER_WIDTH}, N(0, 1) weights); "
                     + (f"{T} test points drawn the same way" if T else "no test set")),
        X=X, y=y, X_test=X_test, y_test=y_test)


def three_layer_setup(width: int, slope: float, data: str = "toy", seed: int = 0, train_size: int = 128,
                      data_dir: str | None = None) -> ThreeLayerSetup:
    """Seeded N(0, 1) net of ``width`` units per hidden layer with slope ``a`` on a named
    data set (:mod:`._data`: toy, teacher-student, digits, image pairs)."""
    width, seed = check_int("width", width, 1), check_int("seed", seed, 0)
    slope = check_float("slope", slope)
    if not 0.0 <= slope <= 1.0:
        raise InvalidInput(f"slope must lie in [0, 1], got {slope}")
    ds = load_data(data, seed=seed, train_size=train_size, data_dir=data_dir,
                   teacher=lambda sp_: random_teacher_data(sp_, slope, seed))
    init = three_layer_init(width, ds.d, seed)
    obs = three_layer_observables(init, ds.X, ds.y, slope)
    check_lam0(obs.lam, NET_LAM0_ADVICE)
    settings = {"model": "three-layer", "width": width, "slope": slope, "data": data, "seed": seed, "B": ds.B,
                "d": ds.d, "test_size": ds.B_test, "data_description": ds.description}
    return ThreeLayerSetup(width, slope, ds, init, float(obs.lam), float(obs.w2), float(obs.loss),
                           (float(obs.sparsity1), float(obs.sparsity2)), settings)


#: the constants of the degree-3 window, keyed by symbol (``x2``: the mean of ``|x_a|²``)
THREE_LAYER_CONSTANTS: Providers = {
    S.lam: lambda s: s.lam0,
    S.w2: lambda s: s.w2_0,
    S.n: lambda s: float(s.width),
    D_IN: lambda s: float(s.data.d),
    S.x2: lambda s: float(np.mean(np.sum(s.data.X**2, axis=1))),
}


@cache
def _window() -> tuple[Callable[..., Any], tuple[sp.Symbol, ...]]:
    expr = three_layer_facts().window
    args = tuple(sorted(expr.free_symbols, key=str))
    return compile_expr(expr, args), args


def three_layer_bounds(setup: ThreeLayerSetup) -> dict[str, float]:
    """``degree3``: the upper end ``6 lam_0/(K |θ_0|⁴)`` of the window the degree-3
    weight-norm identity proves (module docstring)."""
    fn, args = _window()
    return {"degree3": float(fn(*(THREE_LAYER_CONSTANTS[a](setup) for a in args)))}


#: the hypotheses of the three-layer family's one bound (it has no catalogue)
THREE_LAYER_HYPOTHESES = {
    "degree3": BoundHypotheses(
        origin="any B; the degree-3 weight-norm identity is a theorem (weight-norm-identity[three-layer]), the "
               "window from lam <= K |theta|^4 is not",
        outside_catalogue=True),
}


def three_layer_bound_status(setup: ThreeLayerSetup, names: Any) -> dict[str, dict[str, Any]]:
    """``name -> {"rigorous", "hypotheses_hold", "why"}`` (:func:`.bound_status`: the one
    bound is proven for ``y = 0`` and any number of data)."""
    return bound_status("three-layer", names, setup.data.y, setup.data.B, hypotheses=THREE_LAYER_HYPOTHESES)


#: the default phase criteria (immutable)
_CRITERIA = PhaseCriteria()


def _train(setup: ThreeLayerSetup, k: np.ndarray, steps: int, tol: float | None, criteria: PhaseCriteria,
           lam_every: int = 1, test_every: int = 1, progress: Callable[[int, int], None] | None = None,
           keep_state: bool = False, lam_dense: int = 0, lam_rtol: float | None = None) -> ThreeLayerRun:
    eta = np.atleast_1d(learning_rates(k, setup.lam0, "lower k (--eta-lambda, --k-max)"))
    return train_three_layer(setup.init, setup.data, setup.slope, eta, steps, tol=tol, criteria=criteria,
                             lam_every=lam_every, test_every=test_every, progress=progress, keep_state=keep_state,
                             lam_dense=lam_dense, lam_rtol=lam_rtol)


def run_three_layer(setup: ThreeLayerSetup, k: float, steps: int, tol: float | None = None,
                    criteria: PhaseCriteria = _CRITERIA) -> RunResult:
    """Full-batch GD at ``η = k / lam0`` (``tol``: stop when the loss changes by less)."""
    k, steps = check_positive("k", k), check_int("steps", steps, 1)
    run = _train(setup, np.array([k]), steps, tol, criteria)
    traj = run.traj.run(0)
    series = ("loss", "lam", "w2", "sparsity", "sparsity1", "sparsity2") + (
        ("test_loss",) if "test_loss" in traj.extra else ())
    b = three_layer_bounds(setup)
    return RunResult(
        model="three-layer", phase=str(run.phase[0]), eta=float(k / setup.lam0), k=float(k), lam0=setup.lam0,
        w2_0=setup.w2_0, gd=traj,
        settings={**setup.settings, "steps": steps, "tol": tol, "stopped_at": int(run.stopped_at[0]),
                  "stop_reason": str(run.stop_reason[0]), "collapsed": bool(run.collapsed[0])},
        bounds=b, series=series, bound_status=three_layer_bound_status(setup, b),
    )


def sweep_three_layer(
    setup: ThreeLayerSetup,
    k: np.ndarray,
    max_steps: int = 3000,
    tol: float | None = 1e-8,
    criteria: PhaseCriteria = _CRITERIA,
    refine: bool = True,
    refine_tol: float = 1e-3,
    lam_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
    lam_dense: int = 0,
    lam_rtol: float | None = None,
) -> tuple[PhaseSweep, ThreeLayerRun]:
    """Phases of GD on a grid of ``k``, all rates batched; returns the sweep and its GD
    run (trajectories ``loss``, ``lam``, ``w2``, sparsities, with ``lam`` held between
    the steps marked in ``lam_evaluated``: every ``lam_every``-th, the first ``lam_dense`` and,
    given ``lam_rtol``, every step while a run moves fast, :class:`~catapult_theory.engine.GDConfig`).

    Boundaries as for the two-layer sweep: ``catapult_onset``, ``divergence`` and
    ``collapse`` (first collapsed ReLU net), refined by multisection when ``refine``
    (each round one batched GD run), else at grid resolution. Final values: ``lam``
    and the test loss evaluated at each run's last step; NaN for a diverged run.
    """
    k = np.asarray(k, dtype=float)
    max_steps = check_int("max_steps", max_steps, 1)
    run = _train(setup, k, max_steps, tol, criteria, lam_every, test_every=max_steps, progress=progress,
                 lam_dense=lam_dense, lam_rtol=lam_rtol)

    def again(ks: np.ndarray) -> ThreeLayerRun:
        return _train(setup, ks, max_steps, tol, criteria, lam_every=max(lam_every, 50), test_every=max_steps)

    def evaluate(ks: np.ndarray) -> dict[str, np.ndarray]:
        r = again(ks)
        return phase_flags(r.traj, criteria, r.collapsed, r.phase)

    b = three_layer_bounds(setup)
    sweep = net_sweep("three-layer", setup, k, run, max_steps, tol, criteria, b,
                            three_layer_bound_status(setup, b), evaluate if refine else None, refine_tol,
                            ("sparsity", "sparsity1", "sparsity2", "test_loss"))
    return sweep, run


