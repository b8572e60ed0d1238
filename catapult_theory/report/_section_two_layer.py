"""Report section: two-layer homogeneous nets - the proven window for leaky
ReLU, ReLU nets that collapse instead of diverging, and ReLU nets on real
images catapulting beyond the proven range with sparser activations."""

from __future__ import annotations

import numpy as np

from ..experiments._two_layer import run_two_layer, sweep_two_layer, two_layer_setup
from ..symbolic import export_text, theory
from ..symbolic import bound_catalog as bound_specs
from ..symbolic.models.two_layer import a as slope_symbol
from ._markdown import fmt_num as _g, md_table as _md_table
from ._plots import plot_phase_diagram, plot_trajectories
from ._reproduce import Context, Section, SectionOutput, register_section

__all__ = ["two_layer_section"]


def two_layer_section(ctx: Context) -> SectionOutput:
    md: list[str] = []
    data: dict = {}
    q = ctx.quick
    md += ["### Derived map (within an activation region, a = 1/2)", "", "```",
           export_text(theory("two-layer"), {slope_symbol: 0.5}), "```", ""]

    # (a) toy, a = 1/2
    ctx.progress("(a) toy datum, width 1024, a = 0.5")
    toy = two_layer_setup(1024, 0.5, "toy")
    sweep_a = sweep_two_layer(toy, np.linspace(0.1, 6, 40 if q else 119), max_steps=3000, tol=None)
    fig_a = plot_phase_diagram(sweep_a, ctx.figure("tl_toy_leaky_phases.png"),
                               panels=("lam_eta", "w2_ratio", "peak_loss", "sparsity"),
                               title="two-layer leaky ReLU (a = 1/2), one datum x = 1, y = 0, width 1024")
    run_364 = run_two_layer(toy, 3.64, 3000)
    data["toy_leaky"] = sweep_a.to_dict()
    data["toy_leaky_k364"] = {"phase": run_364.phase, "bound": sweep_a.bounds["single"]}
    bound_a = sweep_a.bounds["single"]
    md += ["### (a) Leaky ReLU, a = 1/2, one datum", "",
           f"lam0 = {toy.lam0:.5g}, |theta_0|^2 = {toy.w2_0:.5g}. The `single` bound (K = max(1, a^2) x2/(n d), "
           f"derived per unit) predicts k_max = **{bound_a:.4g}**; at k = 3.64, well beyond it, GD is "
           f"**{run_364.phase}**. GD first diverges at k = **{_g(sweep_a.boundaries['divergence'], 5)}** "
           f"(bisection): the bound is {'below' if bound_a < (sweep_a.boundaries['divergence'] or np.inf) else 'NOT below'} "
           "the measured boundary, and not tight.", "", f"![leaky]({ctx.rel(fig_a)})", ""]

    # ReLU, one datum: collapse instead of divergence
    ctx.progress("ReLU, toy datum: divergence and collapse")
    relu = two_layer_setup(1024, 0.0, "toy")
    sweep_r = sweep_two_layer(relu, np.linspace(0.1, 10, 50 if q else 199), max_steps=3000, tol=None)
    fig_r = plot_phase_diagram(sweep_r, ctx.figure("tl_toy_relu_phases.png"),
                               panels=("lam_eta", "w2_ratio", "sparsity"),
                               title="two-layer ReLU, one datum x = 1, y = 0, width 1024")
    data["toy_relu"] = sweep_r.to_dict()
    ph = np.asarray(sweep_r.phase)
    below4 = sweep_r.k < sweep_r.bounds["relu_uv"]
    md += ["### ReLU on one datum: no divergence below 4, collapse beyond", "",
           f"Divergent runs below k = 4: **{int((ph[below4] == 'divergent').sum())}** of {int(below4.sum())}; "
           f"first divergence at k = {_g(sweep_r.boundaries['divergence'], 5)} (none means none up to "
           f"{sweep_r.k[-1]:g}). Nets start to collapse (every unit inactive, f = 0: labelled `collapsed`, "
           f"never catapult, although with y = 0 the dead net fits the datum) at k = "
           f"**{_g(sweep_r.boundaries['collapse'], 5)}**. The `single` bound is {_g(sweep_r.bounds['single'], 4)} "
           "(below 2: the lemma proves no window here, since half the units start inactive); the argument of "
           "THEORY §6 (active units follow the uv law, dying units lower lam) gives 4.", "",
           f"![relu]({ctx.rel(fig_r)})", ""]

    # (b) digits 0 vs 1, ReLU
    ctx.progress("(b) digits01, width 1024, ReLU, k = 0.5 .. 20 (GD until the loss changes by < 1e-8)")
    try:
        dig = two_layer_setup(1024, 0.0, "digits01")
    except ImportError as exc:
        md += ["### (b) ReLU on the 0-vs-1 digits", "", f"Skipped: {exc}", ""]
        return SectionOutput("\n".join(md), data)
    ks = np.arange(0.5, 20.0001, 1.0 if q else 0.5)
    cap = 4000 if q else 20000
    sweep_d = sweep_two_layer(dig, ks, max_steps=cap, tol=1e-8, refine=False, lam_every=10,
                              progress=ctx.ticker("digits sweep", cap))
    largest = sweep_d.settings["largest_converging_k"]
    from ..experiments._two_layer import _relu_uv_k

    fig_d = plot_phase_diagram(sweep_d, ctx.figure("tl_digits_relu_phases.png"),
                               panels=("lam_eta", "train_loss", "test_loss", "sparsity"),
                               title="two-layer ReLU, width 1024, 128 digits (0 vs 1)",
                               marks={"proven (uv/one-datum argument) k": _relu_uv_k(),
                                      "measured k_max (largest converging)": largest})
    data["digits_relu"] = sweep_d.to_dict()
    phd = np.asarray(sweep_d.phase)
    spars = np.asarray(sweep_d.final["sparsity"], dtype=float)
    cat_hi = [k for k, p in zip(ks, phd) if p == "catapult" and k >= 8]
    i1 = int(np.argmin(np.abs(ks - 1.0)))
    iL = int(np.argmin(np.abs(ks - largest))) if largest is not None else None
    rows = [[f"{k:g}", str(p), _g(float(sweep_d.final["lam_eta"][i]), 4), _g(float(sweep_d.final["train_loss"][i]), 3),
             _g(float(sweep_d.final["test_loss"][i]), 3), _g(float(spars[i]), 4), str(int(sweep_d.final["steps"][i]))]
            for i, (k, p) in enumerate(zip(ks, phd))]
    md += ["### (b) ReLU on real images: the 0-vs-1 digits", "",
           f"{dig.settings['data_description']}. MNIST/FMNIST/CIFAR-10 cannot be downloaded here; these 8x8 "
           f"digits stand in for them. Full-batch GD until the loss changes by less than 1e-8 per step (cap {cap} "
           f"steps). lam0 = {dig.lam0:.5g}; the `data` bound predicts k_max = {_g(sweep_d.bounds['data'], 4)}.", "",
           f"Catapult (loss rises, then converges) at k >= 8: **{', '.join(f'{k:g}' for k in cat_hi) or 'none'}**. "
           f"Largest converging k: **{_g(largest, 4)}**; first divergent k: {_g(sweep_d.boundaries['divergence'], 4)} "
           f"(grid resolution). Activation sparsity at the end: **{spars[i1]:.4f}** at k = 1 against "
           f"**{_g(spars[iL], 4) if iL is not None else '-'}** at the largest converging k.", "",
           f"![digits]({ctx.rel(fig_d)})", "",
           _md_table(["k", "phase", "final eta*lam", "train loss", "test loss", "sparsity", "steps"], rows), ""]
    from ..engine import train_two_layer

    ks_t = np.array([1.0, 4.0, 8.0, float(largest) if largest else 12.0])
    ctx.progress(f"digits trajectories at k = {', '.join(f'{k:g}' for k in ks_t)}")
    tr = train_two_layer(dig.init, dig.data, 0.0, ks_t / dig.lam0, cap, tol=1e-8, test_every=10,
                         progress=ctx.ticker("digits trajectories", cap))
    runs = {}
    for i, k in enumerate(ks_t):
        one = tr.traj.run(i)
        end = int(tr.stopped_at[i]) + 1
        runs[f"k = {k:g} ({tr.phase[i]})"] = {
            "loss": one.series("loss")[:end], "lam_eta": (k / dig.lam0) * one.series("lam")[:end],
            "sparsity": one.series("sparsity")[:end], "test_loss": one.series("test_loss")[:end]}
    fig_t = plot_trajectories(runs, ctx.figure("tl_digits_trajectories.png"),
                              quantities=("loss", "test_loss", "lam_eta", "sparsity"),
                              title="two-layer ReLU on the digits: trajectories", log_steps=True)
    md += [f"![trajectories]({ctx.rel(fig_t)})", ""]
    md += ["What the bounds rest on:", ""]
    for name, spec in bound_specs("two-layer").items():
        md.append(f"- `{name}`: {'; '.join(spec.rests_on)}")
    md.append("")
    return SectionOutput("\n".join(md), data)


register_section(Section("two-layer", "Two-layer homogeneous nets", two_layer_section))
