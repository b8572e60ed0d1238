"""Phase labels from synthetic trajectories: each criterion can flip the label."""

import numpy as np
import pytest

from catapult_theory.engine import Phase, PhaseCriteria, Trajectory, blown_up, classify


def _traj(loss, lam, eta=1.0, diverged_at=-1):
    loss = np.asarray(loss, dtype=float)[:, None]
    lam = np.asarray(lam, dtype=float)[:, None]
    return Trajectory(loss, lam, np.ones_like(loss), np.array([eta]), np.array([diverged_at]))


def test_lazy_catapult_unresolved_divergent():
    T = 40
    decay = 0.5 ** np.arange(T)
    assert classify(_traj(decay, np.full(T, 1.0)))[0] == Phase.LAZY
    bump = np.concatenate([[1.0, 5.0, 20.0], 20.0 * 0.5 ** np.arange(T - 3)])
    assert classify(_traj(bump, np.concatenate([[3.0] * 3, [1.0] * (T - 3)])))[0] == Phase.CATAPULT
    growing = 1.5 ** np.arange(T)
    assert classify(_traj(growing, np.full(T, 3.0)))[0] == Phase.UNRESOLVED
    loss = np.concatenate([growing[:10], np.full(T - 10, np.nan)])
    assert classify(_traj(loss, np.full(T, 3.0), diverged_at=10))[0] == Phase.DIVERGENT


def test_slow_convergence_at_eta_lam_just_below_2_is_not_divergence():
    T = 200
    t = np.arange(T)
    loss = np.concatenate([[1.0, 50.0], 50.0 / (1 + t[2:])])  # polynomial decay after a rise
    lam = np.concatenate([[2.5, 2.2], np.full(T - 2, 1.999)])
    assert classify(_traj(loss, lam))[0] == Phase.CATAPULT
    # the same loss with eta*lam still above 2 and loss not falling is unresolved
    flat = np.concatenate([[1.0, 50.0], np.full(T - 2, 50.0 + 1e-9 * t[2:])])
    assert classify(_traj(flat, np.full(T, 2.2)))[0] == Phase.UNRESOLVED


def test_collapsed_overrides_a_zero_loss_fit():
    T = 20
    loss = np.concatenate([[1.0, 4.0], np.zeros(T - 2)])
    assert classify(_traj(loss, np.zeros(T)))[0] == Phase.CATAPULT
    assert classify(_traj(loss, np.zeros(T)), collapsed=np.array([True]))[0] == Phase.COLLAPSED


def test_blown_up_and_criteria_validation():
    crit = PhaseCriteria()
    assert blown_up(np.array([np.inf, np.nan, 1e30, 1.0]), np.ones(4), crit).tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="blowup"):
        PhaseCriteria(blowup=-1)
    with pytest.raises(ValueError, match="window"):
        PhaseCriteria(window=0)


def test_series_cuts_at_divergence():
    tr = _traj([1.0, 2.0, np.nan, np.nan], [1, 1, 1, 1], diverged_at=2)
    assert tr.series("loss", 0).tolist() == [1.0, 2.0]
    assert tr.final("loss").tolist() == [2.0]
    with pytest.raises(IndexError):
        tr.series("loss")


# --- the stability edge and the "loss not rising at the end" condition, pinned -----------------
# The edge of ``stable`` is the derived eta_crit*lam (= 2), not the divergence threshold
# eta_max*lam (= 4) of the weight-norm lemma; both are read from the symbolic layer here.


def _edges():
    from catapult_theory.compiled import threshold
    from catapult_theory.engine import linear_stability_edge

    edge = float(linear_stability_edge())
    assert edge == float(threshold("uv", "eta_crit")(lam=1.0))
    return edge, float(threshold("uv", "eta_max")(lam=1.0))


def _risen_then_slowly_falling(T=200):
    """Rose above its start, then falls by 0.1% per step: falling at the end, never converged."""
    t = np.arange(T - 2)
    return np.concatenate([[1.0, 50.0], 50.0 * (1 - 1e-3) ** t])


def test_falling_loss_between_the_stability_edge_and_eta_max_is_unresolved():
    """eta*lam_T halfway between eta_crit*lam and eta_max*lam: not linearly stable, so a slowly
    falling loss that has not converged is unresolved, not a catapult (an edge at eta_max would
    call it converging)."""
    edge, edge_max = _edges()
    assert edge < edge_max
    loss = _risen_then_slowly_falling()
    crit = PhaseCriteria()
    assert loss[-1] > crit.converged_loss * loss[0] and loss[-1] < loss[-1 - crit.window]
    eta = 0.5
    lam = np.full(len(loss), (edge + edge_max) / 2 / eta)
    assert classify(_traj(loss, lam, eta=eta), crit)[0] == Phase.UNRESOLVED
    # the same run just inside the edge is converging
    lam_in = np.full(len(loss), 0.99 * edge / eta)
    assert classify(_traj(loss, lam_in, eta=eta), crit)[0] == Phase.CATAPULT


@pytest.mark.parametrize("rose_", [False, True])
def test_rising_loss_at_the_end_is_unresolved_even_when_linearly_stable(rose_):
    """eta*lam_T = 3/4 of the edge but the loss is still rising at the end (and never
    converged): not converging, so unresolved - whether or not it rose before."""
    edge, _ = _edges()
    crit = PhaseCriteria()
    T = 100
    t = np.arange(T)
    if rose_:
        loss = np.concatenate([[1.0, 50.0, 40.0], 1.0 + 1e-3 * t[3:]])  # rose, fell, creeps up again
    else:
        loss = 0.9 ** np.minimum(t, 50) * (1 + 1e-2 * np.maximum(t - 50, 0))  # fell, creeps up again
        assert loss.max() <= loss[0]
    assert loss[-1] > loss[-1 - crit.window] and loss[-1] > crit.converged_loss * loss[0]
    lam = np.full(T, 0.75 * edge)
    assert classify(_traj(loss, lam), crit)[0] == Phase.UNRESOLVED
    # with the loss flat at the end (not rising) the same run is converging
    flat = loss.copy()
    flat[-crit.window - 1:] = flat[-crit.window - 1]
    assert classify(_traj(flat, lam), crit)[0] == (Phase.CATAPULT if rose_ else Phase.LAZY)


def test_tight_stability_edge_within_stable_rtol():
    """eta*lam_T at the edge, and up to edge*(1 + stable_rtol), is linearly stable (polynomial
    convergence there is converging); twice that tolerance above it is not."""
    edge, _ = _edges()
    crit = PhaseCriteria()
    loss = _risen_then_slowly_falling()
    eta = 0.25
    for factor, phase in [(1.0, Phase.CATAPULT), (1 + crit.stable_rtol / 2, Phase.CATAPULT),
                          (1 + crit.stable_rtol, Phase.CATAPULT), (1 + 2 * crit.stable_rtol, Phase.UNRESOLVED)]:
        lam = np.full(len(loss), edge * factor / eta)
        assert classify(_traj(loss, lam, eta=eta), crit)[0] == phase, factor
    # a tighter tolerance moves the cut: just above the edge is then unstable
    tight = PhaseCriteria(stable_rtol=1e-6)
    lam = np.full(len(loss), edge * (1 + 1e-4) / eta)
    assert classify(_traj(loss, lam, eta=eta), tight)[0] == Phase.UNRESOLVED
    assert classify(_traj(loss, lam, eta=eta), crit)[0] == Phase.CATAPULT


def test_round_off_on_a_plateau_is_not_a_rising_loss():
    """A run at a non-zero minimum (more data than directions) ends on a plateau whose last
    digits wobble: a rise within plateau_rtol is no rise, twice that is (the random-labels
    sweep of the report once had runs labelled unresolved for one unit of round-off)."""
    edge, _ = _edges()
    crit = PhaseCriteria()
    T = 60
    plateau = 0.4212436392663487
    loss = np.concatenate([np.linspace(0.48, plateau, T // 2), np.full(T - T // 2, plateau)])
    lam = np.full(T, 0.9 * edge)
    # a few units of round-off are a plateau; a rise of 1e-9 over the window is a rise
    for rel, phase in [(np.finfo(float).eps, Phase.LAZY), (8 * np.finfo(float).eps, Phase.LAZY),
                       (crit.plateau_rtol / 2, Phase.LAZY), (2 * crit.plateau_rtol, Phase.UNRESOLVED),
                       (1e-9, Phase.UNRESOLVED)]:
        wobble = loss.copy()
        wobble[-1] = plateau * (1 + rel)
        assert loss[0] > wobble[-1] > crit.converged_loss * loss[0]
        assert classify(_traj(wobble, lam), crit)[0] == phase, rel


# ---------------------------------------------------------------- memory of a recorded batch
@pytest.mark.parametrize("steps, runs", [(800, 300), (1500, 400), (5000, 100)])
def test_recorded_bytes_is_the_peak_of_a_batch_recorded_to_its_budget(steps, runs):
    """The rows grow by doubling and the last growth holds old and new rows together: the
    traced peak of a recorder filled to its budget matches :func:`recorded_bytes` within 15%
    (without the transient of the last growth, 1500 steps would be 1.7x off)."""
    import tracemalloc

    from catapult_theory.engine import INITIAL_ROWS, PhaseCriteria, StepRecorder, recorded_bytes

    zero = np.zeros(runs)
    tracemalloc.start()
    try:
        rec = StepRecorder(steps, (runs,), PhaseCriteria())
        for t in range(steps + 1):
            rec.store(t, loss=zero, lam=zero, w2=zero)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    est = recorded_bytes(steps, runs, 3)
    assert 0.95 <= peak / est <= 1.15, (peak, est)
    final_only = 8 * (steps + 1) * runs * 3  # a rule without the growth transient is caught where it matters
    if steps + 1 > INITIAL_ROWS:
        assert peak / final_only > 1.15
