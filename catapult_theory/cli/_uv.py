"""`catapult derive|run|phases uv`."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import (
    Family,
    add_k_grid,
    add_no_refine,
    bound_lines,
    boundary_text,
    finite_float,
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

__all__ = ["UVFamily"]


def _edge() -> float:
    """The linear stability edge ``eta_crit * lam`` (derived), where the window starts."""
    from ..engine import linear_stability_edge

    return linear_stability_edge()


class UVFamily(Family):
    """CLI face of the uv model (``--width``, ``--d``, ``--x-norm``, ``--y``)."""

    name = "uv"
    help = "uv model f(x) = v^T U x / sqrt(n)"

    # ------------------------------------------------------------- derive
    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        """The derived theory of the uv model."""
        return derive_payload("uv", args.format)

    def memory(self, args: argparse.Namespace, command: str) -> list[Any]:
        """Parameters and gradients of the width-n model; ``phases``: the batch of ``--num`` map runs."""
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need

        rows = min(args.steps + 1, INITIAL_ROWS)
        if command == "run":
            return [Need("parameters and gradients (4 x width x d)", 8.0 * 4 * args.width * (args.d + 1), "--width"),
                    Need("trajectories (GD and exact map)", 8.0 * 2 * 3 * rows, "--steps")]
        init = 0 if getattr(args, "f0", None) is not None else 8.0 * args.width * (args.d + 1)
        return [Need("the seeded initialisation (width x d)", init, "--width"),
                Need("the batch of exact-map runs (num x 4 series x rows)", 8.0 * args.num * (4 * rows + 64), "--num"),
                Need("the refinement batches (2 x 15 runs x 4 series x rows)",
                     0.0 if args.no_refine else 8.0 * refinement_batch(2) * (4 * rows + 64), "--steps")]

    # ------------------------------------------------------------- run
    def add_run_args(self, p: argparse.ArgumentParser) -> None:
        """``--width``, ``--eta-lambda``, ``--steps`` and the datum."""
        p.add_argument("--width", type=positive_int, required=True, help="width n")
        p.add_argument("--eta-lambda", type=positive_float, required=True, metavar="K",
                       help="k = eta * lam0 (learning rate in units of 1/lam0)")
        p.add_argument("--steps", type=positive_int, required=True, help="GD steps")
        p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the N(0,1) init (default 0)")
        p.add_argument("--y", type=finite_float, default=0.0, help="target (default 0)")
        p.add_argument("--d", type=positive_int, default=1, help="input dimension (default 1)")
        p.add_argument("--x-norm", type=positive_float, default=1.0,
                       help="|x|; x is the first basis vector scaled to it (default 1)")

    def run(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """GD beside the exact map; returns ``(payload, text)``."""
        from ..experiments import run_uv

        res = run_uv(args.width, args.eta_lambda, args.steps, seed=args.seed, y=args.y, d=args.d,
                     x_norm=args.x_norm)
        payload = res.to_dict()
        gd, mp = res.gd, res.reference
        assert mp is not None

        def stats(t):
            return [fmt(float(t.peak_loss())), fmt(float(t.final("loss"))),
                    fmt(float(res.eta * t.final("lam"))), fmt(float(t.final("w2") / res.w2_0)),
                    fmt(int(t.diverged_at)) if int(t.diverged_at) >= 0 else "-"]

        rows = list(zip(["peak loss", "final loss", "final eta*lam", "final w2/w2_0", "diverged at step"],
                        stats(gd), stats(mp)))
        text = [
            f"uv model: width {args.width}, d {args.d}, |x| {fmt(args.x_norm)}, y {fmt(args.y)}, seed {args.seed}",
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}"
            f"   steps = {args.steps}"
            + (f" (settled after {res.settings['steps_run']})" if res.settings["steps_run"] < args.steps else ""),
            f"phase: {res.phase} (GD), {res.settings['map_phase']} (exact map)",
            "",
            f"{'':18s} {'GD':>14s} {'exact map':>14s}",
        ]
        text += [f"{name:18s} {a:>14s} {b:>14s}" for name, a, b in rows]
        text += ["", f"max_rel_dev (GD vs exact map) = {res.max_rel_dev:.3e}",
                 f"predicted k_max (bounds; the proven window is {fmt(_edge())} < k < k_max):"]
        text += bound_lines(res.bounds, res.bound_status)
        return payload, "\n".join(text)

    # ------------------------------------------------------------- phases
    def add_phases_args(self, p: argparse.ArgumentParser) -> None:
        """The initial state (seeded or given) and the ``k`` grid."""
        p.add_argument("--width", type=positive_int, required=True, help="width n")
        p.add_argument("--y", type=finite_float, default=0.0, help="target (default 0)")
        p.add_argument("--f0", type=finite_float, help="initial output (with --lam0; default: seeded init)")
        p.add_argument("--lam0", type=positive_float, help="initial NTK eigenvalue (with --f0)")
        p.add_argument("--w2-0", type=positive_float, dest="w2_0",
                       help="initial |theta|^2 for the w2 ratio (with --f0/--lam0; default lam0/K)")
        p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the N(0,1) init (default 0)")
        p.add_argument("--d", type=positive_int, default=1, help="input dimension (default 1)")
        p.add_argument("--x-norm", type=positive_float, default=1.0, help="|x| (default 1)")
        add_k_grid(p)
        p.add_argument("--steps", type=positive_int, default=2000, help="map iterations per k (default 2000)")
        add_no_refine(p)
        p.add_argument("--plot", type=plot_path, metavar="FILE.png", help="write a phase diagram")

    def phases(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """Phases of the exact map against ``k``; returns ``(payload, text)``."""
        from ..experiments import sweep_uv, uv_setup, uv_state
        from ._common import CLIError

        k = k_grid(args.k_min, args.k_max, args.num, args.k_scale)
        if (args.f0 is None) != (args.lam0 is None):
            raise CLIError("--f0 and --lam0 go together")
        if args.w2_0 is not None and args.f0 is None:
            raise CLIError("--w2-0 goes with --f0 and --lam0")
        if args.f0 is not None:
            setup = uv_state(args.width, args.f0, args.lam0, y=args.y, w2_0=args.w2_0, x_norm=args.x_norm)
        else:
            setup = uv_setup(args.width, seed=args.seed, y=args.y, d=args.d, x_norm=args.x_norm)
        sweep = sweep_uv(setup, k, steps=args.steps, refine=not args.no_refine)
        payload = sweep.to_dict()
        plot_line = None
        if args.plot:
            from ..report import plot_phase_diagram

            payload["plot"] = str(args.plot)
            title = f"uv exact map, n = {args.width}, y = {fmt(args.y)}"
            plot_line = write_output(args, "phase diagram", args.plot,
                                     lambda path: plot_phase_diagram(sweep, path, title=title))
        b = sweep.boundaries
        origin = "given" if args.f0 is not None else f"seeded N(0,1) init, seed {args.seed}"
        text = [
            f"uv exact map: width {args.width}, y {fmt(args.y)}, |x|^2 {fmt(setup.x2)}; "
            f"f0 = {fmt(setup.f0)}, lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)} ({origin})",
            f"k from {fmt(args.k_min)} to {fmt(args.k_max)} ({args.num} points), up to {args.steps} steps",
            *boundary_text(b, "grid resolution" if args.no_refine else "bisection"),
        ]
        if sweep.bounds:
            text.append(f"predicted k_max (bounds; the proven window is {fmt(_edge())} < k < k_max):")
            text += bound_lines(sweep.bounds, sweep.bound_status)
        else:
            text.append("no bound reported: the proven window (lemma) needs y = 0")
        text.append("phases along k:")
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            text.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        if any(str(p) == "unresolved" for p in sweep.phase):
            text.append("unresolved: neither converging nor diverged within the step budget; raise --steps")
        if plot_line:
            text.append(plot_line)
        return payload, "\n".join(text)
