"""Memory limits (catapult_theory.resources) and the settled stop of long runs."""

import numpy as np
import pytest

from catapult_theory import resources as res
from catapult_theory.errors import InvalidInput


@pytest.mark.parametrize("text, want", [("2G", 2 * 2**30), ("500M", 500 * 2**20), ("1.5GB", int(1.5 * 2**30)),
                                        ("1000000", 10**6), ("64k", 64 * 2**10), ("1e9", 10**9), ("2 GiB", 2**31)])
def test_parse_size(text, want):
    assert res.parse_size(text) == want


@pytest.mark.parametrize("text", ["", "lots", "-3G", "0", "2X", "nan", "1e40"])
def test_parse_size_rejects(text):
    with pytest.raises(InvalidInput, match="--max-memory"):
        res.parse_size(text)


def test_limit_precedence(monkeypatch):
    monkeypatch.setattr(res, "available_memory", lambda: 8 * 2**30)
    monkeypatch.delenv(res.ENV_VAR, raising=False)
    assert res.memory_limit() == (2 * 2**30, "25% of available memory")  # a quarter, as documented
    monkeypatch.setenv(res.ENV_VAR, "3G")
    assert res.memory_limit() == (3 * 2**30, res.ENV_VAR)
    res.set_memory_limit("1G")
    try:
        assert res.memory_limit() == (2**30, "--max-memory")
    finally:
        res.set_memory_limit(None)


def test_check_memory_names_the_largest_array_and_its_flag():
    res.set_memory_limit(1000)
    try:
        needs = [res.Need("small", 100, "--a"), res.Need("big", 5000, "--b")]
        with pytest.raises(InvalidInput, match=r"needs about 4\.98 kB .*largest: big.*lower --b"):
            res.check_memory(needs, "the run", baseline=0)
        assert res.check_memory([res.Need("ok", 1000, "--a")], baseline=0) == 1000  # at the limit: allowed
        # what the process holds already counts: the same arrays on top of 1 byte are refused
        with pytest.raises(InvalidInput, match=r"1000 B of arrays.*1 B held already"):
            res.check_memory([res.Need("ok", 1000, "--a")], baseline=1)
    finally:
        res.set_memory_limit(None)


def test_the_baseline_is_this_process_resident_memory():
    """The interpreter with NumPy loaded holds tens of MB; allocating 64 MB more raises it."""
    import numpy as np

    before = res.baseline_memory()
    assert 20 * 2**20 < before < 8 * 2**30
    block = np.ones(8 * 2**20)  # 64 MB, touched
    assert res.baseline_memory() - before > 48 * 2**20
    del block


def test_settled_runs_stop_where_nothing_later_shows():
    """A run stopped once settled ends where the full-budget run ends, to float64 resolution:
    the settled level is low enough (a level of 1e-3 would fail here)."""
    from catapult_theory.engine import train_uv, uv_init
    from catapult_theory.experiments import uv_setup

    setup = uv_setup(500, seed=3)
    init = uv_init(500, 1, 3)
    eta = np.array([1.0, 2.5, 3.2]) / setup.lam0
    full = train_uv(init, setup.x, eta, 3000, settle=False)
    short = train_uv(init, setup.x, eta, 3000, settle=True)
    assert short.loss.shape[0] < full.loss.shape[0]
    for name in ("lam", "w2"):
        np.testing.assert_allclose(short.final(name), full.final(name), rtol=1e-13)
    assert np.all(short.final("loss") <= 1e-32 * short.loss[0])
