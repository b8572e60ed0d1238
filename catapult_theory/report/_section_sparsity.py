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
from ._markdown import fmt_tol, image, md_table
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
    eigenvalue evaluations (exact at every run's last step); ``traj_ks``: the
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


def _two_layer(spec: str, s: SparsitySettings, reporter: Reporter) -> ModelSweep:
    """The two-layer ReLU sweep at grid resolution, keeping its trajectories."""
    setup = two_layer_image_setup(s.two_width, 0.0, spec)
    sweep, run = sweep_two_layer_run(setup, s.grid, max_steps=s.two_steps, tol=s.tol, lam_every=s.lam_every,
                                     progress=reporter.ticker(f"two-layer {spec}", s.two_steps))
    trajs, phases = _pick(sweep, run.traj, run.lam_evaluated, run.stopped_at, s.traj_ks, setup.lam0, setup.w2_0)
    drift = _drift(run.traj, np.asarray(run.phase), np.asarray(run.stop_reason), s.grid / setup.lam0)
    return ModelSweep("two-layer", spec, s.two_width, setup.lam0, setup.w2_0, sweep, trajs, phases, drift)


def _three_layer(spec: str, s: SparsitySettings, reporter: Reporter) -> ModelSweep:
    setup = three_layer_setup(s.three_width, 0.0, spec)
    sweep, run = sweep_three_layer(setup, s.grid, max_steps=s.three_steps, tol=s.tol, refine=False,
                                   lam_every=s.lam_every,
                                   progress=reporter.ticker(f"three-layer {spec}", s.three_steps))
    trajs, phases = _pick(sweep, run.traj, run.lam_evaluated, run.stopped_at, s.traj_ks, setup.lam0, setup.w2_0)
    drift = _drift(run.traj, np.asarray(run.phase), np.asarray(run.stop_reason), s.grid / setup.lam0)
    return ModelSweep("three-layer", spec, s.three_width, setup.lam0, setup.w2_0, sweep, trajs, phases, drift)


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
            "thresholds": thresholds}
    try:
        with threadpool_limits(limits=1, user_api="blas"):  # 128 x 128 solves: one BLAS thread is fastest
            pairs = _pair_info(s.pairs)
    except InvalidInput as exc:  # the digits without scikit-learn: the section says so and goes on
        if "scikit-learn" not in str(exc):
            raise
        return SparsityResult(s, (), (), (), windows={}, skipped=str(exc), **base)  # type: ignore[arg-type]
    two, three = [], []
    for spec in s.pairs:
        config = {"spec": spec, "k": s.grid.tolist(), "tol": s.tol, "lam_every": s.lam_every, "traj": s.traj_ks}
        reporter.progress(f"two-layer ReLU, width {s.two_width}, {spec}: {len(s.grid)} rates, <= {s.two_steps} steps")
        two.append(reporter.cached("sparsity-two-layer", {**config, "width": s.two_width, "steps": s.two_steps},
                                   lambda spec=spec: _two_layer(spec, s, reporter)))  # type: ignore[misc]
        reporter.progress(f"three-layer ReLU, width {s.three_width}, {spec}: {len(s.grid)} rates, "
                          f"<= {s.three_steps} steps")
        three.append(reporter.cached("sparsity-three-layer",
                                     {**config, "width": s.three_width, "steps": s.three_steps},
                                     lambda spec=spec: _three_layer(spec, s, reporter)))  # type: ignore[misc]
    windows = {m.spec: float(m.sweep.bounds["degree3"]) for m in three}
    return SparsityResult(s, pairs, tuple(two), tuple(three), windows=windows, **base)  # type: ignore[arg-type]


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


def _model_figure(res: SparsityResult, m: ModelSweep, pair: PairInfo | None, path: Path) -> Path:
    """Trajectories of a few runs (top) and final values against ``k`` (bottom) of one model on one pair."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..files import save_figure
    from ._plots import PHASE_COLORS, _phase_bands, _pyplot

    plt = _pyplot()
    three = m.model == "three-layer"
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.6))
    top, bottom = axes
    # -- trajectories against step + 1 (log: the catapult happens in the first tens of steps)
    w2s, lams = [], []
    for j, (kt, ser) in enumerate(sorted(m.trajectories.items())):
        t = np.arange(len(ser["loss"])) + 1
        color = f"C{j}"
        loss, low = _floor(ser["loss"])
        ok = np.isfinite(loss) & ~low
        top[0].plot(t[ok], loss[ok], color=color, lw=1.1, label=f"k = {kt:g} ({m.trajectory_phase[kt]})")
        top[1].plot(t, ser["w2_ratio"], color=color, lw=1.1)
        pos = ser["lam_eta"] > 0  # a collapsed net has lam = 0: off a log axis
        top[2].plot(ser["lam_steps"][pos] + 1, ser["lam_eta"][pos], ".-", color=color, lw=1.0, ms=3)
        w2s.append(ser["w2_ratio"])
        lams.append(ser["lam_eta"])
        if three:
            top[3].plot(t, ser["sparsity1"], color=color, lw=1.1)
            top[3].plot(t, ser["sparsity2"], color=color, lw=1.1, ls="--")
        else:
            top[3].plot(t, ser["sparsity"], color=color, lw=1.1)
    top[0].set_yscale("log")
    _log_if_wide(top[1], w2s)
    _log_if_wide(top[2], lams)
    top[2].axhline(res.edge, color="0.4", lw=0.8, ls=":")
    labels = ("train loss", r"$|\theta_t|^2/|\theta_0|^2$",
              rf"$\eta\lambda_t$ (every {res.settings.lam_every} steps)",
              "sparsity (solid: layer 1, dashed: layer 2)" if three else "activation sparsity")
    for ax, lab in zip(top, labels):
        ax.set_xscale("log")
        ax.set_xlabel("step + 1")
        ax.set_ylabel(lab)
    top[0].legend(fontsize=7)
    # -- final values against k: converging and unresolved runs (a diverged run has no final
    # state; a collapsed one is f = 0 on the training set at loss 1/2, its blown-up weights and
    # test loss are in the data, not drawn)
    k = np.asarray(m.sweep.k, dtype=float)
    phase = np.array([str(p) for p in m.sweep.phase])
    drawn = np.isin(phase, ["lazy", "catapult", "unresolved"])
    alive = drawn | (phase == "collapsed")
    for ax in bottom:
        _phase_bands(ax, k, list(phase))

    def dots(ax: Any, name: str, mask: np.ndarray, **kw: Any) -> None:
        v = m.final(name)
        ok = mask & np.isfinite(v)
        ax.plot(k[ok], v[ok], **{"marker": "o", "ls": "none", "ms": 3.5, "color": "k", **kw})

    dots(bottom[0], "lam_eta", alive)
    bottom[0].plot(k, k, ":", color="0.5", lw=0.8)
    bottom[0].axhline(res.edge, color="0.3", lw=0.8, ls="--")
    bottom[0].set_ylim(-0.2, max(2.6, float(np.nanmax(np.where(alive, m.final("lam_eta"), np.nan), initial=0)) + 0.3))
    bottom[0].set_ylabel(r"final $\eta\lambda$ (dotted: $\eta\lambda_0 = k$)")
    dots(bottom[1], "w2_ratio", drawn)
    bottom[1].set_ylabel(r"final $|\theta|^2/|\theta_0|^2$")
    for name, marker, face in (("train_loss", "o", "k"), ("test_loss", "s", "none")):
        v, low = _floor(m.final(name))
        mask = (alive if name == "train_loss" else drawn) & np.isfinite(v)
        bottom[2].plot(k[mask & ~low], v[mask & ~low], marker, ms=3.5, mfc=face, color="k", ls="none")
        if (mask & low).any():
            bottom[2].plot(k[mask & low], v[mask & low], "v", ms=4, color="C3", ls="none")
    bottom[2].set_yscale("log")
    bottom[2].set_ylabel("final loss (dots: train, squares: test)")
    if three:
        dots(bottom[3], "sparsity1", alive)
        dots(bottom[3], "sparsity2", alive, marker="s", mfc="none")
        bottom[3].set_ylabel("final sparsity (dots: layer 1, squares: layer 2)")
    else:
        dots(bottom[3], "sparsity", alive)
        bottom[3].set_ylabel("final activation sparsity")
    norm_k = res.k_norm3 if three else res.k_uv
    marks = [("catapult onset", m.sweep.boundaries.get("catapult_onset"), "C2", "--"),
             ("largest converging k", m.largest, "k", "-"),
             ("first divergent k", m.first("divergent"), "C3", "-"),
             ("first collapsed k", m.first("collapsed"), "0.35", "-"),
             (f"y = 0: weight norm falls at step 0 iff k < {norm_k:g}", norm_k, "C4", ":")]
    handles: list[Any] = []
    for lab, val, color, ls in marks:
        if val is not None and k[0] <= val <= k[-1]:
            for ax in bottom:
                ax.axvline(val, color=color, lw=1.1, ls=ls)
            handles.append(Line2D([], [], color=color, ls=ls, label=f"{lab} ({val:g})"))
    for ax in bottom:
        ax.set_xlabel(r"$k = \eta\lambda_0$")
        ax.set_xlim(k[0] - 0.3, k[-1] + 0.3)
    handles += [Patch(color=PHASE_COLORS[p], label=p) for p in PHASE_COLORS if p in set(phase)]
    if any(_floor(m.final(name))[1].any() for name in ("train_loss", "test_loss")):
        handles.append(Line2D([], [], marker="v", color="C3", ls="none", label=f"loss < {LOSS_FLOOR:g}"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
    label = pair.label if pair is not None else m.spec
    B = pair.B if pair is not None else "?"
    bound_note = (f"the degree-3 lemma proves k < {res.windows.get(m.spec, float('nan')):.2g} (empty)" if three
                  else f"the data bound proves k < {m.sweep.bounds.get('data', float('nan')):.2g} (empty)")
    fig.suptitle(f"{m.model} ReLU net, width {m.width}, {label}: {B} training images, labels +-1, lam0 = {m.lam0:.4g}; "
                 f"{bound_note}\nfinal values: diverged runs have none; collapsed runs (f = 0 on the training set) "
                 "are drawn where their values are meaningful (eta*lam, train loss, sparsity)", fontsize=10)
    from matplotlib.ticker import LogLocator

    for ax in axes.ravel():  # minor ticks of log axes cost more to draw than they tell here
        ax.minorticks_off()
        lo, hi = ax.get_ylim()
        if ax.get_yscale() == "log" and 0 < lo and hi < 100 * lo:  # a short log axis: labels at 1, 2, 5
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    # fixed margins: tight_layout would measure every tick label of the eight panels again
    fig.subplots_adjust(left=0.045, right=0.99, bottom=0.14, top=0.9, wspace=0.3, hspace=0.32)
    save_figure(fig, path, dpi=100)
    plt.close(fig)
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
    three = ms and ms[0].model == "three-layer"
    low = res.settings.low_k
    rows = []
    for m in ms:
        cat = m.catapults()
        lam_cat = [float(m.at("lam_eta", c) or np.nan) for c in cat]

        def sp_at(k: float | None, m: ModelSweep = m) -> str:
            if k is None:
                return "-"
            if three:
                return f"{_g(m.at('sparsity1', k), 3)} / {_g(m.at('sparsity2', k), 3)}"
            return _g(m.at("sparsity", k), 3)

        rows.append([m.spec, _g(m.lam0, 4), _g(m.sweep.boundaries.get("catapult_onset"), 3),
                     _g(m.largest, 3), _g(m.first("divergent"), 3), _g(m.first("collapsed"), 3),
                     sp_at(low), sp_at(m.largest),
                     f"{_g(float(np.nanmin(lam_cat)), 3)} .. {_g(float(np.nanmax(lam_cat)), 3)}" if lam_cat else "-",
                     _g(m.at("test_loss", low), 3), _g(m.at("test_loss", m.largest), 3),
                     _g(m.sparsity_trend(), 2)])
    head = ["pair", "lam0", "catapult onset (grid)", "largest converging k", "first divergent k", "first collapsed k",
            f"sparsity at k = {low:g}" + (" (layer 1 / 2)" if three else ""), "sparsity at largest k",
            "final eta*lam (catapults)", f"test loss at k = {low:g}", "test loss at largest k",
            "rank corr. sparsity~k"]
    return md_table(head, rows)


def render_sparsity(res: SparsityResult, figures: Mapping[str, str] | None = None) -> str:
    """The section's Markdown; ``figures`` maps figure keys (:func:`sparsity_figures`) to links."""
    figs = dict(figures or {})
    s = res.settings
    f = res.facts
    md = [("Rows 11–16 of the study: ReLU nets on two-class images, swept far beyond every proven window, "
          "measuring how sparse the hidden activations become with k (fraction of (unit, datum) pairs of the "
          "training set with pre-activation <= 0)."), ""]
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
            "part of MNIST (and is row 3's pair); the two hard ones, classic look-alikes, behave more like "
            "Fashion-MNIST and CIFAR-10 (a test loss that does not vanish)."), "",
            md_table(["pair", "training / test images", "NTK-predictor test loss", "rank"],
                     [[p.label, f"{p.B} / {p.B_test}", _g(p.difficulty, 3), f"{p.rank} of {p.of}"]
                      for p in res.pairs]), "",
            "### Grids", "",
            f"k = {s.k[0]:g}, {s.k[0] + s.dk:g}, ..., {s.grid[-1]:g} ({len(s.grid)} learning rates, all in one batched "
            f"GD run per net and pair); full-batch GD on all weights, square loss, labels +-1, until the loss changes "
            f"by less than {fmt_tol(s.tol)} in one step or the budget of {s.two_steps} (two-layer) / {s.three_steps} "
            f"(three-layer) steps; a run leaves the batch as soon as it diverges or collapses. lam = top eigenvalue "
            f"of NTK/B, every {s.lam_every} steps and exactly at each run's end. Widths: two-layer {s.two_width} (the "
            f"study's), three-layer {s.three_width} per hidden layer (its {s.three_width}x{s.three_width} middle "
            f"layer costs 3 n^2 B per step and rate; the study's width 1024 costs {(1024 / s.three_width) ** 2:g} "
            "times that per step and runs with `catapult phases three-layer --width 1024`). " + _drift_text(res),
            "",
        ]
        for title, ms, key in (("Two-layer ReLU net (rows 11–13)", res.two, "two-layer"),
                               ("Three-layer ReLU MLP (rows 14–16)", res.three, "three-layer")):
            md += [f"### {title}", "", _table(ms, res), ""]
            for m in ms:
                md += image(f"{key} {m.spec}", figs.get(f"{key}:{m.spec}"))
            md += _observations(ms, res)
    md += [
        "### Why the two-layer proof does not cover the three-layer net", "",
        ("The symbolic layer declares the three-layer net on one datum within an activation region, "
        "f = v^T S2 W2 S1 W1 x / (n sqrt d) (S1, S2: diagonal slope matrices with (S - I)(S - a I) = 0), and derives "
        "with the width symbolic:"), "",
        (f"- f(c theta) = c^{f['degree']} f, so Euler's identity reads **{f['euler']}**; the two-layer lemma's premise "
        f"theta.grad f - 2 f is not 0 but {f['two_layer_euler_residual']} (= f);"),
        (f"- one GD step changes the squared weight norm by **{f['weight_norm_change']}**: the lemma's form with "
        f"{f['lemma_constant']} = 2*{f['degree']} in place of {f['two_layer_constant']} (the two-layer lemma's "
        f"residual is {f['two_layer_lemma_residual']}); at y = 0 the norm falls iff eta*lam < {res.k_norm3:g} "
        f"(eta_max = {f['eta_max']}), for B data Delta|theta|^2 <= (eta/B)|r|^2 (eta lam_max(H) - "
        f"{f['lemma_constant']});"),
        f"- lam = |grad f|^2 is homogeneous of degree **{f['lam_degree']}**, so no constant K gives lam <= K |theta|^2 "
        "(scaling theta by c multiplies lam/|theta|^2 by c^2). This is the step that fails: the two-layer proof "
        f"turns the lemma into a window through eta lam_t <= eta K |theta_t|^2 <= eta K |theta_0|^2 < {res.k_uv:g}. "
        "What holds "
        f"is lam <= K |theta|^4 with K = {f['K']} (each block's gradient norm is bounded by c^2 x2 times the "
        "product of the other two squared block norms, and the three pairwise products sum to at most |theta|^4/3, "
        "a sum-of-squares identity checked symbolically), and the degree-2 induction carried over would give the "
        f"window k < {f['window']} (not a theorem of `catapult prove`): of order d/n^2, i.e. "
        + (", ".join(f"{_g(v, 2)} ({spec})" for spec, v in res.windows.items()) or "empty") +
        " here - empty. The measured catapult range of the table above is entirely unexplained by any proof.", "",
    ]
    if res.proofs:
        derived = ", ".join(f"{name} = {value}" for name, value in res.thresholds.items())
        md += [("`catapult prove --model three-layer` (the generic theorems run on the registered ReLU declaration, "
                f"whose one-step map the generic core derives: {derived}):"), "",
               md_table(["theorem", "status", "first failing step"],
                        [[t, st, fail or "-"] for t, st, fail in res.proofs]), "",
               ("linear-onset holds for any model; weight-norm-identity and weight-norm-decrease hold at the "
                "net's degree 3 (Euler's identity with 3, the lemma's constant 2*3 = 6, and per layer 2, as each "
                "layer enters f linearly); ntk-bound needs degree 2 (an operator relation Psi^3 = K Psi) and is not "
                "proved for this net, as it must not be."), ""]
    return "\n".join(md)


def _drift_text(res: SparsityResult) -> str:
    """What the converging runs that used the whole budget still did over its second half (measured)."""
    ds = [m.drift for m in (*res.two, *res.three) if m.drift]
    if not ds:
        return "Every converging run met the tolerance within the budget."
    runs = int(sum(d["runs"] for d in ds))
    return (f"{runs} converging runs used the whole budget; over its second half their sparsity moved by at most "
            f"{_g(max(d['sparsity'] for d in ds), 2)}, their |theta|^2 by at most "
            f"{_g(100 * max(d['w2'] for d in ds), 2)}% and their eta*lam by at most "
            f"{_g(100 * max(d['lam_eta'] for d in ds), 2)}%, while their train loss still fell by a factor of up to "
            f"{_g(max(d['loss_factor'] for d in ds), 3)}: the sparsity and the weight norm have settled, the final "
            "losses are upper bounds on the converged ones.")


def _observations(ms: tuple[ModelSweep, ...], res: SparsityResult) -> list[str]:
    """The measured facts of one model's sweeps, in words."""
    out = []
    low = res.settings.low_k
    for m in ms:
        cat = m.catapults()
        beyond = cat[cat > (res.k_norm3 if m.model == "three-layer" else res.k_uv)]
        sp_low, sp_hi = m.at("sparsity", low), m.at("sparsity", m.largest)
        trend = m.sparsity_trend()
        lam_cat = [m.at("lam_eta", c) for c in cat]
        median = float(np.median([v for v in lam_cat if v is not None and np.isfinite(v)] or [np.nan]))
        out.append(
            f"- {m.spec}: catapults (loss rises, then converges) at {len(cat)} grid points"
            + (f", {len(beyond)} of them beyond k = {res.k_norm3 if m.model == 'three-layer' else res.k_uv:g}"
               if len(cat) else "")
            + f"; largest converging k {_g(m.largest, 3)}; mean sparsity {_g(sp_low, 3)} at k = {low:g} -> "
              f"{_g(sp_hi, 3)} at the largest converging k (rank correlation with k over converging runs "
              f"{_g(trend, 2)}); median final eta*lam of the catapults {_g(median, 3)}"
            + (f"; nets collapse (every unit of the last hidden layer dead, f = 0, stuck at loss 1/2) from "
               f"k = {_g(m.first('collapsed'), 3)}" if m.first("collapsed") is not None else "")
            + (f"; first divergence at k = {_g(m.first('divergent'), 3)}" if m.first("divergent") is not None
               else "; no divergence on the grid") + ".")
    return out + [""]


def sparsity_data(res: SparsityResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/sparsity.json``."""
    return {
        "pairs": [{"spec": p.spec, "label": p.label, "B": p.B, "B_test": p.B_test, "ntk_test_loss": p.difficulty,
                   "rank": p.rank, "of": p.of} for p in res.pairs],
        "two_layer": {m.spec: {**m.sweep.to_dict(), "drift": dict(m.drift)} for m in res.two},
        "three_layer": {m.spec: {**m.sweep.to_dict(), "drift": dict(m.drift)} for m in res.three},
        "three_layer_facts": dict(res.facts),
        "three_layer_window": dict(res.windows),
        "three_layer_proofs": [{"theorem": t, "status": st, "first_failing_step": fail} for t, st, fail in res.proofs],
        "three_layer_thresholds": dict(res.thresholds),
        "settings": {"pairs": list(res.settings.pairs), "two_width": res.settings.two_width,
                     "three_width": res.settings.three_width, "k": res.settings.grid.tolist(),
                     "two_steps": res.settings.two_steps, "three_steps": res.settings.three_steps,
                     "tol": res.settings.tol, "lam_every": res.settings.lam_every},
        "skipped": res.skipped,
    }


def sparsity_section(ctx: Context) -> SectionOutput:
    """The sparsity section of ``catapult reproduce``: compute, plot, render."""
    return figured_section(ctx, SparsitySettings, compute_sparsity, sparsity_figures,
                           render_sparsity, sparsity_data)


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


