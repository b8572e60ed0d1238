"""Report section: quadratic models - the proven window, where GD really
diverges, teacher-student generalisation, and how tight each bound is."""

from __future__ import annotations

import numpy as np

from ..experiments._quadratic import quadratic_setup, rigorous, run_quadratic, sweep_quadratic
from ..symbolic import export_text, theory
from ..symbolic import bound_catalog as bound_specs
from ._plots import plot_phase_diagram, plot_trajectories
from ._reproduce import Context, Section, SectionOutput, register_section
from ._markdown import fmt_num as _g, md_table as _md_table

__all__ = ["quadratic_section"]


def _rests_on(model: str, name: str) -> str:
    spec = bound_specs(model)[name]
    return "; ".join(spec.rests_on)


def quadratic_section(ctx: Context) -> SectionOutput:
    md: list[str] = []
    data: dict = {}
    q = ctx.quick
    from ..symbolic._spectral import closure_obstruction

    md += ["### Derived maps", "", "```", export_text(theory("pure-quadratic")), "```", "",
           "The map of (f, lam, w2) needs m3 and m4 unless psi^2 = kappa I (then it is the uv map with "
           "x2/n -> kappa zeta^2). Conversely, for psi with eigenvalues +-mu1, +-mu2, the derivative of m3 along "
           "the direction of eigen-weights that keeps (f, lam, w2) fixed is "
           f"`{closure_obstruction()}` (derived): non-zero unless mu1^2 = mu2^2, so the map closes only when "
           "psi^2 is a multiple of I.", "",
           "```", export_text(theory("quadratic-bias")), "```", ""]
    table: list[list[str]] = []

    def tab(setting: str, model: str, sweep, name: str) -> None:
        b = sweep.bounds[name]
        div = sweep.boundaries["divergence"]
        table.append([setting, name, "yes" if rigorous(model)[name] else "no (heuristic)", _g(b, 5), _g(div, 5),
                      _g(b / div, 4) if div else "-", "yes" if (div is None or b <= div) else "**no**"])

    # (a) toy datum, rank 1000, mu ~ U[1, 2]
    ctx.progress("(a) toy datum, rank 1000, mu ~ U[1,2]: GD vs exact spectral engine")
    toy = quadratic_setup("pure-quadratic", 1000, mu="uniform:1:2", data="toy")
    runs, refs, rows = {}, {}, []
    for k in (1.5, 2.3, 3.0):
        r = run_quadratic(toy, k, 200 if q else 400)
        lbl = f"k = {k:g} ({r.phase})"
        runs[lbl] = {"loss": r.gd.series("loss"), "lam_eta": r.eta * r.gd.series("lam"),
                     "w2_ratio": r.gd.series("w2") / r.w2_0}
        refs[lbl] = {"loss": r.reference.series("loss"), "lam_eta": r.eta * r.reference.series("lam"),
                     "w2_ratio": r.reference.series("w2") / r.w2_0}
        rows.append([f"{k:g}", r.phase, str(r.settings["reduced_phase"]), f"{r.max_rel_dev:.2e}"])
    fig_t = plot_trajectories(runs, ctx.figure("pq_toy_trajectories.png"), references=refs,
                              reference_label="exact spectral engine",
                              title="pure quadratic, toy datum, rank 1000: GD (solid) and exact spectral engine (dashed)")
    ctx.progress("(a) phase diagram against k")
    num = 60 if q else 196
    sweep_a = sweep_quadratic(toy, np.linspace(0.1, 4, num), steps=2000)
    fig_a = plot_phase_diagram(sweep_a, ctx.figure("pq_toy_phases.png"),
                               panels=("lam_eta", "w2_ratio", "peak_loss", "train_loss"),
                               title="pure quadratic, toy datum, rank 1000, mu ~ U[1,2] (exact spectral engine)")
    data["toy_u12"] = sweep_a.to_dict()
    data["toy_u12_runs"] = [dict(zip(["k", "phase", "reduced_phase", "max_rel_dev"], r)) for r in rows]
    tab("toy, m = 1000, mu ~ U[1,2]", "pure-quadratic", sweep_a, "single")
    ph = np.asarray(sweep_a.phase)
    b1 = sweep_a.bounds["single"]
    inside = (sweep_a.k > 2) & (sweep_a.k < b1)
    onset = sweep_a.boundaries["catapult_onset"]
    md += ["### (a) One datum, rank 1000, mu ~ U[1, 2]", "",
           f"lam0 = {toy.lam0:.5g}, |theta_0|^2 = {toy.w2_0:.5g}. The `single` bound (rigorous for one datum, "
           f"y = 0) predicts k_max = **{b1:.5g}**; GD first diverges at k = **{_g(sweep_a.boundaries['divergence'], 6)}** "
           f"(bisection on the exact spectral engine). Of the {int(inside.sum())} grid points in (2, {b1:.4g}), "
           f"{int((ph[inside] == 'catapult').sum())} are catapult; the loss first rises at k = {_g(onset, 6)} "
           "(2 plus a finite-rank shift of order 1/m, as for the uv model).", "",
           _md_table(["k", "phase (GD)", "phase (spectral)", "max_rel_dev"], rows), "",
           f"![trajectories]({ctx.rel(fig_t)})", "", f"![phases]({ctx.rel(fig_a)})", ""]

    # (a') psi^2 proportional to I: the bound is exactly 4 and so is divergence
    ctx.progress("(a') toy datum, mu = 1 (psi^2 = I)")
    toy1 = quadratic_setup("pure-quadratic", 1000, mu="uniform:1:1", data="toy")
    sweep_1 = sweep_quadratic(toy1, np.linspace(3, 5, 41 if q else 201), steps=2000)
    data["toy_u11"] = sweep_1.to_dict()
    tab("toy, m = 1000, mu = 1 (psi^2 = I)", "pure-quadratic", sweep_1, "single")
    md += ["### (a') psi^2 = I", "",
           f"With mu = 1 every eigenvalue of psi is +-1, psi^2 = I and the map closes (it is the uv map with "
           f"x2/n -> kappa zeta^2). The `single` bound is exactly 4 symbolically (evaluated: "
           f"{sweep_1.bounds['single']:.15g}, the rounding of eigvalsh) and GD diverges at k = {_g(sweep_1.boundaries['divergence'], 6)}.", ""]

    # (b) teacher-student data
    ctx.progress("(b) random:32:2 teacher-student, rank 500, tanh, 512 test points (GD)")
    ts = quadratic_setup("pure-quadratic", 500, mu="uniform:0.9:1.1", activation="tanh", data="random:32:2",
                         test_size=512, mask_psi=100)
    sweep_b = sweep_quadratic(ts, np.linspace(0.1, 6, 24 if q else 60), steps=800 if q else 1500, tol=5e-3)
    fig_b = plot_phase_diagram(sweep_b, ctx.figure("pq_teacher_student_phases.png"),
                               panels=("lam_eta", "train_loss", "test_loss"),
                               title="pure quadratic, 32 teacher-student points (d = 2), rank 500, g = tanh")
    data["teacher_student"] = sweep_b.to_dict()
    for name in sweep_b.bounds:
        tab("random:32:2, m = 500, tanh, 100 masked", "pure-quadratic", sweep_b, name)
    md += ["### (b) Teacher-student data: 32 points in R^2, 512 test points", "",
           f"Rank 500, mu ~ U[0.9, 1.1], g = tanh, teacher with 100 masked coordinates; full-parameter GD, "
           f"lam0 = lam_max(H_0) = {ts.lam0:.5g}. Bounds: omega = {_g(sweep_b.bounds['omega'], 5)} (rigorous for "
           f"y = 0), effective = {_g(sweep_b.bounds['effective'], 5)} (heuristic); GD diverges at "
           f"k = {_g(sweep_b.boundaries['divergence'], 5)}.", "", f"![teacher-student]({ctx.rel(fig_b)})", ""]

    # bias model (THEORY §7 row 6)
    ctx.progress("bias model, toy datum, 10 features, rank 100, mu = 1")
    bias = quadratic_setup("quadratic-bias", 100, features_=10, mu="uniform:1:1", data="toy")
    sweep_c = sweep_quadratic(bias, np.linspace(0.1, 4.5, 45 if q else 221), steps=3000)
    fig_c = plot_phase_diagram(sweep_c, ctx.figure("bias_toy_phases.png"),
                               panels=("lam_eta", "w2_ratio", "train_loss"),
                               title="quadratic model with bias, toy datum, 10 features, rank 100, mu = 1")
    data["bias_toy"] = sweep_c.to_dict()
    for name in sweep_c.bounds:
        tab("bias, toy, p = 10, m = 100, mu = 1", "quadratic-bias", sweep_c, name)
    md += ["### Quadratic model with bias", "",
           f"The weight norm is the wrong Lyapunov function here (Euler fails); the modified norm "
           f"Q = |theta|^2 + (theta_phi.phi)^2/|phi|^2 gives the rigorous `feature` bound "
           f"{_g(sweep_c.bounds['feature'], 5)}. Dropping the feature terms would give 4 - but GD diverges at "
           f"k = {_g(sweep_c.boundaries['divergence'], 5)}, below 4.", "", f"![bias]({ctx.rel(fig_c)})", ""]

    # (c) tightness table
    md += ["### (c) Every bound beside the measured boundary", "",
           "k_max predicted by each bound for the concrete initial state, the measured divergence boundary "
           "(bisection), and their ratio (1 = tight).", "",
           _md_table(["setting", "bound", "rigorous", "predicted k_max", "measured divergence", "ratio",
                      "below boundary"], table), "",
           "What each bound rests on:", ""]
    for model, names in (("pure-quadratic", ("single", "omega", "effective")), ("quadratic-bias", ("feature", "naive"))):
        for name in names:
            md.append(f"- `{name}` ({model}): {_rests_on(model, name)}")
    md.append("")
    data["table"] = table
    return SectionOutput("\n".join(md), data)


register_section(Section("quadratic", "Quadratic models", quadratic_section))
