"""Shared CLI machinery: one-line errors, validated argument types, output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import InvalidInput

__all__ = [
    "CLIError",
    "Parser",
    "Family",
    "positive_int",
    "nonneg_int",
    "positive_float",
    "finite_float",
    "unit_interval",
    "plot_path",
    "write_output",
    "EXIT_OUTPUT_FAILED",
    "emit",
    "StdoutError",
    "write_stdout",
    "k_grid",
    "add_k_grid",
    "add_format",
    "add_max_memory",
    "add_no_refine",
    "memory_size",
    "phase_segments",
    "fmt",
    "progress",
    "bound_marker",
    "bound_lines",
    "boundary_text",
]


class CLIError(InvalidInput):
    """Bad command-line input: reported as one line on stderr with exit code 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Raise :class:`CLIError` (one line on stderr, exit 2) instead of printing usage."""
        raise CLIError(f"{self.prog}: {message}")


def _number(text: str, kind: Callable[[str], Any], what: str) -> Any:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not finite")
    return value


def positive_int(text: str) -> int:
    """Argument type: an integer > 0."""
    v = _number(text, int, "an integer")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def nonneg_int(text: str) -> int:
    """Argument type: an integer >= 0."""
    v = _number(text, int, "an integer")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be non-negative, got {v}")
    return v


def positive_float(text: str) -> float:
    """Argument type: a finite number > 0."""
    v = _number(text, float, "a number")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def finite_float(text: str) -> float:
    """Argument type: a finite number."""
    return _number(text, float, "a number")


def unit_interval(text: str) -> float:
    """Argument type: a number in [0, 1]."""
    v = _number(text, float, "a number")
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {v}")
    return v


def plot_path(text: str) -> Path:
    """Argument type: a .png/.pdf/.svg file that can be written, checked at parse time,
    before any computation (:func:`catapult_theory.files.check_output_file`)."""
    from ..files import check_output_file

    try:
        return check_output_file(text, "", (".png", ".pdf", ".svg"))
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc).strip()) from None


def write_output(args: argparse.Namespace, what: str, path: Path, write: Callable[[Path], Any]) -> str:
    """Write one output file at the end of a command; returns the line that says so.

    The path was checked before the computation; if writing still fails (disk full,
    the folder removed meanwhile), the failure is recorded on ``args`` and the
    results are printed anyway: the command then exits with code 3
    (:data:`EXIT_OUTPUT_FAILED`) after a line on stderr naming the file.
    """
    try:
        write(path)
    except OSError as err:
        failures = getattr(args, "output_failures", [])
        failures.append(f"could not write the {what} {path}: {err.strerror or err}")
        args.output_failures = failures
        return f"{what} NOT written to {path} ({err.strerror or err})"
    return f"{what} written to {path}"


#: exit code of a command whose results were printed but an output file could not be written
EXIT_OUTPUT_FAILED = 3


def memory_size(text: str) -> int:
    """Argument type: a size such as ``2G``, ``500M`` or a number of bytes."""
    from ..resources import parse_size

    try:
        return parse_size(text, "size")
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("size: ")) from None


def add_no_refine(p: argparse.ArgumentParser) -> None:
    """``--no-refine``: boundaries at grid resolution (no refinement runs), in every family."""
    p.add_argument("--no-refine", action="store_true",
                   help="report boundaries at grid resolution (no bisection runs)")


def add_max_memory(p: argparse.ArgumentParser) -> None:
    """``--max-memory``: the memory limit of the run (default: the environment variable
    ``CATAPULT_MAX_MEMORY``, else a quarter of the machine's available memory)."""
    p.add_argument("--max-memory", type=memory_size, default=None, metavar="SIZE",
                   help="refuse runs estimated above SIZE (e.g. 4G; default: $CATAPULT_MAX_MEMORY, "
                        "else a quarter of the available memory)")


def add_format(p: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")) -> None:
    """Add ``--format`` with the given choices (default ``text``)."""
    p.add_argument("--format", choices=list(choices), default="text", help="output format (default: text)")


def k_grid(k_min: float, k_max: float, num: int, scale: str = "linear") -> np.ndarray:
    """The grid of ``k = η λ0``, validated: evenly spaced (``linear``) or geometric
    (``log``, for ranges over several decades)."""
    if k_min >= k_max:
        raise CLIError(f"--k-min ({k_min}) must be smaller than --k-max ({k_max})")
    if num < 2:
        raise CLIError(f"--num must be at least 2, got {num}")
    if scale == "log":
        return np.geomspace(k_min, k_max, num)
    if scale != "linear":
        raise CLIError(f"--k-scale must be linear or log, got {scale!r}")
    return np.linspace(k_min, k_max, num)


def add_k_grid(p: argparse.ArgumentParser) -> None:
    """The ``k`` grid arguments, the same in every family: ``--k-min``, ``--k-max``,
    ``--num`` and ``--k-scale``."""
    p.add_argument("--k-min", type=positive_float, required=True, help="smallest k = eta*lam0")
    p.add_argument("--k-max", type=positive_float, required=True, help="largest k")
    p.add_argument("--num", type=positive_int, required=True, help="grid points")
    p.add_argument("--k-scale", choices=("linear", "log"), default="linear",
                   help="grid spacing: linear (default) or log (geometric, for wide ranges)")


class StdoutError(Exception):
    """The standard output could not take what a command printed (``err``: the OSError)."""

    def __init__(self, err: OSError) -> None:
        super().__init__(str(err))
        self.err = err


def emit(payload: dict[str, Any], text: str, fmt: str) -> None:
    """Print JSON (strict: no NaN) or the text form; :class:`StdoutError` when the standard
    output cannot take it (a pipe whose reader went away stays a ``BrokenPipeError``)."""
    write_stdout(json.dumps(payload, allow_nan=False) + "\n" if fmt == "json" else text.rstrip("\n") + "\n")


def write_stdout(text: str) -> None:
    """Write ``text`` to the standard output and flush; :class:`StdoutError` when it cannot
    take it (a pipe whose reader went away stays a ``BrokenPipeError``)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise StdoutError(err) from None


def fmt(x: Any, digits: int = 6) -> str:
    """A number for text output (``-`` for ``None`` and non-finite values)."""
    if x is None:
        return "-"
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            return "-"
        return f"{float(x):.{digits}g}"
    return str(x)


def phase_segments(k: np.ndarray, phase: Sequence[str] | np.ndarray) -> list[tuple[float, float, str, int]]:
    """Runs of equal phase along the grid: ``(k_first, k_last, phase, count)``."""
    out = []
    start = 0
    for i in range(1, len(k) + 1):
        if i == len(k) or phase[i] != phase[start]:
            out.append((float(k[start]), float(k[i - 1]), str(phase[start]), i - start))
            start = i
    return out


def bound_marker(status: Any) -> str:
    """The text form of one bound's status (``{"rigorous", "theorem", "hypotheses_hold", "why"}``)."""
    if not status["rigorous"]:
        return f"[{status['why']}]"  # "heuristic, not a bound: ..." or "not rigorous: ..."
    holds = "hypotheses hold" if status["hypotheses_hold"] else "hypotheses do NOT hold here"
    return f"[rigorous; {holds}: {status['why']}]"


def bound_lines(bounds: Any, status: Any, extra: Callable[[str, float], str] | None = None) -> list[str]:
    """One line per bound: ``name: k < k_max`` (then ``extra(name, k_max)``) and its marker."""
    return [f"  {name}: k < {fmt(v)}{extra(name, v) if extra else ''}  {bound_marker(status[name])}"
            for name, v in bounds.items()]


def boundary_text(boundaries: Any, how: str = "bisection") -> list[str]:
    """The boundaries line (a number only where known: refined to its tolerance or at grid
    resolution; otherwise the interval with its flag), then one ``warning:`` line each."""
    details = getattr(boundaries, "details", {})
    parts = []
    for name, value in boundaries.items():
        d = details.get(name, {})
        status, (lo, hi) = d.get("status"), d.get("interval", (None, None))
        if status == "unconverged":
            parts.append(f"{name} in [{fmt(lo)}, {fmt(hi)}] (NOT converged)")
        elif status == "below_grid":
            parts.append(f"{name} <= {fmt(hi)} (already at the first grid point)")
        elif status == "not_found":
            parts.append(f"{name} not on the grid (> {fmt(lo)} or absent)")
        else:
            parts.append(f"{name} = {fmt(value)}")
    return [f"boundaries ({how}): " + ", ".join(parts)] + [
        f"warning: {w}" for w in getattr(boundaries, "warnings", [])]


def progress(message: str) -> None:
    """Progress line on stderr (only when stderr is a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write("\r" + message[:120].ljust(120))
        sys.stderr.flush()


class Family:
    """CLI face of one model family: arguments and handlers of its commands.

    Subclasses set ``name`` and ``help`` and implement the ``add_*`` / command
    methods they support; each command returns ``(payload, text)``.
    """

    name: str = ""
    help: str = ""
    derive_formats: Sequence[str] = ("text", "latex", "python", "json", "markdown")

    def add_derive_args(self, p: argparse.ArgumentParser) -> None:
        """Arguments of ``derive`` beyond ``--format`` (none by default)."""

    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        """The derived theory of the family (any family given as symbols can be derived)."""
        from ._derive_common import derive_payload

        return derive_payload(self.name, args.format)

    def add_run_args(self, p: argparse.ArgumentParser) -> None:
        """Arguments of ``run`` (a family with a numeric engine overrides this)."""
        pass

    def run(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """``run``: train a finite model; returns ``(payload, text)``."""
        raise NotImplementedError

    def add_phases_args(self, p: argparse.ArgumentParser) -> None:
        """Arguments of ``phases`` (a family with a numeric engine overrides this)."""
        pass

    def phases(self, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
        """``phases``: a phase diagram against ``k``; returns ``(payload, text)``."""
        raise NotImplementedError

    def memory(self, args: argparse.Namespace, command: str) -> list[Any]:
        """The arrays ``command`` will hold, as :class:`catapult_theory.resources.Need`
        records (estimated from the arguments, before anything is allocated); the CLI
        refuses a total above the memory limit. Trajectories are counted at their first
        :data:`~catapult_theory.engine.INITIAL_ROWS` rows: they grow as a run goes, each
        growth checked against the same limit."""
        return []

    def execute(self, args: argparse.Namespace, command: str, what: str | None = None) -> tuple[dict[str, Any], str]:
        """``run`` or ``phases`` after the memory check: the estimate of :meth:`memory`
        against the limit of this process (:class:`InvalidInput` naming ``what`` above it),
        so every caller (the command line, a grid cell) refuses the same runs."""
        from ..resources import check_memory

        check_memory(self.memory(args, command), what or f"catapult {command} {self.name}")
        return self.run(args) if command == "run" else self.phases(args)

    def commands(self) -> Iterable[str]:
        """The commands this family supports: ``derive`` always, ``run``/``phases``
        where the family has a numeric engine."""
        yield "derive"
        for c in ("run", "phases"):
            if getattr(type(self), c) is not getattr(Family, c):
                yield c

    @classmethod
    def symbols_only(cls, name: str, help: str) -> "Family":
        """The CLI face of a family given only as symbols (``derive`` and ``prove``)."""
        face = cls()
        face.name, face.help = name, help
        return face
