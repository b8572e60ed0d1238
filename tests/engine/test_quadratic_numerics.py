"""The quadratic engine's numerics: the orthogonal factors ``expm(A)`` from one
symmetric eigendecomposition, and runs that settle on the round-off floor of their output."""

import numpy as np
import pytest
import scipy.linalg

from catapult_theory.engine import PhaseCriteria
from catapult_theory.engine._quadratic import (
    QuadraticSpec,
    expm_antisymmetric,
    quadratic_init,
    quadratic_model,
    train_quadratic,
)


def _antisymmetric(m: int, seed: int) -> np.ndarray:
    G = np.random.default_rng(seed).standard_normal((m, m))
    return (G - G.T) / np.sqrt(2.0)


@pytest.mark.parametrize("m", [1, 2, 3, 8, 60, 301])
def test_expm_of_an_antisymmetric_matrix_equals_scipy_expm(m):
    A = _antisymmetric(m, m)
    got, ref = expm_antisymmetric(A), scipy.linalg.expm(A)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * max(1.0, np.sqrt(m)))
    np.testing.assert_allclose(got.T @ got, np.eye(m), rtol=0, atol=1e-13 * max(1.0, np.sqrt(m)))


def test_expm_with_repeated_and_zero_rotation_angles():
    """Equal angles in several planes (a degenerate ``AᵀA``) and a kernel: no care needed."""
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((7, 7)))[0]
    J = np.zeros((7, 7))
    for i, t in ((0, 1.3), (2, 1.3), (4, 1.3)):
        J[i, i + 1], J[i + 1, i] = t, -t
    A = Q @ J @ Q.T
    np.testing.assert_allclose(expm_antisymmetric(A), scipy.linalg.expm(A), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(expm_antisymmetric(np.zeros((4, 4))), np.eye(4))


def _near_target_problem():
    """One datum with a target next to the initial output: the loss starts small against
    the output's rounding scale, so ``1e-32 * loss0`` lies below the round-off floor."""
    model = quadratic_model(QuadraticSpec(rank=200, d=1, family="pure", features=0, mu="uniform:1:2", seed=1))
    init = quadratic_init(model, 2)
    X = np.ones((1, 1))
    start = train_quadratic(model, init, X, np.zeros(1), 0.0, 0)
    shifted = train_quadratic(model, init, X, np.ones(1), 0.0, 0)
    f0 = float(start.loss[0] - shifted.loss[0] + 0.5)  # from f0²/2 and (f0 - 1)²/2
    y = np.array([f0 * (1 - 1e-6)])
    eta = np.array([0.5, 1.0, 1.5, 1.9]) / float(start.lam[0])
    return model, init, X, y, eta


def _settled(ulps: float):
    model, init, X, y, eta = _near_target_problem()
    full = train_quadratic(model, init, X, y, eta, 3000, settle=False)
    short = train_quadratic(model, init, X, y, eta, 3000, settle=True, criteria=PhaseCriteria(roundoff_ulps=ulps))
    return full, short


def test_runs_on_the_roundoff_floor_settle_without_changing_what_float64_resolves():
    full, short = _settled(PhaseCriteria().roundoff_ulps)
    # the relative level alone would never stop these runs: the budget's end stays above it
    assert np.any(full.final("loss") > PhaseCriteria().settled_loss * full.loss[0])
    assert short.loss.shape[0] < 400 < full.loss.shape[0]
    assert np.all(short.final("loss") > 0)  # stopped on the floor, not on an exact zero
    for name in ("lam", "w2"):  # within a few units of float64 round-off of the full budget's values (which
        # wander on the floor by about as much)
        np.testing.assert_allclose(short.final(name), full.final(name), rtol=5e-15, atol=0, err_msg=name)


def test_a_floor_far_above_round_off_is_caught():
    """The check above can fail: a floor 10³ times wider stops runs that still move."""
    full, short = _settled(4e3)
    worst = max(float(np.max(np.abs(short.final(n) / full.final(n) - 1))) for n in ("lam", "w2"))
    assert worst > 5e-15


def test_without_the_roundoff_rule_the_floor_runs_to_the_budget():
    model, init, X, y, eta = _near_target_problem()
    tr = train_quadratic(model, init, X, y, eta, 600, settle=True, criteria=PhaseCriteria(roundoff_ulps=1e-9))
    assert tr.loss.shape[0] == 601


def test_dense_eigensolvers_run_blas_on_one_thread(monkeypatch):
    """The model's construction, the spectral state and the NTK solve their eigenproblems
    with one BLAS thread (serial_blas): OpenBLAS's busy-waiting threads make them many
    times slower beside another busy process."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from catapult_theory.engine._quadratic import ntk, spectral_state

    seen: list[int] = []
    eigh = np.linalg.eigh

    def spy(a, *args, **kwargs):
        seen.append(min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))
        return eigh(a, *args, **kwargs)

    monkeypatch.setattr(np.linalg, "eigh", spy)
    with threadpool_limits(limits=2, user_api="blas"):  # the test session runs on one thread
        model = quadratic_model(QuadraticSpec(rank=40, d=2, family="bias", features=3, mu="uniform:1:2", seed=0))
        init = quadratic_init(model, 0)
        X = np.ones((3, 2))
        ntk(model, init, X)
        spectral_state(model, init, X[0])
        seen.append(-1)
        spy(np.eye(2))  # outside the engine: the two threads of this block
    assert len(seen) >= 6 and set(seen[:-2]) == {1} and seen[-1] == 2, seen


def test_packed_test_stack_is_built_in_place_chunk_by_chunk(monkeypatch):
    """The packed test stack filled over several chunks gives the model's forms, and building
    it holds the stack once (plus one chunk): its traced peak stays under 1.3 times the stack,
    where keeping the chunks and concatenating them costs twice the stack."""
    import tracemalloc

    from catapult_theory.engine import _quadratic as engine_quadratic
    from catapult_theory.engine import QuadraticParams, QuadraticSpec, quadratic_model, quadratic_output

    m = 30
    monkeypatch.setattr(engine_quadratic, "TEST_CHUNK_BYTES", 8 * m * m * 37)  # chunks of 37 test points
    model = quadratic_model(QuadraticSpec(rank=m, d=2, activation="tanh", mu="uniform:0.9:1.1"))
    X = np.random.default_rng(1).uniform(-1, 1, (1500, 2))
    tracemalloc.start()
    try:
        stack = engine_quadratic._TestStack(model, X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stack.packed is not None and peak < 1.3 * stack.packed.nbytes, peak / stack.packed.nbytes
    th = np.random.default_rng(2).standard_normal((m, 2))
    forms = stack.forms(th)
    for r in range(2):
        want = quadratic_output(model, QuadraticParams(th[:, r], np.zeros(0)), X) * 2 / model.zeta
        assert np.allclose(forms[:, r], want, rtol=1e-12, atol=1e-12)
