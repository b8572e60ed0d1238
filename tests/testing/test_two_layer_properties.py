"""Two-layer homogeneous nets: Euler, the weight-norm identity and lam <= K w2,
as properties of plain GD steps, each with a deliberately wrong twin."""

import numpy as np
import pytest

from catapult_theory.compiled import compile_expr
from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic._catalog import LX, B as Bsym, bounds
from catapult_theory.symbolic.models.two_layer import a
from catapult_theory.symbolic.models.uv import d
from catapult_theory.testing import Claim, TwoLayerProblem, falsify, two_layer_gd_step, two_layer_problems
from tests.tolerances import assert_close

_K_single = compile_expr(bounds("two-layer")["single"].K, [S.x2, d, S.n, a])
_K_data = compile_expr(bounds("two-layer")["data"].K, [LX, Bsym, d, S.n, a])


def _euler(const: float) -> Claim:
    def holds(p):
        s = two_layer_gd_step(p)
        return np.allclose(s.euler, const * s.f, rtol=1e-10, atol=1e-12)

    return Claim(f"theta . grad f = {const} f", holds)


def test_euler_identity():
    assert falsify(_euler(2.0), two_layer_problems(), max_examples=120) is None


def test_euler_identity_wrong_degree_is_caught():
    assert falsify(_euler(2.1), two_layer_problems(), max_examples=120) is not None


def _weight_norm(const: float) -> Claim:
    def holds(p):
        s = two_layer_gd_step(p)
        rTr = float(s.r @ p.ntk() @ s.r)
        pred = -const * p.eta / p.B * float(s.r @ s.f) + p.eta**2 / p.B**2 * rTr
        scale = 4 * p.eta / p.B * abs(s.r) @ abs(s.f) + p.eta**2 / p.B**2 * abs(rTr) + 1e-300
        return abs(s.dw2 - pred) <= 1e-9 * scale + 1e-13 * s.dw2_scale

    return Claim(f"Δw2 = -({const} eta/B) r.f + (eta^2/B^2) r^T Theta r", holds)


def test_one_step_weight_norm_identity():
    assert falsify(_weight_norm(4.0), two_layer_problems(), max_examples=120) is None


def test_one_step_weight_norm_identity_wrong_constant_is_caught():
    assert falsify(_weight_norm(4.1), two_layer_problems(), max_examples=120) is not None


def _lam_single(factor: float) -> Claim:
    def holds(p):
        s = two_layer_gd_step(p)
        K = float(_K_single(float(p.X[0] @ p.X[0]), p.d, p.n, p.a))
        return s.lam <= factor * K * s.w2 * (1 + 1e-10)

    return Claim(f"lam <= {factor} K w2 (one datum)", holds)


def test_lam_le_K_w2_one_datum():
    assert falsify(_lam_single(1.0), two_layer_problems(max_B=1), max_examples=150) is None


def test_lam_le_K_w2_weakened_is_caught():
    assert falsify(_lam_single(0.9), two_layer_problems(max_B=1), max_examples=150) is not None


def _lam_data(factor: float) -> Claim:
    def holds(p):
        s = two_layer_gd_step(p)
        K = float(_K_data(np.linalg.eigvalsh(p.X @ p.X.T)[-1], p.B, p.d, p.n, p.a))
        return s.lam <= factor * K * s.w2 * (1 + 1e-10)

    return Claim(f"lam_max(H) <= {factor} K_B w2", holds)


def test_lam_le_K_w2_many_data():
    assert falsify(_lam_data(1.0), two_layer_problems(), max_examples=150) is None


def test_lam_le_K_w2_many_data_weakened_is_caught():
    assert falsify(_lam_data(0.9), two_layer_problems(), max_examples=150) is not None


# --- the tight cases of lam <= K w2, at equality ------------------------------------------------
# B copies of one datum x and every u_i parallel to x, each unit on a side of slope ±1 (positive
# side: slope 1 for any a; anti-parallel: slope a, so a = ±1): then rᵀΘr = x2 w2 |Σ_a r_a|²/(n d),
# lam_max(H) = x2 w2/(n d) = K_B w2 with λ_max(XᵀX) = B x2 - the 1/B of K_B is exact.


def _tight_problem(B: int, a: float, signs: np.ndarray, seed: int) -> TwoLayerProblem:
    rng = np.random.default_rng(seed)
    n, d = len(signs), int(rng.integers(1, 6))
    x = rng.standard_normal(d)
    c = signs * rng.uniform(0.5, 2.0, n)  # u_i = c_i x
    return TwoLayerProblem(np.outer(c, x), rng.standard_normal(n), np.tile(x, (B, 1)), np.zeros(B), a, 0.1)


def _lam(p: TwoLayerProblem) -> float:
    return float(np.linalg.eigvalsh(p.ntk() / p.B)[-1])


def _w2(p: TwoLayerProblem) -> float:
    return float(np.sum(p.U**2) + p.v @ p.v)


TIGHT = [  # (a, signs of c_i): every unit on a side where |slope| = 1 = max(1, a²)
    (1.0, np.ones(7)),
    (1.0, np.array([1.0, -1.0, 1.0, -1.0, -1.0])),
    (-1.0, np.array([1.0, -1.0, -1.0, 1.0])),
    (0.5, np.ones(6)),
    (0.0, np.ones(3)),
]


@pytest.mark.parametrize("B", [1, 2, 3, 7])
@pytest.mark.parametrize("a, signs", TIGHT, ids=[f"a={a}-{''.join('+' if s > 0 else '-' for s in sg)}" for a, sg in TIGHT])
def test_many_data_bound_is_tight_for_copies_of_one_datum_along_x(B, a, signs):
    for seed in range(3):
        p = _tight_problem(B, a, signs, seed)
        assert np.array_equal(np.abs(p.slopes()), np.ones((p.n, B)))  # every unit at |slope| 1
        LXv = float(np.linalg.eigvalsh(p.X.T @ p.X)[-1])  # λ_max(XᵀX), as the catalogue states
        K_B = float(_K_data(LXv, p.B, p.d, p.n, p.a))
        assert_close(_lam(p), K_B * _w2(p), rtol=1e-10, what=f"lam_max(H) = K_B w2 (B = {B}, a = {a})")
        if B == 1:
            K = float(_K_single(float(p.X[0] @ p.X[0]), p.d, p.n, p.a))
            assert_close(_lam(p), K * _w2(p), rtol=1e-10, what=f"lam = K w2 (one datum, a = {a})")


def test_tight_case_is_not_tight_off_the_slope_one_side():
    """The equality needs |slope| = 1 on every unit: anti-parallel units at a = 1/2 lower lam."""
    p = _tight_problem(3, 0.5, np.array([1.0, -1.0, 1.0]), 0)
    K_B = float(_K_data(float(np.linalg.eigvalsh(p.X.T @ p.X)[-1]), p.B, p.d, p.n, p.a))
    assert _lam(p) < K_B * _w2(p) * (1 - 1e-3)
