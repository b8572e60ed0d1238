"""Result records shared by every model family, and their JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..engine import Trajectory

__all__ = ["RunResult", "PhaseSweep", "max_rel_dev", "series_dict", "jsonable"]


def _check_status(bounds: Mapping[str, float], status: Mapping[str, Mapping[str, Any]]) -> None:
    """Every reported bound carries a status (:mod:`._bound_status`), and only those."""
    if set(status) != set(bounds):
        raise ValueError(f"bound_status names {sorted(status)} do not match the bounds {sorted(bounds)}")


def max_rel_dev(a: Trajectory, b: Trajectory, names: Sequence[str] = ("loss", "lam", "w2")) -> float:
    """max over quantities of ``max_t |a − b| / max_t |b|`` over the common valid steps."""
    worst = 0.0
    for name in names:
        sa, sb = a.series(name), b.series(name)
        m = min(len(sa), len(sb))
        if m == 0:
            continue
        denom = float(np.max(np.abs(sb[:m])))
        dev = float(np.max(np.abs(sa[:m] - sb[:m])))
        worst = max(worst, dev / denom if denom > 0 else dev)
    return worst


def series_dict(traj: Trajectory, names: Sequence[str]) -> dict[str, list[float]]:
    """The valid part of each named series of a single run, as lists."""
    return {name: traj.series(name).tolist() for name in names}


def jsonable(value: Any) -> Any:
    """Convert NumPy scalars and arrays to plain JSON types; non-finite floats to ``None``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass(frozen=True)
class RunResult:
    """One training run and, where one exists, the exact reduced dynamics beside it."""

    model: str
    phase: str
    eta: float
    k: float
    lam0: float
    w2_0: float
    gd: Trajectory
    reference: Trajectory | None = None
    reference_name: str = "map"
    max_rel_dev: float | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    bounds: Mapping[str, float] = field(default_factory=dict)
    series: tuple[str, ...] = ("loss", "lam", "w2")
    #: per bound: ``{"rigorous", "hypotheses_hold", "why"}`` (:func:`.bound_status`)
    bound_status: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_status(self.bounds, self.bound_status)

    @property
    def diverged_at(self) -> int | None:
        """The step at which GD diverged, or ``None``."""
        s = int(self.gd.diverged_at)
        return s if s >= 0 else None

    def scaled_series(self) -> dict[str, Any]:
        """``k``, the phase and the GD series on the scales the study plots: the loss,
        ``eta*lam`` and ``w2/w2_0``."""
        gd = self.gd
        return {"k": self.k, "phase": self.phase, "loss": gd.series("loss"), "lam_eta": self.eta * gd.series("lam"),
                "w2_ratio": gd.series("w2") / self.w2_0}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (strict: no NaN; the contracts are in the documentation, docs/json.md)."""
        out: dict[str, Any] = {
            "model": self.model,
            "phase": self.phase,
            "eta": self.eta,
            "k": self.k,
            "lam0": self.lam0,
            "w2_0": self.w2_0,
            "diverged_at": self.diverged_at,
            "settings": dict(self.settings),
            "gd": series_dict(self.gd, [s for s in self.series if s in ("loss", "lam", "w2") or s in self.gd.extra]),
        }
        if self.reference is not None:
            out[self.reference_name] = series_dict(self.reference, ("loss", "lam", "w2"))
            out["max_rel_dev"] = self.max_rel_dev
        if self.bounds:
            out["bounds"] = dict(self.bounds)
            out["bound_status"] = {n: dict(v) for n, v in self.bound_status.items()}
        return jsonable(out)


@dataclass(frozen=True)
class PhaseSweep:
    """Phases on a grid of ``k = η lam_0`` with refined boundaries."""

    model: str
    k: np.ndarray
    phase: np.ndarray
    boundaries: Mapping[str, float | None]
    final: Mapping[str, np.ndarray]
    settings: Mapping[str, Any] = field(default_factory=dict)
    bounds: Mapping[str, float] = field(default_factory=dict)
    #: per bound: ``{"rigorous", "hypotheses_hold", "why"}`` (:func:`.bound_status`)
    bound_status: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_status(self.bounds, self.bound_status)

    def _repr_png_(self) -> bytes:
        """Jupyter: the phase diagram (:func:`catapult_theory.display.sweep_png`)."""
        from ..display_hooks import show

        return show("sweep_png", self)  # type: ignore[no-any-return]

    def _repr_html_(self) -> str:
        """Jupyter: boundaries, bounds and phases beside the phase diagram."""
        from ..display_hooks import show

        return show("sweep_html", self)  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (strict: no NaN; the contracts are in the documentation, docs/json.md)."""
        out = {
            "model": self.model,
            "k": self.k,
            "phase": [str(p) for p in self.phase],
            "boundaries": dict(self.boundaries),
            "boundary_details": dict(getattr(self.boundaries, "details", {})),
            "warnings": list(getattr(self.boundaries, "warnings", [])),
            "final": {k: v for k, v in self.final.items()},
            "settings": dict(self.settings),
        }
        if self.bounds:
            out["bounds"] = dict(self.bounds)
            out["bound_status"] = {n: dict(v) for n, v in self.bound_status.items()}
        return jsonable(out)
