"""What the proofs assume: a short list of named axioms, each a textbook fact.

A proof step cites an axiom with :class:`proofs.Axiom` and the arguments of
one instance; the kernel computes the instance (its hypotheses and claims)
here, checks that the step's claim is one of the claims and that every
hypothesis is available in the step. Every theorem lists the axioms its proof
used (JSON ``axioms``). Nothing else is assumed: the one-step algebra, the
NTK bounds, Cauchy-Schwarz, the spectral Rayleigh bound and the slope lemma
are proved (identities of the word algebra plus :data:`norm-nonneg`).

The instances are built from the arguments alone, with canonical names for
what an axiom asserts to exist (the top eigenvalue of a matrix), so a proof
cannot make an axiom say more than its schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from ._kernel import Always

__all__ = ["AXIOMS", "AxiomSpec", "lambda_max", "limit_of"]


@dataclass(frozen=True)
class AxiomSpec:
    name: str
    statement: str
    reference: str
    instance: Callable[..., tuple[tuple, tuple]]
    #: arguments that name something the axiom asserts to exist: they must be fresh symbols
    fresh: tuple[str, ...] = ()


def lambda_max(matrix: Any) -> sp.Symbol:
    """The canonical symbol of the largest eigenvalue of a symmetric matrix."""
    return sp.Symbol(f"lambda_max[{sp.sstr(matrix)}]", real=True)


def limit_of(expr: Any, index: sp.Symbol) -> sp.Limit:
    """``lim_{index -> oo} expr`` (unevaluated)."""
    return sp.Limit(expr, index, sp.oo)


def _poly(algebra, v):
    return v if hasattr(v, "terms") else algebra.poly(v)


def _norm_nonneg(algebra, vector, aliases=None):
    """``vector``: a matrix expression or polynomial, or a tuple of them (the blocks
    of one vector, whose squared norms add); ``aliases`` renames data atoms."""
    blocks = vector if isinstance(vector, tuple) else (vector,)
    total = sp.Integer(0)
    for b in blocks:
        v = _poly(algebra, b)
        total += algebra.inner(v, v)
    total = sp.expand(total)
    if aliases:
        total = total.xreplace(dict(aliases))
    return (), (sp.Ge(total, 0),)


def _rayleigh(algebra, matrix, vector):
    M, v = _poly(algebra, matrix), _poly(algebra, vector)
    if algebra.normalize(algebra.transpose(M)).terms != algebra.normalize(M).terms:
        raise ValueError(f"Rayleigh-Ritz needs a symmetric matrix, got {matrix}")
    return (), (sp.Le(algebra.inner(v, algebra.mul(M, v)), lambda_max(matrix) * algebra.inner(v, v)),)


def _top_eigenvector(algebra, matrix, vector):
    """``vector`` is named as a unit top eigenvector of ``matrix`` (it must be a
    matrix symbol named ``e_max``): ``eᵀMe = λ_max(M)`` and ``eᵀe = 1``."""
    M, e = _poly(algebra, matrix), _poly(algebra, vector)
    if getattr(vector, "name", "") != "e_max":
        raise ValueError("the top eigenvector must be the matrix symbol e_max")
    if algebra.normalize(algebra.transpose(M)).terms != algebra.normalize(M).terms:
        raise ValueError(f"a top eigenvector needs a symmetric matrix, got {matrix}")
    return (), (sp.Eq(algebra.inner(e, algebra.mul(M, e)), lambda_max(matrix)), sp.Eq(algebra.inner(e, e), 1))


def _monotone(seq, index, lower, limit):
    """``seq`` (an expression in ``index``) non-increasing and bounded below by
    ``lower`` converges; ``limit`` is the fresh symbol naming its limit."""
    t = index
    return ((Always(sp.Le(seq.xreplace({t: t + 1}), seq), t), Always(sp.Ge(seq, lower), t)),
            (sp.Eq(limit_of(seq, t), limit), sp.Ge(limit, lower)))


def _series(term, index, bound, dummy):
    """Non-negative terms with bounded partial sums tend to 0."""
    t, s = index, dummy
    return ((Always(sp.Ge(term, 0), t), Always(sp.Le(sp.Sum(term.xreplace({t: s}), (s, 0, t)), bound), t)),
            (sp.Eq(limit_of(term, t), 0),))


def _limit_polynomial(expr, index, limits):
    """``expr`` a polynomial in sequences with the given limits (a mapping from a
    term such as ``lam(t)`` to its limit) and in constants: its limit is the same
    polynomial of the limits."""
    t = index
    expr = sp.sympify(expr)
    gens = {k: sp.Symbol(f"_limit_gen_{i}") for i, k in enumerate(limits)}
    plain = expr.xreplace(gens)
    if plain.has(t) or any(a.has(t) for a in plain.atoms(sp.Function)):
        raise ValueError(f"{expr} depends on {t} other than through {list(limits)}")
    if not plain.is_polynomial(*gens.values()):
        raise ValueError(f"{expr} is not a polynomial in {list(limits)}")
    hyps = tuple(sp.Eq(limit_of(k, t), v) for k, v in limits.items())
    return hyps, (sp.Eq(limit_of(expr, t), plain.xreplace({g: limits[k] for k, g in gens.items()})),)


def _limit_congruence(seq, other, index, limit):
    t = index
    return ((Always(sp.Eq(seq, other), t), sp.Eq(limit_of(other, t), limit)), (sp.Eq(limit_of(seq, t), limit),))


def _ratio(seq, multiplier, index, limit):
    """A sequence that never vanishes, tends to 0 and obeys ``a(t+1) = m(t) a(t)``
    with ``m(t) -> mu`` has ``-1 <= mu <= 1``."""
    t = index
    return ((Always(sp.Ne(seq, 0), t), Always(sp.Eq(seq.xreplace({t: t + 1}), multiplier * seq), t),
             sp.Eq(limit_of(multiplier, t), limit), sp.Eq(limit_of(seq**2, t), 0)),
            (sp.Le(limit, 1), sp.Ge(limit, -1)))


def _ratio_escape(seq, multiplier, index, q, C, limit):
    """A never-zero sequence with ``a(t+1) = m(t) a(t)`` and ``m(t)² >= q − C a(t)²``
    (``q > 1``, ``C >= 0``) cannot tend to 0: if ``a(t)² -> L`` then ``L > 0``."""
    t = index
    hyps = (Always(sp.Ne(seq, 0), t), Always(sp.Eq(seq.xreplace({t: t + 1}), multiplier * seq), t),
            Always(sp.Ge(multiplier**2, q - C * seq**2), t), sp.Gt(q, 1, evaluate=False), sp.Ge(C, 0),
            sp.Eq(limit_of(seq**2, t), limit))
    return tuple(h for h in hyps if not isinstance(h, sp.logic.boolalg.BooleanAtom)), (sp.Gt(limit, 0),)


def _finite_sum(term, index, dummy):
    """``sum_{s=0}^{t} a(s) = sum_{s=0}^{t-1} a(s) + a(t)`` and the empty sum is 0."""
    t, s = index, dummy
    a = term.xreplace({t: s})
    return (), (sp.Eq(sp.Sum(a, (s, 0, t)), sp.Sum(a, (s, 0, t - 1)) + term, evaluate=False),
                sp.Eq(sp.Sum(a, (s, 0, -1)), 0, evaluate=False))


def _max_upper(args):
    m = sp.Max(*args)
    return (), tuple(sp.Ge(m, a) for a in args)


def _gram_trace(algebra, stacked, sum_of_squares, vector):
    """``stacked`` (a matrix symbol ``V``) has the columns ``ψ_a θ`` and
    ``sum_of_squares`` is ``Σ_a ψ_a²``: ``tr(VᵀV) = Σ_a |ψ_a θ|² = θᵀ(Σ_a ψ_a²)θ``,
    the definition of the matrix product."""
    V, Ssum, th = (algebra.poly(x) for x in (stacked, sum_of_squares, vector))
    if getattr(stacked, "name", "") != "V_stack" or getattr(sum_of_squares, "name", "") != "Psi2_sum":
        raise ValueError("gram-trace relates the matrix symbols V_stack and Psi2_sum")
    return (), (sp.Eq(algebra.inner(V, V), algebra.inner(th, algebra.mul(Ssum, th))),)


#: name -> axiom, in the order a certificate lists them
AXIOMS: dict[str, AxiomSpec] = {a.name: a for a in (
    AxiomSpec("norm-nonneg", "|v|^2 >= 0 for every real vector or matrix v (Frobenius inner product)",
              "Horn & Johnson, Matrix Analysis (2nd ed.), §5.1: an inner product is positive semidefinite",
              _norm_nonneg),
    AxiomSpec("rayleigh-ritz", "v^T M v <= lambda_max(M) |v|^2 for a real symmetric matrix M",
              "Horn & Johnson, Matrix Analysis (2nd ed.), Theorem 4.2.2 (Rayleigh-Ritz)", _rayleigh),
    AxiomSpec("top-eigenvector", "a real symmetric matrix M has a unit eigenvector e_max with "
              "e_max^T M e_max = lambda_max(M)",
              "Horn & Johnson, Matrix Analysis (2nd ed.), Theorem 4.1.5 (spectral theorem) and 4.2.2",
              _top_eigenvector),
    AxiomSpec("monotone-convergence", "a non-increasing sequence bounded below converges to a limit, "
              "which is at least the bound", "Rudin, Principles of Mathematical Analysis (3rd ed.), Theorem 3.14",
              _monotone, fresh=("limit",)),
    AxiomSpec("series-terms-to-zero", "non-negative terms whose partial sums are bounded tend to 0",
              "Rudin, Principles of Mathematical Analysis (3rd ed.), Theorems 3.23 and 3.24", _series),
    AxiomSpec("limit-of-polynomial", "a polynomial of convergent sequences converges to the polynomial of "
              "their limits", "Rudin, Principles of Mathematical Analysis (3rd ed.), Theorem 3.3",
              _limit_polynomial),
    AxiomSpec("limit-congruence", "sequences equal at every index have the same limit",
              "Rudin, Principles of Mathematical Analysis (3rd ed.), Definition 3.1", _limit_congruence),
    AxiomSpec("ratio-limit", "a never-zero sequence with a(t+1) = m(t) a(t), m(t) -> mu and a(t) -> 0 has "
              "|mu| <= 1", "Rudin, Principles of Mathematical Analysis (3rd ed.), Theorem 3.34 (ratio test)",
              _ratio),
    AxiomSpec("ratio-escape", "a never-zero sequence with a(t+1) = m(t) a(t) and m(t)^2 >= q - C a(t)^2 (q > 1, "
              "C >= 0) does not tend to 0: if a(t)^2 -> L then L > 0 (once C a^2 < (q - 1)/2, |a| grows "
              "geometrically)", "Rudin, Principles of Mathematical Analysis (3rd ed.), Theorem 3.34 (ratio test)",
              _ratio_escape),
    AxiomSpec("finite-sum", "sum_{s=0}^{t} a(s) = sum_{s=0}^{t-1} a(s) + a(t); the empty sum is 0",
              "definition of a finite sum", _finite_sum),
    AxiomSpec("max-upper", "max(a, b, ...) is at least each of its arguments", "definition of the maximum",
              _max_upper),
    AxiomSpec("gram-trace", "tr(V^T V) = sum_a |v_a|^2 = theta^T (sum_a psi_a^2) theta for V with columns "
              "v_a = psi_a theta", "definition of the matrix product", _gram_trace),
)}
