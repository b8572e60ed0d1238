"""`catapult derive|run|phases two-layer` (the ``run`` and ``phases`` commands are those of
:class:`._nets.NetFamily`)."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import CLIError, unit_interval
from ._derive_common import derive_payload
from ._nets import NetFamily, data_shape

__all__ = ["TwoLayerFamily"]


class TwoLayerFamily(NetFamily):
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
        from ..experiments import refinement_batch
        from ..resources import Need

        B, d, n_test = data_shape(args.data)
        R = 1 if command == "run" else args.num
        if command == "phases" and not args.no_refine:
            R = max(R, refinement_batch(3))  # one refinement round: every boundary's brackets at once
        n = args.width
        rows = min(args.steps + 1, INITIAL_ROWS)
        return [Need("weights and gradients (R x 4 x width x (d + 1))", 8.0 * R * 4 * n * (d + 1),
                     "--width" if R == 1 else "--num or --width"),
                Need("activations and Jacobians (R x (B + test) x width x (d + 3))",
                     8.0 * R * (B + n_test) * n * (d + 3), "--width" if R == 1 else "--num or --width"),
                Need("trajectories (R x 5 series x rows)", 8.0 * R * 5 * rows, "--steps")]

    # ------------------------------------------------------------- hooks
    def _setup(self, args: argparse.Namespace) -> Any:
        from ..experiments import is_image_spec, two_layer_image_setup, two_layer_setup

        try:
            if is_image_spec(args.data):
                return two_layer_image_setup(args.width, args.slope, args.data, seed=args.seed,
                                             data_dir=args.data_dir)
            return two_layer_setup(args.width, args.slope, args.data, seed=args.seed)
        except ImportError as exc:  # the optional dependency of digits01
            raise CLIError(str(exc).splitlines()[0]) from None

    def _run(self, setup: Any, args: argparse.Namespace) -> Any:
        from ..experiments import run_two_layer

        return run_two_layer(setup, args.eta_lambda, args.steps, tol=args.tol)

    def _sweep(self, setup: Any, k: Any, args: argparse.Namespace) -> Any:
        from ..experiments import sweep_two_layer

        return sweep_two_layer(setup, k, max_steps=args.steps, tol=args.tol, refine=not args.no_refine)
