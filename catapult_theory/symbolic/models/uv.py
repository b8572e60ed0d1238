"""The uv model ``f(x) = vᵀ U x / √n`` (width ``n``, input dimension ``d``).

Declared as SymPy objects only; everything else (gradient, NTK, update map,
thresholds, lemma) is derived by the generic core.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from .. import _symbols as S
from .._derive import SymbolicModel

__all__ = ["uv_model", "d"]

#: input dimension
d = sp.Symbol("d")


def uv_model() -> SymbolicModel:
    """The uv model on one datum ``x ∈ R^d`` with ``x2 = |x|²``.

    Parameters are ``U ∈ R^{n×d}`` and ``v ∈ R^n``; ``n`` and ``d`` are symbols.
    """
    U = MatrixSymbol("U", S.n, d)
    v = MatrixSymbol("v", S.n, 1)
    x = MatrixSymbol("x", d, 1)
    return SymbolicModel(
        name="uv",
        params=(U, v),
        output=v.T * U * x / sp.sqrt(S.n),
        aliases=((x.T * x, S.x2),),
        description="uv model f(x) = v^T U x / sqrt(n), one datum, x2 = |x|^2",
    )
