"""`catapult derive|run|phases three-layer`, and the ``--data`` / ``--data-dir`` arguments
shared with the two-layer net (toy, digits01 and two-class image specs)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ..errors import InvalidInput
from ._common import (
    Family,
    add_k_grid,
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

__all__ = ["ThreeLayerFamily", "add_data_args", "data_shape", "data_spec"]

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


class ThreeLayerFamily(Family):
    """CLI face of the three-layer net (``--width``, ``--slope``, ``--data``, ``--data-dir``)."""

    name = "three-layer"
    help = "three-layer net f = v^T sigma(W2 sigma(W1 x))/(n sqrt(d)), leaky slope a in [0, 1] (degree 3)"

    # ------------------------------------------------------------- derive
    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        """The derived theory of the registered (ReLU) declaration, with the degree-3 facts
        of the leaky net (Euler, weight-norm change, the NTK bound) in ``text`` and ``json``."""
        import sympy as sp

        from ..symbolic import lemma_increment, three_layer_facts
        from ..symbolic import symbols as S
        from ._derive_common import derive_payload

        payload, text = derive_payload(self.name, args.format)
        f = three_layer_facts()
        facts = {
            "degree": f.degree,
            "euler": f"theta.grad f = {sp.sstr(f.euler_ratio)}*f",
            "weight_norm_change": sp.sstr(lemma_increment(constant=f.lemma_constant)),
            "lemma_constant": sp.sstr(f.lemma_constant),
            "two_layer_lemma_residual": sp.sstr(f.two_layer_lemma_residual),
            "eta_max": sp.sstr(f.eta_max.eta),
            "lam_degree": f.lam_degree,
            "K_w2_squared": sp.sstr(f.K),
            "window": sp.sstr(f.window),
        }
        if isinstance(payload, dict):
            payload["degree3"] = facts
        if args.format == "text":
            text += "\n" + "\n".join([
                "degree-3 facts (leaky slope a symbolic):",
                f"  f(c theta) = c^{f.degree} f;  {facts['euler']}  (the two-layer lemma needs 2*f)",
                f"  |theta'|^2 - |theta|^2 = {facts['weight_norm_change']}  (constant {f.lemma_constant}, not 4)",
                f"  y = 0: the norm falls iff eta*lam < {sp.sstr(f.eta_max.eta * S.lam)}",
                (f"  lam is homogeneous of degree {f.lam_degree}: no K with lam <= K |theta|^2; "
                f"lam <= K |theta|^4 with K = {facts['K_w2_squared']}"),
                f"  window from the lemma: k < {facts['window']}  (of order d/n^2: empty for a wide net)",
            ])
        return payload, text

    # ------------------------------------------------------------- shared
    def memory(self, args: argparse.Namespace, command: str) -> list[Any]:
        """Weights of the batch of nets (``W2`` is width x width per rate), their final
        copies, and the activations on training and test inputs."""
        from ..engine import INITIAL_ROWS
        from ..resources import Need

        B, d, n_test = data_shape(args.data)
        R = 1 if command == "run" else args.num
        if command == "phases" and not getattr(args, "no_refine", True):
            R = max(R, 3 * 15)  # a refinement round batches 15 nets for each of up to 3 boundaries
        n = args.width
        rows = min(args.steps + 1, INITIAL_ROWS)
        flag = "--width" if R == 1 else "--num or --width"
        return [Need("weights, gradients and final weights (R x 3 x width x (width + d + 1))",
                     8.0 * R * 3 * n * (n + d + 1), flag),
                Need("activations and back-propagated signals (R x width x (5 B + 2 test))",
                     8.0 * R * n * (5 * B + 2 * n_test), flag),
                Need("trajectories (R x 7 series x rows)", 8.0 * R * 7 * rows, "--steps")]

    def _model_args(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--width", type=positive_int, required=True, help="width n of each hidden layer")
        p.add_argument("--slope", type=unit_interval, default=0.0, metavar="A",
                       help="negative-side slope a in [0, 1] (default 0: ReLU)")
        add_data_args(p)
        p.add_argument("--seed", type=nonneg_int, default=0, help="seed of init and training subset (default 0)")

    def _setup(self, args: argparse.Namespace) -> Any:
        from ..experiments import three_layer_setup

        return three_layer_setup(args.width, args.slope, args.data, seed=args.seed, data_dir=args.data_dir)

    @staticmethod
    def _describe(setup: Any) -> str:
        st = setup.settings
        return (f"three-layer: width {st['width']}, slope a = {fmt(st['slope'])}, data {st['data']} "
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
        from ..experiments import run_three_layer

        setup = self._setup(args)
        res = run_three_layer(setup, args.eta_lambda, args.steps, tol=args.tol)
        gd, st = res.gd, res.settings
        lines = [
            self._describe(setup),
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}",
            f"phase: {res.phase}   (stopped at step {st['stopped_at']}: {st['stop_reason']})",
            f"loss: start {fmt(float(gd.loss[0]))}, peak {fmt(float(gd.peak_loss()))}, final {fmt(float(gd.final('loss')))}",
            f"final eta*lam {fmt(float(res.eta * gd.final('lam')))}, final w2/w2_0 {fmt(float(gd.final('w2') / res.w2_0))}",
            ("sparsity (layer 1, layer 2): start "
            f"{fmt(float(gd.extra['sparsity1'][0]))}, {fmt(float(gd.extra['sparsity2'][0]))}; final "
            f"{fmt(float(gd.final('sparsity1')))}, {fmt(float(gd.final('sparsity2')))}"),
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
        p.add_argument("--no-refine", action="store_true",
                       help="report boundaries at grid resolution (no bisection runs)")
        p.add_argument("--plot", type=plot_path, metavar="FILE.png", help="write a phase diagram")

    def phases(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Phases, per-layer sparsity and boundaries against ``k``; returns ``(payload, text)``."""
        import numpy as np

        from ..experiments import sweep_three_layer

        k = k_grid(args.k_min, args.k_max, args.num, args.k_scale)
        setup = self._setup(args)
        progress(f"three-layer: GD for {args.num} learning rates, up to {args.steps} steps ...")
        sweep, _ = sweep_three_layer(setup, k, max_steps=args.steps, tol=args.tol, refine=not args.no_refine)
        progress("")
        payload = sweep.to_dict()
        plot_line = None
        if args.plot:
            from ..report import plot_phase_diagram

            # the proven window ends far below the grid (order d/n^2): it is in the text, not drawn
            shown = dataclasses.replace(sweep, bounds={}, bound_status={})
            payload["plot"] = str(args.plot)
            plot_line = write_output(args, "phase diagram", args.plot, lambda path: plot_phase_diagram(
                shown, path, panels=("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity"),
                title=self._describe(setup)))
        lines = [
            self._describe(setup),
            (f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}; k from {fmt(args.k_min)} to {fmt(args.k_max)} "
            f"({args.num} points), up to {args.steps} steps, tol {fmt(args.tol)}"),
            *boundary_text(sweep.boundaries, "grid resolution" if args.no_refine else "bisection"),
            "predicted k_max (bounds):",
            *bound_lines(sweep.bounds, sweep.bound_status),
            f"largest converging k on the grid: {fmt(sweep.settings['largest_converging_k'])}",
            "phases along k:",
        ]
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        for name, label in (("sparsity1", "layer 1"), ("sparsity2", "layer 2")):
            sp_ = np.asarray(sweep.final[name], dtype=float)
            ok = np.isfinite(sp_)
            if ok.any():
                lines.append(f"final sparsity, {label}: {fmt(sp_[ok][0])} at k = {fmt(k[ok][0])} .. "
                             f"{fmt(sp_[ok][-1])} at k = {fmt(k[ok][-1])}")
        if plot_line:
            lines.append(plot_line)
        return payload, "\n".join(lines)
