"""Memory limits: estimate before allocating, refuse above a limit with one clear line.

Every command estimates the memory its run needs (the arrays it will hold, times
8 bytes for float64, times the batch of learning rates; each estimate is pinned by
tests to lie within 0.5x to 2x of the peak the run really allocates) *before*
allocating, and :func:`check_memory` adds what the process already holds (the
interpreter and its libraries, :func:`baseline_memory`: 75 to 160 MB for the
command line) and refuses a total above the limit with
:class:`~catapult_theory.errors.InvalidInput` naming the estimate, the limit and
the flag to lower. Trajectories grow as a run goes (they are not allocated for the
whole step budget up front) and each growth is checked with :func:`check_growth`,
so a large ``--steps`` with early convergence costs what the run uses, and a run
that would outgrow the limit stops with the same kind of message.

The limit: ``--max-memory`` (set through :func:`set_memory_limit`), else the
environment variable ``CATAPULT_MAX_MEMORY`` (``"2G"``, ``"500M"``, ``"0.5T"``,
bytes as a plain number), else :data:`DEFAULT_FRACTION` of the memory the
machine has available now.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .errors import InvalidInput

__all__ = ["DEFAULT_FRACTION", "ENV_VAR", "Need", "available_memory", "baseline_memory", "check_growth", "check_memory",
           "format_bytes", "memory_limit", "parse_size", "set_memory_limit"]

#: environment variable holding the memory limit
ENV_VAR = "CATAPULT_MAX_MEMORY"
#: default limit: this fraction of the machine's available memory
DEFAULT_FRACTION = 0.25

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}

_limit_override: int | None = None


def parse_size(text: str, what: str = "--max-memory") -> int:
    """``"2G"``, ``"512M"``, ``"1.5GB"``, ``"1000000"`` as bytes (binary units); :class:`InvalidInput` otherwise."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    unit = m.group(2).upper() if m else ""
    if not m or unit not in _UNITS:
        raise InvalidInput(f"{what}: expected a size such as 2G, 500M or 1000000 (bytes), got {text!r}")
    value = float(m.group(1)) * _UNITS[unit]
    if not value >= 1 or value > 2**62:
        raise InvalidInput(f"{what}: the size must be between 1 byte and 4 EiB, got {text!r}")
    return int(value)


def format_bytes(n: float) -> str:
    """``n`` bytes for a message (``1.5 GB``, binary units)."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30


def baseline_memory() -> int:
    """Bytes this process holds now (its resident set: the interpreter, the imported
    libraries, what earlier work left), which every estimate comes on top of."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:  # pragma: no cover - not Linux: the peak so far (kilobytes on Linux, bytes on macOS)
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)
    except (ImportError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 0


def set_memory_limit(limit: int | str | None) -> None:
    """Set the limit for this process (``--max-memory``); ``None`` restores the default."""
    global _limit_override
    _limit_override = None if limit is None else (parse_size(limit) if isinstance(limit, str) else int(limit))


def memory_limit() -> tuple[int, str]:
    """The limit in bytes and where it comes from."""
    if _limit_override is not None:
        return _limit_override, "--max-memory"
    env = os.environ.get(ENV_VAR)
    if env:
        return parse_size(env, ENV_VAR), ENV_VAR
    return int(DEFAULT_FRACTION * available_memory()), f"{DEFAULT_FRACTION:.0%} of available memory"


@dataclass(frozen=True)
class Need:
    """One array a run will hold: what it is, its bytes and the flag that scales it."""

    what: str
    nbytes: float
    flag: str


def check_memory(needs: list[Need], command: str = "this run", baseline: float | None = None) -> float:
    """Refuse (:class:`InvalidInput`, one line) if the arrays ``needs`` together with what the
    process already holds (``baseline``, default :func:`baseline_memory`) exceed the memory
    limit; returns that total in bytes. The message names the total, the limit and the
    flag of the largest array."""
    arrays = float(sum(n.nbytes for n in needs))
    base = float(baseline_memory() if baseline is None else baseline)
    total = arrays + base
    limit, source = memory_limit()
    if total > limit:
        top = max(needs, key=lambda n: n.nbytes) if needs else Need("nothing", 0.0, "the work")
        raise InvalidInput(
            f"{command} needs about {format_bytes(total)} of memory ({format_bytes(arrays)} of arrays, largest: "
            f"{top.what}, {format_bytes(top.nbytes)}; {format_bytes(base)} held already), above the limit of "
            f"{format_bytes(limit)} ({source}); lower {top.flag}, or raise the limit with --max-memory or {ENV_VAR}")
    return total


def check_growth(nbytes: float, what: str, flag: str = "--steps") -> None:
    """Refuse to grow a recorded trajectory to ``nbytes`` above the memory limit."""
    limit, source = memory_limit()
    if nbytes > limit:
        raise InvalidInput(
            f"the {what} would grow to {format_bytes(nbytes)}, above the memory limit of "
            f"{format_bytes(limit)} ({source}); lower {flag}, or raise the limit with --max-memory or {ENV_VAR}")
