"""Export of a model's derived theory: text, LaTeX, Markdown, Python source, JSON.

The JSON form is a contract: ``model``, ``update`` (``f``, ``lam``, ``w2``: each a
SymPy-parsable expression string in the contract symbols ``f, lam, w2, eta, y,
n, x2`` plus the model's own scalars), ``thresholds`` (``eta_crit``,
``eta_max``), and further keys (``closed``, ``leftover``, ``lemma`` with the
homogeneity degree and the form of the weight-norm lemma that applies,
``K`` and ``window`` when an operator relation ``Ψ³ = KΨ`` exists, ``bounds``).

The LaTeX (amsmath ``align*`` blocks) and the Markdown (tables with inline
LaTeX) write products with ``\\cdot`` and every symbol as one unambiguous
token, so that SymPy's LaTeX parser reads each formula back to the same
expression. The Python form is a standalone module that needs only NumPy.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from . import _symbols as S
from ._derive import LEMMA_CONSTANT, Derivation, lemma_increment
from ._names import model_symbols, symbol_latex
from ._theory import ModelTheory

if TYPE_CHECKING:
    from ._catalog import BoundSpec

__all__ = [
    "FORMATS",
    "bound_latex",
    "derivation_latex_rows",
    "homogeneity_degree",
    "latex_rows",
    "lemma_form",
    "to_json",
    "to_latex",
    "to_markdown",
    "to_python",
    "to_text",
]

FORMATS = ("text", "latex", "python", "json", "markdown")

def _taken(th: ModelTheory) -> set[str]:
    """Names an exported symbol must not take: the model's own, the contract's, ``r``, and
    the Python export's module and helper names."""
    scalars, matrices = model_symbols(th.model)
    return ({s.name for s in scalars} | {m.name for m in matrices} | set(S.CONTRACT) | {"r", "E", "K", "numpy"})


def _fresh(base: str, taken: set[str]) -> sp.Symbol:
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}{i}" if not base[-1].isdigit() else f"{base}_{i}"
    taken.add(name)
    return sp.Symbol(name)


def _atom_names(th: ModelTheory) -> dict[sp.Symbol, sp.Symbol]:
    """Plain identifiers for the word-algebra atoms an export writes: the leftover atoms
    ``q1, q2, …`` and the data invariants the model did not alias (``xᵀ x`` -> ``xTx``),
    none taking a name the model or the contract uses; in a stable order."""
    A = th.derivation.algebra
    taken = _taken(th)
    leftover = sorted({a for v in th.update.leftover.values() for a in v}, key=lambda a: a.name)
    out = {a: _fresh(f"q{i + 1}", taken) for i, a in enumerate(leftover)}
    exprs = [*th.update.contract().values(), *(t.eta for t in th.thresholds.values()),
             *(e for e in (th.K, th.window) if e is not None)]
    atoms = sorted({a for e in exprs for a in A.atoms_of(e)} - set(out), key=lambda a: a.name)
    for a in atoms:
        kind, word = A.atom_word(a) or ("", ())
        base = "".join(f.name + ("T" if f.transposed else "") for f in word)
        base = ("tr" if kind == "trace" else "") + (base if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", base) else "c")
        out[a] = _fresh(base, taken)
    return out


def _leftover_names(th: ModelTheory) -> dict[sp.Symbol, sp.Symbol]:
    """The leftover atoms' names (of :func:`_atom_names`)."""
    names = _atom_names(th)
    return {a: names[a] for a in sorted({a for v in th.update.leftover.values() for a in v}, key=lambda a: a.name)}


def _data_names(th: ModelTheory) -> dict[sp.Symbol, sp.Symbol]:
    """The named data invariants the model did not alias (of :func:`_atom_names`)."""
    leftover = _leftover_names(th)
    return {a: q for a, q in _atom_names(th).items() if a not in leftover}


def _contract(th: ModelTheory) -> dict[sp.Symbol, sp.Expr]:
    names = _atom_names(th)
    return {s: e.xreplace(names) for s, e in th.update.contract().items()}


def _sub(e: sp.Expr, subs: Mapping[sp.Symbol, Any]) -> sp.Expr:
    return sp.simplify(e.subs(subs)) if subs else e


def _out(th: ModelTheory, e: sp.Expr, subs: Mapping[sp.Symbol, Any]) -> sp.Expr:
    """``e`` as exported: atoms by their plain names (:func:`_atom_names`), ``subs`` applied."""
    return _sub(sp.sympify(e).xreplace(_atom_names(th)), subs)


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
    lemma = lemma_form(th)
    out: dict[str, Any] = {
        "model": th.model.name,
        "description": th.model.description,
        "state": [s.name for s in th.update.state],
        "update": {s.name: sp.sstr(_sub(e, subs)) for s, e in _contract(th).items()},
        "closed": th.update.closed,
        "extra": {s.name: meaning for s, meaning in th.update.extra.items() if s in th.update.uses_extra},
        "leftover": {str(q): th.update.leftover_words[a] for a, q in names.items()},
        "data_invariants": {str(q): th.derivation.algebra.words_with(a) for a, q in _data_names(th).items()},
        "thresholds": {name: sp.sstr(_out(th, t.eta, subs)) for name, t in th.thresholds.items()},
        "lemma": {
            "homogeneous_degree_2": th.homogeneous,
            "euler_residual": sp.sstr(th.euler_residual),
            "weight_norm_identity": f"w2' - w2 = {sp.sstr(lemma_increment())}, r = f - y",
            "weight_norm_identity_residual": sp.sstr(th.weight_norm_residual),
            "homogeneity_degree": lemma["degree"],
            "form": lemma["form"],
            "applies": lemma["applies"],
        },
        "K": sp.sstr(_out(th, th.K, subs)) if th.K is not None else None,
        "window": sp.sstr(_out(th, th.window, subs)) if th.window is not None else None,
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
        lines.append("  " + _fmt_increment(s, _out(th, inc, subs)))
    state = ", ".join(s.name for s in um.state)
    if um.closed:
        lines.append(f"closed in ({state}): yes")
    else:
        lines.append(f"closed in ({state}): no; it also needs")
        for e in um.uses_extra:
            lines.append(f"  {e} = {um.extra[e]}")
        for a, q in names.items():
            lines.append(f"  {q} = {um.leftover_words[a]}")
    data = _data_names(th)
    if data:
        lines.append("data invariants: " + ", ".join(f"{q} = {th.derivation.algebra.words_with(a)}"
                                                     for a, q in data.items()))
    deg = homogeneity_degree(th)
    lemma = lemma_form(th)
    lines += [
        "",
        (f"degree-2 homogeneous: {'yes' if th.homogeneous else 'no'}"
         f" (theta.grad f - 2f = {sp.sstr(th.euler_residual)})"),
        f"homogeneity degree: {deg if deg is not None else 'not homogeneous'}",
        f"weight-norm identity w2' - w2 = {sp.sstr(lemma_increment()).replace('*', ' ')}: "
        + ("holds" if th.weight_norm_residual == 0 else f"fails by {sp.sstr(th.weight_norm_residual)}"),
        f"weight-norm lemma: {lemma['form']}  [{lemma['why']}]",
    ]
    if th.K is not None:
        lines.append(f"operator relation Psi^3 = K Psi: K = {sp.sstr(_out(th, th.K, subs))}, so lam <= K w2")
        if th.window is not None:
            lines.append(f"catapult window: {_edge(th)} < k = eta lam0 < {sp.sstr(_out(th, th.window, subs))}"
                         " (state symbols at initialisation)")
    if th.thresholds:
        lines.append("")
        lines.append("thresholds:")
        for name, t in th.thresholds.items():
            lines.append(f"  {name} = {sp.sstr(_out(th, t.eta, subs))}    [{t.reason}: {sp.sstr(t.solved_from)}]")
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


def _latex(e: sp.Expr, atoms: Mapping[sp.Symbol, str] | None = None) -> str:
    """LaTeX of ``e``: products with ``\\cdot``, symbols as :func:`symbol_latex` tokens,
    word-algebra atoms (``atoms``) as their words."""
    e = sp.sympify(e)
    names = {sym: (atoms[sym] if atoms and sym in atoms else symbol_latex(sym)) for sym in e.free_symbols}
    return sp.latex(e, symbol_names=names, mul_symbol="dot")


def _atom_latex(th: ModelTheory) -> dict[sp.Symbol, str]:
    """Every atom of the model's word algebra as the LaTeX of its word, in brackets."""
    A = th.derivation.algebra
    return {a: rf"\left[{A.atom_latex(a)}\right]" for a in list(A._atom_words)}


def homogeneity_degree(th: ModelTheory) -> int | None:
    """The degree ``p`` with ``f(cθ) = c^p f(θ)``, or ``None`` when ``f`` is not homogeneous
    (:meth:`.Derivation.homogeneity_degree`)."""
    return th.derivation.homogeneity_degree()


def lemma_form(th: ModelTheory) -> dict[str, Any]:
    """Which form of the weight-norm lemma the derivation proves for this model.

    ``applies`` is true when the degree-2 lemma ``Δw2 = η r (η lam r − 4 f)`` holds
    (degree-2 homogeneous: Euler ``θ·∇f = 2f``); a degree-``p`` model has
    ``Δw2 = η r (η lam r − 2p f)`` (checked); otherwise the lemma does not apply and
    the Euler residual ``θ·∇f − 2f`` enters ``Δw2``.
    """
    der = th.derivation
    deg = homogeneity_degree(th)
    if th.weight_norm_residual == 0:
        return {"applies": True, "degree": deg, "constant": LEMMA_CONSTANT,
                "form": f"w2' - w2 = {sp.sstr(lemma_increment())}",
                "why": "degree-2 homogeneous: Euler theta.grad f = 2 f"}
    if deg is not None:
        residual = sp.simplify(der.named(sp.expand(der.weight_norm_change() - lemma_increment(der.lam, der.f, 2 * deg))))
        if residual == 0:
            return {"applies": False, "degree": deg, "constant": 2 * deg,
                    "form": f"w2' - w2 = {sp.sstr(lemma_increment(constant=2 * deg))}",
                    "why": f"degree-{deg} homogeneous: Euler theta.grad f = {deg} f (the degree-2 lemma does not apply)"}
    words = th.derivation.algebra.words_with_expr(th.euler_residual)
    return {"applies": False, "degree": deg, "constant": None,
            "form": f"w2' - w2 = eta*r*(eta*lam*r - 4*f) - 2*eta*r*E, E = theta.grad f - 2 f = {words}",
            "why": "not homogeneous: Euler's identity fails, the lemma does not apply"}


def _plus(tex: str) -> str:
    """`` + tex``, or `` - rest`` when ``tex`` is a negative term."""
    return " - " + tex[2:] if tex.startswith("- ") else " + " + tex


def _rows(rows: list[str]) -> list[str]:
    return [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]


def _threshold_tex(name: str) -> str:
    return rf"\eta_{{\mathrm{{{name.split('_')[1]}}}}}"


def latex_rows(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> dict[str, list[str]]:
    """The formulas of :func:`to_latex`, one amsmath ``align*`` row (``lhs &= rhs``) each, by part:
    ``update`` (the one-step map), ``named`` (the invariants and leftover atoms the map needs),
    ``lemma`` (``Δw2`` in the form that applies, and the Euler residual when none does),
    ``thresholds`` and ``window`` (``K`` and ``k_max``, when the model has ``Ψ³ = KΨ``).
    Every right-hand side is readable by SymPy's LaTeX parser. The documentation's theory page
    and the notebook view of a theory print these rows: no formula is typed twice.

    ``subs`` fixes model scalars (``{a: 0.5}``), as in :func:`to_json`.
    """
    subs = dict(subs or {})
    names = _leftover_names(th)
    atoms = _atom_latex(th)
    out: dict[str, list[str]] = {}
    out["update"] = [rf"{_latex(s)}' &= {_latex(s)}{_plus(_latex(_out(th, inc, subs)))}"
                     for s, inc in th.update.increments().items()]
    out["named"] = ([rf"{_latex(e)} &= {_latex(sp.sympify(expr), atoms)}" for e, expr in _extra_exprs(th).items()]
                    + [rf"{_latex(q)} &= {th.derivation.algebra.atom_latex(a)}"
                       for a, q in {**names, **_data_names(th)}.items()])
    lemma = lemma_form(th)
    out["lemma"] = [rf"w_{{2}}' - w_{{2}} &= {_latex(_lemma_tex(th, lemma))}"]
    if lemma["constant"] is None:
        out["lemma"].append(rf"E &= {_latex(th.euler_residual, atoms)}")
    out["thresholds"] = [rf"{_threshold_tex(n)} &= {_latex(_out(th, t.eta, subs))}" for n, t in th.thresholds.items()]
    out["window"] = []
    if th.K is not None:
        out["window"].append(rf"K &= {_latex(_out(th, th.K, subs))}")
        if th.window is not None:
            out["window"].append(rf"k_{{\max}} &= {_latex(_out(th, th.window, subs))}")
    return out


def to_latex(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> str:
    """The update map, leftover atoms, lemma, thresholds, ``K``/window and bounds as
    amsmath ``align*`` blocks (balanced; every formula readable by SymPy's LaTeX parser;
    the rows of :func:`latex_rows`).

    ``subs`` fixes model scalars (``{a: 0.5}``), as in :func:`to_json`.
    """
    subs = dict(subs or {})
    rows = latex_rows(th, subs)
    out = [rf"% {th.model.name}: {th.model.description}".rstrip(), *_rows(rows["update"])]
    if rows["named"]:
        out.append("% the map also needs" if not th.update.closed else "% named invariants")
        out += _rows(rows["named"])
    lemma = lemma_form(th)
    deg = homogeneity_degree(th)
    out.append(f"% homogeneity degree: {deg if deg is not None else 'not homogeneous'}; "
               f"weight-norm lemma: {lemma['why']}")
    out += _rows(rows["lemma"])
    if rows["thresholds"]:
        out += _rows(rows["thresholds"])
    if rows["window"]:
        out.append(r"% operator relation \Psi^3 = K \Psi, so \lambda \le K w_2; catapult window "
                   + f"{_edge(th)} < k < k_max")
        out += _rows(rows["window"])
    for name, spec in _bound_specs(th).items():
        out.append(rf"% {name} bound ({'rigorous' if spec.rigorous else 'heuristic'})")
        out.append(bound_latex(spec, subs, inline=True))
    return "\n".join(out) + "\n"


def bound_latex(spec: BoundSpec, subs: Mapping[sp.Symbol, Any] | None = None, inline: bool = False) -> str:
    """A bound's NTK inequality, its ``K`` and the window end ``k_max`` it implies, as LaTeX:
    one inline formula (``inline``, as :func:`to_latex` writes it) or three ``align*`` rows."""
    subs = dict(subs or {})
    K, k_max = _latex(_sub(spec.K, subs)), _latex(_sub(spec.k_max, subs))
    if inline:
        return (rf"$\lambda \le K\,{_norm_tex(spec.norm)},\quad K = {K},\quad "
                rf"k_{{\max}}^{{\mathrm{{{spec.name}}}}} = {k_max}$")
    return " \\\\\n".join([rf"\lambda &\le K\,{_norm_tex(spec.norm)}", rf"K &= {K}",
                              rf"k_{{\max}}^{{\mathrm{{{spec.name}}}}} &= {k_max}"])


def derivation_latex_rows(der: Derivation) -> list[str]:
    """What a :class:`~catapult_theory.symbolic.Derivation` has derived before any closure,
    as amsmath ``align*`` rows: the output ``f`` of one datum, ``lam = |∇f|²`` and
    ``w2 = |θ|²`` in the word algebra's atoms (each atom written as its word in brackets),
    and the GD step ``θ' = θ − η r ∇_θ f`` of every parameter block."""
    A = der.algebra
    atoms = {a: rf"\left[{A.atom_latex(a)}\right]" for a in list(A._atom_words)}
    rows = [rf"f &= {_latex(der.named(der.f), atoms)}",
            rf"\lambda &= {_latex(der.named(der.lam), atoms)}",
            rf"w_{{2}} &= {_latex(der.named(der.w2), atoms)}"]
    for p, g in der.grads.items():
        name = sp.latex(sp.Symbol(p.name))
        rows.append(rf"{name}' &= {name} - \eta \cdot r \cdot \left({_matpoly_latex(der, g)}\right)")
    return rows


def _matpoly_latex(der: Derivation, p: Any) -> str:
    """A matrix polynomial ``Σ coeff · word`` as LaTeX (words as products of their factors)."""
    if p.is_zero:
        return "0"
    terms = []
    for word, coeff in sorted(p.terms.items(), key=lambda t: [str(f) for f in t[0]]):
        body = " ".join(f.latex() for f in word) or "I"
        c = sp.sympify(der.named(coeff))
        terms.append(body if c == 1 else rf"{_latex(c)} \cdot {body}" if c.is_Atom or c.is_Pow or c.is_Mul
                     else rf"\left({_latex(c)}\right) {body}")
    return " + ".join(terms)


def _edge(th: ModelTheory) -> sp.Expr:
    """The lower end of the catapult window in ``k = eta lam0``: the derived linear stability
    edge ``eta_crit * lam``."""
    return sp.simplify(th.thresholds["eta_crit"].eta * S.lam)


def _norm_tex(norm: str) -> str:
    return {"w2": "w_{2}"}.get(norm, norm)


def _lemma_tex(th: ModelTheory, lemma: Mapping[str, Any]) -> sp.Expr:
    """``Δw2`` in the form the lemma states (in ``r``), as an expression."""
    const = lemma["constant"]
    if const is not None:
        return lemma_increment(constant=const)
    E = sp.Symbol("E")
    return lemma_increment() - 2 * S.eta * S.r * E


def _extra_exprs(th: ModelTheory) -> dict[sp.Symbol, sp.Expr]:
    """The named invariants outside the state that the map uses, in atoms."""
    inv = th.derivation.invariants()
    return {s: inv[s] for s in th.update.uses_extra if s in inv}


_W2_INC = "w_{2}' - w_{2} = "
_PSI3 = r"\Psi^{3} = K \Psi"
_EULER = r"E = \theta \cdot \nabla f - 2 f = "
_NTK_BOUND = r"\lambda \le K "


def _cell(tex: str) -> str:
    """Inline LaTeX for a Markdown table cell (a ``|`` would end the cell)."""
    return "$" + tex.replace("|", r"\vert ") + "$"


def to_markdown(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> str:
    """A Markdown summary: tables of the one-step map, leftover terms, lemma, thresholds,
    ``K``/window and bounds, every formula as inline LaTeX (as in :func:`to_latex`).

    ``subs`` fixes model scalars (``{a: 0.5}``), as in :func:`to_json`.
    """
    subs = dict(subs or {})
    names = _leftover_names(th)
    atoms = _atom_latex(th)
    um = th.update
    fixed = ", ".join(f"{k} = {v}" for k, v in subs.items())
    out = [f"## {th.model.name}", "", th.model.description + (f" [{fixed}]" if fixed else ""), "",
           r"One gradient-descent step on $\tfrac{1}{2} r^{2}$, $r = f - y$:", "",
           "| quantity | after one step |", "|---|---|"]
    for s, inc in um.increments().items():
        row = _latex(s) + "' = " + _latex(s) + _plus(_latex(_out(th, inc, subs)))
        out.append(f"| {_cell(_latex(s))} | {_cell(row)} |")
    state = ", ".join(_latex(s) for s in um.state)
    out += ["", f"Closed in $({state})$: " + ("yes." if um.closed else "no; it also needs:")]
    extra = _extra_exprs(th)
    named = {**names, **_data_names(th)}
    if extra or named:
        out += ["", "| term | meaning |", "|---|---|"]
        out += [f"| {_cell(_latex(e))} | {_cell(_latex(sp.sympify(expr), atoms))} |" for e, expr in extra.items()]
        out += [f"| {_cell(_latex(q))} | {_cell(th.derivation.algebra.atom_latex(a))} |" for a, q in named.items()]
    lemma = lemma_form(th)
    deg = homogeneity_degree(th)
    out += ["", "| property | value |", "|---|---|",
            f"| homogeneity degree | {deg if deg is not None else 'not homogeneous'} |",
            f"| weight-norm lemma | {_cell(_W2_INC + _latex(_lemma_tex(th, lemma)))} ({lemma['why']}) |"]
    if lemma["constant"] is None:
        out.append(f"| Euler residual | {_cell(_EULER + _latex(th.euler_residual, atoms))} |")
    if th.K is not None:
        out.append(f"| operator relation | {_cell(_PSI3)}, {_cell('K = ' + _latex(_out(th, th.K, subs)))}, "
                   f"so {_cell(_NTK_BOUND + 'w_{2}')} |")
        if th.window is not None:
            out.append(f"| catapult window | {_cell(f'{_edge(th)} < k < ' + _latex(_out(th, th.window, subs)))} "
                       "(state symbols at initialisation) |")
    if th.thresholds:
        out += ["", "| threshold | value | derived from |", "|---|---|---|"]
        for n, t in th.thresholds.items():
            out.append(f"| {_cell(_threshold_tex(n))} | {_cell(_latex(_out(th, t.eta, subs)))} | "
                       f"{t.reason}: {_cell(_latex(t.solved_from))} |")
    specs = _bound_specs(th)
    if specs:
        out += ["", r"Bounds on the catapult window ($k = \eta \lambda_0 < k_{\max}$):", "",
                "| bound | rigorous | NTK bound | K | k_max |", "|---|---|---|---|---|"]
        for name, spec in specs.items():
            out.append(f"| {name} | {'yes' if spec.rigorous else 'no'} | "
                       f"{_cell(_NTK_BOUND + _norm_tex(spec.norm))} | {_cell(_latex(_sub(spec.K, subs)))} | "
                       f"{_cell(_latex(_sub(spec.k_max, subs)))} |")
    return "\n".join(out) + "\n"


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident.isidentifier() else "m_" + ident


def _python_names(exprs: list[sp.Expr]) -> dict[sp.Symbol, sp.Symbol]:
    """Symbols whose names Python cannot take as an argument (a keyword, ``numpy``), renamed."""
    free = set().union(*(sp.sympify(e).free_symbols for e in exprs)) if exprs else set()
    taken = {s.name for s in free}
    out = {}
    for s in sorted(free, key=lambda s: s.name):
        if keyword.iskeyword(s.name) or s.name == "numpy" or not s.name.isidentifier():
            base = re.sub(r"\W", "_", s.name) + "_"
            out[s] = _fresh(base if base.isidentifier() else "s_" + base, taken)
    return out


def to_python(th: ModelTheory, subs: Mapping[sp.Symbol, Any] | None = None) -> str:
    """Python source of the update map and thresholds (NumPy, vectorised): a module that
    compiles, every symbol an argument name Python accepts."""
    subs = dict(subs or {})
    printer = NumPyPrinter({"fully_qualified_modules": True})
    contract = {s: _sub(e, subs) for s, e in _contract(th).items()}
    rename = _python_names([*contract.values(), *(_out(th, t.eta, subs) for t in th.thresholds.values())])
    contract = {s: e.xreplace(rename) for s, e in contract.items()}
    state = [s.name for s in th.update.state]
    free = set().union(*(e.free_symbols for e in contract.values())) - set(th.update.state)
    params = ["eta", "y"] + sorted(str(s) for s in free if s.name not in ("eta", "y"))
    args = ", ".join(state + params)
    name = _identifier(th.model.name)
    data = _data_names(th)
    meaning = "".join(f"; {q} = {th.derivation.algebra.words_with(a)}" for a, q in data.items())
    meaning += "".join(f"; {new} is the model's {old}" for old, new in rename.items())
    lines = [
        f'"""Derived by catapult_theory: one GD step of the {th.model.name} model (r = f - y{meaning})."""',
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
        teta = _out(th, t.eta, subs).xreplace(rename)
        targs = ", ".join(sorted(str(s) for s in teta.free_symbols))
        lines += ["", "", f"def {name}_{tname}({targs}):", f'    """{t.reason}."""',
                  f"    return {printer.doprint(teta)}"]
    return "\n".join(lines) + "\n"
