"""Report section: ReLU nets on two-class images far beyond the proven range - activation
sparsity against ``k`` for the two-layer net (THEORY §7 rows 11–13) and for the
degree-3 three-layer MLP (rows 14–16), on three digit pairs of increasing difficulty.

:func:`compute_sparsity` runs the experiments into a :class:`SparsityResult`;
:func:`render_sparsity` writes its Markdown, :func:`sparsity_data` its
``data/sparsity.json`` and :func:`sparsity_figures` its figures (one per model and
pair: trajectories for a few ``k`` above, final values against ``k`` below).

Each sweep is one batched GD run over the whole ``k`` grid (diverged, collapsed and
converged runs leave the batch at once); its trajectories are the sweep's own, so
no run is repeated.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits

from ..engine import Trajectory
from ..errors import InvalidInput
from ..experiments import (
    PhaseSweep,
    image_data,
    kernel_difficulty,
    parse_image_spec,
    sweep_three_layer,
    sweep_two_layer_run,
    three_layer_setup,
    two_layer_image_setup,
)
from ..symbolic import LEMMA_CONSTANT, lemma_increment, three_layer_facts
from ..symbolic import symbols as S
from ._derived import stability_edge, uv_k_max
from ._markdown import fmt_num as _g
from ._markdown import figure, fmt_tol, md_table
from ._summary import ClaimRow, convergent, islands_text, status_label, sweep_row
from ._tex import m as _m
from ._sections import (
    Context,
    Reporter,
    SILENT,
    Section,
    SectionOutput,
    command_memory,
    figured_section,
    largest,
    register_section,
)

__all__ = [
    "ModelSweep",
    "PairInfo",
    "SparsityResult",
    "SparsitySettings",
    "compute_sparsity",
    "render_sparsity",
    "sparsity_data",
    "model_figure",
    "sparsity_figures",
    "sparsity_section",
]

#: losses below this are round-off for these runs: drawn at the floor, never as data
LOSS_FLOOR = 1e-12


@dataclass(frozen=True)
class SparsitySettings:
    """Sizes of the sparsity experiments (:meth:`quick` and :meth:`full` are the report's).

    ``pairs``: digit pairs (image specs); ``two_width``, ``three_width``: hidden widths;
    ``k``, ``dk``: the grid ``k_min, k_min + dk, ..., k_max``; ``steps``: GD step
    budget of each run, which stops earlier when its loss changes by less than
    ``tol`` in one step, diverges or collapses; ``lam_every``: steps between NTK
    eigenvalue evaluations (exact at every run's last step), and at every one of the first
    ``lam_dense`` steps (the catapult) where the sweeps offer it; ``traj_ks``: the
    trajectories shown (nearest grid points, and the largest converging ``k``).
    """

    pairs: tuple[str, ...] = ("digits:0:1", "digits:4:9", "digits:3:8")
    two_width: int = 1024
    three_width: int = 1024
    k: tuple[float, float] = (0.5, 12.0)
    dk: float = 0.5
    two_steps: int = 400
    three_steps: int = 100
    tol: float = 1e-8
    lam_every: int = 10
    #: lam at every one of the first steps (the catapult happens there): a fixed, small cost; a
    #: rule following the runs' pace would evaluate the whole batch at every step of any run
    #: that oscillates, as the unresolved ones do
    lam_dense: int = 30
    traj_ks: tuple[float, ...] = (1.0, 3.0, 6.0)
    #: sparsity is compared between this k and the largest converging one
    low_k: float = 1.0
    #: run the generic proofs for the three-layer family (full settings only: a few seconds)
    prove: bool = True

    @classmethod
    def quick(cls) -> SparsitySettings:
        """The ``--quick`` (smoke) sizes."""
        return cls(two_width=128, three_width=48, dk=1.5, two_steps=150, three_steps=150, prove=False)

    @classmethod
    def full(cls) -> SparsitySettings:
        """The full sizes."""
        return cls()

    @property
    def grid(self) -> np.ndarray:
        """The ``k`` grid."""
        return np.arange(self.k[0], self.k[1] + 1e-9, self.dk)


@dataclass(frozen=True)
class ModelSweep:
    """One model on one pair: the sweep, a few trajectories, the initial state and the
    ``k`` values marked on its figure (the step-0 weight-norm threshold, the measured edges)."""

    model: str
    spec: str
    width: int
    lam0: float
    w2_0: float
    sweep: PhaseSweep
    trajectories: Mapping[float, Mapping[str, np.ndarray]]
    trajectory_phase: Mapping[float, str]
    #: how much the converging runs that used the whole budget still moved over its second half
    drift: Mapping[str, float]

    @property
    def largest(self) -> float | None:
        """Largest converging ``k`` on the grid."""
        v = self.sweep.settings["largest_converging_k"]
        return None if v is None else float(v)

    def final(self, name: str) -> np.ndarray:
        """A final series against ``k`` (NaN for diverged runs)."""
        return np.asarray(self.sweep.final[name], dtype=float)

    def at(self, name: str, k: float | None) -> float | None:
        """The final ``name`` at the grid point nearest ``k``."""
        if k is None:
            return None
        return float(self.final(name)[int(np.argmin(np.abs(self.sweep.k - k)))])

    def first(self, phase: str) -> float | None:
        """The first grid ``k`` with this phase."""
        hit = [float(k) for k, p in zip(self.sweep.k, self.sweep.phase) if p == phase]
        return hit[0] if hit else None

    def catapults(self) -> np.ndarray:
        """Grid ``k`` whose run catapulted."""
        return np.array([float(k) for k, p in zip(self.sweep.k, self.sweep.phase) if p == "catapult"])

    def sparsity_trend(self) -> float | None:
        """Spearman rank correlation of final sparsity with ``k`` over the converging runs."""
        ph = np.asarray(self.sweep.phase)
        ok = np.isin(ph, ["lazy", "catapult"])
        if ok.sum() < 3:
            return None
        sp_ = self.final("sparsity")[ok]
        ranks = np.argsort(np.argsort(sp_)).astype(float)
        kr = np.arange(ok.sum(), dtype=float)
        if np.std(ranks) == 0:
            return None
        return float(np.corrcoef(ranks, kr)[0, 1])


@dataclass(frozen=True)
class PairInfo:
    """A digit pair: spec, label, the NTK-regime difficulty and its rank among all pairs."""

    spec: str
    label: str
    B: int
    B_test: int
    difficulty: float
    rank: int
    of: int


@dataclass(frozen=True)
class SparsityResult:
    """Everything the sparsity section measured (see :func:`compute_sparsity`)."""

    settings: SparsitySettings
    pairs: tuple[PairInfo, ...]
    two: tuple[ModelSweep, ...]
    three: tuple[ModelSweep, ...]
    facts: Mapping[str, str]
    windows: Mapping[str, float]
    proofs: tuple[tuple[str, str, str], ...]
    edge: float
    k_uv: float
    k_norm3: float
    skipped: str | None = None
    #: thresholds the generic core derives for the registered (ReLU) declaration, when proved
    thresholds: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: the statistics the text quotes, per ``model:spec`` (:func:`model_stats`), computed once
    stats: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    #: the derived degree-3 facts as LaTeX
    facts_tex: Mapping[str, str] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------------------- compute


def _pair_info(specs: tuple[str, ...]) -> tuple[PairInfo, ...]:
    """Difficulty (:func:`kernel_difficulty`) of every pair of the same source, and the rank of ours."""
    source = parse_image_spec(specs[0]).source
    every = {}
    for a, b in itertools.combinations(range(10), 2):
        spec = f"{source}:{a}:{b}"
        every[spec] = kernel_difficulty(image_data(spec))
    order = sorted(every, key=every.__getitem__)
    out = []
    for spec in specs:
        ds = image_data(spec)
        canon = f"{source}:{min(parse_image_spec(spec).classes)}:{max(parse_image_spec(spec).classes)}"
        diff = kernel_difficulty(ds)
        out.append(PairInfo(spec, parse_image_spec(spec).label, ds.B, ds.B_test, diff,
                            order.index(canon) + 1 if canon in every else 0, len(order)))
    return tuple(out)


def _series(traj: Trajectory, evaluated: np.ndarray, i: int, eta: float, w2_0: float,
            end: int) -> dict[str, np.ndarray]:
    """One run's series up to ``end``; ``lam_eta`` only at the steps ``lam_steps`` where
    ``lam`` was evaluated (never a held value)."""
    one = traj.run(i)
    steps = np.flatnonzero(evaluated[:end, i])
    out = {"loss": one.series("loss")[:end], "w2_ratio": one.series("w2")[:end] / w2_0,
           "lam_steps": steps.astype(float), "lam_eta": eta * one.series("lam")[steps]}
    for name in ("sparsity", "sparsity1", "sparsity2"):
        if name in one.extra:
            out[name] = one.series(name)[:end]
    return out


def _pick(sweep: PhaseSweep, traj: Trajectory, evaluated: np.ndarray, stopped: np.ndarray, ks: tuple[float, ...],
          lam0: float, w2_0: float) -> tuple[dict[float, dict[str, np.ndarray]], dict[float, str]]:
    """The trajectories at the grid points nearest ``ks`` and at the largest converging ``k``."""
    grid = np.asarray(sweep.k, dtype=float)
    want = [int(np.argmin(np.abs(grid - k))) for k in ks]
    largest = sweep.settings["largest_converging_k"]
    if largest is not None:
        want.append(int(np.argmin(np.abs(grid - largest))))
    series, phases = {}, {}
    for i in sorted(set(want)):
        k = float(grid[i])
        end = int(stopped[i]) + 1 if traj.diverged_at[i] < 0 else int(traj.diverged_at[i])
        series[k] = _series(traj, evaluated, i, k / lam0, w2_0, end)
        phases[k] = str(sweep.phase[i])
    return series, phases


def _drift(traj: Trajectory, phase: np.ndarray, reason: np.ndarray, eta: np.ndarray) -> dict[str, float]:
    """Over the second half of the budget, for the converging runs that used all of it:
    the largest change of sparsity, the largest relative change of ``w2`` and of ``eta lam``,
    and the largest factor by which the train loss still fell."""
    T = traj.steps
    runs = np.flatnonzero(np.isin(phase, ["lazy", "catapult"]) & (reason == "max_steps"))
    if T <= 1 or runs.size == 0:
        return {}
    h = T // 2

    def rel(a: np.ndarray) -> float:
        return float(np.max(np.abs(a[T, runs] - a[h, runs]) / np.abs(a[T, runs])))

    names = [n for n in ("sparsity", "sparsity1", "sparsity2") if n in traj.extra]
    return {"runs": float(runs.size), "from_step": float(h), "to_step": float(T),
            "sparsity": max(float(np.max(np.abs(traj.extra[n][T, runs] - traj.extra[n][h, runs]))) for n in names),
            "w2": rel(traj.w2), "lam_eta": rel(traj.lam * eta[None, :]),
            "loss_factor": float(np.max(traj.loss[h, runs] / traj.loss[T, runs]))}


def _fast_lam(sweep: Callable[..., Any], s: SparsitySettings) -> dict[str, Any]:
    """``lam_dense`` for a sweep that takes it (``lam`` at every one of the first steps, so a
    catapult is drawn step by step); a sweep without it keeps the ``lam_every`` cadence."""
    return {"lam_dense": s.lam_dense} if "lam_dense" in inspect.signature(sweep).parameters else {}


def _lam_cadence(sweep: Callable[..., Any], s: SparsitySettings) -> str:
    """How often ``lam`` is evaluated along the runs of ``sweep`` (for the text)."""
    fast = f" and at every one of the first {s.lam_dense} steps" if _fast_lam(sweep, s) else ""
    return f"every {s.lam_every} steps{fast}"


def _two_layer(spec: str, s: SparsitySettings, reporter: Reporter) -> ModelSweep:
    """The two-layer ReLU sweep at grid resolution, keeping its trajectories."""
    setup = two_layer_image_setup(s.two_width, 0.0, spec)
    sweep, run = sweep_two_layer_run(setup, s.grid, max_steps=s.two_steps, tol=s.tol, lam_every=s.lam_every,
                                     **_fast_lam(sweep_two_layer_run, s),
                                     progress=reporter.ticker(f"two-layer {spec}", s.two_steps))
    trajs, phases = _pick(sweep, run.traj, run.lam_evaluated, run.stopped_at, s.traj_ks, setup.lam0, setup.w2_0)
    drift = _drift(run.traj, np.asarray(run.phase), np.asarray(run.stop_reason), s.grid / setup.lam0)
    return ModelSweep("two-layer", spec, s.two_width, setup.lam0, setup.w2_0, sweep, trajs, phases, drift)


def _three_layer(spec: str, s: SparsitySettings, reporter: Reporter) -> ModelSweep:
    setup = three_layer_setup(s.three_width, 0.0, spec)
    sweep, run = sweep_three_layer(setup, s.grid, max_steps=s.three_steps, tol=s.tol, refine=False,
                                   lam_every=s.lam_every, **_fast_lam(sweep_three_layer, s),
                                   progress=reporter.ticker(f"three-layer {spec}", s.three_steps))
    trajs, phases = _pick(sweep, run.traj, run.lam_evaluated, run.stopped_at, s.traj_ks, setup.lam0, setup.w2_0)
    drift = _drift(run.traj, np.asarray(run.phase), np.asarray(run.stop_reason), s.grid / setup.lam0)
    return ModelSweep("three-layer", spec, s.three_width, setup.lam0, setup.w2_0, sweep, trajs, phases, drift)


def _facts_tex() -> dict[str, str]:
    """The derived degree-3 facts as LaTeX (for the report's typeset formulas)."""
    from ._tex import tex

    f = three_layer_facts()
    return {"euler_ratio": tex(f.euler_ratio), "two_layer_euler_residual": tex(f.two_layer_euler),
            "weight_norm_change": tex(lemma_increment(constant=f.lemma_constant)),
            "two_layer_lemma_residual": tex(f.two_layer_lemma_residual), "lemma_constant": tex(f.lemma_constant),
            "two_layer_constant": tex(LEMMA_CONSTANT), "eta_max": tex(f.eta_max.eta), "K": tex(f.K),
            "window": tex(f.window)}


def _facts() -> tuple[dict[str, str], float]:
    """The derived degree-3 facts as text, and ``k`` of the step-0 norm threshold (``eta_max lam``)."""
    f = three_layer_facts()
    k_norm = sp.simplify(f.eta_max.eta * S.lam)
    if k_norm.free_symbols:  # pragma: no cover - eta_max is a number over lam
        raise RuntimeError(f"the degree-3 threshold in k is not a number: {k_norm}")
    return {
        "degree": str(f.degree),
        "euler": f"theta.grad f = {sp.sstr(f.euler_ratio)} f",
        "two_layer_euler_residual": sp.sstr(f.two_layer_euler),
        "weight_norm_change": sp.sstr(lemma_increment(constant=f.lemma_constant)),
        "two_layer_lemma_residual": sp.sstr(f.two_layer_lemma_residual),
        "lemma_constant": sp.sstr(f.lemma_constant),
        "two_layer_constant": sp.sstr(LEMMA_CONSTANT),
        "eta_max": sp.sstr(f.eta_max.eta),
        "lam_degree": str(f.lam_degree),
        "K": sp.sstr(f.K),
        "window": sp.sstr(f.window),
    }, float(k_norm)


def _prove() -> tuple[tuple[tuple[str, str, str], ...], dict[str, str]]:
    """``(theorem, status, first failing step)`` of the generic theorems on the three-layer
    family, and the thresholds of its derived one-step map."""
    import proofs

    from ..symbolic import theory

    out = []
    for res in proofs.prove(models=["three-layer"]):
        failing = next((st for st in res.steps if st.status == "failed"), None)
        out.append((res.theorem, res.status, "" if failing is None else failing.name))
    return tuple(out), {name: sp.sstr(th.eta) for name, th in theory("three-layer").thresholds.items()}


def compute_sparsity(settings: SparsitySettings, reporter: Reporter = SILENT) -> SparsityResult:
    """Run every sparsity experiment: both nets on every pair (skipped, with the reason,
    without scikit-learn), the degree-3 facts and (``settings.prove``) the generic proofs."""
    s = settings
    facts, k_norm = _facts()
    proved, thresholds = _prove() if s.prove else ((), {})
    base = {"facts": facts, "proofs": proved, "edge": stability_edge(), "k_uv": uv_k_max(), "k_norm3": k_norm,
            "thresholds": thresholds, "facts_tex": _facts_tex()}
    try:
        with threadpool_limits(limits=1, user_api="blas"):  # 128 x 128 solves: one BLAS thread is fastest
            pairs = _pair_info(s.pairs)
    except InvalidInput as exc:  # the digits without scikit-learn: the section says so and goes on
        if "scikit-learn" not in str(exc):
            raise
        return SparsityResult(s, (), (), (), windows={}, skipped=str(exc), **base)  # type: ignore[arg-type]
    two, three = [], []
    for spec in s.pairs:
        config = {"spec": spec, "k": s.grid.tolist(), "tol": s.tol, "lam_every": s.lam_every, "traj": s.traj_ks,
                  **_fast_lam(sweep_three_layer, s)}
        reporter.progress(f"two-layer ReLU, width {s.two_width}, {spec}: {len(s.grid)} rates, <= {s.two_steps} steps")
        two.append(reporter.cached(f"sparsity-two-layer[{spec}]", {**config, "width": s.two_width,
                                                                    "steps": s.two_steps},
                                   lambda spec=spec: _two_layer(spec, s, reporter)))  # type: ignore[misc]
        reporter.progress(f"three-layer ReLU, width {s.three_width}, {spec}: {len(s.grid)} rates, "
                          f"<= {s.three_steps} steps")
        three.append(reporter.cached(f"sparsity-three-layer[{spec}]",
                                     {**config, "width": s.three_width, "steps": s.three_steps},
                                     lambda spec=spec: _three_layer(spec, s, reporter)))  # type: ignore[misc]
    windows = {m.spec: float(m.sweep.bounds["degree3"]) for m in three}
    k_uv = uv_k_max()
    stats = {f"{m.model}:{m.spec}": model_stats(m, s.low_k, k_norm if m.model == "three-layer" else k_uv)
             for m in (*two, *three)}
    return SparsityResult(s, pairs, tuple(two), tuple(three), windows=windows, stats=stats,
                          **base)  # type: ignore[arg-type]


def model_stats(m: ModelSweep, low_k: float, beyond: float) -> dict[str, Any]:
    """The numbers the text and tables quote for one sweep, as numbers: catapult counts
    (all, and beyond ``beyond``: the uv window end, or the degree-3 step-0 norm threshold),
    boundaries, the convergent islands, sparsity at the grid point nearest ``low_k`` and at
    the largest converging ``k``, the Spearman rank correlation of final sparsity with ``k``
    over the converging runs, final ``eta lam`` of the catapults (median and range) and
    the test loss at both ends."""
    cat = m.catapults()
    lam_cat = np.array([m.at("lam_eta", c) for c in cat], dtype=float)
    lam_cat = lam_cat[np.isfinite(lam_cat)]
    low = float(m.sweep.k[int(np.argmin(np.abs(np.asarray(m.sweep.k) - low_k)))])
    largest, islands = convergent(m.sweep)
    three = m.model == "three-layer"
    names = ("sparsity1", "sparsity2") if three else ("sparsity",)
    return {
        "catapult_count": int(cat.size), "catapult_k": cat.tolist(), "beyond_threshold": float(beyond),
        "catapults_beyond": int(np.sum(cat > beyond)), "onset": m.sweep.boundaries.get("catapult_onset"),
        "largest_converging_k": m.largest, "largest_convergent": largest, "islands": islands,
        "first_divergent_k": m.first("divergent"), "first_collapsed_k": m.first("collapsed"),
        "low_k": low, **{f"{n}_at_low_k": m.at(n, low) for n in names},
        **{f"{n}_at_largest": m.at(n, m.largest) for n in names},
        "mean_sparsity_at_low_k": m.at("sparsity", low), "mean_sparsity_at_largest": m.at("sparsity", m.largest),
        "rank_corr_sparsity_k": m.sparsity_trend(),
        "median_final_lam_eta_catapults": float(np.median(lam_cat)) if lam_cat.size else None,
        "min_final_lam_eta_catapults": float(lam_cat.min()) if lam_cat.size else None,
        "max_final_lam_eta_catapults": float(lam_cat.max()) if lam_cat.size else None,
        "test_loss_at_low_k": m.at("test_loss", low), "test_loss_at_largest": m.at("test_loss", m.largest),
    }


# ---------------------------------------------------------------------------- figures


def _floor(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values for a log axis: the ones above :data:`LOSS_FLOOR`, and a mask of those below it."""
    v = np.asarray(v, dtype=float)
    low = np.isfinite(v) & (v < LOSS_FLOOR)
    return np.where(low, LOSS_FLOOR, v), low


def _log_if_wide(ax: Any, values: list[np.ndarray], ratio: float = 30.0) -> None:
    """A log y axis when the positive values span more than ``ratio`` (a collapse or
    near-divergence next to runs that barely move)."""
    pos = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values] or [np.ones(1)])
    pos = pos[np.isfinite(pos) & (pos > 0)]
    if pos.size and pos.max() > ratio * pos.min():
        ax.set_yscale("log")


def model_figure(res: SparsityResult, m: ModelSweep, pair: PairInfo | None) -> Any:
    """The figure of one model on one pair, one row per quantity (train loss, weight norm,
    ``eta lam``, sparsity): trajectories of a few runs against step + 1 (left) and final
    values against ``k`` (right, every phase shaded with its legend swatch)."""
    from matplotlib.lines import Line2D

    from ._plots import (PHASE_COLORS, TEST_COLOR, TRAIN_COLOR, _phase_bands, _pyplot, bound_legend, phase_patch,
                         readable_log_ticks)

    plt = _pyplot()
    three = m.model == "three-layer"
    fig, axes = plt.subplots(4, 2, figsize=(10, 12.4))
    left, right = axes[:, 0], axes[:, 1]
    # -- trajectories against step + 1 (log: the catapult happens in the first tens of steps)
    w2s, lams = [], []
    cadence = set()
    for j, (kt, ser) in enumerate(sorted(m.trajectories.items())):
        t = np.arange(len(ser["loss"])) + 1
        color = f"C{j}"
        loss, low = _floor(ser["loss"])
        ok = np.isfinite(loss) & ~low
        left[0].plot(t[ok], loss[ok], color=color, lw=1.1, label=f"k = {kt:g} ({m.trajectory_phase[kt]})")
        left[1].plot(t, ser["w2_ratio"], color=color, lw=1.1)
        # lam only at the steps where it was evaluated, joined by a line (never a held value)
        pos = ser["lam_eta"] > 0  # a collapsed net has lam = 0: off a log axis
        left[2].plot(ser["lam_steps"][pos] + 1, ser["lam_eta"][pos], ".-", color=color, lw=1.0, ms=2.5)
        cadence.update(np.diff(ser["lam_steps"]).astype(int).tolist())
        w2s.append(ser["w2_ratio"])
        lams.append(ser["lam_eta"])
        if three:
            left[3].plot(t, ser["sparsity1"], color=color, lw=1.1)
            left[3].plot(t, ser["sparsity2"], color=color, lw=1.1, ls="--")
        else:
            left[3].plot(t, ser["sparsity"], color=color, lw=1.1)
    left[0].set_yscale("log")
    _log_if_wide(left[1], w2s)
    _log_if_wide(left[2], lams)
    left[2].axhline(res.edge, color="0.4", lw=0.8, ls=":")
    every = ("evaluated at every step" if cadence == {1} else
             f"evaluated every {min(cadence)} to {max(cadence)} steps" if len(cadence) > 1 else
             f"evaluated every {min(cadence)} steps" if cadence else "evaluated")
    labels = ("train loss", r"$|\theta_t|^2/|\theta_0|^2$", rf"$\eta\lambda_t$ (dots: {every})",
              "sparsity (solid: layer 1,\ndashed: layer 2)" if three else "activation sparsity")
    for ax, lab in zip(left, labels):
        ax.set_xscale("log")
        ax.set_ylabel(lab)
    left[-1].set_xlabel("step + 1")
    left[0].legend(fontsize=8, title="trajectories", title_fontsize=8)
    # -- final values against k: converging and unresolved runs (a diverged run has no final
    # state; a collapsed one is f = 0 on the training set at loss 1/2, its blown-up weights and
    # test loss are in the data, not drawn)
    k = np.asarray(m.sweep.k, dtype=float)
    phase = np.array([str(p) for p in m.sweep.phase])
    drawn = np.isin(phase, ["lazy", "catapult", "unresolved"])
    alive = drawn | (phase == "collapsed")
    for ax in right:
        _phase_bands(ax, k, list(phase))

    def dots(ax: Any, name: str, mask: np.ndarray, **kw: Any) -> None:
        v = m.final(name)
        ok = mask & np.isfinite(v)
        ax.plot(k[ok], v[ok], **{"marker": "o", "ls": "none", "ms": 3.5, "color": "k", **kw})

    # train and test told apart by colour (and the legend), not by marker shape only
    for name, marker, color, lab in (("train_loss", "o", TRAIN_COLOR, "train"), ("test_loss", "s", TEST_COLOR, "test")):
        v, low = _floor(m.final(name))
        mask = (alive if name == "train_loss" else drawn) & np.isfinite(v)
        right[0].plot(k[mask & ~low], v[mask & ~low], marker, ms=4, color=color, ls="none", label=lab)
        if (mask & low).any():
            right[0].plot(k[mask & low], v[mask & low], "v", ms=4, color=color, ls="none")
    right[0].set_yscale("log")
    right[0].legend(fontsize=8, loc="best")
    right[0].set_ylabel("final loss (train, test)")
    dots(right[1], "w2_ratio", drawn)
    right[1].set_ylabel(r"final $|\theta|^2/|\theta_0|^2$")
    dots(right[2], "lam_eta", alive)
    right[2].plot(k, k, ":", color="0.5", lw=0.8)
    right[2].axhline(res.edge, color="0.3", lw=0.8, ls="--")
    right[2].set_ylim(-0.2, max(2.6, float(np.nanmax(np.where(alive, m.final("lam_eta"), np.nan), initial=0)) + 0.3))
    right[2].set_ylabel(r"final $\eta\lambda$ (dotted: $\eta\lambda_0 = k$)")
    if three:
        dots(right[3], "sparsity1", alive)
        dots(right[3], "sparsity2", alive, marker="s", mfc="none")
        right[3].set_ylabel("final sparsity (dots: layer 1,\nsquares: layer 2)")
    else:
        dots(right[3], "sparsity", alive)
        right[3].set_ylabel("final activation sparsity")
    norm_k = res.k_norm3 if three else res.k_uv
    marks = [("catapult onset", m.sweep.boundaries.get("catapult_onset"), "C2", "--"),
             ("largest converging k", m.largest, "k", "-"),
             ("first divergent k", m.first("divergent"), "C3", "-"),
             ("first collapsed k", m.first("collapsed"), "0.35", "-"),
             (f"y = 0: weight norm falls at step 0 iff k < {norm_k:g}", norm_k, "C4", ":")]
    handles: list[Any] = []
    for lab, val, color, ls in marks:
        if val is not None and k[0] <= val <= k[-1]:
            for ax in right:
                ax.axvline(val, color=color, lw=1.1, ls=ls)
            handles.append(Line2D([], [], color=color, ls=ls, label=f"{lab} ({val:g})"))
    for ax in right:
        ax.set_xlim(k[0] - 0.3, k[-1] + 0.3)
    right[-1].set_xlabel(r"$k = \eta\lambda_0$")
    bname = "degree3" if three else "data"
    bval = m.sweep.bounds.get(bname)
    if bval is not None and np.isfinite(bval) and k[0] <= bval <= k[-1]:
        for ax in right:
            ax.axvline(bval, color="C5", lw=1.1, ls="-.")
        handles.append(Line2D([], [], color="C5", ls="-.",
                              label=bound_legend(bname, float(bval), m.sweep.bound_status.get(bname))))
    handles += [phase_patch(p) for p in PHASE_COLORS if p in set(phase)]
    if any(_floor(m.final(name))[1].any() for name in ("train_loss", "test_loss")):
        handles.append(Line2D([], [], marker="v", color="0.3", ls="none", label=f"loss < {LOSS_FLOOR:g} (drawn on the floor)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    label = pair.label if pair is not None else m.spec
    B = pair.B if pair is not None else "?"
    bval = m.sweep.bounds.get(bname, float("nan"))
    bound_note = f"{bname} = {bval:.2g}: {status_label(m.sweep.bound_status.get(bname, {}))}"
    fig.suptitle(f"{m.model} ReLU net, width {m.width}, {label}: {B} training images, labels +-1, lam0 = {m.lam0:.4g}\n"
                 f"{bound_note} (no theorem covers these data). Left: trajectories; right: final values against k "
                 "(diverged runs have none;\ncollapsed runs, f = 0 on the training set, drawn where their values are "
                 "meaningful: train loss, eta*lam, sparsity)", fontsize=9.5)
    for ax in axes.ravel():  # minor ticks of log axes cost more to draw than they tell here
        ax.minorticks_off()
    readable_log_ticks(fig)
    # fixed margins: tight_layout would measure every tick label of the eight panels again
    rows = -(-len(handles) // 3)
    fig.subplots_adjust(left=0.09, right=0.985, bottom=0.045 + 0.016 * rows, top=0.915, wspace=0.28, hspace=0.2)
    return fig


def _model_figure(res: SparsityResult, m: ModelSweep, pair: PairInfo | None, path: Path) -> Path:
    """:func:`model_figure`, written to ``path``."""
    from ..files import save_figure
    from ._plots import _pyplot

    fig = model_figure(res, m, pair)
    save_figure(fig, path, dpi=100)
    _pyplot().close(fig)
    return Path(path)


def sparsity_figures(res: SparsityResult, path: Callable[[str], Path]) -> dict[str, Path]:
    """One figure per model and pair: ``two-layer:SPEC`` and ``three-layer:SPEC`` keys."""
    info = {p.spec: p for p in res.pairs}
    out = {}
    for m in (*res.two, *res.three):
        name = f"sp_{m.model.replace('-', '_')}_{m.spec.replace(':', '_')}.png"
        out[f"{m.model}:{m.spec}"] = _model_figure(res, m, info.get(m.spec), path(name))
    return out


# ---------------------------------------------------------------------------- render


def _table(ms: tuple[ModelSweep, ...], res: SparsityResult) -> str:
    three = bool(ms) and ms[0].model == "three-layer"
    rows = []
    for m in ms:
        st = res.stats[f"{m.model}:{m.spec}"]

        def sp_at(where: str, st: Mapping[str, Any] = st) -> str:
            if three:
                return f"{_g(st[f'sparsity1_{where}'], 3)} / {_g(st[f'sparsity2_{where}'], 3)}"
            return _g(st[f"sparsity_{where}"], 3)

        lam = (f"{_g(st['min_final_lam_eta_catapults'], 3)} … {_g(st['max_final_lam_eta_catapults'], 3)}"
               if st["catapult_count"] else "-")
        largest = _g(st["largest_converging_k"], 3) + (f" (islands above the first divergence: "
                                                       f"{islands_text(st['islands'])})" if st["islands"] else "")
        rows.append([m.spec, _g(m.lam0, 4), _g(st["onset"], 3), largest, _g(st["first_divergent_k"], 3),
                     _g(st["first_collapsed_k"], 3), f"{sp_at('at_low_k')} (k = {_g(st['low_k'], 3)})",
                     sp_at("at_largest"), lam, _g(st["test_loss_at_low_k"], 3), _g(st["test_loss_at_largest"], 3),
                     _g(st["rank_corr_sparsity_k"], 2)])
    low = res.settings.low_k
    head = ["pair", "λ₀", "catapult onset (grid)", "largest converging k", "first divergent k", "first collapsed k",
            f"sparsity near k = {low:g}" + (" (layer 1 / 2)" if three else ""), "sparsity at largest k",
            "final ηλ (catapults)", f"test loss near k = {low:g}", "test loss at largest k",
            "rank corr. sparsity ~ k"]
    return md_table(head, rows)


def render_sparsity(res: SparsityResult, figures: Mapping[str, str] | None = None) -> str:
    """The section's Markdown; ``figures`` maps figure keys (:func:`sparsity_figures`) to links."""
    figs = dict(figures or {})
    s = res.settings
    f, ft = res.facts, res.facts_tex
    md = [("Rows 11–16 of the study: ReLU nets on two-class images, swept far beyond every proven window, "
           "measuring how sparse the hidden activations become with k (fraction of (unit, datum) pairs of the "
           "training set with pre-activation ≤ 0)."), ""]
    if res.skipped is not None:
        md += [f"Skipped the experiments: {res.skipped}", ""]
    else:
        md += [
            "### Data: three digit pairs of increasing difficulty", "",
            ("MNIST, Fashion-MNIST and CIFAR-10 cannot be downloaded here; scikit-learn's bundled 8x8 digits stand in "
             "for them (`catapult phases two-layer|three-layer --data mnist:3:8 --data-dir DIR` runs the real ones "
             "from their standard files). The pairs are chosen by difficulty for a wide net in the lazy regime: the "
             "test loss of the infinite-width two-layer ReLU NTK predictor trained on the same 128 images, ranked "
             f"among all {res.pairs[0].of if res.pairs else 45} digit pairs (1 = easiest). The easy pair plays the "
             "part of MNIST (rows 11 and 14, and row 3's pair); the two hard ones, classic look-alikes, behave more "
             "like Fashion-MNIST and CIFAR-10 (rows 12, 15 and 13, 16: a test loss that does not vanish)."), "",
            md_table(["pair", "training / test images", "NTK-predictor test loss", "rank"],
                     [[p.label, f"{p.B} / {p.B_test}", _g(p.difficulty, 3), f"{p.rank} of {p.of}"]
                      for p in res.pairs]), "",
            "### Grids", "",
            f"k = {s.k[0]:g}, {s.k[0] + s.dk:g}, ..., {s.grid[-1]:g} ({len(s.grid)} learning rates, all in one batched "
            f"GD run per net and pair); full-batch GD on all weights, square loss, labels ±1, until the loss changes "
            f"by less than {fmt_tol(s.tol)} in one step or the budget of {s.two_steps} (two-layer) / {s.three_steps} "
            f"(three-layer) steps; a run leaves the batch as soon as it diverges or collapses. λ = top eigenvalue "
            f"of NTK/B, {_lam_cadence(sweep_three_layer, s)}, and exactly at each run's end. Widths: two-layer "
            f"{s.two_width}, "
            f"three-layer {s.three_width} per hidden layer (the study's width is 1024"
            + ("" if s.three_width == 1024 else
               f"; its {s.three_width}×{s.three_width} middle layer costs 3n²B per step and rate, the study's width "
               f"costs {(1024 / s.three_width) ** 2:g} times that and runs with "
               "`catapult phases three-layer --width 1024`") + "). " + _drift_text(res),
            "",
        ]
        for title, ms, key in (("Two-layer ReLU net (rows 11–13)", res.two, "two-layer"),
                               ("Three-layer ReLU MLP (rows 14–16)", res.three, "three-layer")):
            md += [f"### {title}", "", _table(ms, res), ""]
            for m in ms:
                three = key == "three-layer"
                bname = "degree3" if three else "data"
                md += figure(figs.get(f"{key}:{m.spec}"), f"{key} ReLU net on digits {m.spec}: trajectories and "
                             "final values against k",
                             f"{key.capitalize()} ReLU net, width {m.width}, digits {m.spec.split(':', 1)[1]}: "
                             "trajectories at a few k (top; λ drawn where it was computed) and final values against "
                             "k (bottom; train and test loss by colour), phases shaded (every phase with its "
                             f"swatch, unresolved included); `{bname}` "
                             f"= {_g(m.sweep.bounds.get(bname), 3)} is drawn with its status "
                             f"({status_label(m.sweep.bound_status.get(bname, {}))}).")
            md += _observations(ms, res)
    md += [
        "### Why the two-layer proof does not cover the three-layer net", "",
        ("The symbolic layer declares the three-layer net on one datum within an activation region, "
         "$f = v^T S_2 W_2 S_1 W_1 x/(n\\sqrt{d})$ ($S_1, S_2$: diagonal slope matrices with $(S - I)(S - aI) = 0$), "
         "and derives with the width symbolic:"), "",
        (f"- $f(c\\theta) = c^{{{f['degree']}}} f$, so Euler's identity reads "
         f"$\\theta \\cdot \\nabla f = {ft.get('euler_ratio', f['degree'])} f$; the two-layer lemma's premise "
         f"$\\theta \\cdot \\nabla f - 2f$ is not 0 but ${ft.get('two_layer_euler_residual', '')}$ (= f);"),
        (f"- one GD step changes the squared weight norm by ${ft.get('weight_norm_change', '')}$ (the theorem "
         "`weight-norm-identity` for homogeneity degree p, $\\Delta|\\theta|^2 = \\eta r(\\eta\\lambda r - 2pf)$, "
         f"at p = {f['degree']}): the lemma's form with ${ft.get('lemma_constant', '')}$ in place of "
         f"${ft.get('two_layer_constant', '')}$ (the two-layer lemma's residual is "
         f"${ft.get('two_layer_lemma_residual', '')}$); at y = 0 the norm falls iff $\\eta\\lambda < {res.k_norm3:g}$ "
         f"($\\eta = {ft.get('eta_max', '')}$ is where the norm's step-0 increment changes sign, not a divergence "
         "threshold), for B data $\\Delta|\\theta|^2 \\le (\\eta/B)|r|^2(\\eta\\lambda_{\\max}(H) - "
         f"{ft.get('lemma_constant', '')})$;"),
        (f"- $\\lambda = |\\nabla f|^2$ is homogeneous of degree **{f['lam_degree']}**, so no constant K gives "
         "$\\lambda \\le K|\\theta|^2$ (scaling θ by c multiplies $\\lambda/|\\theta|^2$ by $c^2$). This is the "
         "step that fails: the two-layer proof turns the lemma into a window through "
         f"$\\eta\\lambda_t \\le \\eta K|\\theta_t|^2 \\le \\eta K|\\theta_0|^2 < {res.k_uv:g}$. What holds is "
         f"$\\lambda \\le K|\\theta|^4$ with $K = {ft.get('K', '')}$ (each block's gradient norm is bounded by "
         "$c^2 x_2$ times the product of the other two squared block norms, and the three pairwise products sum "
         "to at most $|\\theta|^4/3$, a sum-of-squares identity checked symbolically), and the degree-2 induction "
         f"carried over would give the window $k < {ft.get('window', '')}$ (not a theorem of `catapult prove`: the "
         "`degree3` value is heuristic): of order $d/n^2$, i.e. "
         + (", ".join(f"{_g(v, 2)} ({spec})" for spec, v in res.windows.items()) or "empty") +
         " here - empty. The measured catapult range of the table above is entirely unexplained by any proof."), "",
    ]
    if res.proofs:
        derived = ", ".join(f"{name} = {value}" for name, value in res.thresholds.items())
        md += [("`catapult prove --model three-layer` (the generic theorems run on the registered ReLU declaration, "
                f"whose one-step map the generic core derives: {derived}):"), "",
               md_table(["theorem", "status", "first failing step"],
                        [[t, st, fail or "-"] for t, st, fail in res.proofs]), "",
               ("linear-onset holds for any model; weight-norm-identity and weight-norm-decrease hold at the "
                "net's degree 3 (Euler's identity with 3, the lemma's constant 2·3 = 6, and per layer 2, as each "
                "layer enters f linearly); ntk-bound needs degree 2 (an operator relation $\\Psi^3 = K\\Psi$) and is "
                "not proved for this net, as it must not be."), ""]
    return "\n".join(md)


def _drift_text(res: SparsityResult) -> str:
    """What the converging runs that used the whole budget still did over its second half (measured)."""
    ds = [m.drift for m in (*res.two, *res.three) if m.drift]
    if not ds:
        return "Every converging run met the tolerance within the budget."
    runs = int(sum(d["runs"] for d in ds))
    return (f"{runs} converging runs used the whole budget; over its second half their sparsity moved by at most "
            f"{_g(max(d['sparsity'] for d in ds), 2)}, their $|\\theta|^2$ by at most "
            f"{_g(100 * max(d['w2'] for d in ds), 2)}% and their ηλ by at most "
            f"{_g(100 * max(d['lam_eta'] for d in ds), 2)}%, while their train loss still fell by a factor of up to "
            f"{_g(max(d['loss_factor'] for d in ds), 3)}: the sparsity and the weight norm have settled, the final "
            "losses are upper bounds on the converged ones.")


def _observations(ms: tuple[ModelSweep, ...], res: SparsityResult) -> list[str]:
    """The measured facts of one model's sweeps, in words (from the stored statistics)."""
    out = []
    for m in ms:
        st = res.stats[f"{m.model}:{m.spec}"]
        n = st["catapult_count"]
        out.append(
            f"- {m.spec}: catapults (loss rises, then converges) at {n} grid points"
            + (f", {st['catapults_beyond']} of them beyond k = {st['beyond_threshold']:g}" if n else "")
            + f"; largest converging k {_g(st['largest_converging_k'], 3)}"
            + (f" (converges again above the first divergence at k = {islands_text(st['islands'])})"
               if st["islands"] else "")
            + f"; mean sparsity {_g(st['mean_sparsity_at_low_k'], 3)} at k = {_g(st['low_k'], 3)} → "
              f"{_g(st['mean_sparsity_at_largest'], 3)} at the largest converging k (rank correlation with k over "
              f"converging runs {_g(st['rank_corr_sparsity_k'], 2)}); median final ηλ of the catapults "
              f"{_g(st['median_final_lam_eta_catapults'], 3)}"
            + (f"; nets collapse (every unit of the last hidden layer dead, f = 0, stuck at loss 1/2) from "
               f"k = {_g(st['first_collapsed_k'], 3)}" if st["first_collapsed_k"] is not None else "")
            + (f"; first divergence at k = {_g(st['first_divergent_k'], 3)}" if st["first_divergent_k"] is not None
               else "; no divergence on the grid") + ".")
    return out + [""]


def sparsity_data(res: SparsityResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/sparsity.json``."""
    return {
        "pairs": [{"spec": p.spec, "label": p.label, "B": p.B, "B_test": p.B_test, "ntk_test_loss": p.difficulty,
                   "rank": p.rank, "of": p.of} for p in res.pairs],
        "two_layer": {m.spec: {**m.sweep.to_dict(), "drift": dict(m.drift)} for m in res.two},
        "three_layer": {m.spec: {**m.sweep.to_dict(), "drift": dict(m.drift)} for m in res.three},
        "stats": {key: dict(v) for key, v in res.stats.items()},
        "three_layer_facts": dict(res.facts),
        "three_layer_window": dict(res.windows),
        "three_layer_proofs": [{"theorem": t, "status": st, "first_failing_step": fail} for t, st, fail in res.proofs],
        "three_layer_thresholds": dict(res.thresholds),
        "settings": {"pairs": list(res.settings.pairs), "two_width": res.settings.two_width,
                     "three_width": res.settings.three_width, "k": res.settings.grid.tolist(),
                     "two_steps": res.settings.two_steps, "three_steps": res.settings.three_steps,
                     "tol": res.settings.tol, "lam_every": res.settings.lam_every,
                     **_fast_lam(sweep_three_layer, res.settings)},
        "skipped": res.skipped,
    }


#: THEORY §7 rows of the pairs, in the order of :attr:`SparsitySettings.pairs`
_ROWS = {"two-layer": ("11", "12", "13"), "three-layer": ("14", "15", "16")}
_STANDS_FOR = ("MNIST", "Fashion-MNIST", "CIFAR-10")


def sparsity_summary(res: SparsityResult, figs: Mapping[str, str]) -> list[Any]:
    """The sparsity section's rows of the summary: THEORY §7 rows 11–16 and the §6 claim on
    ReLU nets beyond k = 4."""
    s = res.settings
    rows: list[Any] = []
    for key, ms, width, steps in (("two-layer", res.two, s.two_width, s.two_steps),
                                  ("three-layer", res.three, s.three_width, s.three_steps)):
        for i, m in enumerate(ms[:3]):
            st = res.stats[f"{key}:{m.spec}"]
            link = figs.get(f"{key}:{m.spec}")
            rows.append(sweep_row(
                _ROWS[key][i], "sparsity", m.sweep,
                f"digits {m.spec.split(':', 1)[1]}, width {width}; {len(s.grid)} k in [{s.grid[0]:g}, {s.grid[-1]:g}] "
                f"(grid only), Δloss < {fmt_tol(s.tol)} or {steps} steps",
                (link,) if link else (), note=f"stand-in for {_STANDS_FOR[i]}",
                extra={k: st[k] for k in ("catapult_count", "catapults_beyond", "rank_corr_sparsity_k",
                                          "median_final_lam_eta_catapults", "mean_sparsity_at_low_k",
                                          "mean_sparsity_at_largest", "first_collapsed_k")}))
    if res.two:
        corr = {m.spec: res.stats[f"two-layer:{m.spec}"]["rank_corr_sparsity_k"] for m in res.two}
        beyond = {m.spec: res.stats[f"two-layer:{m.spec}"]["catapults_beyond"] for m in res.two}
        largest = {m.spec: res.stats[f"two-layer:{m.spec}"]["largest_converging_k"] for m in res.two}
        rows.append(ClaimRow(
            "relu-beyond-4", "sparsity", f"two-layer ReLU, width {s.two_width}, {len(res.two)} digit pairs, "
            f"{len(s.grid)} k in [{s.grid[0]:g}, {s.grid[-1]:g}]",
            "; ".join(f"{spec}: {beyond[spec]} catapults beyond k = {res.k_uv:g}, largest converging k "
                      f"{_g(largest[spec], 3)}, rank corr. sparsity ~ k {_g(corr[spec], 2)}" for spec in corr),
            {"catapults_beyond_4": beyond, "largest_converging_k": largest, "rank_corr_sparsity_k": corr}, None,
            tuple(figs[f"two-layer:{m.spec}"] for m in res.two if f"two-layer:{m.spec}" in figs)))
    return rows


def sparsity_section(ctx: Context) -> SectionOutput:
    """The sparsity section of ``catapult reproduce``: compute, plot, render."""
    return figured_section(ctx, SparsitySettings, compute_sparsity, sparsity_figures,
                           render_sparsity, sparsity_data, sparsity_summary)


def sparsity_memory(quick: bool) -> list[Any]:
    """The largest sparsity experiment's arrays: the two- or the three-layer sweep of one
    digit pair (``len(grid)`` rates), as ``catapult phases`` estimates it."""
    s = SparsitySettings.quick() if quick else SparsitySettings.full()
    k = ["--k-min", s.k[0], "--k-max", s.k[1], "--num", len(s.grid), "--no-refine"]
    return largest(*(command_memory(model, "phases", ["--width", width, "--slope", "0", "--data", pair, *k,
                                                      "--steps", steps])
                     for model, width, steps in (("two-layer", s.two_width, s.two_steps),
                                                 ("three-layer", s.three_width, s.three_steps))
                     for pair in s.pairs[:1]))


register_section(Section("sparsity", "ReLU nets on images: sparsity (two- and three-layer)", sparsity_section,
                         sparsity_memory))


