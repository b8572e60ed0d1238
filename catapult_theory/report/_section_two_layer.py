"""Report section: two-layer homogeneous nets - the proven window for leaky
ReLU, ReLU nets that collapse instead of diverging, and ReLU nets on real
images catapulting beyond the proven range with sparser activations.

:func:`compute_two_layer` runs the experiments into a :class:`TwoLayerResult`;
:func:`render_two_layer` writes its Markdown, :func:`two_layer_data` its
``data/two-layer.json`` and :func:`catapult_theory.report._plots.two_layer_figures`
its figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp  # type: ignore[import-untyped]

from ..engine import train_two_layer, two_layer_output
from ..experiments import (
    PhaseSweep,
    RunResult,
    TwoLayerSetup,
    run_two_layer,
    sweep_two_layer,
    two_layer_setup,
)
from ..symbolic import bound_catalog, export_markdown, theory
from ._derived import exact, stability_edge, uv_divergence_law, uv_k_max
from ._markdown import fmt_num as _g
from ._markdown import figure, fmt_tol, md_table
from ._summary import ClaimRow, bounds_text, convergence_text, convergent, is_bound, islands_text, status_label, sweep_row
from ._tex import derived_maps, plain, theorem_statement
from ._sections import (
    Context,
    Reporter,
    SILENT,
    Section,
    SectionOutput,
    command_memory,
    figured_section,
    largest,
    register_section,
)

__all__ = [
    "DigitsResult",
    "DigitsTrajectory",
    "Row",
    "TwoLayerResult",
    "TwoLayerSettings",
    "compute_two_layer",
    "render_two_layer",
    "two_layer_data",
    "two_layer_section",
]


@dataclass(frozen=True)
class TwoLayerSettings:
    """Sizes of the two-layer experiments (:meth:`quick` and :meth:`full` are the report's).

    Rows of THEORY §7: 2 (leaky ``slope`` on one datum), 3 (``digits_*``), 8 (``slope2``
    on one datum), 9 (``rnd_*``: leaky ``rnd_slope`` on random 1-d points with a test set)
    and 10 (``ry_*``: ReLU on the datum ``ry_data``); ``relu_*`` is ReLU on x = 1, y = 0.
    """

    width: int = 1024
    slope: float = 0.5
    leaky_k: tuple[float, float] = (0.1, 6.0)
    leaky_num: int = 119
    toy_steps: int = 3000
    #: one run beyond the leaky bound (THEORY §6: converges at k = 3.64)
    probe_k: float = 3.64
    #: trajectories of the one-datum rows (the probe is added to row 2's)
    toy_traj_ks: tuple[float, ...] = (1.5, 3.0, 4.4)
    slope2: float = 0.75
    relu_k: tuple[float, float] = (0.1, 10.0)
    relu_num: int = 199
    rnd_data: str = "random:32:1:50"
    rnd_slope: float = 0.5
    rnd_k: tuple[float, float] = (0.1, 6.0)
    rnd_num: int = 60
    rnd_steps: int = 3000
    rnd_traj_ks: tuple[float, ...] = (1.0, 3.0, 4.5)
    ry_data: str = "toy:4:2"
    ry_k: tuple[float, float] = (0.1, 4.5)
    ry_num: int = 90
    ry_traj_ks: tuple[float, ...] = (1.0, 3.0, 4.2)
    #: boundaries of the one-datum and random-point sweeps are refined to this
    refine_tol: float = 1e-3
    digits: bool = True
    digits_width: int = 1024
    digits_k: tuple[float, float] = (0.5, 12.0)
    digits_dk: float = 0.5
    digits_cap: int = 3000
    digits_tol: float = 1e-8
    digits_lam_every: int = 10
    #: "well beyond the proven range": catapults at k >= this are listed
    high_k: float = 8.0
    #: sparsity is compared between this k and the largest converging one
    sparsity_k: float = 1.0
    #: trajectories at these k and the largest converging one (this one if none converges)
    traj_ks: tuple[float, ...] = (1.0, 4.0, 8.0)
    traj_fallback_k: float = 12.0
    #: the trajectories record the test loss and lam at every step (drawn as lines, the catapult in the
    #: first steps included)
    traj_test_every: int = 1
    traj_lam_every: int = 1

    @classmethod
    def quick(cls) -> TwoLayerSettings:
        """The ``--quick`` (smoke) sizes: the same experiments, small grids, widths and budgets."""
        return cls(width=256, leaky_num=30, toy_steps=1000, relu_num=30, rnd_num=20, rnd_steps=800, ry_num=24,
                   refine_tol=1e-2, digits_width=128, digits_dk=2.0, digits_cap=600)

    @classmethod
    def full(cls) -> TwoLayerSettings:
        """The full sizes."""
        return cls()

    @property
    def probe_key(self) -> str:
        """The data key of the probe run (``toy_leaky_k364``)."""
        return f"toy_leaky_k{self.probe_k:g}".replace(".", "")


@dataclass(frozen=True)
class Row:
    """One row of THEORY §7 on a small data set: its setup, a few trajectories and the sweep."""

    setup: TwoLayerSetup
    runs: tuple[RunResult, ...]
    sweep: PhaseSweep


@dataclass(frozen=True)
class DigitsTrajectory:
    """One GD run on the digits, cut at the step where it stopped."""

    k: float
    phase: str
    series: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class DigitsResult:
    """ReLU net on the 0-vs-1 digits: the sweep and a few trajectories."""

    setup: TwoLayerSetup
    sweep: PhaseSweep
    cap: int
    largest: float | None
    trajectories: tuple[DigitsTrajectory, ...]

    @property
    def sparsity(self) -> np.ndarray:
        """Final activation sparsity per ``k``."""
        return np.asarray(self.sweep.final["sparsity"], dtype=float)

    def grid_k(self, k: float | None) -> float | None:
        """The grid point nearest ``k`` (``None`` for no ``k``)."""
        if k is None:
            return None
        return float(self.sweep.k[int(np.argmin(np.abs(self.sweep.k - k)))])

    def sparsity_at(self, k: float | None) -> float | None:
        """Final sparsity at the grid point nearest ``k`` (:meth:`grid_k`; ``None`` for no ``k``)."""
        if k is None:
            return None
        return float(self.sparsity[int(np.argmin(np.abs(self.sweep.k - k)))])

    def catapults_from(self, k_min: float) -> list[float]:
        """Grid values ``k >= k_min`` whose run catapulted."""
        return [float(k) for k, p in zip(self.sweep.k, self.sweep.phase) if p == "catapult" and k >= k_min]


@dataclass(frozen=True)
class TwoLayerResult:
    """Everything the two-layer section measured (see :func:`compute_two_layer`)."""

    settings: TwoLayerSettings
    slope_text: str
    derived_text: str
    slope2_text: str
    derived2_text: str
    edge: float
    k_uv: float
    toy: TwoLayerSetup
    leaky_sweep: PhaseSweep
    probe: RunResult
    leaky_runs: tuple[RunResult, ...]
    leaky2: Row
    relu_sweep: PhaseSweep
    rnd: Row
    ry: Row
    #: the derived uv divergence threshold with y != 0 at row 10's initial state
    ry_uv_law: float
    digits: DigitsResult | None
    digits_skipped: str | None
    rests_on: Mapping[str, str]

    @property
    def relu_divergent_below(self) -> tuple[int, int]:
        """ReLU, one datum: divergent runs below the ``relu_uv`` value, out of the grid points there."""
        k, ph = np.asarray(self.relu_sweep.k), np.asarray(self.relu_sweep.phase)
        below = k < self.relu_sweep.bounds["relu_uv"]
        return int((ph[below] == "divergent").sum()), int(below.sum())


def _map_only(text: str) -> str:
    """The heading and the one-step map of an exported theory (Markdown; up to its closure line)."""
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if line.lower().startswith("closed in")), len(lines))
    return "\n".join(lines[:end]).rstrip()


def _slope_symbol() -> sp.Symbol:
    """The slope symbol ``a`` of the two-layer family (one of its declared scalars)."""
    return next(s for s in theory("two-layer").model.scalars if s.name == "a")


def _runs(setup: TwoLayerSetup, ks: Sequence[float], steps: int) -> tuple[RunResult, ...]:
    """GD at each ``k``, all rates in one batched run (a run that settles or blows up stops)."""
    k = np.asarray(ks, dtype=float)
    run = train_two_layer(setup.init, setup.data, setup.slope, k / setup.lam0, steps)
    return tuple(RunResult(model="two-layer", phase=str(run.phase[i]), eta=float(k[i] / setup.lam0), k=float(k[i]),
                           lam0=setup.lam0, w2_0=setup.w2_0, gd=run.traj.run(i),
                           settings={**setup.settings, "steps": steps, "stopped_at": int(run.stopped_at[i])})
                 for i in range(k.size))


#: a sweep's run stops once its loss changes by less than this fraction of the initial loss in a
#: step: it has reached float64 round-off (with labels the loss stalls there, above the settled floor)
ROUNDOFF_TOL = 1e-20


def _sweep(setup: TwoLayerSetup, k: tuple[float, float], num: int, steps: int, refine_tol: float) -> PhaseSweep:
    """A phase sweep reporting final values: ``lam`` (one eigen-solve of the B x B Gram matrices)
    only where a run leaves and at the end, not at every step; runs stop at round-off."""
    return sweep_two_layer(setup, np.linspace(*k, num), max_steps=steps, tol=ROUNDOFF_TOL * setup.loss0,
                           refine_tol=refine_tol, lam_every=max(steps, 1))


def _row(setup: TwoLayerSetup, k: tuple[float, float], num: int, traj_ks: Sequence[float], steps: int,
         refine_tol: float) -> Row:
    return Row(setup, _runs(setup, traj_ks, steps), _sweep(setup, k, num, steps, refine_tol))


def _digits(s: TwoLayerSettings, reporter: Reporter) -> DigitsResult:
    dig = two_layer_setup(s.digits_width, 0.0, "digits01")
    ks = np.arange(s.digits_k[0], s.digits_k[1] + 1e-4, s.digits_dk)
    cap = s.digits_cap
    sweep = sweep_two_layer(dig, ks, max_steps=cap, tol=s.digits_tol, refine=False, lam_every=s.digits_lam_every,
                            progress=reporter.ticker("digits sweep", cap))
    largest = sweep.settings["largest_converging_k"]
    ks_t = np.array([*s.traj_ks, float(largest) if largest else s.traj_fallback_k])
    reporter.progress(f"digits trajectories at k = {', '.join(f'{k:g}' for k in ks_t)}")
    tr = train_two_layer(dig.init, dig.data, dig.slope, ks_t / dig.lam0, cap, tol=s.digits_tol,
                         lam_every=s.traj_lam_every, test_every=s.traj_test_every,
                         progress=reporter.ticker("digits trajectories", cap))
    trajs = []
    for i, k in enumerate(ks_t):
        one = tr.traj.run(i)
        end = int(tr.stopped_at[i]) + 1
        evaluated = np.flatnonzero(np.asarray(tr.lam_evaluated)[:end, i])  # lam only where it was computed
        evaluated = evaluated[evaluated < len(one.series("lam"))]
        trajs.append(DigitsTrajectory(float(k), str(tr.phase[i]), {
            "loss": one.series("loss")[:end], "lam_eta": (k / dig.lam0) * one.series("lam")[evaluated],
            "lam_steps": evaluated.astype(float),
            "w2_ratio": one.series("w2")[:end] / dig.w2_0,
            "sparsity": one.series("sparsity")[:end], "test_loss": one.series("test_loss")[:end]}))
    return DigitsResult(dig, sweep, cap, largest, tuple(trajs))


def compute_two_layer(settings: TwoLayerSettings, reporter: Reporter = SILENT) -> TwoLayerResult:
    """Run every two-layer experiment (THEORY §7 rows 2, 3, 8, 9, 10): leaky ReLU and ReLU on
    one datum, leaky ReLU on random 1-d points, ReLU on a datum with y != 0, and ReLU on the
    0-vs-1 digits (skipped, with the reason, without scikit-learn)."""
    s = settings
    slope, slope2 = exact(s.slope), exact(s.slope2)
    reporter.progress(f"(a) toy datum, width {s.width}, a = {slope}")
    toy = two_layer_setup(s.width, s.slope, "toy")
    sweep_a = _sweep(toy, s.leaky_k, s.leaky_num, s.toy_steps, s.refine_tol)
    leaky_runs = _runs(toy, sorted({*s.toy_traj_ks, s.probe_k}), s.toy_steps)
    probe = run_two_layer(toy, s.probe_k, s.toy_steps)

    reporter.progress(f"(b) toy datum, width {s.width}, a = {slope2}")
    leaky2 = _row(two_layer_setup(s.width, s.slope2, "toy"), s.leaky_k, s.leaky_num, s.toy_traj_ks, s.toy_steps,
                  s.refine_tol)

    reporter.progress("ReLU, toy datum: divergence and collapse")
    relu = two_layer_setup(s.width, 0.0, "toy")
    sweep_r = _sweep(relu, s.relu_k, s.relu_num, s.toy_steps, s.refine_tol)

    reporter.progress(f"(c) {s.rnd_data}, width {s.width}, a = {exact(s.rnd_slope)}")
    rnd = _row(two_layer_setup(s.width, s.rnd_slope, s.rnd_data), s.rnd_k, s.rnd_num, s.rnd_traj_ks, s.rnd_steps,
               s.refine_tol)

    reporter.progress(f"(d) ReLU, datum {s.ry_data}, width {s.width}")
    ry_setup = two_layer_setup(s.width, 0.0, s.ry_data)
    ry = _row(ry_setup, s.ry_k, s.ry_num, s.ry_traj_ks, s.toy_steps, s.refine_tol)
    X, y = ry_setup.data.X, ry_setup.data.y
    f0 = float(two_layer_output(ry_setup.init, X, 0.0)[0])
    ry_law = float(uv_divergence_law().k_div(f0, ry_setup.lam0, float(y[0]), s.width, float(X[0] @ X[0])))

    digits, skipped = None, None
    if s.digits:
        reporter.progress(f"(e) digits01, width {s.digits_width}, ReLU, k = {s.digits_k[0]:g} .. {s.digits_k[1]:g} "
                          f"(GD until the loss changes by < {fmt_tol(s.digits_tol)}, at most {s.digits_cap} steps)")
        try:
            digits = _digits(s, reporter)
        except ImportError as exc:
            skipped = str(exc)
    a_sym = _slope_symbol()
    return TwoLayerResult(
        settings=s, slope_text=str(slope), derived_text=export_markdown(theory("two-layer"), {a_sym: slope}),
        slope2_text=str(slope2), derived2_text=_map_only(export_markdown(theory("two-layer"), {a_sym: slope2})),
        edge=stability_edge(), k_uv=uv_k_max(), toy=toy, leaky_sweep=sweep_a, probe=probe, leaky_runs=leaky_runs,
        leaky2=leaky2, relu_sweep=sweep_r, rnd=rnd, ry=ry, ry_uv_law=ry_law, digits=digits, digits_skipped=skipped,
        rests_on={name: "; ".join(spec.rests_on) for name, spec in bound_catalog("two-layer").items()})


def _runs_data(runs: Sequence[RunResult]) -> list[dict[str, Any]]:
    return [r.scaled_series() for r in runs]


def _digits_stats(res: TwoLayerResult, dg: DigitsResult) -> dict[str, Any]:
    """The numbers the digits text quotes, computed once (stored in the data, rendered from there)."""
    s = res.settings
    largest, islands = convergent(dg.sweep)
    low_k = dg.grid_k(s.sparsity_k)
    phase = np.asarray([str(p) for p in dg.sweep.phase])
    return {"catapults_from_high_k": dg.catapults_from(s.high_k), "high_k": s.high_k,
            "catapult_count": int(np.sum(phase == "catapult")),
            "catapults_beyond_uv_threshold": int(np.sum((phase == "catapult") & (dg.sweep.k > res.k_uv))),
            "largest_converging_k": dg.largest, "largest_convergent": largest, "islands": islands,
            "first_divergent_k": dg.sweep.boundaries.get("divergence"),
            "sparsity_low_k": low_k, "sparsity_at_low_k": dg.sparsity_at(low_k),
            "sparsity_at_largest": dg.sparsity_at(dg.largest)}


def two_layer_data(res: TwoLayerResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/two-layer.json``."""
    data: dict[str, Any] = {
        "toy_leaky": res.leaky_sweep.to_dict(),
        res.settings.probe_key: {"phase": res.probe.phase, "bound": res.leaky_sweep.bounds["single"]},
        "toy_relu": res.relu_sweep.to_dict(),
        "toy_relu_divergent_below_relu_uv": dict(zip(("divergent", "of"), res.relu_divergent_below)),
        "toy_leaky_runs": _runs_data(res.leaky_runs),
        "toy_leaky_a34": res.leaky2.sweep.to_dict(),
        "toy_leaky_a34_runs": _runs_data(res.leaky2.runs),
        "random_1d": res.rnd.sweep.to_dict(),
        "random_1d_runs": _runs_data(res.rnd.runs),
        "toy_relu_y": {**res.ry.sweep.to_dict(), "uv_law_k_div": res.ry_uv_law},
        "toy_relu_y_runs": _runs_data(res.ry.runs),
    }
    if res.digits is not None:
        data["digits_relu"] = res.digits.sweep.to_dict()
        data["digits_relu_stats"] = _digits_stats(res, res.digits)
    return data


def _render_digits(res: TwoLayerResult, dg: DigitsResult, figs: Mapping[str, str]) -> list[str]:
    s, sw = res.settings, dg.sweep
    st = _digits_stats(res, dg)
    spars = dg.sparsity
    rows = [[f"{k:g}", str(p), _g(float(sw.final["lam_eta"][i]), 4), _g(float(sw.final["train_loss"][i]), 3),
             _g(float(sw.final["test_loss"][i]), 3), _g(float(spars[i]), 4), str(int(sw.final["steps"][i]))]
            for i, (k, p) in enumerate(zip(sw.k, sw.phase))]
    high = st["catapults_from_high_k"]
    low_sp, low_k = st["sparsity_at_low_k"], st["sparsity_low_k"]
    return [
        "### (e) ReLU on real images: the 0-vs-1 digits (row 3)", "",
        (f"{dg.setup.settings['data_description']}. MNIST/FMNIST/CIFAR-10 cannot be downloaded here; these 8x8 "
         f"digits stand in for them. Width {dg.setup.width}, ReLU; k = {s.digits_k[0]:g}, "
         f"{s.digits_k[0] + s.digits_dk:g}, ..., {sw.k[-1]:g} ({len(sw.k)} values). Full-batch GD until the loss "
         f"changes by less than {fmt_tol(s.digits_tol)} per step or {dg.cap} steps (the step budget of the full "
         "run; the column `steps` says where each run stopped, and final values are those at that step; "
         f"{int(np.sum(np.asarray(sw.final['steps']) >= dg.cap))} of {len(sw.k)} runs stopped at the cap). "
         f"$\\lambda_0 = {dg.setup.lam0:.5g}$. Bounds: {bounds_text(sw)}: no theorem covers 128 labelled "
         "images, so none of these is a bound here."), "",
        (f"Catapult (loss rises, then converges) at k ≥ {s.high_k:g}: "
         f"**{', '.join(f'{k:g}' for k in high) or 'none'}**; {st['catapult_count']} catapults in all, "
         f"{st['catapults_beyond_uv_threshold']} of them beyond k = {_g(res.k_uv)}. Largest converging k: "
         f"**{_g(dg.largest, 4)}**; first divergent k: {_g(st['first_divergent_k'], 4)} (grid resolution)"
         + (f"; converges again above it at k = {islands_text(st['islands'])}" if st["islands"] else "")
         + f". Activation sparsity at the end: **{_g(low_sp, 4)}** at k = {_g(low_k, 4)} against "
         f"**{_g(st['sparsity_at_largest'], 4)}** at the largest converging k."), "",
        *figure(figs.get("digits_phases"), "two-layer ReLU on the 0-vs-1 digits: final values against k",
                f"Two-layer ReLU net, width {dg.setup.width}, on {dg.setup.data.B} digits (0 vs 1): final "
                "$\\eta\\lambda$, weight norm, train and test loss and activation sparsity against k; the bounds "
                "are drawn with their status (none applies to many labelled data)."),
        md_table(["k", "phase", "final ηλ", "train loss", "test loss", "sparsity", "steps"], rows), "",
        *figure(figs.get("digits_trajectories"), "two-layer ReLU on the digits: trajectories",
                "Trajectories on the digits against step + 1 (log): train and test loss, "
                "$\\eta\\lambda_t$ (a line through the steps where λ was computed), weight norm and sparsity."),
        "What the bounds rest on:", "",
        *[f"- `{name}`: {plain(why)}" for name, why in res.rests_on.items()], "",
    ]


def _grid(k: tuple[float, float], num: int, steps: int, tol: float) -> str:
    return f"{num} values of k in [{k[0]:g}, {k[1]:g}], at most {steps} GD steps, boundaries refined to {fmt_tol(tol)}"


def _single(sweep: PhaseSweep) -> str:
    """The `single` value with its status."""
    return f"`single` = {_g(sweep.bounds['single'], 4)} ({status_label(sweep.bound_status['single'])})"


def render_two_layer(res: TwoLayerResult, figures: Mapping[str, str] | None = None) -> str:
    """The section's Markdown; ``figures`` maps figure names (:func:`two_layer_figures`)
    to links, and a figure without a link is left out."""
    figs = dict(figures or {})
    s, sa, sr = res.settings, res.leaky_sweep, res.relu_sweep
    bound_a = sa.bounds["single"]
    div_a = sa.boundaries["divergence"]
    relu_k = sr.bounds["relu_uv"]
    relu_st = status_label(sr.bound_status["relu_uv"])
    n_div, n_below = res.relu_divergent_below
    l2, rnd, ry = res.leaky2.sweep, res.rnd.sweep, res.ry.sweep
    d2 = l2.boundaries["divergence"]
    thm = theorem_statement("relu-one-datum")
    single_word = "bound" if is_bound(sa.bound_status["single"]) else "value"
    md = [f"### Derived map (within an activation region, a = {res.slope_text})", "", derived_maps(res.derived_text),
          "",
          f"### (a) Leaky ReLU, a = {res.slope_text}, one datum x = 1, y = 0 (row 2)", "",
          (f"Width {s.width}; {_grid(s.leaky_k, s.leaky_num, s.toy_steps, s.refine_tol)}. "
           f"$\\lambda_0 = {res.toy.lam0:.5g}$, $|\\theta_0|^2 = {res.toy.w2_0:.5g}$. The `single` {single_word} "
           f"($K = \\max(1, a^2)\\, x_2/(n d)$, derived per unit; {status_label(sa.bound_status['single'])}) "
           f"gives k_max = **{bound_a:.4g}**; at k = {s.probe_k:g}, well beyond it, GD is **{res.probe.phase}**. "
           f"GD first diverges at k = **{_g(div_a, 5)}** (bisection), {convergence_text(sa)}: the bound is "
           f"{'below' if bound_a < (div_a or np.inf) else 'NOT below'} the measured boundary, and not tight."), "",
          *figure(figs.get("leaky_trajectories"), f"leaky ReLU a = {res.slope_text}, one datum: trajectories",
                  f"Leaky ReLU (a = {res.slope_text}), one datum, width {s.width}: GD trajectories against step + 1 "
                  "(log), the probe run included."),
          *figure(figs.get("leaky_phases"), f"leaky ReLU a = {res.slope_text}, one datum: phase diagram",
                  f"Leaky ReLU (a = {res.slope_text}), one datum: final values against k, phases shaded, the "
                  "measured boundaries (solid) and the `single` bound with its status."),
          f"### (b) Leaky ReLU, a = {res.slope2_text}, one datum x = 1, y = 0 (row 8)", "",
          ("The one-step map with this slope entered exactly (the rest as for a = "
           f"{res.slope_text} above):"), "", derived_maps(res.derived2_text), "",
          (f"Width {s.width}; {_grid(s.leaky_k, s.leaky_num, s.toy_steps, s.refine_tol)}. $\\lambda_0 = "
           f"{res.leaky2.setup.lam0:.5g}$. {_single(l2)}; the loss first rises at "
           f"k = {_g(l2.boundaries['catapult_onset'], 5)} and GD first diverges at k = **{_g(d2, 5)}** "
           f"(a = {res.slope_text}: {_g(div_a, 5)}), {convergence_text(l2)}: with a closer to 1 the net is closer to the uv "
           f"model, whose threshold is {_g(res.k_uv)}."), "",
          *figure(figs.get("leaky2_trajectories"), f"leaky ReLU a = {res.slope2_text}: trajectories",
                  f"Leaky ReLU (a = {res.slope2_text}), one datum, width {s.width}: GD trajectories against step + 1."),
          *figure(figs.get("leaky2_phases"), f"leaky ReLU a = {res.slope2_text}: phase diagram",
                  f"Leaky ReLU (a = {res.slope2_text}), one datum: final values against k with the `single` bound."),
          f"### ReLU on one datum: no divergence below {_g(relu_k)}, collapse beyond (theorem `relu-one-datum`)", "",
          f"**Theorem** (`relu-one-datum`, proved by `catapult prove`). {plain(thm.title)}.", "",
          (f"**Measured.** Divergent runs below k = {_g(relu_k)}: **{n_div}** of {n_below}; first divergence "
           + (f"at k = {_g(sr.boundaries['divergence'], 5)}" if sr.boundaries["divergence"] is not None
              else f"none up to k = {sr.k[-1]:g}") + ". Nets start to collapse "
           "(every unit inactive, f = 0: labelled `collapsed`, never catapult; with y = 0 the dead net fits the "
           f"datum, as the theorem allows) at k = **{_g(sr.boundaries['collapse'], 5)}**. The `single` value is "
           f"{_g(sr.bounds['single'], 4)} ({status_label(sr.bound_status['single'])}; below {_g(res.edge)}: the "
           "lemma proves no window here, since half the units start inactive); `relu_uv` = "
           f"{_g(relu_k)} ({relu_st})."), "",
          *figure(figs.get("relu_phases"), "ReLU, one datum: phase diagram with collapse",
                  "ReLU net, one datum, x = 1, y = 0: final values against k; collapsed runs (grey) are not "
                  "divergent; the `relu_uv` line is the theorem's k = 4."),
          f"### (c) Leaky ReLU, a = {exact(s.rnd_slope)}, random 1-d points with a test set (row 9)", "",
          (f"{res.rnd.setup.data.description}. Width {s.width}; "
           f"{_grid(s.rnd_k, s.rnd_num, s.rnd_steps, s.refine_tol)}; $\\lambda_0 = \\lambda_{{\\max}}(H_0) = "
           f"{res.rnd.setup.lam0:.5g}$. Bounds: {bounds_text(rnd)}. The loss first rises at "
           f"k = **{_g(rnd.boundaries['catapult_onset'], 5)}**, GD first diverges at "
           f"k = **{_g(rnd.boundaries['divergence'], 5)}**, {convergence_text(rnd)}. In one dimension a bias-free "
           "homogeneous net is the two-slope function x ↦ c₊x (x > 0), c₋x (x < 0), and so is the teacher: a run "
           "that converges fits it exactly, and its test loss falls with its train loss."), "",
          *figure(figs.get("random_trajectories"), "leaky ReLU on random 1-d points: trajectories",
                  f"Leaky ReLU on {res.rnd.setup.data.B} random 1-d points: GD trajectories against step + 1."),
          *figure(figs.get("random_phases"), "leaky ReLU on random 1-d points: phase diagram",
                  "Leaky ReLU on random 1-d points: final values (train and test loss in their own panels) against "
                  "k, the bounds with their status."),
          f"### (d) ReLU, one datum with y ≠ 0: {s.ry_data.replace('toy:', 'x = ').replace(':', ', y = ')} (row 10)",
          "", (f"Width {s.width}; {_grid(s.ry_k, s.ry_num, s.toy_steps, s.refine_tol)}; $\\lambda_0 = "
               f"{res.ry.setup.lam0:.5g}$, initial loss {res.ry.setup.loss0:.4g}. Bounds: {bounds_text(ry)} (both "
               "are y = 0 statements). The derived uv divergence threshold for y ≠ 0 (the invariant line of the uv "
               "section, theorem `divergence-shift-uv`, for the active units, if none switched off) at this initial "
               f"state is k = {res.ry_uv_law:.5g}. Measured: the loss first rises at "
               f"k = **{_g(ry.boundaries['catapult_onset'], 5)}**, GD first diverges at "
               f"k = **{_g(ry.boundaries['divergence'], 5)}**, {convergence_text(ry)}, nets collapse from k = "
               f"**{_g(ry.boundaries.get('collapse'), 5)}** (none means not on the grid; a collapsed net is stuck "
               f"at loss y²/2 = {0.5 * float(res.ry.setup.data.y[0]) ** 2:g})."), "",
          *figure(figs.get("relu_y_trajectories"), "ReLU with y = 2: trajectories",
                  "ReLU net on one datum with y ≠ 0: GD trajectories against step + 1."),
          *figure(figs.get("relu_y_phases"), "ReLU with y = 2: phase diagram",
                  "ReLU net on one datum with y ≠ 0: final values against k; the derived uv threshold for y ≠ 0 "
                  "(dotted) beside the y = 0 values, whose hypotheses fail here.")]
    if res.digits is not None:
        md += _render_digits(res, res.digits, figs)
    elif res.digits_skipped is not None:
        md += ["### (e) ReLU on the 0-vs-1 digits (row 3)", "", f"Skipped: {res.digits_skipped}", ""]
    return "\n".join(md)


def two_layer_summary(res: TwoLayerResult, figs: Mapping[str, str]) -> list[Any]:
    """The two-layer section's rows of the summary: THEORY §7 rows 2, 3, 8, 9, 10 and two §6 claims."""
    s = res.settings

    def grid(k: tuple[float, float], num: int, steps: int) -> str:
        return f"{num} k in [{k[0]:g}, {k[1]:g}], ≤ {steps} steps, boundaries to {fmt_tol(s.refine_tol)}"

    def f(*keys: str) -> tuple[str, ...]:
        return tuple(figs[k] for k in keys if k in figs)

    rows: list[Any] = [
        sweep_row("2", "two-layer", res.leaky_sweep, f"width {s.width}; " + grid(s.leaky_k, s.leaky_num, s.toy_steps),
                  f("leaky_trajectories", "leaky_phases")),
        sweep_row("8", "two-layer", res.leaky2.sweep, f"width {s.width}; " + grid(s.leaky_k, s.leaky_num,
                                                                                   s.toy_steps),
                  f("leaky2_trajectories", "leaky2_phases")),
        sweep_row("9", "two-layer", res.rnd.sweep, f"{res.rnd.setup.data.B} points, {res.rnd.setup.data.B_test} test, "
                  f"width {s.width}; " + grid(s.rnd_k, s.rnd_num, s.rnd_steps), f("random_trajectories", "random_phases")),
        sweep_row("10", "two-layer", res.ry.sweep, f"width {s.width}; " + grid(s.ry_k, s.ry_num, s.toy_steps),
                  f("relu_y_trajectories", "relu_y_phases"), extra={"collapse": res.ry.sweep.boundaries.get("collapse"),
                                                                   "uv_law_k_div": res.ry_uv_law}),
    ]
    if res.digits is not None:
        dg = res.digits
        st = _digits_stats(res, dg)
        at_cap = int(np.sum(np.asarray(dg.sweep.final["steps"]) >= dg.cap))
        rows.append(sweep_row(
            "3", "two-layer", dg.sweep,
            f"digits 0 vs 1 ({dg.setup.data.B} train, 8×8), width {dg.setup.width}; {len(dg.sweep.k)} k in "
            f"[{dg.sweep.k[0]:g}, {dg.sweep.k[-1]:g}]; Δloss < {fmt_tol(s.digits_tol)} or {dg.cap} steps "
            f"({at_cap} of {len(dg.sweep.k)} runs stopped at the cap)",
            f("digits_phases", "digits_trajectories"), note="stand-in for MNIST",
            extra={"sparsity_low_k": st["sparsity_low_k"], "sparsity_at_low_k": st["sparsity_at_low_k"],
                   "sparsity_at_largest": st["sparsity_at_largest"], "catapult_count": st["catapult_count"],
                   "stopped_by_budget": at_cap}))
    n_div, n_below = res.relu_divergent_below
    sr = res.relu_sweep
    rows += [
        ClaimRow("leaky-not-tight", "two-layer", f"a = {res.slope_text}, width {s.width}, x = 1, y = 0; probe "
                 f"k = {s.probe_k:g}, {s.toy_steps} steps",
                 f"GD at k = {s.probe_k:g}: {res.probe.phase}; `single` = {_g(res.leaky_sweep.bounds['single'], 4)} "
                 f"({status_label(res.leaky_sweep.bound_status['single'])}); first divergence "
                 f"{_g(res.leaky_sweep.boundaries['divergence'], 5)}",
                 {"probe_k": s.probe_k, "probe_phase": res.probe.phase,
                  "single": res.leaky_sweep.bounds["single"], "divergence": res.leaky_sweep.boundaries["divergence"]},
                 res.leaky_sweep.bound_status["single"].get("theorem"), f("leaky_phases")),
        ClaimRow("relu-one-datum", "two-layer", f"ReLU, width {s.width}, x = 1, y = 0; {s.relu_num} k in "
                 f"[{s.relu_k[0]:g}, {s.relu_k[1]:g}]",
                 f"{n_div} of {n_below} runs below k = {_g(sr.bounds['relu_uv'])} diverge; collapse from "
                 f"k = {_g(sr.boundaries['collapse'], 5)}; first divergence "
                 + (_g(sr.boundaries['divergence'], 5) if sr.boundaries["divergence"] is not None
                    else f"none up to k = {sr.k[-1]:g}"),
                 {"divergent_below": n_div, "runs_below": n_below, "collapse": sr.boundaries["collapse"],
                  "divergence": sr.boundaries["divergence"]}, "relu-one-datum", f("relu_phases")),
    ]
    return rows


def two_layer_section(ctx: Context) -> SectionOutput:
    """The two-layer section of ``catapult reproduce``: compute, plot, render."""
    from ._plots import two_layer_figures

    return figured_section(ctx, TwoLayerSettings, compute_two_layer, two_layer_figures,
                           render_two_layer, two_layer_data, two_layer_summary)


def two_layer_memory(quick: bool) -> list[Any]:
    """The largest two-layer experiment's arrays: the toy sweeps (``relu_num`` and
    ``leaky_num`` rates) and the digits01 sweep, each as ``catapult phases two-layer``
    estimates it (the small random-data sweeps, 32 and 4 data, stay below the toy ones:
    ``--data`` of the command line takes no ``random:`` spec)."""
    s = TwoLayerSettings.quick() if quick else TwoLayerSettings.full()
    k = ["--k-min", "0.5", "--k-max", "5"]
    digits_num = int(np.floor((s.digits_k[1] - s.digits_k[0]) / s.digits_dk + 1e-9)) + 1
    return largest(
        command_memory("two-layer", "phases", ["--width", s.width, "--slope", s.slope, *k, "--num",
                                               max(s.leaky_num, s.relu_num), "--steps", s.toy_steps]),
        command_memory("two-layer", "phases", ["--width", s.digits_width, "--slope", "0", "--data", "digits01", *k,
                                               "--num", digits_num, "--steps", s.digits_cap, "--no-refine"]))


register_section(Section("two-layer", "Two-layer homogeneous nets", two_layer_section, two_layer_memory))
