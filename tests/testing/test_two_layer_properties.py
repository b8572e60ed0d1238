"""Two-layer homogeneous nets: Euler, the weight-norm identity and lam <= K w2,
as properties of plain GD steps, each with a deliberately wrong twin.

Each property is a ``@given`` test (under the settings profile of
tests/conftest.py) with the ends of the slope range pinned by ``@example``:
``a = 0`` (ReLU: dead units, slope 0) and ``a = 1`` (a linear net), for the
bounds in their tight configuration (units along the datum); each wrong twin
must be falsified by ``falsify`` from the same strategy under the same profile.
"""

import numpy as np
import pytest
from hypothesis import example, given

from catapult_theory.compiled import compile_expr
from catapult_theory.symbolic import bound_catalog, symbols as S
from catapult_theory.symbolic._catalog import LX, B as Bsym
from catapult_theory.symbolic.models.two_layer import a
from catapult_theory.symbolic.models.uv import d
from catapult_theory.testing import Claim, TwoLayerProblem, falsify, two_layer_gd_step, two_layer_problems
from tests.tolerances import assert_close

_K_single = compile_expr(bound_catalog("two-layer")["single"].K, [S.x2, d, S.n, a])
_K_data = compile_expr(bound_catalog("two-layer")["data"].K, [LX, Bsym, d, S.n, a])


# --- pinned edge cases: the ends of the slope range ----------------------------------------------


def _net(a: float, n: int, d: int, B: int, seed: int, eta: float = 1.0) -> TwoLayerProblem:
    """A Gaussian net on Gaussian data and labels (as ``two_layer_problems`` draws them)."""
    rng = np.random.default_rng(seed)
    return TwoLayerProblem(rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((B, d)),
                           rng.standard_normal(B), a, eta)


def _tight_problem(B: int, a: float, signs: np.ndarray, seed: int) -> TwoLayerProblem:
    """B copies of one datum x, units u_i = c_i x with the signs of c_i given, y = 0 (see below)."""
    rng = np.random.default_rng(seed)
    n, d = len(signs), int(rng.integers(1, 6))
    x = rng.standard_normal(d)
    c = signs * rng.uniform(0.5, 2.0, n)  # u_i = c_i x
    return TwoLayerProblem(np.outer(c, x), rng.standard_normal(n), np.tile(x, (B, 1)), np.zeros(B), a, 0.1)


#: generic nets at both ends of the slope range (at a = 0 about half the units are dead on each datum)
_RELU, _LINEAR = _net(0.0, 16, 3, 4, seed=0), _net(1.0, 16, 3, 4, seed=1)
_RELU_1, _LINEAR_1 = _net(0.0, 3, 2, 1, seed=2), _net(1.0, 1, 1, 1, seed=3)  # one datum
#: a → 0⁺: one unit on the side of slope 1e-200, so f and ∇f are ~1e-200 and the GD step is below the
#: rounding of θ (θ' = θ, Δw2 = 0 while the identity's terms are ~1e-200)
_TINY_SLOPE = TwoLayerProblem(np.array([[-0.5]]), np.array([1.0]), np.array([[1.0]]), np.array([0.5]), 1e-200, 1.0)
#: lam <= K w2 at equality (every unit along the datum, where |slope| = 1), one datum and three copies
_TIGHT_RELU_1 = _tight_problem(1, 0.0, np.ones(3), 0)
_TIGHT_LINEAR_1 = _tight_problem(1, 1.0, np.array([1.0, -1.0, 1.0]), 1)
_TIGHT_RELU_3 = _tight_problem(3, 0.0, np.ones(4), 2)
_TIGHT_LINEAR_3 = _tight_problem(3, 1.0, np.array([-1.0, 1.0]), 3)


# --- properties ----------------------------------------------------------------------------------


def _euler(const: float) -> Claim[TwoLayerProblem]:
    def holds(p: TwoLayerProblem) -> bool:
        s = two_layer_gd_step(p)
        return np.allclose(s.euler, const * s.f, rtol=1e-10, atol=1e-12)

    return Claim(f"theta . grad f = {const} f", holds)


_EULER = _euler(2.0)


@given(two_layer_problems())
@example(_RELU)
@example(_LINEAR)
@example(_RELU_1)
@example(_LINEAR_1)
@example(_TINY_SLOPE)
def test_euler_identity(p):
    assert _EULER(p), f"{_EULER.name} fails for {p!r}"


def test_euler_identity_wrong_degree_is_caught():
    assert falsify(_euler(2.1), two_layer_problems()) is not None


def _weight_norm(const: float) -> Claim[TwoLayerProblem]:
    def holds(p: TwoLayerProblem) -> bool:
        s = two_layer_gd_step(p)
        rTr = float(s.r @ p.ntk() @ s.r)
        pred = -const * p.eta / p.B * float(s.r @ s.f) + p.eta**2 / p.B**2 * rTr
        scale = 4 * p.eta / p.B * abs(s.r) @ abs(s.f) + p.eta**2 / p.B**2 * abs(rTr) + 1e-300
        # rounding: of the identity's terms, of the sum in dw2 (dw2_scale) and of θ' = θ − η g itself
        # (each component to eps|θ'_i|, so dw2 to ~2 eps w2: a step below the rounding of θ leaves θ' = θ)
        return bool(abs(s.dw2 - pred) <= 1e-9 * scale + 1e-13 * (s.dw2_scale + s.w2))

    return Claim(f"Δw2 = -({const} eta/B) r.f + (eta^2/B^2) r^T Theta r", holds)


_WEIGHT_NORM = _weight_norm(4.0)


@given(two_layer_problems())
@example(_RELU)
@example(_LINEAR)
@example(_RELU_1)
@example(_LINEAR_1)
@example(_TINY_SLOPE)
def test_one_step_weight_norm_identity(p):
    assert _WEIGHT_NORM(p), f"{_WEIGHT_NORM.name} fails for {p!r}"


def test_one_step_weight_norm_identity_wrong_constant_is_caught():
    assert falsify(_weight_norm(4.1), two_layer_problems()) is not None


def _lam_single(factor: float) -> Claim[TwoLayerProblem]:
    def holds(p: TwoLayerProblem) -> bool:
        s = two_layer_gd_step(p)
        K = float(_K_single(float(p.X[0] @ p.X[0]), p.d, p.n, p.a))
        return s.lam <= factor * K * s.w2 * (1 + 1e-10)

    return Claim(f"lam <= {factor} K w2 (one datum)", holds)


_LAM_SINGLE = _lam_single(1.0)


@given(two_layer_problems(max_B=1))
@example(_TIGHT_RELU_1)
@example(_TIGHT_LINEAR_1)
@example(_RELU_1)
@example(_LINEAR_1)
def test_lam_le_K_w2_one_datum(p):
    assert _LAM_SINGLE(p), f"{_LAM_SINGLE.name} fails for {p!r}"


def test_lam_le_K_w2_weakened_is_caught():
    assert falsify(_lam_single(0.9), two_layer_problems(max_B=1)) is not None


def _lam_data(factor: float) -> Claim[TwoLayerProblem]:
    def holds(p: TwoLayerProblem) -> bool:
        s = two_layer_gd_step(p)
        K = float(_K_data(np.linalg.eigvalsh(p.X @ p.X.T)[-1], p.B, p.d, p.n, p.a))
        return s.lam <= factor * K * s.w2 * (1 + 1e-10)

    return Claim(f"lam_max(H) <= {factor} K_B w2", holds)


_LAM_DATA = _lam_data(1.0)


@given(two_layer_problems())
@example(_TIGHT_RELU_3)
@example(_TIGHT_LINEAR_3)
@example(_TIGHT_RELU_1)
@example(_TIGHT_LINEAR_1)
@example(_RELU)
@example(_LINEAR)
def test_lam_le_K_w2_many_data(p):
    assert _LAM_DATA(p), f"{_LAM_DATA.name} fails for {p!r}"


def test_lam_le_K_w2_many_data_weakened_is_caught():
    assert falsify(_lam_data(0.9), two_layer_problems()) is not None


# --- the tight cases of lam <= K w2, at equality ------------------------------------------------
# B copies of one datum x and every u_i parallel to x, each unit on a side of slope ±1 (positive
# side: slope 1 for any a; anti-parallel: slope a, so a = ±1): then rᵀΘr = x2 w2 |Σ_a r_a|²/(n d),
# lam_max(H) = x2 w2/(n d) = K_B w2 with λ_max(XᵀX) = B x2 - the 1/B of K_B is exact.


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
