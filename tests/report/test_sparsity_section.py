"""The sparsity section (rows 11–16): compute -> frozen result -> Markdown, JSON and figures,
at tiny sizes; its registration; the whole section through `reproduce` (slow)."""

import dataclasses
import json

import numpy as np
import pytest

from catapult_theory.experiments import jsonable
from catapult_theory.report import _reproduce as R
from catapult_theory.report._section_sparsity import (
    LOSS_FLOOR,
    SparsityResult,
    SparsitySettings,
    compute_sparsity,
    render_sparsity,
    sparsity_data,
    sparsity_figures,
)

TINY = SparsitySettings(pairs=("digits:0:1", "digits:3:8"), two_width=32, three_width=12, k=(0.5, 12.0), dk=2.5,
                        two_steps=60, three_steps=60, traj_ks=(1.0, 6.0), prove=False)


@pytest.fixture(scope="module")
def res():
    return compute_sparsity(TINY)


def test_result_is_frozen_and_complete(res):
    assert isinstance(res, SparsityResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.settings = None  # type: ignore[misc]
    assert [m.spec for m in res.two] == list(TINY.pairs) == [m.spec for m in res.three]
    assert res.pairs[0].rank < res.pairs[1].rank  # 0/1 easier than 3/8
    for m in (*res.two, *res.three):
        assert list(m.sweep.k) == list(TINY.grid)
        div = np.asarray(m.sweep.phase) == "divergent"
        assert np.all(np.isnan(m.final("lam_eta")[div]))
        for ser in m.trajectories.values():
            assert np.all(np.diff(ser["lam_steps"]) > 0)  # lam only where it was evaluated
    assert res.facts["euler"] == "theta.grad f = 3 f" and res.k_norm3 == 6 and res.k_uv == 4
    assert all(0 < w < 2 for w in res.windows.values())  # the degree-3 window is empty


def test_markdown_states_the_numbers_and_the_failing_step(res):
    md = render_sparsity(res)
    assert "Two-layer ReLU net (rows 11–13)" in md and "Three-layer ReLU MLP (rows 14–16)" in md
    for m in res.three:
        assert m.spec in md
    assert r"\eta r \left(\eta \lambda r - 6 f\right)" in md and "homogeneous of degree **4**" in md
    assert "eta*r" not in md
    assert f"{len(TINY.grid)} learning rates" in md
    assert "![" not in md  # no figure links without figures


def test_data_is_strict_json(res):
    data = json.loads(json.dumps(jsonable(sparsity_data(res)), allow_nan=False))
    # the statistics the text quotes are stored as numbers, once per model and pair
    st = data["stats"]["two-layer:digits:0:1"]
    assert isinstance(st["catapult_count"], int) and st["low_k"] in TINY.grid.tolist()
    assert st["rank_corr_sparsity_k"] is None or -1 <= st["rank_corr_sparsity_k"] <= 1
    assert set(data["two_layer"]) == set(TINY.pairs)
    assert data["three_layer_facts"]["lam_degree"] == "4"
    assert len(data["three_layer"]["digits:3:8"]["final"]["sparsity1"]) == len(TINY.grid)


def test_figures_are_written_and_linked(res, tmp_path):
    figs = sparsity_figures(res, lambda name: tmp_path / name)
    assert set(figs) == {f"{m}:{p}" for m in ("two-layer", "three-layer") for p in TINY.pairs}
    for path in figs.values():
        assert path.stat().st_size > 10_000
    md = render_sparsity(res, {k: str(v) for k, v in figs.items()})
    assert md.count("![") == len(figs)


def test_the_loss_floor_keeps_round_off_off_the_log_axes():
    from catapult_theory.report._section_sparsity import _floor

    v, low = _floor(np.array([1e-3, 1e-29, np.nan]))
    assert list(low) == [False, True, False] and v[1] == LOSS_FLOOR


def test_registered_after_two_layer():
    R._load_sections()
    names = [s.name for s in R.SECTIONS]
    assert "sparsity" in R.BUILTIN_SECTIONS and names.index("sparsity") == names.index("two-layer") + 1


def test_without_scikit_learn_the_section_says_why(monkeypatch):
    from catapult_theory.report import _section_sparsity as S

    def missing(specs):
        raise S.InvalidInput("the digits need scikit-learn: pip install scikit-learn")

    monkeypatch.setattr(S, "_pair_info", missing)
    out = S.compute_sparsity(TINY)
    assert out.skipped and not out.two and "Skipped" in S.render_sparsity(out)


@pytest.mark.slow
def test_quick_section_through_reproduce(tmp_path):
    assert R.reproduce(tmp_path, only=["sparsity"], quick=True, verbose=False) == 0
    report = (tmp_path / "report.md").read_text()
    assert "rows 14–16" in report and (tmp_path / "data" / "sparsity.json").exists()
    assert len(list((tmp_path / "figures").glob("sp_*.png"))) == 6


def test_figure_rows_swatches_colours_and_lam_where_evaluated(res):
    """One row per quantity (trajectories left, final values right); every phase present has
    a legend swatch, ``unresolved`` included; train and test differ by colour and legend; λ is
    drawn only at the steps where it was evaluated."""
    from matplotlib.colors import to_hex

    from catapult_theory.report._plots import PHASE_COLORS, _pyplot
    from catapult_theory.report._section_sparsity import model_figure

    m = res.two[0]
    phase = np.array([str(p) for p in m.sweep.phase], dtype=object)
    phase[1] = "unresolved"  # a phase this tiny grid may not reach on its own
    # lam at every third of its evaluated steps: the figure must place each value at its own step
    thin = {kt: {**ser, "lam_steps": ser["lam_steps"][::3], "lam_eta": ser["lam_eta"][::3]}
            for kt, ser in m.trajectories.items()}
    m = dataclasses.replace(m, sweep=dataclasses.replace(m.sweep, phase=phase), trajectories=thin)
    fig = model_figure(res, m, res.pairs[0])
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert len(axes) == 8 and fig.get_size_inches()[0] <= 10.5  # 4 rows x 2: readable at page width
        legend = fig.legends[0]
        swatches = {t.get_text(): to_hex(h.get_facecolor()) for t, h in zip(legend.get_texts(), legend.legend_handles)
                    if t.get_text() in PHASE_COLORS}
        assert set(swatches) == set(phase) and "unresolved" in swatches
        assert all(swatches[p] == to_hex(PHASE_COLORS[p]) for p in swatches)
        loss = fig.axes[1]  # top right: final train and test loss
        lines = {ln.get_label(): to_hex(ln.get_color()) for ln in loss.get_lines() if ln.get_label() in ("train", "test")}
        assert set(lines) == {"train", "test"} and lines["train"] != lines["test"]
        assert {t.get_text() for t in loss.get_legend().get_texts()} >= {"train", "test"}
        lam = fig.axes[4]  # third row, left: eta*lam against step + 1
        for ln, (kt, ser) in zip(lam.get_lines(), sorted(m.trajectories.items())):
            pos = ser["lam_eta"] > 0
            assert np.array_equal(ln.get_xdata(), ser["lam_steps"][pos] + 1)  # no held values in between
    finally:
        _pyplot().close(fig)
