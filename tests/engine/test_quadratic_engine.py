"""Quadratic models: meta-features, full-parameter GD, the NTK, the spectral engine, data.

Reference computations (plain loops, finite differences, dense eigensolvers)
are written here, independently of the engine's batched code paths.
"""

import warnings

import numpy as np
import pytest

from catapult_theory.engine import PhaseCriteria, classify
from catapult_theory.engine._quadratic import (
    NTKSolver,
    QuadraticModel,
    QuadraticParams,
    QuadraticSpec,
    SpectralState,
    features,
    meta_features,
    ntk,
    parse_distribution,
    quadratic_gradient,
    quadratic_init,
    quadratic_model,
    quadratic_output,
    spectral_state,
    train_quadratic,
    train_spectral,
)
from catapult_theory.experiments import max_rel_dev
from catapult_theory.experiments._dataset import Dataset as QuadraticData
from catapult_theory.experiments._quadratic_data import quadratic_data, teacher_params
from tests.tolerances import EXACT, assert_close

TOY_X = np.array([[1.0]])
TOY_Y = np.array([0.0])


def small_model(family="pure", activation="tanh", rank=10, d=3, p=4, seed=3, mu="uniform:0.5:1.5"):
    """A small model; the bias family has ``p`` features."""
    return quadratic_model(
        QuadraticSpec(rank=rank, d=d, family=family, features=p if family == "bias" else 0,
                      mu=mu, activation=activation, leaky_slope=0.2, seed=seed)
    )


def f_ref(model: QuadraticModel, theta_psi, theta_phi, x):
    """f(x) straight from the definition: ψ built from the W_i by hand."""
    S = sum(x[i] * model.W[i] for i in range(model.d)) / np.sqrt(model.d)
    S = 0.5 * (S + S.T)
    psi = model.g(S)
    phi = model.V.T @ x / np.sqrt(model.d * model.p) if model.p else np.zeros(0)
    return 0.5 * model.zeta * theta_psi @ psi @ theta_psi + theta_phi @ phi


def fd_jacobian(model, params, X, h=1e-3):
    """Per-datum gradients by central differences (exact up to rounding: f is quadratic in θ)."""
    theta = np.concatenate([params.theta_psi, params.theta_phi])
    m = model.m
    J = np.empty((X.shape[0], theta.size))
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        for a, x in enumerate(X):
            up, dn = theta + e, theta - e
            J[a, j] = (f_ref(model, up[:m], up[m:], x) - f_ref(model, dn[:m], dn[m:], x)) / (2 * h)
    return J


# ---------------------------------------------------------------- meta-features


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "leaky_relu"])
def test_meta_features_are_exactly_symmetric(activation):
    model = small_model(activation=activation)
    X = np.random.default_rng(0).standard_normal((6, model.d))
    psi = meta_features(model, X)
    assert psi.shape == (6, model.m, model.m)
    assert np.array_equal(psi, psi.transpose(0, 2, 1))


def test_meta_feature_matrices_have_plus_minus_paired_spectra():
    model = small_model(activation="identity", rank=12, d=2)
    for i in range(model.d):
        ev = np.linalg.eigvalsh(model.W[i])
        want = np.sort(np.concatenate([model.mu[i], -model.mu[i]]))
        assert_close(ev, want, rtol=0, atol=1e-12, what=f"spectrum of W_{i}")
        assert_close(ev, -ev[::-1], rtol=0, atol=1e-12, what="± pairs")
    # one datum x = 1, d = 1: ψ = W_1, whose spectrum is ±μ
    model1 = small_model(activation="identity", rank=12, d=1)
    ev = np.linalg.eigvalsh(meta_features(model1, TOY_X)[0])
    assert_close(ev, np.sort(np.concatenate([model1.mu[0], -model1.mu[0]])), rtol=0, atol=1e-12)


def test_orthogonal_factors_are_orthogonal_and_reproduce_W():
    model = small_model(rank=40, d=2)
    for i in range(model.d):
        q = model.q[i]
        assert_close(q.T @ q, np.eye(model.m), rtol=0, atol=1e-12, what="qᵀq")
        assert_close(np.linalg.det(q), 1.0, rtol=0, atol=1e-10, what="det q (exp of antisymmetric)")
        W = (q * np.concatenate([model.mu[i], -model.mu[i]])) @ q.T
        assert_close(model.W[i], W, rtol=0, atol=1e-12)
    assert np.all((model.mu >= 0.5) & (model.mu <= 1.5))


def test_model_is_reproducible_by_seed():
    a, b, c = small_model(family="bias", seed=5), small_model(family="bias", seed=5), small_model(family="bias", seed=6)
    for name in ("W", "q", "mu", "V"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    assert np.array_equal(quadratic_init(a, 1).theta_psi, quadratic_init(b, 1).theta_psi)
    assert not np.array_equal(quadratic_init(a, 1).theta_psi, quadratic_init(a, 2).theta_psi)
    # init stream is not the meta-feature stream of the same seed
    assert not np.allclose(quadratic_init(a, 5).theta_psi[:3], a.mu[0, :3])


def test_activations_and_features_follow_their_definitions():
    X = np.random.default_rng(1).standard_normal((4, 3))
    lin = meta_features(small_model(activation="identity"), X)
    assert_close(meta_features(small_model(activation="tanh"), X), np.tanh(lin), **EXACT)
    assert_close(meta_features(small_model(activation="relu"), X), np.maximum(lin, 0), **EXACT)
    assert_close(meta_features(small_model(activation="leaky_relu"), X), np.where(lin > 0, lin, 0.2 * lin), **EXACT)
    model = small_model(family="bias")
    assert_close(features(model, X), X @ model.V / np.sqrt(model.d * model.p), **EXACT)
    assert features(small_model(), X).shape == (4, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(rank=7),
        dict(rank=0),
        dict(rank=8, d=0),
        dict(rank=8, family="pure", features=3),
        dict(rank=8, family="bias", features=0),
        dict(rank=8, family="other"),
        dict(rank=8, activation="sigmoid"),
        dict(rank=8, mu="normal:-1:0.5"),
        dict(rank=8, mu="uniform:0:1"),
        dict(rank=8, mu="uniform:-1:2"),
        dict(rank=8, mu="const:-1"),
        dict(rank=8, mu="gamma:1:1"),
        dict(rank=8, mu="uniform:2:1"),
        dict(rank=8, seed=-1),
    ],
)
def test_bad_specs_are_rejected_up_front(kwargs):
    with pytest.raises(ValueError):
        QuadraticSpec(**kwargs)


def test_distribution_parsing():
    assert parse_distribution("uniform:1:2") == parse_distribution(" Uniform:1:2 ")
    assert parse_distribution("normal:1:0", positive=True).sample(np.random.default_rng(0), 3).tolist() == [1, 1, 1]
    assert parse_distribution("normal:0:1").low == -np.inf
    assert str(parse_distribution("uniform:0.9:1.1")) == "uniform:0.9:1.1"
    for bad in ("uniform:1", "uniform:a:b", "normal:0:-1", "", "const:1:2"):
        with pytest.raises(ValueError, match="uniform:A:B"):
            parse_distribution(bad)
    with pytest.raises(ValueError, match="M > 0"):
        parse_distribution("normal:-1:1", positive=True)
    trunc = parse_distribution("normal:0.5:1", positive=True)
    assert trunc.truncated and trunc.low == 0 and "truncated" in str(trunc)
    draws = trunc.sample(np.random.default_rng(0), 20000)
    assert draws.min() > 0
    # the truncated normal keeps the shape above 0: P(x > 1.5 | x > 0) = Q(1) / Q(-0.5)
    from scipy.stats import norm

    want = norm.sf(1.0) / norm.sf(-0.5)
    assert abs(np.mean(draws > 1.5) - want) < 0.01


# ---------------------------------------------------------------- outputs, gradients, NTK


@pytest.mark.parametrize("family", ["pure", "bias"])
def test_output_and_gradient_against_definition_and_finite_differences(family):
    model = small_model(family=family)
    params = quadratic_init(model, 2)
    X = np.random.default_rng(2).standard_normal((5, model.d))
    f = quadratic_output(model, params, X)
    assert_close(f, [f_ref(model, params.theta_psi, params.theta_phi, x) for x in X], **EXACT)
    grad = quadratic_gradient(model, params, X)
    J = np.concatenate([grad.theta_psi, grad.theta_phi], axis=-1)
    assert_close(J, fd_jacobian(model, params, X), rtol=1e-8, atol=1e-10, what="∇f vs central differences")


@pytest.mark.parametrize("family", ["pure", "bias"])
def test_ntk_against_brute_force_per_datum_gradients(family):
    model = small_model(family=family)
    params = quadratic_init(model, 4)
    X = np.random.default_rng(3).standard_normal((6, model.d))
    J = fd_jacobian(model, params, X)
    H = J @ J.T / X.shape[0]
    out = ntk(model, params, X)
    assert_close(out.H, H, rtol=1e-8, atol=1e-10, what="H = Θ/B")
    ev, evec = np.linalg.eigh(H)
    assert_close(out.lam, ev[-1], rtol=1e-8)
    assert_close(abs(out.vec @ evec[:, -1]), 1.0, rtol=1e-8, what="top eigenvector")
    assert out.vec[np.argmax(np.abs(out.vec))] > 0
    # one datum: λ = |∇f|²
    one = ntk(model, params, X[:1])
    assert_close(one.lam, J[0] @ J[0], rtol=1e-8)


# ---------------------------------------------------------------- full-parameter GD


def plain_gd(model, params, X, y, eta, steps, X_test=None, y_test=None):
    """One learning rate, straight from the definitions, with dense matrices."""
    psi = meta_features(model, X)
    phi = features(model, X)
    B = X.shape[0]
    tp, tf = params.theta_psi.copy(), params.theta_phi.copy()
    out = {"loss": [], "lam": [], "w2": [], "test_loss": []}
    for t in range(steps + 1):
        f = np.array([0.5 * model.zeta * tp @ P @ tp + tf @ ph for P, ph in zip(psi, phi)])
        r = f - y
        J = np.array([np.concatenate([model.zeta * P @ tp, ph]) for P, ph in zip(psi, phi)])
        out["loss"].append(0.5 * np.mean(r**2))
        out["lam"].append(np.linalg.eigvalsh(J @ J.T / B)[-1])
        out["w2"].append(tp @ tp + tf @ tf)
        if X_test is not None:
            ft = quadratic_output(model, QuadraticParams(tp, tf), X_test)
            out["test_loss"].append(0.5 * np.mean((ft - y_test) ** 2))
        if t < steps:
            g = (r / B) @ J
            tp, tf = tp - eta * g[: model.m], tf - eta * g[model.m:]
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize(
    "family, activation, d, p",
    [
        ("pure", "identity", 3, 0),  # d < B: products with the W_i, NTK through its (d + p)-dim reduction
        ("bias", "identity", 1, 2),  # the same with features
        ("bias", "identity", 2, 4),  # d + p >= B: the B × B NTK
        ("pure", "identity", 8, 0),  # d > B: dense meta-features
        ("pure", "tanh", 3, 0),
        ("bias", "leaky_relu", 3, 4),
    ],
)
def test_batched_gd_matches_a_plain_single_rate_loop(family, activation, d, p):
    model = small_model(family=family, activation=activation, d=d, p=p)
    params = quadratic_init(model, 7)
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((5, d)), rng.standard_normal(5)
    Xt, yt = rng.standard_normal((7, d)), rng.standard_normal(7)
    lam0 = ntk(model, params, X).lam
    etas = np.array([0.3, 1.0, 1.7]) / lam0
    traj = train_quadratic(model, params, X, y, etas, 25, test=(Xt, yt))
    assert traj.loss.shape == (26, 3) and traj.extra["test_loss"].shape == (26, 3)
    for i, eta in enumerate(etas):
        ref = plain_gd(model, params, X, y, eta, 25, Xt, yt)
        for name in ("loss", "lam", "w2", "test_loss"):
            assert_close(traj.series(name, i), ref[name], rtol=1e-10, atol=1e-13, what=f"{name}, eta #{i}")


def test_gd_batch_shape_follows_eta():
    model = small_model()
    params = quadratic_init(model)
    X = np.random.default_rng(5).standard_normal((3, model.d))
    traj = train_quadratic(model, params, X, np.zeros(3), np.full((2, 2), 0.01), 4)
    assert traj.loss.shape == (5, 2, 2) and traj.diverged_at.shape == (2, 2)
    single = train_quadratic(model, params, X, np.zeros(3), 0.01, 4)
    assert single.loss.shape == (5,)
    assert_close(single.loss, traj.loss[:, 1, 0], **EXACT)


@pytest.mark.parametrize("activation, p", [("identity", 45), ("tanh", 5)])
def test_lanczos_top_eigenvalue_matches_exact_eigh(activation, p):
    # identity g needs d + p >= B here, or the NTK is solved exactly through its reduction
    model = small_model(family="bias", activation=activation, rank=30, d=3, p=p)
    params = quadratic_init(model, 1)
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    lam0 = ntk(model, params, X).lam
    etas = np.array([0.5, 1.5, 2.5]) / lam0
    exact = train_quadratic(model, params, X, y, etas, 30)
    lanczos = train_quadratic(model, params, X, y, etas, 30, solver=NTKSolver(exact_max=0, lanczos_steps=3))
    assert_close(lanczos.lam, exact.lam, rtol=1e-10, what="Lanczos vs eigvalsh")
    assert_close(lanczos.loss, exact.loss, **EXACT)


def test_bad_training_arguments_are_rejected():
    model = small_model()
    params = quadratic_init(model)
    X, y = np.zeros((2, model.d)), np.zeros(2)
    for kwargs in (dict(eta=-1.0), dict(eta=np.nan), dict(steps=-1), dict(steps=1.5), dict(y=np.zeros(3)),
                   dict(X=np.zeros((2, model.d + 1))), dict(test_every=0)):
        args = dict(X=X, y=y, eta=0.1, steps=2) | kwargs
        with pytest.raises(ValueError):
            train_quadratic(model, params, args.pop("X"), args.pop("y"), args.pop("eta"), args.pop("steps"), **args)
    with pytest.raises(ValueError):
        train_quadratic(model, QuadraticParams(np.zeros(model.m + 1), np.zeros(0)), X, y, 0.1, 2)


# ---------------------------------------------------------------- divergence


@pytest.mark.parametrize("family", ["pure", "bias"])
def test_divergence_is_a_result_without_warnings(family):
    model = quadratic_model(QuadraticSpec(rank=100, family=family, features=10 if family == "bias" else 0))
    params = quadratic_init(model)
    lam0 = ntk(model, params, TOY_X).lam
    ks = np.array([1.0, 6.0, 50.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = train_quadratic(model, params, TOY_X, TOY_Y, ks / lam0, 300)
        spec = train_spectral(spectral_state(model, params, TOY_X[0]), ks / lam0, 300)
    assert classify(traj).tolist() == ["lazy", "divergent", "divergent"]
    assert traj.diverged_at[0] == -1 and np.all(traj.diverged_at[1:] > 0)
    assert np.array_equal(spec.diverged_at, traj.diverged_at)
    for i in (1, 2):
        for name in ("loss", "lam", "w2"):
            s = traj.series(name, i)
            assert len(s) == traj.diverged_at[i] and np.all(np.isfinite(s))
        assert np.all(np.isnan(traj.loss[traj.diverged_at[i]:, i]))


def test_three_levels_around_k_equals_4_when_psi_squared_is_identity():
    # μ ≡ 1: ψ² = I, λ = ζ²|θ|², the uv situation: the proven window (2, 4) is the whole catapult phase
    model = quadratic_model(QuadraticSpec(rank=200, mu="const:1"))
    params = quadratic_init(model)
    lam0 = ntk(model, params, TOY_X).lam
    assert_close(lam0, model.zeta**2 * params.w2, rtol=1e-12)
    traj = train_quadratic(model, params, TOY_X, TOY_Y, np.array([1.0, 3.0, 3.9, 4.1]) / lam0, 1500)
    assert classify(traj).tolist() == ["lazy", "catapult", "catapult", "divergent"]


# ---------------------------------------------------------------- spectral engine


def test_spectral_state_reproduces_f_lam_w2():
    model = small_model(family="bias", d=1)
    params = quadratic_init(model, 3)
    x = np.array([0.7])
    st = spectral_state(model, params, x)
    traj = train_spectral(st, 0.0, 0)
    f = quadratic_output(model, params, x[None])[0]
    assert_close(traj.loss[0], 0.5 * f**2, **EXACT)
    assert_close(traj.lam[0], ntk(model, params, x[None]).lam, **EXACT)
    assert_close(traj.w2[0], params.w2, **EXACT)


def test_spectral_engine_matches_gd_at_rank_1000_in_the_catapult_range():
    model = quadratic_model(QuadraticSpec(rank=1000, mu="uniform:1:2"))
    params = quadratic_init(model)
    lam0 = ntk(model, params, TOY_X).lam
    ks = np.array([0.5, 2.3, 3.0])
    gd = train_quadratic(model, params, TOY_X, TOY_Y, ks / lam0, 200)
    red = train_spectral(spectral_state(model, params, TOY_X[0]), ks / lam0, 200)
    assert classify(gd).tolist() == ["lazy", "catapult", "catapult"]
    assert classify(red).tolist() == classify(gd).tolist()
    for i in range(len(ks)):
        dev = max_rel_dev(gd.run(i), red.run(i))
        assert dev <= 1e-9, f"k = {ks[i]}: max relative deviation {dev:.3g}"
    assert gd.final("lam")[1] * ks[1] / lam0 < 2  # the NTK eigenvalue fell


@pytest.mark.parametrize("mu, k", [("const:1", 2.5), ("uniform:1:2", 2.2)])
def test_spectral_engine_matches_gd_for_the_bias_model(mu, k):
    model = quadratic_model(QuadraticSpec(rank=100, family="bias", features=10, mu=mu, seed=2))
    params = quadratic_init(model, 1)
    x, y = np.array([1.0]), 0.3
    lam0 = ntk(model, params, x[None]).lam
    ks = np.array([0.7, k])
    gd = train_quadratic(model, params, x[None], np.array([y]), ks / lam0, 300)
    red = train_spectral(spectral_state(model, params, x), ks / lam0, 300, y=y)
    assert classify(gd).tolist() == classify(red).tolist() == ["lazy", "catapult"]
    for i in range(2):
        assert max_rel_dev(gd.run(i), red.run(i)) <= 1e-9


def test_spectral_state_validation():
    with pytest.raises(ValueError):
        SpectralState(np.ones(3), -np.ones(3), 1.0)
    with pytest.raises(ValueError):
        SpectralState(np.ones(3), np.ones(2), 1.0)
    with pytest.raises(ValueError):
        SpectralState(np.ones(3), np.ones(3), 1.0, has_features=False, phi2=1.0)


# ---------------------------------------------------------------- data


def test_toy_specs():
    d = quadratic_data("toy")
    assert d.X.tolist() == [[1.0]] and d.y.tolist() == [0.0] and not d.has_test and d.test is None
    d = quadratic_data("toy:4:2")
    assert d.X.tolist() == [[4.0]] and d.y.tolist() == [2.0]


@pytest.mark.parametrize(
    "spec", ["", "toys", "toy:1", "toy:a:b", "random", "random:3", "random:0:2", "random:3:0", "random:3.5:2",
             "random:-1:2", "random:a:2", "random:3:2:-1", "random:3:2:1:4", "mnist", 5]
)
def test_bad_data_specs(spec):
    with pytest.raises(ValueError, match="random:B:D"):
        quadratic_data(spec, small_model())


def test_random_teacher_student_data():
    model = small_model(family="bias", activation="tanh", rank=12, d=2, p=6)
    data = quadratic_data("random:9:2", model, test_size=20, mask_psi=4, mask_phi=2, seed=3)
    assert data.X.shape == (9, 2) and data.y.shape == (9,)
    assert data.X_test.shape == (20, 2) and data.y_test.shape == (20,)
    teacher = teacher_params(model, 3, 4, 2)
    assert np.all(teacher.theta_psi[-4:] == 0) and np.all(teacher.theta_psi[:-4] != 0)
    assert np.all(teacher.theta_phi[-2:] == 0) and np.all(teacher.theta_phi[:-2] != 0)
    assert_close(data.y, quadratic_output(model, teacher, data.X), **EXACT)
    assert_close(data.y_test, quadratic_output(model, teacher, data.X_test), **EXACT)
    again = quadratic_data("random:9:2", model, test_size=20, mask_psi=4, mask_phi=2, seed=3)
    assert np.array_equal(again.X, data.X) and np.array_equal(again.y_test, data.y_test)
    other = quadratic_data("random:9:2", model, test_size=20, seed=4)
    assert not np.array_equal(other.X, data.X)
    # the training set does not depend on the size of the test set
    assert np.array_equal(quadratic_data("random:9:2", model, test_size=0, seed=3).X, data.X)
    assert not quadratic_data("random:9:2", model, test_size=0).has_test
    # every coordinate masked: a pure teacher is the zero function
    pure = small_model(rank=12, d=2)
    assert np.all(quadratic_data("random:5:2", pure, mask_psi=12).y == 0)
    assert "masked" in data.description and "9 inputs" in data.description


def test_random_data_with_distribution_labels_and_inputs():
    data = quadratic_data("random:32:2", inputs="uniform:-0.5:0.5", labels="normal:0:1", test_size=0)
    assert np.all(np.abs(data.X) <= 0.5) and data.y.std() > 0.3
    for kwargs in (dict(), dict(labels="teacher", mask_psi=1), dict(labels="normal:0:1", mask_psi=1),
                   dict(labels="beta:1:1"), dict(inputs="uniform:1")):
        with pytest.raises(ValueError):
            quadratic_data("random:4:2", **kwargs)
    with pytest.raises(ValueError, match="dimension"):
        quadratic_data("random:4:3", small_model(d=2))
    with pytest.raises(ValueError):
        quadratic_data("random:4:2", small_model(rank=12, d=2), mask_psi=13)
    with pytest.raises(ValueError):
        QuadraticData("x", "", np.zeros((3, 2)), np.zeros(2))


def test_teacher_student_test_loss_is_reported():
    model = small_model(activation="tanh", rank=20, d=2)
    data = quadratic_data("random:16:2", model, test_size=30, mask_psi=5, seed=1)
    params = quadratic_init(model, 2)
    lam0 = ntk(model, params, data.X).lam
    etas = np.array([0.5, 1.5]) / lam0
    traj = train_quadratic(model, params, data.X, data.y, etas, 40, test=data.test)
    test_loss = traj.extra["test_loss"]
    f0 = quadratic_output(model, params, data.X_test)
    assert_close(test_loss[0], [0.5 * np.mean((f0 - data.y_test) ** 2)] * 2, **EXACT)
    assert np.all(traj.final("loss") < traj.loss[0])
    # the student started at the (masked) teacher has zero train and test loss, and stays there
    at_teacher = train_quadratic(model, teacher_params(model, 1, 5), data.X, data.y, etas, 5, test=data.test)
    assert np.all(at_teacher.loss < 1e-28) and np.all(at_teacher.extra["test_loss"] < 1e-28)
    # test_every: evaluated at multiples and at the end, held in between
    sparse = train_quadratic(model, params, data.X, data.y, etas, 40, test=data.test, test_every=15)
    ev = sparse.extra["test_loss"]
    for t in (0, 15, 30, 40):
        assert_close(ev[t], test_loss[t], **EXACT)
    assert np.array_equal(ev[16:30], np.repeat(ev[15:16], 14, axis=0))
    assert "test_loss" not in train_quadratic(model, params, data.X, data.y, etas, 3).extra


def test_criteria_are_passed_through():
    model = quadratic_model(QuadraticSpec(rank=20))
    params = quadratic_init(model)
    lam0 = ntk(model, params, TOY_X).lam
    tight = PhaseCriteria(blowup=2.0)  # the catapult peak (3x the start at rank 20) counts as a blow-up
    traj = train_quadratic(model, params, TOY_X, TOY_Y, 3.0 / lam0, 200, criteria=tight)
    red = train_spectral(spectral_state(model, params, TOY_X[0]), 3.0 / lam0, 200, criteria=tight)
    assert traj.diverged_at > 0 and red.diverged_at == traj.diverged_at
