"""Claims and their falsification with Hypothesis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hypothesis import find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

T = TypeVar("T")

__all__ = ["Claim", "Counterexample", "assert_holds", "falsify"]


@dataclass(frozen=True)
class Claim(Generic[T]):
    """A named predicate that should hold for every drawn example."""

    name: str
    holds: Callable[[T], bool]

    def __call__(self, example: T) -> bool:
        return bool(self.holds(example))


@dataclass(frozen=True)
class Counterexample(Generic[T]):
    """An example for which a claim (named ``claim``) is false."""

    claim: str
    example: T

    def __str__(self) -> str:
        return f"claim {self.claim!r} is false for {self.example!r}"


def _settings(max_examples: int | None, derandomize: bool | None) -> settings:
    """The caller's active settings profile, with the overrides :func:`falsify` documents."""
    overrides: dict[str, Any] = {"deadline": None}
    if max_examples is not None:
        overrides["max_examples"] = max_examples
    if derandomize is not None:
        overrides["derandomize"] = derandomize
    return settings(settings(), **overrides)


def _database_key(claim: Claim[T], strategy: st.SearchStrategy[T]) -> bytes:
    """Where the example database keeps this search's counterexamples: one key per claim and strategy."""
    return f"catapult_theory.testing.falsify:{claim.name}:{strategy!r}".encode()


def falsify(
    claim: Claim[T],
    strategy: st.SearchStrategy[T],
    max_examples: int | None = None,
    derandomize: bool | None = None,
) -> Counterexample[T] | None:
    """Search for an example where ``claim`` is false.

    The search is Hypothesis ``find`` under the caller's active settings
    profile (``hypothesis.settings()``, i.e. ``settings.default``): its
    ``max_examples``, ``derandomize``, ``phases`` and ``database`` apply.

    Parameters
    ----------
    claim
        The predicate to falsify.
    strategy
        Where the examples come from.
    max_examples
        Search budget; ``None`` (default) keeps the active profile's.
    derandomize
        ``True`` makes the search reproducible; ``None`` (default) keeps the
        active profile's.

    Returns
    -------
    Counterexample or None
        The (shrunk) counterexample, or ``None`` if the search found none
        (evidence, not proof).

    Notes
    -----
    Two things always differ from the profile, because the search needs them:

    * ``deadline=None``: the time a claim takes to evaluate is not what is being
      tested, and a deadline error would end the search with no answer;
    * the example database (when the profile has one) files counterexamples
      under the claim's name and the strategy's repr, not under Hypothesis's
      default key for ``find`` (a digest of the condition, which is this
      function's own and so the same for every claim).

    ``find`` itself suppresses every health check.
    """
    try:
        ex = find(strategy, lambda e: not claim(e), settings=_settings(max_examples, derandomize),
                  database_key=_database_key(claim, strategy))
    except NoSuchExample:
        return None
    return Counterexample(claim.name, ex)


def assert_holds(
    claim: Claim[T],
    strategy: st.SearchStrategy[T],
    max_examples: int | None = None,
    derandomize: bool | None = None,
) -> None:
    """Raise ``AssertionError`` with the counterexample if ``claim`` is falsified.

    The search is :func:`falsify`'s, under the caller's active Hypothesis
    settings profile; ``max_examples`` and ``derandomize`` override it when given.
    """
    cex = falsify(claim, strategy, max_examples=max_examples, derandomize=derandomize)
    if cex is not None:
        raise AssertionError(str(cex))
