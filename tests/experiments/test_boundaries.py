"""Boundary refinement reaches its tolerance on any bracket, or says it did not."""

import numpy as np
import pytest

from catapult_theory.experiments import refine_boundaries, refine_boundary, sweep_uv, uv_setup


def test_a_bracket_of_width_1e100_is_refined_to_tolerance():
    got = refine_boundary(lambda k: k >= np.pi, (0.1, 1e100), tol=1e-6)
    assert abs(got - np.pi) <= 1e-6


def test_stopping_short_is_an_error_not_a_midpoint():
    with pytest.raises(RuntimeError, match="rounds"):
        refine_boundaries(lambda g: g >= np.pi, np.array([0.1]), np.array([1e100]), tol=1e-6, max_rounds=40)


def test_uv_phases_on_a_huge_k_range_keep_the_right_boundaries():
    """--k-max 1e100 once gave catapult_onset = divergence = 3.8e50 with exit 0."""
    setup = uv_setup(1000)
    wide = sweep_uv(setup, np.linspace(0.1, 1e100, 600), steps=2000)
    narrow = sweep_uv(setup, np.linspace(0.1, 6, 600), steps=2000)
    for name in ("catapult_onset", "divergence"):
        assert abs(wide.boundaries[name] - narrow.boundaries[name]) < 1e-3, name
    assert abs(wide.boundaries["divergence"] - 4) < 1e-3
