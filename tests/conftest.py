import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

# one BLAS thread per test process: parallel runs (CI beside another job, pytest -n)
# must not oversubscribe the cores; OpenBLAS threads spin and slow everything down
_BLAS_LIMIT = threadpool_limits(limits=1)
# and the same for the processes tests start (the CLI end to end, grid workers)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh derivation cache folder (``CATAPULT_CACHE_DIR``) for one test, no pre-building
    of the built-ins; the per-process theories and catalogues are cleared around it."""
    from catapult_theory.symbolic import _cache, _catalog, _theory, theory

    folder = tmp_path / "cache"
    monkeypatch.setenv(_cache.ENV_VAR, str(folder))
    monkeypatch.setattr(_theory, "PREBUILD_BUILTINS", False)
    theory.cache_clear()
    _catalog.bounds.cache_clear()
    yield folder
    theory.cache_clear()
    _catalog.bounds.cache_clear()


@pytest.fixture(scope="session")
def all_results():
    """Every theorem of ``proofs``, proved once per test session (Coq is run by
    tests/proofs/test_coq.py on its own)."""
    import proofs

    return tuple(proofs.prove(coq=False))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (``--dist loadgroup``) the tests that share the session's proofs run
    in one worker, so every theorem is proved once, not once per worker."""
    for item in items:
        if "all_results" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("proofs"))
