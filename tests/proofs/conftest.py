import pytest


@pytest.fixture(scope="session")
def all_results():
    """Every theorem, proved once per test session (Coq separately: tests/proofs/test_coq.py)."""
    import proofs

    return proofs.prove(coq=False)


def label(r):
    return r.label


def failed(results):
    """label -> failing step names, for the theorems that failed."""
    return {r.label: set(r.failed_steps) for r in results if not r.proved}
