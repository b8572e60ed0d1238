"""A Gram-matrix algebra for matrix expressions with symbolic dimensions.

Every quantity the theory needs (network output, NTK eigenvalue for one datum,
squared weight norm, and the same after one gradient step) is a polynomial in
*scalar invariants* of the parameter blocks: closed products such as
``vᵀ U x`` or traces such as ``tr(Uᵀ U)``. This module works on those words
directly, so that a width ``n`` can stay a SymPy symbol: nothing is ever
expanded into components.

Objects
-------
``Factor``
    One matrix symbol, possibly transposed.
``MatPoly``
    A matrix-valued polynomial: a shape and a mapping ``word -> coefficient``
    where a word is a tuple of factors (the empty word is the identity) and a
    coefficient is a scalar SymPy expression (which may itself contain atoms).
``Algebra``
    The context: which symbols are symmetric, which rewrite rules hold (for
    instance ``S S -> (1 + a) S - a I`` for a two-valued diagonal slope matrix),
    and the registry of scalar *atoms* (canonical closed words and traces,
    each a SymPy ``Symbol``).

The algebra supports conversion from SymPy matrix expressions, products,
transposes, traces, Frobenius inner products, gradients of scalar polynomials
with respect to a matrix symbol, and substitution of matrix symbols by matrix
polynomials (one gradient step is such a substitution).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Mapping

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.matrices.expressions import (
    Identity,
    MatAdd,
    MatMul,
    MatPow,
    MatrixExpr,
    MatrixSymbol,
    Trace,
    Transpose,
    ZeroMatrix,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Factor", "MatPoly", "Rule", "Algebra", "UnsupportedExpression"]


class UnsupportedExpression(TypeError):
    """Raised for a SymPy construct the word algebra does not handle."""


@dataclass(frozen=True, order=True)
class Factor:
    """A matrix symbol, transposed or not."""

    name: str
    transposed: bool
    rows: sp.Expr = field(compare=False)
    cols: sp.Expr = field(compare=False)

    @property
    def shape(self) -> tuple[sp.Expr, sp.Expr]:
        """``(rows, cols)`` of the factor as it stands (swapped when transposed)."""
        return (self.cols, self.rows) if self.transposed else (self.rows, self.cols)

    def t(self) -> Factor:
        """The transposed factor."""
        return Factor(self.name, not self.transposed, self.rows, self.cols)

    def __str__(self) -> str:
        return self.name + ("ᵀ" if self.transposed else "")

    def latex(self) -> str:
        """LaTeX of the factor (``U^{T}`` when transposed)."""
        base = sp.latex(sp.Symbol(self.name))
        return base + ("^{T}" if self.transposed else "")


Word = tuple[Factor, ...]


def _is_one(dim: sp.Expr) -> bool:
    return sp.sympify(dim) == 1


def _transpose_word(word: Word) -> Word:
    return tuple(f.t() for f in reversed(word))


@dataclass(frozen=True)
class MatPoly:
    """A matrix polynomial ``Σ coeff · word`` of a fixed shape."""

    shape: tuple[sp.Expr, sp.Expr]
    terms: Mapping[Word, sp.Expr]

    @property
    def is_zero(self) -> bool:
        """True for the zero polynomial (no terms)."""
        return not self.terms


@dataclass(frozen=True)
class Rule:
    """A rewrite rule ``lhs -> rhs`` on words (``rhs`` has ``lhs``'s shape)."""

    lhs: Word
    rhs: MatPoly


def _add_into(acc: dict[Word, sp.Expr], word: Word, coeff: sp.Expr) -> None:
    new = acc.get(word, sp.S.Zero) + coeff
    if new == 0:
        acc.pop(word, None)
    else:
        acc[word] = new


class Algebra:
    """Word algebra with symmetric symbols, rewrite rules and an atom registry.

    Parameters
    ----------
    symmetric
        Matrix symbols known to be symmetric (``Xᵀ = X``).
    rules
        Pairs ``(lhs, rhs)`` of SymPy matrix expressions: ``lhs`` a product of
        matrix symbols, ``rhs`` any expression of the same shape. Rules are
        applied left to right until no rule matches; each must shorten words
        (so rewriting terminates). The transposed rule is added automatically.
    """

    def __init__(
        self,
        symmetric: Iterable[MatrixSymbol] = (),
        rules: Iterable[tuple[MatrixExpr, MatrixExpr]] = (),
    ) -> None:
        self.symmetric = frozenset(s.name for s in symmetric)
        self._atoms: dict[tuple[str, Word], sp.Symbol] = {}
        self._atom_words: dict[sp.Symbol, tuple[str, Word]] = {}
        self.rules: list[Rule] = []
        for lhs, rhs in rules:
            word = self._lhs_word(lhs)
            rhs_poly = self._raw(rhs)
            if any(len(w) >= len(word) for w in rhs_poly.terms):
                raise ValueError(f"rule {lhs} -> {rhs} does not shorten words")
            self.rules.append(Rule(word, rhs_poly))
            tword = self.transpose_word(word)
            if tword != word:
                self.rules.append(Rule(tword, self.transpose(rhs_poly)))

    def _lhs_word(self, lhs: MatrixExpr) -> Word:
        """The word of a rule's left-hand side: a product of (transposed) symbols."""
        args = lhs.args if isinstance(lhs, MatMul) else (lhs,)
        flat = []
        for a in args:
            if isinstance(a, MatPow) and a.args[1].is_Integer and a.args[1] > 0:
                flat.extend([a.args[0]] * int(a.args[1]))
            else:
                flat.append(a)
        word = []
        for a in flat:
            if isinstance(a, MatrixSymbol):
                word.append(self.factor(a))
            elif isinstance(a, Transpose) and isinstance(a.arg, MatrixSymbol):
                word.append(self.factor(a.arg, transposed=True))
            else:
                raise ValueError(f"rule left-hand side must be a product of matrix symbols: {lhs}")
        return tuple(word)

    # ------------------------------------------------------------------ factors
    def factor(self, sym: MatrixSymbol, transposed: bool = False) -> Factor:
        """The factor of a matrix symbol (never transposed for a symmetric one)."""
        if sym.name in self.symmetric:
            transposed = False
        rows, cols = sym.shape
        return Factor(sym.name, transposed, sp.sympify(rows), sp.sympify(cols))

    def _norm_factor(self, f: Factor) -> Factor:
        if f.name in self.symmetric and f.transposed:
            return Factor(f.name, False, f.rows, f.cols)
        return f

    def transpose_word(self, word: Word) -> Word:
        """The transpose of a word: factors reversed and transposed, symmetric ones kept."""
        return tuple(self._norm_factor(f) for f in _transpose_word(word))

    # ------------------------------------------------------------------ polys
    def poly(self, expr: MatrixExpr) -> MatPoly:
        """Convert a SymPy matrix expression into a normalised ``MatPoly``."""
        return self.normalize(self._raw(expr))

    def _raw(self, expr: MatrixExpr) -> MatPoly:
        if isinstance(expr, MatrixSymbol):
            return MatPoly(expr.shape, {(self.factor(expr),): sp.S.One})
        if isinstance(expr, Identity):
            k = expr.shape[0]
            return MatPoly((k, k), {(): sp.S.One})
        if isinstance(expr, ZeroMatrix):
            return MatPoly(expr.shape, {})
        if isinstance(expr, Transpose):
            return self.transpose(self._raw(expr.arg))
        if isinstance(expr, MatAdd):
            parts = [self._raw(a) for a in expr.args]
            return self.add(*parts)
        if isinstance(expr, MatMul):
            scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
            mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
            coeff = self.scalarize(sp.Mul(*scalars)) if scalars else sp.S.One
            if not mats:
                raise UnsupportedExpression(f"matrix product without matrices: {expr}")
            out = self._raw(mats[0])
            for m in mats[1:]:
                out = self.mul(out, self._raw(m))
            return self.scale(out, coeff)
        if isinstance(expr, MatPow):
            base, exp = expr.args
            if not (exp.is_Integer and exp >= 0):
                raise UnsupportedExpression(f"matrix power must be a non-negative integer: {expr}")
            b = self._raw(base)
            out = MatPoly(b.shape, {(): sp.S.One})
            for _ in range(int(exp)):
                out = self.mul(out, b)
            return out
        raise UnsupportedExpression(
            f"the word algebra does not handle {type(expr).__name__}: {expr}"
        )

    def scalarize(self, expr: sp.Basic) -> sp.Expr:
        """Turn a scalar SymPy expression that may contain ``Trace`` or 1x1
        matrix products into an expression in atoms."""
        expr = sp.sympify(expr)
        if getattr(expr, "is_Matrix", False):
            if expr.shape != (1, 1):
                raise UnsupportedExpression(f"not a scalar (shape {expr.shape}): {expr}")
            return self.scalar(self.poly(expr))
        reps = {}
        for node in sp.preorder_traversal(expr):
            if isinstance(node, Trace):
                reps[node] = self.trace(self.poly(node.arg))
            elif isinstance(node, MatrixElement):
                raise UnsupportedExpression(f"matrix elements are not supported: {node}")
        return expr.xreplace(reps) if reps else expr

    def add(self, *polys: MatPoly) -> MatPoly:
        """The sum of polynomials of one shape."""
        if not polys:
            raise ValueError("add() needs at least one polynomial")
        shape = polys[0].shape
        acc: dict[Word, sp.Expr] = {}
        for p in polys:
            self._check_shape(p.shape, shape)
            for w, c in p.terms.items():
                _add_into(acc, w, c)
        return MatPoly(shape, acc)

    def scale(self, p: MatPoly, coeff: sp.Expr | int) -> MatPoly:
        """``coeff · p`` for a scalar ``coeff`` (which may contain atoms)."""
        coeff = sp.sympify(coeff)
        if coeff == 0:
            return MatPoly(p.shape, {})
        return MatPoly(p.shape, {w: c * coeff for w, c in p.terms.items()})

    def sub(self, p: MatPoly, q: MatPoly) -> MatPoly:
        """The difference ``p − q``."""
        return self.add(p, self.scale(q, -1))

    def transpose(self, p: MatPoly) -> MatPoly:
        """The transpose ``pᵀ``."""
        return MatPoly((p.shape[1], p.shape[0]), {self.transpose_word(w): c for w, c in p.terms.items()})

    def mul(self, p: MatPoly, q: MatPoly) -> MatPoly:
        """The matrix product ``p q``, rewritten to normal form."""
        self._check_shape(p.shape[1], q.shape[0])
        acc: dict[Word, sp.Expr] = {}
        for (w1, c1), (w2, c2) in itertools.product(p.terms.items(), q.terms.items()):
            for w, c in self._rewrite(w1 + w2).items():
                _add_into(acc, w, c * c1 * c2)
        return MatPoly((p.shape[0], q.shape[1]), {w: sp.expand(c) for w, c in acc.items() if sp.expand(c) != 0})

    def normalize(self, p: MatPoly) -> MatPoly:
        """``p`` with the rules applied and closed scalar segments moved into the coefficients."""
        acc: dict[Word, sp.Expr] = {}
        for w, c in p.terms.items():
            for w2, c2 in self._rewrite(w).items():
                _add_into(acc, w2, c * c2)
        return MatPoly(p.shape, {w: sp.expand(c) for w, c in acc.items() if sp.expand(c) != 0})

    @staticmethod
    def _check_shape(a: sp.Expr, b: sp.Expr) -> None:
        if sp.sympify(a) != sp.sympify(b):
            raise ValueError(f"shape mismatch: {a} vs {b}")

    def _rewrite(self, word: Word) -> dict[Word, sp.Expr]:
        """Normal form of one word: rules applied, closed 1x1 segments pulled out.

        A word is split at its boundaries of dimension 1; every segment whose
        shape is 1x1 is a scalar invariant and moves into the coefficient, so
        that two words that differ only by scalar factors are recognised as
        the same matrix (``v xᵀ x xᵀ = [xᵀx] · v xᵀ``).
        """
        out: dict[Word, sp.Expr] = {}
        for w, c in self._apply_rules(word).items():
            c2, w2 = self._extract_scalars(w)
            _add_into(out, w2, c * c2)
        return out

    def _extract_scalars(self, word: Word) -> tuple[sp.Expr, Word]:
        coeff = sp.S.One
        kept: list[Factor] = []
        start = 0
        for i, f in enumerate(word):
            if _is_one(f.shape[1]) or i == len(word) - 1:
                seg = word[start:i + 1]
                if _is_one(seg[0].shape[0]) and _is_one(seg[-1].shape[1]):
                    coeff *= self._closed_atom(seg)
                else:
                    kept.extend(seg)
                start = i + 1
        return coeff, tuple(kept)

    def _apply_rules(self, word: Word) -> dict[Word, sp.Expr]:
        """Apply the rewrite rules to one word until none matches."""
        word = tuple(self._norm_factor(f) for f in word)
        if not self.rules:
            return {word: sp.S.One}
        out: dict[Word, sp.Expr] = {}
        stack: list[tuple[Word, sp.Expr]] = [(word, sp.S.One)]
        while stack:
            w, c = stack.pop()
            hit = self._find_rule(w)
            if hit is None:
                _add_into(out, w, c)
                continue
            pos, rule = hit
            pre, post = w[:pos], w[pos + len(rule.lhs):]
            for rw, rc in rule.rhs.terms.items():
                stack.append((pre + rw + post, c * rc))
        return out

    def _find_rule(self, w: Word) -> tuple[int, Rule] | None:
        for rule in self.rules:
            k = len(rule.lhs)
            for pos in range(len(w) - k + 1):
                if w[pos:pos + k] == rule.lhs:
                    return pos, rule
        return None

    # ------------------------------------------------------------------ scalars
    def atom_word(self, atom: sp.Symbol) -> tuple[str, Word] | None:
        """The (kind, word) behind an atom symbol, or ``None`` for other symbols."""
        return self._atom_words.get(atom)

    def is_atom(self, s: sp.Basic) -> bool:
        """True if ``s`` is one of this algebra's atom symbols."""
        return s in self._atom_words

    def atoms_of(self, expr: sp.Expr) -> set[sp.Symbol]:
        """The atoms of this algebra among the free symbols of ``expr``."""
        return {s for s in sp.sympify(expr).free_symbols if s in self._atom_words}

    def _atom(self, kind: str, word: Word) -> sp.Symbol:
        key = (kind, word)
        sym = self._atoms.get(key)
        if sym is None:
            body = " ".join(str(f) for f in word)
            name = f"tr({body})" if kind == "trace" else f"[{body}]"
            sym = sp.Symbol(name, real=True)
            self._atoms[key] = sym
            self._atom_words[sym] = key
        return sym

    def _closed_atom(self, word: Word) -> sp.Expr:
        """Atom of a closed (1x1) word that has no interior dimension 1."""
        if not word:
            return sp.S.One
        tw = self.transpose_word(word)
        return self._atom("word", min(word, tw))

    def _scalar_word(self, word: Word) -> sp.Expr:
        """Value of a 1x1 word: the product of its closed segments."""
        out = sp.S.One
        start = 0
        for i, f in enumerate(word):
            if _is_one(f.shape[1]):
                out *= self._closed_atom(word[start:i + 1])
                start = i + 1
        if start != len(word):  # pragma: no cover - guarded by shape checks
            raise ValueError("word is not closed")
        return out

    def scalar(self, p: MatPoly) -> sp.Expr:
        """Value of a 1x1 matrix polynomial as a scalar expression in atoms."""
        if not (_is_one(p.shape[0]) and _is_one(p.shape[1])):
            raise ValueError(f"not a 1x1 polynomial: shape {p.shape}")
        return sp.expand(sum((c * self._scalar_word(w) for w, c in p.terms.items()), sp.S.Zero))

    def _trace_word(self, word: Word, size: sp.Expr) -> sp.Expr:
        if not word:
            return sp.sympify(size)
        k = len(word)
        for i in range(k):  # a boundary of dimension 1 opens the cycle
            if _is_one(word[i].shape[1]):
                rotated = word[i + 1:] + word[:i + 1]
                # rules may apply across the old cut; the result is 1x1 (scalars)
                return sp.expand(sum((c * self._scalar_word(w) for w, c in self._rewrite(rotated).items()),
                                     sp.S.Zero))
        # apply rules across the cyclic boundary
        for i in range(k):
            rotated = word[i:] + word[:i]
            rewritten = self._apply_rules(rotated)
            if rewritten != {rotated: sp.S.One}:
                return sp.expand(sum((c * self._trace_word(w, size) for w, c in rewritten.items()), sp.S.Zero))
        tw = self.transpose_word(word)
        candidates = [w[i:] + w[:i] for w in (word, tw) for i in range(k)]
        return self._atom("trace", min(candidates))

    def trace(self, p: MatPoly) -> sp.Expr:
        """The trace of a square polynomial, as a scalar expression in atoms."""
        self._check_shape(p.shape[0], p.shape[1])
        return sp.expand(sum((c * self._trace_word(w, p.shape[0]) for w, c in p.terms.items()), sp.S.Zero))

    def inner(self, p: MatPoly, q: MatPoly) -> sp.Expr:
        """Frobenius inner product ``tr(pᵀ q)``."""
        return self.trace(self.mul(self.transpose(p), q))

    def poly_scalar(self, value: sp.Expr | int) -> MatPoly:
        """A scalar as a 1x1 polynomial."""
        value = sp.sympify(value)
        return MatPoly((sp.S.One, sp.S.One), {(): value} if value != 0 else {})

    # ------------------------------------------------------------------ calculus
    def _word_poly(self, word: Word, coeff: sp.Expr = sp.S.One) -> MatPoly:
        if not word:
            raise ValueError("empty word has no shape of its own")
        return MatPoly((word[0].shape[0], word[-1].shape[1]), {word: sp.sympify(coeff)})

    def _atom_grad(self, atom: sp.Symbol, sym: MatrixSymbol) -> MatPoly:
        kind, word = self._atom_words[atom]
        shape = sym.shape
        acc: dict[Word, sp.Expr] = {}
        if kind == "word":
            positions = range(len(word))
            for j in positions:
                f = word[j]
                if f.name != sym.name:
                    continue
                a, b = word[:j], word[j + 1:]
                if not f.transposed:
                    g = self.transpose_word(a) + self.transpose_word(b)
                else:
                    g = b + a
                for w, c in self._rewrite(g).items():
                    _add_into(acc, w, c)
        else:
            for j in range(len(word)):
                f = word[j]
                if f.name != sym.name:
                    continue
                rest = word[j + 1:] + word[:j]
                g = self.transpose_word(rest) if not f.transposed else rest
                for w, c in self._rewrite(g).items():
                    _add_into(acc, w, c)
        if sym.name in self.symmetric:
            raise UnsupportedExpression("gradients with respect to symmetric symbols are not supported")
        return MatPoly(shape, acc)

    def grad(self, scalar_expr: sp.Expr, sym: MatrixSymbol) -> MatPoly:
        """Gradient of a scalar polynomial in atoms with respect to ``sym``."""
        scalar_expr = sp.expand(sp.sympify(scalar_expr))
        acc: dict[Word, sp.Expr] = {}
        for atom in self.atoms_of(scalar_expr):
            kind, word = self._atom_words[atom]
            if not any(f.name == sym.name for f in word):
                continue
            outer = sp.diff(scalar_expr, atom)
            for w, c in self._atom_grad(atom, sym).terms.items():
                _add_into(acc, w, c * outer)
        return MatPoly(sym.shape, {w: sp.expand(c) for w, c in acc.items() if sp.expand(c) != 0})

    def substitute(self, scalar_expr: sp.Expr, subs: Mapping[MatrixSymbol, MatPoly]) -> sp.Expr:
        """Replace matrix symbols inside every atom by matrix polynomials."""
        names = {s.name: p for s, p in subs.items()}
        reps: dict[sp.Symbol, sp.Expr] = {}
        for atom in self.atoms_of(scalar_expr):
            kind, word = self._atom_words[atom]
            if not any(f.name in names for f in word):
                continue
            if kind == "word":
                reps[atom] = self.scalar(self._substitute_word(word, names))
            else:
                reps[atom] = self.trace(self._substitute_word(word, names))
        return sp.expand(sp.sympify(scalar_expr).xreplace(reps))

    def _substitute_word(
        self, word: Word, names: Mapping[str, MatPoly], shape: tuple[sp.Expr, sp.Expr] | None = None
    ) -> MatPoly:
        if not word:
            if shape is None:
                raise ValueError("an empty word needs its shape")
            return MatPoly(shape, {(): sp.S.One})
        out: MatPoly | None = None
        for f in word:
            if f.name in names:
                p = names[f.name]
                piece = self.transpose(p) if f.transposed else p
            else:
                piece = self._word_poly((f,))
            out = piece if out is None else self.mul(out, piece)
        assert out is not None
        return out

    def scale_symbols(self, scalar_expr: sp.Expr, factors: Mapping[MatrixSymbol, sp.Expr]) -> sp.Expr:
        """Evaluate with each listed matrix symbol ``X`` replaced by ``c·X``."""
        names = {s.name: sp.sympify(c) for s, c in factors.items()}
        reps = {}
        for atom in self.atoms_of(scalar_expr):
            _, word = self._atom_words[atom]
            c = sp.Mul(*[names.get(f.name, sp.S.One) for f in word])
            if c != 1:
                reps[atom] = c * atom
        return sp.expand(sp.sympify(scalar_expr).xreplace(reps))

    def words_with(self, atom: sp.Symbol) -> str:
        """The word of an atom as text (``tr(...)`` for a trace)."""
        kind, word = self._atom_words[atom]
        body = " ".join(str(f) for f in word)
        return f"tr({body})" if kind == "trace" else body

    def words_with_expr(self, expr: sp.Expr) -> str:
        """A readable form of an expression in atoms (atoms shown as words)."""
        reps = {a: sp.Symbol(self.words_with(a)) for a in self.atoms_of(expr)}
        return sp.sstr(sp.sympify(expr).xreplace(reps))

    def atom_latex(self, atom: sp.Symbol) -> str:
        """The word of an atom as LaTeX."""
        kind, word = self._atom_words[atom]
        body = " ".join(f.latex() for f in word)
        return rf"\operatorname{{tr}}\left({body}\right)" if kind == "trace" else body

    # ------------------------------------------------------------------ numbers
    def evaluate(
        self, expr: sp.Expr, matrices: Mapping[str, np.ndarray], scalars: Mapping[sp.Symbol, float] = {}
    ) -> float:
        """Numeric value of a scalar expression in atoms, for concrete matrices.

        Each atom is evaluated directly from its word (a product or trace of
        the given arrays), independently of how the expression was derived:
        this is the bridge used by the numeric cross-checks of symbolic claims.
        """
        import numpy as np

        def mat(f: Factor) -> np.ndarray:
            a = np.asarray(matrices[f.name], dtype=float)
            if a.ndim == 1:  # a column vector given as a 1-D array
                a = a[:, None]
            return a.T if f.transposed else a

        vals = {}
        for atom in self.atoms_of(expr):
            kind, word = self._atom_words[atom]
            prod = mat(word[0])
            for f in word[1:]:
                prod = prod @ mat(f)
            vals[atom] = float(np.trace(prod)) if kind == "trace" else float(prod[0, 0])
        out = sp.sympify(expr).xreplace({**vals, **scalars})
        return float(out)
