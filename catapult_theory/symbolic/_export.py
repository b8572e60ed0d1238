"""Export of a model's derived theory: text, LaTeX, Python source, JSON.

The JSON form is a contract: ``model``, ``update`` (``f``, ``lam``, ``w2``: each a
SymPy-parsable expression string in the contract symbols ``f, lam, w2, eta, y,
n, x2`` plus the model's own scalars), ``thresholds`` (``eta_crit``,
``eta_max``), and further keys (``closed``, ``leftover``, ``lemma``, ``bounds``).
"""

from __future__ import annotations

import re
from typing import Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from . import _symbols as S
from ._theory import ModelTheory

__all__ = ["to_json", "to_text", "to_latex", "to_python", "FORMATS"]

FORMATS = ("text", "latex", "python", "json")

_LATEX_NAMES = {S.lam: r"\lambda", S.w2: r"w_2", S.eta: r"\eta", S.x2: r"x_2"}


def _leftover_names(th: ModelTheory) -> dict[sp.Symbol, sp.Symbol]:
    """Plain identifiers for leftover atoms (``q1, q2, …``), in a stable order."""
    atoms = sorted({a for v in th.update.leftover.values() for a in v}, key=lambda a: a.name)
    return {a: sp.Symbol(f"q{i + 1}") for i, a in enumerate(atoms)}


def _contract(th: ModelTheory) -> dict[sp.Symbol, sp.Expr]:
    names = _leftover_names(th)
    return {s: e.xreplace(names) for s, e in th.update.contract().items()}


def to_json(th: ModelTheory) -> dict[str, Any]:
    names = _leftover_names(th)
    out: dict[str, Any] = {
        "model": th.model.name,
        "description": th.model.description,
        "state": [s.name for s in th.update.state],
        "update": {s.name: sp.sstr(e) for s, e in _contract(th).items()},
        "closed": th.update.closed,
        "leftover": {str(q): th.update.leftover_words[a] for a, q in names.items()},
        "thresholds": {name: sp.sstr(t.eta) for name, t in th.thresholds.items()},
        "lemma": {
            "homogeneous_degree_2": th.homogeneous,
            "euler_residual": sp.sstr(th.euler_residual),
            "weight_norm_identity": "w2' - w2 = eta*r*(eta*lam*r - 4*f), r = f - y",
            "weight_norm_identity_residual": sp.sstr(th.weight_norm_residual),
        },
    }
    if th.K is not None:
        out["bounds"] = {"K": sp.sstr(th.K), "k_max": sp.sstr(th.window)}
    return out


def _fmt_increment(s: sp.Symbol, inc: sp.Expr) -> str:
    body = sp.sstr(inc)
    return f"{s.name}' = {s.name} + {body}" if not body.startswith("-") else f"{s.name}' = {s.name} - {body[1:]}"


def to_text(th: ModelTheory) -> str:
    um = th.update
    names = _leftover_names(th)
    lines = [f"{th.model.name}: {th.model.description}", "", "one GD step on 1/2 r^2, r = f - y:"]
    for s, inc in um.increments().items():
        lines.append("  " + _fmt_increment(s, inc.xreplace(names)))
    state = ", ".join(s.name for s in um.state)
    if um.closed:
        lines.append(f"closed in ({state}): yes")
    else:
        lines.append(f"closed in ({state}): no; leftover terms:")
        for a, q in names.items():
            lines.append(f"  {q} = {um.leftover_words[a]}")
    lines += [
        "",
        f"degree-2 homogeneous: {'yes' if th.homogeneous else 'no'}"
        f" (theta.grad f - 2f = {sp.sstr(th.euler_residual)})",
        "weight-norm identity w2' - w2 = eta r (eta lam r - 4 f): "
        + ("holds" if th.weight_norm_residual == 0 else f"fails by {sp.sstr(th.weight_norm_residual)}"),
    ]
    if th.thresholds:
        lines.append("")
        lines.append("thresholds:")
        for name, t in th.thresholds.items():
            lines.append(f"  {name} = {sp.sstr(t.eta)}    [{t.reason}: {sp.sstr(t.solved_from)}]")
    if th.K is not None:
        lines += ["", f"lam <= K w2 with K = {sp.sstr(th.K)} (from Psi^3 = K Psi)",
                  f"proven catapult window (y = 0): 2 < k < {sp.sstr(th.window)}  (state at initialisation)"]
    return "\n".join(lines)


def _latex(e: sp.Expr) -> str:
    return sp.latex(e, symbol_names=_LATEX_NAMES)


def to_latex(th: ModelTheory) -> str:
    names = _leftover_names(th)
    rows = []
    for s, inc in th.update.increments().items():
        rows.append(rf"{_latex(s)}' &= {_latex(s)} + {_latex(inc.xreplace(names))}")
    out = [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]
    if names:
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(rf"{q} &= {th.update.leftover_words[a]}" for a, q in names.items()))
        out.append(r"\end{align*}")
    if th.thresholds:
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(rf"\eta_{{\mathrm{{{n.split('_')[1]}}}}} &= {_latex(t.eta)}"
                                  for n, t in th.thresholds.items()))
        out.append(r"\end{align*}")
    if th.K is not None:
        out.append(rf"$\lambda \le K w_2,\quad K = {_latex(th.K)},\quad k_{{\max}} = {_latex(th.window)}$")
    return "\n".join(out)


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident.isidentifier() else "m_" + ident


def to_python(th: ModelTheory) -> str:
    """Python source of the update map and thresholds (NumPy, vectorised)."""
    printer = NumPyPrinter({"fully_qualified_modules": True})
    contract = _contract(th)
    state = [s.name for s in th.update.state]
    free = set().union(*(e.free_symbols for e in contract.values())) - set(th.update.state)
    params = ["eta", "y"] + sorted(str(s) for s in free if s.name not in ("eta", "y"))
    args = ", ".join(state + params)
    name = _identifier(th.model.name)
    lines = [
        f'"""Derived by catapult_theory: one GD step of the {th.model.name} model (r = f - y)."""',
        "import numpy",
        "",
        "",
        f"def {name}_step({args}):",
        f'    """Next ({", ".join(state)}) after one GD step on 1/2 (f - y)^2."""',
    ]
    for s, e in contract.items():
        lines.append(f"    {s.name}_next = {printer.doprint(e)}")
    lines.append(f"    return {', '.join(s + '_next' for s in state)}")
    for tname, t in th.thresholds.items():
        targs = ", ".join(sorted(str(s) for s in t.eta.free_symbols))
        lines += ["", "", f"def {name}_{tname}({targs}):", f'    """{t.reason}."""',
                  f"    return {printer.doprint(t.eta)}"]
    return "\n".join(lines) + "\n"
