"""Figures: phase diagrams against k, trajectories against step, and every
figure of the ``catapult reproduce`` sections (all the package's plotting).

matplotlib is imported lazily (Agg backend), so the rest of the package starts
fast and works without a display. Each ``*_figures(result, path)`` draws the
figures of one report section from its computed result; ``path(name)`` gives
the file of a figure; it returns figure key -> written path (the keys the
section's ``render`` links).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import PhaseCriteria, linear_stability_edge
from ..experiments import PhaseSweep, RunResult
from ..files import save_figure
from ._derived import exact
from ._summary import is_bound, status_label


__all__ = [
    "bound_legend",
    "phase_patch",
    "readable_log_ticks",
    "plot_peak_law",
    "plot_divergence_shift",
    "CONVERGED_FLOOR",
    "PHASE_COLORS",
    "TEST_COLOR",
    "TRAIN_COLOR",
    "ROUNDOFF_FLOOR",
    "panel_points",
    "plot_final_lam",
    "plot_peak_scaling",
    "plot_phase_diagram",
    "plot_trajectories",
    "trajectories_figure",
    "quadratic_figures",
    "two_layer_figures",
    "uv_figures",
]

PHASE_COLORS = {
    "lazy": "#d8e8f5",
    "catapult": "#fbe3c4",
    "divergent": "#f5c6c6",
    "collapsed": "#dddddd",
    "unresolved": "#e6dcf2",
}

#: train and test losses drawn in one panel are told apart by these colours (and a legend)
TRAIN_COLOR = "C0"
TEST_COLOR = "C1"

_LABELS = {
    "lam_eta": r"final $\eta\lambda$",
    "peak_loss": "peak loss",
    "w2_ratio": r"final $|\theta|^2/|\theta_0|^2$",
    "train_loss": "final train loss",
    "test_loss": "final test loss",
    "sparsity": "final activation sparsity",
}
_LOG = {"peak_loss", "train_loss", "test_loss"}


def _wrap(title: str, width: int = 80) -> str:
    """A long figure title on several lines."""
    import textwrap

    return "\n".join(textwrap.wrap(title, width)) if title else title


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def phase_patch(phase: str) -> Any:
    """The legend swatch of a phase band (outlined, so a pale band shows)."""
    from matplotlib.patches import Patch

    return Patch(facecolor=PHASE_COLORS.get(phase, "#ffffff"), edgecolor="0.55", lw=0.6, label=phase)


def bound_legend(name: str, value: float, status: Mapping[str, Any] | None) -> str:
    """The legend entry of a bound: called a bound only when rigorous with its hypotheses
    holding here; any other value is a reference line with its status."""
    st = status or {}
    if is_bound(st):
        return f"bound {name}: converges for k < {value:.3g} ({status_label(st)})"
    return f"{name} = {value:.3g}: reference, {status_label(st)}"


def readable_log_ticks(fig: Any) -> None:
    """Every log axis of ``fig`` with at least three labelled ticks: a short axis gets
    ticks at 1, 2, 5 (or every integer) times the powers of ten, labelled."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for ax in fig.axes:
        for axis, scale, lim in ((ax.yaxis, ax.get_yscale(), ax.get_ylim()), (ax.xaxis, ax.get_xscale(),
                                                                                ax.get_xlim())):
            if scale != "log":
                continue
            lo, hi = sorted(lim)
            if not (lo > 0 and np.isfinite(hi)):
                continue
            decades = np.log10(hi / lo)
            if decades >= 3:
                continue
            subs = (1.0, 2.0, 5.0) if decades >= 1 else tuple(float(v) for v in range(1, 10))
            axis.set_major_locator(LogLocator(base=10, subs=subs))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
            axis.set_minor_locator(LogLocator(base=10, subs="auto"))
            axis.set_minor_formatter(NullFormatter())


def _phase_bands(ax: Any, k: np.ndarray, phase: Sequence[str]) -> None:
    if len(k) == 0:
        return
    edges = np.concatenate([[k[0]], 0.5 * (k[1:] + k[:-1]), [k[-1]]])
    start = 0
    for i in range(1, len(k) + 1):
        if i == len(k) or phase[i] != phase[start]:
            ax.axvspan(edges[start], edges[i], color=PHASE_COLORS.get(str(phase[start]), "#ffffff"), lw=0, zorder=0)
            start = i


#: the boundary key of the largest convergent k of a sweep (drawn dotted, named in the legend)
LARGEST = "largest_convergent"

#: along a trajectory, losses below this fraction of the initial loss are float64 round-off:
#: not drawn (a dotted floor line says where the axis stops)
ROUNDOFF_FLOOR = 1e-20
#: a final loss below this fraction of the initial loss means "converged" (the classifier's
#: ``PhaseCriteria.converged_loss``): its value there is set by the stopping rule and float64
#: round-off, not by the dynamics, so a phase diagram draws it as a triangle on this floor,
#: never on a log axis running down to 1e-30
CONVERGED_FLOOR = PhaseCriteria().converged_loss


def _loss_scale(sweep: PhaseSweep) -> float | None:
    """The initial loss of a sweep: the smallest finite peak loss (a lazy run's peak is its start)."""
    peak = np.asarray(sweep.final.get("peak_loss", []), dtype=float)
    peak = peak[np.isfinite(peak) & (peak > 0)]
    return float(peak.min()) if peak.size else None


def panel_points(sweep: PhaseSweep, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Which final values of panel ``name`` are drawn as values (``ok``) and which are
    round-off drawn on the floor (``floored``), per grid point: a divergent run has no
    final value (neither), nor has a non-positive value on a log (loss) panel; a loss
    below :data:`CONVERGED_FLOOR` times the initial loss is ``floored``."""
    vals = np.asarray(sweep.final[name], dtype=float)
    divergent = np.asarray([str(p) for p in sweep.phase]) == "divergent"
    ok = np.isfinite(vals) & ~divergent
    floored = np.zeros_like(ok)
    if name in _LOG:
        scale = _loss_scale(sweep)
        if name != "peak_loss" and scale is not None:
            floored = ok & (vals < CONVERGED_FLOOR * scale)  # an exact 0 included
            ok &= ~floored
        ok &= vals > 0
    return ok, floored


def plot_phase_diagram(
    sweep: PhaseSweep,
    path: str | Path,
    panels: Sequence[str] = ("lam_eta", "peak_loss", "w2_ratio"),
    title: str | None = None,
    marks: Mapping[str, float | None] | None = None,
) -> Path:
    """Final quantities against ``k`` with phase bands, boundaries and bounds marked.

    ``marks`` are further labelled vertical lines (dotted), e.g. a proven value
    or a measured ``k_max``. Divergent runs have no final state: they are shaded and
    marked by an ``x`` on the top edge of each panel, never plotted as values;
    unresolved runs (not converged within the budget) are drawn hollow. On the loss
    panels (log scale) values below :data:`CONVERGED_FLOOR` times the initial loss mean
    "converged" (their value is set by the stopping rule and round-off): they are drawn as
    triangles on that floor (a dotted line).
    """
    plt = _pyplot()
    from matplotlib.transforms import blended_transform_factory

    panels = [p for p in panels if p in sweep.final]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.3 * len(panels) + 1.0), sharex=True, squeeze=False)
    k = np.asarray(sweep.k, dtype=float)
    phase = np.asarray([str(p) for p in sweep.phase])
    divergent = phase == "divergent"
    unresolved = phase == "unresolved"
    scale = _loss_scale(sweep)
    floored_any = False
    for ax, name in zip(axes[:, 0], panels):
        vals = np.asarray(sweep.final[name], dtype=float)
        ok, floored = panel_points(sweep, name)
        log = name in _LOG
        _phase_bands(ax, k, list(phase))
        ax.plot(k[ok & ~unresolved], vals[ok & ~unresolved], ".", ms=3, color="k")
        if np.any(ok & unresolved):
            ax.plot(k[ok & unresolved], vals[ok & unresolved], "o", ms=3, mfc="none", color="k", mew=0.6)
        shown = vals[ok]
        if log and shown.size and not floored.any() and shown.max() < 10 * shown.min():
            # less than a decade: a log axis would show no tick label; a linear one with a margin
            mid, half = 0.5 * (shown.max() + shown.min()), 0.5 * (shown.max() - shown.min())
            ax.set_ylim(mid - max(1.2 * half, 0.05 * mid), mid + max(1.2 * half, 0.05 * mid))
            ax.ticklabel_format(axis="y", useOffset=False)
        elif log and (ok.any() or floored.any()):
            ax.set_yscale("log")
        if np.any(floored):
            floored_any = True
            floor = CONVERGED_FLOOR * (scale or 1.0)
            ax.axhline(floor, color="0.5", lw=0.6, ls=":")
            ax.plot(k[floored], np.full(int(floored.sum()), floor), "v", ms=3, color="0.35")
            if not np.any(ok):  # nothing above round-off: say so rather than show an empty decade
                ax.set_ylim(floor / 10, floor * 1e4)
                ax.text(0.5, 0.55, f"every run that converged did so below {CONVERGED_FLOOR:.0e} x initial loss",
                        transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.3")
        if np.any(divergent):
            tr = blended_transform_factory(ax.transData, ax.transAxes)
            ax.plot(k[divergent], np.full(int(divergent.sum()), 0.97), "x", ms=3.5, color="#b22222", mew=0.8,
                    transform=tr, clip_on=False)
        if name == "lam_eta":
            ax.plot(k, k, ":", color="0.5", lw=0.8, label=r"$\eta\lambda_0 = k$")
            ax.axhline(linear_stability_edge(), color="0.3", lw=0.8, ls="--")
        ax.set_ylabel(_LABELS.get(name, name))
        for bname, b in sweep.boundaries.items():
            if b is not None and bname == LARGEST:  # a legend entry: it may sit next to the divergence
                ax.axvline(b, color="k", lw=1.2, ls=(0, (1, 1)), label=f"largest convergent k = {b:.4g} (measured)")
            elif b is not None:
                ax.axvline(b, color="k", lw=1.0)
        for i, (bname, b) in enumerate(sweep.bounds.items()):
            if b is not None and np.isfinite(b):
                st = sweep.bound_status.get(bname)
                ax.axvline(b, color=f"C{i + 1}", lw=1.2, ls="--" if is_bound(st or {}) else "-.",
                           label=bound_legend(bname, b, st))
        for i, (mname, mv) in enumerate((marks or {}).items()):
            if mv is not None and np.isfinite(mv):
                ax.axvline(mv, color=f"C{i + 5}", lw=1.4, ls=":", label=f"{mname} = {mv:.3g}")
    for (bname, b) in sweep.boundaries.items():
        if b is not None and bname != LARGEST:
            axes[0, 0].annotate(f"{bname}\n{b:.4g}", (b, 1.0), xycoords=("data", "axes fraction"),
                                fontsize=7, ha="center", va="bottom")
    handles, _ = axes[0, 0].get_legend_handles_labels()
    if handles:
        axes[0, 0].legend(fontsize=7, loc="upper left", framealpha=0.85)
    from matplotlib.lines import Line2D

    present = [p for p in PHASE_COLORS if p in set(phase)]
    keys: list[Any] = [phase_patch(p) for p in present]
    if np.any(divergent):
        keys.append(Line2D([], [], ls="none", marker="x", color="#b22222", label="diverged: no final value"))
    if np.any(unresolved):
        keys.append(Line2D([], [], ls="none", marker="o", mfc="none", color="k", label="unresolved run (hollow)"))
    if floored_any:
        keys.append(Line2D([], [], ls="none", marker="v", color="0.35",
                           label=f"converged: loss < {CONVERGED_FLOOR:.0e} x initial"))
    axes[-1, 0].set_xlabel(r"$k = \eta \lambda_0$")
    fig.suptitle(_wrap(title or f"{sweep.model}: phases against k"), y=0.995, fontsize=10)
    fig.tight_layout(rect=(0, 0.045, 1, 1))
    fig.legend(handles=keys, fontsize=7, loc="lower center", ncol=min(len(keys), 4), frameon=False)
    readable_log_ticks(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=130)
    plt.close(fig)
    return path


_STEP_LABELS = {
    "loss": "loss",
    "train_loss": "train loss",
    "test_loss": "test loss",
    "lam_eta": r"$\eta\lambda_t$",
    "w2_ratio": r"$|\theta_t|^2/|\theta_0|^2$",
    "sparsity": "activation sparsity",
}


def _draw_series(ax: Any, series: np.ndarray, log: bool, log_steps: bool, floors: list[float], end_mark: bool,
                 steps: np.ndarray | None = None, **kw: Any) -> None:
    """One series of :func:`plot_trajectories` (round-off below the floor and non-positive
    values left out on a log axis; the floor used is appended to ``floors``); ``steps``:
    the steps its values belong to (default 0, 1, 2, ...)."""
    s = np.asarray(series, dtype=float)
    t = (np.arange(len(s)) if steps is None else np.asarray(steps, dtype=float)) + (1 if log_steps else 0)
    ok = np.isfinite(s) & ((s > 0) if log else True)
    if log and len(s) and np.isfinite(s[0]) and s[0] > 0:
        floor = ROUNDOFF_FLOOR * s[0]
        if np.any(ok & (s < floor)):
            floors.append(floor)
        ok &= s >= floor
    ax.plot(t[ok], s[ok], **kw)
    if end_mark and ok.any():
        i = int(np.flatnonzero(ok)[-1])
        ax.plot(t[i], s[i], "x", color=kw.get("color", "k"), ms=6, mew=1.2)


def plot_trajectories(
    runs: Mapping[str, Mapping[str, np.ndarray]],
    path: str | Path,
    quantities: Sequence[str] = ("loss", "lam_eta", "w2_ratio"),
    title: str = "",
    references: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    reference_label: str = "exact map",
    log_steps: bool = False,
    diverged: Sequence[str] = (),
) -> Path:
    """:func:`trajectories_figure`, written to ``path``."""
    plt = _pyplot()
    fig = trajectories_figure(runs, quantities, title, references, reference_label, log_steps, diverged)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=130)
    plt.close(fig)
    return path


def trajectories_figure(
    runs: Mapping[str, Mapping[str, np.ndarray]],
    quantities: Sequence[str] = ("loss", "lam_eta", "w2_ratio"),
    title: str = "",
    references: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    reference_label: str = "exact map",
    log_steps: bool = False,
    diverged: Sequence[str] = (),
) -> Any:
    """Series against step for a few runs (label -> quantity -> series), one panel per
    quantity, at most three panels a row (two when there are more than three quantities),
    sized to be read at page width; a panel left free holds the legend.

    ``references`` (same layout) are drawn dashed on top, e.g. the exact map
    beside GD. On the logarithmic loss axes values below :data:`ROUNDOFF_FLOOR`
    times the run's initial loss are round-off, not drawn (the floor is a dotted
    line), and so are non-positive values. ``diverged``: labels of runs that blew
    up; their series stop at the blow-up, marked by an ``x``. ``log_steps`` plots
    against ``step + 1`` on a logarithmic axis (for long runs whose catapult happens
    in the first steps). A run's ``lam_steps`` (the steps where ``lam`` was evaluated)
    places its ``lam_eta`` values: a line through those steps, never held values.
    """
    plt = _pyplot()
    ncols = len(quantities) if len(quantities) <= 3 else 2
    nrows = -(-len(quantities) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(3.7 * ncols, 2.9 * nrows + 0.4), squeeze=False)
    axes = grid.ravel()
    for ax in axes[len(quantities):]:
        ax.axis("off")
    for j, q in enumerate(quantities):
        ax = axes[j]
        log = q in ("loss", "train_loss", "test_loss")
        floors: list[float] = []
        for i, (label, series) in enumerate(runs.items()):
            steps = series.get("lam_steps") if q == "lam_eta" else None  # lam only where it was evaluated
            _draw_series(ax, series[q], log, log_steps, floors, label in diverged, color=f"C{i}", lw=1.2,
                         label=label, steps=steps)
            if references and label in references:
                _draw_series(ax, references[label][q], log, log_steps, floors, False, color="k", lw=0.8, ls="--")
        if log:
            ax.set_yscale("log")
        elif diverged:
            _clip_blowups(ax, runs, q, diverged, log_steps)
        if floors:
            ax.axhline(min(floors), color="0.5", lw=0.6, ls=":")
            ax.text(0.99, 0.01, f"round-off floor ({ROUNDOFF_FLOOR:.0e} x initial loss)", fontsize=6,
                    ha="right", va="bottom", transform=ax.transAxes, color="0.35")
        if q == "lam_eta":
            ax.axhline(linear_stability_edge(), color="0.4", lw=0.8, ls=":")
        if log_steps:
            ax.set_xscale("log")
        ax.set_xlabel("step + 1" if log_steps else "step")
        label = _STEP_LABELS.get(q, q)
        if q == "loss" and "test_loss" in quantities:
            label = "train loss"
        ax.set_ylabel(label)
    free = axes[len(quantities)] if len(axes) > len(quantities) else None
    keys, names = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    if references:
        keys.append(Line2D([], [], color="k", ls="--", lw=0.8))
        names.append(reference_label)
    if diverged:
        keys += [Line2D([], [], marker="x", color="k", ls="none"), Line2D([], [], marker="^", color="k", ls="none")]
        names += ["blow-up (run stops)", "leaves the plotted range"]
    if free is not None:
        free.legend(keys, names, fontsize=9, loc="center", frameon=False)
    else:
        axes[0].legend(keys, names, fontsize=8)
    fig.suptitle(_wrap(title, 110), fontsize=10)
    fig.tight_layout()
    readable_log_ticks(fig)
    return fig


def _clip_blowups(ax: Any, runs: Mapping[str, Mapping[str, np.ndarray]], q: str, diverged: Sequence[str],
                  log_steps: bool) -> None:
    """On a linear panel, keep the y-range of the runs that did not blow up (a blow-up
    would flatten them): the blown-up series leave through the top edge, marked there."""
    kept = [np.asarray(s[q], dtype=float) for label, s in runs.items() if label not in diverged]
    kept = [s[np.isfinite(s)] for s in kept if np.isfinite(s).any()]
    if not kept:
        return
    lo = min(float(s.min()) for s in kept)
    hi = max(float(s.max()) for s in kept)
    if q == "lam_eta":
        hi = max(hi, linear_stability_edge())
    top = hi + 0.15 * max(hi - lo, abs(hi), 1e-12)
    bottom = min(lo, 0.0) - 0.05 * max(hi - lo, 1e-12)
    for i, (label, s) in enumerate(runs.items()):
        v = np.asarray(s[q], dtype=float)
        if label in diverged and np.any(v > top):
            j = int(np.argmax(v > top))
            ax.plot(j + (1 if log_steps else 0), top, "^", color=f"C{i}", ms=6, clip_on=False)
    ax.set_ylim(bottom, top)


def _save(fig: Any, path: str | Path) -> Path:
    readable_log_ticks(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=130)
    _pyplot().close(fig)
    return path


def plot_final_lam(k: np.ndarray, finals: Mapping[int, np.ndarray], path: str | Path,
                   edge: float | None = None) -> Path:
    """Final ``eta lam`` against ``k``, one series per width (``finals``: width ->
    values, NaN for a run that diverged: an ``x`` on the top edge), with the linear
    stability edge dotted."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    from matplotlib.transforms import blended_transform_factory

    for i, (n, vals) in enumerate(finals.items()):
        vals = np.asarray(vals, dtype=float)
        ax.plot(k, vals, ".", ms=2.5, color=f"C{i}", label=f"n = {n}")
        gone = ~np.isfinite(vals)  # diverged: no final value, an x on the top edge
        if gone.any():
            ax.plot(k[gone], np.full(int(gone.sum()), 0.98), "x", ms=3, color=f"C{i}",
                    transform=blended_transform_factory(ax.transData, ax.transAxes), clip_on=False)
    ax.axhline(linear_stability_edge() if edge is None else edge, color="0.4", ls=":", lw=0.8)
    ax.set_xlabel(r"$k = \eta\lambda_0$")
    ax.set_ylabel(r"final $\eta\lambda_\infty$")
    ax.legend(fontsize=7)
    ax.set_title("catapult phase: where the NTK eigenvalue lands")
    fig.tight_layout()
    return _save(fig, path)


def plot_peak_scaling(peak: Any, path: str | Path) -> Path:
    """Step of the loss peak against log-width (with the predicted slope) and the
    median peak loss against width (with a line proportional to n)."""
    plt = _pyplot()
    widths = peak.widths
    logn = np.log(widths)
    mean_step = peak.peak_step.mean(axis=1)
    med = peak.median_peak
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].plot(widths, mean_step, "o-", label="exact map (mean over seeds)")
    axes[0].plot(widths, mean_step[0] + peak.predicted_slope * (logn - logn[0]), "--",
                 label=r"slope $1/(2\log|k-1|)$")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("width n")
    axes[0].set_ylabel("step of the loss peak")
    axes[0].legend(fontsize=7)
    axes[1].loglog(widths, med, "o-", label="peak loss (median over seeds)")
    axes[1].loglog(widths, widths * med[-1] / widths[-1], "--", label=r"$\propto n$")
    axes[1].set_xlabel("width n")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"uv exact map, k = {peak.k:g}")
    fig.tight_layout()
    return _save(fig, path)


def plot_peak_law(law: Any, path: str | Path) -> Path:
    """The peak law (:class:`~._section_uv.PeakLawMeasured`): ``s*`` against ``k`` per width
    with the continuum peak, its leading term and the bound ``k^2/4``; the step of the peak
    minus the theorem's prediction against the width, one line per ``k``."""
    plt = _pyplot()
    import sympy as sp  # type: ignore[import-untyped]

    from ._derived import k_sym

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    ax = axes[0]
    kk = np.linspace(float(law.ks.min()) - 0.03, float(law.ks.max()) + 0.05, 300)
    kk = kk[kk > 2]
    for j, n in enumerate(law.ns):
        ax.plot(law.ks, law.s_star[:, j], "o", ms=4, mfc="none", color=f"C{j % 10}", label=f"n = 1e{np.log10(n):.0f}")
    ax.plot(kk, law.law.s_star_of(kk), "-", color="k", lw=1.2, label="continuum peak (derived)")
    lead = sp.lambdify(k_sym, law.law.s_star_leading, "numpy")
    ax.plot(kk, lead(kk), ":", color="k", lw=1.0, label=r"$(k-2)^2/2$")
    ax.plot(kk, kk**2 / 4, "--", color="0.45", lw=1.0, label=r"bound $k^2/4$ (rigorous: peak-law-uv)")
    ax.set_yscale("log")
    ax.set_xlabel(r"$k = \eta\lambda_0$")
    ax.set_ylabel(r"peak $s^* = \max_t\, \eta^2 x_2 f_t^2/n$")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    for i, k in enumerate(law.ks):
        ax.plot(law.ns, law.t_offset[i], "o-", ms=3, color=f"C{i % 10}", label=f"k = {k:g}")
    ax.set_xscale("log")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel("width n")
    ax.set_ylabel(r"$t_{peak} - \log(1/s_0)/\log((k-1)^2)$")
    ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"uv exact map, y = 0, f0 = {law.f0:g}, lam0 = {law.lam0:g}: the peak law", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_divergence_shift(dv: Any, brackets: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """``n (k_max - k_div) / y^2`` against ``n`` per initial state and label, the derived
    coefficient (dashed) and the theorem's bracket (band)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for i, (st, br) in enumerate(zip(dv.states, brackets)):
        color = f"C{i}"
        for j, yv in enumerate(np.unique(st.y)):
            sel = st.y == yv
            order = np.argsort(st.n[sel])
            n = st.n[sel][order]
            ax.plot(n, st.coefficient[sel][order], ["o", "s", "^", "D"][j % 4] + "-", ms=4, color=color, lw=0.8,
                    mfc="none", label=f"lam0 = {st.lam0:g}, x2 = {st.x2:g}, y = {yv:g}")
            lo = (dv.k_max - np.asarray(br["theorem_upper"])[sel][order]) * n / yv**2
            hi = (dv.k_max - np.asarray(br["theorem_lower"])[sel][order]) * n / yv**2
            ax.fill_between(n, lo, hi, color=color, alpha=0.12, lw=0)
        ax.axhline(st.c_derived, color=color, ls="--", lw=0.9)
    ax.set_xscale("log")
    ax.set_xlabel("width n")
    ax.set_ylabel(r"$n\,(4 - k_{div})/y^2$")
    ax.legend(fontsize=6, ncol=2, loc="center right")
    ax.set_title("y != 0: the divergence shift, measured (markers), derived c (dashed), theorem's bracket (band)",
                 fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _run_series(runs: Sequence[RunResult], extra: Sequence[str] = ()) -> tuple[dict[str, dict[str, np.ndarray]],
                                                                                 dict[str, dict[str, np.ndarray]]]:
    """GD and reference series (loss, eta lam, w2 ratio) of runs, labelled ``k = .. (phase)``."""
    gd, ref = {}, {}
    for r in runs:
        label = f"k = {r.k:g} ({r.phase})"
        gd[label] = {"loss": r.gd.series("loss"), "lam_eta": r.eta * r.gd.series("lam"),
                     "w2_ratio": r.gd.series("w2") / r.w2_0}
        if r.reference is not None:
            ref[label] = {"loss": r.reference.series("loss"), "lam_eta": r.eta * r.reference.series("lam"),
                          "w2_ratio": r.reference.series("w2") / r.w2_0}
    return gd, ref


def uv_figures(res: Any, path: Callable[[str], Path], brackets: Sequence[Mapping[str, Any]]) -> dict[str, Path]:
    """The uv section's figures: trajectories, phases, final_lam, peak_scaling, peak_law,
    divergence_shift (with ``brackets``: the theorem's bracket on each measured threshold)."""
    width = res.settings.width
    gd, ref = _run_series(res.runs)
    return {
        "trajectories": plot_trajectories(gd, path("uv_trajectories.png"), references=ref,
                                          title=f"uv, width {width}: GD (solid) and the exact map (dashed)",
                                          diverged=_diverged(res.runs)),
        "phases": plot_phase_diagram(res.sweep, path("uv_phases.png"),
                                     title=f"uv exact map, width {width}, y = {res.setup.y:g}"),
        "final_lam": plot_final_lam(res.final_k, res.final_lam_eta, path("uv_final_lam.png"), res.edge),
        "peak_scaling": plot_peak_scaling(res.peak, path("uv_peak_scaling.png")),
        "peak_law": plot_peak_law(res.law, path("uv_peak_law.png")),
        "divergence_shift": plot_divergence_shift(res.divergence, brackets,
                                                  path("uv_divergence_shift.png")),
    }


def _diverged(runs: Sequence[RunResult]) -> list[str]:
    """Labels (as :func:`_run_series` writes them) of the runs that blew up."""
    return [f"k = {r.k:g} ({r.phase})" for r in runs if r.diverged_at is not None]


def _run_figure(runs: Sequence[RunResult], path: Path, title: str, **kw: Any) -> Path:
    gd, ref = _run_series(runs)
    return plot_trajectories(gd, path, references=ref or None, title=title, diverged=_diverged(runs), **kw)


def _mu_text(mu: str) -> str:
    kind, *args = mu.split(":")
    if kind == "uniform" and len(args) == 2 and args[0] == args[1]:
        return f"= {args[0]}"
    return f"~ U[{', '.join(args)}]" if kind == "uniform" else f"~ {mu}"


def quadratic_figures(res: Any, path: Callable[[str], Path]) -> dict[str, Path]:
    """The quadratic section's figures: trajectories and phases of each row (toy, random labels,
    teacher-student, bias on one datum, bias on teacher-student data)."""
    s = res.settings
    ts, rl, bt = res.ts, res.rl, res.bt
    return {
        "toy_trajectories": _run_figure(
            res.toy_runs, path("pq_toy_trajectories.png"), reference_label="exact spectral engine", log_steps=True,
            title=f"pure quadratic, toy datum, rank {s.toy_rank}: GD (solid) and exact spectral engine (dashed)"),
        "toy_phases": plot_phase_diagram(
            res.toy_sweep, path("pq_toy_phases.png"), panels=("lam_eta", "w2_ratio", "peak_loss", "train_loss"),
            title=f"pure quadratic, toy datum, rank {s.toy_rank}, mu {_mu_text(s.toy_mu)} (exact spectral engine)"),
        "random_labels_trajectories": _run_figure(
            res.rl_runs, path("pq_random_labels_trajectories.png"), log_steps=True,
            title=f"pure quadratic, {rl.data.B} random points (d = {rl.data.d}), i.i.d. labels, rank {s.rl_rank}: GD"),
        "random_labels_phases": plot_phase_diagram(
            res.rl_sweep, path("pq_random_labels_phases.png"), panels=("lam_eta", "w2_ratio", "train_loss"),
            title=f"pure quadratic, {rl.data.B} random points (d = {rl.data.d}), labels ~ N(0,1), rank {s.rl_rank}"),
        "teacher_student_trajectories": _run_figure(
            res.ts_runs, path("pq_teacher_student_trajectories.png"), log_steps=True,
            title=f"pure quadratic, {ts.data.B} teacher-student points, rank {s.ts_rank}, g = {s.ts_activation}: GD"),
        "teacher_student": plot_phase_diagram(
            res.ts_sweep, path("pq_teacher_student_phases.png"),
            panels=("lam_eta", "w2_ratio", "train_loss", "test_loss"),
            title=f"pure quadratic, {ts.data.B} teacher-student points (d = {ts.data.d}), {ts.data.B_test} test, "
                  f"rank {s.ts_rank}, g = {s.ts_activation}"),
        "bias_trajectories": _run_figure(
            res.bias_runs, path("bias_toy_trajectories.png"), reference_label="exact spectral engine", log_steps=True,
            title=f"quadratic model with bias, toy datum, {s.bias_features} features, rank {s.bias_rank}: "
                  "GD (solid) and exact spectral engine (dashed)"),
        "bias_phases": plot_phase_diagram(
            res.bias_sweep, path("bias_toy_phases.png"), panels=("lam_eta", "w2_ratio", "train_loss"),
            title=f"quadratic model with bias, toy datum, {s.bias_features} features, rank {s.bias_rank}, mu = 1"),
        "bias_teacher_student_trajectories": _run_figure(
            res.bt_runs, path("bias_teacher_student_trajectories.png"), log_steps=True,
            title=f"bias model, {bt.data.B} teacher-student points, {s.bt_features} features, rank {s.bt_rank}, "
                  f"g = {s.bt_activation}: GD"),
        "bias_teacher_student_phases": plot_phase_diagram(
            res.bt_sweep, path("bias_teacher_student_phases.png"),
            panels=("lam_eta", "w2_ratio", "train_loss", "test_loss"),
            title=f"bias model, {bt.data.B} teacher-student points (d = {bt.data.d}), {bt.data.B_test} test, "
                  f"{s.bt_features} features, rank {s.bt_rank}, g = {s.bt_activation}"),
    }


def two_layer_figures(res: Any, path: Callable[[str], Path]) -> dict[str, Path]:
    """The two-layer section's figures: trajectories and phases of each row (leaky a and a2
    on one datum, ReLU on one datum, leaky on random 1-d points, ReLU with y != 0) and, with
    the digits, digits_phases and digits_trajectories."""
    s = res.settings
    rnd, ry = res.rnd, res.ry
    x_ry, y_ry = float(ry.setup.data.X[0, 0]), float(ry.setup.data.y[0])
    figs = {
        "leaky_trajectories": _run_figure(
            res.leaky_runs, path("tl_toy_leaky_trajectories.png"), log_steps=True,
            title=f"two-layer leaky ReLU (a = {res.slope_text}), one datum x = 1, y = 0, width {s.width}: GD"),
        "leaky_phases": plot_phase_diagram(
            res.leaky_sweep, path("tl_toy_leaky_phases.png"), panels=("lam_eta", "w2_ratio", "peak_loss", "sparsity"),
            title=f"two-layer leaky ReLU (a = {res.slope_text}), one datum x = 1, y = 0, width {s.width}"),
        "leaky2_trajectories": _run_figure(
            res.leaky2.runs, path("tl_toy_leaky2_trajectories.png"), log_steps=True,
            title=f"two-layer leaky ReLU (a = {res.slope2_text}), one datum x = 1, y = 0, width {s.width}: GD"),
        "leaky2_phases": plot_phase_diagram(
            res.leaky2.sweep, path("tl_toy_leaky2_phases.png"),
            panels=("lam_eta", "w2_ratio", "peak_loss", "sparsity"),
            title=f"two-layer leaky ReLU (a = {res.slope2_text}), one datum x = 1, y = 0, width {s.width}"),
        "relu_phases": plot_phase_diagram(
            res.relu_sweep, path("tl_toy_relu_phases.png"), panels=("lam_eta", "w2_ratio", "sparsity"),
            title=f"two-layer ReLU, one datum x = 1, y = 0, width {s.width}"),
        "random_trajectories": _run_figure(
            rnd.runs, path("tl_random_1d_trajectories.png"), log_steps=True,
            title=f"two-layer leaky ReLU (a = {exact(rnd.setup.slope)}), {rnd.setup.data.B} random 1-d points, "
                  f"width {s.width}: GD"),
        "random_phases": plot_phase_diagram(
            rnd.sweep, path("tl_random_1d_phases.png"),
            panels=("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity"),
            title=f"two-layer leaky ReLU (a = {exact(rnd.setup.slope)}), {rnd.setup.data.B} random 1-d points, "
                  f"{rnd.setup.data.B_test} test, width {s.width}"),
        "relu_y_trajectories": _run_figure(
            ry.runs, path("tl_toy_relu_y_trajectories.png"), log_steps=True,
            title=f"two-layer ReLU, one datum x = {x_ry:g}, y = {y_ry:g}, width {s.width}: GD"),
        "relu_y_phases": plot_phase_diagram(
            ry.sweep, path("tl_toy_relu_y_phases.png"), panels=("lam_eta", "w2_ratio", "train_loss", "sparsity"),
            title=f"two-layer ReLU, one datum x = {x_ry:g}, y = {y_ry:g}, width {s.width}",
            marks={"uv law, y != 0 (derived)": res.ry_uv_law}),
    }
    dg = res.digits
    if dg is not None:
        figs["digits_phases"] = plot_phase_diagram(
            dg.sweep, path("tl_digits_relu_phases.png"),
            panels=("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity"),
            title=f"two-layer ReLU, width {dg.setup.width}, {dg.setup.data.B} digits (0 vs 1); no theorem covers many "
                  "labelled data: every value drawn is a reference, not a bound",
            marks=None if dg.sweep.boundaries.get(LARGEST) is not None else {"largest converging k (measured)": dg.largest})
        figs["digits_trajectories"] = plot_trajectories(
            {f"k = {t.k:g} ({t.phase})": t.series for t in dg.trajectories}, path("tl_digits_trajectories.png"),
            quantities=("loss", "test_loss", "lam_eta", "w2_ratio", "sparsity"),
            title=f"two-layer ReLU on the digits, width {dg.setup.width}: trajectories", log_steps=True,
            diverged=[f"k = {t.k:g} ({t.phase})" for t in dg.trajectories if t.phase == "divergent"])
    return figs
