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
