"""Two-layer homogeneous nets: Euler, the weight-norm identity and lam <= K w2,
as properties of plain GD steps, each with a deliberately wrong twin."""

import numpy as np

from catapult_theory.compiled import compile_expr
from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic._catalog import LX, B as Bsym, bounds
from catapult_theory.symbolic.models.two_layer import a
from catapult_theory.symbolic.models.uv import d
from catapult_theory.testing import Claim, falsify, two_layer_gd_step, two_layer_problems

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
