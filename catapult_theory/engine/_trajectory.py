"""Trajectories of batches of runs, divergence as a result, and phase labels.

Phase criteria (documented contract, see :class:`PhaseCriteria`):

``divergent``
    Blow-up: the loss became non-finite or exceeded ``blowup`` times
    ``max(loss_0, loss_floor)``; the step at which this happened is recorded in
    ``diverged_at`` and the run is frozen there (no overflow warning escapes;
    values from that step on are not part of the trajectory).
``collapsed``
    (ReLU nets) every unit is inactive on every datum at the end: the net is
    the constant 0, whatever the loss.
``lazy`` / ``catapult``
    The run converges or is converging at the end of the budget, and the loss
    never rose above its start (``lazy``) or did rise (``catapult``). A run is
    *converging* when its final loss is below ``converged_loss`` times
    ``max(loss_0, loss_floor)``, or when it is linearly stable at the end
    (``eta·lam_T <= 2 (1 + stable_rtol)``, 2 the derived stability edge
    :func:`linear_stability_edge`) and its loss is not larger than
    ``window`` steps before (up to ``plateau_rtol``: round-off on a plateau). Slow (polynomial) convergence with ``eta·lam``
    just below 2 therefore counts as converging, not as divergence.
``unresolved``
    Neither diverged nor converging within the step budget (for instance still
    in the exponential growth of a catapult): more steps are needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from typing import Mapping

import numpy as np

from ..errors import InvalidInput

__all__ = ["StepRecorder", "linear_stability_edge", "rose", "Phase", "PhaseCriteria", "Trajectory", "classify",
    "blown_up"]


class Phase(str, Enum):
    """Phase label of a run (see the module docstring)."""

    LAZY = "lazy"
    CATAPULT = "catapult"
    DIVERGENT = "divergent"
    COLLAPSED = "collapsed"
    UNRESOLVED = "unresolved"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PhaseCriteria:
    """Numerical criteria of the phase labels (see module docstring)."""

    #: blow-up: loss above ``blowup * max(loss_0, loss_floor)``
    blowup: float = 1e20
    #: the loss "rose" if its maximum exceeds ``loss_0 * (1 + rise_rtol)``
    rise_rtol: float = 1e-6
    #: converged: final loss below ``converged_loss * max(loss_0, loss_floor)``
    converged_loss: float = 1e-12
    #: linearly stable at the end: ``eta*lam_T <= edge * (1 + stable_rtol)`` with
    #: ``edge`` the derived stability edge ``eta_crit * lam`` (= 2)
    stable_rtol: float = 1e-3
    #: steps back for the "loss not increasing at the end" test
    window: int = 10
    #: "not increasing": ``loss_T <= loss_{T - window} * (1 + plateau_rtol)``; a run at a
    #: non-zero minimum (more data than directions to fit them) wobbles there by a few
    #: units of round-off, which is no increase
    plateau_rtol: float = 1e-12
    #: scale floor for relative loss criteria (a start at zero loss)
    loss_floor: float = 1e-30
    #: settled: loss below ``settled_loss * max(loss_0, loss_floor)``; a run stopped there
    #: (``GDConfig.settle``) would change ``w2`` and ``lam`` by far less than float64 resolves
    settled_loss: float = 1e-32
    #: settled too (families that report the rounding scale of their output,
    #: ``Observation.output_scale``): the residual is within ``roundoff_ulps`` units of
    #: float64 round-off of that scale, i.e. ``loss <= (roundoff_ulps * eps * scale)² / 2``;
    #: below it the computed residual is rounding noise and a step moves nothing float64
    #: resolves (a run can sit on that floor far above ``settled_loss``). The scale
    #: ``Σ |terms|`` leaves out the rounding inside each term, which can be several
    #: times larger; 4 units missed some floors, and up to 128 stops runs within 8
    #: units of round-off of their full-budget values (tests/engine)
    roundoff_ulps: float = 32.0

    def __post_init__(self) -> None:
        for name in ("blowup", "rise_rtol", "converged_loss", "stable_rtol", "loss_floor", "settled_loss",
                     "roundoff_ulps", "plateau_rtol"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise InvalidInput(f"PhaseCriteria.{name} must be positive and finite, got {v}")
        if self.window < 1:
            raise InvalidInput("PhaseCriteria.window must be >= 1")

    def scale(self, loss0: np.ndarray | float) -> np.ndarray:
        """``max(loss_0, loss_floor)``: the scale of the relative loss criteria."""
        return np.maximum(loss0, self.loss_floor)


@lru_cache(maxsize=None)
def linear_stability_edge() -> float:
    """``eta * lam`` at which the linearised dynamics lose stability: the derived
    ``eta_crit * lam`` (multiplier ``1 − eta lam = −1``) of the symbolic layer."""
    from ..compiled import threshold

    return float(threshold("uv", "eta_crit")(lam=1.0))


def blown_up(loss: np.ndarray, loss0: np.ndarray, criteria: PhaseCriteria) -> np.ndarray:
    """Elementwise: has this loss blown up (non-finite or above the blow-up bound)?"""
    with np.errstate(invalid="ignore", over="ignore"):
        scale = criteria.scale(loss0)
        return ~np.isfinite(loss) | (loss > criteria.blowup * scale)


@dataclass(frozen=True)
class Trajectory:
    """Per-step series of a batch of runs.

    Series have shape ``(steps + 1, *batch)``; entry ``t`` is the state after
    ``t`` steps. For a run that diverged at step ``s`` (``diverged_at == s``,
    else ``-1``) only entries ``0 .. s-1`` are part of the trajectory; later
    entries are NaN internally and never reported (:meth:`series` cuts them).
    """

    loss: np.ndarray
    lam: np.ndarray
    w2: np.ndarray
    eta: np.ndarray
    diverged_at: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Number of steps of the series (entries ``0 .. steps``)."""
        return self.loss.shape[0] - 1

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of runs (``()`` for one run)."""
        return self.loss.shape[1:]

    @property
    def length(self) -> np.ndarray:
        """Number of valid entries per run."""
        return np.where(self.diverged_at >= 0, self.diverged_at, self.steps + 1)

    def final(self, name: str = "loss") -> np.ndarray:
        """Last valid value of a series, per run."""
        arr = self._get(name)
        idx = np.maximum(self.length - 1, 0)
        return np.take_along_axis(arr, idx[None, ...], axis=0)[0]

    def peak_loss(self) -> np.ndarray:
        """Largest loss over the valid entries, per run."""
        t = np.arange(self.steps + 1).reshape((-1,) + (1,) * len(self.batch_shape))
        with np.errstate(invalid="ignore"):
            return np.nanmax(np.where(t < self.length[None, ...], self.loss, -np.inf), axis=0)

    def _get(self, name: str) -> np.ndarray:
        if name in ("loss", "lam", "w2"):
            return getattr(self, name)
        try:
            return self.extra[name]
        except KeyError:
            raise KeyError(f"no series {name!r}; have loss, lam, w2, {', '.join(self.extra)}") from None

    def series(self, name: str, index: tuple[int, ...] | int = ()) -> np.ndarray:
        """The valid part of one run's series (no NaN)."""
        if isinstance(index, int):
            index = (index,)
        if len(index) != len(self.batch_shape):
            raise IndexError(f"index {index} does not pick one run of a batch of shape {self.batch_shape}")
        arr = self._get(name)[(slice(None),) + tuple(index)]
        return np.asarray(arr[: int(self.length[tuple(index)])], dtype=float)

    def run(self, index: tuple[int, ...] | int) -> "Trajectory":
        """One run of the batch, as a trajectory with an empty batch shape."""
        if isinstance(index, int):
            index = (index,)
        sl = (slice(None),) + tuple(index)
        return replace(
            self,
            loss=self.loss[sl],
            lam=self.lam[sl],
            w2=self.w2[sl],
            eta=np.asarray(self.eta[tuple(index)]),
            diverged_at=np.asarray(self.diverged_at[tuple(index)]),
            extra={k: v[sl] for k, v in self.extra.items()},
        )


#: rows a :class:`StepRecorder` starts with; it doubles them as a run goes on
INITIAL_ROWS = 1024


def recorded_bytes(steps: int, runs: int, series: int) -> int:
    """Peak bytes of recording ``series`` float64 series of ``runs`` runs for the whole
    budget of ``steps`` steps (a batch some run of which never stops early): the rows grow
    from :data:`INITIAL_ROWS` by doubling up to ``steps + 1`` (:meth:`StepRecorder.ensure`),
    and during the last growth the old and the new rows of every series are held together."""
    full, have = steps + 1, min(steps + 1, INITIAL_ROWS)
    if have >= full:
        return 8 * full * runs * series
    while 2 * have < full:
        have *= 2
    return 8 * (have + full) * runs * series


class StepRecorder:
    """Per-step series of a batch of runs of shape ``shape``, with divergence as a result.

    The series are not allocated for the whole budget of ``steps``: they start with
    :data:`INITIAL_ROWS` rows and double when a step needs more (:meth:`ensure`, each
    growth checked against the memory limit, :func:`catapult_theory.resources.check_growth`),
    so a long budget with early convergence costs what the run uses."""

    def __init__(self, steps: int, shape: tuple[int, ...], criteria: PhaseCriteria, extra: tuple[str, ...] = ()):
        self.criteria = criteria
        self.steps = steps
        rows = min(steps + 1, INITIAL_ROWS)
        self.series = {name: np.full((rows,) + tuple(shape), np.nan) for name in ("loss", "lam", "w2", *extra)}
        self.diverged_at = np.full(shape, -1, dtype=np.int64)
        self.active = np.ones(shape, dtype=bool)
        self.loss0 = np.full(shape, np.nan)

    def check(self, t: int, loss: np.ndarray, *values: np.ndarray, runs: np.ndarray | None = None) -> np.ndarray:
        """Mark the still-active runs whose loss blew up (:func:`blown_up` against their step-0
        loss) or any of whose ``values`` is not finite, record ``t`` as their ``diverged_at`` and
        return that mask (the caller freezes those runs). ``runs``: the flat runs given (default all)."""
        at = ... if runs is None else runs
        if t == 0:
            self.loss0[at] = loss
        bad = blown_up(loss, self.loss0[at], self.criteria)
        for v in values:
            bad = bad | ~np.isfinite(v)
        bad = self.active[at] & bad
        self.diverged_at[at] = np.where(bad, t, self.diverged_at[at])
        self.active[at] &= ~bad
        return bad

    def ensure(self, rows: int) -> None:
        """Room for ``rows`` rows (steps ``0 .. rows-1``): double the series if needed."""
        have = next(iter(self.series.values())).shape[0]
        if rows <= have:
            return
        new = min(max(rows, 2 * have), self.steps + 1)
        from ..resources import check_growth

        per_row = sum(a[0].nbytes for a in self.series.values())
        check_growth(new * per_row, "recorded trajectory")
        self.series = {k: np.concatenate([a, np.full((new - have,) + a.shape[1:], np.nan)])
                       for k, a in self.series.items()}
        self._grown(new - have)

    def _grown(self, more: int) -> None:
        """Hook: the series grew by ``more`` rows."""

    def store(self, t: int, **values: np.ndarray) -> None:
        """Write step ``t`` of the active runs (NaN for diverged ones, never reported)."""
        self.ensure(t + 1)
        for name, v in values.items():
            self.series[name][t] = np.where(self.active, v, np.nan)

    def trajectory(self, eta: np.ndarray, upto: int | None = None) -> Trajectory:
        """The :class:`Trajectory` of steps ``0 .. upto`` (default all) at rates ``eta``."""
        sl = slice(None) if upto is None else slice(0, upto + 1)
        s = {k: v[sl] for k, v in self.series.items()}
        extra = {k: v for k, v in s.items() if k not in ("loss", "lam", "w2")}
        return Trajectory(s["loss"], s["lam"], s["w2"], np.asarray(eta, dtype=float), self.diverged_at, extra)


def rose(traj: Trajectory, criteria: PhaseCriteria = PhaseCriteria()) -> np.ndarray:
    """Per run: did the loss rise above its start (or blow up)? The predicate of
    the catapult onset."""
    return (traj.peak_loss() > traj.loss[0] * (1 + criteria.rise_rtol)) | (traj.diverged_at >= 0)


def classify(
    traj: Trajectory,
    criteria: PhaseCriteria = PhaseCriteria(),
    collapsed: np.ndarray | None = None,
) -> np.ndarray:
    """Phase label (a :class:`Phase` value string) per run; see module docstring."""
    loss0 = traj.loss[0]
    scale = criteria.scale(loss0)
    back = np.maximum(traj.length - 1 - criteria.window, 0)
    loss_T = traj.final("loss")
    loss_back = np.take_along_axis(traj.loss, back[None], axis=0)[0]
    eta_lam_T = traj.eta * traj.final("lam")
    risen = traj.peak_loss() > loss0 * (1 + criteria.rise_rtol)
    converged = loss_T <= criteria.converged_loss * scale
    not_rising = loss_T <= loss_back * (1 + criteria.plateau_rtol)
    stable = (eta_lam_T <= linear_stability_edge() * (1 + criteria.stable_rtol)) & not_rising
    converging = converged | stable
    out = np.full(traj.batch_shape, Phase.UNRESOLVED.value, dtype=object)
    out[converging & ~risen] = Phase.LAZY.value
    out[converging & risen] = Phase.CATAPULT.value
    if collapsed is not None:
        out[np.asarray(collapsed, dtype=bool)] = Phase.COLLAPSED.value
    out[traj.diverged_at >= 0] = Phase.DIVERGENT.value
    return out
