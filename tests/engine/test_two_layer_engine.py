"""Batched GD on two-layer homogeneous nets against from-scratch references.

The references here share no code with the engine: forward and backward
passes are written out per unit, the NTK is built from per-sample Jacobians,
gradients are checked by finite differences and sparsity by counting.
"""

import sys

import numpy as np
import pytest

from catapult_theory.engine import Phase, PhaseCriteria
from catapult_theory.engine._eig import _block_power
from catapult_theory.engine._two_layer import (
    TopEigSolver,
    TwoLayerState,
    train_two_layer,
    two_layer_init,
    two_layer_ntk,
    two_layer_observables,
    two_layer_output,
)
from catapult_theory.experiments._digits import Dataset, digits01, toy_data
from tests.tolerances import assert_close


# --------------------------------------------------------------------------
# From-scratch references (loops over units and data; small sizes only).
# --------------------------------------------------------------------------


def _sig(z, a):
    return z if z > 0 else a * z


def _dsig(z, a):
    return 1.0 if z > 0 else a


def _ref_output(U, v, x, a):
    n, d = U.shape
    return sum(v[i] * _sig(U[i] @ x, a) for i in range(n)) / np.sqrt(n * d)


def _ref_jacobian(U, v, X, a):
    """Per-sample gradients of f, ``(B, n d + n)``, parameters ordered (U row-major, v)."""
    n, d = U.shape
    c = 1.0 / np.sqrt(n * d)
    J = np.zeros((X.shape[0], n * d + n))
    for b, x in enumerate(X):
        for i in range(n):
            z = U[i] @ x
            J[b, i * d : (i + 1) * d] = c * v[i] * _dsig(z, a) * x
            J[b, n * d + i] = c * _sig(z, a)
    return J


def _ref_loss(U, v, X, y, a):
    return 0.5 * np.mean([(_ref_output(U, v, x, a) - t) ** 2 for x, t in zip(X, y)])


def _ref_sparsity(U, X):
    count = 0
    for i in range(U.shape[0]):
        for x in X:
            count += U[i] @ x <= 0
    return count / (U.shape[0] * X.shape[0])


def _ref_run(U, v, data, a, eta, steps, blowup=PhaseCriteria().blowup):
    """Single-rate GD: per-step (loss, lam, w2, sparsity, test loss) until blow-up."""
    X, y = data.X, data.y
    B = X.shape[0]
    rows = []
    loss0 = None
    for _ in range(steps + 1):
        f = np.array([_ref_output(U, v, x, a) for x in X])
        r = f - y
        loss = 0.5 * np.mean(r**2)
        if loss0 is None:
            loss0 = loss
        if not np.isfinite(loss) or loss > blowup * loss0:
            break
        J = _ref_jacobian(U, v, X, a)
        lam = np.linalg.eigvalsh(J @ J.T / B)[-1]
        test = _ref_loss(U, v, data.X_test, data.y_test, a) if data.X_test is not None else np.nan
        rows.append((loss, lam, np.sum(U**2) + np.sum(v**2), _ref_sparsity(U, X), test))
        grad = J.T @ r / B
        n, d = U.shape
        U = U - eta * grad[: n * d].reshape(n, d)
        v = v - eta * grad[n * d :]
    return np.array(rows)


def _small_data(seed=0, B=5, d=3, B_test=4):
    rng = np.random.default_rng(seed)
    return Dataset(
        "small", "gaussian inputs, gaussian targets", rng.standard_normal((B, d)), rng.standard_normal(B),
        rng.standard_normal((B_test, d)), rng.standard_normal(B_test),
    )


def _lam0(init, data, a):
    return float(two_layer_observables(init, data.X, data.y, a).lam)


# --------------------------------------------------------------------------
# The engine against the references.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("slope", [0.0, 0.5, 1.0])
def test_batched_engine_matches_from_scratch_loop(slope):
    data = _small_data(seed=1)
    init = two_layer_init(24, data.d, seed=3)
    k = np.array([0.5, 1.5, 3.0, 40.0])
    eta = k / _lam0(init, data, slope)
    steps = 40
    run = train_two_layer(init, data, slope, eta, steps)
    names = ("loss", "lam", "w2", "sparsity", "test_loss")
    for j, e in enumerate(eta):
        ref = _ref_run(init.U, init.v, data, slope, e, steps)
        assert run.traj.length[j] == len(ref)
        for col, name in enumerate(names):
            got = run.traj.series(name, j)
            scale = np.max(np.abs(ref[:, col])) + 1e-300
            assert_close(got / scale, ref[:, col] / scale, rtol=0, atol=1e-10, what=f"{name} k={k[j]}")
    assert run.phase[-1] == Phase.DIVERGENT and run.traj.diverged_at[-1] > 0
    assert run.traj.diverged_at[0] == -1


def test_closed_form_ntk_equals_per_sample_jacobian_gram(rng):
    for slope in (0.0, 0.25, 1.0):
        U = rng.standard_normal((30, 4))
        v = rng.standard_normal(30)
        X = rng.standard_normal((6, 4))
        J = _ref_jacobian(U, v, X, slope)
        theta = two_layer_ntk(TwoLayerState(U, v), X, slope)
        assert_close(theta, J @ J.T, rtol=1e-12, atol=1e-14, what=f"NTK slope={slope}")
        out = two_layer_output(TwoLayerState(U, v), X, slope)
        assert_close(out, [_ref_output(U, v, x, slope) for x in X], rtol=1e-12, atol=1e-14, what="f")


def test_engine_lam_equals_jacobian_ntk_eigenvalue_on_digits_sized_batch(rng):
    """Many data (B = 40): the block iteration against the exact top eigenvalue, at every step."""
    B, d, n = 40, 6, 32
    data = Dataset("g", "gaussian", rng.standard_normal((B, d)), np.sign(rng.standard_normal(B)))
    init = two_layer_init(n, d, seed=5)
    eta = np.array([1.0, 2.5]) / _lam0(init, data, 0.0)
    run = train_two_layer(init, data, 0.0, eta, 25, solver=TopEigSolver(reanchor=0))
    ref = [_ref_run(init.U, init.v, data, 0.0, e, 25)[:, 1] for e in eta]
    for j in range(2):
        assert_close(run.traj.series("lam", j), ref[j], rtol=1e-10, atol=0, what="lam")


def test_gradient_step_equals_finite_differences(rng):
    data = _small_data(seed=2, B=4, d=3)
    for slope in (0.0, 0.5):
        init = TwoLayerState(rng.standard_normal((7, 3)), rng.standard_normal(7))
        eta = 1e-3
        run = train_two_layer(init, data, slope, eta, 1)
        gU = (init.U - run.state.U[0]) / eta
        gv = (init.v - run.state.v[0]) / eta
        h = 1e-6
        for arr, grad in ((init.U, gU), (init.v, gv)):
            for idx in np.ndindex(arr.shape):
                up, dn = arr.copy(), arr.copy()
                up[idx] += h
                dn[idx] -= h
                pair = (up, init.v) if arr is init.U else (init.U, up)
                pair_dn = (dn, init.v) if arr is init.U else (init.U, dn)
                fd = (_ref_loss(*pair, data.X, data.y, slope) - _ref_loss(*pair_dn, data.X, data.y, slope)) / (2 * h)
                assert abs(grad[idx] - fd) <= 1e-6 * max(1.0, abs(fd)), (slope, idx, grad[idx], fd)


def test_sparsity_is_the_fraction_of_inactive_pairs(rng):
    X = rng.standard_normal((9, 3))
    X[0] = 0.0  # a zero input: every pre-activation is 0, counted as inactive
    data = Dataset("s", "with a zero input", X, rng.standard_normal(9))
    init = two_layer_init(13, 3, seed=8)
    run = train_two_layer(init, data, 0.0, 0.0, 2)  # eta = 0: the state never moves
    expected = _ref_sparsity(init.U, X)
    assert expected > 1 / 9  # the zero input alone contributes 1/9
    assert_close(run.traj.series("sparsity", 0), np.full(3, expected), rtol=1e-15, what="sparsity")
    # width not a multiple of 8 takes the other counting path
    init = two_layer_init(11, 3, seed=9)
    run = train_two_layer(init, data, 0.0, 0.0, 0)
    assert_close(run.traj.series("sparsity", 0), [_ref_sparsity(init.U, X)], rtol=1e-15, what="sparsity")


# --------------------------------------------------------------------------
# Outcomes: divergence, collapse, stop rule.
# --------------------------------------------------------------------------


def test_divergence_is_a_result_without_warnings():
    """Warnings are errors in this suite: overflow must be handled on purpose."""
    data = _small_data(seed=4)
    init = two_layer_init(16, data.d, seed=0)
    lam0 = _lam0(init, data, 0.0)
    # 1e150, 1e250: the float64 range overflows on the way (inf - inf, inf * 0)
    run = train_two_layer(init, data, 0.0, np.array([0.5, 1e3, 1e12, 1e150, 1e250]) / lam0, 200)
    assert run.phase[0] == Phase.LAZY
    assert list(run.phase[1:]) == [Phase.DIVERGENT] * 4
    for j in (1, 2, 3, 4):
        s = run.traj.diverged_at[j]
        assert s > 0 and run.stopped_at[j] == s and run.stop_reason[j] == "diverged"
        assert np.all(np.isnan(run.traj.loss[s:, j]))
        for name in ("loss", "lam", "w2", "sparsity", "test_loss"):
            assert np.all(np.isfinite(run.traj.series(name, j))), name
            assert np.isfinite(run.traj.final(name)[j]), name
    assert run.traj.steps == 200 and run.stop_reason[0] == "max_steps"


def _dead_state(n, d, seed=0):
    """Every unit points away from the positive orthant: u_i·x < 0 for every x > 0."""
    rng = np.random.default_rng(seed)
    return TwoLayerState(-np.abs(rng.standard_normal((n, d))), rng.standard_normal(n))


def test_relu_collapse_detected_and_frozen():
    rng = np.random.default_rng(0)
    X = np.abs(rng.standard_normal((6, 4))) + 0.1
    y = rng.standard_normal(6)
    data = Dataset("pos", "positive inputs", X, y, X[:2] + 1.0, y[:2])
    run = train_two_layer(_dead_state(16, 4), data, 0.0, np.array([0.1, 1.0]), 50)
    assert run.collapsed.all()
    assert list(run.phase) == [Phase.COLLAPSED] * 2
    assert list(run.stop_reason) == ["collapsed"] * 2 and list(run.stopped_at) == [0, 0]
    assert_close(run.traj.final("loss"), np.full(2, 0.5 * np.mean(y**2)), rtol=1e-15, what="stuck loss")
    assert_close(run.traj.final("lam"), np.zeros(2), rtol=0, atol=0, what="lam of f = 0")
    assert_close(run.traj.final("sparsity"), np.ones(2), rtol=0, what="sparsity")
    # the same state with a leaky slope is not collapsed: the net moves
    leaky = train_two_layer(_dead_state(16, 4), data, 0.5, np.array([0.1, 1.0]), 50)
    assert not leaky.collapsed.any() and list(leaky.stop_reason) == ["max_steps"] * 2
    assert leaky.traj.final("loss")[1] < leaky.traj.loss[0, 1]


def test_relu_collapse_during_training_at_large_rate():
    """Toy datum: at large k every unit dies during the catapult (THEORY §6)."""
    data = toy_data()
    init = two_layer_init(64, 1, seed=0)
    lam0 = _lam0(init, data, 0.0)
    run = train_two_layer(init, data, 0.0, np.array([1.0, 30.0]) / lam0, 300)
    assert run.phase[0] == Phase.LAZY and not run.collapsed[0]
    assert run.collapsed[1] and run.phase[1] == Phase.COLLAPSED
    s = run.stopped_at[1]
    assert 0 < s < 300 and run.stop_reason[1] == "collapsed"
    # stuck at y²/2 = 0 with f = 0: the held series repeat the collapse step
    assert run.traj.loss[s, 1] == 0.0 and np.all(run.traj.loss[s:, 1] == 0.0)
    assert np.all(run.traj.extra["sparsity"][s:, 1] == 1.0) and run.traj.extra["sparsity"][s - 1, 1] < 1.0
    assert np.all(run.traj.lam[s:, 1] == 0.0)
    # the lazy run stops once its loss has settled; the series end at the last step any run was in
    assert run.stop_reason[0] == "settled" and run.traj.steps == max(run.stopped_at) < 300


def test_stop_rule_stops_at_first_small_loss_change():
    data = _small_data(seed=6)
    init = two_layer_init(20, data.d, seed=1)
    eta = np.array([0.3, 1.0, 1.8]) / _lam0(init, data, 0.5)
    full = train_two_layer(init, data, 0.5, eta, 500)
    tol = 1e-5
    run = train_two_layer(init, data, 0.5, eta, 500, tol=tol)
    for j in range(3):
        dl = np.abs(np.diff(full.traj.loss[:, j]))
        expected = int(np.argmax(dl < tol)) + 1
        assert dl[expected - 1] < tol and np.all(dl[: expected - 1] >= tol)
        assert run.stopped_at[j] == expected and run.stop_reason[j] == "tol"
        for name in ("loss", "lam", "w2", "sparsity", "test_loss"):
            a = run.traj.series(name, j)
            b = full.traj.series(name, j)
            assert_close(a[: expected + 1], b[: expected + 1], rtol=1e-12, atol=1e-300, what=name)
            assert np.all(a[expected:] == a[expected]), name  # held after the stop
    assert run.traj.steps == run.stopped_at.max() < 500 and len(set(run.stopped_at.tolist())) == 3
    assert run.lam_evaluated[run.stopped_at, np.arange(3)].all()


def test_batched_rates_equal_single_rate_runs_when_rates_leave_at_different_steps():
    """Rates leave the batch (divergence, stop rule, budget) at different steps; the rest are unaffected."""
    data = _small_data(seed=7)
    init = two_layer_init(16, data.d, seed=2)
    eta = np.array([0.2, 3e2, 1.0, 20.0, 2.5]) / _lam0(init, data, 0.0)
    batched = train_two_layer(init, data, 0.0, eta, 58, tol=1e-4)
    assert len(set(batched.stopped_at.tolist())) == 5
    assert set(batched.stop_reason) == {"max_steps", "tol", "diverged"}
    for j, e in enumerate(eta):
        single = train_two_layer(init, data, 0.0, e, 58, tol=1e-4)
        assert single.stopped_at[0] == batched.stopped_at[j]
        assert single.stop_reason[0] == batched.stop_reason[j]
        for name in ("loss", "lam", "w2", "sparsity", "test_loss"):
            a, b = batched.traj.series(name, j), single.traj.series(name, 0)
            m = min(len(a), len(b))
            assert_close(a[:m], b[:m], rtol=1e-11, atol=1e-300, what=f"{name} rate {j}")
        assert_close(batched.state.U[j], single.state.U[0], rtol=1e-11, atol=1e-14, what="U final")
    # several rates leaving at the same step keep their own final parameters
    eta = np.array([0.5, 1.5, 2.5]) / _lam0(init, data, 0.0)
    together = train_two_layer(init, data, 0.0, eta, 20)
    for j, e in enumerate(eta):
        single = train_two_layer(init, data, 0.0, e, 20)
        assert_close(together.state.U[j], single.state.U[0], rtol=1e-11, atol=1e-14, what="U final")
        assert_close(together.state.v[j], single.state.v[0], rtol=1e-11, atol=1e-14, what="v final")


def test_thread_slices_give_the_single_thread_result():
    """Slices of the rate batch advanced by separate threads (rates leave on the way)."""
    data = _small_data(seed=7)
    init = two_layer_init(16, data.d, seed=2)
    eta = np.array([0.2, 3e2, 1.0, 20.0, 2.5]) / _lam0(init, data, 0.0)
    one = train_two_layer(init, data, 0.0, eta, 58, tol=1e-4, threads=1)
    two = train_two_layer(init, data, 0.0, eta, 58, tol=1e-4, threads=2)
    assert one.settings["threads"] == 1 and two.settings["threads"] == 2
    np.testing.assert_array_equal(one.stopped_at, two.stopped_at)
    np.testing.assert_array_equal(one.phase, two.phase)
    for name in ("loss", "lam", "w2", "sparsity", "test_loss"):
        for j in range(eta.size):
            assert_close(two.traj.series(name, j), one.traj.series(name, j), rtol=1e-11, atol=1e-300, what=name)


def test_stop_rule_compares_each_rate_with_its_own_previous_loss():
    """A rate stopping by tol one step after another rate left the batch."""
    data = toy_data()
    init = two_layer_init(32, 1, seed=1)
    lam0 = _lam0(init, data, 0.5)
    slow = train_two_layer(init, data, 0.5, 0.5 / lam0, 30)
    dl = np.abs(np.diff(slow.traj.loss[:, 0]))  # geometric decay of a lazy run
    fast = train_two_layer(init, data, 0.5, 1e6 / lam0, 30)
    s = int(fast.traj.diverged_at[0])
    assert 1 <= s < 20 and np.all(np.diff(dl[: s + 2]) < 0)
    tol = np.sqrt(dl[s] * dl[s - 1])  # |Δloss| of the slow rate drops below tol first at step s + 1
    run = train_two_layer(init, data, 0.5, np.array([1e6, 0.5]) / lam0, 30, tol=tol)
    assert run.traj.diverged_at[0] == s
    assert run.stop_reason[1] == "tol" and run.stopped_at[1] == s + 1


def test_lam_every_evaluates_on_schedule_and_holds_between():
    data = _small_data(seed=8)
    init = two_layer_init(16, data.d, seed=4)
    eta = np.array([0.5, 1.5]) / _lam0(init, data, 0.0)
    every = train_two_layer(init, data, 0.0, eta, 23)
    sparse = train_two_layer(init, data, 0.0, eta, 23, lam_every=5)
    steps = np.flatnonzero(sparse.lam_evaluated[:, 0])
    assert steps.tolist() == [0, 5, 10, 15, 20, 23]
    assert_close(sparse.traj.lam[steps], every.traj.lam[steps], rtol=1e-12, what="lam at evaluations")
    assert np.all(sparse.traj.lam[6:10] == sparse.traj.lam[5])
    assert not np.allclose(every.traj.lam[6:10], every.traj.lam[5], rtol=1e-12, atol=0)
    assert_close(sparse.traj.loss, every.traj.loss, rtol=1e-13, what="loss unaffected")
    # level-3 work: forward at 24 states, 23 gradients, the two syrks only at evaluations
    n, d, B, Bt = 16, data.d, data.B, data.B_test
    gram = n * ((B + 1) * (B + 2) + B * (B + 1))
    base = 2 * 24 * n * d * (B + Bt) + 2 * 23 * n * d * B
    assert every.gemm_flops == 2 * (base + 24 * gram)  # two rates
    assert sparse.gemm_flops == 2 * (base + 6 * gram)


def _unrecorded_fast_steps(run, j, rtol, dense):
    """Steps the ``lam_rtol`` rule should have evaluated ``lam`` at and did not: the first
    ``dense`` steps, every step whose loss rose, and the step after an evaluation at which
    ``lam`` had moved by more than ``rtol`` of itself per step since the previous one."""
    ev, last = run.lam_evaluated[:, j], int(run.stopped_at[j])
    loss, lam = run.traj.loss[: last + 1, j], run.traj.lam[:, j]
    want = set(range(min(dense, last + 1))) | {t for t in range(1, last + 1) if loss[t] > loss[t - 1]}
    steps = np.flatnonzero(ev[: last + 1])
    for a, b in zip(steps, steps[1:]):
        if abs(lam[b] - lam[a]) > rtol * abs(lam[a]) * (b - a) and b < last:
            want.add(int(b) + 1)
    return sorted(t for t in want if not ev[t])


def test_lam_every_step_while_it_moves_fast():
    """``lam_rtol``: ``lam`` at every step of a catapult (the loss rises, then ``lam`` falls
    step by step) and at the sparse cadence elsewhere, exact where evaluated and held between;
    the plain cadence misses those steps (the same check catches it)."""
    data = _small_data(seed=8)
    init = two_layer_init(64, data.d, seed=4)
    eta = np.array([1.0, 3.0]) / _lam0(init, data, 0.5)
    every = train_two_layer(init, data, 0.5, eta, 200)
    fast = train_two_layer(init, data, 0.5, eta, 200, lam_every=20, lam_dense=2, lam_rtol=1e-3)
    plain = train_two_layer(init, data, 0.5, eta, 200, lam_every=20)
    assert list(every.phase) == ["lazy", "catapult"]
    for j in range(2):
        assert _unrecorded_fast_steps(fast, j, 1e-3, 2) == []
        steps = np.flatnonzero(fast.lam_evaluated[:, j])
        assert_close(fast.traj.lam[steps, j], every.traj.lam[steps, j], rtol=1e-12, what="lam at evaluations")
        for a, b in zip(steps, steps[1:]):  # held between evaluations
            assert np.all(fast.traj.lam[a:b, j] == fast.traj.lam[a, j])
    # the catapult (loss rising from step 3) is recorded step by step, the slow tail at the cadence
    assert set(range(3, 12)) <= set(np.flatnonzero(fast.lam_evaluated[:, 1]))
    assert np.count_nonzero(fast.lam_evaluated[100:, 1]) <= 101 // 20 + 1
    # the outputs come from the Gram matrices where lam is evaluated: the loss differs by rounding only
    assert_close(fast.traj.loss, every.traj.loss, rtol=1e-10, what="loss unaffected")
    assert _unrecorded_fast_steps(plain, 1, 1e-3, 2) != []
    # without the dense start, the rising loss alone starts the step-by-step record
    rising = train_two_layer(init, data, 0.5, eta, 200, lam_every=20, lam_rtol=1e-3)
    assert _unrecorded_fast_steps(rising, 1, 1e-3, 0) == [] and rising.lam_evaluated[3, 1]
    assert fast.settings["lam_rtol"] == 1e-3 and fast.settings["lam_dense"] == 2


def test_test_every_holds_between_and_is_exact_when_a_run_leaves():
    data = _small_data(seed=9)
    init = two_layer_init(16, data.d, seed=5)
    eta = np.array([0.3, 1.2, 40.0]) / _lam0(init, data, 0.5)  # the last one diverges
    every = train_two_layer(init, data, 0.5, eta, 30, tol=1e-6)
    sparse = train_two_layer(init, data, 0.5, eta, 30, tol=1e-6, test_every=7)
    assert_close(sparse.traj.loss[np.isfinite(sparse.traj.loss)], every.traj.loss[np.isfinite(every.traj.loss)],
                 rtol=1e-13, what="train loss unaffected")
    assert np.array_equal(sparse.stopped_at, every.stopped_at)
    te, ts = every.traj.extra["test_loss"], sparse.traj.extra["test_loss"]
    for i in range(2):  # the converging runs: exact at 0, 7, 14, ... and at the run's last step
        last = int(sparse.stopped_at[i])
        for t in list(range(0, last + 1, 7)) + [last]:
            assert_close(ts[t, i], te[t, i], rtol=1e-12, what=f"test loss at step {t}")
        if last > 8:
            assert ts[8, i] == ts[7, i] and te[8, i] != te[7, i]
    assert sparse.gemm_flops < every.gemm_flops
    with pytest.raises(ValueError, match="test_every"):
        train_two_layer(init, data, 0.5, eta, 3, test_every=0)


def test_block_power_iteration_against_eigvalsh(rng):
    R, B = 6, 30
    M = rng.standard_normal((R, B, B))
    H = M @ np.swapaxes(M, 1, 2)
    H[0] = np.diag(np.r_[np.ones(B - 2), 5.0, 5.0 - 1e-9])  # near-degenerate top pair
    H[1] = 0.0  # a collapsed net
    exact = np.linalg.eigvalsh(H)[:, -1]
    Q, _ = np.linalg.qr(rng.standard_normal((R, B, 4)))
    lam, Q2, conv = _block_power(H, Q, TopEigSolver(max_iter=500))
    assert conv.all()
    assert_close(lam, exact, rtol=1e-12, atol=0, what="top eigenvalue")
    assert_close(np.swapaxes(Q2, 1, 2) @ Q2, np.broadcast_to(np.eye(4), (R, 4, 4)), rtol=0, atol=1e-12, what="QᵀQ")
    # one iteration from a random block does not converge: the engine then falls back to eigh
    _, _, conv1 = _block_power(H, Q, TopEigSolver(max_iter=1))
    assert not conv1[2:].all()
    data = _small_data(seed=9, B=12)
    init = two_layer_init(16, data.d, seed=0)
    eta = np.array([2.8]) / _lam0(init, data, 0.0)
    tight = train_two_layer(init, data, 0.0, eta, 30, solver=TopEigSolver(max_iter=1, rtol=1e-14, reanchor=0))
    ref = train_two_layer(init, data, 0.0, eta, 30, solver=TopEigSolver(reanchor=1))  # exact every step
    assert tight.lam_fallbacks > 0
    assert_close(tight.traj.lam, ref.traj.lam, rtol=1e-12, what="lam with fallbacks")


# --------------------------------------------------------------------------
# Arguments and data sets.
# --------------------------------------------------------------------------


def test_bad_arguments_raise_value_error():
    data = _small_data()
    init = two_layer_init(8, data.d)
    ok = dict(init=init, data=data, slope=0.0, eta=[0.1], max_steps=3)
    bad = [
        dict(slope=-0.1), dict(slope=1.5), dict(eta=[-1.0]), dict(eta=[np.nan]), dict(eta=[[0.1]]),
        dict(eta=[]), dict(max_steps=-1), dict(max_steps=2.5), dict(lam_every=0), dict(tol=0.0),
        dict(tol=np.inf), dict(init=two_layer_init(8, data.d + 1)),
        dict(init=TwoLayerState(np.zeros((3, 8, data.d)), np.zeros((3, 8)))),
        dict(data=Dataset("x", "", np.ones((2, 2)), np.ones(2))),
    ]
    for change in bad:
        with pytest.raises(ValueError):
            train_two_layer(**{**ok, **change})
    train_two_layer(**ok)  # the baseline is valid
    for kwargs in (dict(width=0, d=1), dict(width=3, d=0), dict(width=2.5, d=1)):
        with pytest.raises(ValueError):
            two_layer_init(**kwargs)
    for kwargs in (dict(block=0), dict(rtol=0.0), dict(rtol=1.0), dict(max_iter=0), dict(reanchor=-1)):
        with pytest.raises(ValueError):
            TopEigSolver(**kwargs)
    with pytest.raises(ValueError):
        TwoLayerState(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError):
        Dataset("x", "", np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError):
        Dataset("x", "", np.ones((3, 2)), np.ones(3), np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError):
        Dataset("x", "", np.ones((3, 2)), np.ones(3), np.ones((2, 2)), None)
    for kwargs in (dict(train_size=0), dict(train_size=360), dict(train_size=12.0), dict(seed=-1)):
        with pytest.raises(ValueError):
            digits01(**kwargs)


def test_toy_data_and_digits01():
    toy = toy_data()
    assert toy.X.tolist() == [[1.0]] and toy.y.tolist() == [0.0] and not toy.has_test
    with pytest.raises(ValueError):
        toy.X[0, 0] = 2.0  # read-only
    pytest.importorskip("sklearn")
    a, b, c = digits01(), digits01(), digits01(seed=1)
    assert a.X.shape == (128, 64) and a.X_test.shape == (232, 64) and a.B_test == 232
    assert set(np.unique(a.y)) == {-1.0, 1.0} and set(np.unique(a.y_test)) == {-1.0, 1.0}
    assert_close(np.sum(a.X**2, axis=1), np.full(128, 64.0), rtol=1e-12, what="|x|^2 = d")
    assert np.all(a.X >= 0)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    rows = {tuple(x) for x in a.X}
    assert not rows & {tuple(x) for x in a.X_test}  # disjoint (the 360 images are distinct)
    assert len(rows | {tuple(x) for x in a.X_test}) == 360
    small = digits01(train_size=10, seed=3)
    assert small.B == 10 and small.B_test == 350 and "pixels/16" in small.description


def test_digits01_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install"):
        digits01()
