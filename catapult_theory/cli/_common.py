"""Shared CLI machinery: one-line errors, validated argument types, output.

The value types, the one-line parser and the text helpers are the families' own
(:mod:`catapult_theory.families`): the command line re-exports them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import CLIError, InvalidInput
from ..families import FlagParser as Parser
from ..families import (add_k_grid, bound_lines, bound_marker, boundary_text, finite_float, fmt, k_grid, nonneg_int,
                        phase_segments, positive_float, positive_int, progress, unit_interval)

__all__ = [
    "CLIError",
    "Parser",
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
    "memory_size",
    "phase_segments",
    "fmt",
    "progress",
    "bound_marker",
    "bound_lines",
    "boundary_text",
]


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


def add_max_memory(p: argparse.ArgumentParser) -> None:
    """``--max-memory``: the memory limit of the run (default: the environment variable
    ``CATAPULT_MAX_MEMORY``, else a quarter of the machine's available memory)."""
    p.add_argument("--max-memory", type=memory_size, default=None, metavar="SIZE",
                   help="refuse runs estimated above SIZE (e.g. 4G; default: $CATAPULT_MAX_MEMORY, "
                        "else a quarter of the available memory)")


def add_format(p: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")) -> None:
    """Add ``--format`` with the given choices (default ``text``)."""
    p.add_argument("--format", choices=list(choices), default="text", help="output format (default: text)")


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
