"""Claims and their falsification with Hypothesis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

T = TypeVar("T")

__all__ = ["Claim", "Counterexample", "falsify", "assert_holds"]


@dataclass(frozen=True)
class Claim(Generic[T]):
    """A named predicate that should hold for every drawn example."""

    name: str
    holds: Callable[[T], bool]

    def __call__(self, example: T) -> bool:
        return bool(self.holds(example))


@dataclass(frozen=True)
class Counterexample(Generic[T]):
    claim: str
    example: T

    def __str__(self) -> str:
        return f"claim {self.claim!r} is false for {self.example!r}"


def _settings(max_examples: int, derandomize: bool) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=derandomize,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def falsify(
    claim: Claim[T],
    strategy: st.SearchStrategy[T],
    max_examples: int = 300,
    derandomize: bool = True,
) -> Counterexample[T] | None:
    """Search for an example where ``claim`` is false.

    Returns the (shrunk) counterexample, or ``None`` if ``max_examples`` draws
    found none. ``derandomize`` makes the search reproducible.
    """
    try:
        ex = find(strategy, lambda e: not claim(e), settings=_settings(max_examples, derandomize))
    except NoSuchExample:
        return None
    return Counterexample(claim.name, ex)


def assert_holds(claim: Claim[T], strategy: st.SearchStrategy[T], max_examples: int = 300) -> None:
    """Raise ``AssertionError`` with the counterexample if ``claim`` is falsified."""
    cex = falsify(claim, strategy, max_examples=max_examples)
    if cex is not None:
        raise AssertionError(str(cex))
