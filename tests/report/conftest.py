import pytest

from catapult_theory.report import _reproduce as R


@pytest.fixture
def fake_sections(monkeypatch):
    """An empty section list in place of the built-in sections; a test appends its own."""
    sections = []
    monkeypatch.setattr(R, "SECTIONS", sections)
    monkeypatch.setattr(R, "_load_sections", lambda: None)
    return sections
