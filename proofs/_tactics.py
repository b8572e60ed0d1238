"""Building proofs: symbol tables from the symbolic layer, and certificates.

Nothing here is trusted. These helpers only build the data of a proof (the
definitions a theorem prints, the multipliers of a certificate); the kernel
(:mod:`._kernel`) checks what they build, claim by claim.

:func:`model_table` turns a family's derivation into definitions: the state
``f, lam, w2`` and its values after one GD step (``f_next``, ...), each as
its polynomial in the scalar atoms of the word algebra (which are free real
variables: every identity about them holds for all values), and the
positivity hypotheses its denominators and roots need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._kernel import Definition

__all__ = ["ModelTable", "model_table", "table_from_derivation", "positivity", "LATEX", "named_symbol", "vector_norm"]

#: LaTeX of the proofs' symbols (the certificate's symbol table); parsed back by the tests
LATEX: dict[str, str] = {
    "f": "f", "lam": r"\lambda", "w2": r"|\theta|^{2}", "eta": r"\eta", "y": "y", "r": "r", "n": "n",
    "x2": r"|x|^{2}", "d": "d", "f_next": "f'", "lam_next": r"\lambda'", "w2_next": r"|\theta'|^{2}",
    "Dw2": r"\Delta|\theta|^{2}", "zeta": r"\zeta", "kappa": r"\kappa", "phi2": r"|\phi|^{2}", "a": "a",
    "B": "B", "Q": "Q", "Q_next": r"Q^{\prime}", "DQ": r"\Delta Q", "c": "c", "K": "K",
}


def named_symbol(name: str) -> sp.Symbol:
    """A plain symbol (the kernel carries no assumptions)."""
    return sp.Symbol(name)


F_NEXT, LAM_NEXT, W2_NEXT = sp.symbols("f_next lam_next w2_next")
DW2 = sp.Symbol("Dw2")


@dataclass
class ModelTable:
    """The definitions of one family's one-step quantities."""

    model: str
    derivation: Any
    definitions: list[Definition] = field(default_factory=list)
    hypotheses: list = field(default_factory=list)

    def value(self, sym: sp.Symbol) -> sp.Expr:
        for d in self.definitions:
            if d.symbol == sym:
                return d.value
        raise KeyError(sym)

    def add(self, d: Definition) -> sp.Symbol:
        """Add a definition (once); the positivity its denominators need becomes a
        hypothesis of the theorem unless the definition states its own ``where``."""
        if all(x.symbol != d.symbol for x in self.definitions):
            self.definitions.append(d)
            if d.value is not None and self.derivation is not None and not isinstance(d.value, sp.Lambda):
                known = {x.symbol for x in self.definitions}  # the word-algebra atoms the value uses
                self.definitions += [a for a in _atom_definitions(self.derivation, [d.value]) if a.symbol not in known]
            if d.value is not None and not d.where and not isinstance(d.value, sp.Lambda):
                for h in positivity([d.value]):
                    if all(sp.sstr(h) != sp.sstr(x) for x in self.hypotheses):
                        self.hypotheses.append(h)
        return d.symbol


def _atom_definitions(der, exprs: Iterable[sp.Expr]) -> list[Definition]:
    A = der.algebra
    out = []
    seen = set()
    for e in exprs:
        for a in sorted(A.atoms_of(e), key=str):
            if a in seen:
                continue
            seen.add(a)
            out.append(Definition(a, f"the scalar {a.name.strip('[]')} of the parameters and data "
                                     "(a free real variable of the word algebra)", None,
                                  A.atom_latex(a)))
    return out


def positivity(exprs: Iterable[sp.Expr]) -> list:
    """``s > 0`` for every symbol that is a denominator or radicand in ``exprs``
    (sizes, |x|²): the hypotheses under which the values are defined."""
    need: set = set()
    for e in exprs:
        for p in sp.preorder_traversal(sp.sympify(e)):
            if isinstance(p, sp.Pow) and (p.exp.is_negative or not p.exp.is_Integer):
                for fac in sp.Mul.make_args(p.base):
                    b = fac.base if isinstance(fac, sp.Pow) else fac
                    if isinstance(b, (sp.Symbol, sp.Add)):
                        need.add(b)
    plain = {b: b.xreplace({s: sp.Symbol(s.name) for s in b.free_symbols}) for b in need}
    return [sp.Gt(plain[b], 0) for b in sorted(need, key=sp.default_sort_key)]


@lru_cache(maxsize=None)
def _table_cached(model: str, key: tuple) -> ModelTable:
    return table_from_derivation(src.theory(model).derivation, model)


def table_from_derivation(der, model: str = "") -> ModelTable:
    """The one-step table of any :class:`~catapult_theory.symbolic.Derivation`."""
    f, lam, w2 = (der.named(x) for x in (der.f, der.lam, der.w2))
    nxt = [der.named(sp.expand(der.next(x))) for x in (der.f, der.lam, der.w2)]
    t = ModelTable(model or der.model.name, der)
    t.definitions += _atom_definitions(der, [der.f, der.lam, der.w2, *[der.next(x) for x in (der.f, der.lam, der.w2)]])
    t.definitions += [
        Definition(S.f, "the network output f on the datum", f, "f"),
        Definition(S.lam, "the NTK eigenvalue for one datum, |∇f|²", lam, r"\lambda"),
        Definition(S.w2, "the squared weight norm |θ|²", w2, r"|\theta|^{2}"),
        Definition(F_NEXT, "f after one GD step θ − η r ∇f", nxt[0], "f'", role="next", of=S.f),
        Definition(LAM_NEXT, "λ after one GD step", nxt[1], r"\lambda'", role="next", of=S.lam),
        Definition(W2_NEXT, "|θ|² after one GD step", nxt[2], r"|\theta'|^{2}", role="next", of=S.w2),
        Definition(DW2, "the change |θ'|² − |θ|² of the squared weight norm in one GD step", W2_NEXT - S.w2,
                   r"\Delta|\theta|^{2}"),
        Definition(S.eta, "the learning rate", None, r"\eta"),
        Definition(S.r, "the residual: the step is θ − η r ∇f (r = f − y on the datum; the identities hold for "
                        "every r)", None, "r"),
    ]
    for alias in der.alias.values():
        t.definitions.append(Definition(alias, f"the data invariant {LATEX.get(alias.name, alias.name)}", None,
                                        LATEX.get(alias.name)))
    t.hypotheses = positivity([f, lam, w2, *nxt])
    return t


def model_table(model: str) -> ModelTable:
    """The definitions and positivity hypotheses of a family's one-step quantities
    (a fresh copy: callers add their own definitions)."""
    key = tuple(sorted(src.active_faults()))
    base = _table_cached(model, key)
    return ModelTable(base.model, base.derivation, list(base.definitions), list(base.hypotheses))


def vector_norm(der, vector) -> sp.Expr:
    """``|vector|²`` in the word algebra of ``der`` (aliases named)."""
    A = der.algebra
    return der.named(A.inner(vector, vector))
