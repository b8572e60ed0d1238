"""`catapult derive|run|phases two-layer`."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import (
    CLIError,
    Family,
    add_k_grid,
    bound_lines,
    boundary_text,
    fmt,
    k_grid,
    nonneg_int,
    phase_segments,
    plot_path,
    write_output,
    positive_float,
    positive_int,
    progress,
    unit_interval,
)
from ._derive_common import derive_payload

__all__ = ["TwoLayerFamily"]


class TwoLayerFamily(Family):
    """CLI face of the two-layer net (``--width``, ``--slope``, ``--data``)."""

    name = "two-layer"
    help = "two-layer net f = sum_i v_i sigma(u_i.x)/sqrt(n d), leaky slope a in [0, 1]"

    def add_derive_args(self, p: argparse.ArgumentParser) -> None:
        """``--slope`` fixes the slope ``a`` in the derived formulas."""
        p.add_argument("--slope", type=unit_interval, default=None, metavar="A",
                       help="fix the negative-side slope a in [0, 1] (default: keep a symbolic)")

    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        """The derived theory, with ``a`` fixed when ``--slope`` is given."""
        from ..symbolic.models.two_layer import a

        import sympy as sp

        # the slope as the exact rational it was written as (0.75 -> 3/4), so formulas stay exact
        subs = {a: sp.Rational(repr(args.slope))} if args.slope is not None else None
        return derive_payload(self.name, args.format, subs)

    def memory(self, args: argparse.Namespace, command: str) -> list[Any]:
        """Weights, activations and Jacobians of the batch of nets (``--num`` rates at once)."""
        from ..engine import INITIAL_ROWS
        from ..resources import Need

        from ._three_layer import data_shape

        B, d, n_test = data_shape(args.data)
        R = 1 if command == "run" else args.num
        if command == "phases" and not args.no_refine:
            R = max(R, 3 * 15)  # a refinement round batches 15 nets for each of up to 3 boundaries
        n = args.width
        rows = min(args.steps + 1, INITIAL_ROWS)
        return [Need("weights and gradients (R x 4 x width x (d + 1))", 8.0 * R * 4 * n * (d + 1),
                     "--width" if R == 1 else "--num or --width"),
                Need("activations and Jacobians (R x (B + test) x width x (d + 3))",
                     8.0 * R * (B + n_test) * n * (d + 3), "--width" if R == 1 else "--num or --width"),
                Need("trajectories (R x 5 series x rows)", 8.0 * R * 5 * rows, "--steps")]

    # ------------------------------------------------------------- shared
    def _model_args(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--width", type=positive_int, required=True, help="width n")
        p.add_argument("--slope", type=unit_interval, required=True, metavar="A",
                       help="negative-side slope a in [0, 1] (0: ReLU, 1: linear)")
        from ._three_layer import add_data_args

        add_data_args(p)  # toy, digits01 or an image spec, and --data-dir
        p.add_argument("--seed", type=nonneg_int, default=0, help="seed of init and training subset (default 0)")

    def _setup(self, args: argparse.Namespace):
        from ..experiments import is_image_spec, two_layer_image_setup, two_layer_setup

        try:
            if is_image_spec(args.data):
                return two_layer_image_setup(args.width, args.slope, args.data, seed=args.seed,
                                             data_dir=args.data_dir)
            return two_layer_setup(args.width, args.slope, args.data, seed=args.seed)
        except ImportError as exc:  # the optional dependency of digits01
            raise CLIError(str(exc).splitlines()[0]) from None

    @staticmethod
    def _describe(setup) -> str:
        st = setup.settings
        return (f"two-layer: width {st['width']}, slope a = {fmt(st['slope'])}, data {st['data']} "
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
        from ..experiments import run_two_layer

        setup = self._setup(args)
        res = run_two_layer(setup, args.eta_lambda, args.steps, tol=args.tol)
        payload = res.to_dict()
        gd = res.gd
        st = res.settings
        lines = [
            self._describe(setup),
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}",
            f"phase: {res.phase}   (stopped at step {st['stopped_at']}: {st['stop_reason']})",
            f"loss: start {fmt(float(gd.loss[0]))}, peak {fmt(float(gd.peak_loss()))}, final {fmt(float(gd.final('loss')))}",
            f"final eta*lam {fmt(float(res.eta * gd.final('lam')))}, final w2/w2_0 {fmt(float(gd.final('w2') / res.w2_0))}",
            f"sparsity: start {fmt(float(gd.extra['sparsity'][0]))}, final {fmt(float(gd.final('sparsity')))}",
        ]
        if "test_loss" in gd.extra:
            lines.append(f"final test loss {fmt(float(gd.final('test_loss')))}")
        if res.diverged_at is not None:
            lines.append(f"diverged at step {res.diverged_at}")
        lines.append("predicted k_max (bounds):")
        lines += bound_lines(res.bounds, res.bound_status)
        return payload, "\n".join(lines)

    # ------------------------------------------------------------- phases
    def add_phases_args(self, p: argparse.ArgumentParser) -> None:
        """Model arguments and the ``k`` grid."""
        self._model_args(p)
        add_k_grid(p)
        p.add_argument("--steps", type=positive_int, default=3000, help="GD step budget per k (default 3000)")
        p.add_argument("--tol", type=positive_float, default=1e-8,
                       help="stop a run when its loss changes by less than this (default 1e-8)")
        p.add_argument("--no-refine", action="store_true",
                       help="report boundaries at grid resolution (no bisection runs)")
        p.add_argument("--plot", type=plot_path, metavar="FILE.png", help="write a phase diagram")

    def phases(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Phases, sparsity and boundaries against ``k``; returns ``(payload, text)``."""
        import numpy as np

        from ..experiments import sweep_two_layer

        k = k_grid(args.k_min, args.k_max, args.num, args.k_scale)
        setup = self._setup(args)
        progress(f"two-layer: GD for {args.num} learning rates, up to {args.steps} steps ...")
        sweep = sweep_two_layer(setup, k, max_steps=args.steps, tol=args.tol, refine=not args.no_refine)
        progress("")
        payload = sweep.to_dict()
        final = payload["final"]
        final.setdefault("test_loss", [None] * len(k))
        plot_line = None
        if args.plot:
            from ..report import plot_phase_diagram

            panels = ("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity")
            payload["plot"] = str(args.plot)
            plot_line = write_output(args, "phase diagram", args.plot, lambda path: plot_phase_diagram(
                sweep, path, panels=panels, title=self._describe(setup)))
        b = sweep.boundaries
        lines = [
            self._describe(setup),
            f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}; k from {fmt(args.k_min)} to {fmt(args.k_max)} "
            f"({args.num} points), up to {args.steps} steps, tol {fmt(args.tol)}",
            *boundary_text(b, "grid resolution" if args.no_refine else "bisection"),
            "predicted k_max (bounds):",
            *bound_lines(sweep.bounds, sweep.bound_status),
            f"largest converging k on the grid: {fmt(sweep.settings['largest_converging_k'])}",
            "phases along k:",
        ]
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        sp_ = np.asarray(sweep.final["sparsity"], dtype=float)
        ok = np.isfinite(sp_)
        if ok.any():
            lines.append(f"final sparsity: {fmt(sp_[ok][0])} at k = {fmt(k[ok][0])} .. {fmt(sp_[ok][-1])} at "
                         f"k = {fmt(k[ok][-1])}")
        if plot_line:
            lines.append(plot_line)
        return payload, "\n".join(lines)
