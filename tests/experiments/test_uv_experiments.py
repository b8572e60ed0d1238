"""uv experiments: the foundation's acceptance numbers, measured."""

import numpy as np
import pytest

from catapult_theory.experiments import (
    first_transition,
    refine_boundaries,
    refine_boundary,
    run_uv,
    sweep_uv,
    uv_setup,
)
from catapult_theory.experiments._uv import uv_state


def test_phase_boundaries_at_2_and_4_for_width_1000():
    sweep = sweep_uv(uv_setup(1000, seed=0), np.linspace(0.1, 6, 600))
    b = sweep.boundaries
    assert abs(b["catapult_onset"] - 2) < 0.02
    assert abs(b["divergence"] - 4) < 0.02
    assert abs(sweep.bounds["lemma"] - 4) < 1e-12  # d = 1: lam = K w2 exactly
    ph = np.asarray(sweep.phase)
    k = sweep.k
    assert set(ph[k < 1.99]) == {"lazy"}
    assert set(ph[(k > 2.02) & (k < 3.98)]) == {"catapult"}
    assert set(ph[k > 4.01]) == {"divergent"}


@pytest.mark.parametrize("k, phase", [(1.0, "lazy"), (3.0, "catapult"), (5.0, "divergent")])
def test_run_phases_and_agreement_with_the_map(k, phase):
    res = run_uv(1000, k, 300, seed=0)
    assert res.phase == phase
    assert res.settings["map_phase"] == phase
    if phase != "divergent":
        assert res.max_rel_dev <= 1e-9
    else:
        assert res.diverged_at is not None


def test_divergence_moves_below_4_with_a_target():
    """Beyond the theorem: with y != 0 the threshold drops by O(y^2/n) (exact map, bisection)."""
    from catapult_theory.experiments._uv import sweep_map

    ks = []
    for n in (1000, 10000):
        st = uv_state(n, 0.0, 2.0, y=1.0)
        ks.append(refine_boundary(lambda g: sweep_map(st, g, 20000).diverged_at >= 0, (3.5, 4.5), tol=1e-10))
    gaps = 4 - np.array(ks)
    assert np.all(gaps > 0)
    assert 8 < gaps[0] / gaps[1] < 12  # ~ 1/n


def test_boundary_helpers():
    assert first_transition(np.arange(5), [False, False, True, True, True]) == (1.0, 2.0)
    assert first_transition(np.arange(3), [True, True, True]) is None
    assert first_transition(np.arange(3), [False, False, False]) is None
    assert abs(refine_boundary(lambda k: k > 0.3, (0, 1), tol=1e-9) - 0.3) < 1e-9
    out = refine_boundaries(lambda g: g > np.array([[0.2], [0.7]]), [0, 0], [1, 1], tol=1e-9)
    np.testing.assert_allclose(out, [0.2, 0.7], atol=1e-9)
    with pytest.raises(ValueError):
        refine_boundaries(lambda g: g > 0, [1.0], [0.0])
