"""What the two- and three-layer net families share: the model parameters (``--width``,
``--slope``, ``--data``, ``--data-dir``, ``--seed``), and ``run`` and ``phases`` around the
family's own experiment functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._family import ModelFamily, Outcome, PlotRequest
from ..data import DATA_HELP
from ._params import (KGrid, data_spec, no_refine_param, nonneg_int, param, positive_float, positive_int,
                      unit_interval)
from ._text import bound_lines, boundary_text, fmt, phase_segments, progress

__all__ = ["NetFamily", "NetPhases", "NetRun"]


@dataclass(frozen=True, kw_only=True)
class _NetModel:
    width: int = param(help="width n", type=positive_int)
    slope: float = param(help="negative-side slope a in [0, 1] (0: ReLU, 1: linear)", type=unit_interval,
                         metavar="A")
    data: str = param("toy", help=DATA_HELP, type=data_spec, metavar="SPEC")
    data_dir: str | None = param(None, help="folder holding mnist/, fashion-mnist/ and cifar-10-batches-py/ "
                                            "(default: $CATAPULT_DATA_DIR)", metavar="DIR")
    seed: int = param(0, help="seed of init and training subset (default 0)", type=nonneg_int)


@dataclass(frozen=True, kw_only=True)
class NetRun(_NetModel):
    """``catapult run``: full-batch GD at one ``k``."""

    eta_lambda: float = param(help="k = eta * lam0", type=positive_float, metavar="K")
    steps: int = param(help="GD step budget", type=positive_int)
    tol: float | None = param(None, help="stop when the loss changes by less than this in one step (default: run "
                                         "all steps)", type=positive_float)


@dataclass(frozen=True, kw_only=True)
class NetPhases(_NetModel):
    """``catapult phases``: GD batched over the ``k`` grid."""

    steps: int = param(3000, help="GD step budget per k (default 3000)", type=positive_int)
    tol: float = param(1e-8, help="stop a run when its loss changes by less than this (default 1e-8)",
                       type=positive_float)
    no_refine: bool = no_refine_param()


class NetFamily(ModelFamily):
    """The shared ``run`` and ``phases`` of a leaky-ReLU net family. A subclass sets
    :attr:`sparsity` and implements :meth:`setup`, :meth:`_run` and :meth:`_sweep` (and
    :meth:`memory`)."""

    Run: type = NetRun
    Phases: type = NetPhases
    #: the sparsity series of the family's runs and their labels (``None``: the only one)
    sparsity: tuple[tuple[str, str | None], ...] = (("sparsity", None),)

    # ------------------------------------------------------------- hooks
    def setup(self, params: Any) -> Any:
        """The net, its data and its initial state."""
        raise NotImplementedError

    def _run(self, setup: Any, params: Any) -> Any:
        """The family's ``RunResult`` at ``params.eta_lambda``."""
        raise NotImplementedError

    def _sweep(self, setup: Any, k: Any, params: Any) -> Any:
        """The family's ``PhaseSweep`` on the grid ``k``."""
        raise NotImplementedError

    def _plotted(self, sweep: Any) -> Any:
        """The sweep as the phase diagram shows it (all of it by default)."""
        return sweep

    def _describe(self, setup: Any) -> str:
        st = setup.settings
        return (f"{self.name}: width {st['width']}, slope a = {fmt(st['slope'])}, data {st['data']} "
                f"(B = {st['B']}, d = {st['d']}, test {st['test_size']}), seed {st['seed']}")

    # ------------------------------------------------------------- run
    def run(self, params: Any) -> Outcome:
        """Full-batch GD at ``k``."""
        setup = self.setup(params)
        res = self._run(setup, params)
        gd, st = res.gd, res.settings
        names = [name for name, _ in self.sparsity]
        start = ", ".join(fmt(float(gd.extra[name][0])) for name in names)
        final = ", ".join(fmt(float(gd.final(name))) for name in names)
        if len(names) == 1:
            sparsity = f"sparsity: start {start}, final {final}"
        else:
            sparsity = f"sparsity ({', '.join(str(label) for _, label in self.sparsity)}): start {start}; final {final}"
        lines = [
            self._describe(setup),
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}",
            f"phase: {res.phase}   (stopped at step {st['stopped_at']}: {st['stop_reason']})",
            f"loss: start {fmt(float(gd.loss[0]))}, peak {fmt(float(gd.peak_loss()))}, final {fmt(float(gd.final('loss')))}",
            f"final eta*lam {fmt(float(res.eta * gd.final('lam')))}, final w2/w2_0 {fmt(float(gd.final('w2') / res.w2_0))}",
            sparsity,
        ]
        if "test_loss" in gd.extra:
            lines.append(f"final test loss {fmt(float(gd.final('test_loss')))}")
        if res.diverged_at is not None:
            lines.append(f"diverged at step {res.diverged_at}")
        lines.append("predicted k_max (bounds):")
        lines += bound_lines(res.bounds, res.bound_status)
        return Outcome(res.to_dict(), "\n".join(lines))

    # ------------------------------------------------------------- phases
    def phases(self, params: Any, k: KGrid) -> Outcome:
        """Phases, sparsity and boundaries against ``k``."""
        a = params
        ks = k.values()
        setup = self.setup(a)
        progress(f"{self.name}: GD for {k.num} learning rates, up to {a.steps} steps ...")
        sweep = self._sweep(setup, ks, a)
        progress("")
        payload = sweep.to_dict()
        payload["final"].setdefault("test_loss", [None] * len(ks))
        lines = [
            self._describe(setup),
            f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}; k from {fmt(k.min)} to {fmt(k.max)} "
            f"({k.num} points), up to {a.steps} steps, tol {fmt(a.tol)}",
            *boundary_text(sweep.boundaries, "grid resolution" if a.no_refine else "bisection"),
            "predicted k_max (bounds):",
            *bound_lines(sweep.bounds, sweep.bound_status),
            "phases along k:",
        ]
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        for name, label in self.sparsity:
            sp_ = np.asarray(sweep.final[name], dtype=float)
            ok = np.isfinite(sp_)
            if ok.any():
                head = "final sparsity" + ("" if label is None else f", {label}")
                lines.append(f"{head}: {fmt(sp_[ok][0])} at k = {fmt(ks[ok][0])} .. {fmt(sp_[ok][-1])} at "
                             f"k = {fmt(ks[ok][-1])}")
        return Outcome(payload, "\n".join(lines), PlotRequest(
            self._plotted(sweep), self._describe(setup), ("lam_eta", "w2_ratio", "train_loss", "test_loss",
                                                          "sparsity")))
