"""The proof machinery: each step kind can fail; certificates have failing twins."""

import sympy as sp

from proofs._core import (
    Outcome,
    Step,
    Theorem,
    chain_certificate,
    identity,
    numeric_relation,
    run_theorem,
    sign_certificate,
)

x, y = sp.symbols("x y")
eta, lam, f = sp.symbols("eta lam f")


def _theorem(*steps):
    return Theorem("t", "m", "statement", (), lambda: steps)


def test_identity_step_can_fail():
    good = Step("a", "identity", sp.Eq((x + y) ** 2, x**2 + 2 * x * y + y**2), "expand",
                check=lambda: identity((x + y) ** 2 - x**2 - 2 * x * y - y**2))
    bad = Step("b", "identity", sp.Eq((x + y) ** 2, x**2 + y**2), "expand",
               check=lambda: identity((x + y) ** 2 - x**2 - y**2))
    assert run_theorem(_theorem(good)).proved
    r = run_theorem(_theorem(good, bad))
    assert not r.proved and r.failed_steps == ("b",)


def test_inequality_step_can_fail_lemma_at_4_and_its_twin_at_4_1():
    """Δw2 = η f² (η lam − 4) <= 0 below η lam = 4 is certified; the same claim up
    to η lam = 4.1 is not (the twin of the weight-norm lemma)."""
    u = sp.Symbol("u", positive=True)
    signs = {f: "real", lam: "positive"}
    inc = eta * f**2 * (eta * lam - 4)
    ok = sign_certificate(inc.subs(eta, 4 / lam / (1 + u)), "nonpositive", signs)
    twin = sign_certificate(inc.subs(eta, sp.Rational(41, 10) / lam / (1 + u)), "nonpositive", signs)
    assert ok and not twin
    steps = [Step("decrease", "inequality", sp.Le(inc, 0), "sign",
                  check=lambda: sign_certificate(inc.subs(eta, sp.Rational(41, 10) / lam / (1 + u)),
                                                 "nonpositive", signs))]
    assert run_theorem(_theorem(*steps)).failed_steps == ("decrease",)


def test_logical_step_fails_on_unknown_or_later_uses():
    a = Step("a", "identity", sp.Eq(x, x), "trivial", check=lambda: identity(x - x))
    ok = Step("conclude", "logical", "from a", "induction", uses=("a", "theorem:other"))
    bad = Step("early", "logical", "uses a later step", "induction", uses=("later",))
    assert run_theorem(_theorem(a, ok)).proved
    r = run_theorem(_theorem(a, bad, Step("later", "identity", sp.Eq(x, x), "t", check=lambda: identity(0))))
    assert r.failed_steps == ("early",)


def test_a_theorem_without_checked_steps_is_not_proved():
    r = run_theorem(_theorem(Step("only", "logical", "an argument", "prose")))
    assert not r.proved and "no machine-checked" in r.error


def test_numeric_cross_check_failure_fails_the_step():
    wrong_formula = Step("s", "identity", sp.Eq(x, x), "true symbolically",
                         check=lambda: identity(0), numeric=lambda: Outcome(False, "the real model disagrees"))
    r = run_theorem(_theorem(wrong_formula))
    assert r.failed_steps == ("s",) and "real model disagrees" in r.steps[0].numeric


def test_a_crashing_check_is_a_failure_with_its_reason():
    def boom():
        raise RuntimeError("kaput")

    r = run_theorem(_theorem(Step("s", "identity", sp.Eq(x, x), "t", check=boom)))
    assert r.failed_steps == ("s",) and "kaput" in r.steps[0].detail


def test_a_broken_build_is_a_failure():
    def build():
        raise KeyError("missing premise")

    r = run_theorem(Theorem("t", "m", "s", (), build))
    assert not r.proved and "missing premise" in r.error


def test_chain_certificate_composes_and_catches_a_wrong_constant():
    R, L, w2 = sp.symbols("R L w2")
    signs = {R: "nonnegative", L: "positive", w2: "nonnegative", lam: "nonnegative"}
    premises = [("form", sp.Eq(lam, 2 * R)), ("rayleigh", sp.Le(R, L * w2))]
    ok, rem = chain_certificate(sp.Le(lam, 2 * L * w2), premises, signs)
    assert ok and rem == 0
    loose, rem = chain_certificate(sp.Le(lam, 3 * L * w2), premises, signs)
    assert loose and rem != 0  # true but not tight
    wrong, _ = chain_certificate(sp.Le(lam, sp.Rational(19, 10) * L * w2), premises, signs)
    assert not wrong


def test_chain_substitutes_an_upper_bound_only_where_it_is_monotone():
    R, L, w2 = sp.symbols("R L w2")
    signs = {R: "nonnegative", L: "positive", w2: "nonnegative"}
    # D = L w2 + R: increasing in R, so R <= L w2 must not be used to lower it; D >= 0 anyway
    ok, rem = chain_certificate(sp.Le(-R, L * w2), [("r", sp.Le(R, L * w2))], signs)
    assert ok and rem == L * w2 + R


def test_numeric_relation_equality_inequality_and_tightness():
    pts = [{x: 1.0, y: 2.0}, {x: 2.0, y: 2.0}]
    assert numeric_relation(sp.Le(x, y), pts)
    assert not numeric_relation(sp.Le(y, x), pts)
    assert not numeric_relation(sp.Le(x, y), pts, tight=True)
    assert numeric_relation(sp.Le(x, y), pts[1:], tight=True)
    assert not numeric_relation(sp.Eq(x, y), pts)
    assert not numeric_relation(sp.Le(x, y), [{x: 1.0}])  # a missing value is a failure
    assert not numeric_relation(sp.Le(x, y), [])


def test_step_kinds_are_validated():
    import pytest

    with pytest.raises(ValueError, match="kind"):
        Step("s", "lemma", sp.Eq(x, x), "t", check=lambda: identity(0))
    with pytest.raises(ValueError, match="symbolic check"):
        Step("s", "identity", sp.Eq(x, x), "t")


def test_numeric_relation_default_tolerance_is_tight():
    """A relative violation of 1e-6 is a violation (the default rtol is 1e-9)."""
    assert not numeric_relation(sp.Le(x, y), [{x: 1.0 + 1e-6, y: 1.0}])
    assert numeric_relation(sp.Le(x, y), [{x: 1.0 + 1e-12, y: 1.0}])
    assert not numeric_relation(sp.Eq(x, y), [{x: 1.0 + 1e-6, y: 1.0}])
    assert not numeric_relation(sp.Le(x, y), [{x: 1.0, y: 1.0 - 1e-6}], tight=True)


def _run(norm, loss, eta_lam, diverged=False):
    import numpy as np

    from proofs._numeric import Run

    return Run(3.0, 4.0, np.asarray(norm, float), np.asarray(loss, float), np.asarray(eta_lam, float), diverged)


def test_window_run_checks_catch_growth_divergence_and_a_final_sharpness_above_the_edge():
    from proofs._window import converges_below_edge, norm_never_grows

    good = _run([10.0, 9.0, 9.0, 8.5], [1.0, 5.0, 1e-3, 1e-25], [3.0, 2.5, 1.9, 1.8])
    assert norm_never_grows(good) and converges_below_edge(good, 2.0)
    assert not norm_never_grows(_run([10.0, 9.0, 9.0 + 1e-9, 8.0], good.loss, good.eta_lam))
    assert not norm_never_grows(_run(good.norm, good.loss, good.eta_lam, diverged=True))
    assert not converges_below_edge(_run(good.norm, [1.0, 5.0, 1e-3, 1e-15], good.eta_lam), 2.0)
    # the tight case: ending exactly at the edge converges; 1e-5 above it does not
    assert converges_below_edge(_run(good.norm, good.loss, [3.0, 2.5, 2.1, 2.0]), 2.0)
    assert not converges_below_edge(_run(good.norm, good.loss, [3.0, 2.5, 2.1, 2.0 * (1 + 1e-5)]), 2.0)
