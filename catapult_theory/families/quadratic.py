"""Quadratic models: the pure quadratic model and the quadratic model with bias."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from ..errors import CLIError
from ..symbolic.models.quadratic import pure_quadratic_model, quadratic_bias_model
from ._family import Instantiation, ModelFamily, Outcome, PlotRequest
from ..data import DATA_HELP, DATA_SPECS
from ._params import KGrid, data_spec, no_refine_param, nonneg_int, param, positive_float, positive_int
from ._text import bound_lines, boundary_text, fmt, phase_segments

__all__ = ["PURE_QUADRATIC", "QUADRATIC_BIAS", "QuadraticPhases", "QuadraticRun", "quadratic_stack_bytes"]

ACTS = ("identity", "tanh", "relu", "leaky_relu")



def quadratic_stack_bytes(m: int, d: int, B: int, n_test: int, act: str) -> tuple[float, float]:
    """``(kept, transient)`` bytes of the meta-feature stacks ``ψ(x) = g(Σ x_i W_i/√d)``
    (``m x m`` each) of ``B`` training and ``n_test`` test inputs: teacher labels (``B > 1``)
    are built in chunks of at most ``TEST_CHUNK_BYTES`` (two such arrays at once); with a
    non-linear ``g`` (or ``d > B``) the engine keeps the training stack and the test
    stack's upper triangles (up to ``TEST_STACK_BYTES``; beyond, chunks again)."""
    from ..engine import TEST_CHUNK_BYTES, TEST_STACK_BYTES

    if B <= 1:
        return 0.0, 0.0
    chunk = 2.0 * min(float(TEST_CHUNK_BYTES), 8.0 * (B + n_test) * m * m)
    if act == "identity" and d <= B:
        return 0.0, chunk
    packed = 8.0 * n_test * m * (m + 1) / 2
    kept = 8.0 * B * m * m + (packed if packed <= TEST_STACK_BYTES else 0.0)
    return kept, chunk


def _even_rank(text: str) -> int:
    v = positive_int(text)
    if v % 2:
        raise argparse.ArgumentTypeError(f"the rank must be even (eigenvalues come in +-mu pairs), got {v}")
    return v


def _check_mu(text: Any) -> Any:
    from ..engine import parse_distribution

    return parse_distribution(text, positive=True, what="mu distribution")


@dataclass(frozen=True, kw_only=True)
class _QuadraticModel:
    rank: int = param(help="rank m (even)", type=_even_rank, metavar="M")
    features: int | None = param(None, help="number of linear features p (quadratic-bias only; default 10)",
                                 type=nonneg_int, metavar="P")
    seed: int = param(0, help="seed of features, data and init (default 0)", type=nonneg_int)
    mu_dist: str = param("uniform:1:2", help="distribution of the mu_i: uniform:A:B (0 < A <= B) or normal:M:S "
                                             "(truncated to mu > 0) (default uniform:1:2)", metavar="DIST",
                         check=_check_mu)
    act: str = param("identity", help="activation g of psi (default identity)", choices=ACTS)
    data: str = param("toy", help=DATA_HELP, type=data_spec, metavar="SPEC")
    test_size: int = param(512, help="test points of random:B:D data without its own T (default 512)",
                           type=nonneg_int)
    mask: int = param(0, help="teacher coordinates of theta_psi set to zero (masked features, default 0)",
                      type=nonneg_int, metavar="N")


@dataclass(frozen=True, kw_only=True)
class QuadraticRun(_QuadraticModel):
    """``catapult run pure-quadratic|quadratic-bias``."""

    eta_lambda: float = param(help="k = eta * lam0", type=positive_float, metavar="K")
    steps: int = param(help="GD steps", type=positive_int)


@dataclass(frozen=True, kw_only=True)
class QuadraticPhases(_QuadraticModel):
    """``catapult phases pure-quadratic|quadratic-bias``."""

    steps: int = param(2000, help="steps per k (default 2000)", type=positive_int)
    engine: str = param("auto", help="auto: exact spectral engine for one datum, GD otherwise",
                        choices=("auto", "reduced", "gd"))
    no_refine: bool = no_refine_param()


class _QuadraticFamily(ModelFamily):
    Run = QuadraticRun
    Phases = QuadraticPhases

    def __init__(self, *args: Any, default_features: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.default_features = default_features

    @property
    def constants(self) -> Any:
        from ..experiments import QUADRATIC_CONSTANTS

        return QUADRATIC_CONSTANTS

    @property
    def hypotheses(self) -> Any:
        from ..experiments import QUADRATIC_HYPOTHESES

        return {n: h for n, h in QUADRATIC_HYPOTHESES.items() if n in self.bounds()}

    def memory(self, command: str, params: Any, num: int = 1) -> list[Any]:
        """The model's fixed parts (``W``, ``q``: d x m x m), the meta-feature stacks of the
        data (the teacher's labels are computed in chunks; a non-linear ``g`` keeps the
        training stack and the packed test stack), and the batch of rates."""
        from ..data import parse_data_spec
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need

        a = params
        B, d, n_test = parse_data_spec(a.data).shape(test_size=a.test_size)
        m, p = a.rank, self.default_features if a.features is None else a.features
        # phases: the grid, then refinement rounds of both boundaries' brackets at once
        R = 1 if command == "run" else num if a.no_refine else max(num, refinement_batch(2))
        rows = min(a.steps + 1, INITIAL_ROWS)
        stacks, transient = quadratic_stack_bytes(m, d, B, n_test, a.act)
        return [Need("the model's W, q and their rank x rank work arrays (8 x d x rank^2)", 8.0 * 8 * d * m * m,
                     "--rank"),
                Need("meta-feature stacks of the data (B x rank^2, the packed test stack)", stacks,
                     "--data, --test-size or --rank"),
                Need("meta-features built in chunks (the teacher's labels, test forms)", transient,
                     "--data, --test-size or --rank"),
                Need("features and data ((B + test) x (d + features + rank))",
                     8.0 * ((B + n_test) * (d + p + 2 * m) + d * p), "--features" if p > m else "--data"),
                Need("parameters, gradients and features per rate (R x (B + 6) x (rank + features))",
                     8.0 * R * (B + 6) * (m + p), "--num, --data or --features" if R > 1 else "--features or --rank"),
                Need("trajectories (R x 4 series x rows)", 8.0 * R * 4 * rows, "--num" if R > 1 else "--steps")]

    def setup(self, params: Any) -> Any:
        """The model, its data and the initial parameters."""
        from ..experiments import quadratic_setup

        a = params
        if self.name == "pure-quadratic" and a.features not in (None, 0):
            raise CLIError("--features applies to quadratic-bias only")
        feats = self.default_features if a.features is None else a.features
        if self.name == "quadratic-bias" and feats < 1:
            raise CLIError("quadratic-bias needs --features >= 1")
        if a.mask > a.rank:
            raise CLIError(f"--mask ({a.mask}) exceeds the rank ({a.rank})")
        return quadratic_setup(self.name, a.rank, features_=feats, mu=a.mu_dist, activation=a.act,
                               data=a.data, seed=a.seed, test_size=a.test_size, mask_psi=a.mask)

    def _describe(self, setup: Any) -> str:
        st = setup.settings
        feat = f", features {st['features']}" if self.name == "quadratic-bias" else ""
        return (f"{self.name}: rank {st['rank']}{feat}, mu ~ {st['mu']}, g = {st['activation']}, data {st['data']} "
                f"(B = {st['B']}, d = {st['d']}, test {st['test_size']}), seed {st['seed']}")

    def run(self, params: Any) -> Outcome:
        """Full-parameter GD beside the exact spectral engine (one datum)."""
        from ..experiments import run_quadratic

        a = params
        setup = self.setup(a)
        res = run_quadratic(setup, a.eta_lambda, a.steps)
        payload = res.to_dict()
        gd = res.gd
        lines = [
            self._describe(setup),
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}"
            f"   steps = {a.steps}",
            f"phase: {res.phase} (GD)"
            + (f", {res.settings['reduced_phase']} (exact spectral engine)" if res.reference is not None else ""),
            f"peak loss {fmt(float(gd.peak_loss()))}, final loss {fmt(float(gd.final('loss')))}, "
            f"final eta*lam {fmt(float(res.eta * gd.final('lam')))}, final w2/w2_0 {fmt(float(gd.final('w2') / res.w2_0))}",
        ]
        if "test_loss" in gd.extra:
            lines.append(f"final test loss {fmt(float(gd.final('test_loss')))}")
        if res.diverged_at is not None:
            lines.append(f"diverged at step {res.diverged_at}")
        if res.max_rel_dev is not None:
            lines.append(f"max_rel_dev (GD vs exact spectral engine) = {res.max_rel_dev:.3e}")
        lines.append("predicted k_max (bounds):")
        lines += bound_lines(res.bounds, res.bound_status)
        return Outcome(payload, "\n".join(lines))

    def phases(self, params: Any, k: KGrid) -> Outcome:
        """Phases against ``k`` with refined boundaries and the bounds."""
        from ..experiments import sweep_quadratic

        a = params
        ks = k.values()
        setup = self.setup(a)
        refine: tuple[str, ...] = () if a.no_refine else ("catapult_onset", "divergence", "largest_convergent")
        sweep = sweep_quadratic(setup, ks, steps=a.steps, engine=a.engine, refine=refine)
        payload = sweep.to_dict()
        b = sweep.boundaries
        lines = [
            self._describe(setup),
            f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}; engine: {sweep.settings['engine']}; "
            f"k from {fmt(k.min)} to {fmt(k.max)} ({k.num} points), {a.steps} steps",
            *boundary_text(b, "grid resolution" if a.no_refine else "bisection"),
            "predicted k_max (bounds), and tightness = k_max / measured divergence:",
        ]

        def tightness(name: str, v: float) -> str:
            return f"   tightness {fmt(v / b['divergence'] if b['divergence'] else None, 4)}"

        lines += bound_lines(sweep.bounds, sweep.bound_status, tightness)
        lines.append("phases along k:")
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        return Outcome(payload, "\n".join(lines), PlotRequest(
            sweep, self._describe(setup), ("lam_eta", "w2_ratio", "train_loss", "test_loss")))


def _zeta(sizes: Any) -> Any:
    """``ζ = (m/2)^(-1/2)``, the quadratic models' scale."""
    from ..symbolic.models.quadratic import zeta_of

    return zeta_of(sizes["m"])


#: the scale zeta is fixed by the rank m
_ZETA = Instantiation(fixed={"zeta": _zeta})

PURE_QUADRATIC = _QuadraticFamily(
    "pure-quadratic", "pure quadratic model f = (zeta/2) theta^T psi(x) theta", pure_quadratic_model,
    data_specs=DATA_SPECS, report_section="quadratic", default_features=0,
    generic_theorems=("linear-onset", "weight-norm-identity", "weight-norm-decrease"),
    theorems=("ntk-bound-pure-quadratic", "ntk-bound-omega", "catapult-window-pure-quadratic", "closure-converse"),
    samplers={"step": "pure-quadratic", "batch": "pure-quadratic-batch"}, instantiation=_ZETA)

QUADRATIC_BIAS = _QuadraticFamily(
    "quadratic-bias", "quadratic model with bias f = theta_phi.phi(x) + (zeta/2) theta_psi^T psi(x) theta_psi",
    quadratic_bias_model, data_specs=DATA_SPECS, report_section="quadratic", default_features=10,
    generic_theorems=("linear-onset",), theorems=("ntk-bound-quadratic-bias", "catapult-window-quadratic-bias"),
    samplers={"step": "quadratic-bias"}, instantiation=_ZETA)

#: the records of this module (:data:`catapult_theory.families.REGISTRY`)
FAMILIES = [PURE_QUADRATIC, QUADRATIC_BIAS]
