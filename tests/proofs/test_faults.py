"""Fault injection through the test-only hook: a wrong constant, bound or
hypothesis in the symbolic layer makes exactly the theorems that read it fail,
at the step that reads it. A weaker but true statement is not a fault: it may
prove, and the tightness checks on real models are what catch a loose constant."""

import pytest
import sympy as sp

import proofs
from catapult_theory.symbolic import bound_catalog, symbols as S
from catapult_theory.symbolic._catalog import Q
from catapult_theory.symbolic.models.quadratic import phi2
from tests.proofs.conftest import failed


def _run(ids=None, **fault):
    with proofs.inject(**fault):
        return failed(proofs.prove(ids, coq=False))


@pytest.mark.parametrize("constant", [pytest.param(3, marks=pytest.mark.slow), sp.Rational(41, 10)])
def test_lemma_constant_other_than_four(constant):
    ids = ["weight-norm-identity", "weight-norm-decrease", "ntk-bound-uv", "catapult-window-uv",
           "catapult-window-two-layer"]
    got = _run(ids, lemma_constant=constant)
    for m in ("uv", "pure-quadratic", "two-layer"):
        assert "one-datum" in got[f"weight-norm-identity[{m}]"]
        assert {"lemma", "decrease-y0"} <= got[f"weight-norm-decrease[{m}]"]
    assert "many-data-uv" in got["weight-norm-identity[uv]"]
    assert got["ntk-bound-uv"] == {"window-end"}
    assert {"norm-increment", "window-end"} <= got["catapult-window-uv"]
    assert "norm-increment" in got["catapult-window-two-layer"]


def test_K_halved_fails_the_bound():
    got = _run(["ntk-bound-quadratic-bias", "catapult-window-quadratic-bias"],
               scale_K=("quadratic-bias", "feature", sp.Rational(1, 2)))
    assert got["ntk-bound-quadratic-bias"] == {"ntk-bound"}
    assert "ntk-bound-t" in got["catapult-window-quadratic-bias"]


def test_K_doubled_fails_and_real_models_catch_a_loose_constant():
    got = _run(["ntk-bound-pure-quadratic"], scale_K=("pure-quadratic", "single", 2))
    assert "ntk-bound" in got["ntk-bound-pure-quadratic"]
    # a true but loose bound (twice the constant) is caught by the tight configurations
    from proofs._ntk import tight_check

    spec = bound_catalog("pure-quadratic")["single"]
    loose = sp.Le(spec.ntk.lhs, 2 * spec.ntk.rhs)
    out = tight_check(loose, "pure-quadratic")()
    assert not out and "not attained" in out.detail
    assert tight_check(spec.ntk, "pure-quadratic")()


@pytest.mark.parametrize("factor", [sp.Rational(41, 40), sp.Rational(39, 40)])
def test_uv_constant_off_by_a_little_fails_the_spectral_identity(factor):
    got = _run(["ntk-bound-uv"], scale_K=("uv", "lemma", factor))
    assert "spectral-identity" in got["ntk-bound-uv"]


def test_dropped_hypothesis():
    with proofs.inject(drop_hypothesis=("weight-norm-decrease", "y = 0")):
        got = failed(proofs.prove(["weight-norm-decrease"], ["uv", "pure-quadratic"], coq=False))
    assert set(got) == {f"weight-norm-decrease[{m}]" for m in ("uv", "pure-quadratic")}
    assert all(v == {"decrease-y0", "decrease-y0-strict"} for v in got.values())


def test_hole_bias_window_without_the_feature_term_in_the_ntk_bound():
    spec = bound_catalog("quadratic-bias")["feature"]
    got = _run(["ntk-bound-quadratic-bias", "catapult-window-quadratic-bias"],
               override=("quadratic-bias", "feature", {"ntk": sp.Le(S.lam, spec.K * Q)}))
    assert got["ntk-bound-quadratic-bias"] == {"ntk-bound"}
    assert "ntk-bound-t" in got["catapult-window-quadratic-bias"]


def test_hole_bias_window_end_typed_without_the_feature_term():
    spec = bound_catalog("quadratic-bias")["feature"]
    got = _run(["catapult-window-quadratic-bias"],
               override=("quadratic-bias", "feature", {"k_max": 4 * S.lam / (spec.K * Q + phi2)}))
    assert "window-end" in got["catapult-window-quadratic-bias"]


def test_window_end_halved():
    spec = bound_catalog("two-layer")["single"]
    got = _run(["ntk-bound-two-layer", "catapult-window-two-layer"],
               override=("two-layer", "single", {"k_max": spec.k_max / 2}))
    assert got["ntk-bound-two-layer"] == {"window-end"}
    assert "window-end" in got["catapult-window-two-layer"]


def test_no_fault_leaks_out_of_the_hook():
    with proofs.inject(lemma_constant=3):
        pass
    from proofs import _sources

    assert _sources.active_faults() == {}
    assert bound_catalog("uv")["lemma"].K == _sources.bound("uv", "lemma").K
