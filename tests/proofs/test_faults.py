"""Fault injection through the test-only hook: exactly the affected theorems fail,
at the expected step. Each known hole of the bound catalogue has its own test."""

import pytest
import sympy as sp

import proofs
from catapult_theory.symbolic import bound_catalog, symbols as S
from catapult_theory.symbolic._catalog import B, Lpsi2, Q, lam_H, psi2_form
from catapult_theory.symbolic.models.quadratic import phi2
from tests.proofs.conftest import failed


def _run(ids=None, **fault):
    with proofs.inject(**fault):
        return failed(proofs.prove(ids))


def test_lemma_constant_three_instead_of_four():
    got = _run(lemma_constant=3)
    lemma_users = {f"{t}[{m}]" for t in ("weight-norm-identity", "weight-norm-decrease")
                   for m in ("uv", "pure-quadratic", "two-layer")}
    expected = lemma_users | {"ntk-bound[uv]", "catapult-window-uv", "catapult-window-pure-quadratic",
                              "catapult-window-two-layer"}
    assert set(got) == expected
    assert "one-datum" in got["weight-norm-identity[uv]"] and "many-data-uv" in got["weight-norm-identity[uv]"]
    assert got["weight-norm-decrease[two-layer]"] == {"lemma"}
    assert "norm-increment" in got["catapult-window-uv"]
    # the bias window rests on the modified norm Q, not on the lemma
    assert "catapult-window-quadratic-bias" not in got


def test_K_halved():
    got = _run(scale_K=("quadratic-bias", "feature", sp.Rational(1, 2)))
    assert set(got) == {"ntk-bound-quadratic-bias", "catapult-window-quadratic-bias"}
    assert "ntk-bound" in got["ntk-bound-quadratic-bias"]


def test_K_doubled_is_a_true_but_loose_bound_and_tightness_catches_it():
    ids = ["ntk-bound-pure-quadratic", "catapult-window-pure-quadratic", "ntk-bound-uv"]
    with proofs.inject(scale_K=("pure-quadratic", "single", 2)):
        results = proofs.prove(ids)
    assert failed(results) == {"ntk-bound-pure-quadratic": {"tight"},
                               "catapult-window-pure-quadratic": {"window-end"}}
    # both halves of the tightness step see it: the chain's slack and the real model
    (tight,) = [s for r in results if r.theorem == "ntk-bound-pure-quadratic" for s in r.steps if s.name == "tight"]
    assert "leave slack" in tight.detail and "not attained" in tight.numeric


def test_wrong_rests_on_inequality():
    wrong = sp.Le(psi2_form, Lpsi2 * S.w2 / 2)  # Rayleigh with half the top eigenvalue
    got = _run(premise=("pure-quadratic", "single", "rayleigh", wrong))
    assert set(got) == {"ntk-bound-pure-quadratic", "catapult-window-pure-quadratic"}
    assert "premise:rayleigh" in got["ntk-bound-pure-quadratic"]


def test_wrong_rests_on_inequality_slightly_off():
    """A Rayleigh constant 1 % too small is caught at the tight configuration."""
    wrong = sp.Le(psi2_form, sp.Rational(99, 100) * Lpsi2 * S.w2)
    got = _run(["ntk-bound-pure-quadratic"], premise=("pure-quadratic", "single", "rayleigh", wrong))
    assert "premise:rayleigh" in got["ntk-bound-pure-quadratic"]


def test_dropped_hypothesis():
    got = _run(drop_hypothesis=("catapult-window-uv", "y = 0"))
    assert got == {"catapult-window-uv": {"decrease"}}
    got = _run(["weight-norm-decrease"], drop_hypothesis=("weight-norm-decrease", "y = 0"))
    assert set(got) == {f"weight-norm-decrease[{m}]" for m in ("uv", "pure-quadratic", "two-layer")}
    assert all({"decrease-y0", "decrease-many-data"} <= v for v in got.values())


# ---------------------------------------------------------------- the known holes
def test_hole_bias_window_without_the_feature_term_in_the_ntk_bound():
    spec = bound_catalog("quadratic-bias")["feature"]
    got = _run(["ntk-bound-quadratic-bias", "catapult-window-quadratic-bias"],
               override=("quadratic-bias", "feature", {"ntk": sp.Le(S.lam, spec.K * Q)}))
    assert "ntk-bound" in got["ntk-bound-quadratic-bias"]
    assert "ntk-bound" in got["catapult-window-quadratic-bias"]


def test_hole_bias_window_end_typed_without_the_feature_term():
    """k_max = 4 lam/(K Q + phi2) (the old typed substitution without "phi2 +")."""
    spec = bound_catalog("quadratic-bias")["feature"]
    got = _run(["catapult-window-quadratic-bias"],
               override=("quadratic-bias", "feature", {"k_max": 4 * S.lam / (spec.K * Q + phi2)}))
    assert "window-end" in got["catapult-window-quadratic-bias"]


def test_the_bias_window_end_is_derived_from_the_modified_norm():
    spec = bound_catalog("quadratic-bias")["feature"]
    (mod,) = [p for p in spec.premises if p.name == "modified-norm"]
    assert spec.norm_increment == mod.relation.rhs
    # at the window end the sign-changing factor of ΔQ vanishes with lam = phi2 + K Q
    eta = spec.k_max / S.lam
    factor = sp.factor(mod.relation.rhs.subs(S.r, S.f) / (S.eta * S.f**2))
    assert sp.simplify(factor.subs(S.lam, spec.ntk.rhs).subs(S.eta, eta)) == 0


def test_hole_two_layer_data_constant_without_one_over_B():
    spec = bound_catalog("two-layer")["data"]
    got = _run(["ntk-bound-two-layer"],
               override=("two-layer", "data", {"K": spec.K * B, "ntk": sp.Le(lam_H, spec.K * B * S.w2)}))
    assert got == {"ntk-bound-two-layer": {"data/ntk-bound", "data/tight"}}


@pytest.mark.parametrize("factor", [sp.Rational(41, 40), sp.Rational(39, 40)])
def test_uv_constant_off_by_a_little(factor):
    """K of the uv bound scaled by 4.1/4 or 3.9/4: loose fails tightness, tight fails the chain."""
    got = _run(["ntk-bound-uv"], scale_K=("uv", "lemma", factor))
    assert set(got) == {"ntk-bound-uv"}
    assert ("tight" if factor > 1 else "ntk-bound") in got["ntk-bound-uv"]


def test_no_fault_leaks_out_of_the_hook():
    with proofs.inject(lemma_constant=3):
        pass
    from proofs import _sources

    assert _sources.active_faults() == {}
    assert bound_catalog("uv")["lemma"].K == _sources.bound("uv", "lemma").K
