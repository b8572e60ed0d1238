"""Full-parameter GD on the uv model against the derived map, and overflow as a result."""

import numpy as np
from hypothesis import given, strategies as st

from catapult_theory.compiled import update_map
from catapult_theory.engine import Phase, UVState, classify, iterate_map, train_uv, uv_init, uv_observables
from catapult_theory.testing import uv_gd_step, uv_problems
from tests.tolerances import STEP, assert_close


@given(uv_problems(max_width=400))
def test_derived_map_equals_one_gd_step_at_random_states(p):
    """Symbolic map vs a real GD step, over widths, input dimensions, states, targets and rates."""
    step = uv_gd_step(p)
    cm = update_map("uv")
    f1, lam1, w21 = cm(step.f, step.lam, step.w2, step.eta, p.y, float(p.width), float(p.x @ p.x))
    scale_f = max(abs(step.f), abs(step.r) * step.eta * step.lam, 1.0)
    assert abs(f1 - step.f_next) <= 1e-10 * scale_f * (1 + step.eta**2 * step.r**2 * float(p.x @ p.x) / p.width)
    assert_close(lam1, step.lam_next, **STEP, what="lam")
    assert_close(w21, step.w2_next, **STEP, what="w2")


def test_batched_rates_equal_single_rate_runs():
    init = uv_init(50, 2, seed=3)
    x = np.array([1.0, 0.5])
    f0, lam0, w2_0 = uv_observables(init, x)
    eta = np.array([0.5, 2.5, 3.5]) / lam0
    batched = train_uv(init, x, eta, 60, y=0.2, settle=False)  # full length: compared step by step
    for i, e in enumerate(eta):
        single = train_uv(init, x, e, 60, y=0.2, settle=False)
        for name in ("loss", "lam", "w2"):
            assert_close(batched.series(name, i), single.series(name), rtol=1e-13, atol=1e-300, what=name)


def test_gd_trajectory_follows_the_map_through_a_catapult():
    init = uv_init(1000, 1, seed=0)
    x = np.array([1.0])
    f0, lam0, w2_0 = uv_observables(init, x)
    eta = 3.0 / lam0
    gd = train_uv(init, x, eta, 300, settle=False)
    mp = iterate_map(update_map("uv"), f0=f0, lam0=lam0, w2_0=w2_0, eta=eta, steps=300, n=1000, x2=1.0)
    assert classify(gd) == classify(mp) == Phase.CATAPULT
    for name in ("loss", "lam", "w2"):
        a, b = gd.series(name), mp.series(name)
        assert np.max(np.abs(a - b)) <= 1e-9 * np.max(np.abs(b))
    # the catapult: the loss rose and the NTK eigenvalue fell below the stability edge
    assert gd.peak_loss() > 10 * gd.loss[0]
    assert eta * gd.final("lam") < 2


def test_overflow_is_a_result_not_a_warning():
    """Warnings are errors in this test suite: a blow-up must be handled on purpose."""
    init = uv_init(20, 1, seed=1)
    x = np.array([1.0])
    _, lam0, _ = uv_observables(init, x)
    gd = train_uv(init, x, np.array([1.0, 50.0, 1e6]) / lam0, 400)
    phases = classify(gd)
    assert phases[0] == Phase.LAZY
    assert list(phases[1:]) == [Phase.DIVERGENT, Phase.DIVERGENT]
    assert (gd.diverged_at[1:] > 0).all() and gd.diverged_at[0] == -1
    for i in (1, 2):
        s = gd.series("loss", i)
        assert len(s) == gd.diverged_at[i] and np.all(np.isfinite(s))


@given(st.integers(1, 30), st.integers(1, 4), st.integers(0, 100))
def test_observables_are_gradient_norms(n, d, seed):
    """lam = |grad f|^2 by finite differences of the output."""
    st_ = uv_init(n, d, seed)
    x = np.linspace(1.0, 2.0, d)
    f, lam, _ = uv_observables(st_, x)
    h = 1e-6
    g2 = 0.0
    for arr_name in ("U", "v"):
        arr = getattr(st_, arr_name)
        for idx in np.ndindex(arr.shape):
            up, dn = arr.copy(), arr.copy()
            up[idx] += h
            dn[idx] -= h
            su = UVState(up, st_.v) if arr_name == "U" else UVState(st_.U, up)
            sd = UVState(dn, st_.v) if arr_name == "U" else UVState(st_.U, dn)
            g2 += ((uv_observables(su, x)[0] - uv_observables(sd, x)[0]) / (2 * h)) ** 2
    assert_close(lam, g2, rtol=1e-6, atol=1e-9)
