"""Three-layer homogeneous nets ``f(x) = vᵀ σ(W2 σ(W1 x)) / (n √d)`` (a ReLU MLP, THEORY §7 rows 14–16).

The net in NTK parametrisation, ``h1 = σ(W1 x/√d)``, ``h2 = σ(W2 h1/√n)``,
``f = vᵀ h2/√n`` with ``W1 ∈ R^{n×d}``, ``W2 ∈ R^{n×n}``, ``v ∈ R^n`` drawn
N(0, 1), is the function above: ``σ`` (slopes 1 for ``z > 0`` and ``a`` otherwise)
is positively homogeneous, so the scalings move outside (``c = 1/(n√d)``, the
two-layer family's ``1/√(n d)`` with one more ``1/√n``). On one datum, within an
activation region, ``σ(z) = s z`` with the slopes of each layer in a diagonal
matrix (``S1``, ``S2``, each with ``(S − I)(S − a I) = 0``)::

    f = vᵀ S2 W2 S1 W1 x / (n √d).

The word algebra expresses this net (two mask matrices) and derives, with the
width symbolic:

* Euler's identity ``θ·∇f = 3 f``: ``f`` is homogeneous of degree 3 (the direct test
  ``f(cθ) = c³ f(θ)``), so the two-layer lemma's premise ``θ·∇f = 2f`` fails;
* the one-step weight-norm change ``Δ|θ|² = η r (η lam r − 6 f)``: the lemma's form
  with ``2·3 = 6`` in place of ``2·2 = 4``; at ``y = 0`` the norm falls iff
  ``η lam < 6`` (:func:`three_layer_facts`);
* ``lam = |∇f|²`` is homogeneous of degree 4, so no constant ``K`` gives
  ``lam <= K |θ|²`` (the ratio scales like ``c²``): the step of the two-layer proof
  that turns the lemma into a window (``η lam_t <= η K |θ_t|² <= η K |θ_0|² < 4``)
  has no degree-3 counterpart in ``|θ|²``. What holds is ``lam <= K |θ|⁴`` with
  ``K = c² x2 / 3`` (per block, Cauchy–Schwarz and ``|σ(z)| <= |z|``, ``|σ'| <= 1``
  bound ``|∇_b f|²`` by ``c² x2`` times the product of the other two squared block
  norms; the sum of the three pairwise products is at most ``|θ|⁴/3``), which gives
  the window ``k < 6 lam_0 / (K |θ_0|⁴)``: of order ``d/n²``, empty at any width
  where the net is wide.

:func:`three_layer_model` is the registered declaration (``catapult derive|prove
three-layer``): the ReLU net (``a = 0``, the study's case, ``S² = S``), whose
update map the generic core derives in seconds; with the slope ``a`` kept symbolic
(:func:`three_layer_leaky_model`) that elimination does not finish in minutes, so
the facts above are derived for the leaky net directly (no update map needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy.matrices.expressions import Identity, MatrixSymbol

from .. import _symbols as S
from .._derive import Derivation, SymbolicModel, lemma_increment
from .._thresholds import Threshold, sign_change_root
from .two_layer import a
from .uv import d

__all__ = ["DEPTH", "ThreeLayerFacts", "three_layer_facts", "three_layer_leaky_model", "three_layer_model"]

#: number of weight layers (parameter blocks ``W1``, ``W2``, ``v``)
DEPTH = 3


def _declare(relu: bool) -> SymbolicModel:
    n = S.n
    W1, W2 = MatrixSymbol("W1", n, d), MatrixSymbol("W2", n, n)
    v, x = MatrixSymbol("v", n, 1), MatrixSymbol("x", d, 1)
    S1, S2 = MatrixSymbol("S1", n, n), MatrixSymbol("S2", n, n)

    def rule(Sl: MatrixSymbol) -> tuple[object, object]:
        return (Sl * Sl, Sl if relu else (1 + a) * Sl - a * Identity(n))

    slope = "ReLU (a = 0)" if relu else "slopes 1 and a"
    return SymbolicModel(
        name="three-layer" if relu else "three-layer[leaky]",
        params=(W1, W2, v),
        output=v.T * S2 * W2 * S1 * W1 * x / (n * sp.sqrt(d)),
        symmetric=(S1, S2),
        rules=(rule(S1), rule(S2)),
        aliases=((x.T * x, S.x2),),
        scalars=(d,) if relu else (a, d),
        description=f"three-layer net f = v^T sigma(W2 sigma(W1 x))/(n sqrt(d)), {slope}, one datum, "
                    "within an activation region (S1, S2 = diagonal slopes of the two hidden layers)",
    )


def three_layer_model() -> SymbolicModel:
    """The ReLU three-layer net on one datum within an activation region (registered as ``three-layer``)."""
    return _declare(relu=True)


def three_layer_leaky_model() -> SymbolicModel:
    """The same net with the negative-side slope ``a`` kept symbolic."""
    return _declare(relu=False)


@dataclass(frozen=True)
class ThreeLayerFacts:
    """What the word algebra derives for the three-layer net (module docstring).

    ``degree``: the degree of homogeneity of ``f`` (the smallest ``p`` whose residual
    ``f(cθ) − c^p f(θ)`` vanishes); ``euler_ratio``: ``θ·∇f / f``; ``two_layer_euler``:
    ``θ·∇f − 2f`` (the two-layer premise; not 0); ``lam_degree``: the degree of
    ``lam``; ``weight_norm_change``: ``Δ|θ|²`` in atoms; ``lemma_constant``: the ``C``
    solved from ``Δ|θ|² = η r (η lam r − C f)``; ``lemma_residual``: that identity's
    residual with the solved ``C`` (0); ``two_layer_lemma_residual``: with the two-layer
    constant 4 (not 0); ``eta_max``: the sign change of the increment at ``y = 0``;
    ``am_gm``: ``(L − 1)/(2L) (Σ a)² − Σ_{i<j} a_i a_j − Σ_{i<j} (a_i − a_j)²/(2L)`` for
    ``L`` block norms (0: the sum-of-squares certificate of the pairwise bound);
    ``K``: ``lam <= K |θ|⁴``; ``window``: ``k_max = lam_0 eta_max(lam = K w2²)``
    in the initial-state symbols ``lam``, ``w2``.
    """

    model: SymbolicModel
    degree: int
    euler_ratio: sp.Expr
    two_layer_euler: sp.Expr
    lam_degree: int
    weight_norm_change: sp.Expr
    lemma_constant: sp.Expr
    lemma_residual: sp.Expr
    two_layer_lemma_residual: sp.Expr
    eta_max: Threshold
    output_scale: sp.Expr
    am_gm: sp.Expr
    K: sp.Expr
    window: sp.Expr


def _degree(der: Derivation, expr: sp.Expr) -> int:
    """The homogeneity degree of ``expr`` (:meth:`.Derivation.homogeneity_degree`); it must have one."""
    p = der.homogeneity_degree(expr)
    if p is None:
        raise ValueError(f"not homogeneous: {expr}")
    return p


@cache
def three_layer_facts() -> ThreeLayerFacts:
    """Derive (once per process, about a second) the degree-3 facts of the leaky three-layer net."""
    der = Derivation(three_layer_leaky_model())
    A = der.algebra
    f = der.f
    dot = sp.expand(sum((A.inner(A.poly(p), g) for p, g in der.grads.items()), sp.S.Zero))
    degree = _degree(der, f)
    euler_ratio = sp.simplify(der.named(dot) / der.named(f))
    two_layer_euler = der.euler_residual()
    lam_degree = _degree(der, der.lam)
    dw2 = der.weight_norm_change()
    C = sp.Symbol("C")
    sol = sp.solve(sp.Eq(der.named(dw2), der.named(lemma_increment(der.lam, f, C))), C)
    if len(sol) != 1:
        raise ValueError(f"the weight-norm change is not of the lemma's form: {sol}")
    constant = sp.simplify(sol[0])
    lemma_residual = sp.simplify(der.named(sp.expand(dw2 - lemma_increment(der.lam, f, constant))))
    two_layer_residual = sp.simplify(der.named(sp.expand(dw2 - lemma_increment(der.lam, f))))
    eta_max = sign_change_root(lemma_increment(constant=constant).subs(S.r, S.f), "eta_max",
                               "sign change of the derived weight-norm increment at y = 0")
    # f = c · (one closed word): c is the output scale
    (word,) = der.param_atoms(f)
    scale = sp.simplify(f / word)
    L = len(der.model.params)
    norms = sp.symbols(f"a1:{L + 1}", nonnegative=True)
    pairs = [(norms[i], norms[j]) for i in range(L) for j in range(i + 1, L)]
    frac = sp.Rational(L - 1, 2 * L)
    am_gm = sp.expand(frac * sum(norms) ** 2 - sum(p * q for p, q in pairs)
                      - sum((p - q) ** 2 for p, q in pairs) / (2 * L))
    K = sp.simplify(scale**2 * S.x2 * frac)
    window = sp.simplify(S.lam * eta_max.eta.subs(S.lam, K * S.w2**2))
    return ThreeLayerFacts(der.model, degree, euler_ratio, two_layer_euler, lam_degree, dw2, constant,
                           lemma_residual, two_layer_residual, eta_max, scale, am_gm, K, window)
