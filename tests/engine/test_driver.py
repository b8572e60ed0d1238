"""The one GD driver: stop reasons, cadences, compaction and threads, on a family with a closed form.

The toy family is ``f = a w`` on one datum, loss ``½ (f − y)²``, NTK ``a²``: the residual
obeys ``r_t = (1 − η a²)^t r_0`` exactly, so every stop step is known in advance.
"""

import numpy as np
import pytest

from catapult_theory.engine import (
    GDConfig, GDFamily, Observation, PhaseCriteria, StopReason, TwoLayerState, run_gd, top_eig, train_two_layer,
    train_uv, uv_init,
)
from catapult_theory.experiments._dataset import Dataset
from tests.tolerances import assert_close


class Toy(GDFamily):
    """``f = a w``, one training datum ``(a, y)`` and optionally one test datum."""

    extra = ("f",)

    def __init__(self, w0, a=1.0, y=1.0, test=None, compact=False, stuck_at_zero=False):
        self.w = np.array(w0, dtype=float)
        self.r = np.zeros_like(self.w)
        self.a, self.y, self.test, self.compact, self.stuck_at_zero = a, y, test, compact, stuck_at_zero
        self.has_test = test is not None
        self.final = np.full(self.w.size, np.nan)

    def observe(self, s, lam, exact, test, tally):
        w = self.w[s]
        self.r[s] = self.a * w - self.y
        return Observation(0.5 * self.r[s] ** 2, w**2, test_loss=self.test_loss(s, tally) if test else None,
                           extra={"f": self.a * w}, stuck=(w == 0.0) if self.stuck_at_zero else None)

    def top_eig(self, s, exact, tally):
        return top_eig(np.full((s.stop - s.start, 1, 1), self.a**2))[0]

    def test_loss(self, s, tally):
        a_t, y_t = self.test
        return 0.5 * (a_t * self.w[s] - y_t) ** 2

    def update(self, s, eta, keep, tally):
        self.w[s] -= np.where(keep, eta, 0.0) * self.a * self.r[s]

    def retire(self, slots, runs):
        self.final[runs] = self.w[slots]

    def slot_arrays(self):
        return [(self.w, 0)]  # the driver moves them when it compacts


def _closed_loss(k, steps):
    """``loss_t = ½ (1 − k)^{2t}`` for ``w0 = 0``, ``a = y = 1``, ``k = η a²``."""
    return 0.5 * (1.0 - k) ** (2 * np.arange(steps + 1))


def test_stop_reasons_and_steps_follow_the_closed_form():
    k = np.array([0.5, 1.0, 2.5, 0.01])  # tol, settled after an exact step (loss 0), diverged, budget
    tol, steps = 1e-6, 80
    res = run_gd(Toy(np.zeros(4), compact=True), k, GDConfig(steps, tol=tol, trim=True))
    assert list(res.stop_reason) == [StopReason.TOL, StopReason.SETTLED, StopReason.DIVERGED, StopReason.MAX_STEPS]
    # without the settled stop, the exact step is a tol stop one step later
    unsettled = run_gd(Toy(np.zeros(4), compact=True), k, GDConfig(steps, tol=tol, settle=False))
    assert list(unsettled.stop_reason)[:2] == [StopReason.TOL, StopReason.TOL]
    assert list(unsettled.stopped_at)[:2] == [int(np.argmax(np.abs(np.diff(_closed_loss(0.5, steps))) < tol)) + 1, 2]
    assert str(StopReason.DIVERGED) == "diverged" and StopReason("tol") is StopReason.TOL
    loss = {j: _closed_loss(k[j], steps) for j in range(4)}
    expected_tol = int(np.argmax(np.abs(np.diff(loss[0])) < tol)) + 1
    expected_div = int(np.argmax(loss[2] > PhaseCriteria().blowup * loss[2][0]))
    assert list(res.stopped_at) == [expected_tol, 1, expected_div, steps]
    assert list(res.traj.diverged_at) == [-1, -1, expected_div, -1]
    assert res.traj.steps == steps  # trimmed at the last step a run was in the batch
    for j in range(4):
        n = min(res.stopped_at[j] + 1, res.traj.length[j])  # to the stop, or to the step before the blow-up
        assert_close(res.traj.series("loss", j)[:n], loss[j][:n], rtol=1e-12, atol=1e-300)
    # a run stopped by tol repeats its last values; a diverged run has none after the blow-up
    assert np.all(res.traj.loss[expected_tol:, 0] == res.traj.loss[expected_tol, 0])
    assert np.all(res.traj.extra["f"][1:, 1] == 1.0)
    assert np.all(np.isnan(res.traj.loss[expected_div:, 2]))
    assert res.lam_evaluated[res.stopped_at[:2], [0, 1]].all()


def _same(a, b):
    for name in ("stopped_at", "stop_reason", "lam_evaluated"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("loss", "lam", "w2", "f", "test_loss"):
        np.testing.assert_array_equal(a.traj._get(name), b.traj._get(name), err_msg=name)


def test_frozen_compacted_and_threaded_slots_give_identical_runs():
    k = np.array([0.5, 2.5, 1.0, 0.3, 1.9, 3.0, 0.01])
    cfg = dict(steps=90, tol=1e-7, trim=True, test_every=5)

    def run(compact, threads, lam_every):
        toy = Toy(np.zeros(7), test=(2.0, 0.5), compact=compact)
        return run_gd(toy, k, GDConfig(**cfg, lam_every=lam_every, threads=threads)), toy

    (frozen, _), (packed, toy) = run(False, 1, 3), run(True, 1, 3)
    _same(frozen, packed)
    assert frozen.threads == 1 and set(frozen.stop_reason) == {"tol", "settled", "diverged", "max_steps"}
    # a compacting family keeps the state of every run as it left (f = w here)
    left = frozen.stop_reason != "diverged"
    np.testing.assert_array_equal(toy.final[left], frozen.traj.extra["f"][frozen.stopped_at, np.arange(7)][left])
    # threads: slices advance on their own (lam every step: an off-schedule evaluation at a stop
    # refreshes the lam of every run of that slice, so held values would depend on the slicing)
    (one, _), (two, _) = run(True, 1, 1), run(True, 2, 1)
    assert two.threads == 2
    _same(one, two)


def test_collapse_is_detected_off_schedule_and_lam_is_evaluated_there():
    # y = 0 and k = 1: w jumps to 0 in one step and is stuck there
    res = run_gd(Toy([1.0, 1.0], y=0.0, compact=True, stuck_at_zero=True), np.array([1.0, 0.5]),
                 GDConfig(20, lam_every=5, trim=True))
    assert list(res.stop_reason) == ["collapsed", "max_steps"] and list(res.stopped_at) == [1, 20]
    assert np.flatnonzero(res.lam_evaluated[:, 0]).tolist() == [0, 1]
    # as documented, the off-schedule evaluation at a stop covers the stopping run's slice (one slice here)
    assert np.flatnonzero(res.lam_evaluated[:, 1]).tolist() == [0, 1, 5, 10, 15, 20]
    assert np.all(res.traj.loss[1:, 0] == 0.0) and res.traj.diverged_at[0] == -1


def test_test_loss_cadence_holds_between_and_is_exact_at_every_stop():
    k = np.array([0.5, 0.7, 2.5, 0.05])  # tol at steps 11 and 7 (not multiples of 4), diverged, budget
    cfg = dict(steps=70, tol=1e-6, trim=True)
    every = run_gd(Toy(np.zeros(4), test=(2.0, 0.5)), k, GDConfig(**cfg))
    sparse = run_gd(Toy(np.zeros(4), test=(2.0, 0.5)), k, GDConfig(**cfg, test_every=4))
    np.testing.assert_array_equal(sparse.stopped_at, every.stopped_at)
    te, ts = every.traj.extra["test_loss"], sparse.traj.extra["test_loss"]
    for j in (0, 1, 3):
        last = int(sparse.stopped_at[j])
        assert last % 4 or j == 3
        for t in range(last + 1):
            held = t - t % 4  # the latest evaluation at or before t
            assert ts[t, j] == (te[t, j] if t % 4 == 0 or t == last else te[held, j]), (j, t)
    np.testing.assert_array_equal(sparse.traj.loss, every.traj.loss)  # the cadence changes nothing else


def test_config_is_validated():
    for kwargs in (dict(steps=-1), dict(steps=2.5), dict(steps=True), dict(steps=3, lam_every=0),
                   dict(steps=3, test_every=0), dict(steps=3, tol=0.0), dict(steps=3, tol=np.inf),
                   dict(steps=3, threads=0), dict(steps=3, reanchor=-1), dict(steps=3, lam_dense=-1),
                   dict(steps=3, lam_rtol=0.0), dict(steps=3, lam_rtol=np.nan)):
        with pytest.raises(ValueError):
            GDConfig(**kwargs)


def test_uv_through_the_driver_is_the_two_layer_net_with_slope_one():
    """``vᵀ U x / √n`` is ``Σ v_i σ(u_i·x') / √(n d)`` with ``σ`` the identity and ``x' = √d x``."""
    d = 3
    init = uv_init(200, d, seed=4)
    x = np.array([0.6, -1.1, 0.4])
    lam0 = float(np.sum(init.v**2) * (x @ x) / 200 + np.sum((init.U @ x) ** 2) / 200)
    eta = np.array([0.5, 3.0, 4.5]) / lam0  # lazy, catapult, divergent
    uv = train_uv(init, x, eta, 120, y=0.3)
    net = train_two_layer(TwoLayerState(init.U, init.v), Dataset("uv", "one datum", np.sqrt(d) * x[None], np.array([0.3])),
                          1.0, eta, 120)
    np.testing.assert_array_equal(uv.diverged_at, net.traj.diverged_at)
    assert uv.diverged_at[2] > 0 and uv.diverged_at[1] == -1
    for name in ("loss", "lam", "w2"):
        for j in range(3):
            a, b = net.traj.series(name, j), uv.series(name, j)
            assert_close(a, b, rtol=0, atol=1e-11 * np.max(np.abs(b)), what=f"{name}, rate {j}")


class _Probe(Toy):
    """Records the BLAS threads during its steps."""

    def observe(self, s, lam, exact, test, tally):
        from threadpoolctl import threadpool_info

        self.blas = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return super().observe(s, lam, exact, test, tally)


@pytest.mark.parametrize("blas_threads, work, expected", [(False, 1 << 30, 1), (True, 10, 1), (True, 1 << 30, 2)])
def test_one_blas_rule_for_every_family(blas_threads, work, expected):
    """BLAS runs on one thread in the driver unless the family's steps are large products
    (blas_threads) on one slice of at least THREADS_MIN_WORK elements."""
    from threadpoolctl import threadpool_limits

    fam = _Probe(np.zeros(2))
    fam.blas_threads, fam.work = blas_threads, work
    with threadpool_limits(limits=2, user_api="blas"):
        run_gd(fam, np.array([0.5, 0.6]), GDConfig(3, threads=1))
    assert fam.blas == expected


def test_stop_reasons_stay_the_enum_and_equal_their_values():
    res = run_gd(Toy(np.zeros(2)), np.array([0.5, 2.5]), GDConfig(80, tol=1e-6))
    assert all(isinstance(r, StopReason) for r in res.stop_reason)
    assert set(res.stop_reason) == {"tol", "diverged"} and res.stop_reason[1] == StopReason.DIVERGED
