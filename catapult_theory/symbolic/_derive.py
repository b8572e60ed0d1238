"""Generic derivation of one gradient-descent step for a model given as SymPy objects.

A model is a set of matrix-symbol parameter blocks, an output expression (a
1x1 matrix expression in the parameters and the data) and optional structure:
symmetric data matrices, rewrite rules that hold for the data (``ψ ψ = κ I``,
``S S = (1 + a) S − a I``) and aliases that give data-only invariants a plain
name (``xᵀ x -> x2``).

From that alone, :class:`Derivation` computes, in the word algebra of
:mod:`._words` (width stays a symbol):

* the output ``f``, its gradient per block, the NTK eigenvalue for one datum
  ``lam = |∇f|²`` and the squared weight norm ``w2 = |θ|²``;
* one GD step on the square loss ``½ r²`` (``r = f − y``):
  ``θ' = θ − η r ∇f``;
* every quantity after the step, and its expression in chosen invariants,
  by subalgebra membership (a lex Gröbner basis that eliminates the parameter
  atoms): if a quantity is not a polynomial in the invariants the leftover
  atoms are named;
* the Euler residual ``θ·∇f − 2f`` and a direct homogeneity check
  ``f(cθ) = c² f(θ)``, and from them the weight-norm identity
  ``Δw2 = η r (η lam r − 4 f)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import sympy as sp
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol

from ..errors import InvalidInput
from . import _symbols as S
from ._words import Algebra, MatPoly, Word

__all__ = [
    "SymbolicModel",
    "Derivation",
    "UpdateMap",
    "Expressed",
    "batch_weight_norm_identity",
    "lemma_increment",
    "LEMMA_CONSTANT",
]

#: the constant of the weight-norm lemma ``Δ|θ|² = η r (η lam r − 4 f)``: ``θ·∇f = 2f``
#: (Euler, degree 2) enters twice, once from the cross term ``−2η r θ·∇f``
LEMMA_CONSTANT = sp.Integer(4)


def lemma_increment(lam: sp.Expr = S.lam, f: sp.Expr = S.f, constant: sp.Expr = LEMMA_CONSTANT) -> sp.Expr:
    """The weight-norm lemma's one-datum increment ``η r (η lam r − 4 f)``.

    The statement every proof and check of the lemma compares the derived
    ``|θ'|² − |θ|²`` with; ``lam`` and ``f`` may be atom expressions.
    """
    return S.eta * S.r * (S.eta * lam * S.r - constant * f)


@dataclass(frozen=True)
class SymbolicModel:
    """A model as SymPy objects.

    Parameters
    ----------
    name
        Registry name (``"uv"``, ...).
    params
        The trainable parameter blocks, as matrix symbols whose dimensions may
        be symbols (the width ``n`` stays symbolic).
    output
        The network output for one datum: a 1x1 matrix expression.
    symmetric
        Data matrices known to be symmetric.
    rules
        Rewrite rules ``(lhs, rhs)`` that hold for the data (see
        :class:`._words.Algebra`).
    aliases
        Pairs ``(expr, symbol)`` naming data-only scalar invariants
        (``(x.T*x, x2)``).
    scalars
        Scalar symbols of the model other than the contract ones (``zeta``,
        slope ``a``), for documentation and export.
    """

    name: str
    params: tuple[MatrixSymbol, ...]
    output: MatrixExpr
    symmetric: tuple[MatrixSymbol, ...] = ()
    rules: tuple[tuple[MatrixExpr, MatrixExpr], ...] = ()
    aliases: tuple[tuple[object, sp.Symbol], ...] = ()
    scalars: tuple[sp.Symbol, ...] = ()
    description: str = ""
    #: further named scalar invariants ``(symbol, 1x1 expression)`` in which
    #: updates may be written (moments ``m3 = ζ³ θᵀψ³θ``, ...)
    extra_invariants: tuple[tuple[sp.Symbol, object], ...] = ()

    def __post_init__(self) -> None:
        if not self.params:
            raise InvalidInput("a model needs at least one parameter block")
        if getattr(self.output, "shape", None) != (1, 1):
            raise InvalidInput(f"model output must be a 1x1 matrix expression, got shape {getattr(self.output, 'shape', None)}")
        from ._names import check_model_names

        check_model_names(self)  # no symbol named like f, lam, w2, eta, y, r (merged with them otherwise)


@dataclass(frozen=True)
class Expressed:
    """A quantity rewritten in invariants, with the atoms that did not fit."""

    expr: sp.Expr
    leftover: tuple[sp.Symbol, ...]

    @property
    def closed(self) -> bool:
        """True when the quantity is a polynomial in the invariants (nothing left over)."""
        return not self.leftover


@dataclass(frozen=True)
class UpdateMap:
    """The one-step map of chosen invariants under GD on one datum.

    ``update[s]`` is the value of invariant ``s`` after one step, written in the
    invariants, ``eta``, the residual ``r`` (= ``f − y``) and data invariants.
    When ``closed`` is false the expressions also contain the atoms listed in
    ``leftover`` (per invariant), which the invariants do not determine.
    """

    model: str
    state: tuple[sp.Symbol, ...]
    update: Mapping[sp.Symbol, sp.Expr]
    leftover: Mapping[sp.Symbol, tuple[sp.Symbol, ...]]
    leftover_words: Mapping[sp.Symbol, str] = field(default_factory=dict)
    #: named invariants outside the state that the updates use, with their meaning
    extra: Mapping[sp.Symbol, str] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        """True when the state's updates need nothing but the state."""
        return not any(self.leftover.values()) and not self.uses_extra

    @property
    def uses_extra(self) -> tuple[sp.Symbol, ...]:
        """The invariants of ``extra`` that the updates actually contain."""
        used = set().union(*(e.free_symbols for e in self.update.values())) if self.update else set()
        return tuple(s for s in self.extra if s in used)

    def contract(self) -> dict[sp.Symbol, sp.Expr]:
        """The update with ``r`` replaced by ``f − y`` (the exported form,
        written as ``s + factored increment``)."""
        return {s: s + inc.subs(S.r, S.f - S.y) for s, inc in self.increments().items()}

    def increments(self) -> dict[sp.Symbol, sp.Expr]:
        """``s' − s`` for each invariant, factored (the readable form)."""
        return {s: sp.factor(sp.expand(e - s)) for s, e in self.update.items()}


def _atom_factors(A: Algebra, atom: sp.Symbol) -> Word:
    """The factors of the word behind an atom of ``A`` (``atom`` must be one of its atoms)."""
    entry = A.atom_word(atom)
    if entry is None:  # pragma: no cover - callers pass atoms from A.atoms_of
        raise ValueError(f"{atom} is not an atom of this algebra")
    return entry[1]


class Derivation:
    """All symbolic facts about one GD step of a model (see module docstring)."""

    def __init__(self, model: SymbolicModel) -> None:
        self.model = model
        self.algebra = A = Algebra(model.symmetric, model.rules)
        self.alias: dict[sp.Symbol, sp.Symbol] = {}
        for expr, sym in model.aliases:
            atom_expr = A.scalarize(expr)
            if not (isinstance(atom_expr, sp.Symbol) and A.is_atom(atom_expr)):
                raise InvalidInput(f"alias {expr} -> {sym} is not a single invariant (got {atom_expr})")
            self.alias[atom_expr] = sym
        self._param_names = {p.name for p in model.params}
        self.f = A.scalarize(model.output)
        self.grads: dict[MatrixSymbol, MatPoly] = {p: A.grad(self.f, p) for p in model.params}
        self.lam = sp.expand(sum((A.inner(g, g) for g in self.grads.values()), sp.S.Zero))
        self.w2 = sp.expand(sum((A.inner(A.poly(p), A.poly(p)) for p in model.params), sp.S.Zero))
        self.step = {
            p: A.sub(A.poly(p), A.scale(g, S.eta * S.r)) for p, g in self.grads.items()
        }

    def _repr_latex_(self) -> str:
        """Jupyter: ``f``, ``lam``, ``w2`` and the GD step as display math."""
        from ..display_hooks import show

        return show("derivation_latex", self)

    # -------------------------------------------------------------- basics
    def invariants(self) -> dict[sp.Symbol, sp.Expr]:
        """The invariants ``f, lam, w2`` and the model's extra ones, as atom expressions."""
        out = {S.f: self.f, S.lam: self.lam, S.w2: self.w2}
        for sym, expr in self.model.extra_invariants:
            out[sym] = self.algebra.scalarize(expr)
        return out

    def next(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` (in atoms) evaluated after one GD step."""
        return self.algebra.substitute(expr, self.step)

    def param_atoms(self, expr: sp.Expr) -> set[sp.Symbol]:
        """The atoms of ``expr`` whose words contain a parameter block."""
        return {a for a in self.algebra.atoms_of(expr)
                if any(fa.name in self._param_names for fa in _atom_factors(self.algebra, a))}

    def named(self, expr: sp.Expr) -> sp.Expr:
        """Replace data-only atoms by their alias symbols."""
        return sp.sympify(expr).xreplace(self.alias)

    # -------------------------------------------------------------- closure
    def express(
        self,
        expr: sp.Expr,
        invariants: Mapping[sp.Symbol, sp.Expr],
        prefer: tuple[sp.Symbol, ...] = (S.w2, S.f, S.lam),
    ) -> Expressed:
        """Write ``expr`` (in atoms) as a polynomial in the invariants, if possible.

        Uses a lex Gröbner basis of the relations ``s − g_s(atoms)`` with the
        parameter atoms ordered first, so that the normal form of ``expr``
        contains parameter atoms exactly when ``expr`` is not a polynomial in
        the invariants (subalgebra membership). Those atoms are the leftover.
        Invariants in ``prefer`` come last in the order, so that dependent
        extra invariants are rewritten in them where possible.
        """
        inv_syms = [s for s in invariants if s not in prefer] + [s for s in prefer if s in invariants]
        relations = [sp.expand(s - self.named(e)) for s, e in invariants.items()]
        target = sp.expand(self.named(expr))
        atoms = set().union(*(self.param_atoms(r) for r in relations), self.param_atoms(target))
        if not atoms:
            return Expressed(target, ())
        A = self.algebra
        order = sorted(atoms, key=lambda a: (-len(_atom_factors(A, a)), a.name))
        gens = order + inv_syms
        # coefficients (eta, r, n, sqrt(n), model scalars, data invariants) live in
        # the expression domain, so the target may contain symbols the relations lack
        basis = sp.groebner(relations, *gens, order="lex", domain=sp.EX)
        _, remainder = basis.reduce(target)
        remainder = sp.expand(remainder)
        leftover = tuple(sorted(self.param_atoms(remainder), key=lambda a: a.name))
        return Expressed(remainder, leftover)

    def update_map(
        self,
        invariants: Mapping[sp.Symbol, sp.Expr] | None = None,
        targets: tuple[sp.Symbol, ...] | None = None,
    ) -> UpdateMap:
        """The one-step map of ``targets`` (default ``f, lam, w2``), written in
        ``invariants`` (default: ``f, lam, w2`` and the model's extra ones)."""
        invariants = dict(self.invariants() if invariants is None else invariants)
        targets = tuple(t for t in (S.STATE if targets is None else targets))
        # lex order keeps the last generators: when the state is dependent
        # (lam = K w2 for psi^2 = kappa I) the map is written in lam and f
        prefer = tuple(sorted(targets, key=lambda t: {S.w2: 0, S.f: 1, S.lam: 2}.get(t, -1)))
        update, leftover, words = {}, {}, {}
        for s in targets:
            # the increment, not the new value: it is what the theory states
            # (Δw2 = η r (η lam r − 4 f)) and it needs fewer invariants
            res = self.express(self.next(invariants[s]) - invariants[s], invariants, prefer=prefer)
            update[s] = s + res.expr
            leftover[s] = res.leftover
            for a in res.leftover:
                words[a] = self.algebra.words_with(a)
        extra = {s: self.algebra.words_with_expr(e) for s, e in invariants.items() if s not in targets}
        return UpdateMap(self.model.name, targets, update, leftover, words, extra)

    # -------------------------------------------------------------- lemma
    def euler_residual(self) -> sp.Expr:
        """``θ·∇f − 2f``, computed in the word algebra (zero for degree-2 models)."""
        A = self.algebra
        dot = sum((A.inner(A.poly(p), g) for p, g in self.grads.items()), sp.S.Zero)
        return sp.simplify(self.named(sp.expand(dot - 2 * self.f)))

    def homogeneity_residual(self, degree: int = 2) -> sp.Expr:
        """``f(cθ) − c^degree f(θ)``: zero iff ``f`` is homogeneous of that degree."""
        c = sp.Dummy("c", positive=True)  # never a model's own symbol
        scaled = self.algebra.scale_symbols(self.f, {p: c for p in self.model.params})
        return sp.simplify(self.named(sp.expand(scaled - c**degree * self.f)))

    def homogeneity_degree(self, expr: sp.Expr | None = None, up_to: int = 16) -> int | None:
        """The degree ``p <= up_to`` with ``expr(cθ) = c^p expr(θ)`` in the word algebra (``expr``
        defaults to ``f``), or ``None`` when there is none. A single power of ``c`` after
        scaling is read off directly; otherwise each ``p`` is tried with the model's rules."""
        expr = self.f if expr is None else expr
        if sp.expand(expr) == 0:
            return None
        c = sp.Dummy("c", positive=True)
        scaled = sp.expand(self.algebra.scale_symbols(expr, {p: c for p in self.model.params}))
        terms = sp.Poly(scaled, c).terms()
        if len(terms) == 1 and sp.expand(terms[0][1] - expr) == 0:
            deg = int(terms[0][0][0])
            return deg if deg <= up_to else None
        for p in range(1, up_to + 1):
            if sp.simplify(self.named(sp.expand(scaled - c**p * expr))) == 0:
                return p
        return None

    def is_homogeneous(self, degree: int = 2) -> bool:
        """True if ``f`` is homogeneous of ``degree`` in the parameters."""
        return self.homogeneity_residual(degree) == 0

    def weight_norm_change(self) -> sp.Expr:
        """``|θ'|² − |θ|²`` in atoms."""
        return sp.expand(self.next(self.w2) - self.w2)

    def weight_norm_identity_residual(self) -> sp.Expr:
        """``Δw2 − η r (η lam r − 4 f)``, in atoms; zero for homogeneous models."""
        claim = lemma_increment(self.lam, self.f)
        return sp.simplify(self.named(sp.expand(self.weight_norm_change() - claim)))


def batch_weight_norm_identity(
    params: Sequence[MatrixSymbol],
    outputs: MatrixExpr,
    batch: sp.Expr,
    algebra: Algebra | None = None,
    constant: sp.Expr = LEMMA_CONSTANT,
) -> tuple[sp.Expr, sp.Expr]:
    """The many-data weight-norm identity, derived in the word algebra.

    ``outputs`` is the 1xB row of network outputs on a batch. With the
    residual row ``R`` frozen (a matrix symbol ``r``), full-batch GD is
    ``θ' = θ − (η/B) ∇_θ (R Fᵀ)`` and ``RΘRᵀ = |∇_θ (R Fᵀ)|²``. Returns the pair
    ``(Δ|θ|², identity residual)`` where the residual is
    ``Δ|θ|² − [−(4η/B) R Fᵀ + (η²/B²) RΘRᵀ]`` (zero for degree-2 homogeneous
    models, by Euler's identity); ``constant`` is the lemma's 4.
    """
    A = algebra or Algebra()
    Rsym = MatrixSymbol("r", 1, batch)
    s = A.scalarize(Rsym * outputs.T)
    grads = {p: A.grad(s, p) for p in params}
    ntk_form = sp.expand(sum((A.inner(g, g) for g in grads.values()), sp.S.Zero))
    w2 = sp.expand(sum((A.inner(A.poly(p), A.poly(p)) for p in params), sp.S.Zero))
    step = {p: A.sub(A.poly(p), A.scale(g, S.eta / batch)) for p, g in grads.items()}
    dw2 = sp.expand(A.substitute(w2, step) - w2)
    claim = -constant * S.eta / batch * s + S.eta**2 / batch**2 * ntk_form
    return dw2, sp.simplify(sp.expand(dw2 - claim))
