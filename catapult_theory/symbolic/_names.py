"""The names of a model's symbols: none may be mistaken for a contract symbol.

The derivation writes every result in the state ``f, lam, w2``, the step ``eta, y, r``
and the data invariants ``n`` (width) and ``x2`` (``|x|^2``). A model symbol of the
same name (a scalar ``lam`` in ``f = lam vᵀUx/√n``, a matrix named ``r``) would be
merged with it silently: ``lam' = lam + ...`` would mix the scalar into the NTK
eigenvalue. So :func:`check_model_names` refuses, with one line naming the symbol:

* a scalar, a dimension or a matrix named ``f``, ``lam``, ``w2``, ``eta``, ``y`` or ``r``;
* a symbol named ``n`` or ``x2`` that is not the contract's own (``symbols.n``,
  ``symbols.x2``: the width and ``|x|^2``, which a model may use as such), and a
  matrix of either name;
* a name that is not plain ASCII (a letter, then letters, digits and ``_``), or is a
  Python keyword (``None``, ``if``): every export (LaTeX, Python, JSON read back by
  SymPy) must be able to write it;
* two symbols (or a symbol and a contract symbol) that the LaTeX export would write
  alike (``lambda`` is written ``\\lambda``, as ``lam`` is; ``a_1`` as ``a1``).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from ..errors import InvalidInput
from . import _symbols as S

__all__ = ["RESERVED", "check_model_names", "model_symbols", "symbol_latex"]

#: names no model symbol may take (the state and the step); ``n`` and ``x2`` only as the contract's own
RESERVED = {"f": "the output f", "lam": "the NTK eigenvalue lam", "w2": "the squared weight norm w2",
            "eta": "the learning rate eta", "y": "the label y", "r": "the residual r = f - y"}
_CONTRACT_DATA = {"n": (S.n, "the width n"), "x2": (S.x2, "the data invariant x2 = |x|^2")}
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


_LATEX_NAMES = {S.lam: r"\lambda", S.w2: r"w_{2}", S.eta: r"\eta", S.x2: r"x_{2}"}
#: single letters that SymPy's LaTeX parser would read as something else (``d`` starts a differential)
_LATEX_AMBIGUOUS = {"d": r"\mathit{d}"}
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
          "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")


def symbol_latex(s: sp.Symbol) -> str:
    """One unambiguous LaTeX token for a symbol (``\\lambda``, ``w_{2}``, ``L_{\\psi 2}``)."""
    if s in _LATEX_NAMES:
        return _LATEX_NAMES[s]
    name = s.name
    if name in _LATEX_AMBIGUOUS:
        return _LATEX_AMBIGUOUS[name]
    m = re.fullmatch(r"([A-Za-z]+?)(\d*)", name)
    if m is None:
        return sp.latex(s)
    base, digits = m.groups()
    if len(base) == 1 or base.lower() in _GREEK:
        return sp.latex(s)
    # a multi-letter name: its first letter with the rest as subscript (fphi -> f_{\phi})
    first, rest = base[0], base[1:]
    greek = next((g for g in _GREEK if rest.lower().startswith(g) and len(g) == len(rest)), None)
    rest_tex = ("\\" + (rest if rest[0].isupper() else rest.lower())) if greek else rest
    return f"{first}_{{{rest_tex}{' ' + digits if digits else ''}}}"


def model_symbols(model: Any) -> tuple[set[sp.Symbol], set[MatrixSymbol]]:
    """Every scalar symbol (parameters' dimensions included) and every matrix symbol of
    ``model``'s declaration."""
    scalars: set[sp.Symbol] = set()
    matrices: set[MatrixSymbol] = set()

    def walk(value: Any) -> None:
        if isinstance(value, (tuple, list)):
            for v in value:
                walk(v)
        elif isinstance(value, sp.Basic):
            for m in value.atoms(MatrixSymbol) | ({value} if isinstance(value, MatrixSymbol) else set()):
                matrices.add(m)
                for dim in m.shape:
                    scalars.update(s for s in sp.sympify(dim).free_symbols if isinstance(s, sp.Symbol))
            scalars.update(s for s in value.free_symbols if isinstance(s, sp.Symbol)
                           and not isinstance(s, MatrixSymbol))

    for name in ("params", "output", "symmetric", "rules", "aliases", "scalars", "extra_invariants"):
        walk(getattr(model, name, ()))
    return scalars, matrices


def _problem(model: Any) -> str | None:
    scalars, matrices = model_symbols(model)
    for kind, syms in (("matrix", matrices), ("scalar", scalars)):
        for s in sorted(syms, key=lambda s: s.name):
            name = s.name
            if not _NAME_RE.fullmatch(name) or keyword.iskeyword(name):
                return (f"the {kind} {name!r} has a name the exports cannot write: use a letter, then letters, "
                        "digits or _ (not a Python keyword)")
            if name in RESERVED:
                return (f"the {kind} {name!r} is named like {RESERVED[name]} of the derivation, with which it "
                        "would be merged: rename it")
            if name in _CONTRACT_DATA and (kind == "matrix" or s != _CONTRACT_DATA[name][0]):
                return (f"the {kind} {name!r} is named like {_CONTRACT_DATA[name][1]} but is another symbol "
                        f"(use catapult_theory.symbolic.symbols.{name} for that, or rename it)")
    tokens: dict[str, sp.Symbol] = {symbol_latex(c): c for c in (*S.CONTRACT.values(), S.r)}
    for s in sorted(scalars, key=lambda s: s.name):
        tex = symbol_latex(s)
        other = tokens.get(tex)
        if other is not None and other != s:
            return (f"the scalar {s.name!r} would be written {tex} in LaTeX, as {other.name!r} is: rename it")
        tokens[tex] = s
    return None


def check_model_names(model: Any) -> None:
    """Refuse (:class:`InvalidInput`, one line naming the symbol) a model whose symbols
    could be mistaken for the derivation's own (module docstring)."""
    problem = _problem(model)
    if problem is not None:
        raise InvalidInput(f"model {getattr(model, 'name', '?')!r}: {problem}")
