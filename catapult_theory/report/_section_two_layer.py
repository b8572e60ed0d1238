"""Report section: two-layer homogeneous nets - the proven window for leaky
ReLU, ReLU nets that collapse instead of diverging, and ReLU nets on real
images catapulting beyond the proven range with sparser activations.

:func:`compute_two_layer` runs the experiments into a :class:`TwoLayerResult`;
:func:`render_two_layer` writes its Markdown, :func:`two_layer_data` its
``data/two-layer.json`` and :func:`catapult_theory.report._plots.two_layer_figures`
its figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import sympy as sp  # type: ignore[import-untyped]

from ..engine import train_two_layer
from ..experiments import PhaseSweep, RunResult, TwoLayerSetup, run_two_layer, sweep_two_layer, two_layer_setup
from ..symbolic import bound_catalog, export_text, theory
from ._derived import exact, stability_edge, uv_k_max
from ._markdown import fmt_num as _g
from ._markdown import fmt_tol, image, md_table
from ._reproduce import SILENT, Context, Reporter, Section, SectionOutput, register_section

__all__ = ["TwoLayerSettings", "TwoLayerResult", "DigitsResult", "DigitsTrajectory", "compute_two_layer",
           "render_two_layer", "two_layer_data", "two_layer_section"]


@dataclass(frozen=True)
class TwoLayerSettings:
    """Sizes of the two-layer experiments (:meth:`quick` and :meth:`full` are the report's)."""

    width: int = 1024
    slope: float = 0.5
    leaky_k: tuple[float, float] = (0.1, 6.0)
    leaky_num: int = 119
    toy_steps: int = 3000
    #: one run beyond the leaky bound (THEORY §6: converges at k = 3.64)
    probe_k: float = 3.64
    relu_k: tuple[float, float] = (0.1, 10.0)
    relu_num: int = 199
    digits: bool = True
    digits_k: tuple[float, float] = (0.5, 20.0)
    digits_dk: float = 0.5
    digits_cap: int = 20000
    digits_tol: float = 1e-8
    digits_lam_every: int = 10
    #: "well beyond the proven range": catapults at k >= this are listed
    high_k: float = 8.0
    #: sparsity is compared between this k and the largest converging one
    sparsity_k: float = 1.0
    #: trajectories at these k and the largest converging one (this one if none converges)
    traj_ks: tuple[float, ...] = (1.0, 4.0, 8.0)
    traj_fallback_k: float = 12.0
    traj_test_every: int = 10

    @classmethod
    def quick(cls) -> TwoLayerSettings:
        """The ``--quick`` (smoke) sizes."""
        return cls(leaky_num=40, relu_num=50, digits_dk=1.0, digits_cap=4000)

    @classmethod
    def full(cls) -> TwoLayerSettings:
        """The full sizes."""
        return cls()

    @property
    def probe_key(self) -> str:
        """The data key of the probe run (``toy_leaky_k364``)."""
        return f"toy_leaky_k{self.probe_k:g}".replace(".", "")


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

    def sparsity_at(self, k: float | None) -> float | None:
        """Final sparsity at the grid point nearest ``k`` (``None`` for no ``k``)."""
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
    edge: float
    k_uv: float
    toy: TwoLayerSetup
    leaky_sweep: PhaseSweep
    probe: RunResult
    relu_sweep: PhaseSweep
    digits: DigitsResult | None
    digits_skipped: str | None
    rests_on: Mapping[str, str]

    @property
    def relu_divergent_below(self) -> tuple[int, int]:
        """ReLU, one datum: divergent runs below the ``relu_uv`` value, out of the grid points there."""
        k, ph = np.asarray(self.relu_sweep.k), np.asarray(self.relu_sweep.phase)
        below = k < self.relu_sweep.bounds["relu_uv"]
        return int((ph[below] == "divergent").sum()), int(below.sum())


def _slope_symbol() -> sp.Symbol:
    """The slope symbol ``a`` of the two-layer family (one of its declared scalars)."""
    return next(s for s in theory("two-layer").model.scalars if s.name == "a")


def _digits(s: TwoLayerSettings, reporter: Reporter) -> DigitsResult:
    dig = two_layer_setup(s.width, 0.0, "digits01")
    ks = np.arange(s.digits_k[0], s.digits_k[1] + 1e-4, s.digits_dk)
    cap = s.digits_cap
    sweep = sweep_two_layer(dig, ks, max_steps=cap, tol=s.digits_tol, refine=False, lam_every=s.digits_lam_every,
                            progress=reporter.ticker("digits sweep", cap))
    largest = sweep.settings["largest_converging_k"]
    ks_t = np.array([*s.traj_ks, float(largest) if largest else s.traj_fallback_k])
    reporter.progress(f"digits trajectories at k = {', '.join(f'{k:g}' for k in ks_t)}")
    tr = train_two_layer(dig.init, dig.data, dig.slope, ks_t / dig.lam0, cap, tol=s.digits_tol,
                         test_every=s.traj_test_every, progress=reporter.ticker("digits trajectories", cap))
    trajs = []
    for i, k in enumerate(ks_t):
        one = tr.traj.run(i)
        end = int(tr.stopped_at[i]) + 1
        trajs.append(DigitsTrajectory(float(k), str(tr.phase[i]), {
            "loss": one.series("loss")[:end], "lam_eta": (k / dig.lam0) * one.series("lam")[:end],
            "sparsity": one.series("sparsity")[:end], "test_loss": one.series("test_loss")[:end]}))
    return DigitsResult(dig, sweep, cap, largest, tuple(trajs))


def compute_two_layer(settings: TwoLayerSettings, reporter: Reporter = SILENT) -> TwoLayerResult:
    """Run every two-layer experiment: leaky ReLU and ReLU on one datum, ReLU on
    the 0-vs-1 digits (skipped, with the reason, without scikit-learn)."""
    s = settings
    slope = exact(s.slope)
    reporter.progress(f"(a) toy datum, width {s.width}, a = {s.slope:g}")
    toy = two_layer_setup(s.width, s.slope, "toy")
    sweep_a = sweep_two_layer(toy, np.linspace(*s.leaky_k, s.leaky_num), max_steps=s.toy_steps, tol=None)
    probe = run_two_layer(toy, s.probe_k, s.toy_steps)

    reporter.progress("ReLU, toy datum: divergence and collapse")
    relu = two_layer_setup(s.width, 0.0, "toy")
    sweep_r = sweep_two_layer(relu, np.linspace(*s.relu_k, s.relu_num), max_steps=s.toy_steps, tol=None)

    digits, skipped = None, None
    if s.digits:
        reporter.progress(f"(b) digits01, width {s.width}, ReLU, k = {s.digits_k[0]:g} .. {s.digits_k[1]:g} "
                          f"(GD until the loss changes by < {fmt_tol(s.digits_tol)})")
        try:
            digits = _digits(s, reporter)
        except ImportError as exc:
            skipped = str(exc)
    return TwoLayerResult(
        settings=s, slope_text=str(slope), derived_text=export_text(theory("two-layer"), {_slope_symbol(): slope}),
        edge=stability_edge(), k_uv=uv_k_max(), toy=toy, leaky_sweep=sweep_a, probe=probe, relu_sweep=sweep_r,
        digits=digits, digits_skipped=skipped,
        rests_on={name: "; ".join(spec.rests_on) for name, spec in bound_catalog("two-layer").items()})


def two_layer_data(res: TwoLayerResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/two-layer.json``."""
    data: dict[str, Any] = {
        "toy_leaky": res.leaky_sweep.to_dict(),
        res.settings.probe_key: {"phase": res.probe.phase, "bound": res.leaky_sweep.bounds["single"]},
        "toy_relu": res.relu_sweep.to_dict(),
    }
    if res.digits is not None:
        data["digits_relu"] = res.digits.sweep.to_dict()
    return data


def _render_digits(res: TwoLayerResult, dg: DigitsResult, figs: Mapping[str, str]) -> list[str]:
    s, sw = res.settings, dg.sweep
    spars = dg.sparsity
    rows = [[f"{k:g}", str(p), _g(float(sw.final["lam_eta"][i]), 4), _g(float(sw.final["train_loss"][i]), 3),
             _g(float(sw.final["test_loss"][i]), 3), _g(float(spars[i]), 4), str(int(sw.final["steps"][i]))]
            for i, (k, p) in enumerate(zip(sw.k, sw.phase))]
    high = dg.catapults_from(s.high_k)
    low_sparsity = dg.sparsity_at(s.sparsity_k)
    return [
        "### (b) ReLU on real images: the 0-vs-1 digits", "",
        f"{dg.setup.settings['data_description']}. MNIST/FMNIST/CIFAR-10 cannot be downloaded here; these 8x8 "
        f"digits stand in for them. Full-batch GD until the loss changes by less than {fmt_tol(s.digits_tol)} per step "
        f"(cap {dg.cap} steps). lam0 = {dg.setup.lam0:.5g}; the `data` bound predicts k_max = "
        f"{_g(sw.bounds.get('data'), 4)}.", "",
        f"Catapult (loss rises, then converges) at k >= {s.high_k:g}: "
        f"**{', '.join(f'{k:g}' for k in high) or 'none'}**. Largest converging k: **{_g(dg.largest, 4)}**; first "
        f"divergent k: {_g(sw.boundaries['divergence'], 4)} (grid resolution). Activation sparsity at the end: "
        f"**{_g(low_sparsity, 4) if low_sparsity is None else f'{low_sparsity:.4f}'}** at k = {s.sparsity_k:g} "
        f"against **{_g(dg.sparsity_at(dg.largest), 4)}** at the largest converging k.", "",
        *image("digits", figs.get("digits_phases")),
        md_table(["k", "phase", "final eta*lam", "train loss", "test loss", "sparsity", "steps"], rows), "",
        *image("trajectories", figs.get("digits_trajectories")),
        "What the bounds rest on:", "",
        *[f"- `{name}`: {why}" for name, why in res.rests_on.items()], "",
    ]


def render_two_layer(res: TwoLayerResult, figures: Mapping[str, str] | None = None) -> str:
    """The section's Markdown; ``figures`` maps figure names (:func:`two_layer_figures`)
    to links, and a figure without a link is left out."""
    figs = dict(figures or {})
    s, sa, sr = res.settings, res.leaky_sweep, res.relu_sweep
    bound_a = sa.bounds["single"]
    div_a = sa.boundaries["divergence"]
    relu_k = sr.bounds["relu_uv"]
    n_div, n_below = res.relu_divergent_below
    md = [f"### Derived map (within an activation region, a = {res.slope_text})", "", "```", res.derived_text,
          "```", "",
          f"### (a) Leaky ReLU, a = {res.slope_text}, one datum", "",
          f"lam0 = {res.toy.lam0:.5g}, |theta_0|^2 = {res.toy.w2_0:.5g}. The `single` bound (K = max(1, a^2) "
          f"x2/(n d), derived per unit) predicts k_max = **{bound_a:.4g}**; at k = {s.probe_k:g}, well beyond it, "
          f"GD is **{res.probe.phase}**. GD first diverges at k = **{_g(div_a, 5)}** (bisection): the bound is "
          f"{'below' if bound_a < (div_a or np.inf) else 'NOT below'} the measured boundary, and not tight.", "",
          *image("leaky", figs.get("leaky_phases")),
          f"### ReLU on one datum: no divergence below {_g(relu_k)}, collapse beyond", "",
          f"Divergent runs below k = {_g(relu_k)}: **{n_div}** of {n_below}; first divergence at "
          f"k = {_g(sr.boundaries['divergence'], 5)} (none means none up to {sr.k[-1]:g}). Nets start to collapse "
          "(every unit inactive, f = 0: labelled `collapsed`, never catapult, although with y = 0 the dead net "
          f"fits the datum) at k = **{_g(sr.boundaries['collapse'], 5)}**. The `single` bound is "
          f"{_g(sr.bounds['single'], 4)} (below {_g(res.edge)}: the lemma proves no window here, since half the "
          "units start inactive); the argument of THEORY §6 (active units follow the uv law, dying units lower "
          f"lam) gives {_g(relu_k)} (the derived uv lam eta_max).", "",
          *image("relu", figs.get("relu_phases"))]
    if res.digits is not None:
        md += _render_digits(res, res.digits, figs)
    elif res.digits_skipped is not None:
        md += ["### (b) ReLU on the 0-vs-1 digits", "", f"Skipped: {res.digits_skipped}", ""]
    return "\n".join(md)


def two_layer_section(ctx: Context) -> SectionOutput:
    """The two-layer section of ``catapult reproduce``: compute, plot, render."""
    from ._plots import two_layer_figures

    res = compute_two_layer(TwoLayerSettings.quick() if ctx.quick else TwoLayerSettings.full(), ctx)
    figs = two_layer_figures(res, ctx.figure)
    return SectionOutput(render_two_layer(res, {name: ctx.rel(path) for name, path in figs.items()}),
                         two_layer_data(res))


register_section(Section("two-layer", "Two-layer homogeneous nets", two_layer_section))
