"""Realisable states of every family, claims written as text, and their falsification.

Every true claim has a deliberately wrong twin that the same search must falsify;
each counterexample is re-checked here, independently, in exact arithmetic from
its drawn parameters (a plain GD step written out per family).
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from catapult_theory.errors import InvalidInput
from catapult_theory.testing import (
    Counterexample,
    assert_holds,
    datasets,
    falsify,
    k_windows,
    model_states,
    parse_claim,
    plan_states,
    symmetric_matrices,
)

FAMILIES = ["uv", "two-layer", "pure-quadratic", "quadratic-bias"]


class _Profile:
    """Run a search under a profile derived from the active one (falsify honours it)."""

    def __init__(self, **overrides):
        self.overrides = overrides

    def __enter__(self):
        self.previous = settings.get_current_profile_name()
        settings.register_profile("catapult-theory-states", parent=settings.get_profile(self.previous),
                                  **self.overrides)
        settings.load_profile("catapult-theory-states")

    def __exit__(self, *exc):
        settings.load_profile(self.previous)


#: a counterexample without its shrinking (the wrong twins only need one; the command's tests shrink)
NO_SHRINK = dict(phases=[Phase.explicit, Phase.reuse, Phase.generate])


# ----------------------------------------------------------------------------- independent GD steps
def _grads(name, M, scal, exact):
    """``(f, {param: grad})`` of a family at parameters ``M`` (written out here, not derived)."""
    sqrt = sp.sqrt if exact else np.sqrt
    if name == "uv":
        U, v, x = M["U"], M["v"], M["x"]
        c = 1 / sqrt(U.shape[0])
        return (v.T @ U @ x)[0, 0] * c, {"U": c * v @ x.T, "v": c * U @ x}
    if name == "two-layer":
        U, v, x = M["U"], M["v"], M["x"]
        n, d = U.shape
        z = U @ x
        s = [1 if (zi > 0) else scal["a"] for zi in z[:, 0]]
        c = 1 / sqrt(n * d)
        f = sum(v[i, 0] * s[i] * z[i, 0] for i in range(n)) * c
        gU = np.array([[c * v[i, 0] * s[i] * x[j, 0] for j in range(d)] for i in range(n)], dtype=object)
        gv = np.array([[c * s[i] * z[i, 0]] for i in range(n)], dtype=object)
        return f, {"U": gU, "v": gv}
    if name == "three-layer":  # f = vᵀ σ(W2 σ(W1 x)) / (n √d), ReLU
        W1, W2, v, x = M["W1"], M["W2"], M["v"], M["x"]
        n, d = W1.shape
        a = scal.get("a", 0)
        z1 = W1 @ x
        s1 = np.array([[1 if zi > 0 else a] for zi in z1[:, 0]], dtype=object)
        h1 = s1 * z1
        z2 = W2 @ h1
        s2 = np.array([[1 if zi > 0 else a] for zi in z2[:, 0]], dtype=object)
        c = 1 / (n * sqrt(d))
        back = s2 * v  # ∂f/∂z2 / c
        return ((v.T @ (s2 * z2))[0, 0] * c,
                {"W1": c * (s1 * (W2.T @ back)) @ x.T, "W2": c * back @ h1.T, "v": c * s2 * z2})
    if name == "pure-quadratic":
        th, psi = M["theta"], M["psi"]
        zeta = sqrt(sp.Rational(2, th.shape[0]) if exact else 2 / th.shape[0])
        return zeta / 2 * (th.T @ psi @ th)[0, 0], {"theta": zeta * psi @ th}
    tphi, tpsi, phi, psi = M["theta_phi"], M["theta_psi"], M["phi"], M["psi"]
    zeta = sqrt(sp.Rational(2, tpsi.shape[0]) if exact else 2 / tpsi.shape[0])
    f = (tphi.T @ phi)[0, 0] + zeta / 2 * (tpsi.T @ psi @ tpsi)[0, 0]
    return f, {"theta_phi": phi * 1, "theta_psi": zeta * psi @ tpsi}


def _step(state, exact):
    """``(f, lam, w2, f', lam', w2')`` of one plain GD step from the state's drawn parameters."""
    conv = (lambda a: a) if exact else (lambda a: np.array(a, dtype=float))
    M = {k: conv(v) for k, v in state.matrices.items()}
    scal = {k: (v if exact else float(v)) for k, v in state.scalars.items()}

    def sq(a):
        return sum(t * t for t in np.asarray(a).ravel())

    f, g = _grads(state.model, M, scal, exact)
    lam = sum(sq(gi) for gi in g.values())
    w2 = sum(sq(M[p]) for p in g)
    k = sp.Rational(Fraction(state.k)) if exact else state.k
    y = state.y if exact else float(state.y)
    eta = k / lam
    M1 = dict(M)
    for p, gi in g.items():
        M1[p] = M[p] - eta * (f - y) * gi
    f1, g1 = _grads(state.model, M1, scal, exact)
    return f, lam, w2, f1, sum(sq(gi) for gi in g1.values()), sum(sq(M1[p]) for p in g)


@pytest.mark.parametrize("name", [*FAMILIES, "three-layer"])
def test_states_are_real_parameters_and_one_real_gd_step(name):
    names = ("f", "lam", "w2", "f_next", "lam_next", "w2_next")

    @settings(max_examples=10)
    @given(model_states(name, ["f != 0"]))
    def check(state):
        v = state.values()
        want = _step(state, exact=False)
        scale = 1 + max(abs(x) for x in want)
        for n, w in zip(names, want):
            assert abs(v[n] - w) <= 1e-9 * scale, (n, v[n], w)
        ex = state.exact_values()
        for n in names:  # the exact path agrees with the float one
            assert abs(float(ex[n]) - v[n]) <= 1e-9 * scale, (n, ex[n], v[n])

    check()


def _hand_run(state, rate=1.0):
    """``(steps_to_converge, lam_final)`` of plain GD from the state's parameters at
    ``rate * k / lam0`` (floats; the hand-written gradients above), as the outcomes define them."""
    M = {k: np.array(v, dtype=float) for k, v in state.matrices.items()}
    scal = {k: float(v) for k, v in state.scalars.items()}
    y = float(state.y)
    f, g = _grads(state.model, M, scal, False)
    lam = sum(float(np.sum(gi.astype(float) ** 2)) for gi in g.values())
    eta = rate * state.k / lam
    loss0 = 0.5 * (f - y) ** 2
    for t in range(1, state.steps + 1):
        M = {**M, **{p: M[p] - eta * (f - y) * g[p].astype(float) for p in g}}
        f, g = _grads(state.model, M, scal, False)
        if not abs(f) < 1e100:  # blown up: it will not converge
            return np.inf, lam
        lam = sum(float(np.sum(gi.astype(float) ** 2)) for gi in g.values())
        if 0.5 * (f - y) ** 2 <= 1e-12 * max(loss0, 1e-30):
            return t, lam
    return np.inf, lam


def test_run_outcomes_of_a_family_without_a_closed_map_are_full_gd():
    """The two-layer map does not close, so its run outcomes come from GD on the parameters:
    they equal a hand-written GD loop; the same loop at half the rate does not (the twin)."""
    from hypothesis import assume

    @settings(max_examples=6, phases=[Phase.explicit, Phase.generate])
    @given(model_states("two-layer", ["k <= 1", "k >= 1/2", "f != 0"]))
    def check(state):
        out = state.outcomes()
        steps, lam = _hand_run(state)
        assert out["steps_to_converge"] == steps
        # a run that does not converge in the budget (lam ~ 0, or a unit that wakes up at a kink
        # lifts lam past 4/eta and the tiny net diverges) ends where each loop stops it
        assume(np.isfinite(steps))
        assert abs(out["lam_final"] - lam) <= 1e-9 * max(1.0, lam)
        assert out["converges"]
        # the twin: the same two checks against GD at half the rate fail (in one of them: the
        # step counts can coincide, a kink event dominating both runs)
        half_steps, half_lam = _hand_run(state, rate=0.5)
        assert half_steps != steps or abs(out["lam_final"] - half_lam) > 1e-9 * max(1.0, half_lam)

    check()


def test_two_layer_slopes_are_the_real_activation_pattern():
    @settings(max_examples=20)
    @given(model_states("two-layer"))
    def check(state):
        U, x = (np.array(state.matrices[k], dtype=float) for k in ("U", "x"))
        S = np.array(state.matrices["S"], dtype=float)
        np.testing.assert_array_equal(np.diag(S), np.where((U @ x)[:, 0] > 0, 1.0, float(state.scalars["a"])))
        assert 0 <= state.scalars["a"] <= 1

    check()


def test_three_layer_masks_are_the_real_activation_patterns():
    """The slopes of both hidden layers come from the drawn weights (ReLU), as in a real net:
    diagonal, 1 where the layer's pre-activation is positive and 0 elsewhere."""
    @settings(max_examples=20)
    @given(model_states("three-layer"))
    def check(state):
        W1, W2, x, S1, S2 = (np.array(state.matrices[k], dtype=float) for k in ("W1", "W2", "x", "S1", "S2"))
        z1 = (W1 @ x)[:, 0]
        np.testing.assert_array_equal(S1, np.diag((z1 > 0).astype(float)))
        np.testing.assert_array_equal(S2, np.diag((W2 @ np.maximum(z1, 0) > 0).astype(float)))

    check()


def test_uv_states_obey_the_derived_constraint():
    """|f| <= lam sqrt(n) / (2 sqrt(x2)) for every realisable uv state (AM-GM), exactly."""
    claim = parse_claim("abs(f) <= lam * sqrt(n) / (2 * sqrt(x2))", "uv")
    assert_holds(claim, model_states("uv"))
    twin = parse_claim("abs(f) <= lam * sqrt(n) / (2.2 * sqrt(x2))", "uv")
    with _Profile(**NO_SHRINK):
        assert falsify(twin, model_states("uv")) is not None


# ----------------------------------------------------------------------------- the lemma and its twin
def _exact_w2_increment(state):
    f, lam, w2, f1, lam1, w21 = _step(state, exact=True)
    return sp.simplify(w21 - w2)


@pytest.mark.parametrize("name", ["uv", "two-layer", "pure-quadratic"])
def test_weight_norm_decreases_below_4_and_not_below_4_5(name):
    claim = parse_claim("w2_next < w2", name)
    assert falsify(claim, model_states(name, ["y == 0", "eta*lam < 4", "f != 0"])) is None
    with _Profile(**NO_SHRINK):
        cex = falsify(claim, model_states(name, ["y == 0", "eta*lam < 4.5", "f != 0"]))
    assert isinstance(cex, Counterexample)
    state = cex.example
    assert 4 <= state.k < 4.5 and state.y == 0 and state.values()["f"] != 0
    assert bool(_exact_w2_increment(state) >= 0)  # really violated, checked from the parameters
    side = claim.violated(state)
    assert side.relation == "w2_next < w2" and side.lhs_text == "w2_next" and side.rhs_text == "w2"


def test_run_outcomes_of_the_exact_map():
    """uv, y = 0: no divergence for k < 4 (the catapult theorem); the twin with 4.5 diverges."""
    claim = parse_claim("not diverges", "uv")
    assert falsify(claim, model_states("uv", ["y == 0", "eta*lam < 4"], steps=300)) is None
    with _Profile(**NO_SHRINK):
        cex = falsify(claim, model_states("uv", ["y == 0", "eta*lam < 4.5", "f != 0"], steps=300))
    assert cex is not None and cex.example.outcomes()["phase"] == "divergent" and cex.example.k >= 4
    # independently: plain GD from the drawn parameters blows up
    state = cex.example
    M = {k: np.array(v, dtype=float) for k, v in state.matrices.items()}
    U, v, x = M["U"], M["v"], M["x"]
    n = U.shape[0]
    lam = (np.sum((v @ x.T) ** 2) + np.sum((U @ x) ** 2)) / n
    eta = state.k / lam
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(300):
            f = (v.T @ U @ x)[0, 0] / np.sqrt(n)
            U, v = U - eta * f * v @ x.T / np.sqrt(n), v - eta * f * U @ x / np.sqrt(n)
    assert not np.isfinite(f) or abs(f) > 1e6


# ----------------------------------------------------------------------------- assumptions
def test_assumptions_shape_the_generator_or_filter():
    plan = plan_states("two-layer", ["y == 0", "eta*lam < 4", "2 <= k", "a == 0", "n >= 10", "f != 0",
                                     "lam < 100"])
    assert [g.text for g in plan.generators] == ["y == 0", "eta*lam < 4", "2 <= k", "a == 0", "n >= 10"]
    assert [f.text for f in plan.filters] == ["f != 0", "lam < 100"]
    assert plan.ranges.k == (2.0, 4.0, False, True)
    assert plan.ranges.y_fixed == 0 and plan.ranges.scalars["a"] == (0, 0) and plan.ranges.sizes["n"][0] == 10

    @settings(max_examples=10)
    @given(plan.strategy())
    def check(state):
        assert state.y == 0 and state.scalars["a"] == 0 and state.sizes["n"] >= 10 and 2 <= state.k < 4

    check()


def test_a_bound_is_never_crossed_by_rounding():
    """An exact bound that is not a float (``47/10``, ``41/10``) becomes the nearest float on
    its safe side: ``float(47/10)`` lies above 47/10 and ``float(41/10)`` below 41/10, so the
    nearest float would cross both. A float literal (``4.1``) is its own exact binary value."""
    assert Fraction(4.7) > Fraction(47, 10) and Fraction(4.1) < Fraction(41, 10)
    lo, hi, _, _ = plan_states("uv", ["k <= 47/10", "k >= 41/10"]).ranges.k
    assert Fraction(hi) <= Fraction(47, 10) and hi == np.nextafter(4.7, 0)
    assert Fraction(lo) >= Fraction(41, 10) and lo == np.nextafter(4.1, 5)
    lo, hi, _, _ = plan_states("uv", ["k <= 4.1", "k >= 0.1"]).ranges.k
    assert hi == 4.1 and lo == 0.1


def test_strict_bounds_leave_their_boundary_off_the_grid():
    """``y < 0`` and ``a < 1`` never draw the boundary itself (its grid point is dropped); the
    non-strict forms keep it. Assumptions that shape the generator are not re-checked."""
    from catapult_theory.testing._states import GRID

    assert plan_states("uv", ["y < 0"]).ranges.y[1] == -1 and plan_states("uv", ["y <= 0"]).ranges.y[1] == 0
    assert plan_states("uv", ["y > 1/2"]).ranges.y[0] == GRID // 2 + 1
    assert plan_states("uv", ["y >= 1/2"]).ranges.y[0] == GRID // 2
    assert plan_states("two-layer", ["a < 1"]).ranges.scalars["a"][1] == GRID - 1
    assert plan_states("two-layer", ["a <= 1"]).ranges.scalars["a"][1] == GRID


@pytest.mark.parametrize("assume, word", [
    (["k < 0"], "k"), (["y > 1", "y < 0"], "y"), (["n < 1"], "n"), (["eta*lam < bogus"], "bogus"),
])
def test_impossible_or_malformed_assumptions(assume, word):
    with pytest.raises(InvalidInput, match=word):
        plan_states("uv", assume)


def test_falsify_runs_under_the_callers_profile():
    """A parsed claim over model states is searched under the active profile (its budget)."""
    from catapult_theory.testing import Claim

    seen = []
    claim = parse_claim("w2 >= 0", "uv")

    def counting(state):
        seen.append(state)
        return claim(state)

    with _Profile(max_examples=7):
        assert falsify(Claim("w2 >= 0", counting), model_states("uv")) is None
    assert 0 < len(seen) <= 7


# ----------------------------------------------------------------------------- building blocks
@settings(max_examples=30)
@given(k_windows(2.0, 4.0))
def test_k_windows_stay_in_the_window(k):
    assert 2.0 <= k < 4.0


@settings(max_examples=30)
@given(symmetric_matrices(st.integers(1, 5), eigenvalues=st.sampled_from([-1.0, 1.0])))
def test_symmetric_matrices_with_a_chosen_spectrum(psi):
    np.testing.assert_array_equal(psi, psi.T)
    np.testing.assert_allclose(psi @ psi, np.eye(psi.shape[0]), atol=1e-12)


@settings(max_examples=10)
@given(symmetric_matrices(3, eigenvalues=[1.0, 2.0, -3.0]))
def test_symmetric_matrices_with_a_fixed_spectrum(psi):
    np.testing.assert_allclose(np.linalg.eigvalsh(psi), [-3.0, 1.0, 2.0], atol=1e-12)


@settings(max_examples=20)
@given(datasets(max_B=4, max_d=3, y_zero=True))
def test_datasets(data):
    assert data.X.shape == (data.B, data.d) and 1 <= data.B <= 4 and 1 <= data.d <= 3
    assert not data.y.any() and np.isfinite(data.X).all()
