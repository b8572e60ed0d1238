"""Report section: quadratic models - the proven window, where GD really
diverges, teacher-student generalisation, and how tight each bound is.

:func:`compute_quadratic` runs the experiments into a :class:`QuadraticResult`;
:func:`render_quadratic` writes its Markdown, :func:`quadratic_data` its
``data/quadratic.json`` and :func:`catapult_theory.report._plots.quadratic_figures`
its figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import PhaseCriteria, classify, train_quadratic
from ..experiments import (
    PhaseSweep,
    QuadraticSetup,
    RunResult,
    quadratic_setup,
    run_quadratic,
    sweep_quadratic,
)
from ..symbolic import bound_catalog, closure_obstruction, export_markdown, theory
from ._derived import k_max, stability_edge
from ._markdown import fmt_num as _g
from ._markdown import figure, fmt_tol, md_table
from ._summary import bounds_text, convergence_text, convergent, islands_text, status_label, sweep_row
from ._tex import derived_maps, plain, tex
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
    "BoundRow",
    "QuadraticResult",
    "QuadraticSettings",
    "compute_quadratic",
    "quadratic_data",
    "quadratic_section",
    "render_quadratic",
]

#: the bounds listed under "what each bound rests on", per model
_RESTS_ON = (("pure-quadratic", ("single", "omega", "effective")), ("quadratic-bias", ("feature", "naive")))

#: the phase criteria every run of this section is labelled with (the defaults)
_CRITERIA = PhaseCriteria()


@dataclass(frozen=True)
class QuadraticSettings:
    """Sizes of the quadratic-model experiments (:meth:`quick` and :meth:`full` are the report's).

    Rows of THEORY §7: 1 (``toy_*``), 4 (``rl_*``: random points, i.i.d. labels), 5
    (``ts_*``: teacher-student, tanh), 6 (``bias_*``: bias model, one datum) and 7
    (``bt_*``: bias model, teacher-student, tanh); ``unit_*`` is the psi^2 = I check.
    """

    toy_rank: int = 1000
    toy_mu: str = "uniform:1:2"
    traj_ks: tuple[float, ...] = (1.5, 2.3, 3.0)
    traj_steps: int = 400
    toy_k: tuple[float, float] = (0.1, 4.0)
    toy_num: int = 196
    toy_steps: int = 2000
    #: psi^2 = I: a grid around the derived k_max
    unit_k: tuple[float, float] = (3.0, 5.0)
    unit_num: int = 201
    rl_rank: int = 500
    rl_mu: str = "uniform:0.9:1.1"
    rl_data: str = "random:32:2"
    rl_inputs: str = "uniform:-0.5:0.5"
    rl_labels: str = "normal:0:1"
    rl_k: tuple[float, float] = (0.1, 6.0)
    rl_num: int = 60
    rl_steps: int = 2000
    rl_tol: float = 5e-3
    rl_traj_ks: tuple[float, ...] = (1.0, 2.5, 4.0)
    ts_rank: int = 500
    ts_mu: str = "uniform:0.9:1.1"
    ts_activation: str = "tanh"
    ts_data: str = "random:32:2"
    ts_test_size: int = 1000
    ts_mask_psi: int = 100
    ts_k: tuple[float, float] = (0.1, 6.0)
    ts_num: int = 30
    ts_steps: int = 1500
    ts_tol: float = 1e-2
    #: the boundaries refined by multisection (the others at grid resolution): rank 500 x 32
    #: meta-feature products make every refinement round as costly as half the grid
    ts_refine: tuple[str, ...] = ("divergence",)
    ts_traj_ks: tuple[float, ...] = (1.0, 3.0, 5.0)
    bias_rank: int = 100
    bias_features: int = 10
    bias_k: tuple[float, float] = (0.1, 4.5)
    bias_num: int = 221
    bias_steps: int = 3000
    bias_traj_ks: tuple[float, ...] = (1.5, 3.0, 3.7)
    bt_rank: int = 200
    bt_features: int = 20
    bt_mask_psi: int = 50
    bt_mask_phi: int = 10
    bt_mu: str = "uniform:1:1"
    bt_activation: str = "tanh"
    bt_data: str = "random:32:2"
    bt_inputs: str = "uniform:-1:1"
    bt_test_size: int = 2000
    bt_k: tuple[float, float] = (0.1, 6.0)
    bt_num: int = 40
    bt_steps: int = 2000
    bt_tol: float = 5e-3
    bt_traj_ks: tuple[float, ...] = (1.0, 2.5, 4.0)

    @classmethod
    def quick(cls) -> QuadraticSettings:
        """The ``--quick`` (smoke) sizes: the same experiments at small ranks and grids."""
        return cls(toy_rank=200, traj_steps=200, toy_num=40, toy_steps=1000, unit_num=21,
                   rl_rank=100, rl_num=24, rl_steps=800, rl_tol=2e-2,
                   ts_rank=100, ts_test_size=200, ts_mask_psi=20, ts_num=20, ts_steps=600, ts_tol=2e-2,
                   bias_num=45, bias_steps=1500,
                   bt_rank=60, bt_mask_psi=16, bt_test_size=400, bt_num=24, bt_steps=800, bt_tol=2e-2)

    @classmethod
    def full(cls) -> QuadraticSettings:
        """The full sizes."""
        return cls()


@dataclass(frozen=True)
class BoundRow:
    """One bound's predicted ``k_max`` beside the measured divergence boundary, with its
    status (:func:`catapult_theory.experiments.bound_status`) and THEORY §7 row."""

    setting: str
    model: str
    name: str
    rigorous: bool
    bound: float
    divergence: float | None
    status: Mapping[str, Any] | None = None
    row: str = ""

    @property
    def ratio(self) -> float | None:
        """``bound / divergence`` (``None`` without a measured divergence)."""
        return self.bound / self.divergence if self.divergence else None

    @property
    def below(self) -> bool:
        """Whether the value lies at or below the measured divergence (true without one)."""
        return self.divergence is None or self.bound <= self.divergence

    def cells(self) -> list[str]:
        """The row of the tightness table."""
        b, div = self.bound, self.divergence
        return [self.row or "-", self.setting, f"`{self.name}`", status_label(self.status or {}), _g(b, 5), _g(div, 5),
                _g(self.ratio, 4), "yes" if self.below else "no"]

    def to_dict(self) -> dict[str, Any]:
        """The row as numbers (``results.json``)."""
        st = dict(self.status or {})
        return {"row": self.row, "setting": self.setting, "model": self.model, "bound": self.name,
                "rigorous": self.rigorous, "theorem": st.get("theorem"), "hypotheses_hold": st.get("hypotheses_hold"),
                "status": status_label(st), "predicted_k_max": self.bound, "measured_divergence": self.divergence,
                "ratio": self.ratio, "below_divergence": self.below}


@dataclass(frozen=True)
class QuadraticResult:
    """Everything the quadratic section measured (see :func:`compute_quadratic`)."""

    settings: QuadraticSettings
    pure_text: str
    bias_text: str
    obstruction: str
    edge: float
    k_max: float
    toy: QuadraticSetup
    toy_runs: tuple[RunResult, ...]
    toy_sweep: PhaseSweep
    unit_sweep: PhaseSweep
    rl: QuadraticSetup
    rl_runs: tuple[RunResult, ...]
    rl_sweep: PhaseSweep
    ts: QuadraticSetup
    ts_runs: tuple[RunResult, ...]
    ts_sweep: PhaseSweep
    bias: QuadraticSetup
    bias_runs: tuple[RunResult, ...]
    bias_sweep: PhaseSweep
    bt: QuadraticSetup
    bt_runs: tuple[RunResult, ...]
    bt_sweep: PhaseSweep
    table: tuple[BoundRow, ...]
    rests_on: Mapping[tuple[str, str], str]
    #: the closure obstruction as LaTeX
    obstruction_tex: str = ""

    @property
    def toy_window(self) -> tuple[int, int]:
        """Grid points of the toy sweep strictly inside (edge, single bound), and how many are catapult."""
        k, ph = np.asarray(self.toy_sweep.k), np.asarray(self.toy_sweep.phase)
        inside = (k > self.edge) & (k < self.toy_sweep.bounds["single"])
        return int(inside.sum()), int((ph[inside] == "catapult").sum())


def _rows(model: str, setting: str, sweep: PhaseSweep, names: Sequence[str], row: str = "") -> list[BoundRow]:
    specs = bound_catalog(model)
    return [BoundRow(setting, model, name, specs[name].rigorous, sweep.bounds[name], sweep.boundaries["divergence"],
                     dict(sweep.bound_status.get(name, {})), row)
            for name in names]


def _runs(setup: QuadraticSetup, ks: Sequence[float], steps: int) -> tuple[RunResult, ...]:
    """Full-parameter GD at each ``k``, all rates in one batched run (training set only)."""
    k = np.asarray(ks, dtype=float)
    d = setup.data
    traj = train_quadratic(setup.model, setup.init, d.X, d.y, k / setup.lam0, steps)
    phase = classify(traj, _CRITERIA)
    return tuple(RunResult(model=setup.name, phase=str(phase[i]), eta=float(k[i] / setup.lam0), k=float(k[i]),
                           lam0=setup.lam0, w2_0=setup.w2_0, gd=traj.run(i), settings={**setup.settings, "steps": steps})
                 for i in range(k.size))


def compute_quadratic(settings: QuadraticSettings, reporter: Reporter = SILENT) -> QuadraticResult:
    """Run every quadratic-model experiment (THEORY §7 rows 1, 4, 5, 6, 7): one datum (GD
    beside the exact spectral engine, phases, psi^2 = I), random points with i.i.d. labels,
    teacher-student data, and the bias model on one datum and on teacher-student data."""
    s = settings
    reporter.progress(f"(a) toy datum, rank {s.toy_rank}, mu ~ {s.toy_mu}: GD vs exact spectral engine")
    toy = quadratic_setup("pure-quadratic", s.toy_rank, mu=s.toy_mu, data="toy")
    runs = tuple(run_quadratic(toy, k, s.traj_steps) for k in s.traj_ks)
    reporter.progress("(a) phase diagram against k")
    sweep_a = sweep_quadratic(toy, np.linspace(*s.toy_k, s.toy_num), steps=s.toy_steps)

    reporter.progress(f"(a') toy datum, rank {s.toy_rank}, mu = 1 (psi^2 = I)")
    toy1 = quadratic_setup("pure-quadratic", s.toy_rank, mu="uniform:1:1", data="toy")
    sweep_1 = sweep_quadratic(toy1, np.linspace(*s.unit_k, s.unit_num), steps=s.toy_steps)

    reporter.progress(f"(b) {s.rl_data}, inputs {s.rl_inputs}, labels {s.rl_labels}, rank {s.rl_rank} (GD)")
    rl = quadratic_setup("pure-quadratic", s.rl_rank, mu=s.rl_mu, data=s.rl_data, test_size=0,
                         inputs=s.rl_inputs, labels=s.rl_labels)
    rl_runs = _runs(rl, s.rl_traj_ks, s.rl_steps)
    sweep_rl = sweep_quadratic(rl, np.linspace(*s.rl_k, s.rl_num), steps=s.rl_steps, tol=s.rl_tol)

    reporter.progress(f"(c) {s.ts_data} teacher-student, rank {s.ts_rank}, {s.ts_activation}, "
                      f"{s.ts_test_size} test points (GD)")
    ts = quadratic_setup("pure-quadratic", s.ts_rank, mu=s.ts_mu, activation=s.ts_activation, data=s.ts_data,
                         test_size=s.ts_test_size, mask_psi=s.ts_mask_psi)
    ts_runs = _runs(ts, s.ts_traj_ks, s.ts_steps)
    sweep_b = sweep_quadratic(ts, np.linspace(*s.ts_k, s.ts_num), steps=s.ts_steps, tol=s.ts_tol,
                              refine=s.ts_refine)

    reporter.progress(f"(d) bias model, toy datum, {s.bias_features} features, rank {s.bias_rank}, mu = 1")
    bias = quadratic_setup("quadratic-bias", s.bias_rank, features_=s.bias_features, mu="uniform:1:1", data="toy")
    bias_runs = tuple(run_quadratic(bias, k, s.traj_steps) for k in s.bias_traj_ks)
    sweep_c = sweep_quadratic(bias, np.linspace(*s.bias_k, s.bias_num), steps=s.bias_steps)

    reporter.progress(f"(e) bias model, {s.bt_data} teacher-student, {s.bt_features} features "
                      f"({s.bt_mask_phi} masked), rank {s.bt_rank} ({s.bt_mask_psi} masked), {s.bt_activation}")
    bt = quadratic_setup("quadratic-bias", s.bt_rank, features_=s.bt_features, mu=s.bt_mu,
                         activation=s.bt_activation, data=s.bt_data, test_size=s.bt_test_size,
                         mask_psi=s.bt_mask_psi, mask_phi=s.bt_mask_phi, inputs=s.bt_inputs)
    bt_runs = _runs(bt, s.bt_traj_ks, s.bt_steps)
    sweep_e = sweep_quadratic(bt, np.linspace(*s.bt_k, s.bt_num), steps=s.bt_steps, tol=s.bt_tol)

    table = [*_rows("pure-quadratic", f"toy, m = {s.toy_rank}, μ ~ {_mu_label(s.toy_mu)}", sweep_a, ["single"], "1"),
             *_rows("pure-quadratic", f"toy, m = {s.toy_rank}, μ = 1 (ψ² = I)", sweep_1, ["single"]),
             *_rows("pure-quadratic", f"{s.rl_data}, m = {s.rl_rank}, labels {s.rl_labels}", sweep_rl,
                    list(sweep_rl.bounds), "4"),
             *_rows("pure-quadratic", f"{s.ts_data}, m = {s.ts_rank}, {s.ts_activation}, {s.ts_mask_psi} masked",
                    sweep_b, list(sweep_b.bounds), "5"),
             *_rows("quadratic-bias", f"bias, toy, p = {s.bias_features}, m = {s.bias_rank}, μ = 1", sweep_c,
                    list(sweep_c.bounds), "6"),
             *_rows("quadratic-bias", f"bias, {s.bt_data}, p = {s.bt_features}, m = {s.bt_rank}, "
                    f"{s.bt_activation}", sweep_e, list(sweep_e.bounds), "7")]
    rests_on = {(model, name): "; ".join(bound_catalog(model)[name].rests_on)
                for model, names in _RESTS_ON for name in names}
    return QuadraticResult(
        settings=s, pure_text=export_markdown(theory("pure-quadratic")),
        bias_text=export_markdown(theory("quadratic-bias")), obstruction=str(closure_obstruction()),
        obstruction_tex=tex(closure_obstruction()), edge=stability_edge(), k_max=k_max("pure-quadratic"), toy=toy,
        toy_runs=runs, toy_sweep=sweep_a, unit_sweep=sweep_1, rl=rl, rl_runs=rl_runs, rl_sweep=sweep_rl,
        ts=ts, ts_runs=ts_runs, ts_sweep=sweep_b, bias=bias, bias_runs=bias_runs, bias_sweep=sweep_c,
        bt=bt, bt_runs=bt_runs, bt_sweep=sweep_e, table=tuple(table), rests_on=rests_on)


def _mu_label(mu: str) -> str:
    """``uniform:1:2`` -> ``U[1,2]`` (the table's label of a distribution)."""
    kind, *args = mu.split(":")
    return f"U[{','.join(args)}]" if kind == "uniform" else mu


def _run_rows(res: QuadraticResult) -> list[list[str]]:
    return [[f"{r.k:g}", r.phase, str(r.settings["reduced_phase"]), f"{r.max_rel_dev:.2e}"] for r in res.toy_runs]


def _grid(k: tuple[float, float], num: int, steps: int, tol: float | None = None,
          refined: Sequence[str] = ("catapult_onset", "divergence")) -> str:
    """The grid a sweep used, as the report states it."""
    if tol is None:
        how = ""
    elif set(refined) >= {"catapult_onset", "divergence"}:
        how = f", boundaries refined to {fmt_tol(tol)}"
    else:
        how = (f", {' and '.join(refined) or 'no boundary'} refined to {fmt_tol(tol)} (the others at grid "
               "resolution)")
    return f"{num} values of k in [{k[0]:g}, {k[1]:g}], {steps} GD steps each{how}"


def _runs_data(runs: Sequence[RunResult]) -> list[dict[str, Any]]:
    return [r.scaled_series() for r in runs]


def quadratic_data(res: QuadraticResult) -> dict[str, Any]:
    """The numbers behind the section, for ``data/quadratic.json``."""
    return {
        "toy_u12": res.toy_sweep.to_dict(),
        "toy_u12_runs": [{"k": float(r.k), "phase": str(r.phase), "reduced_phase": str(r.settings["reduced_phase"]),
                          "max_rel_dev": None if r.max_rel_dev is None else float(r.max_rel_dev)}
                         for r in res.toy_runs],
        "toy_u11": res.unit_sweep.to_dict(),
        "random_labels": res.rl_sweep.to_dict(),
        "random_labels_runs": _runs_data(res.rl_runs),
        "teacher_student": res.ts_sweep.to_dict(),
        "teacher_student_runs": _runs_data(res.ts_runs),
        "bias_toy": res.bias_sweep.to_dict(),
        "bias_toy_runs": _runs_data(res.bias_runs),
        "bias_teacher_student": res.bt_sweep.to_dict(),
        "bias_teacher_student_runs": _runs_data(res.bt_runs),
        "table": [row.to_dict() for row in res.table],
    }


def _converging(sweep: PhaseSweep, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of a final quantity and the mask of converging runs where it is finite."""
    vals = np.asarray(sweep.final.get(name, np.full(len(sweep.k), np.nan)), dtype=float)
    return vals, np.isin(np.asarray(sweep.phase, dtype=str), ["lazy", "catapult"]) & np.isfinite(vals)


def _finals_at(sweep: PhaseSweep, name: str) -> str:
    """``min .. max`` of a final value over the converging runs (``-`` if none)."""
    vals, ok = _converging(sweep, name)
    if not np.any(ok):
        return "-"
    return f"{_g(float(vals[ok].min()), 3)} .. {_g(float(vals[ok].max()), 3)}"


def _best_test(sweep: PhaseSweep) -> str:
    """Where the final test loss is smallest over the converging runs."""
    vals, ok = _converging(sweep, "test_loss")
    if not np.any(ok):
        return "-"
    i = int(np.flatnonzero(ok)[np.argmin(vals[ok])])
    return f"k = {sweep.k[i]:g} ({sweep.phase[i]}, test loss {_g(float(vals[i]), 3)})"


def _status(boundaries: Mapping[str, Any], name: str) -> str:
    """`` (grid resolution: in [a, b])`` for a boundary not refined, else nothing."""
    det = getattr(boundaries, "details", {}).get(name, {})
    if det.get("status") == "grid":
        lo, hi = det["interval"]
        return f" (grid resolution: in [{lo:.4g}, {hi:.4g}])"
    return ""


def _many_data(title: str, setup: QuadraticSetup, sweep: PhaseSweep, grid: str, figs: Mapping[str, str],
               traj_key: str, phase_key: str, extra: Sequence[str] = (), what: str = "") -> list[str]:
    b = sweep.boundaries
    test = (f" Final test loss over the converging runs: {_finals_at(sweep, 'test_loss')}; smallest at "
            f"{_best_test(sweep)}." if "test_loss" in sweep.final else "")
    return [title, "", (f"{setup.data.description}. Full-parameter GD, $\\lambda_0 = \\lambda_{{\\max}}(H_0) = "
            f"{setup.lam0:.5g}$, $|\\theta_0|^2 = {setup.w2_0:.5g}$; {grid}."), "", *extra,
            (f"Values of k_max: {bounds_text(sweep)}. Measured: the loss first rises at k = "
             f"**{_g(b.get('catapult_onset'), 5)}**{_status(b, 'catapult_onset')}, GD first diverges at "
             f"k = **{_g(b.get('divergence'), 5)}**{_status(b, 'divergence')}, {convergence_text(sweep)}. "
             f"Final train loss over the converging runs: {_finals_at(sweep, 'train_loss')}.{test}"), "",
            *figure(figs.get(traj_key), f"{what}: GD trajectories",
                    f"{what}: GD trajectories (train loss, $\\eta\\lambda_t$, $|\\theta_t|^2/|\\theta_0|^2$) against "
                    "step + 1 (log)."),
            *figure(figs.get(phase_key), f"{what}: phase diagram",
                    f"{what}: final values against k, phases shaded, the measured boundaries (solid) and every "
                    "value of k_max with its status (dashed: a bound; dash-dotted: a reference that is not one "
                    "here).")]


def render_quadratic(res: QuadraticResult, figures: Mapping[str, str] | None = None) -> str:
    """The section's Markdown; ``figures`` maps figure names (:func:`quadratic_figures`)
    to links, and a figure without a link is left out."""
    figs = dict(figures or {})
    s = res.settings
    edge, km = _g(res.edge), _g(res.k_max)
    sa, s1, sb, sc, se = res.toy_sweep, res.unit_sweep, res.ts_sweep, res.bias_sweep, res.bt_sweep
    b1 = sa.bounds["single"]
    n_inside, n_catapult = res.toy_window
    naive = sc.bounds.get("naive")
    naive_st = sc.bound_status.get("naive", {})
    feature_st = sc.bound_status.get("feature", {})
    div_c = sc.boundaries["divergence"]
    largest_c, islands_c = convergent(sc)
    md = ["### Derived maps", "", derived_maps(res.pure_text), "",
          ("The map of $(f, \\lambda, w_2)$ needs $m_3$ and $m_4$ unless $\\psi^2 = \\kappa I$ (then it is the uv map "
           "with $x_2/n \\to \\kappa\\zeta^2$). Conversely, for ψ with eigenvalues $\\pm\\mu_1, \\pm\\mu_2$, the "
           "derivative of $m_3$ along the direction of eigen-weights that keeps $(f, \\lambda, w_2)$ fixed is "
           f"${res.obstruction_tex}$ (derived): non-zero unless $\\mu_1^2 = \\mu_2^2$, so the map closes "
           "only when $\\psi^2$ is a multiple of $I$."), "",
          derived_maps(res.bias_text), "",
          f"### (a) One datum, rank {s.toy_rank}, μ ~ {_mu_label(s.toy_mu).replace(',', ', ')} (row 1)", "",
          (f"$\\lambda_0 = {res.toy.lam0:.5g}$, $|\\theta_0|^2 = {res.toy.w2_0:.5g}$; "
           f"{_grid(s.toy_k, s.toy_num, s.toy_steps)} on the exact spectral engine. The `single` bound, "
           f"{status_label(sa.bound_status['single'])}, predicts k_max = **{b1:.5g}**; GD first diverges at "
           f"k = **{_g(sa.boundaries['divergence'], 6)}** (bisection on the exact spectral engine), "
           f"{convergence_text(sa)}. Of the {n_inside} grid points in ({edge}, {b1:.4g}), "
           f"{n_catapult} are catapult; the loss first rises at k = {_g(sa.boundaries['catapult_onset'], 6)} "
           f"({edge} plus a finite-rank shift of order 1/m, as for the uv model)."), "",
          md_table(["k", "phase (GD)", "phase (spectral)", "max. relative deviation"], _run_rows(res)), "",
          *figure(figs.get("toy_trajectories"), "pure quadratic model, one datum: trajectories",
                  f"Pure quadratic model, one datum, rank {s.toy_rank}: GD (solid) beside the exact spectral engine "
                  "(dashed) against step + 1 (log)."),
          *figure(figs.get("toy_phases"), "pure quadratic model, one datum: phase diagram",
                  "Pure quadratic model, one datum: final values against k with the boundaries and the `single` "
                  "bound."),
          "### (a') ψ² = I", "",
          ("With μ = 1 every eigenvalue of ψ is ±1, $\\psi^2 = I$ and the map closes (it is the uv map with "
           f"$x_2/n \\to \\kappa\\zeta^2$). The `single` bound is exactly {km} symbolically (the derived "
           f"$\\lambda\\eta_{{\\max}}$; evaluated: {s1.bounds['single']:.15g}, the rounding of eigvalsh) and GD "
           f"diverges at k = {_g(s1.boundaries['divergence'], 6)}."), "",
          *_many_data(f"### (b) Random points, i.i.d. labels: rank {s.rl_rank}, μ ~ "
                      f"{_mu_label(s.rl_mu).replace(',', ', ')}, identity g (row 4)", res.rl, res.rl_sweep,
                      _grid(s.rl_k, s.rl_num, s.rl_steps, s.rl_tol), figs, "random_labels_trajectories",
                      "random_labels_phases",
                      [("With identity g the output is linear in x, $f(x) = \\sum_i x_i \\theta^T W_i \\theta\\, "
                        "\\zeta/(2\\sqrt{d})$, so with i.i.d. labels the train loss of every converging run stops at "
                        "the same least-squares floor; a run resting there wobbles by a few units of round-off, which "
                        f"the classifier takes as a plateau (a final loss within {_CRITERIA.plateau_rtol:g} of the "
                        f"value {_CRITERIA.window} steps earlier is not rising), not as a rise."), ""],
                      what=f"Pure quadratic model, {res.rl.data.B} random points, i.i.d. labels"),
          *_many_data(f"### (c) Teacher-student data: {_ts_points(s.ts_data)}, {s.ts_test_size} test points, "
                      f"g = {s.ts_activation} (row 5)", res.ts, sb,
                      _grid(s.ts_k, s.ts_num, s.ts_steps, s.ts_tol, s.ts_refine),
                      figs, "teacher_student_trajectories", "teacher_student",
                      [(f"Rank {s.ts_rank}, μ ~ {_mu_label(s.ts_mu).replace(',', ', ')}; the teacher ignores "
                        f"{s.ts_mask_psi} of its {s.ts_rank} coordinates (masked)."), ""],
                      what=f"Pure quadratic model, {res.ts.data.B} teacher-student points"),
          (f"### (d) Quadratic model with bias, one datum, {s.bias_features} features, rank {s.bias_rank}, "
           "μ = 1 (row 6)"), "",
          ("The weight norm is the wrong Lyapunov function here (Euler fails); the modified norm "
           "$Q = |\\theta|^2 + (\\theta_\\phi \\cdot \\phi)^2/|\\phi|^2$ gives the `feature` bound "
           f"{_g(sc.bounds.get('feature'), 5)} ({status_label(feature_st)}). Dropping the feature terms gives the "
           f"`naive` value {_g(naive, 5)} ({status_label(naive_st)}): a reference line, not a bound, and false "
           f"here: GD diverges at k = {_g(div_c, 5)}, {_side(div_c, naive)} {_g(naive, 5)}"
           + (f", and converges again above that at k = {islands_text(islands_c)}" if islands_c else "")
           + f"; largest convergent k {_g(largest_c, 5)} "
           f"({_grid(s.bias_k, s.bias_num, s.bias_steps)} on the exact spectral engine)."), "",
          *figure(figs.get("bias_trajectories"), "bias model, one datum: trajectories",
                  f"Quadratic model with bias, one datum: GD (solid) beside the exact spectral engine (dashed) "
                  "against step + 1 (log), so the catapult in the first steps is visible."),
          *figure(figs.get("bias_phases"), "bias model, one datum: phase diagram",
                  "Quadratic model with bias, one datum: final values against k; the `feature` bound (dashed) and "
                  "the `naive` reference (dash-dotted, not a bound)."),
          *_many_data(f"### (e) Bias model, teacher-student data: {_ts_points(s.bt_data)}, {s.bt_test_size} test "
                      f"points, g = {s.bt_activation} (row 7)", res.bt, se,
                      _grid(s.bt_k, s.bt_num, s.bt_steps, s.bt_tol), figs, "bias_teacher_student_trajectories",
                      "bias_teacher_student_phases",
                      [(f"{s.bt_features} features ({s.bt_mask_phi} masked in the teacher), rank {s.bt_rank} "
                        f"({s.bt_mask_psi} masked), μ = 1, input coordinates ~ "
                        f"{_mu_label(s.bt_inputs).replace(',', ', ')} (the table gives no input dimension: d = 2 "
                        "as in rows 4 and 5). The catalogue's rigorous `feature` bound is for one datum; for many "
                        "data only the `naive` value is listed, and it is not a bound."), ""],
                      what=f"Bias model, {res.bt.data.B} teacher-student points"),
          "### (f) Every value of k_max beside the measured boundary", "",
          ("k_max predicted for the concrete initial state, its status (rigorous with the theorem that proves it, "
           "hypotheses fail here, or heuristic), the measured divergence boundary (bisection), and their ratio "
           "(1 = tight)."), "",
          md_table(["§7 row", "setting", "value", "status", "predicted k_max", "measured divergence", "ratio",
                    "at or below the divergence"], [row.cells() for row in res.table]), "",
          "What each bound rests on:", ""]
    md += [f"- `{name}` ({model}): {plain(why)}" for (model, name), why in res.rests_on.items()]
    md.append("")
    return "\n".join(md)


def quadratic_summary(res: QuadraticResult, figs: Mapping[str, str]) -> list[Any]:
    """The quadratic section's rows of the summary: THEORY §7 rows 1, 4, 5, 6, 7."""
    s = res.settings

    def f(*keys: str) -> tuple[str, ...]:
        return tuple(figs[k] for k in keys if k in figs)

    return [
        sweep_row("1", "quadratic", res.toy_sweep, f"rank {s.toy_rank}, μ ~ {_mu_label(s.toy_mu)}; "
                  + _grid(s.toy_k, s.toy_num, s.toy_steps) + " (exact spectral engine)",
                  f("toy_trajectories", "toy_phases")),
        sweep_row("4", "quadratic", res.rl_sweep, f"{res.rl.data.B} points, d = {res.rl.data.d}, rank {s.rl_rank}, "
                  f"μ ~ {_mu_label(s.rl_mu)}; " + _grid(s.rl_k, s.rl_num, s.rl_steps, s.rl_tol),
                  f("random_labels_trajectories", "random_labels_phases")),
        sweep_row("5", "quadratic", res.ts_sweep, f"{res.ts.data.B} / {res.ts.data.B_test} points, rank {s.ts_rank}, "
                  f"{s.ts_mask_psi} masked; " + _grid(s.ts_k, s.ts_num, s.ts_steps, s.ts_tol, s.ts_refine),
                  f("teacher_student_trajectories", "teacher_student")),
        sweep_row("6", "quadratic", res.bias_sweep, f"{s.bias_features} features, rank {s.bias_rank}, μ = 1; "
                  + _grid(s.bias_k, s.bias_num, s.bias_steps) + " (exact spectral engine)",
                  f("bias_trajectories", "bias_phases")),
        sweep_row("7", "quadratic", res.bt_sweep, f"{res.bt.data.B} / {res.bt.data.B_test} points, "
                  f"{s.bt_features} features ({s.bt_mask_phi} masked), rank {s.bt_rank} ({s.bt_mask_psi} masked); "
                  + _grid(s.bt_k, s.bt_num, s.bt_steps, s.bt_tol),
                  f("bias_teacher_student_trajectories", "bias_teacher_student_phases")),
    ]


def _side(value: float | None, ref: float | None) -> str:
    """``below`` / ``above`` / ``at``: where ``value`` lies relative to ``ref``."""
    if value is None or ref is None:
        return "compared with"
    return "below" if value < ref else "above" if value > ref else "at"


def _ts_points(data: str) -> str:
    """``random:32:2`` -> ``32 points in R^2``."""
    kind, *args = data.split(":")
    return f"{args[0]} points in R^{args[1]}" if kind == "random" and len(args) == 2 else data


def quadratic_section(ctx: Context) -> SectionOutput:
    """The quadratic section of ``catapult reproduce``: compute, plot, render."""
    from ._plots import quadratic_figures

    return figured_section(ctx, QuadraticSettings, compute_quadratic, quadratic_figures,
                           render_quadratic, quadratic_data, quadratic_summary)


def quadratic_memory(quick: bool) -> list[Any]:
    """The largest quadratic experiment's arrays: the toy sweep, the random-label and
    teacher-student sweeps and the bias sweeps, each as ``catapult phases`` estimates it."""
    s = QuadraticSettings.quick() if quick else QuadraticSettings.full()
    k = ["--k-min", "0.5", "--k-max", "5"]
    return largest(
        command_memory("pure-quadratic", "phases", ["--rank", s.toy_rank, *k, "--num", max(s.toy_num, s.unit_num),
                                                    "--steps", s.toy_steps]),
        command_memory("pure-quadratic", "phases", ["--rank", s.rl_rank, "--data", s.rl_data, "--test-size", "0", *k,
                                                    "--num", s.rl_num, "--steps", s.rl_steps]),
        command_memory("pure-quadratic", "phases", ["--rank", s.ts_rank, "--data", s.ts_data, "--act", s.ts_activation,
                                                    "--test-size", s.ts_test_size, *k, "--num", s.ts_num,
                                                    "--steps", s.ts_steps]),
        command_memory("quadratic-bias", "phases", ["--rank", s.bias_rank, "--features", s.bias_features, *k,
                                                    "--num", s.bias_num, "--steps", s.bias_steps]),
        command_memory("quadratic-bias", "phases", ["--rank", s.bt_rank, "--features", s.bt_features, "--data",
                                                    s.bt_data, "--act", s.bt_activation, "--test-size", s.bt_test_size,
                                                    *k, "--num", s.bt_num, "--steps", s.bt_steps]))


register_section(Section("quadratic", "Quadratic models", quadratic_section, quadratic_memory))
