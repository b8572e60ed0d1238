"""The `catapult` command line.

    catapult derive MODEL|FILE [--builder NAME] [--format text|latex|python|json|markdown]
    catapult falsify MODEL|FILE --claim EXPR [--assume EXPR ...] [--max-examples N] [--seed S] [--format text|json]
    catapult run MODEL|FILE ... [--format text|json]
    catapult phases MODEL|FILE ... [--format text|json] [--plot FILE.png]
    catapult prove [THEOREM ...] [--model M ...] [--format text|md|json|latex] [--out FILE]
    catapult reproduce [--out DIR] [--only SECTION ...] [--quick]
    catapult grid SPEC.toml [--out DIR] [--scheduler ADDRESS|local|processes:N|synchronous] [--resume]
    catapult models
    catapult cache info|clear|build

Bad input (:class:`catapult_theory.errors.InvalidInput`) gives one line on stderr and exit
code 2 (output paths are checked before any computation); results printed but an output
file that could not be written at the end: exit 3; any other exception is a bug and exits 1 with its traceback; an interrupt exits 130.
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import InvalidInput
from ..families import ModelFamily, families
from ._common import (EXIT_OUTPUT_FAILED, CLIError, StdoutError, write_stdout, Parser, add_format, add_max_memory, emit,
                      k_grid, plot_path, positive_float, positive_int, write_output)

if TYPE_CHECKING:
    from ._model_file import ModelFiles

__all__ = ["main", "entry_point", "parser", "CLIError", "Parser", "k_grid", "positive_float", "positive_int"]


def _build_parser() -> tuple[Parser, list[ModelFamily]]:
    """The parser of every command; ``derive``, ``run`` and ``phases`` get one subcommand per
    family (:func:`catapult_theory.families.families`) whose flags are its parameters."""
    faces = families()
    parser = Parser(prog="catapult", description="Derive, iterate and test the catapult phase of gradient descent.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"catapult_theory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    helps = {
        "derive": "derive a model's one-step map, thresholds and lemma",
        "run": "train a finite model beside its exact reduced dynamics",
        "phases": "phase diagram against k = eta*lam0 with refined boundaries",
    }
    from ._model_file import FILE_HELP

    for command, help_text in helps.items():
        cp = sub.add_parser(command, help=help_text, description=help_text,
                            epilog=FILE_HELP)
        if command == "derive":
            cp.add_argument("--builder", metavar="NAME", help="with a model FILE: the function that builds the model")
        msub = cp.add_subparsers(dest="model", metavar="MODEL", parser_class=Parser)
        msub.required = True
        for fam in faces:
            if command not in fam.commands():
                continue
            mp = msub.add_parser(fam.name, help=fam.help, description=f"{help_text}: {fam.help}")
            fam.add_arguments(command, mp)
            if command == "phases":
                mp.add_argument("--plot", type=plot_path, metavar="FILE.png", help="write a phase diagram")
            add_format(mp, fam.derive_formats if command == "derive" else ("text", "json"))
            if command != "derive":
                add_max_memory(mp)
            mp.set_defaults(handler=None, family=fam)
    from ._prove import add_prove_parser

    add_prove_parser(sub)
    from ._falsify import add_falsify_parser

    add_falsify_parser(sub, [fam.name for fam in faces])
    from ._grid import add_grid_parser

    add_grid_parser(sub)
    from ._cache import add_cache_parser

    add_cache_parser(sub)
    rp = sub.add_parser("reproduce", help="regenerate the study's figures into a report folder",
                        description="Run every experiment of the study and write a report folder "
                                    "(report.md, figures, JSON data).")
    rp.add_argument("--out", default="catapult-report", help="report folder (default: ./catapult-report)")
    rp.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")
    rp.add_argument("--quick", action="store_true", help="smaller grids and step budgets (a smoke run)")
    rp.add_argument("--jobs", type=positive_int, metavar="N",
                    help="sections run at once, each in a process of its own (default: one per core; fewer when "
                         "their memory together would pass the limit)")
    rp.add_argument("--force", action="store_true",
                    help="recompute every experiment (default: reuse those finished in an earlier run)")
    add_max_memory(rp)
    rp.set_defaults(handler=None, command="reproduce")
    sub.add_parser("models", help="list the model families").set_defaults(handler=None, command="models")
    return parser, faces


def parser() -> argparse.ArgumentParser:
    """The argument parser of `catapult`: every command, and every family's flags under
    ``derive``, ``run`` and ``phases`` (the documentation's CLI reference is generated from it)."""
    return _build_parser()[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Run `catapult` with ``argv``; the exit code: 0 ok, 1 failure, 2 bad input, 3 output not
    written, 130 interrupted.

    A model FILE given in place of a model name is registered for this one command. A closed
    standard output (``>&-``, a reader that went away) is no error: the command runs and
    its output is dropped; one that cannot take the output (``> /dev/full``) exits 3."""
    from ._model_file import ModelFiles

    if sys.stdout is None:  # started with stdout closed: nowhere to print, nothing to complain about
        sys.stdout = _Discard()
    _STDOUT["dropped"] = False
    from ..families import registry_scope

    with registry_scope(), ModelFiles() as files:  # a model file (argv, a grid SPEC) is registered for this call
        code = _main(argv, files)
    return code if _STDOUT["dropped"] else _flush_stdout(code)


class _Discard(io.TextIOBase):
    """A standard output that drops what it is given (the process started without one)."""

    def write(self, text: str) -> int:
        return len(text)


#: whether this call already gave up on the standard output (reported once)
_STDOUT = {"dropped": False}


def _flush_stdout(code: int) -> int:
    """Flush what the command printed; a standard output that cannot take it exits 3 (disk
    full) or quietly (closed, broken pipe), never with a traceback at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_stdout()
    except OSError as err:
        _drop_stdout()
        if err.errno in (errno.EBADF, errno.EPIPE):
            return code
        sys.stderr.write(f"catapult: error: could not write the output: {err.strerror or err}\n")
        return EXIT_OUTPUT_FAILED
    return code


def _drop_stdout() -> None:
    """Point file descriptor 1 at /dev/null so that the interpreter's final flush of the
    buffered output succeeds silently."""
    _STDOUT["dropped"] = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv: Sequence[str] | None, files: ModelFiles) -> int:
    """:func:`main` with the model files of the command line registered by ``files``."""
    try:
        return _run(argv, files)
    except InvalidInput as exc:  # bad input (CLIError included); any other exception is a bug: exit 1, traceback
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"catapult: error: {msg}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ncatapult: interrupted\n")
        return 130
    except BrokenPipeError:  # output piped into a closed reader (| head)
        _drop_stdout()
        return 0
    except StdoutError as exc:  # emit() could not print: closed quietly, full with one line
        _drop_stdout()
        if exc.err.errno in (errno.EBADF, errno.EPIPE):
            return 0
        sys.stderr.write(f"catapult: error: could not write the output: {exc.err.strerror or exc.err}\n")
        return EXIT_OUTPUT_FAILED
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:  # a path the checks did not see (a data folder, ...)
            sys.stderr.write(f"catapult: error: a file name is too long: {err.filename or err}\n")
            return 2
        raise


def _run(argv: Sequence[str] | None, files: ModelFiles) -> int:
    argv = files.load(sys.argv[1:] if argv is None else argv)
    parser, faces = _build_parser()
    args = parser.parse_args(argv)
    from ..resources import memory_limit, set_memory_limit

    set_memory_limit(getattr(args, "max_memory", None))  # this call's flag, or the default
    memory_limit()  # a malformed CATAPULT_MAX_MEMORY is refused now, before any work, by every command
    if args.command == "models":
        write_stdout("".join(f"{fam.name:16s} {fam.help}  [{', '.join(fam.commands())}]\n" for fam in faces))
        return 0
    if args.command == "cache":
        from ._cache import cache_cli

        return cache_cli(args)
    if args.command == "grid":
        from ._grid import grid_cli

        return grid_cli(args)
    if args.command == "prove":
        from ._prove import prove_cli

        return prove_cli(args)
    if args.command == "falsify":
        from ._falsify import falsify_cli

        return falsify_cli(args)
    if args.command == "reproduce":
        from ..report import reproduce_cli

        return reproduce_cli(args)
    payload, text = _family_command(args)
    emit(payload, text, args.format)
    failures = getattr(args, "output_failures", [])
    for failure in failures:
        sys.stderr.write(f"catapult: error: {failure} (the results above are complete)\n")
    return EXIT_OUTPUT_FAILED if failures else 0


def _family_command(args: argparse.Namespace) -> tuple[Any, str]:
    """``derive``, ``run`` or ``phases`` of ``args.family`` with the parameters of its flags;
    ``--plot`` draws the sweep's phase diagram at the end (a file that cannot be written is
    recorded on ``args``: exit 3 after the results)."""
    fam: ModelFamily = args.family
    params, k = fam.from_arguments(args.command, args)
    if args.command == "derive":
        return fam.derive(params, args.format)  # type: ignore[no-any-return]
    out = fam.execute(args.command, params, k)
    payload, text = out.payload, out.text
    if args.command == "phases" and args.plot and out.plot is not None:
        from ..report import plot_phase_diagram

        plot = out.plot
        payload["plot"] = str(args.plot)

        def draw(path: Any) -> Any:
            if plot.panels is None:
                return plot_phase_diagram(plot.sweep, path, title=plot.title)
            return plot_phase_diagram(plot.sweep, path, panels=plot.panels, title=plot.title)

        line = write_output(args, "phase diagram", args.plot, draw)
        text += "\n" + line
    return payload, text


def entry_point() -> None:
    """Console-script entry point: ``sys.exit(main())``."""
    sys.exit(main())
