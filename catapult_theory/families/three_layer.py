"""Three-layer homogeneous nets ``f(x) = vᵀ σ(W2 σ(W1 x)) / (n √d)`` (ReLU MLPs, leaky slope ``a``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..data import DATA_SPECS
from ..symbolic.models.three_layer import three_layer_model
from ._family import Instantiation, Realised
from ._nets import NetFamily, NetPhases, NetRun
from ._params import param, positive_int, unit_interval

__all__ = ["THREE_LAYER", "ThreeLayerPhases", "ThreeLayerRun"]

_WIDTH = "width n of each hidden layer"
_SLOPE = "negative-side slope a in [0, 1] (default 0: ReLU)"


@dataclass(frozen=True, kw_only=True)
class ThreeLayerRun(NetRun):
    """``catapult run three-layer`` (ReLU unless ``--slope``)."""

    width: int = param(help=_WIDTH, type=positive_int)
    slope: float = param(0.0, help=_SLOPE, type=unit_interval, metavar="A")


@dataclass(frozen=True, kw_only=True)
class ThreeLayerPhases(NetPhases):
    """``catapult phases three-layer`` (ReLU unless ``--slope``)."""

    width: int = param(help=_WIDTH, type=positive_int)
    slope: float = param(0.0, help=_SLOPE, type=unit_interval, metavar="A")


class _ThreeLayerFamily(NetFamily):
    Run = ThreeLayerRun
    Phases = ThreeLayerPhases
    sparsity = (("sparsity1", "layer 1"), ("sparsity2", "layer 2"))

    @property
    def constants(self) -> Any:
        from ..experiments import THREE_LAYER_CONSTANTS

        return THREE_LAYER_CONSTANTS

    @property
    def hypotheses(self) -> Any:
        from ..experiments import THREE_LAYER_HYPOTHESES

        return THREE_LAYER_HYPOTHESES

    def derive(self, params: Any, fmt: str) -> tuple[Any, str]:
        """The derived theory of the registered (ReLU) declaration, with the degree-3 facts
        of the leaky net (Euler, weight-norm change, the NTK bound) in ``text`` and ``json``."""
        import sympy as sp

        from ..symbolic import lemma_increment, three_layer_facts
        from ..symbolic import symbols as S
        from ._derive import derive_payload

        payload, text = derive_payload(self.name, fmt)
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
        if fmt == "text":
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

    def memory(self, command: str, params: Any, num: int = 1) -> list[Any]:
        """Weights of the batch of nets (``W2`` is width x width per rate), their final
        copies, and the activations on training and test inputs."""
        from ..data import parse_data_spec
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need

        a = params
        B, d, n_test = parse_data_spec(a.data).shape()
        R = 1 if command == "run" else num
        if command == "phases" and not getattr(a, "no_refine", True):
            R = max(R, refinement_batch(3))  # one refinement round: every boundary's brackets at once
        n = a.width
        rows = min(a.steps + 1, INITIAL_ROWS)
        flag = "--width" if R == 1 else "--num or --width"
        return [Need("weights, gradients and final weights (R x 3 x width x (width + d + 1))",
                     8.0 * R * 3 * n * (n + d + 1), flag),
                Need("activations and back-propagated signals (R x width x (5 B + 2 test))",
                     8.0 * R * n * (5 * B + 2 * n_test), flag),
                Need("trajectories (R x 7 series x rows)", 8.0 * R * 7 * rows, "--steps")]

    def setup(self, params: Any) -> Any:
        """The seeded net on its data (:func:`~catapult_theory.experiments.three_layer_setup`)."""
        from ..experiments import three_layer_setup

        return three_layer_setup(params.width, params.slope, params.data, seed=params.seed, data_dir=params.data_dir)

    def _run(self, setup: Any, params: Any) -> Any:
        from ..experiments import run_three_layer

        return run_three_layer(setup, params.eta_lambda, params.steps, tol=params.tol)

    def _sweep(self, setup: Any, k: Any, params: Any) -> Any:
        from ..experiments import sweep_three_layer

        sweep, _ = sweep_three_layer(setup, k, max_steps=params.steps, tol=params.tol, refine=not params.no_refine)
        return sweep

    def _plotted(self, sweep: Any) -> Any:
        # the proven window ends far below the grid (order d/n^2): it is in the text, not drawn
        return dataclasses.replace(sweep, bounds={}, bound_status={})


THREE_LAYER = _ThreeLayerFamily(
    "three-layer", "three-layer net f = v^T sigma(W2 sigma(W1 x))/(n sqrt(d)), leaky slope a in [0, 1] (degree 3)",
    three_layer_model, data_specs=DATA_SPECS, report_section="sparsity",
    generic_theorems=("weight-norm-identity", "weight-norm-decrease"),
    # S1 = diag(sigma'(W1 x)), S2 = diag(sigma'(W2 S1 W1 x)) (the positive scalings change no sign);
    # the registered net is the ReLU one (a = 0)
    instantiation=Instantiation(realised=(
        Realised("S1", (("W1", False), ("x", False))),
        Realised("S2", (("W2", False), ("S1", False), ("W1", False), ("x", False))))))

#: the records of this module (:data:`catapult_theory.families.REGISTRY`)
FAMILIES = [THREE_LAYER]
