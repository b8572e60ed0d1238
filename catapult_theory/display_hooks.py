"""Where the result classes find their Jupyter display.

The classes of the lower layers (a derived theory, a derivation, a bound, a proof result,
a phase sweep) cannot import the layers that typeset or draw them, which sit above them
(the phase diagram is drawn by :mod:`catapult_theory.report`). Their ``_repr_*_`` methods
ask here instead; :mod:`catapult_theory.display`, imported with the package, fills the
table. This module imports nothing.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["SHOW", "register", "show"]

#: display kind (``"theory_latex"``, ``"sweep_png"``, ...) -> the function that makes it
SHOW: dict[str, Callable[[Any], Any]] = {}


def register(kind: str, function: Callable[[Any], Any]) -> None:
    """Let ``show(kind, obj)`` call ``function(obj)``."""
    SHOW[kind] = function


def show(kind: str, obj: Any) -> Any:
    """``obj`` displayed as ``kind``; ``None`` (Jupyter then shows the plain repr) when no
    display is registered for it."""
    function = SHOW.get(kind)
    return None if function is None else function(obj)
