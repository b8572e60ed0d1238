"""Every theorem of the study is proved, each with machine-checked steps."""

import proofs
from tests.proofs.conftest import label

REQUIRED = {
    "uv-map", "linear-onset", "weight-norm-identity", "weight-norm-decrease", "ntk-bound-uv",
    "ntk-bound-pure-quadratic", "ntk-bound-omega", "ntk-bound-quadratic-bias", "ntk-bound-two-layer",
    "catapult-window-uv", "catapult-window-pure-quadratic", "catapult-window-quadratic-bias",
    "catapult-window-two-layer", "closure-converse",
}


def test_every_theorem_id_is_proved(all_results):
    assert REQUIRED <= {r.theorem for r in all_results}
    bad = {label(r): (r.error, r.failed_steps) for r in all_results if not r.proved}
    assert not bad, bad


def test_each_theorem_has_at_least_three_checked_steps(all_results):
    for r in all_results:
        assert r.checked_steps >= 3, (label(r), r.checked_steps)


def test_linear_onset_runs_for_every_family(all_results):
    assert {r.model for r in all_results if r.theorem == "linear-onset"} == {
        "uv", "pure-quadratic", "quadratic-bias", "two-layer"}


def test_identity_and_inequality_steps_carry_numeric_checks(all_results):
    """Every identity and inequality step is also evaluated on numbers."""
    missing = [(label(r), s.name) for r in all_results for s in r.steps
               if s.kind != "logical" and s.numeric == "no numeric cross-check"]
    assert not missing


def test_logical_steps_are_labelled_not_machine_checked(all_results):
    logical = [s for r in all_results for s in r.steps if s.kind == "logical"]
    assert logical and all(s.status == "logical" and "not machine-checked" in s.detail for s in logical)


def test_bound_theorems_check_every_premise_of_their_bound(all_results):
    """A bound's premises (rests_on) each appear as a checked step of its theorem."""
    from catapult_theory.symbolic import bound_catalog

    by_id = {r.theorem: r for r in all_results}
    cases = {"ntk-bound-uv": [("uv", "lemma", "")], "ntk-bound-pure-quadratic": [("pure-quadratic", "single", "")],
             "ntk-bound-omega": [("pure-quadratic", "omega", "")],
             "ntk-bound-quadratic-bias": [("quadratic-bias", "feature", "")],
             "ntk-bound-two-layer": [("two-layer", "single", "single/"), ("two-layer", "data", "data/")]}
    from proofs._bounds import STEP_PREMISES

    for tid, specs in cases.items():
        names = {s.name for s in by_id[tid].steps}
        for model, bound, prefix in specs:
            for p in bound_catalog(model)[bound].premises:
                if p.name in STEP_PREMISES:
                    continue
                assert f"{prefix}premise:{p.name}" in names, (tid, p.name)
    # the norm increments (lemma / modified norm) are checked by the window theorems
    for tid in ("catapult-window-uv", "catapult-window-quadratic-bias"):
        assert "norm-increment" in {s.name for s in by_id[tid].steps}


def test_theorem_list_and_unknown_ids():
    import pytest

    assert set(proofs.THEOREM_IDS) == set(proofs.FAMILY_THEOREMS) | set(proofs.GENERIC_THEOREMS)
    with pytest.raises(ValueError, match="bogus"):
        proofs.theorems(["bogus"])
    with pytest.raises(ValueError, match="no-model"):
        proofs.theorems(["linear-onset"], ["no-model"])
