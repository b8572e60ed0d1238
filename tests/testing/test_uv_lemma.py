"""The weight-norm lemma for the uv model, as Hypothesis properties on real GD steps.

Each property has a deliberately wrong twin (4 -> 4.1) that the same search
must falsify: a property that cannot fail proves nothing.
"""

import numpy as np
import pytest

from catapult_theory.compiled import compile_expr
from catapult_theory.symbolic import symbols as S, theory
from catapult_theory.testing import Claim, falsify, uv_gd_step, uv_problems

_R = S.f - S.y


def _identity_claim(const: float) -> Claim:
    """Δw2 = η r (η lam r − const·f) for one real GD step (const = 4 is the lemma)."""
    rhs = compile_expr(S.eta * _R * (S.eta * S.lam * _R - const * S.f), [S.f, S.lam, S.eta, S.y])

    def holds(p) -> bool:
        s = uv_gd_step(p)
        pred = float(rhs(s.f, s.lam, s.eta, p.y))
        # rounding of both sides: the terms of the identity and |θ' − θ|·|θ' + θ|
        scale = abs(s.eta * s.r) * (s.eta * s.lam * abs(s.r) + 4 * abs(s.f) + 2 * np.sqrt(s.lam * s.w2))
        return abs(s.dw2 - pred) <= 1e-10 * scale

    return Claim(f"weight-norm identity with constant {const}", holds)


def _decrease_claim(k_bound: float) -> Claim:
    """y = 0 and eta*lam < k_bound  =>  w2 strictly decreases (k_bound = 4 is the lemma)."""

    def holds(p) -> bool:
        s = uv_gd_step(p)
        if abs(s.f) < 1e-3 or p.k >= k_bound - 1e-6:  # f = 0 is a fixed point; rounding at the edge
            return True
        return s.dw2 < 0

    return Claim(f"y = 0 and eta*lam < {k_bound} => w2 decreases", holds)


def test_weight_norm_identity_is_derived():
    dw2 = theory("uv").update.contract()[S.w2] - S.w2
    assert (dw2 - S.eta * _R * (S.eta * S.lam * _R - 4 * S.f)).expand() == 0


def test_weight_norm_identity_holds():
    assert falsify(_identity_claim(4.0), uv_problems(max_width=500), max_examples=150) is None


def test_weight_norm_identity_with_wrong_constant_is_caught():
    cex = falsify(_identity_claim(4.1), uv_problems(max_width=500), max_examples=150)
    assert cex is not None


def test_w2_decreases_below_eta_lam_4():
    assert falsify(_decrease_claim(4.0), uv_problems(max_width=500, k_max=4.0, y_zero=True),
                   max_examples=200) is None


def test_w2_decrease_claimed_up_to_4_1_is_caught():
    cex = falsify(_decrease_claim(4.1), uv_problems(max_width=500, k_max=4.1, y_zero=True), max_examples=200)
    assert cex is not None
    assert 4.0 <= cex.example.k < 4.1


@pytest.mark.parametrize("factor, outcome", [(0.5, "shrinks"), (0.999, "shrinks"), (1.5, "grows")])
def test_divergence_threshold_three_levels(factor, outcome):
    """Train at fractions of the derived eta_max: w2 shrinks below it and grows above it."""
    from catapult_theory.compiled import threshold
    from catapult_theory.engine import train_uv, uv_init, uv_observables

    init = uv_init(300, 1, seed=7)
    x = np.array([1.0])
    _, lam0, w2_0 = uv_observables(init, x)
    eta = factor * float(threshold("uv", "eta_max")(lam=lam0))
    gd = train_uv(init, x, eta, 1)
    assert (gd.w2[1] < w2_0) == (outcome == "shrinks")
