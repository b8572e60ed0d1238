"""The constant K with ``lam <= K w2`` and the catapult window it proves.

For a degree-2 homogeneous model ``f = ½ θᵀ Ψ θ`` the gradient map
``θ ↦ ∇f = Ψ θ`` is linear, and ``lam = |Ψθ|² = θᵀ Ψ² θ``, so
``lam <= λ_max(Ψ²) |θ|²`` (Rayleigh quotient) and ``K = λ_max(Ψ²)``.

:func:`operator_relation` finds, in the word algebra, a scalar ``c`` with
``Ψ³ θ = c Ψ θ`` for a generic ``θ`` (applying the gradient map three times).
Then ``Ψ (Ψ² − c) = 0``: the eigenvalues of the symmetric ``Ψ`` lie in
``{0, ±√c}``, hence ``K = λ_max(Ψ²) = c``. The window follows by putting
``lam <= K w2`` into the divergence threshold: the weight norm is
non-increasing while ``η K w2 < 4`` (``eta_max`` at ``lam = K w2``), i.e. for
``k = η lam_0 < lam_0 · eta_max(lam = K w2_0)``.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from . import _symbols as S
from ._derive import Derivation
from ._words import MatPoly

__all__ = ["gradient_operator_powers", "operator_relation", "window_k"]


def gradient_operator_powers(der: Derivation, power: int) -> list[dict[MatrixSymbol, MatPoly]]:
    """``[Ψθ, Ψ²θ, …, Ψ^power θ]`` as block -> MatPoly maps (``Ψθ = ∇f``)."""
    A = der.algebra
    current = dict(der.grads)
    out = [current]
    for _ in range(power - 1):
        names = {p.name: current[p] for p in der.model.params}
        nxt: dict[MatrixSymbol, MatPoly] = {}
        for p, g in der.grads.items():
            acc: MatPoly | None = None
            for word, coeff in g.terms.items():
                # parameters may sit in the coefficient too (closed sub-words)
                coeff = A.substitute(coeff, current)
                term = A.scale(A._substitute_word(word, names, g.shape), coeff)
                acc = term if acc is None else A.add(acc, term)
            nxt[p] = acc if acc is not None else MatPoly(p.shape, {})
        current = nxt
        out.append(current)
    return out


def operator_relation(der: Derivation) -> sp.Expr | None:
    """The scalar ``c`` with ``Ψ³θ = c Ψθ`` for every ``θ``, or ``None``."""
    if not der.is_homogeneous(2):
        return None
    A = der.algebra
    c = sp.Symbol("c")
    g1, _, g3 = gradient_operator_powers(der, 3)
    equations: list[sp.Expr] = []
    for p in der.model.params:
        diff = A.sub(g3[p], A.scale(g1[p], c))
        equations.extend(diff.terms.values())
    if not equations:
        return None
    equations = [der.named(e) for e in equations]
    sol = sp.solve(equations, c, dict=True)
    if len(sol) != 1 or c not in sol[0]:
        return None
    value = sp.simplify(sol[0][c])
    # every coefficient must vanish, not only the ones solve() used
    if any(sp.simplify(e.subs(c, value)) != 0 for e in equations):
        return None
    if der.param_atoms(value):
        return None
    return value


def window_k(eta_max: sp.Expr, K: sp.Expr) -> sp.Expr:
    """Upper end of the proven catapult window in ``k = η lam_0``.

    ``lam_0 · eta_max`` with ``lam`` replaced by its bound ``K w2`` (the state
    symbols then stand for the initial state).
    """
    return sp.simplify(S.lam * eta_max.subs(S.lam, K * S.w2))
