"""falsify / assert_holds: the search runs under the caller's active Hypothesis settings profile."""

import time

import pytest
from hypothesis import settings
from hypothesis import strategies as st

from catapult_theory.testing import Claim, Counterexample, assert_holds, falsify

_PROFILE = "catapult-theory-test-claims"


@pytest.fixture
def profile():
    """Load a profile derived from the active one, with the given settings; restore the active one after."""
    previous = settings.get_current_profile_name()

    def load(**overrides):
        settings.register_profile(_PROFILE, parent=settings.get_profile(previous), **overrides)
        settings.load_profile(_PROFILE)

    yield load
    settings.load_profile(previous)


def _counting_claim():
    seen = []

    def holds(x):
        seen.append(x)
        return True

    return Claim("always true", holds), seen


def test_falsify_uses_the_active_profiles_budget(profile):
    profile(max_examples=7)
    claim, seen = _counting_claim()
    assert falsify(claim, st.integers()) is None
    assert 0 < len(seen) <= 7


def test_an_explicit_budget_overrides_the_profile(profile):
    profile(max_examples=7)
    claim, seen = _counting_claim()
    assert falsify(claim, st.integers(), max_examples=25) is None
    assert 7 < len(seen) <= 25


def test_derandomized_profile_makes_the_search_reproducible(profile):
    profile(derandomize=True, database=None, max_examples=20)
    runs = []
    for _ in range(2):
        claim, seen = _counting_claim()
        falsify(claim, st.integers())
        runs.append(seen)
    assert runs[0] == runs[1]


def test_a_slow_claim_is_not_cut_short_by_the_profiles_deadline(profile):
    profile(deadline=1, max_examples=5, derandomize=True, database=None)

    def slow_but_true(x):
        time.sleep(0.005)
        return True

    assert falsify(Claim("slow", slow_but_true), st.integers()) is None


def test_falsify_shrinks_to_a_simplest_counterexample():
    cex = falsify(Claim("x < 10", lambda x: x < 10), st.integers(0, 10**6))
    assert cex == Counterexample("x < 10", 10)
    assert str(cex) == "claim 'x < 10' is false for 10"


def test_assert_holds():
    assert_holds(Claim("x >= 0", lambda x: x >= 0), st.integers(0, 100))
    with pytest.raises(AssertionError, match="claim 'x < 10' is false for 10"):
        assert_holds(Claim("x < 10", lambda x: x < 10), st.integers(0, 100))
