"""A grid's output folder (:func:`write_outputs`: the table, ``grid.json``, the figures) and
its summary figures: one per pair of plotted axes (``k`` included).

The plotted axes are the SPEC's axes except ``seed`` (its spread becomes error
bars; a grid over seeds alone plots ``seed``). For an axis ``A``:

* ``A-k.png``: heat maps over (``k``, ``A``) of the phase and of the final
  ``η λ``, with each row's boundaries (``catapult_onset``, ``divergence``) marked
  at their mean over seeds with ±1 sd error bars; below, the two boundaries
  against ``A`` with the same error bars;

and for two axes ``A``, ``B``: ``A-B.png``, heat maps over (``B``, ``A``) of the
mean ``catapult_onset`` and ``divergence`` (annotated mean ± sd). Cells that
differ in any other axis are pooled (the mode of the phase, the mean of the
rest).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ._table import BOUNDARIES, SEED_AXIS, GridTable

__all__ = ["grid_figures", "plotted_axes", "write_outputs"]

_MARKS = {"catapult_onset": ("o", "k"), "divergence": ("s", "#8b0000"), "collapse": ("^", "#555555")}


def plotted_axes(table: GridTable) -> list[str]:
    """The axes that get a figure: every axis but ``seed`` (or ``seed``, when it is the only one)."""
    axes = [a for a in table.axes if a != SEED_AXIS]
    return axes or [a for a in table.axes if a == SEED_AXIS]


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _mean_sd(vals: Sequence[float]) -> tuple[float, float]:
    """Mean and sample sd of the finite values (NaN when there are none; sd 0 for one)."""
    ok = [v for v in vals if v is not None and math.isfinite(v)]
    if not ok:
        return math.nan, math.nan
    mean = math.fsum(ok) / len(ok)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in ok) / (len(ok) - 1)) if len(ok) > 1 else 0.0
    return mean, sd


def _groups(table: GridTable, axes: Sequence[str]) -> dict[tuple[Any, ...], list[str]]:
    """Cell keys grouped by their values of ``axes`` (every combination, SPEC order)."""
    out: dict[tuple[Any, ...], list[str]] = {c: [] for c in itertools.product(*(table.spec.axes[a] for a in axes))}
    for key in table.cells:
        ax = table.cell_axes[key]
        out[tuple(ax[a] for a in axes)].append(key)
    return out


def _boundary(table: GridTable, keys: Sequence[str], name: str) -> tuple[float, float]:
    vals = [table.records[k]["result"].get("boundaries", {}).get(name) for k in keys]
    return _mean_sd([float(v) for v in vals if v is not None])


def _edges(x: np.ndarray) -> np.ndarray:
    if len(x) == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    mid = 0.5 * (x[1:] + x[:-1])
    return np.concatenate([[2 * x[0] - mid[0]], mid, [2 * x[-1] - mid[-1]]])


def _axis_k(table: GridTable, axis: str, path: Path) -> Path:
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    from ..report import PHASE_COLORS
    from ..report import pyplot as _pyplot

    plt = _pyplot()
    values = list(table.spec.axes[axis])
    groups = _groups(table, [axis])
    k = np.asarray(table.records[table.cells[0]]["result"]["k"], dtype=float)
    phases = list(PHASE_COLORS)
    code = np.zeros((len(values), len(k)))
    lam_eta = np.full((len(values), len(k)), np.nan)
    for i, v in enumerate(values):
        res = [table.records[key]["result"] for key in groups[(v,)]]
        for j in range(len(k)):
            ph = Counter(str(r["phase"][j]) for r in res).most_common(1)[0][0]
            code[i, j] = phases.index(ph) if ph in phases else phases.index("unresolved")
            le = [r.get("final", {}).get("lam_eta", [None] * len(k))[j] for r in res]
            lam_eta[i, j] = _mean_sd([float(x) for x in le if x is not None])[0]
    bnames = [n for n in table.columns if n in BOUNDARIES or n == "collapse"]
    stats = {n: [_boundary(table, groups[(v,)], n) for v in values] for n in bnames}
    fig, axs = plt.subplots(2, 2, figsize=(11, 7.5))
    xe, ye = _edges(k), np.arange(len(values) + 1) - 0.5
    cmap = ListedColormap([PHASE_COLORS[p] for p in phases])
    axs[0, 0].pcolormesh(xe, ye, code, cmap=cmap, norm=BoundaryNorm(np.arange(len(phases) + 1) - 0.5, len(phases)))
    masked = np.ma.masked_invalid(lam_eta)
    axs[0, 1].set_facecolor("#f0f0f0")
    mesh = axs[0, 1].pcolormesh(xe, ye, masked, cmap="viridis")
    fig.colorbar(mesh, ax=axs[0, 1], label=r"final $\eta\lambda$ (mean; grey: diverged)")
    rows = np.arange(len(values))
    for ax in axs[0]:
        for n in bnames:
            m = np.array([s[0] for s in stats[n]])
            sd = np.array([s[1] for s in stats[n]])
            ok = np.isfinite(m)
            mk, col = _MARKS.get(n, ("d", "C3"))
            ax.errorbar(m[ok], rows[ok], xerr=sd[ok], fmt=mk, color=col, ms=4, capsize=3, lw=1, label=n)
        ax.set_yticks(rows, [f"{v:g}" if isinstance(v, float) else str(v) for v in values])
        ax.set_ylabel(axis)
        ax.set_xlabel(r"$k = \eta\lambda_0$")
    present = sorted({int(c) for c in code.ravel()})
    handles = [Patch(color=PHASE_COLORS[phases[c]], label=phases[c]) for c in present]
    axs[0, 0].legend(handles=handles + axs[0, 0].get_legend_handles_labels()[0], fontsize=7, loc="upper left")
    axs[0, 0].set_title("phase (mode over pooled cells)", fontsize=9)
    axs[0, 1].set_title(r"final $\eta\lambda$", fontsize=9)
    numeric = _numeric(values)
    xs = np.asarray(values, dtype=float) if numeric else rows.astype(float)
    pooled = len(table.cells) // max(len(values), 1)
    for ax, n in zip(axs[1], bnames[:2]):
        m = np.array([s[0] for s in stats[n]])
        sd = np.array([s[1] for s in stats[n]])
        ok = np.isfinite(m)
        mk, col = _MARKS.get(n, ("d", "C3"))
        ax.errorbar(xs[ok], m[ok], yerr=sd[ok], fmt=mk + "-", color=col, ms=4, capsize=3, lw=1)
        ax.set_ylabel(n)
        ax.set_xlabel(axis)
        if numeric and len(xs) > 1 and xs.min() > 0 and xs.max() / xs.min() >= 20:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(rows, [str(v) for v in values])
        ax.set_title(f"{n}: mean ± sd over {pooled} cell{'s' if pooled != 1 else ''} per {axis}", fontsize=9)
    fig.suptitle(f"{table.spec.model} grid: phases over ({axis}, k)")
    fig.tight_layout()
    return _save(plt, fig, path)


def _pair(table: GridTable, a: str, b: str, path: Path) -> Path:
    from ..report import pyplot as _pyplot

    plt = _pyplot()
    va, vb = list(table.spec.axes[a]), list(table.spec.axes[b])
    groups = _groups(table, [a, b])
    fig, axs = plt.subplots(1, 2, figsize=(11, 0.5 * len(va) + 3.5), squeeze=False)
    for ax, n in zip(axs[0], BOUNDARIES):
        mean = np.full((len(va), len(vb)), np.nan)
        sd = np.full_like(mean, np.nan)
        for i, x in enumerate(va):
            for j, y in enumerate(vb):
                mean[i, j], sd[i, j] = _boundary(table, groups[(x, y)], n)
        mesh = ax.pcolormesh(np.arange(len(vb) + 1) - 0.5, np.arange(len(va) + 1) - 0.5,
                             np.ma.masked_invalid(mean), cmap="magma")
        ax.set_facecolor("#f0f0f0")
        fig.colorbar(mesh, ax=ax, label=f"{n} (mean)")
        for i in range(len(va)):
            for j in range(len(vb)):
                if math.isfinite(mean[i, j]):
                    spread = f"\n±{sd[i, j]:.2g}" if len(groups[(va[i], vb[j])]) > 1 else ""
                    ax.text(j, i, f"{mean[i, j]:.4g}{spread}", ha="center", va="center", fontsize=7,
                            color="w" if mean[i, j] < np.nanmean(mean) else "k")
        ax.set_xticks(range(len(vb)), [str(v) for v in vb])
        ax.set_yticks(range(len(va)), [str(v) for v in va])
        ax.set_xlabel(b)
        ax.set_ylabel(a)
        ax.set_title(n, fontsize=9)
    fig.suptitle(f"{table.spec.model} grid: boundaries over ({a}, {b})")
    fig.tight_layout()
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> Path:
    """Save atomically (never a half-written figure) and close the figure."""
    from ..files import save_figure

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)


def grid_figures(table: GridTable, folder: Path) -> dict[str, Path]:
    """Draw the summary figures into ``folder``: name (``A-k``, ``A-B``) -> written path."""
    folder = Path(folder)
    axes = plotted_axes(table)
    out: dict[str, Path] = {}
    for a in axes:
        out[f"{a}-k"] = _axis_k(table, a, folder / f"{a}-k.png")
    for a, b in itertools.combinations(axes, 2):
        out[f"{a}-{b}"] = _pair(table, a, b, folder / f"{a}-{b}.png")
    return out


def write_outputs(table: GridTable, out: Path, figures: bool = True) -> GridTable:
    """Write ``table.csv``, ``grid.json`` (the normalised SPEC, the cells, the
    columns) and, with ``figures``, the summary figures into ``out``; returns the
    table with ``out`` and ``files`` set."""
    from ..files import write_atomic

    out = Path(out)
    files: dict[str, Path] = {"table": write_atomic(out / "table.csv", table.to_csv())}
    if figures:
        for name, path in grid_figures(table, out / "figures").items():
            files[f"figure:{name}"] = path
    info = {
        "spec": table.spec.to_dict(),
        "source": table.spec.source,
        "columns": list(table.columns),
        "rows": len(table.rows),
        "cells": [{"cell": key[:16], "key": key, "axes": dict(table.cell_axes[key]),
                   "file": f"cells/{key[:16]}.json"} for key in table.cells],
        "figures": {n.split(":", 1)[1]: str(p.relative_to(out)) for n, p in files.items() if n.startswith("figure:")},
    }
    files["grid"] = write_atomic(out / "grid.json", json.dumps(info, indent=1, allow_nan=False) + "\n")
    return replace(table, out=out, files=files)
