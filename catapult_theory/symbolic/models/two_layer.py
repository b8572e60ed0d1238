"""Two-layer homogeneous nets ``f(x) = Σ_i v_i σ(u_i·x) / √(n d)`` (THEORY §2, model 4).

σ is piecewise linear with slopes 1 (``z > 0``) and ``a`` (``z <= 0``), so on
one datum ``σ(u_i·x) = s_i u_i·x`` with ``s_i ∈ {1, a}`` fixed within an
activation region. With ``S = diag(s_i)`` (symmetric, and ``(S − I)(S − a I) = 0``
gives the rewrite rule ``S² = (1 + a) S − a I``):

    f = vᵀ S U x / √(n d).

The generic core then derives, within a region, Euler's identity, the
weight-norm lemma and the one-step map (which does not close: ``vᵀ S v`` and
``xᵀUᵀ S U x`` are left over). The constant ``K`` of ``lam <= K w2`` comes from
one unit: its Hessian block satisfies ``Ψ_i³ = s_i² x2/(n d) Ψ_i``, and ``Ψ`` is
block-diagonal over units, so ``K = max(1, a²) x2 / (n d)``.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import Identity, MatrixSymbol

from .. import _symbols as S
from .._derive import SymbolicModel
from .uv import d

__all__ = ["a", "s", "two_layer_model", "two_layer_unit_model"]

#: negative-side slope of σ, and the slope of one unit in its region
a = sp.Symbol("a")
s = sp.Symbol("s")


def two_layer_model() -> SymbolicModel:
    """The whole net on one datum, within an activation region (slopes ``S``)."""
    n = S.n
    U = MatrixSymbol("U", n, d)
    v = MatrixSymbol("v", n, 1)
    x = MatrixSymbol("x", d, 1)
    Sl = MatrixSymbol("S", n, n)
    return SymbolicModel(
        name="two-layer",
        params=(U, v),
        output=v.T * Sl * U * x / sp.sqrt(n * d),
        symmetric=(Sl,),
        rules=((Sl * Sl, (1 + a) * Sl - a * Identity(n)),),
        aliases=((x.T * x, S.x2),),
        scalars=(a, d),
        description="two-layer net f = sum_i v_i sigma(u_i.x)/sqrt(n d), sigma slopes 1 and a, "
                    "one datum, within an activation region (S = diag of slopes)",
    )


def two_layer_unit_model() -> SymbolicModel:
    """One unit ``f_i = v_i s u_iᵀ x / √(n d)`` with its slope ``s`` in its region."""
    n = S.n
    u = MatrixSymbol("u", d, 1)
    v = MatrixSymbol("vi", 1, 1)
    x = MatrixSymbol("x", d, 1)
    return SymbolicModel(
        name="two-layer[unit]",
        params=(u, v),
        output=s * v * u.T * x / sp.sqrt(n * d),
        aliases=((x.T * x, S.x2),),
        scalars=(s, d),
        description="one unit of the two-layer net",
    )
