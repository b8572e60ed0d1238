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


# ---------------------------------------------------------------- the largest convergent k and its islands

def _converging(ks, edges=((0.0, np.pi), (4.2, 4.9))):
    """A toy sweep: runs converge on the intervals ``edges`` and diverge elsewhere."""
    ks = np.asarray(ks, dtype=float)
    conv = np.zeros(ks.shape, dtype=bool)
    for lo, hi in edges:
        conv |= (ks > lo) & (ks < hi)
    return {"divergence": ~conv, "largest_convergent": conv}


def test_largest_convergent_is_the_last_converging_grid_point_and_lists_the_island_above_divergence():
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.linspace(0.5, 6.0, 12)  # 4.5 converges, 4.0 and 5.0 do not
    phase = np.where(_converging(k)["largest_convergent"], "catapult", "divergent")
    got = grid_boundaries(k, _converging(k), None, tol=1e-6, phase=phase)
    assert got["largest_convergent"] == 4.5 and got["divergence"] == 3.5
    d = got.details["largest_convergent"]
    assert d == {"status": "grid", "interval": [4.5, 5.0], "tol": None,
                 "islands": [{"interval": [4.5, 4.5], "k": [4.5], "phases": ["catapult"], "bracket": [4.0, 5.0]}]}
    refined = grid_boundaries(k, _converging(k), _converging, tol=1e-6, phase=phase)
    assert abs(refined["largest_convergent"] - 4.9) <= 1e-6
    assert refined.details["largest_convergent"]["status"] == "refined"
    assert refined.details["largest_convergent"]["islands"] == d["islands"]


def test_refinement_keeps_the_largest_converging_point_of_its_bracket():
    """Inside the bracket [4.5, 5.0] runs converge on (4.5, 4.6) and again on (4.7, 4.8): the
    largest convergent k is 4.8. Searching the bracket from below, as the first-transition
    boundaries do (the wrong variant), stops at 4.6."""
    from catapult_theory.experiments._boundaries import grid_boundaries, refine_boundary

    edges = ((0.0, np.pi), (4.2, 4.6), (4.7, 4.8))
    k = np.linspace(0.5, 6.0, 12)
    got = grid_boundaries(k, _converging(k, edges), lambda ks: _converging(ks, edges), tol=1e-6)
    assert abs(got["largest_convergent"] - 4.8) <= 1e-6
    wrong = refine_boundary(lambda ks: ~_converging(ks, edges)["largest_convergent"], (4.5, 5.0), tol=1e-6)
    assert abs(wrong - 4.6) <= 1e-6 and abs(wrong - got["largest_convergent"]) > 0.1


def test_no_island_when_convergence_ends_at_the_divergence():
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.linspace(0.5, 6.0, 12)
    calls: list[int] = []

    def joint(ks):
        calls.append(ks.size)
        return _converging(ks, ((0.0, np.pi),))

    got = grid_boundaries(k, joint(k), joint, tol=1e-6)
    assert got.details["largest_convergent"]["islands"] == []
    assert abs(got["largest_convergent"] - np.pi) <= 1e-6 and abs(got["divergence"] - np.pi) <= 1e-6
    # the two boundaries share their bracket: every refinement point is run once
    assert calls[0] == k.size and calls[1:] == [15] * 5
    assert not any("grid too coarse" in w for w in got.warnings)


def test_largest_convergent_below_and_above_the_grid():
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.linspace(1.0, 2.0, 5)
    none = grid_boundaries(k, {"divergence": np.ones(5, bool), "largest_convergent": np.zeros(5, bool)}, None, 1e-3)
    assert none["largest_convergent"] is None
    assert none.details["largest_convergent"] == {"status": "below_grid", "interval": [None, 1.0], "tol": None,
                                                  "islands": []}
    every = grid_boundaries(k, {"divergence": np.zeros(5, bool), "largest_convergent": np.ones(5, bool)}, None, 1e-3)
    assert every["largest_convergent"] is None
    assert every.details["largest_convergent"]["status"] == "not_found"
    assert every.details["largest_convergent"]["interval"] == [2.0, None]
    # the last grid point converges above a divergence: an island, and the boundary is past the grid
    conv = np.array([True, False, False, True, True])
    top = grid_boundaries(k, {"divergence": ~conv, "largest_convergent": conv}, None, 1e-3)
    assert top.details["largest_convergent"]["status"] == "not_found"
    assert top.details["largest_convergent"]["islands"] == [
        {"interval": [1.75, 2.0], "k": [1.75, 2.0], "phases": ["converges"] * 2, "bracket": [1.5, None]}]


def _islands_ok(sweep) -> bool:
    """The islands of a sweep are exactly its converging grid points above its first divergent one."""
    ph, k = np.asarray(sweep.phase).astype(str), np.asarray(sweep.k)
    div = np.flatnonzero(ph == "divergent")
    want = [] if div.size == 0 else [float(x) for x, p in zip(k[div[0]:], ph[div[0]:]) if p in ("lazy", "catapult")]
    got = [x for isl in sweep.boundaries.details["largest_convergent"]["islands"] for x in isl["k"]]
    return got == want


def test_uv_sweep_has_a_largest_convergent_k_at_its_divergence_and_no_island():
    setup = uv_setup(1000)
    sweep = sweep_uv(setup, np.linspace(0.5, 6.0, 23), steps=2000, tol=1e-6)
    assert sweep.boundaries["largest_convergent"] == pytest.approx(sweep.boundaries["divergence"], abs=2e-6)
    assert _islands_ok(sweep) and sweep.boundaries.details["largest_convergent"]["islands"] == []


@pytest.mark.slow
def test_pure_quadratic_toy_converges_above_its_divergence():
    """THEORY §7 row 1 near its divergence: k = 3.98 converges above the first divergence at 3.878
    (an island), and the largest convergent k lies above it; a sweep whose islands were dropped
    is caught by the same check."""
    from dataclasses import replace

    from catapult_theory.experiments import BoundaryMap, quadratic_setup, sweep_quadratic

    setup = quadratic_setup("pure-quadratic", 1000, mu="uniform:1:2", data="toy")
    sweep = sweep_quadratic(setup, np.linspace(3.5, 4.0, 26), steps=2000)
    b = sweep.boundaries
    assert b["divergence"] == pytest.approx(3.8777, abs=1e-3)
    assert 3.98 <= b["largest_convergent"] < 4.0 and b.details["largest_convergent"]["status"] == "refined"
    assert b.details["largest_convergent"]["islands"] == [
        {"interval": [3.98, 3.98], "k": [3.98], "phases": ["catapult"], "bracket": [3.96, 4.0]}]
    assert _islands_ok(sweep)
    details = {**b.details, "largest_convergent": {**b.details["largest_convergent"], "islands": []}}
    assert not _islands_ok(replace(sweep, boundaries=BoundaryMap(dict(b), details, b.warnings)))
