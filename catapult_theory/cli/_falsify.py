"""`catapult falsify MODEL|FILE --claim EXPR [--assume EXPR ...]`: search for a counterexample.

Exit 0 when none is found (the number of examples tried is printed), 1 with a
counterexample (shrunk, re-checked in exact arithmetic from its drawn
parameters, printed with both sides of the violated relation), 2 for a malformed
claim or assumption (an unknown name is named).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from ._common import add_format, add_max_memory, emit, fmt, nonneg_int, positive_int
from ._model_file import FILE_HELP

__all__ = ["add_falsify_parser", "falsify_cli"]

_DESCRIPTION = (
    "Search for a state of MODEL where the claim EXPR is false. EXPR is a relation over the state "
    "(f, lam, w2, eta, y, r, the model's dimensions n, d, ..., data invariants such as x2 and its own "
    "scalars), the values after one GD step (f_next, lam_next, w2_next), k = eta*lam and outcomes of a "
    "run from the state (converges, diverges, phase, lam_final, steps_to_converge); numbers, "
    "+ - * / **, comparisons, and/or/not, abs, sqrt, log, exp, min, max; phase compares with a quoted "
    "name ('catapult'). States are realisable: real parameters of the model, drawn exactly, and one "
    "real GD step. Assumptions that bound k (or eta*lam), fix or bound y, a dimension or a scalar shape "
    "the generator; the others filter. Exit 0: no counterexample in the examples tried (evidence, not "
    "proof); 1: a counterexample (shrunk, re-checked in exact arithmetic); 2: a malformed claim.")


def add_falsify_parser(sub: Any, models: Sequence[str]) -> None:
    """The ``falsify`` subcommand (``models``: the registered model names)."""
    p = sub.add_parser("falsify", help="search for a counterexample to a claim about one GD step or a run",
                       description=_DESCRIPTION, epilog=FILE_HELP)
    p.add_argument("model", metavar="MODEL|FILE", choices=list(models),
                   help=f"a model family ({', '.join(models)}) or a .py model file")
    p.add_argument("--claim", required=True, metavar="EXPR", help="the claim, e.g. \"w2_next < w2\"")
    p.add_argument("--assume", action="append", default=[], metavar="EXPR",
                   help="an assumption (repeatable), e.g. \"y == 0\", \"eta*lam < 4\", \"f != 0\"")
    p.add_argument("--max-examples", type=positive_int, default=200, metavar="N",
                   help="examples to try (default 200)")
    p.add_argument("--seed", type=nonneg_int, default=0, metavar="S",
                   help="seed of the search (default 0: the same search every time)")
    p.add_argument("--steps", type=positive_int, default=1000, metavar="T",
                   help="step budget of the runs behind run outcomes (default 1000)")
    p.add_argument("--builder", metavar="NAME", help="with a model FILE: the function that builds the model")
    add_max_memory(p)
    add_format(p)
    p.set_defaults(handler=None, command="falsify")


def _num(v: Any) -> Any:
    """A value for JSON: floats finite or ``None``; booleans and strings as they are."""
    if isinstance(v, (bool, str)) or v is None:
        return v
    f = float(v)
    return f if math.isfinite(f) else None


def falsify_cli(args: argparse.Namespace) -> int:
    """Run the search; print the result; exit 0 (none found) or 1 (counterexample)."""
    from ..testing import search

    res = search(args.claim, args.model, args.assume, max_examples=args.max_examples, seed=args.seed,
                 steps=args.steps)
    payload: dict[str, Any] = {
        "model": res.model,
        "claim": res.claim,
        "assume": list(res.assumptions),
        "generated_by": list(res.generated_by),
        "filtered_by": list(res.filtered_by),
        "generator": res.plan.describe(),
        "examples": res.examples,
        "rejected": res.rejected,
        "undefined": res.extra.get("undefined", 0),
        "claim_undefined": res.extra.get("claim_undefined", 0),
        "max_examples": res.max_examples,
        "seed": res.seed,
        "falsified": res.falsified,
        "counterexample": None,
    }
    lines = [f"claim: {res.claim}", f"model: {res.model}"]
    if res.generated_by:
        lines.append(f"assumed (shape the generator): {'; '.join(res.generated_by)}")
    if res.filtered_by:
        lines.append(f"assumed (filter): {'; '.join(res.filtered_by)}")
    g = payload["generator"]["k"]
    lines.append(f"k = eta*lam drawn in {'(' if g['low_strict'] else '['}{fmt(g['low'])}, "
                 f"{fmt(g['high'])}{')' if g['high_strict'] else ']'}")
    if res.counterexample is None:
        skipped = f"{res.rejected} rejected by the assumptions"
        if payload["undefined"]:
            skipped += f", {payload['undefined']} states skipped with lam = 0 or an overflow"
        if payload["claim_undefined"]:
            skipped += f", {payload['claim_undefined']} where the claim has no value"
        lines.append(f"no counterexample in {res.examples} examples ({skipped}); evidence, not proof")
        emit(payload, "\n".join(lines), args.format)
        return 0
    cex, side = res.counterexample, res.side
    assert side is not None
    values = cex.values()
    exact = cex.exact_values()
    state = {k: _num(v) for k, v in values.items()}
    read = res.plan.spec.names
    outcomes = {k: _num(v) for k, v in cex.outcomes().items()} if _reads_outcomes(res.extra.get('reads', ())) else {}
    payload["counterexample"] = {
        "state": state,
        "exact": {k: str(v) for k, v in exact.items() if k in read},
        "outcomes": outcomes,
        "relation": side.relation,
        "lhs_expr": side.lhs_text,
        "rhs_expr": side.rhs_text,
        "lhs": _num(side.lhs),
        "rhs": _num(side.rhs),
        "lhs_exact": side.lhs_exact,
        "rhs_exact": side.rhs_exact,
        "parameters": cex.describe(),
    }
    lines.append(f"COUNTEREXAMPLE after {res.examples} examples (shrunk; re-checked in exact arithmetic from "
                 "the drawn parameters)")
    lines.append(f"  violated: {side.relation}")
    width = max(len(side.lhs_text), len(side.rhs_text or ""))
    lines.append(f"    lhs  {side.lhs_text:<{width}} = {_show(side.lhs)}   exact: {side.lhs_exact}")
    if side.rhs_text is not None:
        lines.append(f"    rhs  {side.rhs_text:<{width}} = {_show(side.rhs)}   exact: {side.rhs_exact}")
    lines.append("  state: " + ", ".join(f"{k} = {fmt(v, 8)}" for k, v in values.items()))
    if outcomes:
        lines.append("  run: " + ", ".join(f"{k} = {fmt(v)}" for k, v in outcomes.items()))
    d = cex.describe()
    drawn = [f"{k} = {v}" for k, v in d["sizes"].items()]
    drawn += [f"{k} = {fmt(v)}" for k, v in d["scalars"].items()]
    drawn += [f"k = {d['k']!r}", f"y = {fmt(d['y'])}"]
    lines.append("  drawn: " + ", ".join(drawn))
    for name, m in d["matrices"].items():
        lines.append(f"    {name} = {m}")
    emit(payload, "\n".join(lines), args.format)
    sys.stdout.flush()
    return 1


def _show(v: Any) -> str:
    """A side of the relation: floats in full (``repr``), so that rounding is visible beside the exact value."""
    return repr(v) if isinstance(v, float) else str(v)


def _reads_outcomes(names: Sequence[str]) -> bool:
    from ..testing import OUTCOMES

    return any(name in OUTCOMES for name in names)
