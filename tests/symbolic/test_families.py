"""Quadratic and two-layer families: derived maps, spectral dynamics, modified norm,
constants - each symbolic claim against an independent numeric computation."""

import numpy as np
import pytest
import sympy as sp

from catapult_theory.compiled import spectral_maps
from catapult_theory.symbolic import Derivation, closure_obstruction, operator_relation, spectral_formulas
from catapult_theory.symbolic import bound_catalog as bounds, symbols as S, theory
from catapult_theory.symbolic._catalog import modified_norm_identity
from catapult_theory.symbolic.models.quadratic import kappa, m3, m4, pure_quadratic_scalar_model, zeta
from catapult_theory.symbolic.models.two_layer import a, s, two_layer_unit_model
from catapult_theory.symbolic.models.uv import d
from tests.tolerances import EXACT, assert_close


def _pq_numbers(rng, m=8):
    A_ = rng.standard_normal((m, m))
    psi = (A_ + A_.T) / 2
    theta = rng.standard_normal(m)
    return psi, theta, (m / 2) ** -0.5


def test_pure_quadratic_map_against_a_gd_step(rng):
    th = theory("pure-quadratic")
    assert not th.update.closed and set(th.update.uses_extra) == {m3, m4}
    psi, theta, z = _pq_numbers(rng)
    y, eta = 0.4, 0.13
    mom = lambda k, t=theta: z**k * t @ np.linalg.matrix_power(psi, k) @ t  # noqa: E731
    f, lam, w2 = mom(1) / 2, mom(2), theta @ theta
    r = f - y
    theta1 = theta - eta * r * z * psi @ theta
    want = {S.f: mom(1, theta1) / 2, S.lam: mom(2, theta1), S.w2: theta1 @ theta1}
    subs = {S.f: f, S.lam: lam, S.w2: w2, S.eta: eta, S.y: y, m3: mom(3), m4: mom(4)}
    for sym, e in th.update.contract().items():
        assert_close(float(e.subs(subs)), want[sym], **EXACT, what=str(sym))


def test_scalar_psi_square_gives_the_uv_map():
    um = Derivation(pure_quadratic_scalar_model()).update_map()
    assert um.closed
    uv = theory("uv").update.contract()
    for sym, e in um.contract().items():
        mapped = uv[sym].subs(S.x2 / S.n, kappa * zeta**2).subs(S.x2, kappa * zeta**2 * S.n)
        assert sp.simplify(e - mapped) == 0, sym


def test_spectral_formulas_against_gd_in_the_eigenbasis(rng):
    sf = spectral_formulas()
    assert sf.cross_terms == (0, 0, 0)
    psi, theta, z = _pq_numbers(rng, 10)
    mu, vec = np.linalg.eigh(psi)
    c = (vec.T @ theta) ** 2
    sm = spectral_maps()
    f_parts, lam_parts, w2_parts = sm.contributions(c, mu, z)
    f, lam, w2 = f_parts.sum(), lam_parts.sum(), w2_parts.sum()
    assert_close(f, z / 2 * theta @ psi @ theta, **EXACT)
    assert_close(lam, z**2 * theta @ psi @ psi @ theta, **EXACT)
    assert_close(w2, theta @ theta, **EXACT)
    eta, y = 0.21, -0.3
    theta1 = theta - eta * (f - y) * z * psi @ theta
    assert_close(sm.weight_next(c, mu, eta, f - y, z), (vec.T @ theta1) ** 2, rtol=1e-10, atol=1e-14)


def test_bias_feature_block_and_modified_norm(rng):
    sf = spectral_formulas()
    assert len(sf.feature_next) == 2
    dq, residual = modified_norm_identity()
    assert residual == 0
    # numeric: ΔQ for a real GD step on the bias model
    p_, m_ = 5, 6
    phi = rng.standard_normal(p_)
    psi, th_psi, z = _pq_numbers(rng, m_)
    th_phi = rng.standard_normal(p_)
    y, eta = 0.7, 0.05
    f = th_phi @ phi + z / 2 * th_psi @ psi @ th_psi
    r = f - y
    lam = phi @ phi + z**2 * th_psi @ psi @ psi @ th_psi
    Q = lambda a_, b_: a_ @ a_ + b_ @ b_ + (a_ @ phi) ** 2 / (phi @ phi)  # noqa: E731
    a1, b1 = th_phi - eta * r * phi, th_psi - eta * r * z * psi @ th_psi
    assert_close(Q(a1, b1) - Q(th_phi, th_psi), eta * r * (eta * r * (lam + phi @ phi) - 4 * f), rtol=1e-10)


def test_bias_model_is_not_homogeneous_and_w2_is_the_wrong_norm():
    th = theory("quadratic-bias")
    assert not th.homogeneous
    assert "eta_max" not in th.thresholds
    assert bounds("quadratic-bias")["naive"].rigorous is False
    assert bounds("quadratic-bias")["feature"].rigorous is True


def test_two_layer_lemma_and_unit_constant():
    th = theory("two-layer")
    assert th.homogeneous and th.weight_norm_residual == 0
    assert not th.update.closed
    c_unit = operator_relation(Derivation(two_layer_unit_model()))
    assert sp.simplify(c_unit - s**2 * S.x2 / (S.n * d)) == 0
    K = bounds("two-layer")["single"].K
    assert sp.simplify(K.subs(a, sp.Rational(1, 2)) - S.x2 / (S.n * d)) == 0


def test_two_layer_map_against_a_gd_step_within_a_region(rng):
    """The derived (non-closing) map, with leftover atoms evaluated numerically."""
    th = theory("two-layer")
    der = th.derivation
    n_, d_, a_ = 12, 3, 0.3
    U, v, x = rng.standard_normal((n_, d_)), rng.standard_normal(n_), rng.standard_normal(d_)
    slopes = np.where(U @ x > 0, 1.0, a_)
    vals = {"U": U, "v": v, "x": x, "S": np.diag(slopes)}
    sc = {S.n: n_, d: d_, a: a_}
    f = der.algebra.evaluate(der.f, vals, sc)
    lam = der.algebra.evaluate(der.lam, vals, sc)
    w2 = der.algebra.evaluate(der.w2, vals, sc)
    y, eta = 0.2, 1e-3  # small step: the activation pattern does not change
    r = f - y
    c = np.sqrt(n_ * d_)
    U1 = U - eta * r * (slopes * v)[:, None] * x[None, :] / c
    v1 = v - eta * r * slopes * (U @ x) / c
    assert np.all((U1 @ x > 0) == (U @ x > 0))
    s1 = np.where(U1 @ x > 0, 1.0, a_)
    want = {S.f: v1 @ (s1 * (U1 @ x)) / c, S.lam: (np.sum((s1 * v1)[:, None] ** 2 * x**2) +
                                                   np.sum((s1 * (U1 @ x)) ** 2)) / c**2,
            S.w2: np.sum(U1**2) + v1 @ v1}
    for sym, e in th.update.update.items():
        left = {q: der.algebra.evaluate(q, vals, sc) for q in th.update.leftover[sym]}
        got = float(e.subs({S.f: f, S.lam: lam, S.w2: w2, S.eta: eta, S.r: r, S.x2: x @ x, **sc, **left}))
        assert_close(got, want[sym], rtol=1e-10, what=str(sym))


@pytest.mark.parametrize("model", ["uv", "pure-quadratic", "quadratic-bias", "two-layer"])
def test_every_bound_states_what_it_rests_on(model):
    for spec in bounds(model).values():
        assert spec.rests_on and all(isinstance(r, str) and r for r in spec.rests_on)
        assert isinstance(spec.k_max, sp.Expr)


def test_single_bound_is_exactly_4_when_psi_square_is_scalar():
    from catapult_theory.symbolic._catalog import Lpsi2

    der = Derivation(pure_quadratic_scalar_model())
    assert sp.simplify(der.lam - zeta**2 * kappa * der.w2) == 0  # lam = K w2 exactly
    k_max = bounds("pure-quadratic")["single"].k_max
    assert sp.simplify(k_max.subs({Lpsi2: kappa, S.lam: zeta**2 * kappa * S.w2}) - 4) == 0


def test_map_closes_only_when_psi_square_is_scalar():
    """Converse: with two distinct |eigenvalues|, (f, lam, w2) do not determine m3."""
    obs = closure_obstruction()
    mu1, mu2 = sorted(obs.free_symbols - {zeta}, key=str)
    assert obs.subs(mu2, mu1) == 0
    assert obs.subs({mu1: 2, mu2: 1, zeta: 1}) != 0
    # numeric check of the mechanism: two weight vectors, same (f, lam, w2), different m3
    import numpy as np

    m1v, m2v, z = 2.0, 1.0, 0.7
    eig = np.array([m1v, -m1v, m2v, -m2v])
    M = np.array([z / 2 * eig, z**2 * eig**2, np.ones(4)])
    null = np.linalg.svd(M)[2][-1]
    c = np.array([1.0, 1.0, 1.0, 1.0])
    c2 = c + 0.1 * null
    assert np.allclose(M @ c, M @ c2)
    assert abs((z**3 * eig**3) @ (c2 - c)) > 1e-3
