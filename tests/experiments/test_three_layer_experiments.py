"""Three-layer setups, the degree-3 window, runs and sweeps.

The window ``k < 6 lam0/(K |θ0|⁴)`` is checked three ways: against the same number
computed by hand from the net, on a net where it is not empty (GD inside it keeps the
weight norm non-increasing and converges, as the induction says), and beside a
deliberately wrong window (the two-layer constant 4 with the degree-2 form) that real
GD refutes.
"""

import json

import numpy as np
import pytest

from catapult_theory.engine import (
    ThreeLayerState,
    three_layer_observables,
    train_three_layer,
)
from catapult_theory.errors import InvalidInput
from catapult_theory.experiments import (
    jsonable,
    run_three_layer,
    sweep_three_layer,
    three_layer_bounds,
    three_layer_setup,
)
from catapult_theory.experiments._dataset import Dataset


def test_setup_matches_the_engine_and_the_window_matches_a_hand_computation():
    s = three_layer_setup(32, 0.0, "digits:4:9")
    obs = three_layer_observables(s.init, s.data.X, s.data.y, 0.0)
    assert s.lam0 == float(obs.lam) and s.w2_0 == float(obs.w2)
    assert s.sparsity0 == (float(obs.sparsity1), float(obs.sparsity2))
    n, d = 32, s.data.d
    x2 = float(np.mean(np.sum(s.data.X**2, axis=1)))
    K = x2 / (3 * n**2 * d)  # c^2 x2 / 3 with c = 1/(n sqrt d)
    by_hand = 6 * s.lam0 / (K * s.w2_0**2)
    b = three_layer_bounds(s)["degree3"]
    assert b == pytest.approx(by_hand, rel=1e-12)
    assert b < 0.01  # empty: of order d/n^2
    sweep, _ = sweep_three_layer(s, np.array([1.0, 3.0]), max_steps=5, refine=False)
    st = sweep.bound_status["degree3"]
    assert not st["rigorous"] and not st["hypotheses_hold"] and "y != 0" in st["why"]
    assert st["why"].startswith("not rigorous")


def _tiny(w=0.5):
    """One unit per layer, every unit active, equal block norms: lam0 = K |θ0|⁴ (the bound is tight)."""
    return ThreeLayerState(np.full((1, 1), w), np.full((1, 1), w), np.full(1, w))


def test_inside_a_nonempty_window_the_norm_never_grows_and_gd_converges():
    data = Dataset("toy", "x = 1, y = 0", np.ones((1, 1)), np.zeros(1))
    st = _tiny()
    a = 0.5  # leaky: a ReLU net can also fit y = 0 by dying (collapsed); |sigma'| <= 1 keeps K
    obs = three_layer_observables(st, data.X, data.y, a)
    K = 1.0 / 3  # x2/(3 n^2 d) at n = d = x2 = 1
    window = 6 * float(obs.lam) / (K * float(obs.w2) ** 2)
    assert window == pytest.approx(6.0)  # tight net: the window is (2, 6)
    ks = np.array([2.5, 4.0, 5.5])
    run = train_three_layer(st, data, a, ks / float(obs.lam), 4000, tol=1e-14)
    for j in range(ks.size):
        w2 = run.traj.series("w2", j)
        assert np.all(np.diff(w2) <= 1e-12 * w2[0]), ks[j]
        assert run.traj.final("loss")[j] < 1e-8 and run.phase[j] in ("catapult", "lazy")
        assert ks[j] / float(obs.lam) * run.traj.final("lam")[j] <= 2 * (1 + 1e-3)
    # a wrong window from a wrong constant (pairwise products <= |θ|^4/9, i.e. K/3) claims
    # k < 18; real GD at k = 8 grows the norm in its first step (eta lam0 > 6)
    wrong = 6 * float(obs.lam) / (K / 3 * float(obs.w2) ** 2)
    assert wrong == pytest.approx(18.0)
    grow = train_three_layer(st, data, a, np.array([8.0]) / float(obs.lam), 1)
    assert grow.traj.w2[1, 0] > grow.traj.w2[0, 0]


def test_run_three_layer_json_and_series():
    s = three_layer_setup(16, 0.0, "digits:3:8")
    res = run_three_layer(s, 3.0, 40)
    data = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert set(data["gd"]) >= {"loss", "lam", "w2", "sparsity", "sparsity1", "sparsity2", "test_loss"}
    assert data["model"] == "three-layer" and "degree3" in data["bounds"]
    assert len(data["gd"]["loss"]) == data["settings"]["stopped_at"] + 1 <= 41


def test_sweep_phases_boundaries_and_finals():
    s = three_layer_setup(24, 0.0, "digits:0:1")
    k = np.array([0.5, 1.5, 3.0, 6.0, 12.0, 40.0])
    sweep, run = sweep_three_layer(s, k, max_steps=200, refine=False, lam_every=5)
    assert set(sweep.boundaries) == {"catapult_onset", "divergence", "collapse", "largest_convergent"}
    for name in ("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity", "sparsity1", "sparsity2", "steps"):
        assert len(sweep.final[name]) == k.size
    ph = list(sweep.phase)
    assert ph[0] == "lazy"
    assert ph[-1] in ("divergent", "collapsed")
    div = run.traj.diverged_at >= 0
    assert np.all(np.isnan(sweep.final["lam_eta"][div]))  # a diverged run has no final state
    assert np.all(np.isfinite(sweep.final["sparsity"][~div]))
    json.dumps(jsonable(sweep.to_dict()), allow_nan=False)


def test_refined_onset_lies_in_its_grid_cell_and_the_predicate_flips_there():
    from catapult_theory.engine import rose

    s = three_layer_setup(16, 0.0, "digits:0:1")
    k = np.linspace(1.0, 4.0, 4)
    coarse, _ = sweep_three_layer(s, k, max_steps=80, tol=None, refine=False)
    fine, _ = sweep_three_layer(s, k, max_steps=80, tol=None, refine=True, refine_tol=0.02)
    hi = coarse.boundaries["catapult_onset"]
    onset = fine.boundaries["catapult_onset"]
    assert hi is not None and onset is not None and hi - (k[1] - k[0]) < onset <= hi
    lo, hi = fine.boundaries.details["catapult_onset"]["interval"]
    assert hi - lo <= 0.02 and lo < onset < hi
    _, ends = sweep_three_layer(s, np.array([lo, hi]), max_steps=80, tol=None, refine=False)
    assert list(rose(ends.traj)) == [False, True]  # the loss first rises between the two ends


def test_bad_setups_are_invalid_input():
    with pytest.raises(InvalidInput):
        three_layer_setup(0, 0.0)
    with pytest.raises(InvalidInput):
        three_layer_setup(8, 2.0)
    with pytest.raises(InvalidInput):
        three_layer_setup(8, 0.0, "digits:1:1")
