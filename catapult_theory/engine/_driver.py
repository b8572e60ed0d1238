"""One gradient-descent driver for every model family, batched over learning rates.

A family (:class:`GDFamily`) holds ``R`` runs in *slots* and supplies its forward
pass, its top NTK eigenvalue (:func:`.top_eig`) and its GD update; :func:`run_gd`
owns the rest: the step loop, the :class:`StepRecorder`, divergence (a blow-up
freezes the run at that step: a result, never a floating-point warning), the
stopping rules (:class:`StopReason`, kept as such in the :class:`GDResult`), the
``lam`` and test cadences, threads, the BLAS threads and progress. Runs that leave
stay in their slots, frozen, or (``compact``) are compacted away: the driver moves the
arrays the family names in :meth:`GDFamily.slot_arrays`, so that later steps only cost
the active runs; then the slots may run in threads, one slice each for 32 steps.

BLAS threads, one rule for every family: BLAS runs on one thread during :func:`run_gd`
(parallelism comes from the driver's slices: BLAS thread hand-offs cost far more than
they save on batched small products, tenfold on a busy machine), except for a family
whose steps are large products (:attr:`GDFamily.blas_threads`) when the driver runs one
slice and a step touches at least :data:`THREADS_MIN_WORK` elements.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import InvalidInput, check_int
from ._trajectory import INITIAL_ROWS, PhaseCriteria, StepRecorder, Trajectory

__all__ = ["THREADS_MIN_WORK", "GDConfig", "GDFamily", "GDResult", "Observation", "StopReason", "Tally", "run_gd"]


def require(*checks: tuple[bool | np.bool_, str]) -> None:
    """``InvalidInput`` with the message of the first failed ``(condition, message)``."""
    for ok, message in checks:
        if not ok:
            raise InvalidInput(message)


def check_rates(eta: np.ndarray | float) -> np.ndarray:
    """Learning rates as a float array; ``InvalidInput`` unless finite and non-negative."""
    eta = np.asarray(eta, dtype=float)
    require((np.all(np.isfinite(eta)) and not np.any(eta < 0), "learning rates must be finite and non-negative"))
    return eta


#: labels of :func:`check_data`: an array, or ``None`` for none
_Labels = TypeVar("_Labels", np.ndarray, None)


def check_data(X: np.ndarray, y: _Labels, d: int, what: str = "X") -> tuple[np.ndarray, _Labels]:
    """Inputs ``(B, d)`` with ``B >= 1`` and labels ``(B,)``, finite (``y=None``: no labels)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1 or not np.all(np.isfinite(X)):
        raise InvalidInput(f"{what} must be finite of shape (B, {d}) with B >= 1, got shape {X.shape}")
    y = None if y is None else np.asarray(y, dtype=float)
    if y is not None and (y.shape != X.shape[:1] or not np.all(np.isfinite(y))):
        raise InvalidInput(f"labels of {what} must be finite of shape ({X.shape[0]},), got shape {y.shape}")
    return X, y


class StopReason(str, Enum):
    """Why a run left the batch (a string equal to, and hashing as, its value)."""

    MAX_STEPS = "max_steps"
    TOL = "tol"
    COLLAPSED = "collapsed"
    DIVERGED = "diverged"
    SETTLED = "settled"

    def __str__(self) -> str:
        return self.value

    __hash__ = str.__hash__


@dataclass
class Observation:
    """A forward pass on the slots of a slice: ``finite``, values that must stay finite;
    ``lam``, ``test_loss`` if computed; ``stuck``, runs that cannot move (collapsed);
    ``output_scale``, per run the root mean square over the data of ``Σ |terms|`` of the
    computed output (its rounding scale; see ``PhaseCriteria.roundoff_ulps``), if known."""

    loss: np.ndarray
    w2: np.ndarray
    finite: tuple[np.ndarray, ...] = ()
    lam: np.ndarray | None = None
    test_loss: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    stuck: np.ndarray | None = None
    output_scale: np.ndarray | None = None


@dataclass
class Tally:
    """Work counted by a family while the driver advances one slice."""

    flops: int = 0
    fallbacks: int = 0


class GDFamily:
    """What a model family supplies to :func:`run_gd` (``s`` a slice of slots). ``extra``: series
    beyond ``loss``, ``lam``, ``w2`` (and ``test_loss`` if ``has_test``); ``work``: elements touched
    per step (for ``threads=None`` and the BLAS rule); ``compact``: runs that leave are moved out
    of the slots (the arrays of :meth:`slot_arrays`); ``blas_threads``: the steps are large
    products that BLAS threads may speed up (module docstring)."""

    extra: tuple[str, ...] = ()
    has_test: bool = False
    compact: bool = False
    work: int = 0
    blas_threads: bool = False

    def observe(self, s: slice, lam: bool, exact: bool, test: bool, tally: Tally) -> Observation:
        """The forward pass (``lam``, ``test``: wanted now; ``exact``: an exact eigen-solve)."""
        raise NotImplementedError

    def top_eig(self, s: slice, exact: bool, tally: Tally) -> np.ndarray:
        """``lam`` when :meth:`observe` did not return it."""
        raise NotImplementedError

    def test_loss(self, s: slice, tally: Tally) -> np.ndarray:
        """The test loss when :meth:`observe` did not return it."""
        raise NotImplementedError

    def update(self, s: slice, eta: np.ndarray, keep: np.ndarray, tally: Tally) -> None:
        """One GD step at rates ``eta``; runs not ``keep`` stay put."""
        raise NotImplementedError

    def freeze(self, s: slice, bad: np.ndarray) -> None:
        """Make the state of diverged runs harmless (they stay in their slots)."""

    def retire(self, slots: np.ndarray, runs: np.ndarray) -> None:
        """Runs ``runs`` leave from ``slots``: keep what the family reports of them."""

    def slot_arrays(self) -> Sequence[tuple[np.ndarray, int]]:
        """The family's per-slot arrays with their slot axis: what compacting moves."""
        return ()

    def move(self, src: np.ndarray, dst: int) -> None:
        """Copy slots ``src`` (increasing, all ``>= dst``) to ``dst, dst + 1, ...`` in every
        array of :meth:`slot_arrays` (nothing to do when they are in place)."""
        k = src.size
        if k == 0 or (src[0] == dst and src[-1] == dst + k - 1):
            return
        for a, axis in self.slot_arrays():
            index: list[Any] = [slice(None)] * a.ndim
            index[axis] = slice(dst, dst + k)
            source = list(index)
            source[axis] = src
            a[tuple(index)] = a[tuple(source)]


@dataclass(frozen=True)
class GDConfig:
    """Stopping rules and cadences of one :func:`run_gd` call.

    ``steps``: budget; ``tol``: stop a run at the first step ``t >= 1`` with
    ``|loss_t − loss_{t−1}| < tol``; ``lam_every``: ``lam`` at steps ``0, lam_every,
    ...``, at ``steps`` and when a run stops by ``tol`` or collapse (then for its whole
    slice; held in between), exact at step 0 and every ``reanchor``-th evaluation; besides,
    ``lam`` at every one of the first ``lam_dense`` steps and, given ``lam_rtol``, at every
    step while a run of the slice moves fast: its loss rises (``lam`` at that step and the
    next), or ``lam`` changed by more than ``lam_rtol`` of itself per step between its last
    two evaluations (so a catapult, in which the loss rises and then ``lam`` falls within a
    few steps, is recorded step by step while the slow parts keep the sparse cadence; the
    steps evaluated are marked in ``GDResult.lam_evaluated``); ``test_every``:
    the same for the test loss, also evaluated whenever a run leaves (a final test
    loss is never a held one); ``threads`` (compacting families): ``None`` for every
    CPU if a step touches ``>= 2**21`` elements; ``progress(step, active_runs)``
    every 32 steps; the series always end at the last step any run was in (``trim`` is
    accepted for older callers and changes nothing); ``settle``: a run leaves once its
    loss is below ``criteria.settled_loss`` times its scale, or (families that report
    ``Observation.output_scale``) its residual is rounding noise of the output
    (``criteria.roundoff_ulps``): nothing it does later shows in float64, so a large
    budget costs only the steps the runs need.
    """

    steps: int
    criteria: PhaseCriteria = PhaseCriteria()
    tol: float | None = None
    lam_every: int = 1
    test_every: int = 1
    reanchor: int = 0
    threads: int | None = 1
    progress: Callable[[int, int], None] | None = None
    trim: bool = False
    settle: bool = True
    lam_dense: int = 0
    lam_rtol: float | None = None

    def __post_init__(self) -> None:
        check_int("steps", self.steps, 0)
        check_int("lam_every", self.lam_every, 1)
        check_int("test_every", self.test_every, 1)
        check_int("reanchor", self.reanchor, 0)
        check_int("lam_dense", self.lam_dense, 0)
        if self.lam_rtol is not None and not (np.isfinite(self.lam_rtol) and self.lam_rtol > 0):
            raise InvalidInput(f"lam_rtol must be None or positive and finite, got {self.lam_rtol}")
        if self.threads is not None:
            check_int("threads", self.threads, 1)
        if self.tol is not None and not (np.isfinite(self.tol) and self.tol > 0):
            raise InvalidInput(f"tol must be None or positive and finite, got {self.tol}")


@dataclass(frozen=True, eq=False)
class GDResult:
    """What :func:`run_gd` returns: the trajectory (batch shape of ``eta``) and
    per run (flat) the step it left the batch, why, and whether ``lam`` was
    evaluated at each step; the family's work tallies and the threads used. ``stop_reason``
    holds :class:`StopReason` values (strings)."""

    traj: Trajectory
    stopped_at: np.ndarray
    stop_reason: np.ndarray
    lam_evaluated: np.ndarray
    flops: int
    fallbacks: int
    threads: int


class _Recorder(StepRecorder):
    """A :class:`StepRecorder` written per slice (``runs``: the runs in its slots), grown by doubling."""

    def __init__(self, R: int, names: tuple[str, ...], criteria: PhaseCriteria, steps: int) -> None:
        super().__init__(steps, (R,), criteria, names)
        self.evaluated = np.zeros((self.series["loss"].shape[0], R), dtype=bool)

    def _grown(self, more: int) -> None:
        self.evaluated = np.concatenate([self.evaluated, np.zeros((more, self.evaluated.shape[1]), dtype=bool)])


#: steps between re-balancing the slices over threads (and between progress calls)
_SYNC_EVERY = 32
#: float64 unit round-off scale (spacing of floats at 1)
_EPS = float(np.finfo(np.float64).eps)

#: elements touched per step from which ``threads=None`` uses every CPU, and BLAS its threads
#: in a family with ``blas_threads`` (below it thread hand-offs cost more than they save)
THREADS_MIN_WORK = 1 << 21
_THREADS_MIN_WORK = THREADS_MIN_WORK


def _default_threads(work: int) -> int:
    if work < _THREADS_MIN_WORK:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class _Run:
    """The state of one :func:`run_gd` call: per slot (compacted with the runs) and per run."""

    def __init__(self, family: GDFamily, eta: np.ndarray, cfg: GDConfig) -> None:
        R = eta.size
        self.fam, self.cfg = family, cfg
        names = family.extra + (("test_loss",) if family.has_test else ())
        self.rec = _Recorder(R, names, cfg.criteria, cfg.steps)
        nan = np.full(R, np.nan)
        # per slot: the run in it, its rate, previous loss, held lam and test loss, still in the batch,
        # the step of its last lam evaluation and whether it moves fast (``lam_rtol``)
        self.slots = [np.arange(R), eta.copy(), nan.copy(), nan.copy(), nan.copy(), np.ones(R, dtype=bool),
                      nan.copy(), np.zeros(R, dtype=bool)]
        (self.idx, self.eta, self.loss_prev, self.lam_held, self.test_held, self.live, self.lam_at,
         self.fast) = self.slots
        self.stopped_at = np.full(R, cfg.steps, dtype=np.int64)
        self.reason = np.full(R, StopReason.MAX_STEPS, dtype=object)

    def move(self, src: np.ndarray, dst: int) -> None:
        self.fam.move(src, dst)
        for a in self.slots:
            a[dst : dst + src.size] = a[src]

    def _pace(self, s: slice, t: int, lam: np.ndarray, loss: np.ndarray) -> None:
        """Which runs of slice ``s`` move fast after the evaluation of ``lam`` at step ``t``
        (:class:`GDConfig`: the loss rose, or ``lam`` changed by more than ``lam_rtol`` per step)."""
        assert self.cfg.lam_rtol is not None
        with np.errstate(all="ignore"):
            prev, gap = self.lam_held[s], t - self.lam_at[s]
            rate = np.abs(lam - prev) / (np.abs(prev) * gap)
            fast = rate > self.cfg.lam_rtol
            if t >= 1:
                fast |= loss > self.loss_prev[s]
        self.fast[s] = fast & np.isfinite(lam)

    def advance(self, lo: int, hi: int, t0: int, t1: int) -> tuple[int, Tally]:
        """Steps ``t0 .. t1-1`` of slots ``lo .. hi-1``; returns the number of slots
        still in the batch (from ``lo``) and the family's tally. Slices touch
        disjoint slots and runs, so they can advance in parallel."""
        fam, cfg, rec, tally = self.fam, self.cfg, self.rec, Tally()
        with np.errstate(all="ignore"):  # thread-local; a blow-up is handled as a result
            for t in range(t0, t1):
                s, last = slice(lo, hi), t == cfg.steps
                lam_now = t % cfg.lam_every == 0 or last or t < cfg.lam_dense or bool(self.fast[s].any())
                exact = lam_now and (t == 0 or (cfg.reanchor > 0 and (t // cfg.lam_every) % cfg.reanchor == 0))
                test_now = fam.has_test and (t % cfg.test_every == 0 or last)
                obs = fam.observe(s, lam_now, exact, test_now, tally)
                runs, live = self.idx[s].copy(), self.live[s].copy()
                tests = [obs.test_loss] if test_now and obs.test_loss is not None else []
                bad = rec.check(t, obs.loss, obs.w2, *obs.finite, *tests, runs=runs)
                if test_now:
                    self.test_held[s] = obs.test_loss
                fam.freeze(s, bad)
                coll = live & ~bad & (False if obs.stuck is None else obs.stuck)
                n_s = obs.loss.shape[0]
                tol_rule = np.zeros(n_s, dtype=bool)
                if cfg.tol is not None and t >= 1:
                    tol_rule = np.abs(obs.loss - self.loss_prev[s]) < cfg.tol
                settled = np.zeros(n_s, dtype=bool)
                if cfg.settle:
                    crit = cfg.criteria
                    floor = crit.settled_loss * crit.scale(rec.loss0[runs])
                    if obs.output_scale is not None:  # or the residual is rounding noise of the output
                        floor = np.maximum(floor, 0.5 * (crit.roundoff_ulps * _EPS * obs.output_scale) ** 2)
                    settled = (obs.loss <= floor) & ~tol_rule
                tol_met = tol_rule | settled
                conv = live & ~bad & ~coll & tol_met
                lam = obs.lam
                # a rising loss (``lam_rtol``): lam at this step already, the catapult has begun
                rising = cfg.lam_rtol is not None and t >= 1 and bool(np.any(obs.loss > self.loss_prev[s]))
                if lam is None and (lam_now or rising or np.any(coll | conv)):
                    lam = fam.top_eig(s, exact, tally)
                if lam is not None:
                    bad |= rec.check(t, obs.loss, lam, runs=runs)
                    coll &= ~bad
                    conv &= ~bad
                    if cfg.lam_rtol is not None:
                        self._pace(s, t, lam, obs.loss)
                    self.lam_held[s] = np.where(np.isfinite(lam), lam, self.lam_held[s])
                    self.lam_at[s] = t
                    fam.freeze(s, bad)
                leaving = live & (bad | coll | conv | last)
                if fam.has_test and not test_now and np.any(leaving):  # a final test loss is evaluated, not held
                    new = fam.test_loss(s, tally)
                    self.test_held[s] = np.where(leaving & np.isfinite(new), new, self.test_held[s])
                row = {"loss": obs.loss, "lam": self.lam_held[s], "w2": obs.w2, **obs.extra}
                if fam.has_test:
                    row["test_loss"] = self.test_held[s]
                good = live & ~bad
                for name, v in row.items():
                    rec.series[name][t, runs[good]] = v[good]
                rec.evaluated[t, runs] = (lam is not None) & good
                if np.any(leaving):
                    self.stopped_at[runs[leaving]] = t
                    self.reason[runs[bad]] = StopReason.DIVERGED
                    self.reason[runs[coll]] = StopReason.COLLAPSED
                    self.reason[runs[conv & ~settled]] = StopReason.TOL
                    self.reason[runs[conv & settled]] = StopReason.SETTLED
                    fam.retire(lo + np.flatnonzero(leaving), runs[leaving])
                    self.live[s] = live & ~leaving
                    if not self.live[s].any():
                        return 0, tally
                fam.update(s, self.eta[s], live & ~leaving, tally)
                self.loss_prev[s] = obs.loss
                if fam.compact and np.any(leaving):
                    src = lo + np.flatnonzero(~leaving)
                    self.move(src, lo)
                    hi = lo + src.size
        return hi - lo, tally


def run_gd(family: GDFamily, eta: np.ndarray, cfg: GDConfig) -> GDResult:
    """Full-batch GD of every run of ``family`` under ``cfg``; ``eta`` holds one rate
    per slot (any shape: the batch shape of the trajectory). See the module docstring."""
    shape, flat = eta.shape, eta.reshape(-1)
    run, R, steps = _Run(family, flat, cfg), flat.size, cfg.steps
    threads = max(min(cfg.threads or _default_threads(family.work), R), 1) if family.compact else 1
    # chunks of steps between syncs; the recorder grows chunk by chunk (never the whole budget up front)
    sync = _SYNC_EVERY if (threads > 1 or cfg.progress is not None) else INITIAL_ROWS
    flops, fallbacks, Ra, t = 0, 0, R, 0
    # one BLAS thread (module docstring): with the driver's threads in each slice (idle BLAS workers
    # would spin on the cores), and always unless the family's steps are large products
    many = threads > 1
    serial = many or not (family.blas_threads and family.work >= THREADS_MIN_WORK)
    with ThreadPoolExecutor(threads - 1) if many else nullcontext() as pool, (
        threadpool_limits(limits=1, user_api="blas") if serial else nullcontext()
    ):
        while Ra > 0 and t <= steps:
            t_end = min(t + sync, steps + 1)
            run.rec.ensure(t_end)
            edges = np.linspace(0, Ra, min(threads, Ra) + 1).round().astype(int)
            parts = [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
            futures = [pool.submit(run.advance, lo, hi, t, t_end) for lo, hi in parts[1:]] if pool else []
            results = [run.advance(*parts[0], t, t_end)] + [f.result() for f in futures]
            Ra = 0
            for (lo, _), (count, tally) in zip(parts, results):
                flops, fallbacks = flops + tally.flops, fallbacks + tally.fallbacks
                run.move(np.arange(lo, lo + count), Ra)
                Ra += count
            t = t_end
            if cfg.progress is not None:
                cfg.progress(min(t, steps), int(np.count_nonzero(run.live[:Ra])))
    rec = run.rec
    # the series end at the last step any run was in (the budget, unless every run left before it)
    T = int(run.stopped_at.max()) if R else steps
    rec.ensure(T + 1)
    # runs that stopped early (tol, collapse) repeat their last values
    held = (run.stopped_at < T) & (rec.diverged_at < 0)
    if np.any(held):
        fill = held[None, :] & (np.arange(T + 1)[:, None] > run.stopped_at[None, :])
        for a in rec.series.values():
            a[: T + 1] = np.where(fill, a[run.stopped_at, np.arange(R)][None, :], a[: T + 1])
    traj = rec.trajectory(flat, upto=T)
    rows = (T + 1,) + shape
    traj = Trajectory(traj.loss.reshape(rows), traj.lam.reshape(rows), traj.w2.reshape(rows), eta.copy(),
                      traj.diverged_at.reshape(shape), {k: v.reshape(rows) for k, v in traj.extra.items()})
    return GDResult(traj, run.stopped_at, run.reason, rec.evaluated[: T + 1], flops, fallbacks, threads)
