"""Learning-rate bounds of every family: each derived, each with the premises it rests on.

A bound predicts ``k_max``, the end of the proven catapult window in
``k = η lam_0``: the weight norm (or the modified norm ``Q``) cannot grow, so
GD cannot diverge, while ``η`` stays below the root of the norm's increment
with ``lam`` replaced by its bound. Every bound here is

* **derived**: its NTK inequality ``ntk`` (``lam <= K w2``, ``lam <= |φ|² + K Q``
  or ``λ_max(H) <= K w2``) uses a constant from the symbolic layer (an operator
  relation ``Ψ³ = K Ψ``, a Rayleigh read-off of ``lam = θᵀ M θ``, a per-unit
  form of ``rᵀ Θ r``), and ``k_max = lam_0 · eta*`` with ``eta*`` the derived
  sign-change root of the norm's increment (:func:`sign_change_root`) at
  ``lam = ntk.rhs``;
* **stated**: ``premises`` lists, in order, the relations the NTK inequality and
  the window rest on, each as a SymPy relation between named scalar quantities
  (:data:`QUANTITIES`) with its kind: ``derived`` (an identity of the word
  algebra, with the meaning of each quantity there), ``operator`` (a relation
  ``Ψ³θ = KΨθ`` of the gradient map), ``lemma`` (a named standard inequality:
  Rayleigh quotient, Cauchy–Schwarz, the variational form of ``λ_max``),
  ``cases`` (a quantity taking finitely many values) or ``definition``.
  ``proofs/`` checks each premise and that they compose to ``ntk``;
  ``rests_on`` is their prose;
* **labelled**: ``rigorous`` is false for heuristics (``effective``) and for
  the naive bias-model "bound" that drops the feature terms.

Data-dependent spectral constants (``λ_max(ψ²)``, ``λ_max(Σ_a ψ_a²)``,
``λ_max(XᵀX)``) are symbols here, listed in ``constants`` with their meaning;
the experiments layer computes them for a concrete model and data set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Callable, Mapping

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from ..errors import InvalidInput
from . import _store
from . import _symbols as S
from ._bounds import operator_relation
from ._derive import LEMMA_CONSTANT, Derivation, SymbolicModel, lemma_increment
from ._theory import MODELS, theory
from ._thresholds import sign_change_root

__all__ = [
    "BoundSpec",
    "Premise",
    "QUANTITIES",
    "bounds",
    "batch_lemma_model",
    "Lpsi2",
    "LOmega",
    "Leff2",
    "LX",
    "B",
    "Q",
    "modified_norm_identity",
    "window_from",
]

#: λ_max(ψ(x)²) for one datum; λ_max(Σ_a ψ(x_a)²); λ_max(ψ_eff²); λ_max(XᵀX)
Lpsi2, LOmega, Leff2, LX = sp.symbols("Lpsi2 LOmega Leff2 LX", positive=True)
#: batch size, modified norm Q = |θ|² + (θ_φ·φ)²/|φ|²
B, Q = sp.symbols("B Q", positive=True)

# named scalar quantities the premises relate (no assumptions: the proofs state them)
psi2_form, w2_phi, w2_psi, p_phi = sp.symbols("psi2_form w2_phi w2_psi p_phi")
lam_H, rTr, r2, G, S2 = sp.symbols("lam_H rTr r2 G S2")
A_v, C_u, U2, V2, Z2, s2 = sp.symbols("A_v C_u U2 V2 Z2 s2")
Dw2, DQ, fsum2 = sp.symbols("Dw2 DQ fsum2")

#: quantity -> (meaning, sign used by certificates: "nonnegative", "positive" or "real")
QUANTITIES: dict[sp.Symbol, tuple[str, str]] = {
    S.f: ("network output f", "real"),
    S.y: ("target y", "real"),
    S.r: ("residual r = f − y", "real"),
    S.eta: ("learning rate", "positive"),
    S.lam: ("NTK eigenvalue lam = |∇f|² (one datum)", "nonnegative"),
    S.w2: ("squared weight norm |θ|²", "nonnegative"),
    S.n: ("width", "positive"),
    S.x2: ("|x|²", "positive"),
    Lpsi2: ("λ_max(ψ(x)²)", "positive"),
    LOmega: ("λ_max(Σ_a ψ(x_a)²)", "positive"),
    Leff2: ("λ_max(ψ_eff²)", "positive"),
    LX: ("λ_max(XᵀX)", "positive"),
    B: ("number of data", "positive"),
    Q: ("modified norm |θ|² + (θ_φ·φ)²/|φ|²", "nonnegative"),
    psi2_form: ("θᵀψ²θ", "nonnegative"),
    w2_phi: ("|θ_φ|²", "nonnegative"),
    w2_psi: ("|θ_ψ|²", "nonnegative"),
    p_phi: ("θ_φ·φ", "real"),
    lam_H: ("λ_max(H), H = Θ/B", "nonnegative"),
    rTr: ("rᵀΘr at the top eigenvector r of H", "nonnegative"),
    r2: ("|r|² (r ≠ 0)", "positive"),
    G: ("|Σ_a r_a ψ_a θ|²", "nonnegative"),
    S2: ("Σ_a |ψ_a θ|² = θᵀ(Σ_a ψ_a²)θ", "nonnegative"),
    A_v: ("Σ_i v_i² |Xᵀ(s_i∘r)|²", "nonnegative"),
    C_u: ("Σ_i (u_iᵀXᵀ(s_i∘r))²", "nonnegative"),
    U2: ("|U|²_F", "nonnegative"),
    V2: ("|v|²", "nonnegative"),
    Z2: ("max_i |s_i∘r|²", "nonnegative"),
    s2: ("max_i s_i² (slopes s_i ∈ {1, a})", "nonnegative"),
    Dw2: ("|θ'|² − |θ|² after one GD step", "real"),
    DQ: ("Q' − Q after one GD step", "real"),
    fsum2: ("r·f = Σ_a r_a f_a", "real"),
}

#: a quantity's meaning in a word algebra: a matrix expression, a scalar
#: expression over other quantities, or a function of the Derivation
Meaning = Any


@dataclass(frozen=True)
class Premise:
    """One relation a bound rests on.

    ``relation`` is ``Eq`` or ``Le`` between named scalar quantities
    (:data:`QUANTITIES`, the contract symbols and the model's scalars). For a
    ``derived`` premise, ``derivation`` builds the word algebra in which it is an
    identity and ``meanings`` gives each quantity there (the contract symbols
    ``f, lam, w2`` mean the derivation's own); an ``operator`` premise states
    ``Ψ³θ = K Ψθ`` (``relation`` is ``Eq(K_op, K)`` naming the constant) for the
    gradient map of ``derivation``; a ``cases`` premise says the left side takes
    the values ``cases``; a ``lemma`` premise names a standard inequality
    (``lemma``) that the proofs check on real models.
    """

    name: str
    text: str
    relation: sp.Basic
    kind: str
    derivation: Callable[[], Derivation] | None = None
    meanings: Mapping[sp.Symbol, Meaning] = field(default_factory=dict)
    cases: tuple[sp.Expr, ...] = ()
    lemma: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("derived", "operator", "lemma", "cases", "definition", "heuristic"):
            raise ValueError(f"unknown premise kind {self.kind!r}")
        if self.kind in ("derived", "operator") and self.derivation is None:
            raise ValueError(f"premise {self.name!r} of kind {self.kind} needs a derivation")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class BoundSpec:
    """One bound: the NTK inequality ``ntk`` and the window end ``k_max`` it implies."""

    name: str
    model: str
    K: sp.Expr
    norm: str
    k_max: sp.Expr
    premises: tuple[Premise, ...]
    rigorous: bool
    constants: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    #: the NTK inequality the window uses (``None`` for non-rigorous bounds)
    ntk: sp.Basic | None = None
    #: the increment of the norm (``w2`` or ``Q``) in one GD step, in ``r``
    norm_increment: sp.Expr | None = None
    #: the hypotheses the proof needs, in words
    hypotheses: tuple[str, ...] = ()
    #: the id of the theorem of ``catapult prove`` that proves the window (``None``: not rigorous)
    theorem: str | None = None

    def _repr_latex_(self) -> str:
        """Jupyter: the NTK inequality, ``K`` and ``k_max`` as display math."""
        from ..display_hooks import show

        return show("bound_latex", self)

    @property
    def rests_on(self) -> tuple[str, ...]:
        """The premises in words, in order."""
        return tuple(p.text for p in self.premises)

    @property
    def norm_symbol(self) -> sp.Symbol:
        """The symbol of the bound's norm: ``Q`` for the modified norm, else ``w2``."""
        return Q if self.norm == "Q" else S.w2

    def to_json(self) -> dict[str, Any]:
        """The bound as JSON-ready data (expressions as SymPy strings)."""
        return {
            "K": sp.sstr(self.K),
            "norm": self.norm,
            "k_max": sp.sstr(self.k_max),
            "rigorous": self.rigorous,
            "rests_on": list(self.rests_on),
            "constants": dict(self.constants),
            "note": self.note,
            "hypotheses": list(self.hypotheses),
            "theorem": self.theorem,
        }


def window_from(norm_increment: sp.Expr, ntk_rhs: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``(eta*, k_max)``: the sign-change root of the norm increment at ``y = 0``
    (``r = f``) and the window end ``lam_0 · eta*`` with ``lam`` replaced by the
    NTK bound's right-hand side (the state symbols then stand for the initial state)."""
    root = sign_change_root(norm_increment.subs(S.r, S.f).subs(S.y, 0), "eta_norm",
                            "sign change of the norm increment at y = 0").eta
    return root, sp.simplify(S.lam * root.subs(S.lam, ntk_rhs))


def _eta_max(model: str) -> sp.Expr:
    return theory(model).thresholds["eta_max"].eta


def _rayleigh_operator_word(der: Derivation, theta: MatrixSymbol | None = None) -> tuple[sp.Expr, str]:
    """For a one-block quadratic form, ``lam = θᵀ M θ`` (in block ``theta``):
    read ``M`` off ``∇_θ lam = 2 M θ``; ``(coefficient, word)`` with ``M = coefficient · word``."""
    if theta is None:
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
    der = theory("quadratic-bias").derivation
    dq = sp.simplify(der.named(_q_meaning(der)))
    prem = _modified_norm_premise()
    claim = sp.sympify(prem.relation.rhs).subs({S.lam: der.lam, S.f: der.f})
    residual = sp.simplify(der.named(sp.expand(_q_meaning(der) - claim)))
    return dq, residual


def _q_atoms(der: Derivation) -> sp.Expr:
    from .models.quadratic import phi, theta_phi

    A = der.algebra
    return der.w2 + A.scalarize(theta_phi.T * phi) ** 2 / A.scalarize(phi.T * phi)


def _q_meaning(der: Derivation) -> sp.Expr:
    """``Q' − Q`` in atoms."""
    q = _q_atoms(der)
    return sp.expand(der.next(q) - q)


def _theory_derivation(model: str) -> Callable[[], Derivation]:
    def build() -> Derivation:
        return theory(model).derivation

    build.__name__ = f"derivation_of_{model}"
    return build


def _lemma_premise(model: str) -> Premise:
    return Premise(
        "lemma",
        "weight-norm lemma: Δ|θ|² = η r (η lam r − 4 f) (derived)",
        sp.Eq(Dw2, lemma_increment()),
        "derived",
        _theory_derivation(model),
        {Dw2: lambda der: der.weight_norm_change()},
    )


@lru_cache(maxsize=None)
def batch_lemma_model() -> tuple[Derivation, MatrixSymbol]:
    """The pure quadratic model seen through ``rᵀf`` on a batch: with the residual
    row frozen, ``rᵀ f = (ζ/2) θᵀ P θ`` with ``P = Σ_a r_a ψ_a`` (symmetric), so
    ``rᵀΘr = |∇_θ (rᵀf)|²`` is the ``lam`` of this one-block model."""
    from .models.quadratic import m, theta, zeta

    P = MatrixSymbol("P", m, m)
    model = SymbolicModel("pure-quadratic[r^T f]", (theta,), zeta / 2 * theta.T * P * theta, symmetric=(P,),
                          scalars=(zeta,), description="r^T f of the pure quadratic model, P = sum_a r_a psi_a")
    return Derivation(model), P


@lru_cache(maxsize=None)
def _two_layer_batch_unit() -> Derivation:
    """One unit of the two-layer net seen through ``rᵀf`` on a batch, within a region:
    ``rᵀ f_i = v_i u_iᵀ Xᵀ z_i / √(n d)`` with ``z_i = s_i ∘ r``."""
    from .models.uv import d

    u = MatrixSymbol("u", d, 1)
    vi = MatrixSymbol("vi", 1, 1)
    X = MatrixSymbol("X", B, d)
    z = MatrixSymbol("z", B, 1)
    model = SymbolicModel("two-layer[unit, r^T f]", (u, vi), vi * u.T * X.T * z / sp.sqrt(S.n * d),
                          scalars=(d,), description="one unit of r^T f, z = s_i o r")
    return Derivation(model)


def _modified_norm_premise() -> Premise:
    return Premise(
        "modified-norm",
        "modified norm Q = |θ|² + (θ_φ·φ)²/|φ|²: ΔQ = η r (η r (lam + |φ|²) − 4 f) (derived)",
        sp.Eq(DQ, S.eta * S.r * (S.eta * S.r * (S.lam + _phi2()) - 4 * S.f)),
        "derived",
        _theory_derivation("quadratic-bias"),
        {DQ: _q_meaning},
    )


def _sq_norm(der: Derivation, block: MatrixSymbol) -> sp.Expr:
    """``|block|²`` (Frobenius) in the atoms of ``der``."""
    A = der.algebra
    return A.inner(A.poly(block), A.poly(block))


def _phi2() -> sp.Symbol:
    from .models.quadratic import phi2

    return phi2


# ---------------------------------------------------------------- per family
def _uv_bounds() -> dict[str, BoundSpec]:
    th = theory("uv")
    K = th.K
    prem = (
        _lemma_premise("uv"),
        Premise("operator", "Ψ³ = (x2/n) Ψ for the gradient map Ψθ = ∇f (derived)",
                sp.Eq(sp.Symbol("K_op"), K), "operator", _theory_derivation("uv")),
        Premise("spectral", "Ψ symmetric and Ψ(Ψ² − K) = 0, so spec(Ψ²) ⊆ {0, K}; Rayleigh: "
                "lam = θᵀΨ²θ <= λ_max(Ψ²)|θ|² = (x2/n)|θ|²",
                sp.Le(S.lam, K * S.w2), "lemma", lemma="spectral-rayleigh"),
    )
    ntk = sp.Le(S.lam, K * S.w2)
    _, k_max = window_from(lemma_increment(), ntk.rhs)
    return {"lemma": BoundSpec("lemma", "uv", K, "w2", k_max, prem, True, ntk=ntk,
                               norm_increment=lemma_increment(), hypotheses=("y = 0", "one datum"),
                               theorem="catapult-window-uv")}


def _pure_quadratic_bounds() -> dict[str, BoundSpec]:
    from .models.quadratic import psi, theta

    model = "pure-quadratic"
    th = theory(model)
    coeff, op = _rayleigh_operator_word(th.derivation)
    K1 = coeff * Lpsi2
    rayleigh_form = Premise(
        "rayleigh-form", f"lam = θᵀ ({sp.sstr(coeff)} {op}) θ (derived)",
        sp.Eq(S.lam, coeff * psi2_form), "derived", _theory_derivation(model),
        {psi2_form: theta.T * psi * psi * theta})
    ntk1 = sp.Le(S.lam, K1 * S.w2)
    _, k1 = window_from(lemma_increment(), ntk1.rhs)
    single = BoundSpec(
        "single", model, K1, "w2", k1,
        (_lemma_premise(model), rayleigh_form,
         Premise("rayleigh", "Rayleigh quotient: θᵀ ψ² θ <= λ_max(ψ²) |θ|²",
                 sp.Le(psi2_form, Lpsi2 * S.w2), "lemma", lemma="rayleigh")),
        True, {"Lpsi2": "λ_max(ψ(x)²) for the datum"}, "one datum, y = 0",
        ntk=ntk1, norm_increment=lemma_increment(), hypotheses=("y = 0", "one datum"),
        theorem="catapult-window-pure-quadratic")
    bder, P = batch_lemma_model()
    KO = coeff * LOmega / B
    ntkO = sp.Le(lam_H, KO * S.w2)
    _, kO = window_from(lemma_increment(), ntkO.rhs.subs(lam_H, S.lam))
    omega = BoundSpec(
        "omega", model, KO, "w2", kO,
        (Premise("batch-lemma", "many-data lemma: Δ|θ|² = −(4η/B) r·f + (η²/B²) rᵀΘr (derived)",
                 sp.Eq(Dw2, -LEMMA_CONSTANT * S.eta / B * fsum2 + S.eta**2 / B**2 * rTr), "lemma", lemma="batch-lemma"),
         Premise("rTr-form", f"rᵀ Θ r = |Σ_a r_a ∇f_a|² = {sp.sstr(coeff)} θᵀ (Σ_a r_a ψ_a)² θ (derived)",
                 sp.Eq(rTr, coeff * G), "derived", lambda: bder, {rTr: lambda der: der.lam,
                                                                  G: theta.T * P * P * theta}),
         Premise("cauchy-schwarz", "Cauchy–Schwarz: |Σ_a r_a ψ_a θ|² <= |r|² Σ_a |ψ_a θ|²",
                 sp.Le(G, r2 * S2), "lemma", lemma="cauchy-schwarz"),
         Premise("rayleigh", "Rayleigh quotient: θᵀ (Σ_a ψ_a²) θ <= λ_max(Σ_a ψ_a²) |θ|², "
                 "i.e. λ_max of the block matrix Ω", sp.Le(S2, LOmega * S.w2), "lemma", lemma="rayleigh"),
         Premise("lambda-max", "λ_max(H) = max_r rᵀΘr / (B |r|²), attained at the top eigenvector",
                 sp.Eq(lam_H, rTr / (B * r2)), "lemma", lemma="variational-lambda-max")),
        False, {"LOmega": "λ_max(Σ_a ψ(x_a)²)", "B": "number of data"},
        "not rigorous: its NTK bound λ_max(H) <= K|θ|² is a theorem (ntk-bound-omega), and so is the many-data "
        "decrease of |θ|² at y = 0 (weight-norm-decrease), but the window induction on many data is not",
        ntk=ntkO, norm_increment=lemma_increment(), hypotheses=("y = 0",))
    effective = BoundSpec(
        "effective", model, coeff * Leff2, "w2",
        window_from(lemma_increment(), coeff * Leff2 * S.w2)[1],
        (Premise("psi-eff", "replaces ψ by ψ_eff = B^(-1/2) Σ_a e_a ψ(x_a), e the top eigenvector of H_0",
                 sp.Le(S.lam, coeff * Leff2 * S.w2), "heuristic"),
         Premise("as-one-datum", "single-datum argument applied to ψ_eff as if it were one datum",
                 sp.Le(S.lam, coeff * Leff2 * S.w2), "heuristic")),
        False, {"Leff2": "λ_max(ψ_eff²)"}, "heuristic: not a bound (H need not stay aligned with e)")
    return {"single": single, "omega": omega, "effective": effective}


def _quadratic_bias_bounds() -> dict[str, BoundSpec]:
    from .models.quadratic import phi, phi2, theta_phi, theta_psi, psi

    model = "quadratic-bias"
    th = theory(model)
    coeff, op = _rayleigh_operator_word(th.derivation, theta_psi)
    Kpsi = coeff * Lpsi2
    mod = _modified_norm_premise()
    ntk = sp.Le(S.lam, phi2 + Kpsi * Q)
    _, k_feat = window_from(mod.relation.rhs, ntk.rhs)
    der = _theory_derivation(model)
    feature = BoundSpec(
        "feature", model, Kpsi, "Q", k_feat,
        (mod,
         Premise("Q", "Q = |θ|² + (θ_φ·φ)²/|φ|² (definition)", sp.Eq(Q, S.w2 + p_phi**2 / phi2), "definition"),
         Premise("blocks", "|θ|² = |θ_φ|² + |θ_ψ|² (derived)", sp.Eq(S.w2, w2_phi + w2_psi), "derived", der,
                 {w2_phi: theta_phi.T * theta_phi, w2_psi: theta_psi.T * theta_psi}),
         Premise("ntk-form", f"lam = |φ|² + θ_ψᵀ ({sp.sstr(coeff)} {op}) θ_ψ (derived)",
                 sp.Eq(S.lam, phi2 + coeff * psi2_form), "derived", der,
                 {psi2_form: theta_psi.T * psi * psi * theta_psi}),
         Premise("rayleigh", "Rayleigh quotient: θ_ψᵀ ψ² θ_ψ <= λ_max(ψ²) |θ_ψ|²",
                 sp.Le(psi2_form, Lpsi2 * w2_psi), "lemma", lemma="rayleigh")),
        True, {"Lpsi2": "λ_max(ψ(x)²)", "phi2": "|φ(x)|²", "Q": "modified norm at init"},
        "one datum, y = 0; lam + |φ|² <= 2|φ|² + ζ² λ_max(ψ²) Q, so Q decreases while η (2|φ|² + K Q) < 4",
        ntk=ntk, norm_increment=mod.relation.rhs, hypotheses=("y = 0", "one datum"),
        theorem="catapult-window-quadratic-bias")
    naive = BoundSpec(
        "naive", model, Kpsi, "w2", sp.Integer(4),
        (Premise("homogeneous", "drops the feature terms: treats the model as homogeneous "
                 "(Euler fails: θ·∇f = θ_φ·φ + 2 f_ψ)", sp.Le(S.lam, Kpsi * S.w2), "heuristic"),),
        False, {}, "not a bound: such models diverge below k = 4")
    _ = phi
    return {"feature": feature, "naive": naive}


def _two_layer_bounds() -> dict[str, BoundSpec]:
    from .models.two_layer import a, s, two_layer_unit_model
    from .models.uv import d

    model = "two-layer"
    unit = Derivation(two_layer_unit_model())
    c_unit = operator_relation(unit)
    if c_unit is None:  # pragma: no cover
        raise RuntimeError("unit operator relation not found")
    # c_unit = s² · base; the largest over the two slopes s ∈ {1, a}
    base = sp.simplify(c_unit / s**2)
    if base.has(s):  # pragma: no cover - the unit relation is quadratic in s
        raise RuntimeError(f"unexpected unit relation {c_unit}")
    smax = sp.Max(1, a**2)
    K1 = base * smax
    ntk1 = sp.Le(S.lam, K1 * S.w2)
    _, k1 = window_from(lemma_increment(), ntk1.rhs)
    slopes = Premise("slopes", "s_i ∈ {1, a}, so s_i² <= max(1, a²)", sp.Le(s2, smax), "cases", cases=(1, a**2))
    single = BoundSpec(
        "single", model, K1, "w2", k1,
        (_lemma_premise(model),
         Premise("unit-operator", "per unit, Ψ_i³ = s_i² x2/(n d) Ψ_i (derived); Ψ block-diagonal over units",
                 sp.Eq(sp.Symbol("K_op"), c_unit), "operator", lambda: unit),
         Premise("spectral", "so spec(Ψ_i²) ⊆ {0, s_i² x2/(n d)} and lam = θᵀΨ²θ <= max_i s_i² x2/(n d) |θ|² "
                 "(Rayleigh)", sp.Le(S.lam, s2 * base * S.w2), "lemma", lemma="spectral-rayleigh"),
         slopes),
        True, {"a": "negative-side slope", "x2": "|x|²", "d": "input dimension"},
        "one datum, y = 0; equals x2/(n d) for |a| <= 1",
        ntk=ntk1, norm_increment=lemma_increment(), hypotheses=("y = 0", "one datum", "a != 1"),
        theorem="catapult-window-two-layer")
    KB = smax * LX / (S.n * d * B)
    ntkB = sp.Le(lam_H, KB * S.w2)
    _, kB = window_from(lemma_increment(), ntkB.rhs.subs(lam_H, S.lam))
    bunit = _two_layer_batch_unit()
    u = MatrixSymbol("u", d, 1)
    vi = MatrixSymbol("vi", 1, 1)
    X = MatrixSymbol("X", B, d)
    z = MatrixSymbol("z", B, 1)
    data = BoundSpec(
        "data", model, KB, "w2", kB,
        (Premise("batch-lemma", "many-data lemma: Δ|θ|² = −(4η/B) r·f + (η²/B²) rᵀΘr (derived)",
                 sp.Eq(Dw2, -LEMMA_CONSTANT * S.eta / B * fsum2 + S.eta**2 / B**2 * rTr), "lemma", lemma="batch-lemma"),
         Premise("lambda-max", "λ_max(H) = max_r rᵀΘr / (B |r|²), attained at the top eigenvector",
                 sp.Eq(lam_H, rTr / (B * r2)), "lemma", lemma="variational-lambda-max"),
         Premise("unit-form", "rᵀΘr = Σ_i [v_i² |Xᵀ(s_i ∘ r)|² + (u_iᵀ Xᵀ (s_i ∘ r))²]/(n d) "
                 "(derived per unit, per-unit slopes s_ia on datum a)",
                 sp.Eq(rTr, (A_v + C_u) / (S.n * d)), "derived", lambda: bunit,
                 {rTr: lambda der: der.lam,
                  A_v: vi.T * vi * z.T * X * X.T * z, C_u: u.T * X.T * z * z.T * X * u}),
         Premise("rayleigh", "|Xᵀz|² <= λ_max(XᵀX) |z|² (Rayleigh), summed: Σ_i v_i²|Xᵀz_i|² <= λ_max(XᵀX) "
                 "max_i|z_i|² |v|²", sp.Le(A_v, LX * Z2 * V2), "lemma", lemma="rayleigh"),
         Premise("cauchy-schwarz", "(uᵀ Xᵀ z)² <= |u|² λ_max(XᵀX) |z|² (Cauchy–Schwarz, Rayleigh), summed",
                 sp.Le(C_u, LX * Z2 * U2), "lemma", lemma="cauchy-schwarz"),
         Premise("slopes", "|s_i ∘ r|² <= max(1, a²) |r|² (s_ia ∈ {1, a})", sp.Le(Z2, smax * r2), "lemma",
                 lemma="slopes"),
         Premise("blocks", "|θ|² = |U|²_F + |v|² (derived)", sp.Eq(S.w2, U2 + V2), "derived",
                 _theory_derivation(model),
                 {U2: lambda der: _sq_norm(der, MatrixSymbol("U", S.n, d)),
                  V2: lambda der: _sq_norm(der, MatrixSymbol("v", S.n, 1))})),
        False, {"LX": "λ_max(XᵀX)", "B": "number of data", "a": "slope", "d": "input dimension"},
        "not rigorous: neither its NTK bound on many data nor the many-data window is a theorem of "
        "`catapult prove` (the argument: per unit Cauchy–Schwarz and Rayleigh on XᵀX, then the window induction)",
        ntk=ntkB, norm_increment=lemma_increment(), hypotheses=("y = 0",))
    return {"single": single, "data": data}


_FAMILIES: dict[str, Callable[[], dict[str, BoundSpec]]] = {
    "uv": _uv_bounds,
    "pure-quadratic": _pure_quadratic_bounds,
    "quadratic-bias": _quadratic_bias_bounds,
    "two-layer": _two_layer_bounds,
}


@lru_cache(maxsize=None)
def bounds(model: str) -> dict[str, BoundSpec]:
    """The bounds of a model family: derived once per installation (stored in the
    on-disk cache of :mod:`._cache` beside the model's theory) and kept for the process."""
    try:
        build = _FAMILIES[model]
    except KeyError:
        raise InvalidInput(f"no bounds for model {model!r}") from None
    builder = MODELS.get(model)
    if builder is None:  # the family's model was removed from the registry: nothing to key an entry on
        return build()
    declared = builder()

    def valid(v: Any) -> bool:
        return isinstance(v, dict) and all(isinstance(b, BoundSpec) and b.model == model for b in v.values())

    return _store.cached("bounds", model, declared, build, check=valid,
                         portable=lambda specs: portable_bounds(model, specs))


_ = MODELS


# ------------------------------------------------------------------ the catalogue in the cache
@dataclass(frozen=True)
class Deferred:
    """A premise callable of a cached bound catalogue that cannot be stored by
    reference (a closure or lambda): calling it rebuilds the model's catalogue once
    per process and calls the original (``field`` is ``"derivation"`` or
    ``"meanings"``, ``index`` the position of the meaning)."""

    model: str
    bound: str
    premise: int
    field: str
    index: int = 0

    def original(self) -> Callable[..., Any]:
        """The callable this handle stands for, from a freshly built catalogue."""
        prem = _fresh_bounds(self.model)[self.bound].premises[self.premise]
        if self.field == "derivation":
            fn = prem.derivation
        else:
            fn = list(prem.meanings.values())[self.index]
        if not callable(fn):  # pragma: no cover - the stored catalogue came from the same source
            raise TypeError(f"cached premise {self} does not match the catalogue")
        return fn  # type: ignore[no-any-return]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.original()(*args, **kwargs)


@cache
def _fresh_bounds(model: str) -> Mapping[str, Any]:
    return _FAMILIES[model]()


def portable_bounds(model: str, specs: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a bound catalogue that a record can hold: each premise callable is
    replaced by a :class:`Deferred` handle (records store no functions, not even by name)."""
    out = {}
    for bname, spec in specs.items():
        premises = []
        for i, prem in enumerate(spec.premises):
            changes: dict[str, Any] = {}
            if prem.derivation is not None and not isinstance(prem.derivation, Deferred):
                changes["derivation"] = Deferred(model, bname, i, "derivation")
            if any(callable(v) and not isinstance(v, Deferred) for v in prem.meanings.values()):
                changes["meanings"] = {
                    k: (Deferred(model, bname, i, "meanings", j) if callable(v) and not isinstance(v, Deferred) else v)
                    for j, (k, v) in enumerate(prem.meanings.items())}
            premises.append(dataclasses.replace(prem, **changes) if changes else prem)
        out[bname] = dataclasses.replace(spec, premises=tuple(premises))
    return out
