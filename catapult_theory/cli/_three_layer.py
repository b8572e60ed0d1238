"""`catapult derive|run|phases three-layer` (the ``--data`` / ``--data-dir`` arguments and
the ``run`` and ``phases`` commands are those of :class:`._nets.NetFamily`)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ._nets import NetFamily, data_shape

__all__ = ["ThreeLayerFamily"]


class ThreeLayerFamily(NetFamily):
    """CLI face of the three-layer net (``--width``, ``--slope``, ``--data``, ``--data-dir``)."""

    name = "three-layer"
    help = "three-layer net f = v^T sigma(W2 sigma(W1 x))/(n sqrt(d)), leaky slope a in [0, 1] (degree 3)"
    width_help = "width n of each hidden layer"
    slope_default = 0.0
    slope_help = "negative-side slope a in [0, 1] (default 0: ReLU)"
    sparsity = (("sparsity1", "layer 1"), ("sparsity2", "layer 2"))

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
        from ..experiments import refinement_batch
        from ..resources import Need

        B, d, n_test = data_shape(args.data)
        R = 1 if command == "run" else args.num
        if command == "phases" and not getattr(args, "no_refine", True):
            R = max(R, refinement_batch(3))  # one refinement round: every boundary's brackets at once
        n = args.width
        rows = min(args.steps + 1, INITIAL_ROWS)
        flag = "--width" if R == 1 else "--num or --width"
        return [Need("weights, gradients and final weights (R x 3 x width x (width + d + 1))",
                     8.0 * R * 3 * n * (n + d + 1), flag),
                Need("activations and back-propagated signals (R x width x (5 B + 2 test))",
                     8.0 * R * n * (5 * B + 2 * n_test), flag),
                Need("trajectories (R x 7 series x rows)", 8.0 * R * 7 * rows, "--steps")]

    # ------------------------------------------------------------- hooks
    def _setup(self, args: argparse.Namespace) -> Any:
        from ..experiments import three_layer_setup

        return three_layer_setup(args.width, args.slope, args.data, seed=args.seed, data_dir=args.data_dir)

    def _run(self, setup: Any, args: argparse.Namespace) -> Any:
        from ..experiments import run_three_layer

        return run_three_layer(setup, args.eta_lambda, args.steps, tol=args.tol)

    def _sweep(self, setup: Any, k: Any, args: argparse.Namespace) -> Any:
        from ..experiments import sweep_three_layer

        sweep, _ = sweep_three_layer(setup, k, max_steps=args.steps, tol=args.tol, refine=not args.no_refine)
        return sweep

    def _plotted(self, sweep: Any) -> Any:
        # the proven window ends far below the grid (order d/n^2): it is in the text, not drawn
        return dataclasses.replace(sweep, bounds={}, bound_status={})
