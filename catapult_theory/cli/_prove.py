"""`catapult prove [THEOREM ...] [--model M ...] [--format text|md|json|latex] [--out FILE]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._common import CLIError, progress

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
                        "weight-norm-decrease, ntk-bound); family theorems run only for these families")
    p.add_argument("--format", choices=["text", "md", "json", "latex"], default="text",
                   help="text table (default), md or latex certificate, or JSON")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the output here instead of stdout "
                   "(the text table is still printed)")
    p.add_argument("--list", action="store_true", help="list the theorem ids and exit")
    p.set_defaults(handler=None, command="prove")


def _check_out(path: Path) -> None:
    if path.exists() and path.is_dir():
        raise CLIError(f"--out {path} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"--out: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"--out: folder {parent} is not writable")


def prove_cli(args: argparse.Namespace) -> int:
    """Run the proofs; exit 0 iff all proved, 1 if one fails."""
    import proofs

    if args.list:
        for tid in proofs.THEOREM_IDS:
            kind = "generic" if tid in proofs.GENERIC_THEOREMS else "family"
            sys.stdout.write(f"{tid:34s} {kind}\n")
        return 0
    if args.out is not None:
        _check_out(args.out)
    try:
        todo = proofs.theorems(args.theorems or None, args.model)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
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
        from ..report import write_atomic

        write_atomic(args.out, rendered)
        sys.stdout.write(proofs.render(results, "text").rstrip("\n") + f"\ncertificate written to {args.out}\n")
    else:
        sys.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    return 0 if all(r.proved for r in results) else 1
