"""The weight-norm lemma for the uv model, as Hypothesis properties on real GD steps.

Each property is a ``@given`` test over the strategies of ``catapult_theory.testing``
(run under the settings profile of tests/conftest.py), with its known edge cases
pinned by ``@example``; each has a deliberately wrong twin (4 -> 4.1) that
``falsify`` must falsify from the same strategy under the same profile: a
property that cannot fail proves nothing.
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from catapult_theory.compiled import compile_expr
from catapult_theory.symbolic import symbols as S, theory
from catapult_theory.testing import Claim, UVProblem, falsify, uv_gd_step, uv_problems

_R = S.f - S.y


def _identity_claim(const: float) -> Claim[UVProblem]:
    """Δw2 = η r (η lam r − const·f) for one real GD step (const = 4 is the lemma)."""
    rhs = compile_expr(S.eta * _R * (S.eta * S.lam * _R - const * S.f), [S.f, S.lam, S.eta, S.y])

    def holds(p: UVProblem) -> bool:
        s = uv_gd_step(p)
        pred = float(rhs(s.f, s.lam, s.eta, p.y))
        # rounding of both sides: the terms of the identity and |θ' − θ|·|θ' + θ|
        scale = abs(s.eta * s.r) * (s.eta * s.lam * abs(s.r) + 4 * abs(s.f) + 2 * np.sqrt(s.lam * s.w2))
        return abs(s.dw2 - pred) <= 1e-10 * scale

    return Claim(f"weight-norm identity with constant {const}", holds)


def _decrease_claim(k_bound: float) -> Claim[UVProblem]:
    """y = 0 and eta*lam < k_bound  =>  w2 strictly decreases (k_bound = 4 is the lemma)."""

    def holds(p: UVProblem) -> bool:
        s = uv_gd_step(p)
        if abs(s.f) < 1e-3 or p.k >= k_bound - 1e-6:  # f = 0 is a fixed point; rounding at the edge
            return True
        return s.dw2 < 0

    return Claim(f"y = 0 and eta*lam < {k_bound} => w2 decreases", holds)


_IDENTITY = _identity_claim(4.0)
_DECREASE = _decrease_claim(4.0)


def _problem(width: int, d: int, seed: int, y: float, k: float) -> UVProblem:
    """A Gaussian uv problem (as ``uv_problems`` draws them), for ``@example`` pins."""
    rng = np.random.default_rng(seed)
    return UVProblem(rng.standard_normal((width, d)), rng.standard_normal(width), rng.standard_normal(d), y, k)


def _at_minimum(p: UVProblem) -> UVProblem:
    """The same state with the label ``y = f``: ``r = 0``, a fixed point (both sides of the identity are 0)."""
    return UVProblem(p.U, p.v, p.x, p.observables[0], p.k)


#: the largest k the decrease claim still checks (it exempts k >= 4 - 1e-6 as rounding at the edge):
#: there Δw2 = η f² (k − 4) ≈ −1e-6 η f², the tight case of the lemma
_K_TIGHT = float(np.nextafter(4.0 - 1e-6, 0.0))
_ONE = UVProblem(np.ones((1, 1)), np.ones(1), np.ones(1), 0.0, 1.0)  # n = d = 1, f = lam/2 = w2/2 = 1


def test_weight_norm_identity_is_derived():
    dw2 = theory("uv").update.contract()[S.w2] - S.w2
    assert (dw2 - S.eta * _R * (S.eta * S.lam * _R - 4 * S.f)).expand() == 0


@given(uv_problems(max_width=500))
@example(_ONE)
@example(_problem(1, 1, seed=0, y=0.7, k=5.9))
@example(_at_minimum(_problem(40, 3, seed=1, y=0.0, k=3.0)))
@example(_problem(500, 4, seed=2, y=-2.5, k=_K_TIGHT))
def test_weight_norm_identity_holds(p):
    assert _IDENTITY(p), f"{_IDENTITY.name} fails for {p!r}"


def test_weight_norm_identity_with_wrong_constant_is_caught():
    cex = falsify(_identity_claim(4.1), uv_problems(max_width=500))
    assert cex is not None


@st.composite
def _edge_problems(draw: st.DrawFn, k_max: float) -> UVProblem:
    """``uv_problems`` with y = 0 and k < k_max, and half the time k moved to a gap in
    [1e-5, 0.2] below k_max: a wrong threshold breaks at the edge, and drawn as a gap,
    Hypothesis's preference for simple and boundary floats favours the edge itself (in the
    band [k_max - 0.2, k_max) of ``uv_problems`` a simple k such as 4.0 comes up far more often)."""
    p = draw(uv_problems(max_width=500, k_max=k_max, y_zero=True))
    gap = draw(st.one_of(st.none(), st.floats(1e-5, 0.2, allow_nan=False, allow_infinity=False)))
    return p if gap is None else UVProblem(p.U, p.v, p.x, p.y, k_max - gap)


@given(_edge_problems(4.0))
@example(UVProblem(_ONE.U, _ONE.v, _ONE.x, 0.0, _K_TIGHT))
@example(_problem(500, 3, seed=3, y=0.0, k=_K_TIGHT))
def test_w2_decreases_below_eta_lam_4(p):
    assert _DECREASE(p), f"{_DECREASE.name} fails for {p!r}"


def test_tight_pin_is_checked_and_tight():
    """The pinned edge case is not exempt from the claim, and its Δw2 is the lemma's η f² (k − 4)."""
    p = _problem(500, 3, seed=3, y=0.0, k=_K_TIGHT)
    s = uv_gd_step(p)
    assert p.k < 4.0 - 1e-6 and abs(s.f) >= 1e-3
    assert s.dw2 < 0
    np.testing.assert_allclose(s.dw2, s.eta * s.f**2 * (p.k - 4.0), rtol=1e-6)


def test_w2_decrease_claimed_up_to_4_1_is_caught():
    cex = falsify(_decrease_claim(4.1), _edge_problems(4.1))
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
