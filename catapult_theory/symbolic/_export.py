"""Export of a model's derived theory: text, LaTeX, Python source, JSON.

The JSON form is a contract: ``model``, ``update`` (``f``, ``lam``, ``w2``: each a
SymPy-parsable expression string in the contract symbols ``f, lam, w2, eta, y,
n, x2`` plus the model's own scalars), ``thresholds`` (``eta_crit``,
``eta_max``), and further keys (``closed``, ``leftover``, ``lemma``, ``bounds``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from . import _symbols as S
from ._theory import ModelTheory

if TYPE_CHECKING:
    from ._catalog import BoundSpec

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


def _sub(e: sp.Expr, subs: Mapping[sp.Symbol, Any]) -> sp.Expr:
    return sp.simplify(e.subs(subs)) if subs else e


def _bound_specs(th: ModelTheory) -> Mapping[str, BoundSpec]:
    from ._catalog import bounds

    try:
        return bounds(th.model.name)
    except ValueError:
        return {}


def to_json(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> dict[str, Any]:
    """The contract form; ``subs`` fixes model scalars (``{a: 0.5}``)."""
    subs = dict(subs or {})
    names = _leftover_names(th)
    out: dict[str, Any] = {
        "model": th.model.name,
        "description": th.model.description,
        "state": [s.name for s in th.update.state],
        "update": {s.name: sp.sstr(_sub(e, subs)) for s, e in _contract(th).items()},
        "closed": th.update.closed,
        "extra": {s.name: meaning for s, meaning in th.update.extra.items() if s in th.update.uses_extra},
        "leftover": {str(q): th.update.leftover_words[a] for a, q in names.items()},
        "thresholds": {name: sp.sstr(_sub(t.eta, subs)) for name, t in th.thresholds.items()},
        "lemma": {
            "homogeneous_degree_2": th.homogeneous,
            "euler_residual": sp.sstr(th.euler_residual),
            "weight_norm_identity": "w2' - w2 = eta*r*(eta*lam*r - 4*f), r = f - y",
            "weight_norm_identity_residual": sp.sstr(th.weight_norm_residual),
        },
    }
    specs = _bound_specs(th)
    if specs:
        out["bounds"] = {}
        for name, spec in specs.items():
            j = spec.to_json()
            j["K"], j["k_max"] = sp.sstr(_sub(spec.K, subs)), sp.sstr(_sub(spec.k_max, subs))
            out["bounds"][name] = j
    if subs:
        out["fixed"] = {str(k): float(v) for k, v in subs.items()}
    return out


def _fmt_increment(s: sp.Symbol, inc: sp.Expr) -> str:
    body = sp.sstr(inc)
    return f"{s.name}' = {s.name} + {body}" if not body.startswith("-") else f"{s.name}' = {s.name} - {body[1:]}"


def to_text(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> str:
    """A readable summary: the update map, closure, lemma, thresholds and bounds.

    ``subs`` fixes model scalars (``{a: 0.5}``), as in :func:`to_json`.
    """
    subs = dict(subs or {})
    um = th.update
    names = _leftover_names(th)
    fixed = ", ".join(f"{k} = {v}" for k, v in subs.items())
    lines = [f"{th.model.name}: {th.model.description}" + (f" [{fixed}]" if fixed else ""), "",
             "one GD step on 1/2 r^2, r = f - y:"]
    for s, inc in um.increments().items():
        lines.append("  " + _fmt_increment(s, _sub(inc.xreplace(names), subs)))
    state = ", ".join(s.name for s in um.state)
    if um.closed:
        lines.append(f"closed in ({state}): yes")
    else:
        lines.append(f"closed in ({state}): no; it also needs")
        for e in um.uses_extra:
            lines.append(f"  {e} = {um.extra[e]}")
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
            lines.append(f"  {name} = {sp.sstr(_sub(t.eta, subs))}    [{t.reason}: {sp.sstr(t.solved_from)}]")
    specs = _bound_specs(th)
    if specs:
        lines += ["", "bounds on the catapult window (k = eta lam0 < k_max; state symbols at initialisation):"]
        for name, spec in specs.items():
            kind = "rigorous" if spec.rigorous else "NOT rigorous"
            lines.append(f"  {name} ({kind}): lam <= K {spec.norm}, K = {sp.sstr(_sub(spec.K, subs))}; "
                         f"k_max = {sp.sstr(_sub(spec.k_max, subs))}")
            for step in spec.rests_on:
                lines.append(f"      - {step}")
            if spec.note:
                lines.append(f"      note: {spec.note}")
    return "\n".join(lines)


def _latex(e: sp.Expr) -> str:
    return sp.latex(e, symbol_names=_LATEX_NAMES)


def to_latex(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> str:
    """The update map, leftover atoms, thresholds and bounds as LaTeX ``align*`` blocks.

    ``subs`` fixes model scalars (``{a: 0.5}``), as in :func:`to_json`.
    """
    subs = dict(subs or {})
    names = _leftover_names(th)
    rows = []
    for s, inc in th.update.increments().items():
        rows.append(rf"{_latex(s)}' &= {_latex(s)} + {_latex(_sub(inc.xreplace(names), subs))}")
    out = [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]
    if names:
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(rf"{q} &= {th.update.leftover_words[a]}" for a, q in names.items()))
        out.append(r"\end{align*}")
    if th.thresholds:
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(rf"\eta_{{\mathrm{{{n.split('_')[1]}}}}} &= {_latex(_sub(t.eta, subs))}"
                                  for n, t in th.thresholds.items()))
        out.append(r"\end{align*}")
    for name, spec in _bound_specs(th).items():
        out.append(rf"% {name} bound ({'rigorous' if spec.rigorous else 'heuristic'})")
        out.append(rf"$\lambda \le K\,{spec.norm},\quad K = {_latex(_sub(spec.K, subs))},\quad "
                   rf"k_{{\max}}^{{\mathrm{{{name}}}}} = {_latex(_sub(spec.k_max, subs))}$")
    return "\n".join(out)


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident.isidentifier() else "m_" + ident


def to_python(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> str:
    """Python source of the update map and thresholds (NumPy, vectorised)."""
    subs = dict(subs or {})
    printer = NumPyPrinter({"fully_qualified_modules": True})
    contract = {s: _sub(e, subs) for s, e in _contract(th).items()}
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
        teta = _sub(t.eta, subs)
        targs = ", ".join(sorted(str(s) for s in teta.free_symbols))
        lines += ["", "", f"def {name}_{tname}({targs}):", f'    """{t.reason}."""',
                  f"    return {printer.doprint(teta)}"]
    return "\n".join(lines) + "\n"
