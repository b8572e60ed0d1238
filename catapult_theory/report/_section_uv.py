"""Report section: the uv model, derived, iterated, checked against GD, and
what happens beyond the theorem (finite width, y != 0).

:func:`compute_uv` runs the experiments into a :class:`UVResult`;
:func:`render_uv` writes its Markdown, :func:`uv_data` its ``data/uv.json``
and :func:`catapult_theory.report._plots.uv_figures` its figures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compiled import threshold, update_map
from ..engine import Trajectory, iterate_map
from ..experiments import (
    PhaseSweep,
    RunResult,
    UVSetup,
    final_values,
    refine_boundaries,
    run_uv,
    sweep_map,
    sweep_uv,
    uv_setup,
    w2_at_bound,
)
from ..symbolic import export_text, theory
from ._derived import (
    UVDivergenceLaw,
    residual_multiplier,
    stability_edge,
    uv_divergence_law,
    uv_k_max,
)
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
    "DivergenceY",
    "PeakScaling",
    "SeededShift",
    "StateShift",
    "UVResult",
    "UVSettings",
    "compute_uv",
    "divergence_brackets",
    "render_uv",
    "sweep_map_batch",
    "uv_data",
    "uv_section",
]


@dataclass(frozen=True)
class UVSettings:
    """Sizes of the uv experiments (:meth:`quick` and :meth:`full` are the report's)."""

    width: int = 1000
    traj_ks: tuple[float, ...] = (1.0, 3.0, 5.0)
    traj_steps: int = 300
    phase_num: int = 600
    phase_k: tuple[float, float] = (0.1, 6.0)
    phase_steps: int = 2000
    final_widths: tuple[int, ...] = (100, 1000, 10000)
    final_num: int = 400
    #: the final-eta*lam grid spans the catapult window (edge, k_max) shrunk by this margin
    final_margin: float = 0.02
    final_steps: int = 20000
    peak_widths: int = 13  # log-spaced widths in [10^2, 10^5]
    peak_seeds: int = 8
    peak_k: float = 3.0
    peak_steps: int = 2000
    div_ns: tuple[int, ...] = (100, 300, 1000, 3000, 10000, 30000, 100000)
    div_ys: tuple[float, ...] = (0.5, 1.0, 2.0)
    #: initial states (lam0, x2) with f0 = 0
    div_states: tuple[tuple[float, float], ...] = ((2.0, 1.0), (1.0, 1.0), (3.0, 0.25))
    div_steps: int = 20000
    div_tol: float = 1e-11
    #: the 1/n coefficient is fitted over n >= this
    div_fit_min_n: int = 10000
    seeded_ns: tuple[int, ...] = (1000, 10000)
    seeded_seeds: int = 3
    seeded_y: float = 1.0
    seeded_tol: float = 1e-10

    @classmethod
    def quick(cls) -> UVSettings:
        """The ``--quick`` (smoke) sizes."""
        return cls(phase_num=150, final_num=80, peak_widths=7, peak_seeds=4, div_ns=(100, 1000, 10000, 100000))

    @classmethod
    def full(cls) -> UVSettings:
        """The full sizes."""
        return cls()


@dataclass(frozen=True)
class PeakScaling:
    """Step and height of the loss peak against the width at one ``k``.

    ``peak_step`` and ``peak_loss`` have shape ``(widths, seeds)``; the slopes
    are least-squares fits against ``log n``; ``predicted_slope`` is
    ``1 / (2 log|m|)`` with ``m = multiplier`` the derived per-step factor of the
    linearised residual.
    """

    k: float
    widths: np.ndarray
    peak_step: np.ndarray
    peak_loss: np.ndarray
    multiplier: float
    slope_step: float
    predicted_slope: float
    slope_logpeak: float
    slope_n_over_logn: float

    @property
    def median_peak(self) -> np.ndarray:
        """Median peak loss over seeds, per width."""
        return np.median(self.peak_loss, axis=1)


@dataclass(frozen=True)
class StateShift:
    """Divergence threshold from one initial state ``(lam0, x2, f0 = 0)`` over a grid of ``(n, y)``.

    ``k_div`` is measured by bisection on the exact map, ``k_div_derived`` the
    root of the derived invariant line; ``coefficient`` is ``n (k_max - k_div) / y^2``,
    ``c_fit`` its least-squares limit over large ``n`` and ``c_derived`` the
    derived ``eta_max^2 x2``.
    """

    lam0: float
    x2: float
    n: np.ndarray
    y: np.ndarray
    k_div: np.ndarray
    k_div_derived: np.ndarray
    coefficient: np.ndarray
    c_fit: float
    c_derived: float
    eta_max: float


@dataclass(frozen=True)
class SeededShift:
    """Divergence threshold from a seeded N(0,1) initialisation (``f0 != 0``)."""

    n: int
    seed: int
    f0: float
    lam0: float
    k_div: float
    k_div_derived: float


@dataclass(frozen=True)
class DivergenceY:
    """The y != 0 divergence threshold: the derived law and its measurement.

    Every bisection starts from the bracket ``(bracket_lo, bracket_hi)``: the
    measured catapult onset and the derived y = 0 threshold ``k_max`` (a bracket
    whose top does not diverge is widened upward, :func:`divergence_brackets`).
    """

    law: UVDivergenceLaw
    k_max: float
    bracket_lo: float
    bracket_hi: float
    tol: float
    fit_min_n: int
    states: tuple[StateShift, ...]
    seeded: tuple[SeededShift, ...]
    seeded_tol: float
    seeded_y: float

    @property
    def max_deviation(self) -> float:
        """Largest ``|measured - derived|`` threshold over every state."""
        devs = [np.max(np.abs(s.k_div - s.k_div_derived)) for s in self.states]
        devs += [abs(s.k_div - s.k_div_derived) for s in self.seeded]
        return float(max(devs)) if devs else 0.0


@dataclass(frozen=True)
class UVResult:
    """Everything the uv section measured (see :func:`compute_uv`)."""

    settings: UVSettings
    derived_text: str
    edge: float
    k_max: float
    runs: tuple[RunResult, ...]
    setup: UVSetup
    sweep: PhaseSweep
    final_k: np.ndarray
    final_lam_eta: Mapping[int, np.ndarray]
    peak: PeakScaling
    divergence: DivergenceY


def sweep_map_batch(n: np.ndarray, y: np.ndarray, k: np.ndarray, lam0: float, steps: int,
                    x2: float = 1.0) -> Trajectory:
    """The exact map from ``f0 = 0, lam0`` (``w2_0 = lam0 / K``) over a batch of widths/targets/k."""
    n, y, k = np.broadcast_arrays(n, y, k)
    return iterate_map(update_map("uv"), f0=np.zeros(n.shape), lam0=lam0, w2_0=w2_at_bound(lam0, n, x2),
                       eta=k / lam0, y=y, steps=steps, stop_early=True, n=n, x2=x2)


def divergence_brackets(diverges: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, size: int,
                        widen: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Brackets ``(lo, hi)`` for :func:`refine_boundaries`, one per row of ``diverges``.

    ``lo`` must not diverge (``ValueError`` otherwise). Where ``hi`` does not
    diverge the bracket is widened upward by its own width, up to ``widen``
    times (``ValueError`` if it still does not diverge).
    """
    los = np.full(size, float(lo))
    his = np.full(size, float(hi))
    if np.any(np.asarray(diverges(los[:, None]), dtype=bool).reshape(size)):
        raise ValueError(f"the lower bracket k = {lo:g} already diverges")
    for _ in range(widen + 1):
        top = np.asarray(diverges(his[:, None]), dtype=bool).reshape(size)
        if top.all():
            return los, his
        his = np.where(top, his, his + (his - los))
    raise ValueError(f"no divergence found up to k = {his.max():g}")


def _trajectory_runs(s: UVSettings, reporter: Reporter) -> tuple[RunResult, ...]:
    reporter.progress(f"GD vs exact map, width {s.width}, k = {', '.join(f'{k:g}' for k in s.traj_ks)}")
    return tuple(run_uv(s.width, k, s.traj_steps, seed=0) for k in s.traj_ks)


def _final_lam(s: UVSettings, edge: float, k_max: float,
               reporter: Reporter) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    ks = np.linspace(edge + s.final_margin, k_max - s.final_margin, s.final_num)
    reporter.progress("final eta*lam against k for several widths")
    # every (width, k) run of the exact map in one batch: widths down the rows, k along them
    states = [uv_setup(n, seed=0) for n in s.final_widths]

    def col(name: str) -> np.ndarray:
        return np.array([getattr(st, name) for st in states], dtype=float)[:, None]

    eta = ks[None, :] / col("lam0")
    t = iterate_map(update_map("uv"), f0=col("f0"), lam0=col("lam0"), w2_0=col("w2_0"), eta=eta, y=col("y"),
                    steps=s.final_steps, stop_early=True, n=col("width"), x2=col("x2"))
    # a run that blew up has no final state: NaN, never its last value before the blow-up
    lam_eta = final_values(t, eta, col("w2_0"))["lam_eta"]
    return ks, {n: lam_eta[i] for i, n in enumerate(s.final_widths)}


def _peak_scaling(s: UVSettings, reporter: Reporter) -> PeakScaling:
    reporter.progress("time to peak and peak loss against width")
    widths = np.unique(np.logspace(2, 5, s.peak_widths).astype(int))
    seeds = range(s.peak_seeds)
    k = s.peak_k
    # one seeded initial state per (width, seed), then every run of the exact map in one batch
    states = [uv_setup(int(n), seed=seed) for n in widths for seed in seeds]

    def col(name: str) -> np.ndarray:
        return np.array([getattr(st, name) for st in states], dtype=float)

    lam0 = col("lam0")
    traj = iterate_map(update_map("uv"), f0=col("f0"), lam0=lam0, w2_0=col("w2_0"), eta=k / lam0, y=col("y"),
                       steps=s.peak_steps, stop_early=True, n=col("width"), x2=col("x2"))
    peaks = [traj.series("loss", r) for r in range(len(states))]
    peak_step = np.array([int(np.argmax(loss)) for loss in peaks], dtype=float).reshape(len(widths), len(seeds))
    peak_loss = np.array([loss.max() for loss in peaks]).reshape(len(widths), len(seeds))
    logn = np.log(widths)
    m = residual_multiplier(k)
    return PeakScaling(
        k=k, widths=widths, peak_step=peak_step, peak_loss=peak_loss, multiplier=m,
        slope_step=float(np.polyfit(logn, peak_step.mean(axis=1), 1)[0]),
        predicted_slope=float(1 / (2 * np.log(abs(m)))),
        slope_logpeak=float(np.polyfit(logn, np.log(np.median(peak_loss, axis=1)), 1)[0]),
        slope_n_over_logn=float(np.polyfit(logn, np.log(widths / logn), 1)[0]),
    )


def _divergence_y(s: UVSettings, k_max: float, lo: float, reporter: Reporter) -> DivergenceY:
    reporter.progress("divergence threshold with y != 0 (bisection on the exact map)")
    law = uv_divergence_law()
    eta_max = threshold("uv", "eta_max")
    ns, ys = np.array(s.div_ns), np.array(s.div_ys)
    states = []
    for lam0, x2 in s.div_states:
        N, Y = (a.ravel() for a in np.meshgrid(ns, ys, indexing="ij"))

        def diverges(grid: np.ndarray, N: np.ndarray = N, Y: np.ndarray = Y, lam0: float = lam0,
                     x2: float = x2) -> np.ndarray:
            return sweep_map_batch(N[:, None], Y[:, None], grid, lam0, x2=x2, steps=s.div_steps).diverged_at >= 0

        kdiv = refine_boundaries(diverges, *divergence_brackets(diverges, lo, k_max, len(N)), tol=s.div_tol)
        coef = (k_max - kdiv) * N / Y**2
        big = N >= s.div_fit_min_n
        xx = Y[big] ** 2 / N[big]
        states.append(StateShift(
            lam0=lam0, x2=x2, n=N, y=Y, k_div=kdiv, k_div_derived=law.k_div(0.0, lam0, Y, N, x2),
            coefficient=coef, c_fit=float(np.sum((k_max - kdiv[big]) * xx) / np.sum(xx**2)),
            c_derived=float(law.coefficient(lam0, x2)), eta_max=float(eta_max(lam=lam0))))
    seeded = []
    for n in s.seeded_ns:
        for seed in range(s.seeded_seeds):
            st = uv_setup(n, seed=seed, y=s.seeded_y)

            def diverges_seeded(grid: np.ndarray, st: UVSetup = st) -> np.ndarray:
                return sweep_map(st, grid[0], s.div_steps).diverged_at[None, :] >= 0

            kd = refine_boundaries(diverges_seeded, *divergence_brackets(diverges_seeded, lo, k_max, 1),
                                   tol=s.seeded_tol)[0]
            seeded.append(SeededShift(n=n, seed=seed, f0=st.f0, lam0=st.lam0, k_div=float(kd),
                                      k_div_derived=float(law.k_div(st.f0, st.lam0, st.y, n, st.x2))))
    return DivergenceY(law=law, k_max=k_max, bracket_lo=lo, bracket_hi=k_max, tol=s.div_tol,
                       fit_min_n=s.div_fit_min_n, states=tuple(states), seeded=tuple(seeded),
                       seeded_tol=s.seeded_tol, seeded_y=s.seeded_y)


def compute_uv(settings: UVSettings, reporter: Reporter = SILENT) -> UVResult:
    """Run every uv experiment: GD beside the exact map, the phase diagram, where
    ``eta lam`` lands, the loss-peak scaling and the y != 0 divergence threshold.

    The bisection for the y != 0 threshold is bracketed by the measured catapult
    onset of the phase diagram (below it nothing diverges) and the derived y = 0
    threshold ``k_max = lam eta_max``, widened upward where that does not diverge.
    """
    s = settings
    edge, k_max = stability_edge(), uv_k_max()
    # each experiment is cached by its settings (a rerun of `reproduce` skips finished ones)
    config = dataclasses.asdict(s)
    runs = reporter.cached("uv-trajectories", config, lambda: _trajectory_runs(s, reporter))
    reporter.progress(f"phase diagram, width {s.width}, {s.phase_num} values of k")
    setup = uv_setup(s.width, seed=0)
    sweep = reporter.cached("uv-phases", config, lambda: sweep_uv(
        setup, np.linspace(*s.phase_k, s.phase_num), steps=s.phase_steps))
    onset = sweep.boundaries.get("catapult_onset")
    final_k, finals = reporter.cached("uv-final-lam", config, lambda: _final_lam(s, edge, k_max, reporter))
    peak = reporter.cached("uv-peak-scaling", config, lambda: _peak_scaling(s, reporter))
    divergence = reporter.cached("uv-divergence-y", config, lambda: _divergence_y(
        s, k_max, onset if onset is not None else edge, reporter))
    return UVResult(settings=s, derived_text=export_text(theory("uv")), edge=edge, k_max=k_max, runs=runs,
                    setup=setup, sweep=sweep, final_k=final_k, final_lam_eta=finals, peak=peak,
                    divergence=divergence)


def uv_data(res: UVResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/uv.json``."""
    p, dv = res.peak, res.divergence
    return {
        "runs": [r.to_dict() for r in res.runs],
        "phase_sweep": res.sweep.to_dict(),
        "final_lam_eta": {"k": res.final_k, **{str(n): v for n, v in res.final_lam_eta.items()}},
        "peak_scaling": {"k": p.k, "widths": p.widths, "peak_step": p.peak_step, "peak_loss_ratio": p.peak_loss,
                         "slope_step_vs_logn": p.slope_step, "predicted_slope": p.predicted_slope,
                         "slope_logpeak_vs_logn": p.slope_logpeak, "slope_n_over_logn": p.slope_n_over_logn},
        "divergence_y": [{"lam0": st.lam0, "x2": st.x2, "f0": 0.0, "n": st.n, "y": st.y, "k_div": st.k_div,
                          "coefficient": st.coefficient, "c_fit": st.c_fit, "eta_max": st.eta_max,
                          "k_div_derived": st.k_div_derived, "c_derived": st.c_derived} for st in dv.states],
        "divergence_y_seeded": [[str(r.n), str(r.seed), _g(r.f0), _g(r.lam0), _g(r.k_div, 8),
                                 _g((dv.k_max - r.k_div) * r.n, 4)] for r in dv.seeded],
        "divergence_y_seeded_derived": [r.k_div_derived for r in dv.seeded],
        "divergence_y_law": {"invariant": dv.law.invariant_text(), "multiplier": dv.law.multiplier_text(),
                             "threshold": dv.law.threshold_text(), "shift_coefficient": str(dv.law.shift),
                             "bracket": [dv.bracket_lo, dv.bracket_hi]},
    }


def _runs_table(res: UVResult) -> str:
    rows = [[f"{r.k:g}", r.phase, str(r.settings["map_phase"]), f"{r.max_rel_dev:.2e}",
             _g(float(r.gd.peak_loss())), str(r.diverged_at if r.diverged_at is not None else "-")] for r in res.runs]
    return md_table(["k", "phase (GD)", "phase (map)", "max_rel_dev", "peak loss", "diverged at"], rows)


def _render_divergence(dv: DivergenceY) -> list[str]:
    km = _g(dv.k_max)
    law = dv.law
    fits = [[_g(st.lam0), _g(st.x2), f"{st.c_fit:.5f}", _g(st.c_derived, 6), f"{st.c_fit / st.c_derived:.5f}"]
            for st in dv.states]
    first = dv.states[0] if dv.states else None
    rows = ([[str(int(n)), f"{yy:g}", f"{kd:.8f}", f"{kx:.8f}", f"{c:.4f}"]
             for n, yy, kd, kx, c in zip(first.n, first.y, first.k_div, first.k_div_derived, first.coefficient)]
            if first is not None else [])
    seeded = [[str(r.n), str(r.seed), _g(r.f0), _g(r.lam0), _g(r.k_div, 8), _g(r.k_div_derived, 8),
               _g((dv.k_max - r.k_div) * r.n, 4)] for r in dv.seeded]
    return [
        f"### y != 0: the divergence threshold moves away from {km}", "",
        (f"**Derived.** At y = 0 the sign of eta lam - {km} decides divergence (eta_max = {law.eta_max}, the sign "
        "change of the weight-norm increment). For y != 0 the symbolic layer's uv map has the invariant line "
        f"D = 0 with `D = {law.invariant_text()}` (r = f - y): one GD step gives `D' = ({law.multiplier_text()}) D`, "
        "so D keeps its sign while that factor is positive (found by requiring the derived map to send D = 0 "
        "to itself, with D = eta lam - "
        f"{km} + (eta^2 x2 / n) (c1 y f + c2 y^2 + c3 f^2) and the c's solved for). Started from (f0, lam0) "
        f"with eta = k / lam0, the threshold is the root of `{law.threshold_text()}` (r0 = f0 - y) near {km}; "
        f"from f0 = 0 it gives {km} - k_div = c y^2 / n + O(1/n^2) with c = `{law.shift}` = "
        f"`{law.scale}` (checked symbolically)."), "",
        (f"**Measured.** Bisection on the exact map (tolerance {fmt_tol(dv.tol)} in k), bracketed by the measured "
        f"catapult onset k = {_g(dv.bracket_lo, 6)} (nothing diverges below it) and the derived y = 0 threshold "
        f"k = {km} (widened upward by the bracket's width where that does not diverge). The largest distance between a "
        f"measured threshold and the derived root over every state below is **{dv.max_deviation:.1e}**. From "
        f"f0 = 0 (initial residual -y), c fitted by least squares over n >= {dv.fit_min_n}, for "
        f"{len(dv.states)} initial states:"), "",
        md_table(["lam0", "x2", "fitted c (measured)", "derived c = eta_max^2 x2", "fitted / derived"], fits), "",
        *([f"Convergence of n ({km} - k_div) / y^2 for lam0 = {_g(first.lam0)}, x2 = {_g(first.x2)}:", "",
           md_table(["n", "y", "k_div (bisection)", "k_div (derived)", f"n ({km} - k_div) / y^2"], rows), ""]
          if first is not None else []),
        (f"From seeded N(0,1) initialisations (y = {dv.seeded_y:g}, f0 != 0; bisection tolerance "
        f"{fmt_tol(dv.seeded_tol)}) the shift is still O(1/n), and k_div - {km} has the sign of y (f0 - y), as the "
        "derived threshold says:"), "",
        md_table(["n", "seed", "f0", "lam0", "k_div (bisection)", "k_div (derived)", f"n ({km} - k_div)"], seeded),
        "",
    ]


def render_uv(res: UVResult, figures: Mapping[str, str] | None = None) -> str:
    """The section's Markdown; ``figures`` maps figure names (:func:`uv_figures`)
    to links, and a figure without a link is left out."""
    figs = dict(figures or {})
    s, b, p = res.settings, res.sweep.boundaries, res.peak
    edge, km = _g(res.edge), _g(res.k_max)
    md = ["### Derived map", "", "```", res.derived_text, "```", "",
          "### GD against the exact map", "", _runs_table(res), "", *image("trajectories", figs.get("trajectories")),
          "### Phase diagram", "",
          (f"Exact map from a seeded N(0,1) init (f0 = {res.setup.f0:.4g}, lam0 = {res.setup.lam0:.4g}), "
          f"{len(res.sweep.k)} values of k in [{s.phase_k[0]:g}, {s.phase_k[1]:g}]. Boundaries refined by bisection: "
          f"catapult onset **{_g(b['catapult_onset'], 6)}** (derived eta_crit*lam0 = {edge}), divergence "
          f"**{_g(b['divergence'], 6)}** (derived eta_max*lam0 = {km}; proven window up to "
          f"{_g(res.sweep.bounds.get('lemma'), 6)}). The onset sits above {edge} by the finite-width term "
          "(eta^2 x2 f0^2 / n in the first-step multiplier)."), "",
          *image("phases", figs.get("phases")),
          "### Where the NTK eigenvalue lands", "",
          ("Final eta*lam after the catapult is not a constant: it is a jagged function of k and of the width "
          f"(exact map, {s.final_steps} steps; values just below {edge} converge only polynomially)."), "",
          *image("final", figs.get("final_lam")),
          "### Time to the peak and height of the peak", "",
          (f"At k = {p.k:g} the residual grows by |1 - k| = {abs(p.multiplier):g} per step (the derived linear "
          "multiplier) until the O(1/n) terms bite, at loss of order n: the peak step should grow like "
          f"log(n) / (2 log|k - 1|). Measured slope of peak step against log n: **{p.slope_step:.3f}** (reasoning: "
          f"{p.predicted_slope:.3f}); log-log slope of the peak loss against n: **{p.slope_logpeak:.3f}** (order n "
          "from the same reasoning; n / log n, the Lewkowycz-type scaling at fixed k, has local slope "
          f"{p.slope_n_over_logn:.3f} on this range)."), "",
          *image("peak", figs.get("peak_scaling")),
          *_render_divergence(res.divergence)]
    return "\n".join(md)


def uv_section(ctx: Context) -> SectionOutput:
    """The uv section of ``catapult reproduce``: compute, plot, render."""
    from ._plots import uv_figures

    return figured_section(ctx, UVSettings, compute_uv, uv_figures, render_uv, uv_data)


def uv_memory(quick: bool) -> list[Any]:
    """The largest uv experiment's arrays: the phase diagram (as ``catapult phases uv``
    estimates it), or one of the batches of exact-map runs (final eta*lam over widths x k,
    peak scaling over widths x seeds, the y != 0 bisection), each recorded (loss, lam, w2)
    for its whole step budget: the batch runs on while one of its runs does."""
    from ..engine import recorded_bytes
    from ..experiments import REFINE_POINTS
    from ..resources import Need

    s = UVSettings.quick() if quick else UVSettings.full()
    k = ["--k-min", s.phase_k[0], "--k-max", s.phase_k[1]]
    batch = [("final eta*lam", len(s.final_widths) * s.final_num, s.final_steps),
             ("peak scaling", s.peak_widths * s.peak_seeds, s.peak_steps),
             ("divergence bisection", len(s.div_ns) * len(s.div_ys) * REFINE_POINTS, s.div_steps)]
    return largest(command_memory("uv", "phases", ["--width", s.width, *k, "--num", s.phase_num,
                                                   "--steps", s.phase_steps]),
                   *([Need(f"the {what} batch of exact-map runs ({runs} runs x 3 series x {steps + 1} steps)",
                           float(recorded_bytes(steps, runs, 3)), "--quick")] for what, runs, steps in batch))


register_section(Section("uv", "uv model", uv_section, uv_memory))
