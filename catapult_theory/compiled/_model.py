"""A symbolic model prepared for numbers: its atoms, words, gradients and dimensions, compiled once.

:class:`CompiledModel` reads a :class:`~catapult_theory.symbolic.SymbolicModel` through its
:class:`~catapult_theory.symbolic.Derivation`: the invariants ``f, lam, w2`` (and the
model's named ones) as expressions in *atoms*, each atom the trace or the scalar entry of
a *word* (a product of the model's matrices: parameter blocks and data), and the
gradient of ``f`` with respect to each parameter block as a sum of words with
coefficients in the atoms. The expressions are lambdified once. With the dimensions set
to integers and the matrices to arrays, these give ``f``, ``∇f`` and the invariants of
any state: what full-parameter GD on a model given only as symbols needs
(:mod:`catapult_theory.engine`), and what the realisable states of the testing layer
are built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from ..errors import InvalidInput
from ..symbolic import Derivation, SymbolicModel
from ..symbolic import symbols as S
from ._lambdify import lambdify_numpy

__all__ = ["CompiledModel", "Word", "compiled_model", "rule_roots"]


@dataclass(frozen=True)
class Word:
    """The word of an atom: ``kind`` (``"trace"`` or a scalar entry) and its factors
    ``(matrix name, transposed)``, multiplied left to right."""

    kind: str
    factors: tuple[tuple[str, bool], ...]


def rule_roots(model: SymbolicModel) -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Data symbols ``X`` with a rule ``X X -> c1 X + c0 I``: ``{name: (c1, c0)}``."""
    from sympy.matrices.expressions import Identity, MatAdd, MatMul, MatPow

    out: dict[str, tuple[sp.Expr, sp.Expr]] = {}
    for lhs, rhs in model.rules:
        base = None
        if isinstance(lhs, MatPow) and lhs.args[1] == 2 and isinstance(lhs.args[0], MatrixSymbol) or isinstance(lhs, MatMul) and len(lhs.args) == 2 and lhs.args[0] == lhs.args[1] \
                and isinstance(lhs.args[0], MatrixSymbol):
            base = lhs.args[0]
        if base is None:
            raise InvalidInput(f"{model.name}: cannot draw data for the rule {lhs} -> {rhs} "
                               "(only X*X -> c1*X + c0*I is supported)")
        c1, c0 = sp.S.Zero, sp.S.Zero
        terms = rhs.args if isinstance(rhs, MatAdd) else (rhs,)
        for t in terms:
            coeff, mats = (t.as_coeff_mmul() if isinstance(t, MatMul) else (sp.S.One, t))
            if isinstance(mats, MatMul):
                coeff2 = sp.Mul(*[a for a in mats.args if not getattr(a, "is_Matrix", False)])
                mats_only = [a for a in mats.args if getattr(a, "is_Matrix", False)]
                coeff = coeff * coeff2
                mats = mats_only[0] if len(mats_only) == 1 else None
            if mats == base:
                c1 += coeff
            elif isinstance(mats, Identity):
                c0 += coeff
            else:
                raise InvalidInput(f"{model.name}: cannot draw data for the rule {lhs} -> {rhs} "
                                   "(only X*X -> c1*X + c0*I is supported)")
        out[base.name] = (sp.sympify(c1), sp.sympify(c0))
    return out


class CompiledModel:
    """A symbolic model prepared for numbers (module docstring); built once per model
    (:func:`compiled_model`)."""

    def __init__(self, model: SymbolicModel) -> None:
        self.model = model
        self.name = model.name
        der = Derivation(model)
        self.derivation = der
        A = der.algebra
        self.params = {p.name: p for p in model.params}
        targets = der.invariants()
        self.targets: dict[str, sp.Expr] = {s.name: e for s, e in targets.items()}
        self.grads: dict[str, list[tuple[tuple[tuple[str, bool], ...], sp.Expr]]] = {
            p.name: [(tuple((f.name, f.transposed) for f in w), c) for w, c in g.terms.items()]
            for p, g in der.grads.items()
        }
        atoms: set[sp.Symbol] = set(der.alias)
        for e in targets.values():
            atoms |= A.atoms_of(e)
        for terms in self.grads.values():
            for _, c in terms:
                atoms |= A.atoms_of(c)
        self.atoms = sorted(atoms, key=str)
        self.words: dict[sp.Symbol, Word] = {}
        shapes: dict[str, tuple[sp.Expr, sp.Expr]] = {p.name: p.shape for p in model.params}
        for a in self.atoms:
            entry = A.atom_word(a)
            assert entry is not None
            kind, word = entry
            self.words[a] = Word(kind, tuple((f.name, f.transposed) for f in word))
            for f in word:
                shapes.setdefault(f.name, (f.rows, f.cols))
        for p in der.grads.values():
            for w in p.terms:
                for f in w:
                    shapes.setdefault(f.name, (f.rows, f.cols))
        self.shapes = shapes
        self.data = sorted(n for n in shapes if n not in self.params)
        self.model_symmetric = {m.name for m in model.symmetric}
        dims: set[sp.Symbol] = set()
        for r, c in shapes.values():
            dims |= sp.sympify(r).free_symbols | sp.sympify(c).free_symbols
        self.dims = sorted(dims, key=str)
        self.alias = {sym.name: atom for atom, sym in der.alias.items()}
        self.rule_roots = rule_roots(model)
        free: set[sp.Symbol] = set()
        for e in targets.values():
            free |= sp.sympify(e).free_symbols
        for terms in self.grads.values():
            for _, c in terms:
                free |= sp.sympify(c).free_symbols
        for c1, c0 in self.rule_roots.values():
            free |= c1.free_symbols | c0.free_symbols
        free |= set(model.scalars)
        self.scalars = sorted(free - set(self.atoms) - set(dims) - {S.eta, S.r}, key=str)
        args = [*self.atoms, *self.scalars, *self.dims]
        self._args = args
        self._targets_fn = lambdify_numpy(args, list(self.targets.values()))
        self._coeff_fns = {
            p: lambdify_numpy([*args, S.eta, S.r], [c for _, c in terms] or [sp.S.Zero])
            for p, terms in self.grads.items()
        }
        overlap = set(self.targets) & ({s.name for s in self.scalars} | {d.name for d in self.dims})
        if overlap:
            raise InvalidInput(f"{self.name}: the names {sorted(overlap)} are both invariants and scalars")

    def sizes_of(self, values: dict[str, int]) -> dict[sp.Symbol, sp.Integer]:
        """The dimension symbols at the integers ``values`` (by name)."""
        return {d: sp.Integer(values[d.name]) for d in self.dims if d.name in values}

    def shape_of(self, name: str, sizes: dict[str, int]) -> tuple[int, int]:
        """The shape of matrix ``name`` at the dimensions ``sizes`` (:class:`InvalidInput`
        when a dimension is missing)."""
        dims = self.sizes_of(sizes)
        r, c = self.shapes[name]
        try:
            return int(sp.sympify(r).xreplace(dims)), int(sp.sympify(c).xreplace(dims))
        except TypeError:
            raise InvalidInput(f"{self.name}: the shape of {name} is not fixed by its dimensions") from None

    def targets_at(self, args: list[Any]) -> Any:
        """The invariants (:attr:`targets`, in order) at atom, scalar and dimension values ``args``."""
        return self._targets_fn(*args)

    def coefficients(self, param: str, args: list[Any], eta: Any = 0.0, r: Any = 0.0) -> Any:
        """The coefficients of the gradient words of ``param`` at ``args``."""
        return self._coeff_fns[param](*args, eta, r)


@lru_cache(maxsize=64)
def compiled_model(model: SymbolicModel) -> CompiledModel:
    """The :class:`CompiledModel` of ``model`` (built once per model object)."""
    return CompiledModel(model)
