"""Two-layer experiments: the acceptance numbers on the toy datum, measured."""

import numpy as np
import pytest

from catapult_theory.experiments import run_two_layer, sweep_two_layer, two_layer_bounds, two_layer_setup


def test_leaky_half_converges_at_3_64_beyond_the_bound():
    setup = two_layer_setup(1024, 0.5, "toy")
    bound = two_layer_bounds(setup)["single"]
    assert 2 < bound < 3.64
    res = run_two_layer(setup, 3.64, 3000)
    assert res.phase == "catapult"
    sweep = sweep_two_layer(setup, np.linspace(3, 6, 31), max_steps=3000, tol=None, refine_tol=1e-2)
    assert bound < sweep.boundaries["divergence"]


def test_relu_toy_no_divergence_below_4_and_collapse_reported():
    setup = two_layer_setup(1024, 0.0, "toy")
    assert two_layer_bounds(setup)["relu_uv"] == 4.0
    sweep = sweep_two_layer(setup, np.linspace(0.2, 8, 40), max_steps=3000, tol=None, refine_tol=1e-2)
    ph = np.asarray(sweep.phase)
    assert not np.any(ph[sweep.k < 4] == "divergent")
    assert sweep.boundaries["collapse"] is not None and 4 < sweep.boundaries["collapse"] < 8
    assert set(ph[sweep.k > sweep.boundaries["collapse"] + 0.5]) <= {"collapsed", "catapult"}
    assert not np.any((ph == "catapult") & (sweep.final["train_loss"] == 0) & (sweep.k > 6))


def test_bad_data_spec():
    with pytest.raises(ValueError, match="digits01"):
        two_layer_setup(8, 0.0, "mnist")


def test_digits_relu_catapults_at_10_with_sparser_activations_small_width():
    """The digits claim, small and fast (width 128, two rates, a few seconds): ReLU
    catapults at k = 10 and its activations end much sparser than at k = 1. The
    full claim at width 1024 is the slow test below."""
    setup = two_layer_setup(128, 0.0, "digits01")
    ks = np.array([1.0, 10.0])
    sweep = sweep_two_layer(setup, ks, max_steps=3000, tol=1e-6, refine=False, lam_every=10)
    assert list(sweep.phase) == ["lazy", "catapult"]
    sp = np.asarray(sweep.final["sparsity"])
    assert sp[1] > sp[0] + 0.2


@pytest.mark.slow
def test_digits_relu_catapults_beyond_8_with_sparser_activations():
    """The digits claim (~40 s of GD): catapult for some k >= 8; sparsity at the largest
    converging k well above sparsity at k = 1."""
    setup = two_layer_setup(1024, 0.0, "digits01")
    ks = np.array([1.0, 8.0, 10.0, 12.0, 14.0])
    sweep = sweep_two_layer(setup, ks, max_steps=20000, tol=1e-8, refine=False, lam_every=10)
    ph = np.asarray(sweep.phase)
    assert np.any((ph == "catapult") & (ks >= 8))
    conv = np.isin(ph, ["lazy", "catapult"])
    sp = np.asarray(sweep.final["sparsity"])
    assert sp[conv][-1] > sp[0] + 0.2


def test_new_data_specs_and_their_errors():
    """Rows 9 and 10: random 1-d points with teacher labels and a test set; one datum x = 4, y = 2."""
    from catapult_theory.errors import InvalidInput

    st = two_layer_setup(32, 0.5, "random:32:1:50")
    assert st.data.X.shape == (32, 1) and st.data.X_test.shape == (50, 1)
    assert st.settings["test_size"] == 50
    st = two_layer_setup(32, 0.0, "toy:4:2")
    assert st.loss0 > 0 and st.data.y[0] == 2.0
    with pytest.raises(InvalidInput, match="random:B:D"):
        two_layer_setup(8, 0.0, "random:-1:1")
