"""The batched quadratic GD engine: runs that leave the batch early (diverged, settled)
are compacted away without changing any run, and meta-feature stacks are shared
between the calls of one sweep."""

import numpy as np

from catapult_theory.engine._quadratic import (
    FEATURE_STACKS,
    QuadraticSpec,
    meta_features,
    quadratic_init,
    quadratic_model,
    train_quadratic,
)


def _tanh_problem():
    model = quadratic_model(QuadraticSpec(rank=12, d=2, family="pure", features=0, mu="uniform:1:2",
                                          activation="tanh", seed=3))
    X = np.random.default_rng(0).uniform(-0.5, 0.5, (5, 2))
    y = np.random.default_rng(1).normal(size=5)
    return model, quadratic_init(model, 3), X, y


def test_a_batch_with_runs_leaving_early_equals_each_run_alone():
    model, init, X, y = _tanh_problem()
    test = (X[:3] + 0.1, y[:3])
    eta = np.array([0.05, 3.0, 0.3, 40.0, 1.0])  # the large rates diverge early and leave the batch
    batch = train_quadratic(model, init, X, y, eta, 60, test=test)
    assert np.count_nonzero(batch.diverged_at >= 0) >= 1 and np.count_nonzero(batch.diverged_at < 0) >= 2
    for i, e in enumerate(eta):
        alone = train_quadratic(model, init, X, y, e, 60, test=test)
        assert batch.diverged_at[i] == alone.diverged_at
        series = {name: (getattr(batch, name)[:, i], getattr(alone, name)) for name in ("loss", "w2", "lam")}
        series["test_loss"] = (batch.extra["test_loss"][:, i], alone.extra["test_loss"])
        for name, (mine, ref) in series.items():  # a run alone ends when it leaves; later rows are NaN
            T = ref.shape[0]
            np.testing.assert_allclose(mine[:T], ref, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
            assert np.all(np.isnan(mine[T:])), name


def test_feature_stacks_are_built_once_per_model_and_inputs():
    model, _, X, _ = _tanh_problem()
    first = FEATURE_STACKS.get(model, X)
    assert FEATURE_STACKS.get(model, X.copy()) is first and not first.flags.writeable
    np.testing.assert_array_equal(first, meta_features(model, X))
    assert FEATURE_STACKS.get(model, X + 1e-3) is not first
    other, _, _, _ = _tanh_problem()  # an equal but distinct model has its own stacks
    assert FEATURE_STACKS.get(other, X) is not first
