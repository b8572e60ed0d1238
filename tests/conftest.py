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


#: Session fixtures that cost seconds, and the xdist group of the tests that use them.
SHARED_FIXTURES = {"all_results": "proofs", "coq_result": "coq"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (``--dist loadgroup``) the tests that share an expensive session
    fixture run in one worker, so every theorem is proved (and proofs/coq/ compiled) once,
    not once per worker. This runs before xdist's own hook, which reads the mark."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        group = next((g for f, g in SHARED_FIXTURES.items() if f in names), None)
        if group is not None and not any(m.name == "xdist_group" for m in item.iter_markers()):
            item.add_marker(pytest.mark.xdist_group(group))
    # the groups are the largest pieces of work that cannot be split: handed out first, so
    # that the other worker's small tests fill the time instead of waiting at the end
    items.sort(key=lambda item: not any(m.name == "xdist_group" for m in item.iter_markers()))
