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
        "prove", help="run the machine-checked proofs, or check a proof of your own",
        description="Run the machine-checked proofs (proofs/): one kernel checks exactly the claim each step "
                    "prints (an identity, a certificate, a chain, an induction, a case split, an axiom instance "
                    "or a one-step fact at a GD iterate) and the SMT solver Z3 checks every identity and "
                    "inequality again; what stays assumed is a short list of named axioms. A THEOREM ending in "
                    ".py is a proof of your own: a Python file that defines `theorem = proofs.Theorem(...)`. "
                    "Exit 0 iff every requested theorem is proved, 1 if one is not (naming the failing step, "
                    "with the solver's countermodel when there is one), 2 for an unknown theorem or model or a "
                    "malformed proof file.")
    p.add_argument("theorems", nargs="*", metavar="THEOREM", help="theorem ids, or proof files (*.py); "
                   "default: every theorem")
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


def _is_proof_file(arg: str) -> bool:
    return arg.endswith(".py")


def prove_cli(args: argparse.Namespace) -> int:
    """Run the proofs; exit 0 iff all proved, 1 if one is not."""
    import proofs

    if args.list:
        for tid in proofs.THEOREM_IDS:
            kind = "generic" if tid in proofs.GENERIC_THEOREMS else "family"
            write_stdout(f"{tid:34s} {kind}\n")
        return 0
    if args.out is not None:
        check_output_file(args.out, "--out")
    files = [a for a in args.theorems if _is_proof_file(a)]
    ids = [a for a in args.theorems if not _is_proof_file(a)]
    mine = [proofs.load_proof_file(f) for f in files]  # malformed: InvalidInput, exit 2
    todo = proofs.theorems(ids or None, args.model) if ids or not files else []  # unknown ids: exit 2
    if not todo and not mine:
        raise CLIError("no theorem applies to the given --model")
    results = []
    for th in todo:
        progress(f"proving {th.label} ...")
        results.append(proofs.run_theorem(th))
    for own in mine:
        progress(f"checking {own.id} ...")
        results.append(proofs.run_theorem(own))
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
    if args.format == "text" and any(r.theorem.startswith("catapult-window") for r in results):
        write_stdout(proofs.coq_status() + "\n")
    return 0 if all(r.proved for r in results) else 1
