"""The package's exception for invalid input, and the argument checks that raise it.

:class:`InvalidInput` (a :class:`ValueError`) is raised for every value a caller got
wrong: a non-integer width, a negative learning rate, a malformed data spec, a
size beyond the memory limit. The ``catapult`` command maps exactly this type to
one line on stderr and exit code 2; any other exception is a bug of the package
and exits 1 with its traceback.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["InvalidInput", "check_int", "check_float", "check_positive", "check_initial_state"]


class InvalidInput(ValueError):
    """A caller's value is invalid (type, range, shape, spec, resource limit)."""


def check_int(name: str, val: Any, low: int | None = None) -> int:
    """``val`` as an ``int``: an integer (Python or NumPy, not ``bool``, not ``2.5``)
    ``>= low``; :class:`InvalidInput` otherwise, naming ``name``."""
    if isinstance(val, bool) or not isinstance(val, numbers.Integral):
        if isinstance(val, numbers.Real) and not isinstance(val, bool) and float(val).is_integer():
            val = int(float(val))  # 3.0 is the integer 3
        else:
            raise InvalidInput(f"{name} must be an integer, got {val!r} ({type(val).__name__})")
    val = int(val)
    if low is not None and val < low:
        raise InvalidInput(f"{name} must be an integer >= {low}, got {val}")
    return val


def check_float(name: str, val: Any) -> float:
    """``val`` as a finite ``float`` (a real number, not ``bool``); :class:`InvalidInput` otherwise."""
    if isinstance(val, bool) or not isinstance(val, numbers.Real):
        raise InvalidInput(f"{name} must be a real number, got {val!r} ({type(val).__name__})")
    out = float(val)
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be finite, got {val!r}")
    return out


def check_positive(name: str, val: Any) -> float:
    """``val`` as a finite ``float > 0``; :class:`InvalidInput` otherwise."""
    out = check_float(name, val)
    if out <= 0:
        raise InvalidInput(f"{name} must be positive, got {val!r}")
    return out


def check_initial_state(values: dict[str, Any], advice: str) -> None:
    """Refuse an initial state that overflows float64: :class:`InvalidInput` naming the first
    quantity of ``values`` (name -> number or array) that is not finite, and ``advice``
    (which input to make smaller). Compute ``values`` under ``np.errstate(all="ignore")``
    so that no floating-point warning escapes before this check."""
    import numpy as np

    for name, v in values.items():
        if not np.all(np.isfinite(np.asarray(v, dtype=float))):
            raise InvalidInput(f"the initial state overflows float64 ({name} is not finite); {advice}")
