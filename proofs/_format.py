"""Certificates: the results of a proof run as text, Markdown, JSON or LaTeX.

The Markdown and LaTeX certificates state each theorem once at its top (its
hypotheses H1, H2, ... and its conclusions), give one table of the symbols
it uses (each defined once, with its value when it has one), then every step:
its claim, the local hypotheses it adds, what it uses, how it was proved and
which checkers accepted it. :func:`formula` is the LaTeX of one claim; the
tests parse every formula of a certificate back.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction

from ._kernel import Always, Definition, rsubs, strip
from ._runner import ProofResult
from .axioms import AXIOMS

__all__ = ["FORMATS", "render", "to_text", "to_markdown", "to_json", "to_latex", "formula", "symbol_latex"]

FORMATS = ("text", "md", "json", "latex")

_METHOD = {
    "identity": "identity: the two sides agree once the definitions are substituted",
    "certificate": "certificate: the claim's slack is a combination of facts with multipliers of known sign, "
                   "plus a remainder of known sign",
    "chain": "chain: the claims of the named steps add up to the claim",
    "induction": "induction: the base case and the step from t to t + 1 are checked steps",
    "cases": "cases: an exhaustive split, the claim checked in each case",
    "axiom": "axiom: an instance of a listed axiom, its hypotheses available",
    "iterate": "iterate: a one-step fact about any state, at the t-th GD iterate",
}


def symbol_latex(definitions: Sequence[Definition]) -> dict[str, str]:
    """Symbol (or sequence) name -> its LaTeX."""
    out: dict[str, str] = {}
    for d in definitions:
        name = d.symbol.__name__ if isinstance(d.symbol, UndefinedFunction) else str(d.symbol)
        if d.latex:
            out[name] = d.latex
    return out


def formula(expr: Any, names: Mapping[str, str] | None = None, mul_symbol: str | None = None) -> str:
    """LaTeX of a relation or expression, with the symbols' own LaTeX names and
    sequences written with a subscript (``w_{t + 1}``)."""
    names = dict(names or {})
    if isinstance(expr, Always):  # the quantifier is written in words by the caller (see _math)
        return formula(expr.relation, names, mul_symbol)
    e = strip(expr)
    reps: dict = {}
    symbol_names: dict = {}
    for a in sorted(e.atoms(AppliedUndef), key=sp.default_sort_key):
        fname = a.func.__name__
        base = names.get(fname, fname)
        arg = sp.latex(a.args[0]) if len(a.args) == 1 else ", ".join(sp.latex(x) for x in a.args)
        tex = f"{base}_{{{arg}}}" if "_" not in base else f"{{{base}}}_{{{arg}}}"
        sym = sp.Symbol(f"__seq_{len(reps)}")
        reps[a] = sym
        symbol_names[sym] = tex
    e = rsubs(e, reps) if reps else e
    for s in e.free_symbols:
        if isinstance(s, sp.Symbol) and s.name in names:
            tex = names[s.name]
            symbol_names[s] = tex if not (" " in tex and not tex.startswith("|")) else f"\\left({tex}\\right)"
        elif isinstance(s, sp.Symbol) and s.name.startswith("[") and s.name.endswith("]"):
            symbol_names[s] = s.name
    return sp.latex(e, symbol_names=symbol_names, mul_symbol=mul_symbol)


def _label(r: ProofResult) -> str:
    return r.label


def _rel(c: Any) -> Any:
    return c[0] if isinstance(c, tuple) else c


def to_text(results: Sequence[ProofResult]) -> str:
    """A table: theorem, steps checked / failed, checkers, status, seconds; failed steps named."""
    rows = []
    for r in results:
        z3 = sum("z3" in s.checked_by for s in r.steps)
        smt_able = sum(s.method in ("identity", "certificate", "chain") for s in r.steps)
        rows.append((_label(r), f"{r.checked_steps}/{len(r.steps)}", f"{z3}/{smt_able}", r.status,
                     f"{r.seconds:.2f}"))
    w = max([len("theorem")] + [len(a) for a, *_ in rows])
    lines = [f"{'theorem':{w}s}  {'steps':>7s}  {'z3':>5s}  {'status':8s} {'seconds':>7s}"]
    lines += [f"{a:{w}s}  {b:>7s}  {c:>5s}  {d:8s} {e:>7s}" for a, b, c, d, e in rows]
    for r in results:
        if not r.proved:
            lines.append("")
            lines.append(f"{_label(r)}: NOT PROVED{': ' + r.error if r.error else ''}")
            for s in r.steps:
                if s.status == "failed":
                    lines.append(f"  step {s.name} ({s.method}): {s.detail}")
                    if s.smt.startswith("refuted"):
                        lines.append(f"    SMT: {s.smt}")
                    if s.numeric.startswith("numeric cross-check failed"):
                        lines.append(f"    {s.numeric}")
    proved = sum(r.proved for r in results)
    axioms = sorted({a for r in results for a in r.axioms})
    coq = sum("coq" in s.checked_by for r in results for s in r.steps)
    lines += ["", f"{proved} of {len(results)} proved, {sum(r.seconds for r in results):.1f} s; "
                  "steps: checked by the kernel / of all; z3: identity and inequality steps the SMT solver "
                  "accepted / of those"]
    if axioms:
        lines.append("axioms used: " + ", ".join(axioms))
    if any(s.coq or "coq" in s.checked_by for r in results for s in r.steps) or coq:
        lines.append(f"Coq also checked {coq} conclusions (proofs/coq/)")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _math(expr: Any, names: Mapping[str, str]) -> str:
    if isinstance(expr, Always):
        return f"for all {expr.index} ≥ 0: ${formula(expr.relation, names)}$"
    return f"${formula(expr, names)}$"


def _symbol_rows(r: ProofResult, names: Mapping[str, str]) -> list[str]:
    used: set[str] = set()
    exprs = [_rel(c) for c in r.conclusion] + list(r.hypotheses) + [s.claim for s in r.steps]
    exprs += [h for s in r.steps for h in s.hypotheses]
    for e in exprs:
        rel = e.relation if isinstance(e, Always) else e
        for s in sp.sympify(rel).free_symbols:
            used.add(s.name)
        for a in sp.sympify(rel).atoms(AppliedUndef):
            used.add(a.func.__name__)
    rows = []
    pending = [d for d in r.definitions]
    byname = {(d.symbol.__name__ if isinstance(d.symbol, UndefinedFunction) else str(d.symbol)): d for d in pending}
    # symbols reached through values are listed too
    frontier = list(used)
    while frontier:
        name = frontier.pop()
        d = byname.get(name)
        if d is None or d.value is None:
            continue
        val = d.value.expr if isinstance(d.value, sp.Lambda) else d.value
        for s in sp.sympify(val).free_symbols:
            if s.name not in used:
                used.add(s.name)
                frontier.append(s.name)
    for name, d in byname.items():
        if name not in used:
            continue
        sym = d.latex or name
        if isinstance(d.symbol, UndefinedFunction):
            sym = f"{sym}_{{t}}"
        value = ""
        if d.value is not None:
            val = d.value.expr if isinstance(d.value, sp.Lambda) else d.value
            value = _math(val, names)
        rows.append(f"| ${sym}$ | {_md(d.meaning)} | {value} |")
    return rows


def to_markdown(results: Sequence[ProofResult]) -> str:
    """A readable certificate: a summary table, the axioms, then each theorem."""
    out = ["# Proof certificate", "",
           "Every step below states a claim; the kernel (`proofs/_kernel.py`) checked exactly that claim, "
           "and the SMT solver Z3 checked every identity and inequality step again (column *checked by*). "
           "Symbols denote real numbers; each theorem's symbols are defined once in its table.", "",
           "| theorem | model | status | steps checked | Z3 | axioms | seconds |",
           "|---|---|---|---|---|---|---|"]
    for r in results:
        z3 = sum("z3" in s.checked_by for s in r.steps)
        able = sum(s.method in ("identity", "certificate", "chain") for s in r.steps)
        out.append(f"| `{_label(r)}` | {r.model} | **{r.status}** | {r.checked_steps} of {len(r.steps)} | "
                   f"{z3} of {able} | {', '.join(r.axioms) or 'none'} | {r.seconds:.2f} |")
    used_axioms = sorted({a for r in results for a in r.axioms})
    if used_axioms:
        out += ["", "## Axioms", "", "What the proofs assume, each a textbook fact:", ""]
        for a in used_axioms:
            ax = AXIOMS[a]
            out.append(f"- **{a}**: {_md(ax.statement)} ({_md(ax.reference)}).")
    out += ["", "Methods: " + "; ".join(f"*{k}*: {v.split(': ', 1)[1]}" for k, v in _METHOD.items()) + "."]
    for r in results:
        names = symbol_latex(r.definitions)
        out += ["", f"## `{_label(r)}` — {r.status}", ""]
        if r.statement:
            out += [_md(r.statement), ""]
        if r.error:
            out += [f"**Not proved: {_md(r.error)}**", ""]
        if r.hypotheses:
            out.append("**Hypotheses.** " + "; ".join(f"(H{i}) {_math(h, names)}"
                                                      for i, h in enumerate(r.hypotheses, 1)) + ".")
            out.append("")
        if r.conclusion:
            parts = []
            for i, c in enumerate(r.conclusion, 1):
                extra = ""
                if isinstance(c, tuple) and c[1]:
                    extra = " if " + ", ".join(_math(h, names) for h in c[1])
                parts.append(f"(C{i}) {_math(_rel(c), names)}{extra}")
            out += ["**Conclusion.** " + "; ".join(parts) + ".", ""]
        if r.axioms:
            out += ["**Axioms used.** " + ", ".join(r.axioms) + ".", ""]
        rows = _symbol_rows(r, names)
        if rows:
            out += ["| symbol | meaning | value |", "|---|---|---|", *rows, ""]
        for i, s in enumerate(r.steps, 1):
            hyp = ""
            if s.hypotheses:
                hyp = " Under " + ", ".join(_math(h, names) for h in s.hypotheses) + "."
            uses = f" Uses {', '.join('`' + u + '`' for u in map(_ref, s.uses))}." if s.uses else ""
            out.append(f"{i}. **{_md(s.name)}** ({s.method}, {s.status}): {_math(s.claim, names)}.{hyp}{uses}  ")
            out.append(f"   {_md(s.detail)}. Checked by: {', '.join(s.checked_by) or '—'}.  ")
            if s.coq:
                file, name = s.coq.split()
                out.append(f"   Coq: theorem `{name}` of [proofs/coq/{file}](proofs/coq/{file}).  ")
            if s.note:
                out.append(f"   Note: {_md(s.note)}.  ")
            if s.smt and not s.smt.startswith("proved"):
                out.append(f"   SMT: {_md(s.smt)}.  ")
            if s.numeric:
                out.append(f"   Numeric: {_md(s.numeric)}.")
    return "\n".join(out) + "\n"


def _ref(u: Any) -> str:
    return u.name if hasattr(u, "name") else str(u)


def to_json(results: Sequence[ProofResult]) -> str:
    """A list of ``{"theorem", "model", "status", "axioms", "steps": [{"name", "kind", "status",
    "checked_by", "uses", ...}], ...}``."""
    return json.dumps([r.to_json() for r in results], allow_nan=False)


def _tex(text: str) -> str:
    reps = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(reps.get(c, c) for c in text)


def to_latex(results: Sequence[ProofResult]) -> str:
    """A standalone amsmath document: one section per theorem, one item per step."""
    out = [r"\documentclass{article}", r"\usepackage{amsmath}", r"\usepackage[utf8]{inputenc}",
           r"\begin{document}", r"\section*{Proof certificate}", r"\begin{tabular}{llll}",
           r"theorem & model & steps & status \\ \hline"]
    for r in results:
        out.append(rf"{_tex(_label(r))} & {_tex(r.model)} & {r.checked_steps} & {r.status} \\")
    out.append(r"\end{tabular}")
    for r in results:
        names = symbol_latex(r.definitions)
        out += [rf"\subsection*{{{_tex(_label(r))}: {r.status}}}", _tex(r.statement)]
        if r.hypotheses:
            out += [r"\paragraph{Hypotheses.}", r"\begin{align*}"]
            out += [formula(h, names) + r" \\" for h in r.hypotheses]
            out += [r"\end{align*}"]
        out.append(r"\begin{enumerate}")
        for s in r.steps:
            out.append(rf"\item \textbf{{{_tex(s.name)}}} ({s.method}, {s.status}; "
                       rf"checked by {_tex(', '.join(s.checked_by) or 'none')}).")
            out += [r"\begin{equation*}", formula(s.claim, names), r"\end{equation*}"]
        out.append(r"\end{enumerate}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def render(results: Sequence[ProofResult], fmt: str) -> str:
    """Render in one of :data:`FORMATS`."""
    return {"text": to_text, "md": to_markdown, "json": to_json, "latex": to_latex}[fmt](results)
