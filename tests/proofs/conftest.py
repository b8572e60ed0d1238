import pytest


@pytest.fixture(scope="session")
def all_results():
    """Every theorem, proved once per test session."""
    import proofs

    return proofs.prove()


def label(r):
    import proofs

    return f"{r.theorem}[{r.model}]" if r.theorem in proofs.GENERIC_THEOREMS else r.theorem


def failed(results):
    """label -> failing step names, for the theorems that failed."""
    return {label(r): set(r.failed_steps) for r in results if not r.proved}
