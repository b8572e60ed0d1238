"""Rows 7-10 of THEORY §7 and the honesty of the figures: the data of the new rows, the
test-set forms of the quadratic engine, and what the phase diagrams draw as a value."""

import numpy as np
import pytest

from catapult_theory.engine import (
    QuadraticParams,
    QuadraticSpec,
    quadratic_init,
    quadratic_model,
    quadratic_output,
)
from catapult_theory.engine import _quadratic as engine_quadratic
from catapult_theory.errors import InvalidInput
from catapult_theory.experiments import PhaseSweep, quadratic_setup, two_layer_setup
from catapult_theory.report import _plots
from catapult_theory.report._derived import uv_divergence_law


def _sweep(k, phase, final):
    return PhaseSweep(model="test", k=np.asarray(k, dtype=float), phase=np.asarray(phase, dtype=object),
                      boundaries={}, final={n: np.asarray(v, dtype=float) for n, v in final.items()})


def test_divergent_finals_are_never_drawn_as_values():
    sw = _sweep([1.0, 2.0, 3.0], ["lazy", "catapult", "divergent"],
                {"lam_eta": [1.0, 1.5, 7.0], "peak_loss": [1.0, 3.0, np.nan], "train_loss": [0.1, 0.2, 0.3]})
    ok, floored = _plots.panel_points(sw, "lam_eta")
    assert list(ok) == [True, True, False] and not floored.any()
    ok, floored = _plots.panel_points(sw, "train_loss")
    assert list(ok) == [True, True, False] and not floored.any()


def test_roundoff_losses_sit_on_the_floor_not_on_the_log_axis():
    # initial loss 2 (the lazy run's peak); 1e-31 and an exact 0 are converged, 1e-5 and a value
    # just above the floor are results
    above = 4 * _plots.CONVERGED_FLOOR
    sw = _sweep([1.0, 2.0, 3.0, 4.0], ["lazy", "catapult", "catapult", "unresolved"],
                {"peak_loss": [2.0, 9.0, 8.0, 5.0], "train_loss": [1e-31, 0.0, 1e-5, above]})
    ok, floored = _plots.panel_points(sw, "train_loss")
    assert list(ok) == [False, False, True, True]
    assert list(floored) == [True, True, False, False]
    # the peak loss is never floored
    ok, floored = _plots.panel_points(sw, "peak_loss")
    assert ok.all() and not floored.any()


def test_phase_diagram_and_trajectories_draw_with_blowups(tmp_path):
    sw = _sweep([1.0, 2.0, 3.0], ["lazy", "catapult", "divergent"],
                {"lam_eta": [1.0, 1.5, np.nan], "peak_loss": [1.0, 3.0, np.nan], "train_loss": [1e-33, 1e-4, np.nan],
                 "w2_ratio": [1.0, 0.5, np.nan]})
    p = _plots.plot_phase_diagram(sw, tmp_path / "p.png", panels=("lam_eta", "train_loss", "w2_ratio"))
    assert p.stat().st_size > 5_000
    runs = {"k = 1 (lazy)": {"loss": np.geomspace(1, 1e-35, 50), "lam_eta": np.ones(50), "w2_ratio": np.ones(50)},
            "k = 5 (divergent)": {"loss": np.geomspace(1, 1e25, 10), "lam_eta": np.geomspace(5, 1e9, 10),
                                  "w2_ratio": np.geomspace(1, 1e8, 10)}}
    p = _plots.plot_trajectories(runs, tmp_path / "t.png", diverged=["k = 5 (divergent)"], log_steps=True)
    assert p.stat().st_size > 5_000


@pytest.mark.parametrize("packed", [True, False])
def test_test_set_forms_packed_and_chunked_match_the_model(monkeypatch, packed):
    if not packed:  # the chunked path of a test set too large to keep
        monkeypatch.setattr(engine_quadratic, "TEST_STACK_BYTES", 0)
        monkeypatch.setattr(engine_quadratic, "TEST_CHUNK_BYTES", 8 * 20 * 20 * 7)
    model = quadratic_model(QuadraticSpec(rank=20, d=2, activation="tanh", mu="uniform:0.9:1.1"))
    X = np.random.default_rng(1).uniform(-1, 1, (30, 2))
    stack = engine_quadratic._TestStack(model, X)
    assert (stack.packed is not None) == packed
    th = np.random.default_rng(2).standard_normal((20, 2))
    theta = np.column_stack([th[:, 0], th[:, 1], th[:, 0], np.zeros(20)])  # a repeated and a frozen column
    forms = stack.forms(theta)
    for r in range(4):
        want = quadratic_output(model, QuadraticParams(theta[:, r], np.zeros(0)), X) * 2 / model.zeta
        assert np.allclose(forms[:, r], want, rtol=1e-12, atol=1e-12)


def test_bias_teacher_student_data_of_row_7():
    st = quadratic_setup("quadratic-bias", 20, features_=6, mu="uniform:1:1", activation="tanh", data="random:8:2",
                         test_size=12, mask_psi=4, mask_phi=2, inputs="uniform:-1:1")
    X, Xt = st.data.X, st.data.X_test
    assert X.shape == (8, 2) and Xt.shape == (12, 2)
    assert np.all(np.abs(X) <= 1) and np.all(np.abs(Xt) <= 1)
    assert st.settings["inputs"] == "uniform:-1:1" and "masked: 4 of 20" in st.data.description
    assert quadratic_init(st.model, 0).theta_phi.shape == (6,)


def test_two_layer_data_specs_of_rows_9_and_10():
    st = two_layer_setup(16, 0.5, "random:32:1:50")
    assert (st.data.B, st.data.d, st.data.B_test) == (32, 1, 50)
    again = two_layer_setup(16, 0.5, "random:32:1:50")
    assert np.array_equal(st.data.y, again.data.y) and np.array_equal(st.data.y_test, again.data.y_test)
    assert np.any(st.data.y != 0)
    st = two_layer_setup(16, 0.0, "toy:4:2")
    assert st.data.X.tolist() == [[4.0]] and st.data.y.tolist() == [2.0]
    assert two_layer_setup(16, 0.0, "random:4:3").data.B_test == 0
    for bad in ("toy:4", "toy:0:1", "toy:a:1", "random:0:1", "random:3", "random:3:1:-1", "random:3:1:2:2"):
        with pytest.raises(InvalidInput, match="bad data spec"):
            two_layer_setup(8, 0.0, bad)


def test_row_10_uv_law_reference_tends_to_the_y0_threshold():
    """The derived uv threshold used as a reference in row 10: 4 at y = 0, below 4 for y != 0
    from f0 = 0 (shift c y^2 / n)."""
    law = uv_divergence_law()
    assert float(law.k_div(0.0, 17.0, 0.0, 1024, 16.0)) == pytest.approx(4.0)
    assert float(law.k_div(0.0, 17.0, 2.0, 1024, 16.0)) < 4.0


def test_the_uv_law_survives_the_experiment_cache():
    """The report caches the law with its experiment (a record): it is stored as its derivation
    and comes back equal, computing the same thresholds."""
    import json

    from catapult_theory import records

    law = uv_divergence_law()
    back = records.decode(json.loads(json.dumps(records.encode(law))))
    assert float(back.k_div(0.0, 17.0, 2.0, 1024, 16.0)) == float(law.k_div(0.0, 17.0, 2.0, 1024, 16.0))
    assert back.invariant_text() == law.invariant_text()


def test_many_trajectory_panels_sit_in_rows_with_the_legend_in_a_free_panel():
    """Five quantities: two panels a row (not a strip), the free sixth panel holds the legend;
    ``lam_eta`` is placed at its ``lam_steps`` (a line through the evaluated steps)."""
    plt = _plots._pyplot()
    n = 40
    runs = {f"k = {k:g} (catapult)": {"loss": np.geomspace(1, 1e-3, n), "test_loss": np.geomspace(1, 1e-2, n),
                                      "lam_eta": np.array([k, k / 2, 1.0]), "lam_steps": np.array([0.0, 3.0, 39.0]),
                                      "w2_ratio": np.ones(n), "sparsity": np.full(n, 0.5)} for k in (3.0, 5.0)}
    fig = _plots.trajectories_figure(runs, ("loss", "test_loss", "lam_eta", "w2_ratio", "sparsity"), log_steps=True)
    try:
        assert fig.get_size_inches()[0] <= 8.5
        shown = [ax for ax in fig.axes if ax.axison]
        assert len(shown) == 5 and len({round(ax.get_position().y0, 3) for ax in shown}) == 3
        free = [ax for ax in fig.axes if not ax.axison]
        assert len(free) == 1 and free[0].get_legend() is not None
        assert [t.get_text() for t in free[0].get_legend().get_texts()] == list(runs)
        lam = shown[2]
        assert [list(ln.get_xdata()) for ln in lam.get_lines()[:2]] == [[1.0, 4.0, 40.0]] * 2
    finally:
        plt.close(fig)


def test_phase_diagram_keys_every_phase_the_largest_convergent_k_and_no_false_bound(monkeypatch, tmp_path):
    """Every phase band has its swatch (``unresolved`` included); the largest convergent k is a
    legend entry, not an annotation crowding the divergence's; a heuristic value is a reference,
    never called a bound, and a rigorous one with its hypotheses holding is a bound with its theorem."""
    figs = []
    monkeypatch.setattr(_plots, "save_figure", lambda fig, path, dpi: figs.append(fig))
    sw = PhaseSweep(model="test", k=np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                    phase=np.array(["lazy", "catapult", "unresolved", "catapult", "divergent"], dtype=object),
                    boundaries={"catapult_onset": 1.5, "divergence": 3.6, "largest_convergent": 4.2},
                    final={"lam_eta": np.array([1.0, 1.5, 1.9, 1.2, np.nan])},
                    bounds={"naive": 4.0, "single": 2.5},
                    bound_status={"naive": {"rigorous": False, "hypotheses_hold": False, "why": "no theorem"},
                                  "single": {"rigorous": True, "hypotheses_hold": True, "why": "one datum",
                                             "theorem": "catapult-window-uv"}})
    _plots.plot_phase_diagram(sw, tmp_path / "p.png", panels=("lam_eta",))
    fig = figs[0]
    try:
        keys = [t.get_text() for t in fig.legends[0].get_texts()]
        assert {"lazy", "catapult", "unresolved", "divergent"} <= set(keys)
        ax = fig.axes[0]
        entries = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "largest convergent k = 4.2 (measured)" in entries
        assert not any("largest_convergent" in t.get_text() for t in ax.texts)
        naive = next(e for e in entries if e.startswith("naive"))
        assert "bound" not in naive and "heuristic" in naive
        assert "bound single: converges for k < 2.5 (rigorous: catapult-window-uv)" in entries
    finally:
        _plots._pyplot().close(fig)
