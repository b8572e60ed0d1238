"""The uv model ``f(x) = vᵀ U x / √n``: symbols, parameters, set-up, memory, run, sweep, bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import CLIError
from ..symbolic.models import uv_model
from ._family import ModelFamily, Outcome, PlotRequest
from ._params import KGrid, finite_float, no_refine_param, nonneg_int, param, positive_float, positive_int
from ._text import bound_lines, boundary_text, fmt, phase_segments

__all__ = ["UV", "UVPhases", "UVRun"]


@dataclass(frozen=True, kw_only=True)
class UVRun:
    """``catapult run uv``: the width-n model on one datum at one ``k``."""

    width: int = param(help="width n", type=positive_int)
    eta_lambda: float = param(help="k = eta * lam0 (learning rate in units of 1/lam0)", type=positive_float,
                              metavar="K")
    steps: int = param(help="GD steps", type=positive_int)
    seed: int = param(0, help="seed of the N(0,1) init (default 0)", type=nonneg_int)
    y: float = param(0.0, help="target (default 0)", type=finite_float)
    d: int = param(1, help="input dimension (default 1)", type=positive_int)
    x_norm: float = param(1.0, help="|x|; x is the first basis vector scaled to it (default 1)", type=positive_float)


@dataclass(frozen=True, kw_only=True)
class UVPhases:
    """``catapult phases uv``: the exact map from a seeded (or given) initial state on a ``k`` grid."""

    width: int = param(help="width n", type=positive_int)
    y: float = param(0.0, help="target (default 0)", type=finite_float)
    f0: float | None = param(None, help="initial output (with --lam0; default: seeded init)", type=finite_float)
    lam0: float | None = param(None, help="initial NTK eigenvalue (with --f0)", type=positive_float)
    w2_0: float | None = param(None, help="initial |theta|^2 for the w2 ratio (with --f0/--lam0; default lam0/K)",
                               type=positive_float)
    seed: int = param(0, help="seed of the N(0,1) init (default 0)", type=nonneg_int)
    d: int = param(1, help="input dimension (default 1)", type=positive_int)
    x_norm: float = param(1.0, help="|x| (default 1)", type=positive_float)
    steps: int = param(2000, help="map iterations per k (default 2000)", type=positive_int)
    no_refine: bool = no_refine_param()


def _edge() -> float:
    """The linear stability edge ``eta_crit * lam`` (derived), where the window starts."""
    from ..engine import linear_stability_edge

    return linear_stability_edge()


class _UVFamily(ModelFamily):
    Run = UVRun
    Phases = UVPhases

    @property
    def constants(self) -> Any:
        from ..experiments import UV_CONSTANTS

        return UV_CONSTANTS

    def memory(self, command: str, params: Any, num: int = 1) -> list[Any]:
        """Parameters and gradients of the width-n model; ``phases``: the batch of ``num`` map runs."""
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need

        p = params
        rows = min(p.steps + 1, INITIAL_ROWS)
        if command == "run":
            return [Need("parameters and gradients (4 x width x d)", 8.0 * 4 * p.width * (p.d + 1), "--width"),
                    Need("trajectories (GD and exact map)", 8.0 * 2 * 3 * rows, "--steps")]
        init = 0 if p.f0 is not None else 8.0 * p.width * (p.d + 1)
        return [Need("the seeded initialisation (width x d)", init, "--width"),
                Need("the batch of exact-map runs (num x 4 series x rows)", 8.0 * num * (4 * rows + 64), "--num"),
                Need("the refinement batches (2 x 15 runs x 4 series x rows)",
                     0.0 if p.no_refine else 8.0 * refinement_batch(2) * (4 * rows + 64), "--steps")]

    def run(self, params: Any) -> Outcome:
        """GD beside the exact map."""
        from ..experiments import run_uv

        p = params
        res = run_uv(p.width, p.eta_lambda, p.steps, seed=p.seed, y=p.y, d=p.d, x_norm=p.x_norm)
        payload = res.to_dict()
        gd, mp = res.gd, res.reference
        assert mp is not None

        def stats(t: Any) -> list[str]:
            return [fmt(float(t.peak_loss())), fmt(float(t.final("loss"))),
                    fmt(float(res.eta * t.final("lam"))), fmt(float(t.final("w2") / res.w2_0)),
                    fmt(int(t.diverged_at)) if int(t.diverged_at) >= 0 else "-"]

        rows = list(zip(["peak loss", "final loss", "final eta*lam", "final w2/w2_0", "diverged at step"],
                        stats(gd), stats(mp)))
        text = [
            f"uv model: width {p.width}, d {p.d}, |x| {fmt(p.x_norm)}, y {fmt(p.y)}, seed {p.seed}",
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}"
            f"   steps = {p.steps}"
            + (f" (settled after {res.settings['steps_run']})" if res.settings["steps_run"] < p.steps else ""),
            f"phase: {res.phase} (GD), {res.settings['map_phase']} (exact map)",
            "",
            f"{'':18s} {'GD':>14s} {'exact map':>14s}",
        ]
        text += [f"{name:18s} {a:>14s} {b:>14s}" for name, a, b in rows]
        text += ["", f"max_rel_dev (GD vs exact map) = {res.max_rel_dev:.3e}",
                 f"predicted k_max (bounds; the proven window is {fmt(_edge())} < k < k_max):"]
        text += bound_lines(res.bounds, res.bound_status)
        return Outcome(payload, "\n".join(text))

    def setup(self, params: Any) -> Any:
        """The initial state: seeded, or given by ``f0``/``lam0`` (and ``w2_0``)."""
        from ..experiments import uv_setup, uv_state

        p = params
        if (p.f0 is None) != (p.lam0 is None):
            raise CLIError("--f0 and --lam0 go together")
        if p.w2_0 is not None and p.f0 is None:
            raise CLIError("--w2-0 goes with --f0 and --lam0")
        if p.f0 is not None:
            return uv_state(p.width, p.f0, p.lam0, y=p.y, w2_0=p.w2_0, x_norm=p.x_norm)
        return uv_setup(p.width, seed=p.seed, y=p.y, d=p.d, x_norm=p.x_norm)

    def phases(self, params: Any, k: KGrid) -> Outcome:
        """Phases of the exact map against ``k``."""
        from ..experiments import sweep_uv

        p = params
        ks = k.values()
        setup = self.setup(p)
        sweep = sweep_uv(setup, ks, steps=p.steps, refine=not p.no_refine)
        payload = sweep.to_dict()
        b = sweep.boundaries
        origin = "given" if p.f0 is not None else f"seeded N(0,1) init, seed {p.seed}"
        text = [
            f"uv exact map: width {p.width}, y {fmt(p.y)}, |x|^2 {fmt(setup.x2)}; "
            f"f0 = {fmt(setup.f0)}, lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)} ({origin})",
            f"k from {fmt(k.min)} to {fmt(k.max)} ({k.num} points), up to {p.steps} steps",
            *boundary_text(b, "grid resolution" if p.no_refine else "bisection"),
        ]
        if sweep.bounds:
            text.append(f"predicted k_max (bounds; the proven window is {fmt(_edge())} < k < k_max):")
            text += bound_lines(sweep.bounds, sweep.bound_status)
        else:
            text.append("no bound reported: the proven window (lemma) needs y = 0")
        text.append("phases along k:")
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            text.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        if any(str(ph) == "unresolved" for ph in sweep.phase):
            text.append("unresolved: neither converging nor diverged within the step budget; raise --steps")
        return Outcome(payload, "\n".join(text),
                       PlotRequest(sweep, f"uv exact map, n = {p.width}, y = {fmt(p.y)}"))


UV = _UVFamily(
    "uv", "uv model f(x) = v^T U x / sqrt(n)", uv_model,
    data_specs={"x = |x| e_1, target y": "one datum: the first basis vector of R^d scaled by --x-norm, label --y"},
    report_section="uv",
    generic_theorems=("linear-onset", "weight-norm-identity", "weight-norm-decrease", "ntk-bound"),
    theorems=("uv-map", "ntk-bound-uv", "catapult-window-uv", "divergence-shift-uv", "peak-law-uv"),
    samplers={"step": "uv", "batch": "uv-batch"},
)

#: the records of this module (:data:`catapult_theory.families.REGISTRY`)
FAMILIES = [UV]
