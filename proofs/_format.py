"""Certificates: the results of a proof run as text, Markdown, JSON or LaTeX."""

from __future__ import annotations

import json
from typing import Sequence

from ._core import ProofResult

__all__ = ["FORMATS", "render", "to_text", "to_markdown", "to_json", "to_latex"]

FORMATS = ("text", "md", "json", "latex")

_HOW = {"identity": "simplifies to 0 (sizes symbolic)", "inequality": "certificate verified by SymPy",
        "logical": "bookkeeping only (not machine-checked)"}


def _label(r: ProofResult, generic_ids: set[str]) -> str:
    return f"{r.theorem}[{r.model}]" if r.theorem in generic_ids else r.theorem


def _generic() -> set[str]:
    from . import GENERIC_THEOREMS

    return set(GENERIC_THEOREMS)


def to_text(results: Sequence[ProofResult]) -> str:
    """A table: theorem, steps (checked/logical/failed), status, seconds; failed steps named."""
    g = _generic()
    rows = [(_label(r, g), f"{r.checked_steps}+{sum(s.status == 'logical' for s in r.steps)}"
             f"{'' if not r.failed_steps else f' ({len(r.failed_steps)} failed)'}",
             r.status, f"{r.seconds:.2f}") for r in results]
    w = max([len("theorem")] + [len(a) for a, *_ in rows])
    lines = [f"{'theorem':{w}s}  {'steps (checked+logical)':24s} {'status':8s} {'seconds':>7s}"]
    lines += [f"{a:{w}s}  {b:24s} {c:8s} {d:>7s}" for a, b, c, d in rows]
    for r in results:
        if not r.proved:
            lines.append("")
            lines.append(f"{_label(r, g)}: FAILED{': ' + r.error if r.error else ''}")
            for s in r.steps:
                if s.status == "failed":
                    lines.append(f"  step {s.name} ({s.kind}): {s.detail}")
                    if s.numeric:
                        lines.append(f"    {s.numeric}")
    proved = sum(r.proved for r in results)
    lines += ["", f"{proved} of {len(results)} proved, {sum(r.seconds for r in results):.1f} s"]
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(results: Sequence[ProofResult]) -> str:
    """A readable certificate: a table (one row per theorem), then every step."""
    g = _generic()
    out = ["# Proof certificate", "",
           "Step kinds: **identity** (difference simplifies to 0 with the sizes symbolic), "
           "**inequality** (a certificate SymPy verifies: sign, chain of premises, case split), "
           "**logical** (induction / limit / contradiction: hypotheses and uses checked, the argument is "
           "not machine-checked). Identity and inequality steps also carry a numeric cross-check.", "",
           "| theorem | model | steps | status | seconds |", "|---|---|---|---|---|"]
    for r in results:
        out.append(f"| `{_label(r, g)}` | {r.model} | {r.checked_steps} checked, "
                   f"{sum(s.status == 'logical' for s in r.steps)} logical | {r.status} | {r.seconds:.2f} |")
    for r in results:
        out += ["", f"## `{_label(r, g)}` — {r.status}", "", _md_escape(r.statement), ""]
        if r.hypotheses:
            out.append("Hypotheses: " + "; ".join(r.hypotheses) + ".")
            out.append("")
        if r.error:
            out += [f"**{r.error}**", ""]
        for i, s in enumerate(r.steps, 1):
            stmt = f"${s.latex}$" if s.latex else _md_escape(s.statement)
            uses = f" Uses: {', '.join(s.uses)}." if s.uses else ""
            out.append(f"{i}. **{s.name}** ({s.kind}, {s.status}): {stmt}  ")
            out.append(f"   How: {_md_escape(s.how)}. {_md_escape(s.detail)}.{uses}  ")
            if s.numeric:
                out.append(f"   Numeric: {_md_escape(s.numeric)}.")
    return "\n".join(out) + "\n"


def to_json(results: Sequence[ProofResult]) -> str:
    """A list of ``{"theorem", "model", "status", "steps": [{"name", "kind", "status", "uses"}, ...]}``."""
    return json.dumps([r.to_json() for r in results], allow_nan=False)


def _tex(text: str) -> str:
    reps = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(reps.get(c, c) for c in text)


def to_latex(results: Sequence[ProofResult]) -> str:
    """A standalone amsmath document: one section per theorem, one item per step."""
    g = _generic()
    out = [r"\documentclass{article}", r"\usepackage{amsmath}", r"\usepackage[utf8]{inputenc}",
           r"\begin{document}", r"\section*{Proof certificate}", r"\begin{tabular}{llll}",
           r"theorem & model & steps & status \\ \hline"]
    for r in results:
        out.append(rf"{_tex(_label(r, g))} & {_tex(r.model)} & {r.checked_steps} & {r.status} \\")
    out.append(r"\end{tabular}")
    for r in results:
        out += [rf"\subsection*{{{_tex(_label(r, g))}: {r.status}}}", _tex(r.statement), r"\begin{enumerate}"]
        for s in r.steps:
            out.append(rf"\item \textbf{{{_tex(s.name)}}} ({s.kind}, {s.status}): {_tex(s.how)}.")
            if s.latex:
                out += [r"\begin{equation*}", s.latex, r"\end{equation*}"]
            else:
                out.append(_tex(s.statement))
            if s.uses:
                out.append(r"Uses: " + _tex(", ".join(s.uses)) + ".")
        out.append(r"\end{enumerate}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def render(results: Sequence[ProofResult], fmt: str) -> str:
    """Render in one of :data:`FORMATS`."""
    return {"text": to_text, "md": to_markdown, "json": to_json, "latex": to_latex}[fmt](results)
