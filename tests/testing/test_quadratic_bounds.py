"""Pure quadratic bounds as properties of real GD steps, each with a weakened twin.

The constants come from the symbolic catalogue (compiled), the spectra from
numpy.linalg.eigvalsh, the dynamics from plain GD (catapult_theory.testing).
"""

import numpy as np
from hypothesis import strategies as st

from catapult_theory.compiled import compile_expr
from catapult_theory.symbolic._catalog import LOmega, Lpsi2, B as Bsym, bounds
from catapult_theory.symbolic.models.quadratic import zeta
from catapult_theory.testing import Claim, QuadraticProblem, falsify, quadratic_gd_step, quadratic_problems

_K_single = compile_expr(bounds("pure-quadratic")["single"].K, [Lpsi2, zeta])
_K_omega = compile_expr(bounds("pure-quadratic")["omega"].K, [LOmega, zeta, Bsym])


def _K1(p: QuadraticProblem) -> float:
    return float(_K_single(np.linalg.eigvalsh(p.psi[0] @ p.psi[0])[-1], p.zeta))


def _KO(p: QuadraticProblem) -> float:
    S2 = np.einsum("aij,ajk->ik", p.psi, p.psi)
    return float(_K_omega(np.linalg.eigvalsh(S2)[-1], p.zeta, p.B))


def _lam_bound(factor: float) -> Claim:
    def holds(p):
        lam = float(np.sum(p.jacobian()[0] ** 2))
        return lam <= factor * _K1(p) * (p.theta @ p.theta) * (1 + 1e-10)

    return Claim(f"lam <= {factor} K w2 (one datum)", holds)


def test_lam_le_K_w2():
    assert falsify(_lam_bound(1.0), quadratic_problems(max_B=1), max_examples=150) is None


def test_lam_le_K_w2_weakened_is_caught():
    assert falsify(_lam_bound(0.9), quadratic_problems(max_B=1), max_examples=150) is not None


@st.composite
def _window_problems(draw, c: float):
    """One datum, y = 0, and eta with eta K w2 = t drawn in (0, c)."""
    p = draw(quadratic_problems(max_B=1, y_zero=True))
    # the upper edge of the window is where a wrong window breaks: draw it often
    t = draw(st.one_of(st.floats(0.01, c, exclude_max=True, allow_nan=False, allow_infinity=False),
                       st.floats(c - 0.2, c, exclude_max=True, allow_nan=False, allow_infinity=False)))
    eta = t / (_K1(p) * (p.theta @ p.theta))
    return QuadraticProblem(p.psi, p.theta, p.y, float(eta))


def _no_increase(c: float) -> Claim:
    def holds(p):
        s = quadratic_gd_step(p)
        # ΔW2 is computed without cancellation; allow rounding of its terms only
        tol = 1e-13 * s.dw2_scale
        return s.dw2 <= tol

    return Claim(f"y = 0, eta K w2 < {c} => w2 does not increase", holds)


def test_w2_never_increases_in_the_window():
    assert falsify(_no_increase(4.0), _window_problems(4.0), max_examples=200) is None


def test_w2_window_claimed_to_4_1_is_caught():
    assert falsify(_no_increase(4.0), _window_problems(4.1), max_examples=200) is not None


def _omega(factor: float) -> Claim:
    def holds(p):
        H = p.ntk() / p.B
        return np.linalg.eigvalsh(H)[-1] <= factor * _KO(p) * (p.theta @ p.theta) * (1 + 1e-10)

    return Claim(f"lam_max(H) <= {factor} zeta^2 lam_max(sum psi_a^2)/B |theta|^2", holds)


def test_omega_inequality():
    assert falsify(_omega(1.0), quadratic_problems(), max_examples=150) is None


def test_omega_inequality_weakened_is_caught():
    assert falsify(_omega(0.9), quadratic_problems(), max_examples=150) is not None


def _many_data_lemma(const: float) -> Claim:
    def holds(p):
        s = quadratic_gd_step(p)
        rTr = float(s.r @ p.ntk() @ s.r)
        pred = -const * p.eta / p.B * float(s.r @ s.f) + p.eta**2 / p.B**2 * rTr
        scale = 4 * p.eta / p.B * abs(s.r) @ abs(s.f) + p.eta**2 / p.B**2 * abs(rTr) + 1e-300
        return abs(s.dw2 - pred) <= 1e-9 * scale + 1e-13 * s.dw2_scale

    return Claim(f"Δw2 = -({const} eta/B) r.f + (eta^2/B^2) r^T Theta r", holds)


def test_many_data_weight_norm_identity():
    assert falsify(_many_data_lemma(4.0), quadratic_problems(), max_examples=150) is None


def test_many_data_weight_norm_identity_wrong_constant_is_caught():
    assert falsify(_many_data_lemma(4.1), quadratic_problems(), max_examples=150) is not None
