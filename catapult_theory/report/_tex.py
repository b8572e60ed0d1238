"""Formulas of the report as LaTeX, always from expressions the package derived or proved.

:func:`tex` writes a SymPy expression or relation with the report's symbol names
(``lam`` as λ, ``x2`` as x₂, ...); :func:`theorem_statement` gives the conclusions of
a theorem of ``catapult prove`` (the proof objects of :mod:`proofs`, never retyped),
each with the conditions it holds under; :func:`derived_maps` the symbolic layer's
Markdown export of a model (formulas as inline LaTeX). report.html typesets every
``$...$`` as MathML (:mod:`._html`).
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy as sp  # type: ignore[import-untyped]
from sympy.core.function import AppliedUndef  # type: ignore[import-untyped]

__all__ = ["NAMES", "tex", "m", "theorem_statement", "TheoremText", "derived_maps", "plain"]

#: LaTeX of the symbols the report's own expressions use
NAMES: dict[str, str] = {
    "lam": r"\lambda", "lam0": r"\lambda_{0}", "eta": r"\eta", "eta_max": r"\eta_{\max}",
    "eta_crit": r"\eta_{\mathrm{crit}}", "x2": r"x_{2}", "w2": r"w_{2}", "w2_0": r"w_{2,0}", "f0": r"f_{0}",
    "r0": r"r_{0}", "mu": r"\mu", "zeta": r"\zeta", "theta": r"\theta", "epsilon": r"\varepsilon",
    "k_div": r"k_{\mathrm{div}}", "s0": r"s_{0}", "s_star": r"s^{*}", "kappa": r"\kappa", "mu1": r"\mu_{1}",
    "mu2": r"\mu_{2}", "lam_d1": r"\lambda", "N_A_d1": r"N_{A}",
}


def tex(expr: Any, names: Mapping[str, str] | None = None) -> str:
    """LaTeX of ``expr`` (an expression or a relation); ``names`` (symbol name -> LaTeX)
    extend :data:`NAMES`; a sequence ``f_seq(t)`` is written ``f_{t}``."""
    table = {**NAMES, **dict(names or {})}
    e = sp.sympify(expr)
    reps: dict[Any, sp.Symbol] = {}
    symbol_names: dict[sp.Symbol, str] = {}
    for a in sorted(e.atoms(AppliedUndef), key=sp.default_sort_key):
        if not a.func.__name__.endswith("_seq"):
            continue
        base = table.get(a.func.__name__, a.func.__name__.removesuffix("_seq"))
        sym = sp.Symbol(f"__seq_{len(reps)}")
        reps[a] = sym
        symbol_names[sym] = f"{{{base}}}_{{{sp.latex(a.args[0])}}}"
    if reps:
        e = e.xreplace(reps)
    for s in e.free_symbols:
        if isinstance(s, sp.Symbol) and s.name in table:
            t = table[s.name]
            symbol_names[s] = t if " " not in t or t.startswith("|") else rf"\left({t}\right)"
    return str(sp.latex(e, symbol_names=symbol_names))


def m(expr: Any, names: Mapping[str, str] | None = None) -> str:
    """``expr`` as an inline formula ``$...$``."""
    return f"${tex(expr, names)}$"


class TheoremText:
    """A theorem of ``catapult prove`` for the report: its id, its title (the proof's own
    words), its conclusions as LaTeX with their conditions, and the proof object itself."""

    def __init__(self, tid: str, title: str, conclusions: list[tuple[str, list[str]]], theorem: Any):
        self.id, self.title, self.conclusions, self.theorem = tid, title, conclusions, theorem

    def bullets(self, pick: Any = None) -> list[str]:
        """Markdown bullets of the conclusions (all, or the indices in ``pick``)."""
        idx = range(len(self.conclusions)) if pick is None else pick
        out = []
        for i in idx:
            claim, conds = self.conclusions[i]
            out.append(f"- (C{i + 1}) ${claim}$" + (" if " + ", ".join(conds) if conds else ""))
        return out


def theorem_statement(tid: str) -> TheoremText:
    """The conclusions of theorem ``tid`` from its proof object (symbols named as the proof names them)."""
    import proofs

    th = proofs.theorems([tid])[0].build()
    names: dict[str, str] = {}
    for d in th.definitions:
        name = getattr(d.symbol, "__name__", None) or str(d.symbol)
        if d.latex:
            names[name] = d.latex
    out = []
    for c in th.conclusion:
        rel, conds = (c[0], c[1]) if isinstance(c, tuple) else (c, ())
        texts = []
        for h in conds:
            if isinstance(h, sp.Eq) and h.lhs == sp.Symbol("r"):
                continue  # r = f - y: the residual's definition, stated once in the text
            inner = getattr(h, "relation", None)
            body = f"${tex(inner if inner is not None else h, names)}$"
            texts.append(f"{body} for all $t \\ge 0$" if inner is not None else body)
        out.append((tex(rel, names), texts))
    return TheoremText(tid, th.title, out, th)


def plain(text: str) -> str:
    """Text from another layer (a bound's argument, a theorem's title) safe in Markdown:
    SymPy's ``**`` as ``^``, ``*`` and ``_`` escaped (shown as themselves), so none becomes
    emphasis."""
    return text.replace("**", "^").replace("*", "\\*").replace("_", "\\_")


def derived_maps(markdown: str, level: int = 4) -> str:
    """The symbolic layer's Markdown export of a model without its title line and without
    its table of window values (the report lists every value with its status where it is
    measured), its headings at ``level``."""
    lines = markdown.splitlines()
    if lines and lines[0].startswith("## "):
        lines = lines[1:]
    cut = next((i for i, ln in enumerate(lines) if ln.startswith("Bounds on the catapult window")), len(lines))
    lines = lines[:cut]
    return "\n".join(("#" * level + " " + ln.lstrip("#").strip()) if ln.startswith("#") else ln
                     for ln in lines).strip()
