"""`catapult derive|run|phases two-layer` (the ``run`` and ``phases`` commands are those of
:class:`._nets.NetFamily`)."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import CLIError, unit_interval
from ._derive_common import derive_payload
from ._nets import NetFamily, data_shape

__all__ = ["TwoLayerFamily", "two_layer_batch_bytes"]


def two_layer_batch_bytes(R: int, n: int, d: int, B: int, n_test: int) -> tuple[float, float, float]:
    """Bytes of the batched two-layer engine for ``R`` nets of width ``n`` on ``B`` training
    and ``n_test`` test inputs of dimension ``d`` (its buffers, ``engine._two_layer``):
    weights (``Uᵀ``, the step ``M``, the final ``U`` and the broadcast start: ``4 R n d``;
    ``v`` twice), the pre-activations of every input in one ``(1 + B + test, R, n)``
    buffer with ``W`` and a step's temporary (``B R n`` each) and the activity mask
    (bytes); and the data and per-rate Gram matrices (``R (2 B² + 8 B)``)."""
    weights = 8.0 * R * n * (4 * d + 2)
    activations = 8.0 * R * n * (1 + 3 * B + n_test) + 1.0 * R * n * B
    grams = 8.0 * (R * (2 * (B + 1) ** 2 + 8 * B) + 3 * (B + n_test) * d)
    return weights, activations, grams


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
        """The buffers of the batched engine for ``R`` nets at once (``--num`` rates, or one
        refinement round; no per-sample Jacobian is ever formed): see :func:`two_layer_batch_bytes`."""
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need

        B, d, n_test = data_shape(args.data)
        R = 1 if command == "run" else args.num
        if command == "phases" and not args.no_refine:
            R = max(R, refinement_batch(2))  # a refinement round: the brackets of (typically) two boundaries at once
        rows = min(args.steps + 1, INITIAL_ROWS)
        flag = "--width" if R == 1 else "--num or --width"
        weights, activations, grams = two_layer_batch_bytes(R, args.width, d, B, n_test)
        return [Need("weights, gradients and final weights (R x width x (4 d + 2))", weights, flag),
                Need("pre-activations and their work arrays (R x width x (3 B + test + 1))", activations, flag),
                Need("data and Gram matrices ((B + test) x d, R x B x B)", grams, "--data"),
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
