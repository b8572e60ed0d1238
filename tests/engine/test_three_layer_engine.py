"""Batched GD on three-layer ReLU MLPs against plain references, and the degree-3 facts on real steps.

The references share no code with the engine: the forward pass is a loop over data,
gradients and per-sample Jacobians are the chain rule written out per datum, GD is a plain
per-rate loop, sparsity is counted unit by unit. The derived facts (Euler's identity
with 3, the weight-norm change with 6, lam <= K |theta|^4) are read from the symbolic
layer and checked on real GD steps, each beside a deliberately wrong twin that the
same check must reject.
"""

import numpy as np
import pytest
import sympy as sp

from catapult_theory.engine import PhaseCriteria
from catapult_theory.engine._three_layer import (
    ThreeLayerState,
    three_layer_init,
    three_layer_ntk,
    three_layer_observables,
    three_layer_output,
    train_three_layer,
)
from catapult_theory.errors import InvalidInput
from catapult_theory.experiments._dataset import Dataset
from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic import three_layer_facts

# --------------------------------------------------------------------------
# From-scratch references (loops, the chain rule by hand; tiny sizes only).
# --------------------------------------------------------------------------


def _sig(z, a):
    return np.where(z > 0, z, a * z)


def _ref_f(W1, W2, v, x, a):
    n, d = W1.shape
    h1 = _sig(W1 @ x, a)
    h2 = _sig(W2 @ h1, a)
    return float(v @ h2) / (n * np.sqrt(d))


def _flat(W1, W2, v):
    return np.concatenate([W1.ravel(), W2.ravel(), v])


def _unflat(th, n, d):
    return th[: n * d].reshape(n, d), th[n * d : n * d + n * n].reshape(n, n), th[n * d + n * n :]


def _dsig(z, a):
    return np.where(z > 0, 1.0, a)


def _ref_jac(th, X, a, n, d):
    """Per-sample gradients of f by the chain rule written out layer by layer, ``(B, P)``."""
    W1, W2, v = _unflat(th, n, d)
    c = n * np.sqrt(d)
    rows = []
    for x in X:
        z1 = W1 @ x
        h1 = _sig(z1, a)
        z2 = W2 @ h1
        g2 = v * _dsig(z2, a) / c  # df/dz2
        g1 = (W2.T @ g2) * _dsig(z1, a)  # df/dz1
        rows.append(np.concatenate([np.outer(g1, x).ravel(), np.outer(g2, h1).ravel(), _sig(z2, a) / c]))
    return np.array(rows)


_BLOWUP = PhaseCriteria().blowup


def _ref_run(state, data, a, eta, steps, blowup=_BLOWUP):
    """Plain GD at one rate: per step (loss, lam, w2, sparsity1, sparsity2, test loss) until blow-up."""
    n, d = state.width, state.dim
    th = _flat(state.W1, state.W2, state.v)
    X, y, B = data.X, data.y, data.X.shape[0]
    rows, loss0 = [], None
    for t in range(steps + 1):
        W1, W2, v = _unflat(th, n, d)
        f = np.array([_ref_f(W1, W2, v, x, a) for x in X])
        r = f - y
        loss = 0.5 * np.mean(r**2)
        loss0 = loss if loss0 is None else loss0
        if not np.isfinite(loss) or loss > blowup * loss0:
            break
        J = _ref_jac(th, X, a, n, d)
        lam = np.linalg.eigvalsh(J @ J.T / B)[-1]
        dead1 = sum(W1[i] @ x <= 0 for i in range(n) for x in X) / (n * B)
        dead2 = sum(W2[i] @ _sig(W1 @ x, a) <= 0 for i in range(n) for x in X) / (n * B)
        ft = np.array([_ref_f(W1, W2, v, x, a) for x in data.X_test])
        rows.append((loss, lam, th @ th, dead1, dead2, 0.5 * np.mean((ft - data.y_test) ** 2)))
        if t < steps:
            th = th - eta * J.T @ r / B
    return np.array(rows), th


def _data(seed=0, B=5, d=3, B_test=4):
    rng = np.random.default_rng(seed)
    return Dataset("small", "gaussian inputs and targets", rng.standard_normal((B, d)), rng.standard_normal(B),
                   rng.standard_normal((B_test, d)), rng.standard_normal(B_test))


# --------------------------------------------------------------------------
# The engine against the references.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("slope", [0.0, 0.4])
def test_batched_engine_matches_plain_per_rate_gd(slope):
    data = _data(seed=1)
    init = three_layer_init(6, data.d, seed=2)
    lam0 = float(three_layer_observables(init, data.X, data.y, slope).lam)
    k = np.array([0.5, 2.5, 60.0])
    steps = 12
    run = train_three_layer(init, data, slope, k / lam0, steps)
    names = ("loss", "lam", "w2", "sparsity1", "sparsity2", "test_loss")
    for j, kk in enumerate(k):
        ref, th = _ref_run(init, data, slope, kk / lam0, steps)
        got = np.column_stack([run.traj.series(name, j) for name in names])
        assert got.shape == ref.shape, (kk, got.shape, ref.shape)
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)
        if run.traj.diverged_at[j] < 0:  # the final state after as many steps
            st = run.state
            np.testing.assert_allclose(_flat(st.W1[j], st.W2[j], st.v[j]), th, rtol=1e-5, atol=1e-8)
    # "sparsity" is the mean of the two layers' (the series the phase diagrams plot)
    np.testing.assert_array_equal(run.traj.extra["sparsity"],
                                  0.5 * (run.traj.extra["sparsity1"] + run.traj.extra["sparsity2"]))
    # far beyond: a ReLU net dies (stuck for ever), a leaky one blows up (frozen there, no warning)
    assert run.phase[2] == ("collapsed" if slope == 0 else "divergent")
    assert (run.traj.diverged_at[2] > 0) == (slope > 0)
    assert run.phase[0] == "lazy"


def test_ntk_closed_form_and_sparsity_match_finite_differences():
    data = _data(seed=3, B=4, d=2)
    for slope in (0.0, 0.3, 1.0):
        st = three_layer_init(5, 2, seed=4)
        th = _flat(st.W1, st.W2, st.v)
        J = _ref_jac(th, data.X, slope, 5, 2)
        np.testing.assert_allclose(three_layer_ntk(st, data.X, slope), J @ J.T, rtol=1e-6, atol=1e-9)
        f = three_layer_output(st, data.X, slope)
        np.testing.assert_allclose(f, [_ref_f(st.W1, st.W2, st.v, x, slope) for x in data.X], rtol=1e-12)


def test_threads_and_compaction_do_not_change_results():
    data = _data(seed=5, B=6, d=4)
    init = three_layer_init(8, 4, seed=6)
    lam0 = float(three_layer_observables(init, data.X, data.y, 0.0).lam)
    eta = np.array([0.3, 40.0, 1.5, 2.5, 90.0]) / lam0
    a = train_three_layer(init, data, 0.0, eta, 30, tol=1e-9, threads=1)
    b = train_three_layer(init, data, 0.0, eta, 30, tol=1e-9, threads=3)
    np.testing.assert_array_equal(a.stopped_at, b.stopped_at)
    np.testing.assert_allclose(a.traj.loss, b.traj.loss, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(a.state.W2[[0, 2, 3]], b.state.W2[[0, 2, 3]], rtol=1e-10)
    assert train_three_layer(init, data, 0.0, eta[:1], 3, keep_state=False).state is None


def test_lam_every_step_while_the_loss_rises_and_at_the_cadence_after():
    """The driver's ``lam_rtol`` reaches this engine: a catapulting run has ``lam`` at every
    step its loss rises, exact there (the every-step run's values) and held between."""
    data = _data(seed=5, B=6, d=4)
    init = three_layer_init(16, 4, seed=6)
    lam0 = float(three_layer_observables(init, data.X, data.y, 0.0).lam)
    eta = np.array([2.5]) / lam0
    every = train_three_layer(init, data, 0.0, eta, 60)
    fast = train_three_layer(init, data, 0.0, eta, 60, lam_every=25, lam_rtol=1e-3)
    loss = every.traj.loss[:, 0]
    rises = np.flatnonzero(np.diff(loss) > 0) + 1
    ev = np.flatnonzero(fast.lam_evaluated[:, 0])
    assert every.phase[0] == "catapult" and rises.size and set(rises) <= set(ev)
    np.testing.assert_allclose(fast.traj.lam[ev, 0], every.traj.lam[ev, 0], rtol=1e-10)
    assert fast.settings["lam_rtol"] == 1e-3


def test_a_dead_last_hidden_layer_is_collapsed_at_once():
    data = _data(seed=7)
    st = three_layer_init(6, data.d, seed=8)
    dead = ThreeLayerState(st.W1, -np.abs(st.W2), st.v)  # h1 >= 0, so W2 h1 <= 0 for every datum
    run = train_three_layer(dead, data, 0.0, np.array([0.1, 5.0]), 50)
    assert list(run.phase) == ["collapsed", "collapsed"] and list(run.stopped_at) == [0, 0]
    np.testing.assert_allclose(run.traj.final("loss"), 0.5 * np.mean(data.y**2))
    assert np.all(run.traj.final("sparsity2") == 1.0)
    # leaky: the same net is not stuck
    assert train_three_layer(dead, data, 0.2, np.array([0.1]), 5).phase[0] != "collapsed"


def test_bad_input_is_invalid_input():
    data = _data()
    st = three_layer_init(4, data.d)
    with pytest.raises(InvalidInput):
        train_three_layer(st, data, 1.5, 0.1, 3)
    with pytest.raises(InvalidInput):
        ThreeLayerState(np.zeros((4, 3)), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(InvalidInput):
        three_layer_init(0, 3)
    with pytest.raises(InvalidInput):
        train_three_layer(st, Dataset("x", "x", np.ones((2, 2)), np.ones(2)), 0.0, 0.1, 3)


# --------------------------------------------------------------------------
# The derived degree-3 facts on real nets and real GD steps.
# --------------------------------------------------------------------------


def _euler_gap(ratio, slope, seed):
    """max_a |θ·∇f_a − ratio f_a| / max |f| on a random net (per-sample gradients by differences)."""
    data = _data(seed=seed, B=4, d=3)
    st = three_layer_init(5, 3, seed=seed + 1)
    th = _flat(st.W1, st.W2, st.v)
    J = _ref_jac(th, data.X, slope, 5, 3)
    f = three_layer_output(st, data.X, slope)
    return float(np.max(np.abs(J @ th - ratio * f)) / np.max(np.abs(f)))


@pytest.mark.parametrize("slope", [0.0, 0.5])
def test_euler_identity_with_the_derived_degree_and_its_wrong_twin(slope):
    ratio = float(three_layer_facts().euler_ratio)
    assert ratio == 3
    assert _euler_gap(ratio, slope, seed=11) < 1e-7
    assert _euler_gap(2.0, slope, seed=11) > 0.1  # the two-layer premise θ·∇f = 2f fails


def _one_step(data, slope, k, seed=0, n=6):
    """A real GD step of the engine: (f, r, lam, w2 before; w2 after; Θ; eta)."""
    st = three_layer_init(n, data.d, seed=seed)
    obs = three_layer_observables(st, data.X, data.y, slope)
    eta = k / float(obs.lam)
    run = train_three_layer(st, data, slope, np.array([eta]), 1)
    return obs, float(run.traj.w2[1, 0]), three_layer_ntk(st, data.X, slope), eta


def _lemma(constant):
    """The one-datum increment η r (η lam r − C f) of the symbolic layer, compiled."""
    from catapult_theory.symbolic import lemma_increment

    return sp.lambdify([S.eta, S.r, S.lam, S.f], lemma_increment(constant=constant))


@pytest.mark.parametrize("slope", [0.0, 0.3])
@pytest.mark.parametrize("y", [0.0, 0.7])
def test_derived_weight_norm_change_equals_a_real_gd_step(slope, y):
    C = three_layer_facts().lemma_constant
    assert C == 6
    rng = np.random.default_rng(13)
    data = Dataset("one", "one datum", rng.standard_normal((1, 3)), np.array([y]))
    for k in (0.5, 3.0, 7.0):
        obs, w2_after, _, eta = _one_step(data, slope, k, seed=3)
        f, lam = float(obs.f[0]), float(obs.lam)
        dw2 = w2_after - float(obs.w2)
        right = _lemma(C)(eta, f - y, lam, f)
        wrong = _lemma(4)(eta, f - y, lam, f)  # the two-layer lemma
        scale = abs(dw2) + abs(eta * (f - y) * f)
        assert abs(dw2 - right) <= 1e-9 * scale * 1e3
        assert abs(dw2 - wrong) > 1e-3 * scale


def test_many_data_weight_norm_change_with_six_and_not_four():
    data = _data(seed=17, B=6, d=3)
    obs, w2_after, Theta, eta = _one_step(data, 0.0, 2.5, seed=5)
    B = data.B
    r = obs.f - data.y
    dw2 = w2_after - float(obs.w2)

    def claim(C):
        return -C * eta / B * float(r @ obs.f) + eta**2 / B**2 * float(r @ Theta @ r)

    C = float(three_layer_facts().lemma_constant)
    assert abs(dw2 - claim(C)) <= 1e-9 * (abs(dw2) + 1)
    assert abs(dw2 - claim(4.0)) > 1e-4 * (abs(dw2) + 1)


def test_step_zero_norm_threshold_is_six_not_four():
    """y = 0: Δ|θ|² = η f² (η lam − 6): the first step shrinks the norm just below
    k = 6 and grows it just above; the two-layer threshold 4 is wrong both ways here."""
    k6 = float(sp.simplify(three_layer_facts().eta_max.eta * S.lam))
    assert k6 == 6
    data = Dataset("one", "one datum", np.array([[0.6, -1.1]]), np.array([0.0]))
    for k, sign in ((0.99 * k6, -1), (1.01 * k6, 1), (5.0, -1)):
        obs, w2_after, _, _ = _one_step(data, 0.0, k, seed=21, n=8)
        assert abs(float(obs.f[0])) > 1e-3
        assert np.sign(w2_after - float(obs.w2)) == sign, k


def _K(n, d, x2):
    f = three_layer_facts()
    return float(f.K.subs({S.n: n, sp.Symbol("d"): d, S.x2: x2}))


def test_ntk_bound_lam_le_K_w2_squared_holds_is_tight_and_the_degree_two_form_fails():
    rng = np.random.default_rng(23)
    worst = 0.0
    for trial in range(40):
        n, d = int(rng.integers(1, 7)), int(rng.integers(1, 4))
        slope = float(rng.choice([0.0, 0.5, 1.0]))
        x = rng.standard_normal((1, d))
        st = ThreeLayerState(rng.standard_normal((n, d)) * rng.uniform(0.2, 3),
                             rng.standard_normal((n, n)) * rng.uniform(0.2, 3), rng.standard_normal(n))
        obs = three_layer_observables(st, x, np.zeros(1), slope)
        ratio = float(obs.lam) / (_K(n, d, float(x[0] @ x[0])) * float(obs.w2) ** 2)
        worst = max(worst, ratio)
        assert ratio <= 1 + 1e-12, (trial, ratio)
    # tight: one unit per layer, equal block norms, every unit active
    one = ThreeLayerState(np.ones((1, 1)), np.ones((1, 1)), np.ones(1))
    obs = three_layer_observables(one, np.ones((1, 1)), np.zeros(1), 0.0)
    assert float(obs.lam) == pytest.approx(_K(1, 1, 1.0) * float(obs.w2) ** 2, rel=1e-12)
    # the degree-2 form lam <= K' |θ|² fails for every K': lam/|θ|² grows like c² under θ -> cθ
    x = np.array([[1.0, 0.5]])
    st = three_layer_init(4, 2, seed=1)
    ratios = []
    for c in (1.0, 10.0):
        o = three_layer_observables(ThreeLayerState(c * st.W1, c * st.W2, c * st.v), x, np.zeros(1), 0.0)
        ratios.append(float(o.lam) / float(o.w2))
    assert ratios[1] / ratios[0] == pytest.approx(100.0, rel=1e-9)


def test_the_symbolic_facts_and_the_sum_of_squares_certificate_with_its_wrong_twin():
    f = three_layer_facts()
    assert (f.degree, f.lam_degree, f.lemma_constant) == (3, 4, 6)
    assert f.lemma_residual == 0 and f.two_layer_lemma_residual != 0
    n, d = S.n, sp.Symbol("d")
    assert sp.simplify(f.K - S.x2 / (3 * n**2 * d)) == 0
    assert sp.simplify(f.window - 18 * n**2 * d * S.lam / (S.x2 * S.w2**2)) == 0
    assert f.am_gm == 0  # (1/3)(a+b+c)^2 - (ab+bc+ca) = sum of squares / 6
    a1, a2, a3 = sp.symbols("a1:4", nonnegative=True)
    wrong = sp.expand(sp.Rational(1, 4) * (a1 + a2 + a3) ** 2 - (a1 * a2 + a2 * a3 + a3 * a1))
    assert wrong.subs({a1: 1, a2: 1, a3: 1}) < 0  # a factor 1/4 would not bound the pairwise products
