"""`catapult derive|run|phases pure-quadratic|quadratic-bias`."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import (
    CLIError,
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
    write_output,
    positive_float,
    positive_int,
)
from ._derive_common import derive_payload

__all__ = ["PureQuadraticFamily", "QuadraticBiasFamily", "quadratic_stack_bytes"]


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

ACTS = ("identity", "tanh", "relu", "leaky_relu")


def _even_rank(text: str) -> int:
    v = positive_int(text)
    if v % 2:
        raise argparse.ArgumentTypeError(f"the rank must be even (eigenvalues come in +-mu pairs), got {v}")
    return v


class PureQuadraticFamily(Family):
    """CLI face of the pure quadratic model (``--rank``, ``--mu-dist``, ``--act``, ``--data``)."""

    name = "pure-quadratic"
    help = "pure quadratic model f = (zeta/2) theta^T psi(x) theta"
    default_features = 0

    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        """The derived theory of the family."""
        return derive_payload(self.name, args.format)

    # ------------------------------------------------------------- shared arguments
    def _model_args(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--rank", type=_even_rank, required=True, metavar="M", help="rank m (even)")
        p.add_argument("--features", type=nonneg_int, default=None, metavar="P",
                       help="number of linear features p (quadratic-bias only; default 10)")
        p.add_argument("--seed", type=nonneg_int, default=0, help="seed of features, data and init (default 0)")
        p.add_argument("--mu-dist", default="uniform:1:2", metavar="DIST",
                       help="distribution of the mu_i: uniform:A:B (0 < A <= B) or normal:M:S "
                            "(truncated to mu > 0) (default uniform:1:2)")
        p.add_argument("--act", choices=ACTS, default="identity", help="activation g of psi (default identity)")
        p.add_argument("--data", default="toy", metavar="SPEC",
                       help="toy (x = 1, y = 0) or random:B:D (teacher-student, with a test set) (default toy)")
        p.add_argument("--test-size", type=nonneg_int, default=512, help="test points for random data (default 512)")
        p.add_argument("--mask", type=nonneg_int, default=0, metavar="N",
                       help="teacher coordinates of theta_psi set to zero (masked features, default 0)")

    def memory(self, args: argparse.Namespace, command: str) -> list[Any]:
        """The model's fixed parts (``W``, ``q``: d x m x m), the meta-feature stacks of the
        data (the teacher's labels are computed in chunks; a non-linear ``g`` keeps the
        training stack and the packed test stack), and the batch of rates."""
        from ..experiments import data_dimension, refinement_batch
        from ..engine import INITIAL_ROWS
        from ..resources import Need

        d = data_dimension(args.data)
        B = 1 if args.data.strip().lower().startswith("toy") else int(args.data.split(":")[1])
        m, p = args.rank, self.default_features if args.features is None else args.features
        # phases: the grid, then refinement rounds of both boundaries' brackets at once
        R = 1 if command == "run" else args.num if args.no_refine else max(args.num, refinement_batch(2))
        rows = min(args.steps + 1, INITIAL_ROWS)
        n_test = args.test_size if B > 1 else 0
        stacks, transient = quadratic_stack_bytes(m, d, B, n_test, args.act)
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

    def _setup(self, args: argparse.Namespace):
        from ..experiments import quadratic_setup

        if self.name == "pure-quadratic" and args.features not in (None, 0):
            raise CLIError("--features applies to quadratic-bias only")
        feats = self.default_features if args.features is None else args.features
        if self.name == "quadratic-bias" and feats < 1:
            raise CLIError("quadratic-bias needs --features >= 1")
        if args.mask > args.rank:
            raise CLIError(f"--mask ({args.mask}) exceeds the rank ({args.rank})")
        return quadratic_setup(self.name, args.rank, features_=feats, mu=args.mu_dist, activation=args.act,
                               data=args.data, seed=args.seed, test_size=args.test_size, mask_psi=args.mask)

    def _describe(self, setup) -> str:
        st = setup.settings
        feat = f", features {st['features']}" if self.name == "quadratic-bias" else ""
        return (f"{self.name}: rank {st['rank']}{feat}, mu ~ {st['mu']}, g = {st['activation']}, data {st['data']} "
                f"(B = {st['B']}, d = {st['d']}, test {st['test_size']}), seed {st['seed']}")

    # ------------------------------------------------------------- run
    def add_run_args(self, p: argparse.ArgumentParser) -> None:
        """Model arguments, ``--eta-lambda`` and ``--steps``."""
        self._model_args(p)
        p.add_argument("--eta-lambda", type=positive_float, required=True, metavar="K", help="k = eta * lam0")
        p.add_argument("--steps", type=positive_int, required=True, help="GD steps")

    def run(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Full-parameter GD beside the exact spectral engine (one datum); returns ``(payload, text)``."""
        from ..experiments import run_quadratic

        setup = self._setup(args)
        res = run_quadratic(setup, args.eta_lambda, args.steps)
        payload = res.to_dict()
        gd = res.gd
        lines = [
            self._describe(setup),
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}"
            f"   steps = {args.steps}",
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
        return payload, "\n".join(lines)

    # ------------------------------------------------------------- phases
    def add_phases_args(self, p: argparse.ArgumentParser) -> None:
        """Model arguments and the ``k`` grid, ``--engine``, ``--plot``."""
        self._model_args(p)
        add_k_grid(p)
        p.add_argument("--steps", type=positive_int, default=2000, help="steps per k (default 2000)")
        p.add_argument("--engine", choices=("auto", "reduced", "gd"), default="auto",
                       help="auto: exact spectral engine for one datum, GD otherwise")
        add_no_refine(p)
        p.add_argument("--plot", type=plot_path, metavar="FILE.png", help="write a phase diagram")

    def phases(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Phases against ``k`` with refined boundaries and the bounds; returns ``(payload, text)``."""
        from ..experiments import sweep_quadratic

        k = k_grid(args.k_min, args.k_max, args.num, args.k_scale)
        setup = self._setup(args)
        refine: tuple[str, ...] = () if args.no_refine else ("catapult_onset", "divergence")
        sweep = sweep_quadratic(setup, k, steps=args.steps, engine=args.engine, refine=refine)
        payload = sweep.to_dict()
        plot_line = None
        if args.plot:
            from ..report import plot_phase_diagram

            panels = ("lam_eta", "w2_ratio", "train_loss", "test_loss")
            payload["plot"] = str(args.plot)
            plot_line = write_output(args, "phase diagram", args.plot, lambda path: plot_phase_diagram(
                sweep, path, panels=panels, title=self._describe(setup)))
        b = sweep.boundaries
        lines = [
            self._describe(setup),
            f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}; engine: {sweep.settings['engine']}; "
            f"k from {fmt(args.k_min)} to {fmt(args.k_max)} ({args.num} points), {args.steps} steps",
            *boundary_text(b, "grid resolution" if args.no_refine else "bisection"),
            "predicted k_max (bounds), and tightness = k_max / measured divergence:",
        ]

        def tightness(name: str, v: float) -> str:
            return f"   tightness {fmt(v / b['divergence'] if b['divergence'] else None, 4)}"

        lines += bound_lines(sweep.bounds, sweep.bound_status, tightness)
        lines.append("phases along k:")
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        if plot_line:
            lines.append(plot_line)
        return payload, "\n".join(lines)


class QuadraticBiasFamily(PureQuadraticFamily):
    """CLI face of the quadratic model with bias (adds ``--features``)."""

    name = "quadratic-bias"
    help = "quadratic model with bias f = theta_phi.phi(x) + (zeta/2) theta_psi^T psi(x) theta_psi"
    default_features = 10
