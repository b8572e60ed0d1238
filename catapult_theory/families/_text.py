"""The text form of results, the same in every family: numbers, phase runs, bounds, boundaries."""

from __future__ import annotations

import math
import sys
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["bound_lines", "bound_marker", "boundary_text", "fmt", "island_text", "phase_segments", "progress"]


def fmt(x: Any, digits: int = 6) -> str:
    """A number for text output (``-`` for ``None`` and non-finite values)."""
    if x is None:
        return "-"
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            return "-"
        return f"{float(x):.{digits}g}"
    return str(x)


def phase_segments(k: np.ndarray, phase: Sequence[str] | np.ndarray) -> list[tuple[float, float, str, int]]:
    """Runs of equal phase along the grid: ``(k_first, k_last, phase, count)``."""
    out = []
    start = 0
    for i in range(1, len(k) + 1):
        if i == len(k) or phase[i] != phase[start]:
            out.append((float(k[start]), float(k[i - 1]), str(phase[start]), i - start))
            start = i
    return out


def bound_marker(status: Any) -> str:
    """The text form of one bound's status (``{"rigorous", "theorem", "hypotheses_hold", "why"}``)."""
    if not status["rigorous"]:
        return f"[{status['why']}]"  # "heuristic, not a bound: ..." or "not rigorous: ..."
    holds = "hypotheses hold" if status["hypotheses_hold"] else "hypotheses do NOT hold here"
    return f"[rigorous; {holds}: {status['why']}]"


def bound_lines(bounds: Any, status: Any, extra: Callable[[str, float], str] | None = None) -> list[str]:
    """One line per bound: ``name: k < k_max`` (then ``extra(name, k_max)``) and its marker."""
    return [f"  {name}: k < {fmt(v)}{extra(name, v) if extra else ''}  {bound_marker(status[name])}"
            for name, v in bounds.items()]


def boundary_text(boundaries: Any, how: str = "bisection") -> list[str]:
    """The boundaries line (a number only where known: refined to its tolerance or at grid
    resolution; otherwise the interval with its flag), the convergent islands above the first
    divergence (when the sweep has ``largest_convergent``), then one ``warning:`` line each."""
    details = getattr(boundaries, "details", {})
    parts = []
    for name, value in boundaries.items():
        d = details.get(name, {})
        status, (lo, hi) = d.get("status"), d.get("interval", (None, None))
        last = name == "largest_convergent"
        if status == "unconverged":
            parts.append(f"{name} in [{fmt(lo)}, {fmt(hi)}] (NOT converged)")
        elif status == "below_grid":
            parts.append(f"{name}: no run on the grid converges" if last
                         else f"{name} <= {fmt(hi)} (already at the first grid point)")
        elif status == "not_found":
            parts.append(f"{name} >= {fmt(lo)} (the last grid point converges)" if last
                         else f"{name} not on the grid (> {fmt(lo)} or absent)")
        else:
            parts.append(f"{name} = {fmt(value)}")
    lines = [f"boundaries ({how}): " + ", ".join(parts)]
    if "largest_convergent" in details:
        lines.append(island_text(details["largest_convergent"].get("islands", [])))
    return lines + [f"warning: {w}" for w in getattr(boundaries, "warnings", [])]


def island_text(islands: Sequence[Any]) -> str:
    """One line: the convergent islands above the first divergence (grid points), or none."""
    if not islands:
        return "convergent islands above the first divergence: none"

    def one(isl: Any) -> str:
        lo, hi = isl["interval"]
        where = f"k = {fmt(lo, 4)}" if lo == hi else f"k in [{fmt(lo, 4)}, {fmt(hi, 4)}]"
        n = len(isl["k"])
        return f"{where} ({', '.join(dict.fromkeys(isl['phases']))}; {n} point{'' if n == 1 else 's'})"

    return "convergent islands above the first divergence: " + "; ".join(one(i) for i in islands)


def progress(message: str) -> None:
    """Progress line on stderr (only when stderr is a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r" + message[:120].ljust(120))
        sys.stderr.flush()
