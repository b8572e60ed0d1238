"""Learning-rate bounds of every family: each derived, each with the inequality it rests on.

A bound predicts ``k_max``, the end of the proven catapult window in
``k = η lam_0``: the weight norm (or the modified norm ``Q``) cannot grow, so
GD cannot diverge, while ``η K norm_0 < 4``. Every bound here is

* **derived**: its constant ``K`` comes from the symbolic layer (an operator
  relation ``Ψ³ = K Ψ``, a Rayleigh read-off of ``lam = θᵀ M θ``, or a
  derived identity for ``rᵀ Θ r``), and ``k_max = lam_0 · eta_max(lam -> K norm)``
  with ``eta_max`` the derived root of the weight-norm increment;
* **stated**: ``rests_on`` names the inequalities used, in order; the property
  tests check each of them numerically, with a deliberately weakened twin;
* **labelled**: ``rigorous`` is false for heuristics (``effective``) and for
  the naive bias-model "bound" that drops the feature terms.

Data-dependent spectral constants (``λ_max(ψ²)``, ``λ_max(Σ_a ψ_a²)``,
``λ_max(XᵀX)``) are symbols here, listed in ``constants`` with their meaning;
the experiments layer computes them for a concrete model and data set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import sympy as sp

from . import _symbols as S
from ._bounds import operator_relation, window_k
from ._derive import Derivation
from ._theory import theory

__all__ = [
    "BoundSpec",
    "bounds",
    "Lpsi2",
    "LOmega",
    "Leff2",
    "LX",
    "B",
    "Q",
    "modified_norm_identity",
]

#: λ_max(ψ(x)²) for one datum; λ_max(Σ_a ψ(x_a)²); λ_max(ψ_eff²); λ_max(XᵀX)
Lpsi2, LOmega, Leff2, LX = sp.symbols("Lpsi2 LOmega Leff2 LX", positive=True)
#: batch size, modified norm Q = |θ|² + (θ_φ·φ)²/|φ|²
B, Q = sp.symbols("B Q", positive=True)


@dataclass(frozen=True)
class BoundSpec:
    """One bound: ``lam <= K · norm`` and the window end ``k_max`` it implies."""

    name: str
    model: str
    K: sp.Expr
    norm: str
    k_max: sp.Expr
    rests_on: tuple[str, ...]
    rigorous: bool
    constants: Mapping[str, str] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict:
        return {
            "K": sp.sstr(self.K),
            "norm": self.norm,
            "k_max": sp.sstr(self.k_max),
            "rigorous": self.rigorous,
            "rests_on": list(self.rests_on),
            "constants": dict(self.constants),
            "note": self.note,
        }


def _eta_max(model: str) -> sp.Expr:
    return theory(model).thresholds["eta_max"].eta


def _rayleigh_operator_word(der: Derivation) -> tuple[sp.Expr, str]:
    """For a one-block model, ``lam = θᵀ M θ``: read ``M`` off ``∇_θ lam = 2 M θ``.

    Returns ``(coefficient, word)`` with ``M = coefficient · word`` (a single
    word, as for the pure quadratic model: ``ζ² ψ ψ``).
    """
    (theta,) = der.model.params
    g = der.algebra.grad(der.lam, theta)
    if len(g.terms) != 1:
        raise ValueError(f"lam is not a single-word quadratic form: {g.terms}")
    ((word, coeff),) = g.terms.items()
    if not word or word[-1].name != theta.name:
        raise ValueError("gradient of lam is not linear in theta")
    op = " ".join(str(f) for f in word[:-1])
    return sp.simplify(coeff / 2), op


def modified_norm_identity() -> tuple[sp.Expr, sp.Expr]:
    """For the bias model, ``ΔQ`` with ``Q = |θ|² + (θ_φ·φ)²/|φ|²``, and the residual
    of ``ΔQ = η r (η r (lam + |φ|²) − 4 f)`` (zero)."""
    from .models.quadratic import phi, phi2, theta_phi

    der = theory("quadratic-bias").derivation
    A = der.algebra
    p_atom = A.scalarize(theta_phi.T * phi)
    phi2_atom = A.scalarize(phi.T * phi)
    q_expr = der.w2 + p_atom**2 / phi2_atom
    dq = sp.simplify(der.named(der.next(q_expr) - q_expr))
    claim = S.eta * S.r * (S.eta * S.r * (der.lam + phi2_atom) - 4 * der.f)
    residual = sp.simplify(der.named(sp.expand(der.next(q_expr) - q_expr - claim)))
    _ = phi2
    return dq, residual


@lru_cache(maxsize=None)
def bounds(model: str) -> dict[str, BoundSpec]:
    """The bounds of a model family, derived once."""
    lemma = "weight-norm lemma: Δ|θ|² = η r (η lam r − 4 f) (derived), so |θ|² decreases while η lam < 4 (y = 0)"
    if model == "uv":
        th = theory("uv")
        return {"lemma": BoundSpec(
            "lemma", "uv", th.K, "w2", th.window,
            (lemma, "Ψ³ = (x2/n) Ψ (derived), so λ_max(Ψ²) = x2/n and lam = θᵀΨ²θ <= (x2/n)|θ|²"),
            True)}
    if model == "pure-quadratic":
        th = theory("pure-quadratic")
        coeff, op = _rayleigh_operator_word(th.derivation)
        K1 = coeff * Lpsi2
        em = _eta_max("pure-quadratic")
        return {
            "single": BoundSpec(
                "single", model, K1, "w2", window_k(em, K1),
                (lemma, f"lam = θᵀ ({sp.sstr(coeff)} {op}) θ (derived)",
                 "Rayleigh quotient: θᵀ ψ² θ <= λ_max(ψ²) |θ|²"),
                True, {"Lpsi2": "λ_max(ψ(x)²) for the datum"},
                "one datum, y = 0"),
            "omega": BoundSpec(
                "omega", model, coeff * LOmega / B, "w2", window_k(em, coeff * LOmega / B),
                ("many-data lemma: Δ|θ|² = −(4η/B) r·f + (η²/B²) rᵀΘr (derived)",
                 f"rᵀ Θ r = |Σ_a r_a ∇f_a|² = {sp.sstr(coeff)} θᵀ (Σ_a r_a ψ_a)² θ (derived)",
                 "Cauchy–Schwarz: |Σ_a r_a ψ_a θ|² <= |r|² Σ_a |ψ_a θ|²",
                 "Rayleigh quotient: θᵀ (Σ_a ψ_a²) θ <= λ_max(Σ_a ψ_a²) |θ|², i.e. λ_max of the block matrix Ω",
                 "λ_max(H) = max_r rᵀΘr / (B |r|²)"),
                True, {"LOmega": "λ_max(Σ_a ψ(x_a)²)", "B": "number of data"},
                "rigorous for y = 0; with labels the lemma needs the loss to be large (THEORY §4)"),
            "effective": BoundSpec(
                "effective", model, coeff * Leff2, "w2", window_k(em, coeff * Leff2),
                ("replaces ψ by ψ_eff = B^(-1/2) Σ_a e_a ψ(x_a), e the top eigenvector of H_0",
                 "single-datum argument applied to ψ_eff as if it were one datum"),
                False, {"Leff2": "λ_max(ψ_eff²)"},
                "heuristic: not a bound (H need not stay aligned with e)"),
        }
    if model == "quadratic-bias":
        th = theory("quadratic-bias")
        from .models.quadratic import phi2, theta_psi

        der = th.derivation
        g = der.algebra.grad(der.lam, theta_psi)
        ((word, coeff),) = g.terms.items()
        Kpsi = sp.simplify(coeff / 2) * Lpsi2
        dq, residual = modified_norm_identity()
        if residual != 0:  # pragma: no cover - derived identity
            raise RuntimeError(f"modified-norm identity fails: {residual}")
        # sign-changing factor of ΔQ at y = 0: η (lam + |φ|²) − 4, root eta = 4/(lam + phi2)
        eta_q = 4 / (S.lam + phi2)
        # lam + |φ|² <= 2|φ|² + K_ψ Q
        k_feat = sp.simplify(S.lam * eta_q.subs(S.lam, phi2 + Kpsi * Q))
        return {
            "feature": BoundSpec(
                "feature", model, Kpsi, "Q", k_feat,
                ("modified norm Q = |θ|² + (θ_φ·φ)²/|φ|²: ΔQ = η r (η r (lam + |φ|²) − 4 f) (derived)",
                 "at y = 0, Q decreases while η (lam + |φ|²) < 4",
                 "lam + |φ|² = 2|φ|² + ζ² θ_ψᵀψ²θ_ψ <= 2|φ|² + ζ² λ_max(ψ²) Q (Rayleigh, |θ_ψ|² <= Q)"),
                True, {"Lpsi2": "λ_max(ψ(x)²)", "phi2": "|φ(x)|²", "Q": "modified norm at init"},
                "one datum, y = 0"),
            "naive": BoundSpec(
                "naive", model, Kpsi, "w2", sp.Integer(4),
                ("drops the feature terms: treats the model as homogeneous (Euler fails: θ·∇f = θ_φ·φ + 2 f_ψ)",),
                False, {}, "not a bound: such models diverge below k = 4"),
        }
    if model == "two-layer":
        from .models.two_layer import a, s, two_layer_unit_model
        from .models.uv import d

        unit = Derivation(two_layer_unit_model())
        c_unit = operator_relation(unit)
        if c_unit is None:  # pragma: no cover
            raise RuntimeError("unit operator relation not found")
        # c_unit = s² · base; the largest over the two slopes s ∈ {1, a}
        base = sp.simplify(c_unit / s**2)
        if base.has(s):  # pragma: no cover - the unit relation is quadratic in s
            raise RuntimeError(f"unexpected unit relation {c_unit}")
        K1 = base * sp.Max(1, a**2)
        em = _eta_max("two-layer")
        KB = sp.Max(1, a**2) * LX / (S.n * d * B)
        return {
            "single": BoundSpec(
                "single", model, K1, "w2", window_k(em, K1),
                (lemma + " (within an activation region; Euler holds for piecewise-linear σ)",
                 "per unit, Ψ_i³ = s_i² x2/(n d) Ψ_i (derived), Ψ block-diagonal over units",
                 "so lam = θᵀΨ²θ <= max_i s_i² x2/(n d) |θ|², s_i ∈ {1, a}"),
                True, {"a": "negative-side slope", "x2": "|x|²", "d": "input dimension"},
                "one datum, y = 0; equals x2/(n d) for |a| <= 1"),
            "data": BoundSpec(
                "data", model, KB, "w2", window_k(em, KB),
                ("many-data lemma: Δ|θ|² = −(4η/B) r·f + (η²/B²) rᵀΘr (derived)",
                 "rᵀΘr = Σ_i [v_i² |X (s_i ∘ r)|² + (u_iᵀ X (s_i ∘ r))²]/(n d) (per-unit slopes s_ia on datum a)",
                 "|X z|² <= λ_max(XᵀX) |z|² and (uᵀ X z)² <= |u|² λ_max(XᵀX) |z|² (Cauchy–Schwarz)",
                 "|s_i ∘ r|² <= max(1, a²) |r|²; λ_max(H) = max_r rᵀΘr/(B|r|²)"),
                True, {"LX": "λ_max(XᵀX)", "B": "number of data", "a": "slope", "d": "input dimension"},
                "rigorous for y = 0; with labels the lemma needs the loss to be large"),
        }
    raise ValueError(f"no bounds for model {model!r}")
