"""Figures: phase diagrams against k, trajectories against step, and every
figure of the ``catapult reproduce`` sections (all the package's plotting).

matplotlib is imported lazily (Agg backend), so the rest of the package starts
fast and works without a display. Each ``*_figures(result, path)`` draws the
figures of one report section from its computed result; ``path(name)`` gives
the file of a figure; it returns figure key -> written path (the keys the
section's ``render`` links).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from ..engine import linear_stability_edge
from ..experiments import PhaseSweep, RunResult

if TYPE_CHECKING:
    from ._section_quadratic import QuadraticResult
    from ._section_two_layer import TwoLayerResult
    from ._section_uv import PeakScaling, UVResult

__all__ = ["plot_phase_diagram", "plot_trajectories", "plot_final_lam", "plot_peak_scaling", "PHASE_COLORS",
           "uv_figures", "quadratic_figures", "two_layer_figures"]

PHASE_COLORS = {
    "lazy": "#d8e8f5",
    "catapult": "#fbe3c4",
    "divergent": "#f5c6c6",
    "collapsed": "#dddddd",
    "unresolved": "#ffffff",
}

_LABELS = {
    "lam_eta": r"final $\eta\lambda$",
    "peak_loss": "peak loss",
    "w2_ratio": r"final $|\theta|^2/|\theta_0|^2$",
    "train_loss": "final train loss",
    "test_loss": "final test loss",
    "sparsity": "final activation sparsity",
}
_LOG = {"peak_loss", "train_loss", "test_loss"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _phase_bands(ax: Any, k: np.ndarray, phase: Sequence[str]) -> None:
    if len(k) == 0:
        return
    edges = np.concatenate([[k[0]], 0.5 * (k[1:] + k[:-1]), [k[-1]]])
    start = 0
    for i in range(1, len(k) + 1):
        if i == len(k) or phase[i] != phase[start]:
            ax.axvspan(edges[start], edges[i], color=PHASE_COLORS.get(str(phase[start]), "#ffffff"), lw=0, zorder=0)
            start = i


def plot_phase_diagram(
    sweep: PhaseSweep,
    path: str | Path,
    panels: Sequence[str] = ("lam_eta", "peak_loss", "w2_ratio"),
    title: str | None = None,
    marks: Mapping[str, float | None] | None = None,
) -> Path:
    """Final quantities against ``k`` with phase bands, boundaries and bounds marked.

    ``marks`` are further labelled vertical lines (dotted), e.g. a proven value
    or a measured ``k_max``.
    """
    plt = _pyplot()
    panels = [p for p in panels if p in sweep.final]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.3 * len(panels) + 0.6), sharex=True, squeeze=False)
    k = np.asarray(sweep.k, dtype=float)
    phase = [str(p) for p in sweep.phase]
    for ax, name in zip(axes[:, 0], panels):
        vals = np.asarray(sweep.final[name], dtype=float)
        ok = np.isfinite(vals)
        if name in _LOG:
            ok &= vals > 0
        _phase_bands(ax, k, phase)
        ax.plot(k[ok], vals[ok], ".", ms=3, color="k")
        if name in _LOG and ok.any():
            ax.set_yscale("log")
        if name == "lam_eta":
            ax.plot(k, k, ":", color="0.5", lw=0.8, label=r"$\eta\lambda_0 = k$")
            ax.axhline(linear_stability_edge(), color="0.3", lw=0.8, ls="--")
        ax.set_ylabel(_LABELS.get(name, name))
        for bname, b in sweep.boundaries.items():
            if b is not None:
                ax.axvline(b, color="k", lw=1.0)
        for i, (bname, b) in enumerate(sweep.bounds.items()):
            if b is not None and np.isfinite(b):
                ax.axvline(b, color=f"C{i + 1}", lw=1.2, ls="--", label=f"bound: {bname} = {b:.3g}")
        for i, (mname, mv) in enumerate((marks or {}).items()):
            if mv is not None and np.isfinite(mv):
                ax.axvline(mv, color=f"C{i + 5}", lw=1.4, ls=":", label=f"{mname} = {mv:.3g}")
    for (bname, b) in sweep.boundaries.items():
        if b is not None:
            axes[0, 0].annotate(f"{bname}\n{b:.4g}", (b, 1.0), xycoords=("data", "axes fraction"),
                                fontsize=7, ha="center", va="bottom")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        axes[0, 0].legend(fontsize=7, loc="upper left")
    from matplotlib.patches import Patch

    present = [p for p in PHASE_COLORS if p in set(phase)]
    axes[-1, 0].legend(handles=[Patch(color=PHASE_COLORS[p], label=p) for p in present], fontsize=7,
                       loc="upper right", ncol=len(present))
    axes[-1, 0].set_xlabel(r"$k = \eta \lambda_0$")
    fig.suptitle(title or f"{sweep.model}: phases against k", y=0.995)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
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


def plot_trajectories(
    runs: Mapping[str, Mapping[str, np.ndarray]],
    path: str | Path,
    quantities: Sequence[str] = ("loss", "lam_eta", "w2_ratio"),
    title: str = "",
    references: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    reference_label: str = "exact map",
    log_steps: bool = False,
) -> Path:
    """Series against step for a few runs (label -> quantity -> series).

    ``references`` (same layout) are drawn dashed on top, e.g. the exact map
    beside GD. On logarithmic axes non-positive values (a loss that reached
    exactly 0) are not drawn. ``log_steps`` plots against ``step + 1`` on a
    logarithmic axis (for long runs whose catapult happens in the first steps).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.2), squeeze=False)
    for j, q in enumerate(quantities):
        ax = axes[0, j]
        log = q in ("loss", "train_loss", "test_loss")

        def draw(series: np.ndarray, **kw: Any) -> None:
            s = np.asarray(series, dtype=float)
            t = np.arange(len(s)) + (1 if log_steps else 0)
            ok = np.isfinite(s) & ((s > 0) if log else True)
            ax.plot(t[ok], s[ok], **kw)

        for i, (label, series) in enumerate(runs.items()):
            draw(series[q], color=f"C{i}", lw=1.2, label=label)
            if references and label in references:
                draw(references[label][q], color="k", lw=0.8, ls="--")
        if log:
            ax.set_yscale("log")
        if q == "lam_eta":
            ax.axhline(linear_stability_edge(), color="0.4", lw=0.8, ls=":")
        if log_steps:
            ax.set_xscale("log")
        ax.set_xlabel("step + 1" if log_steps else "step")
        ax.set_ylabel(_STEP_LABELS.get(q, q))
    axes[0, 0].legend(fontsize=7)
    if references:
        axes[0, -1].plot([], [], color="k", ls="--", lw=0.8, label=reference_label)
        axes[0, -1].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    _pyplot().close(fig)
    return path


def plot_final_lam(k: np.ndarray, finals: Mapping[int, np.ndarray], path: str | Path,
                   edge: float | None = None) -> Path:
    """Final ``eta lam`` against ``k``, one series per width (``finals``: width ->
    values), with the linear stability edge dotted."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for n, vals in finals.items():
        ax.plot(k, vals, ".", ms=2.5, label=f"n = {n}")
    ax.axhline(linear_stability_edge() if edge is None else edge, color="0.4", ls=":", lw=0.8)
    ax.set_xlabel(r"$k = \eta\lambda_0$")
    ax.set_ylabel(r"final $\eta\lambda_\infty$")
    ax.legend(fontsize=7)
    ax.set_title("catapult phase: where the NTK eigenvalue lands")
    fig.tight_layout()
    return _save(fig, path)


def plot_peak_scaling(peak: PeakScaling, path: str | Path) -> Path:
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


def uv_figures(res: UVResult, path: Callable[[str], Path]) -> dict[str, Path]:
    """The uv section's figures: trajectories, phases, final_lam, peak_scaling."""
    width = res.settings.width
    gd, ref = _run_series(res.runs)
    return {
        "trajectories": plot_trajectories(gd, path("uv_trajectories.png"), references=ref,
                                          title=f"uv, width {width}: GD (solid) and the exact map (dashed)"),
        "phases": plot_phase_diagram(res.sweep, path("uv_phases.png"),
                                     title=f"uv exact map, width {width}, y = {res.setup.y:g}"),
        "final_lam": plot_final_lam(res.final_k, res.final_lam_eta, path("uv_final_lam.png"), res.edge),
        "peak_scaling": plot_peak_scaling(res.peak, path("uv_peak_scaling.png")),
    }


def quadratic_figures(res: QuadraticResult, path: Callable[[str], Path]) -> dict[str, Path]:
    """The quadratic section's figures: toy_trajectories, toy_phases, teacher_student, bias_phases."""
    s = res.settings
    gd, ref = _run_series(res.toy_runs)
    mu = s.toy_mu.split(":")
    mu_text = f"U[{','.join(mu[1:])}]" if mu[0] == "uniform" else s.toy_mu
    return {
        "toy_trajectories": plot_trajectories(
            gd, path("pq_toy_trajectories.png"), references=ref, reference_label="exact spectral engine",
            title=f"pure quadratic, toy datum, rank {s.toy_rank}: GD (solid) and exact spectral engine (dashed)"),
        "toy_phases": plot_phase_diagram(
            res.toy_sweep, path("pq_toy_phases.png"), panels=("lam_eta", "w2_ratio", "peak_loss", "train_loss"),
            title=f"pure quadratic, toy datum, rank {s.toy_rank}, mu ~ {mu_text} (exact spectral engine)"),
        "teacher_student": plot_phase_diagram(
            res.ts_sweep, path("pq_teacher_student_phases.png"), panels=("lam_eta", "train_loss", "test_loss"),
            title=f"pure quadratic, {res.ts.data.B} teacher-student points (d = {res.ts.data.d}), rank {s.ts_rank}, "
                  f"g = {s.ts_activation}"),
        "bias_phases": plot_phase_diagram(
            res.bias_sweep, path("bias_toy_phases.png"), panels=("lam_eta", "w2_ratio", "train_loss"),
            title=f"quadratic model with bias, toy datum, {s.bias_features} features, rank {s.bias_rank}, mu = 1"),
    }


def two_layer_figures(res: TwoLayerResult, path: Callable[[str], Path]) -> dict[str, Path]:
    """The two-layer section's figures: leaky_phases, relu_phases and, with the
    digits, digits_phases and digits_trajectories."""
    s = res.settings
    figs = {
        "leaky_phases": plot_phase_diagram(
            res.leaky_sweep, path("tl_toy_leaky_phases.png"), panels=("lam_eta", "w2_ratio", "peak_loss", "sparsity"),
            title=f"two-layer leaky ReLU (a = {res.slope_text}), one datum x = 1, y = 0, width {s.width}"),
        "relu_phases": plot_phase_diagram(
            res.relu_sweep, path("tl_toy_relu_phases.png"), panels=("lam_eta", "w2_ratio", "sparsity"),
            title=f"two-layer ReLU, one datum x = 1, y = 0, width {s.width}"),
    }
    dg = res.digits
    if dg is not None:
        figs["digits_phases"] = plot_phase_diagram(
            dg.sweep, path("tl_digits_relu_phases.png"), panels=("lam_eta", "train_loss", "test_loss", "sparsity"),
            title=f"two-layer ReLU, width {s.width}, {dg.setup.data.B} digits (0 vs 1)",
            marks={"proven (uv/one-datum argument) k": res.k_uv, "measured k_max (largest converging)": dg.largest})
        figs["digits_trajectories"] = plot_trajectories(
            {f"k = {t.k:g} ({t.phase})": t.series for t in dg.trajectories}, path("tl_digits_trajectories.png"),
            quantities=("loss", "test_loss", "lam_eta", "sparsity"),
            title="two-layer ReLU on the digits: trajectories", log_steps=True)
    return figs
