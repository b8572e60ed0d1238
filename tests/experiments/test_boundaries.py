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


def _toy_flags(ks):
    ks = np.asarray(ks, dtype=float)
    return {"a": ks > np.sqrt(2), "b": ks > np.e, "c": ks > 9.0}


def test_a_joint_predicate_refines_every_boundary_in_one_call_per_round():
    """One batched run per round gives every boundary's flags: the rounds (not the
    boundaries times the rounds) set the number of calls, each call holds only the
    brackets still open, and the result equals refining each boundary on its own."""
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.linspace(0.5, 6.0, 12)
    calls: list[int] = []

    def joint(ks):
        calls.append(ks.size)
        return _toy_flags(ks)

    got = grid_boundaries(k, _toy_flags(k), joint, tol=1e-6)
    single = grid_boundaries(k, _toy_flags(k), {n: (lambda ks, n=n: _toy_flags(ks)[n]) for n in "abc"}, tol=1e-6)
    assert got == single and got.details == single.details
    assert abs(got["a"] - np.sqrt(2)) <= 1e-6 and abs(got["b"] - np.e) <= 1e-6
    assert got["c"] is None and got.details["c"]["status"] == "not_found"
    # brackets 0.5 wide, tolerance 1e-6: 16**5 > 5e5, so five rounds of 2 x 15 points
    assert calls == [30] * 5


def test_converged_brackets_leave_the_rounds():
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.array([0.0, 1.0, 1e6])  # a narrow and a wide bracket
    sizes: list[int] = []

    def joint(ks):
        sizes.append(ks.size)
        return {"narrow": ks > 0.5, "wide": ks > 5e5}

    got = grid_boundaries(k, {"narrow": k > 0.5, "wide": k > 5e5}, joint, tol=1e-3)
    assert abs(got["narrow"] - 0.5) <= 1e-3 and abs(got["wide"] - 5e5) <= 1e-3
    assert sizes[0] == 30 and sizes[-1] == 15 and len(sizes) > 3


def test_boundaries_left_at_grid_resolution_share_the_map_and_its_warnings():
    """``refine`` names the boundaries to refine; the others stay at grid resolution in the
    same map, so a refined and a grid boundary in one grid cell still give the warning."""
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.linspace(0.0, 1.0, 3)  # cells [0, 0.5] and [0.5, 1]
    flags = {"a": k > 0.6, "b": k > 0.7}
    got = grid_boundaries(k, flags, lambda ks: {"a": ks > 0.6, "b": ks > 0.7}, tol=1e-6, refine=("a",))
    assert abs(got["a"] - 0.6) <= 1e-6 and got.details["a"]["status"] == "refined"
    assert got["b"] == 1.0 and got.details["b"] == {"status": "grid", "interval": [0.5, 1.0]}
    assert any("grid too coarse" in w and {"a", "b"} <= set(w.split(":")[1].split()) for w in got.warnings)
