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
from ..symbolic import bound_catalog, closure_obstruction, export_text, theory
from ._derived import k_max, stability_edge
from ._markdown import fmt_num as _g
from ._markdown import fmt_tol, image, md_table
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
    """One bound's predicted ``k_max`` beside the measured divergence boundary."""

    setting: str
    model: str
    name: str
    rigorous: bool
    bound: float
    divergence: float | None

    def cells(self) -> list[str]:
        """The row of the tightness table."""
        b, div = self.bound, self.divergence
        return [self.setting, self.name, "yes" if self.rigorous else "no (heuristic)", _g(b, 5), _g(div, 5),
                _g(b / div, 4) if div else "-", "yes" if (div is None or b <= div) else "**no**"]


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

    @property
    def toy_window(self) -> tuple[int, int]:
        """Grid points of the toy sweep strictly inside (edge, single bound), and how many are catapult."""
        k, ph = np.asarray(self.toy_sweep.k), np.asarray(self.toy_sweep.phase)
        inside = (k > self.edge) & (k < self.toy_sweep.bounds["single"])
        return int(inside.sum()), int((ph[inside] == "catapult").sum())


def _rows(model: str, setting: str, sweep: PhaseSweep, names: Sequence[str]) -> list[BoundRow]:
    specs = bound_catalog(model)
    return [BoundRow(setting, model, name, specs[name].rigorous, sweep.bounds[name], sweep.boundaries["divergence"])
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

    table = [*_rows("pure-quadratic", f"1: toy, m = {s.toy_rank}, mu ~ {_mu_label(s.toy_mu)}", sweep_a, ["single"]),
             *_rows("pure-quadratic", f"toy, m = {s.toy_rank}, mu = 1 (psi^2 = I)", sweep_1, ["single"]),
             *_rows("pure-quadratic", f"4: {s.rl_data}, m = {s.rl_rank}, labels {s.rl_labels}", sweep_rl,
                    list(sweep_rl.bounds)),
             *_rows("pure-quadratic", f"5: {s.ts_data}, m = {s.ts_rank}, {s.ts_activation}, {s.ts_mask_psi} masked",
                    sweep_b, list(sweep_b.bounds)),
             *_rows("quadratic-bias", f"6: bias, toy, p = {s.bias_features}, m = {s.bias_rank}, mu = 1", sweep_c,
                    list(sweep_c.bounds)),
             *_rows("quadratic-bias", f"7: bias, {s.bt_data}, p = {s.bt_features}, m = {s.bt_rank}, "
                    f"{s.bt_activation}", sweep_e, list(sweep_e.bounds))]
    rests_on = {(model, name): "; ".join(bound_catalog(model)[name].rests_on)
                for model, names in _RESTS_ON for name in names}
    return QuadraticResult(
        settings=s, pure_text=export_text(theory("pure-quadratic")), bias_text=export_text(theory("quadratic-bias")),
        obstruction=str(closure_obstruction()), edge=stability_edge(), k_max=k_max("pure-quadratic"), toy=toy,
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
        "toy_u12_runs": [dict(zip(["k", "phase", "reduced_phase", "max_rel_dev"], r)) for r in _run_rows(res)],
        "toy_u11": res.unit_sweep.to_dict(),
        "random_labels": res.rl_sweep.to_dict(),
        "random_labels_runs": _runs_data(res.rl_runs),
        "teacher_student": res.ts_sweep.to_dict(),
        "teacher_student_runs": _runs_data(res.ts_runs),
        "bias_toy": res.bias_sweep.to_dict(),
        "bias_toy_runs": _runs_data(res.bias_runs),
        "bias_teacher_student": res.bt_sweep.to_dict(),
        "bias_teacher_student_runs": _runs_data(res.bt_runs),
        "table": [row.cells() for row in res.table],
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
               traj_key: str, phase_key: str, extra: Sequence[str] = ()) -> list[str]:
    b = sweep.boundaries
    bounds = ", ".join(f"`{n}` = {_g(v, 5)} ({'rigorous' if sweep.settings['rigorous'][n] else 'heuristic'}"
                       f"{'' if sweep.bound_status[n]['hypotheses_hold'] else '; its hypotheses fail here'})"
                       for n, v in sweep.bounds.items())
    test = (f" Final test loss over the converging runs: {_finals_at(sweep, 'test_loss')}; smallest at "
            f"{_best_test(sweep)}." if "test_loss" in sweep.final else "")
    return [title, "", (f"{setup.data.description}. Full-parameter GD, lam0 = lam_max(H_0) = {setup.lam0:.5g}, "
            f"|theta_0|^2 = {setup.w2_0:.5g}; {grid}."), "", *extra,
            (f"Bounds (predicted k_max): {bounds}. Measured: the loss first rises at k = "
            f"**{_g(b.get('catapult_onset'), 5)}**{_status(b, 'catapult_onset')}, GD first diverges at "
            f"k = **{_g(b.get('divergence'), 5)}**{_status(b, 'divergence')}. "
            f"Final train loss over the converging runs: {_finals_at(sweep, 'train_loss')}.{test}"), "",
            *image("trajectories", figs.get(traj_key)), *image("phases", figs.get(phase_key))]


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
    md = ["### Derived maps", "", "```", res.pure_text, "```", "",
          ("The map of (f, lam, w2) needs m3 and m4 unless psi^2 = kappa I (then it is the uv map with "
          "x2/n -> kappa zeta^2). Conversely, for psi with eigenvalues +-mu1, +-mu2, the derivative of m3 along "
          f"the direction of eigen-weights that keeps (f, lam, w2) fixed is `{res.obstruction}` (derived): non-zero "
          "unless mu1^2 = mu2^2, so the map closes only when psi^2 is a multiple of I."), "",
          "```", res.bias_text, "```", "",
          f"### (a) One datum, rank {s.toy_rank}, mu ~ {_mu_label(s.toy_mu).replace(',', ', ')} (row 1)", "",
          (f"lam0 = {res.toy.lam0:.5g}, |theta_0|^2 = {res.toy.w2_0:.5g}; "
          f"{_grid(s.toy_k, s.toy_num, s.toy_steps)} on the exact spectral engine. The `single` bound (rigorous for "
          f"one datum, y = 0) predicts k_max = **{b1:.5g}**; GD first diverges at "
          f"k = **{_g(sa.boundaries['divergence'], 6)}** "
          f"(bisection on the exact spectral engine). Of the {n_inside} grid points in ({edge}, {b1:.4g}), "
          f"{n_catapult} are catapult; the loss first rises at k = {_g(sa.boundaries['catapult_onset'], 6)} "
          f"({edge} plus a finite-rank shift of order 1/m, as for the uv model)."), "",
          md_table(["k", "phase (GD)", "phase (spectral)", "max_rel_dev"], _run_rows(res)), "",
          *image("trajectories", figs.get("toy_trajectories")), *image("phases", figs.get("toy_phases")),
          "### (a') psi^2 = I", "",
          ("With mu = 1 every eigenvalue of psi is +-1, psi^2 = I and the map closes (it is the uv map with "
          f"x2/n -> kappa zeta^2). The `single` bound is exactly {km} symbolically (the derived lam eta_max; "
          f"evaluated: {s1.bounds['single']:.15g}, the rounding of eigvalsh) and GD diverges at "
          f"k = {_g(s1.boundaries['divergence'], 6)}."), "",
          *_many_data(f"### (b) Random points, i.i.d. labels: rank {s.rl_rank}, mu ~ "
                      f"{_mu_label(s.rl_mu).replace(',', ', ')}, identity g (row 4)", res.rl, res.rl_sweep,
                      _grid(s.rl_k, s.rl_num, s.rl_steps, s.rl_tol), figs, "random_labels_trajectories",
                      "random_labels_phases",
                      [("With identity g the output is linear in x (f(x) = sum_i x_i theta^T W_i theta zeta / (2 sqrt(d)))"
                       ", so with i.i.d. labels the train loss of every converging run stops at the same "
                       "least-squares floor; a run resting there wobbles by a few units of round-off, which the "
                       f"classifier takes as a plateau (a final loss within {_CRITERIA.plateau_rtol:g} of the value "
                       f"{_CRITERIA.window} steps earlier is not rising), not as a rise."), ""]),
          *_many_data(f"### (c) Teacher-student data: {_ts_points(s.ts_data)}, {s.ts_test_size} test points, "
                      f"g = {s.ts_activation} (row 5)", res.ts, sb,
                      _grid(s.ts_k, s.ts_num, s.ts_steps, s.ts_tol, s.ts_refine),
                      figs, "teacher_student_trajectories", "teacher_student",
                      [(f"Rank {s.ts_rank}, mu ~ {_mu_label(s.ts_mu).replace(',', ', ')}; the teacher ignores "
                       f"{s.ts_mask_psi} of its {s.ts_rank} coordinates (masked)."), ""]),
          (f"### (d) Quadratic model with bias, one datum, {s.bias_features} features, rank {s.bias_rank}, "
          "mu = 1 (row 6)"), "",
          ("The weight norm is the wrong Lyapunov function here (Euler fails); the modified norm "
          "Q = |theta|^2 + (theta_phi.phi)^2/|phi|^2 gives the rigorous `feature` bound "
          f"{_g(sc.bounds.get('feature'), 5)}. Dropping the feature terms would give {_g(naive, 5)} (the `naive` "
          f"bound) - but GD diverges at k = {_g(sc.boundaries['divergence'], 5)}, "
          f"{_side(sc.boundaries['divergence'], naive)} {_g(naive, 5)} "
          f"({_grid(s.bias_k, s.bias_num, s.bias_steps)} on the exact spectral engine)."), "",
          *image("trajectories", figs.get("bias_trajectories")), *image("bias", figs.get("bias_phases")),
          *_many_data(f"### (e) Bias model, teacher-student data: {_ts_points(s.bt_data)}, {s.bt_test_size} test "
                      f"points, g = {s.bt_activation} (row 7)", res.bt, se,
                      _grid(s.bt_k, s.bt_num, s.bt_steps, s.bt_tol), figs, "bias_teacher_student_trajectories",
                      "bias_teacher_student_phases",
                      [(f"{s.bt_features} features ({s.bt_mask_phi} masked in the teacher), rank {s.bt_rank} "
                       f"({s.bt_mask_psi} masked), mu = 1, input coordinates ~ "
                       f"{_mu_label(s.bt_inputs).replace(',', ', ')} (the table gives no input dimension: d = 2 "
                       "as in rows 4 and 5). The catalogue's rigorous `feature` bound is for one datum; for many "
                       "data only the `naive` value is listed, and it is not a bound."), ""]),
          "### (f) Every bound beside the measured boundary", "",
          ("k_max predicted by each bound for the concrete initial state, the measured divergence boundary "
          "(bisection), and their ratio (1 = tight). Bounds proven for y = 0 are listed for labelled data too; "
          "there their hypotheses fail (see the text above each figure)."), "",
          md_table(["setting", "bound", "rigorous", "predicted k_max", "measured divergence", "ratio",
                    "below boundary"], [row.cells() for row in res.table]), "",
          "What each bound rests on:", ""]
    md += [f"- `{name}` ({model}): {why}" for (model, name), why in res.rests_on.items()]
    md.append("")
    return "\n".join(md)


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
                           render_quadratic, quadratic_data)


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
