"""The `catapult` command line.

    catapult derive MODEL [--format text|latex|python|json]
    catapult run MODEL ... [--format text|json]
    catapult phases MODEL ... [--format text|json] [--plot FILE.png]
    catapult prove [THEOREM ...] [--model M ...] [--format text|md|json|latex] [--out FILE]
    catapult reproduce [--out DIR] [--only SECTION ...] [--quick]
    catapult models

Bad input gives one line on stderr and exit code 2; an interrupt exits 130.
"""

from __future__ import annotations

import sys
from typing import Sequence

from ._common import CLIError, Family, Parser, add_format, emit
from ._quadratic import PureQuadraticFamily, QuadraticBiasFamily
from ._two_layer import TwoLayerFamily
from ._uv import UVFamily

__all__ = ["main", "entry_point", "Family", "UVFamily", "PureQuadraticFamily", "QuadraticBiasFamily",
           "TwoLayerFamily"]


def _faces() -> list[Family]:
    """The CLI face of every model family, from the one registry (:mod:`catapult_theory.families`)."""
    from ..families import families

    return [fam.cli_face() for fam in families()]


def _build_parser() -> tuple[Parser, list[Family]]:
    faces = _faces()
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
    for command, help_text in helps.items():
        cp = sub.add_parser(command, help=help_text, description=help_text)
        msub = cp.add_subparsers(dest="model", metavar="MODEL", parser_class=Parser)
        msub.required = True
        for fam in faces:
            if command not in fam.commands():
                continue
            mp = msub.add_parser(fam.name, help=fam.help, description=f"{help_text}: {fam.help}")
            getattr(fam, f"add_{command}_args")(mp)
            add_format(mp, fam.derive_formats if command == "derive" else ("text", "json"))
            mp.set_defaults(handler=getattr(fam, command))
    from ._prove import add_prove_parser

    add_prove_parser(sub)
    rp = sub.add_parser("reproduce", help="regenerate the study's figures into a report folder",
                        description="Run every experiment of the study and write a report folder "
                                    "(report.md, figures, JSON data).")
    rp.add_argument("--out", default="catapult-report", help="report folder (default: ./catapult-report)")
    rp.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")
    rp.add_argument("--quick", action="store_true", help="smaller grids and step budgets (a smoke run)")
    rp.set_defaults(handler=None, command="reproduce")
    sub.add_parser("models", help="list the model families").set_defaults(handler=None, command="models")
    return parser, faces


def main(argv: Sequence[str] | None = None) -> int:
    """Run `catapult` with ``argv``; the exit code: 0 ok, 1 failure, 2 bad input, 130 interrupted."""
    try:
        parser, faces = _build_parser()
        args = parser.parse_args(argv)
        if args.command == "models":
            for fam in faces:
                sys.stdout.write(f"{fam.name:16s} {fam.help}  [{', '.join(fam.commands())}]\n")
            return 0
        if args.command == "prove":
            from ._prove import prove_cli

            return prove_cli(args)
        if args.command == "reproduce":
            from ..report import reproduce_cli

            return reproduce_cli(args)
        payload, text = args.handler(args)
        emit(payload, text, args.format)
        return 0
    except CLIError as exc:
        sys.stderr.write(f"catapult: error: {exc}\n")
        return 2
    except ValueError as exc:  # invalid values caught by the library's own checks
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"catapult: error: {msg}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ncatapult: interrupted\n")
        return 130
    except BrokenPipeError:  # output piped into a closed reader (| head)
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 0


def entry_point() -> None:
    """Console-script entry point: ``sys.exit(main())``."""
    sys.exit(main())
