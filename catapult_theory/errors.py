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

__all__ = ["CLIError", "InvalidInput", "check_int", "check_float", "check_positive", "check_initial_state", "check_lam0",
           "learning_rates"]


class InvalidInput(ValueError):
    """A caller's value is invalid (type, range, shape, spec, resource limit)."""


class CLIError(InvalidInput):
    """Bad command-line input: reported as one line on stderr with exit code 2."""


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


#: what to change when a net's ``lam0`` is 0: every unit inactive at the start
NET_LAM0_ADVICE = ("every unit of the net is inactive at the start (a collapsed net): change --seed, raise --width "
                   "or use --slope above 0")


def check_lam0(lam0: Any, advice: str) -> float:
    """Refuse an initial NTK eigenvalue that is zero or underflows float64 (below the
    smallest normal number): no learning rate ``eta = k / lam0`` exists then.
    :class:`InvalidInput` naming ``lam0`` and ``advice`` (which input to change)."""
    import numpy as np

    value = float(lam0)
    if not (math.isfinite(value) and value >= np.finfo(float).tiny):
        what = "= 0" if value == 0 else f"= {value:g} underflows float64" if math.isfinite(value) else "is not finite"
        raise InvalidInput(f"lam0 {what}: the NTK eigenvalue at initialisation gives no learning rate "
                           f"eta = k / lam0; {advice}")
    return value


def learning_rates(k: Any, lam0: float, advice: str) -> Any:
    """``eta = k / lam0`` (an array like ``k``), refused with :class:`InvalidInput` when
    ``lam0`` is zero or underflows (:func:`check_lam0`) or a rate overflows float64."""
    import numpy as np

    lam0 = check_lam0(lam0, advice)
    with np.errstate(all="ignore"):
        eta = np.asarray(k, dtype=float) / lam0
    if not np.all(np.isfinite(eta)):
        raise InvalidInput(f"eta = k / lam0 overflows float64 (lam0 = {lam0:g}, largest k = "
                           f"{float(np.max(k)):g}); {advice}")
    return eta
