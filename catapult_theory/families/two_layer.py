"""Two-layer homogeneous nets ``f(x) = Σ_i v_i σ(u_i·x) / √(n d)`` (leaky slope ``a``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data import DATA_SPECS
from ..symbolic.models.two_layer import two_layer_model
from fractions import Fraction

from ._family import Derive, Instantiation, Realised
from ._nets import NetFamily
from ._params import param, unit_interval

__all__ = ["TWO_LAYER", "TwoLayerDerive", "two_layer_batch_bytes"]


def two_layer_batch_bytes(R: int, n: int, d: int, B: int, n_test: int) -> tuple[float, float, float]:
    """Bytes of the batched two-layer engine for ``R`` nets of width ``n`` on ``B`` training
    and ``n_test`` test inputs of dimension ``d`` (its buffers, ``engine._two_layer``):
    weights (``Uᵀ``, the step ``M``, the final ``U`` and the broadcast start: ``4 R n d``;
    ``v`` twice), the pre-activations of every input in one ``(1 + B + test, R, n)``
    buffer with ``W``, a step's temporary (``B R n`` each), the per-rate contiguous copies
    of ``[vᵀ; A]`` and ``W`` the Gram products read at a ``lam`` evaluation
    (``(2 B + 1) R n``) and the activity mask (bytes); and the data and per-rate Gram
    matrices (``R (2 B² + 8 B)``)."""
    weights = 8.0 * R * n * (4 * d + 2)
    activations = 8.0 * R * n * (2 + 5 * B + n_test) + 1.0 * R * n * B
    grams = 8.0 * (R * (2 * (B + 1) ** 2 + 8 * B) + 3 * (B + n_test) * d)
    return weights, activations, grams


@dataclass(frozen=True, kw_only=True)
class TwoLayerDerive(Derive):
    """``catapult derive two-layer``: ``--slope`` fixes the slope ``a`` in the derived formulas."""

    slope: float | None = param(None, help="fix the negative-side slope a in [0, 1] (default: keep a symbolic)",
                                type=unit_interval, metavar="A")


class _TwoLayerFamily(NetFamily):
    Derive = TwoLayerDerive

    @property
    def constants(self) -> Any:
        from ..experiments import TWO_LAYER_CONSTANTS

        return TWO_LAYER_CONSTANTS

    @property
    def hypotheses(self) -> Any:
        from ..experiments import TWO_LAYER_HYPOTHESES

        return TWO_LAYER_HYPOTHESES

    def derive(self, params: Any, fmt: str) -> tuple[Any, str]:
        """The derived theory, with ``a`` fixed when ``--slope`` is given."""
        import sympy as sp

        from ..symbolic.models.two_layer import a
        from ._derive import derive_payload

        # the slope as the exact rational it was written as (0.75 -> 3/4), so formulas stay exact
        subs = {a: sp.Rational(repr(params.slope))} if params.slope is not None else None
        return derive_payload(self.name, fmt, subs)

    def memory(self, command: str, params: Any, num: int = 1) -> list[Any]:
        """The buffers of the batched engine for ``R`` nets at once (``num`` rates, or one
        refinement round; no per-sample Jacobian is ever formed): see :func:`two_layer_batch_bytes`."""
        from ..data import parse_data_spec
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need

        a = params
        B, d, n_test = parse_data_spec(a.data).shape()
        R = 1 if command == "run" else num
        if command == "phases" and not a.no_refine:
            R = max(R, refinement_batch(2))  # a refinement round: the brackets of (typically) two boundaries at once
        rows = min(a.steps + 1, INITIAL_ROWS)
        flag = "--width" if R == 1 else "--num or --width"
        weights, activations, grams = two_layer_batch_bytes(R, a.width, d, B, n_test)
        return [Need("weights, gradients and final weights (R x width x (4 d + 2))", weights, flag),
                Need("pre-activations and their work arrays (R x width x (5 B + test + 2))", activations, flag),
                Need("data and Gram matrices ((B + test) x d, R x B x B)", grams, "--data"),
                Need("trajectories (R x 5 series x rows)", 8.0 * R * 5 * rows, "--steps")]

    def setup(self, params: Any) -> Any:
        """The seeded net on its data (:func:`~catapult_theory.experiments.two_layer_setup`)."""
        from ..experiments import two_layer_setup

        return two_layer_setup(params.width, params.slope, params.data, seed=params.seed, data_dir=params.data_dir)

    def _run(self, setup: Any, params: Any) -> Any:
        from ..experiments import run_two_layer

        return run_two_layer(setup, params.eta_lambda, params.steps, tol=params.tol)

    def _sweep(self, setup: Any, k: Any, params: Any) -> Any:
        from ..experiments import sweep_two_layer

        return sweep_two_layer(setup, k, max_steps=params.steps, tol=params.tol, refine=not params.no_refine)


TWO_LAYER = _TwoLayerFamily(
    "two-layer", "two-layer net f = sum_i v_i sigma(u_i.x)/sqrt(n d), leaky slope a in [0, 1]", two_layer_model,
    data_specs=DATA_SPECS, report_section="two-layer",
    generic_theorems=("linear-onset", "weight-norm-identity", "weight-norm-decrease"),
    theorems=("ntk-bound-two-layer", "catapult-window-two-layer", "relu-one-datum"),
    samplers={"step": "two-layer", "batch": "two-layer-batch"},
    # the slope a in [0, 1]; S = diag(sigma'(U x)), the real activation pattern, recomputed after a step
    instantiation=Instantiation(scalar_ranges={"a": (Fraction(0), Fraction(1))},
                                realised=(Realised("S", (("U", False), ("x", False))),)))

#: the records of this module (:data:`catapult_theory.families.REGISTRY`)
FAMILIES = [TWO_LAYER]
