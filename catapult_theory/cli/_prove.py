"""`catapult prove [THEOREM ...] [--model M ...] [--format text|md|json|latex] [--out FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..files import check_output_file, write_atomic
from ._common import EXIT_OUTPUT_FAILED, CLIError, progress, write_output, write_stdout

__all__ = ["add_prove_parser", "prove_cli"]


def add_prove_parser(sub) -> None:
    """The ``prove`` subcommand."""
    p = sub.add_parser(
        "prove", help="run the machine-checked proofs of the study's theorems",
        description="Run the machine-checked proofs (proofs/): every step an identity (simplifies to 0 with "
                    "symbolic sizes), an inequality (a certificate SymPy verifies) or a logical step "
                    "(bookkeeping only), with numeric cross-checks. Exit 0 iff every requested theorem is "
                    "proved, 1 if one fails, 2 for an unknown theorem or model.")
    p.add_argument("theorems", nargs="*", metavar="THEOREM", help="theorem ids (default: all)")
    p.add_argument("--model", nargs="+", metavar="MODEL",
                   help="model families for the generic theorems (linear-onset, weight-norm-identity, "
                        "weight-norm-decrease, ntk-bound); family theorems run only for these families. "
                        "A model may be a .py file defining a SymbolicModel (`model`, or the function named by "
                        "--builder NAME); loading runs the file's own code, as pytest runs a conftest.py")
    p.add_argument("--format", choices=["text", "md", "json", "latex"], default="text",
                   help="text table (default), md or latex certificate, or JSON")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the output here instead of stdout "
                   "(the text table is still printed)")
    p.add_argument("--list", action="store_true", help="list the theorem ids and exit")
    p.set_defaults(handler=None, command="prove")


def prove_cli(args: argparse.Namespace) -> int:
    """Run the proofs; exit 0 iff all proved, 1 if one fails."""
    import proofs

    if args.list:
        for tid in proofs.THEOREM_IDS:
            kind = "generic" if tid in proofs.GENERIC_THEOREMS else "family"
            write_stdout(f"{tid:34s} {kind}\n")
        return 0
    if args.out is not None:
        check_output_file(args.out, "--out")
    todo = proofs.theorems(args.theorems or None, args.model)  # unknown ids: InvalidInput, exit 2
    if not todo:
        raise CLIError("no theorem applies to the given --model")
    results = []
    for th in todo:
        progress(f"proving {th.label} ...")
        results.append(proofs.run_theorem(th))
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 120 + "\r")
    rendered = proofs.render(results, args.format)
    if args.out is not None:
        line = write_output(args, "certificate", args.out, lambda path: write_atomic(path, rendered))
        write_stdout(proofs.render(results, "text").rstrip("\n") + f"\n{line}\n")
        for failure in getattr(args, "output_failures", []):
            sys.stderr.write(f"catapult: error: {failure} (the results above are complete)\n")
            return EXIT_OUTPUT_FAILED
    else:
        write_stdout(rendered if rendered.endswith("\n") else rendered + "\n")
    return 0 if all(r.proved for r in results) else 1
