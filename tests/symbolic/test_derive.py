"""The generic GD-step core: uv map, closure detection, Euler, lemma, thresholds.

Symbolic claims are compared exactly (``simplify(a - b) == 0``) and, where a
formula is produced, evaluated against an independent numeric computation.
"""

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions import Identity, MatrixSymbol

from catapult_theory.symbolic import (
    Derivation,
    SymbolicModel,
    batch_weight_norm_identity,
    divergence_threshold,
    onset_threshold,
    operator_relation,
    symbols as S,
    theory,
)
from tests.tolerances import EXACT, assert_close

d, m, B = sp.symbols("d m B")


def test_uv_map_matches_one_numeric_gd_step(rng):
    th = theory("uv")
    der = th.derivation
    nn, dd = 9, 3
    U, v, x = rng.standard_normal((nn, dd)), rng.standard_normal(nn), rng.standard_normal(dd)
    y, eta = 0.3, 0.21
    vals = {"U": U, "v": v, "x": x}
    sc = {S.n: nn}
    f = der.algebra.evaluate(der.f, vals, sc)
    lam = der.algebra.evaluate(der.lam, vals, sc)
    w2 = der.algebra.evaluate(der.w2, vals, sc)
    r = f - y
    U1 = U - eta * r * np.outer(v, x) / np.sqrt(nn)
    v1 = v - eta * r * U @ x / np.sqrt(nn)
    want = {S.f: v1 @ U1 @ x / np.sqrt(nn), S.lam: (np.sum((U1 @ x) ** 2) + x @ x * v1 @ v1) / nn,
            S.w2: np.sum(U1**2) + v1 @ v1}
    subs = {S.f: f, S.lam: lam, S.w2: w2, S.eta: eta, S.y: y, S.n: nn, S.x2: x @ x}
    for s, e in th.update.contract().items():
        assert_close(float(e.subs(subs)), want[s], **EXACT, what=str(s))


def test_uv_map_closes_and_lemma_holds():
    th = theory("uv")
    assert th.update.closed
    assert th.homogeneous
    assert th.euler_residual == 0
    assert th.weight_norm_residual == 0
    dw2 = sp.expand(th.update.contract()[S.w2] - S.w2)
    r = S.f - S.y
    assert sp.simplify(dw2 - S.eta * r * (S.eta * S.lam * r - 4 * S.f)) == 0


def test_jacobian_has_eigenvalue_minus_one_exactly_at_eta_lam_2():
    th = theory("uv")
    F = sp.Matrix([th.update.contract()[s] for s in th.update.state])
    J = F.jacobian(list(th.update.state)).subs(S.f, S.y)
    eta_c = th.thresholds["eta_crit"].eta
    Jc = J.subs(S.eta, eta_c)
    assert sp.simplify((Jc + sp.eye(3)).det()) == 0
    # and not at a nearby learning rate
    assert sp.simplify((J.subs(S.eta, 1.01 * eta_c) + sp.eye(3)).det()) != 0


def test_thresholds_are_derived_not_typed():
    th = theory("uv")
    assert sp.simplify(th.thresholds["eta_crit"].eta * S.lam - 2) == 0
    assert sp.simplify(th.thresholds["eta_max"].eta * S.lam - 4) == 0
    # recomputed from the map by the same public functions
    assert onset_threshold(th.update).eta == th.thresholds["eta_crit"].eta
    assert divergence_threshold(th.update).eta == th.thresholds["eta_max"].eta


def test_uv_K_from_operator_relation_bounds_lam_numerically(rng):
    th = theory("uv")
    K = operator_relation(th.derivation)
    assert sp.simplify(K - S.x2 / S.n) == 0
    der = th.derivation
    for _ in range(20):
        nn, dd = rng.integers(1, 30), rng.integers(1, 5)
        vals = {"U": rng.standard_normal((nn, dd)), "v": rng.standard_normal(nn), "x": rng.standard_normal(dd)}
        lam = der.algebra.evaluate(der.lam, vals, {S.n: nn})
        w2 = der.algebra.evaluate(der.w2, vals, {S.n: nn})
        Kn = float(K.subs({S.x2: vals["x"] @ vals["x"], S.n: nn}))
        assert lam <= Kn * w2 * (1 + 1e-12)


def _pure_quadratic(rules=()):
    theta = MatrixSymbol("theta", m, 1)
    psi = MatrixSymbol("psi", m, m)
    zeta = sp.Symbol("zeta", positive=True)
    return SymbolicModel("pq-test", (theta,), zeta / 2 * theta.T * psi * theta, symmetric=(psi,), rules=rules)


def test_pure_quadratic_map_leaves_named_moments():
    der = Derivation(_pure_quadratic())
    um = der.update_map()
    assert not um.closed
    left = {um.leftover_words[a] for a in um.leftover[S.f]}
    assert left == {"θᵀ ψ ψ ψ θ".replace("θ", "theta").replace("ψ", "psi")}
    assert any("psi psi psi psi" in um.leftover_words[a] for a in um.leftover[S.lam])
    assert not um.leftover[S.w2]  # the weight-norm map always closes (the lemma)


def test_pure_quadratic_closes_when_psi_squared_is_scalar():
    kappa = sp.Symbol("kappa", positive=True)
    psi = MatrixSymbol("psi", m, m)
    der = Derivation(_pure_quadratic(rules=((psi * psi, kappa * Identity(m)),)))
    um = der.update_map()
    assert um.closed
    assert sp.simplify(operator_relation(der) - sp.Symbol("zeta", positive=True) ** 2 * kappa) == 0


def test_non_homogeneous_model_is_detected():
    n = S.n
    U, v, x = MatrixSymbol("U", n, d), MatrixSymbol("v", n, 1), MatrixSymbol("x", d, 1)
    a = MatrixSymbol("a", d, 1)
    model = SymbolicModel("bias-test", (U, v, a), v.T * U * x / sp.sqrt(n) + a.T * x)
    der = Derivation(model)
    assert not der.is_homogeneous(2)
    assert der.euler_residual() != 0
    assert der.weight_norm_identity_residual() != 0


def test_many_data_weight_norm_identity():
    n = S.n
    U, v, X = MatrixSymbol("U", n, d), MatrixSymbol("v", n, 1), MatrixSymbol("X", d, B)
    dw2, residual = batch_weight_norm_identity((U, v), v.T * U * X / sp.sqrt(n), B)
    assert residual == 0
    assert dw2 != 0


def test_update_map_rejects_bad_models():
    with pytest.raises(ValueError, match="1x1"):
        SymbolicModel("bad", (MatrixSymbol("v", 3, 1),), MatrixSymbol("v", 3, 1))
    with pytest.raises(ValueError, match="parameter"):
        SymbolicModel("bad", (), MatrixSymbol("v", 1, 1))
    with pytest.raises(ValueError, match="unknown model"):
        theory("no-such-model")
