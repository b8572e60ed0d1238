"""Figures: phase diagrams against k and trajectories against step.

matplotlib is imported lazily (Agg backend), so the rest of the package starts
fast and works without a display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..engine import linear_stability_edge
from ..experiments._results import PhaseSweep

__all__ = ["plot_phase_diagram", "plot_trajectories", "PHASE_COLORS"]

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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _phase_bands(ax, k: np.ndarray, phase: Sequence[str]) -> None:
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

        def draw(series, **kw):
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
