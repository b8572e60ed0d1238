"""Quadratic experiments: the acceptance numbers of the quadratic-model study, measured."""

import numpy as np
import pytest

from catapult_theory.experiments._quadratic import quadratic_bounds, quadratic_setup, run_quadratic, sweep_quadratic


@pytest.fixture(scope="module")
def toy_u12():
    return quadratic_setup("pure-quadratic", 1000, mu="uniform:1:2", data="toy")


def test_single_bound_in_window_and_below_divergence(toy_u12):
    sweep = sweep_quadratic(toy_u12, np.linspace(0.1, 4, 80), steps=2000)
    bound = sweep.bounds["single"]
    assert 2 < bound <= 4
    assert bound < sweep.boundaries["divergence"]
    ph = np.asarray(sweep.phase)
    inside = (sweep.k > sweep.boundaries["catapult_onset"]) & (sweep.k < bound)
    assert inside.sum() >= 5 and set(ph[inside]) == {"catapult"}
    # the onset is 2 up to the finite-rank shift (O(1/m))
    assert 2 < sweep.boundaries["catapult_onset"] < 2.02


def test_scalar_psi_square_bound_is_4_and_measured_at_4():
    setup = quadratic_setup("pure-quadratic", 1000, mu="uniform:1:1", data="toy")
    sweep = sweep_quadratic(setup, np.linspace(3, 5, 41), steps=2000)
    assert abs(sweep.bounds["single"] - 4) < 1e-9
    assert abs(sweep.boundaries["divergence"] - 4) < 0.02


def test_reduced_engine_matches_gd_at_rank_1000(toy_u12):
    res = run_quadratic(toy_u12, 2.3, 200)
    assert res.phase == "catapult" == res.settings["reduced_phase"]
    assert res.max_rel_dev <= 1e-9


@pytest.mark.slow  # kept out of the default run's time budget; run with -m slow
def test_rigorous_bounds_below_measured_boundary_on_teacher_student_data():
    setup = quadratic_setup("pure-quadratic", 500, mu="uniform:0.9:1.1", data="random:32:2", test_size=64)
    sweep = sweep_quadratic(setup, np.linspace(0.5, 6, 45), steps=1500)
    assert set(sweep.bounds) == {"omega", "effective"}
    assert sweep.bounds["omega"] < sweep.boundaries["divergence"]
    assert "test_loss" in sweep.final


def test_bias_feature_bound_below_divergence_and_naive_bound_is_false():
    """THEORY §5: dropping the feature terms gives k = 4, and such models diverge below 4."""
    setup = quadratic_setup("quadratic-bias", 100, features_=10, mu="uniform:1:1", data="toy")
    b = quadratic_bounds(setup)
    sweep = sweep_quadratic(setup, np.linspace(2, 4.5, 51), steps=3000)
    assert b["feature"] < sweep.boundaries["divergence"]
    assert sweep.boundaries["divergence"] < b["naive"] == 4


def test_setup_inputs_and_labels_reach_the_data():
    """Row 4: inputs U[-1/2, 1/2], i.i.d. N(0, 1) labels; masking needs teacher labels."""
    st = quadratic_setup("pure-quadratic", 20, mu="uniform:0.9:1.1", data="random:16:2", test_size=0,
                         inputs="uniform:-0.5:0.5", labels="normal:0:1")
    assert np.all(np.abs(st.data.X) <= 0.5) and st.data.X_test is None
    assert st.settings["labels"] == "normal:0:1" and "labels i.i.d." in st.settings["data_description"]
    with pytest.raises(ValueError, match="masking"):
        quadratic_setup("pure-quadratic", 20, data="random:16:2", labels="normal:0:1", mask_psi=2)


def test_sweep_on_many_data_matches_a_plain_gd_run():
    """The sweep's economies (lam only where runs leave, settled runs leaving, no test set in the
    refinement) change no final value: the finals equal those of plain GD."""
    from catapult_theory.engine import classify, train_quadratic

    st = quadratic_setup("pure-quadratic", 20, mu="uniform:0.9:1.1", activation="tanh", data="random:8:2",
                         test_size=10, mask_psi=4)
    ks = np.array([0.5, 1.5, 2.5, 3.5, 6.0])
    sweep = sweep_quadratic(st, ks, steps=300, tol=5e-2)
    d = st.data
    gd = train_quadratic(st.model, st.init, d.X, d.y, ks / st.lam0, 300, test=d.test)
    assert list(sweep.phase) == list(classify(gd))
    div = gd.diverged_at >= 0
    for name, want in (("train_loss", gd.final("loss")), ("lam_eta", ks / st.lam0 * gd.final("lam")),
                       ("test_loss", gd.final("test_loss"))):
        got = np.asarray(sweep.final[name])
        assert np.allclose(got[~div], want[~div], rtol=1e-9, atol=0), name
        assert np.all(np.isnan(got[div]))
