"""Every theorem of the study is proved by the kernel, every identity and
inequality step also by the SMT solver, with no unchecked step left."""

import sympy as sp

import proofs

REQUIRED = {
    "uv-map", "linear-onset", "weight-norm-identity", "weight-norm-decrease", "ntk-bound", "ntk-bound-uv",
    "ntk-bound-pure-quadratic", "ntk-bound-omega", "ntk-bound-quadratic-bias", "ntk-bound-two-layer",
    "catapult-window-uv", "catapult-window-pure-quadratic", "catapult-window-quadratic-bias",
    "catapult-window-two-layer", "closure-converse", "divergence-shift-uv", "peak-law-uv", "relu-one-datum",
}


def test_every_theorem_id_is_proved(all_results):
    assert REQUIRED == {r.theorem for r in all_results}
    bad = {r.label: (r.error, r.failed_steps) for r in all_results if not r.proved}
    assert not bad, bad


def test_every_step_is_checked_and_none_is_logical(all_results):
    for r in all_results:
        assert r.steps and all(s.status == "checked" for s in r.steps), r.label
        assert {s.method for s in r.steps} <= {"identity", "certificate", "chain", "induction", "cases", "axiom",
                                               "iterate"}


def test_every_identity_and_inequality_step_is_accepted_by_z3(all_results):
    missing = [(r.label, s.name, s.smt) for r in all_results for s in r.steps
               if s.method in ("identity", "certificate", "chain") and "z3" not in s.checked_by]
    assert not missing, missing


def test_axioms_are_listed_and_known(all_results):
    used = {a for r in all_results for a in r.axioms}
    assert used <= set(proofs.AXIOMS)
    assert {"norm-nonneg", "rayleigh-ritz", "monotone-convergence", "series-terms-to-zero",
            "ratio-limit"} <= used
    window = next(r for r in all_results if r.theorem == "catapult-window-uv")
    assert {"series-terms-to-zero", "monotone-convergence", "ratio-limit", "limit-of-polynomial"} <= set(window.axioms)
    # no cited lemma: Cauchy-Schwarz, the spectral Rayleigh bound and the slope lemma are identities
    for r in all_results:
        assert not {"cauchy-schwarz", "slopes", "spectral-rayleigh", "batch-lemma"} & set(r.axioms)


def test_the_catapult_window_states_what_it_proves(all_results):
    r = next(x for x in all_results if x.theorem == "catapult-window-uv")
    concl = {sp.sstr(c[0] if isinstance(c, tuple) else c): (c[1] if isinstance(c, tuple) else ()) for c in
             r.conclusion}
    edge = [k for k in concl if k.startswith("eta*lam_inf <= 2")]
    assert edge, concl
    # η λ_∞ <= 2 only for runs on which f never vanishes
    assert any("f_seq(t)" in str(h) for h in concl[edge[0]])
    assert any("Limit(f_seq(t)**2" in k for k in concl)  # the loss tends to 0, for every start
    for other in ("catapult-window-pure-quadratic", "catapult-window-two-layer", "catapult-window-quadratic-bias"):
        res = next(x for x in all_results if x.theorem == other)
        assert not any("lam_inf" in sp.sstr(c[0] if isinstance(c, tuple) else c) for c in res.conclusion)


def test_linear_onset_runs_for_every_family(all_results):
    assert {r.model for r in all_results if r.theorem == "linear-onset"} == {
        "uv", "pure-quadratic", "quadratic-bias", "two-layer"}


def test_every_step_carries_a_numeric_cross_check(all_results):
    """Every identity and inequality step is also evaluated at signed points; the
    steps about real models also on those models."""
    missing = [(r.label, s.name) for r in all_results for s in r.steps
               if s.method in ("identity", "certificate", "chain") and not s.numeric]
    assert not missing
    window = next(r for r in all_results if r.theorem == "catapult-window-uv")
    assert "real GD" in next(s.numeric for s in window.steps if s.name == "decrease-step")


def test_theorem_list_and_unknown_ids():
    import pytest

    assert set(proofs.THEOREM_IDS) == set(proofs.FAMILY_THEOREMS) | set(proofs.GENERIC_THEOREMS)
    with pytest.raises(ValueError, match="bogus"):
        proofs.theorems(["bogus"])
    with pytest.raises(ValueError, match="no-model"):
        proofs.theorems(["linear-onset"], ["no-model"])
