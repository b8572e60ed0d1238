"""`python -m catapult_theory ...` is the `catapult` command."""

from .cli import entry_point

entry_point()
