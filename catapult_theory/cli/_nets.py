"""What the CLI faces of the two- and three-layer nets share: the ``--data`` / ``--data-dir``
arguments (toy, digits01 and two-class image specs), the model arguments, and the
``run`` and ``phases`` commands around the family's own experiment functions."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidInput
from ._common import (
    Family,
    add_k_grid,
    add_no_refine,
    bound_lines,
    boundary_text,
    fmt,
    k_grid,
    nonneg_int,
    phase_segments,
    plot_path,
    positive_float,
    positive_int,
    progress,
    unit_interval,
    write_output,
)

__all__ = ["NetFamily", "add_data_args", "data_shape", "data_spec"]

_DATA_HELP = ("toy (x = 1, y = 0), digits01 (8x8 digits 0 vs 1), or two image classes: digits:A:B, mnist:A:B, "
              "fmnist:A:B, cifar10:A:B (index or name), optionally :SIDE, the pixels per side after average "
              "pooling (default toy)")


def data_spec(text: str) -> str:
    """Argument type: ``toy``, ``digits01`` or an image spec (checked when parsed)."""
    from ..experiments import is_image_spec, parse_image_spec

    if text in ("toy", "digits01"):
        return text
    if not is_image_spec(text):
        raise argparse.ArgumentTypeError(f"expected toy, digits01 or an image spec such as digits:3:8, got {text!r}")
    try:
        parse_image_spec(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_data_args(p: argparse.ArgumentParser) -> None:
    """``--data`` and ``--data-dir`` (MNIST, Fashion-MNIST and CIFAR-10 are read from there)."""
    p.add_argument("--data", type=data_spec, default="toy", metavar="SPEC", help=_DATA_HELP)
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding mnist/, fashion-mnist/ and cifar-10-batches-py/ "
                        "(default: $CATAPULT_DATA_DIR)")


def data_shape(spec: str, train_size: int = 128) -> tuple[int, int, int]:
    """``(B, d, B_test)`` of a data spec, without loading it (an upper bound for ``B_test``)."""
    from ..experiments import is_image_spec, parse_image_spec

    if spec == "toy":
        return 1, 1, 0
    if spec == "digits01":
        return train_size, 64, 360 - train_size
    if is_image_spec(spec):
        sp_ = parse_image_spec(spec)
        return train_size, sp_.d, (400 - train_size if sp_.source == "digits" else 1000)
    return train_size, 64, 1000


class NetFamily(Family):
    """The shared CLI of a leaky-ReLU net family (``--width``, ``--slope``, ``--data``,
    ``--data-dir``, ``--seed``). A subclass sets the class attributes below and
    implements ``_setup``, ``_run`` and ``_sweep`` (and ``memory``, ``derive``)."""

    #: help of ``--width``
    width_help = "width n"
    #: default of ``--slope`` (``None``: required) and its help
    slope_default: float | None = None
    slope_help = "negative-side slope a in [0, 1] (0: ReLU, 1: linear)"
    #: the sparsity series of the family's runs and their labels (``None``: the only one)
    sparsity: tuple[tuple[str, str | None], ...] = (("sparsity", None),)

    # ------------------------------------------------------------- hooks
    def _setup(self, args: argparse.Namespace) -> Any:
        raise NotImplementedError

    def _run(self, setup: Any, args: argparse.Namespace) -> Any:
        """The family's ``RunResult`` at ``args.eta_lambda``."""
        raise NotImplementedError

    def _sweep(self, setup: Any, k: Any, args: argparse.Namespace) -> Any:
        """The family's ``PhaseSweep`` on the grid ``k``."""
        raise NotImplementedError

    def _plotted(self, sweep: Any) -> Any:
        """The sweep as the phase diagram shows it (all of it by default)."""
        return sweep

    # ------------------------------------------------------------- shared
    def _model_args(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--width", type=positive_int, required=True, help=self.width_help)
        if self.slope_default is None:
            p.add_argument("--slope", type=unit_interval, required=True, metavar="A", help=self.slope_help)
        else:
            p.add_argument("--slope", type=unit_interval, default=self.slope_default, metavar="A",
                           help=self.slope_help)
        add_data_args(p)  # toy, digits01 or an image spec, and --data-dir
        p.add_argument("--seed", type=nonneg_int, default=0, help="seed of init and training subset (default 0)")

    def _describe(self, setup: Any) -> str:
        st = setup.settings
        return (f"{self.name}: width {st['width']}, slope a = {fmt(st['slope'])}, data {st['data']} "
                f"(B = {st['B']}, d = {st['d']}, test {st['test_size']}), seed {st['seed']}")

    # ------------------------------------------------------------- run
    def add_run_args(self, p: argparse.ArgumentParser) -> None:
        """Model arguments, ``--eta-lambda``, ``--steps`` and ``--tol``."""
        self._model_args(p)
        p.add_argument("--eta-lambda", type=positive_float, required=True, metavar="K", help="k = eta * lam0")
        p.add_argument("--steps", type=positive_int, required=True, help="GD step budget")
        p.add_argument("--tol", type=positive_float, default=None,
                       help="stop when the loss changes by less than this in one step (default: run all steps)")

    def run(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Full-batch GD at ``k``; returns ``(payload, text)``."""
        setup = self._setup(args)
        res = self._run(setup, args)
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
        return res.to_dict(), "\n".join(lines)

    # ------------------------------------------------------------- phases
    def add_phases_args(self, p: argparse.ArgumentParser) -> None:
        """Model arguments and the ``k`` grid."""
        self._model_args(p)
        add_k_grid(p)
        p.add_argument("--steps", type=positive_int, default=3000, help="GD step budget per k (default 3000)")
        p.add_argument("--tol", type=positive_float, default=1e-8,
                       help="stop a run when its loss changes by less than this (default 1e-8)")
        add_no_refine(p)
        p.add_argument("--plot", type=plot_path, metavar="FILE.png", help="write a phase diagram")

    def phases(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Phases, sparsity and boundaries against ``k``; returns ``(payload, text)``."""
        import numpy as np

        k = k_grid(args.k_min, args.k_max, args.num, args.k_scale)
        setup = self._setup(args)
        progress(f"{self.name}: GD for {args.num} learning rates, up to {args.steps} steps ...")
        sweep = self._sweep(setup, k, args)
        progress("")
        payload = sweep.to_dict()
        payload["final"].setdefault("test_loss", [None] * len(k))
        plot_line = None
        if args.plot:
            from ..report import plot_phase_diagram

            panels = ("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity")
            payload["plot"] = str(args.plot)
            plot_line = write_output(args, "phase diagram", args.plot, lambda path: plot_phase_diagram(
                self._plotted(sweep), path, panels=panels, title=self._describe(setup)))
        lines = [
            self._describe(setup),
            f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}; k from {fmt(args.k_min)} to {fmt(args.k_max)} "
            f"({args.num} points), up to {args.steps} steps, tol {fmt(args.tol)}",
            *boundary_text(sweep.boundaries, "grid resolution" if args.no_refine else "bisection"),
            "predicted k_max (bounds):",
            *bound_lines(sweep.bounds, sweep.bound_status),
            f"largest converging k on the grid: {fmt(sweep.settings['largest_converging_k'])}",
            "phases along k:",
        ]
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        for name, label in self.sparsity:
            sp_ = np.asarray(sweep.final[name], dtype=float)
            ok = np.isfinite(sp_)
            if ok.any():
                head = "final sparsity" + ("" if label is None else f", {label}")
                lines.append(f"{head}: {fmt(sp_[ok][0])} at k = {fmt(k[ok][0])} .. {fmt(sp_[ok][-1])} at "
                             f"k = {fmt(k[ok][-1])}")
        if plot_line:
            lines.append(plot_line)
        return payload, "\n".join(lines)
