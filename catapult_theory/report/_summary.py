"""The summary at the top of the report: one row per experiment of THEORY §7 and per
claim of THEORY §6, each with what was asked, what was run and what came out.

A section contributes its rows as data (:class:`SummaryRow`, :class:`ClaimRow`: numbers,
never formatted text); :func:`render_summary` writes the two tables, and the same rows go
to ``results.json`` keyed by the row id. :func:`status_label` is the one short form of a
bound's status used in every table and figure legend: ``rigorous: THEOREM``,
``hypotheses fail here: THEOREM`` or ``heuristic``; only a rigorous bound whose hypotheses hold is
called a bound, every other value is a reference line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ._markdown import fmt_num as _g
from ._markdown import cell, figure_stem, md_table

__all__ = ["ROWS", "CLAIMS", "SummaryRow", "ClaimRow", "BoundEntry", "status_label", "is_bound", "bound_entries",
           "convergent", "sweep_row", "render_summary", "fig_ref", "CONVERGING"]

#: THEORY §7, as asked: row id -> (model, data, settings, k grid)
ROWS: dict[str, tuple[str, str, str, str]] = {
    "1": ("pure quadratic", "x = 1, y = 0", "rank 1000, μ ~ U[1,2]", "0.1–4"),
    "2": ("two-layer leaky, a = 1/2", "x = 1, y = 0", "width 1024", "0.1–6"),
    "3": ("two-layer ReLU", "two-class images, 128 train, ±1 labels",
          "width 1024, full batch, stop at Δloss < 1e-8", "0.5–12"),
    "4": ("pure quadratic", "32 random points, d = 2, x ~ U[−1/2, 1/2], y ~ N(0,1)", "rank 500, μ ~ U[0.9, 1.1]",
          "0.1–4"),
    "5": ("pure quadratic, teacher–student, g = tanh", "32 train / 1000 test", "rank 500, 100 features masked",
          "0.1–4"),
    "6": ("quadratic with bias", "x = 1, y = 0", "10 features, rank 100, μ = 1", "0.1–4"),
    "7": ("bias model, teacher–student, tanh", "x ~ U[−1,1], 32 / 2000",
          "20 features (10 masked), rank 200 (50 masked)", "0.1–4"),
    "8": ("two-layer leaky, a = 3/4", "x = 1, y = 0", "width 1024", "0.1–6"),
    "9": ("two-layer leaky, a = 1/2", "32 random 1-d points, 50 test", "width 1024", "0.1–6"),
    "10": ("two-layer ReLU", "x = 4, y = 2", "width 1024", "0.1–4.5"),
    **{str(i): ("two-layer ReLU, sparsity", "two-class image subset", "width 1024", "0.5–12") for i in (11, 12, 13)},
    **{str(i): ("three-layer ReLU MLP, sparsity", "two-class image subset", "width 1024", "0.5–12")
       for i in (14, 15, 16)},
}

#: THEORY §6, the claims beyond the theory: claim id -> what is claimed
CLAIMS: dict[str, str] = {
    "divergence-shift": "uv map, y ≠ 0, finite width: the divergence threshold moves below 4 by O(y²/n)",
    "final-lam": "the final ηλ∞ after a catapult is a jagged function of k and n; near ηλ∞ = 2 convergence is slow",
    "relu-beyond-4": "two-layer ReLU nets on real data catapult well beyond k = 4; activation sparsity grows with k",
    "leaky-not-tight": "leaky ReLU (a = 1/2, width 1024, x = 1, y = 0) converges at k = 3.64 while its bound is ≈ 2.5",
    "peak-time": "the step of the loss peak grows like log n at fixed k; the peak loss grows with n",
    "peak-height": "the peak loss grows like n (not n/log n): width-free map in s, u; s* ≈ (k − 2)²/2 near k = 2",
    "relu-one-datum": "ReLU, one datum: no divergence below k = 4; at large k the net can collapse (f ≡ 0)",
}

#: phases of a run that converges
CONVERGING = ("lazy", "catapult")


def status_label(st: Mapping[str, Any]) -> str:
    """The short status of a bound (:func:`catapult_theory.experiments.bound_status`):
    ``rigorous: THEOREM`` when a theorem proves it and its hypotheses hold here,
    ``hypotheses fail here: THEOREM`` when a theorem proves it for other data, else ``heuristic``
    (no theorem proves it: a reference value, not a bound)."""
    if not st.get("rigorous"):
        return "heuristic"
    if not st.get("hypotheses_hold"):
        return f"hypotheses fail here: {st.get('theorem')}"
    return f"rigorous: {st.get('theorem')}"


def is_bound(st: Mapping[str, Any]) -> bool:
    """A value is called a bound only when a theorem proves it and its hypotheses hold here."""
    return bool(st.get("rigorous")) and bool(st.get("hypotheses_hold"))


@dataclass(frozen=True)
class BoundEntry:
    """One bound of a row: its value, status and its ratio to the measured first divergence."""

    name: str
    value: float | None
    rigorous: bool
    theorem: str | None
    hypotheses_hold: bool
    status: str
    ratio: float | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"name": self.name, "value": self.value, "rigorous": self.rigorous, "theorem": self.theorem,
                "hypotheses_hold": self.hypotheses_hold, "status": self.status, "ratio_to_divergence": self.ratio}


def bound_entries(bounds: Mapping[str, float], status: Mapping[str, Mapping[str, Any]],
                  divergence: float | None) -> list[BoundEntry]:
    """Every bound with its status and ``bound / divergence`` (``None`` without a divergence)."""
    out = []
    for name, v in bounds.items():
        st = status.get(name, {})
        val = float(v) if v is not None and np.isfinite(v) else None
        ratio = val / divergence if val is not None and divergence else None
        out.append(BoundEntry(name, val, bool(st.get("rigorous")), st.get("theorem"), bool(st.get("hypotheses_hold")),
                              status_label(st), ratio))
    return out


def convergent(sweep: Any) -> tuple[float | None, list[dict[str, Any]]]:
    """The largest convergent ``k`` and the convergent islands above the first divergence.

    Read from the sweep's ``largest_convergent`` boundary and its details' ``islands``
    where the sweep has them; otherwise from the grid: the largest grid ``k`` that
    converges, and the runs of converging grid points above the first divergent one."""
    b = sweep.boundaries
    details = getattr(b, "details", {}) or {}
    if "largest_convergent" in b:
        own = [dict(i) for i in (details.get("largest_convergent", {}) or {}).get("islands", []) or []]
        value = b["largest_convergent"]
        return (None if value is None else float(value)), own
    k = np.asarray(sweep.k, dtype=float)
    phase = np.asarray([str(p) for p in sweep.phase])
    conv = np.isin(phase, CONVERGING)
    largest = float(k[conv].max()) if conv.any() else None
    div = np.flatnonzero(phase == "divergent")
    islands: list[dict[str, Any]] = []
    if div.size:
        i, n = int(div[0]) + 1, len(k)
        while i < n:
            if conv[i]:
                j = i
                while j + 1 < n and conv[j + 1]:
                    j += 1
                islands.append({"interval": [float(k[i]), float(k[j])], "k": [float(v) for v in k[i:j + 1]],
                                "phases": [str(p) for p in phase[i:j + 1]]})
                i = j + 1
            else:
                i += 1
    return largest, islands


def bounds_text(sweep: Any, digits: int = 5) -> str:
    """Every value of k_max a sweep carries, with its status: a bound only when rigorous
    with its hypotheses holding (otherwise a reference value)."""
    return ", ".join(f"`{n}` = {_g(v, digits)} ({status_label(sweep.bound_status[n])})"
                     for n, v in sweep.bounds.items())


def convergence_text(sweep: Any) -> str:
    """The largest convergent ``k`` and the convergent islands above the first divergence, in words."""
    largest, islands = convergent(sweep)
    isl = islands_text(islands)
    return (f"largest convergent k **{_g(largest, 5)}**"
            + (f" (GD converges again above its first divergence at k = {isl})" if isl else ""))


def islands_text(islands: Sequence[Mapping[str, Any]]) -> str:
    """``k ∈ [a, b] (n runs), ...`` (empty for none)."""
    parts = []
    for isl in islands:
        lo, hi = isl["interval"]
        n = len(isl.get("k", []))
        parts.append((f"{_g(lo, 4)}" if lo == hi else f"[{_g(lo, 4)}, {_g(hi, 4)}]") + (f" ({n} runs)" if n > 1 else ""))
    return ", ".join(parts)


@dataclass(frozen=True)
class SummaryRow:
    """One row of THEORY §7 as run: what was used, what was measured, the bounds and figures."""

    row: str
    section: str
    used: str
    onset: float | None
    divergence: float | None
    largest_convergent: float | None
    islands: tuple[Mapping[str, Any], ...] = ()
    bounds: tuple[BoundEntry, ...] = ()
    figures: tuple[str, ...] = ()
    note: str = ""
    #: how each boundary is known (``refined``, ``grid``, ...)
    onset_status: str = ""
    divergence_status: str = ""
    extra: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (numbers as numbers)."""
        model, data, settings, grid = ROWS[self.row]
        return {"row": self.row, "section": self.section, "asked": {"model": model, "data": data,
                                                                     "settings": settings, "k": grid},
                "used": self.used, "note": self.note, "catapult_onset": self.onset,
                "catapult_onset_status": self.onset_status, "divergence": self.divergence,
                "divergence_status": self.divergence_status, "largest_convergent": self.largest_convergent,
                "islands": [dict(i) for i in self.islands], "bounds": [b.to_dict() for b in self.bounds],
                "figures": list(self.figures), **{k: v for k, v in self.extra.items()}}


@dataclass(frozen=True)
class ClaimRow:
    """One claim of THEORY §6: what was run, what came out (numbers by name), the theorem
    that covers it (if any) and the figures."""

    claim: str
    section: str
    used: str
    measured: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    theorem: str | None = None
    figures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"claim": self.claim, "asked": CLAIMS[self.claim], "section": self.section, "used": self.used,
                "measured": self.measured, "theorem": self.theorem, "numbers": dict(self.numbers),
                "figures": list(self.figures)}


def _status_of(sweep: Any, name: str) -> str:
    d = (getattr(sweep.boundaries, "details", {}) or {}).get(name, {})
    return str(d.get("status", "")) if d else ""


def sweep_row(row: str, section: str, sweep: Any, used: str, figures: Sequence[str] = (), note: str = "",
              extra: Mapping[str, float | None] | None = None) -> SummaryRow:
    """The summary row of a phase sweep (boundaries, convergent islands, bounds with status)."""
    b = sweep.boundaries
    onset, div = b.get("catapult_onset"), b.get("divergence")
    largest, islands = convergent(sweep)
    return SummaryRow(row, section, used, None if onset is None else float(onset), None if div is None else float(div),
                      largest, tuple(islands), tuple(bound_entries(sweep.bounds, sweep.bound_status, div)),
                      tuple(figures), note, _status_of(sweep, "catapult_onset"), _status_of(sweep, "divergence"),
                      dict(extra or {}))


def fig_ref(stem: str) -> str:
    """A link to a figure by its file stem; numbered when the report is assembled."""
    return f"[Fig. {{fig:{stem}}}](#fig-{stem})"


def _boundary(value: float | None, status: str) -> str:
    if value is None:
        return "none on the grid" if status in ("not_found", "") else status.replace("_", " ")
    return _g(value, 4) + (" (grid)" if status == "grid" else "")


def _bounds_cell(bounds: Sequence[BoundEntry]) -> str:
    if not bounds:
        return "none"
    return "; ".join(f"`{b.name}` = {_g(b.value, 4)}, {b.status}"
                     + (f", ratio {_g(b.ratio, 3)}" if b.ratio is not None else "") for b in bounds)


def render_summary(rows: Mapping[str, SummaryRow], claims: Mapping[str, ClaimRow]) -> str:
    """The two summary tables (every THEORY §7 row and §6 claim, ``not run`` where no
    section of this report ran it)."""
    body = []
    for rid, (model, data, settings, grid) in ROWS.items():
        r = rows.get(rid)
        asked = f"{model}; {data}; {settings}; k {grid}"
        if r is None:
            body.append([rid, asked, "not run in this report", "-", "-", "-", "-", "-"])
            continue
        isl = islands_text(r.islands)
        largest = _g(r.largest_convergent, 4) + (f"; converges again above the first divergence at {isl}"
                                                 if isl else "")
        used = r.used + (f" ({r.note})" if r.note else "")
        body.append([rid, asked, used, _boundary(r.onset, r.onset_status), _boundary(r.divergence, r.divergence_status),
                     largest, _bounds_cell(r.bounds), ", ".join(fig_ref(figure_stem(f)) for f in r.figures) or "-"])
    table = md_table(["§7 row", "asked (model; data; settings; k grid)", "used", "catapult onset",
                      "first divergence", "largest convergent k", "bounds: value, status, bound / first divergence",
                      "figures"], [[cell(c) for c in row] for row in body])
    cbody = []
    for cid, text in CLAIMS.items():
        c = claims.get(cid)
        if c is None:
            cbody.append([cid, text, "not run in this report", "-", "-", "-"])
            continue
        cbody.append([cid, text, c.used, c.measured, f"`{c.theorem}`" if c.theorem else "none (measured only)",
                      ", ".join(fig_ref(figure_stem(f)) for f in c.figures) or "-"])
    ctable = md_table(["§6 claim", "asked", "used", "measured", "theorem", "figures"],
                      [[cell(x) for x in row] for row in cbody])
    return "\n".join([
        "## Summary", "",
        ("One row per experiment of THEORY §7. Boundaries are in k = ηλ₀, refined by bisection unless marked "
         "(grid); \"largest convergent k\" is the largest k of the grid whose run converged, with the convergent "
         "islands above the first divergence (a boundary that is not monotone in k). Every bound carries its "
         "status: rigorous (the theorem of `catapult prove` that proves it, hypotheses holding here), "
         "hypotheses fail here (a theorem proves it for other data), or heuristic (no theorem: a reference "
         "value, not a bound); the ratio is bound / first divergence (1 = tight, < 1 = below it)."), "",
        table, "",
        "One row per claim of THEORY §6 (what is known to happen beyond the theory):", "",
        ctable, "",
    ])
