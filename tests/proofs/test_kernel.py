"""The proof kernel: each method can fail, and the red-team corpus is rejected step by step.

Every attack that once got a false or unchecked claim printed "proved" is kept
here as a theorem that must not prove, naming the step that fails.
"""

import pytest
import sympy as sp

import proofs
from proofs import (Always, Axiom, Cases, Certificate, Chain, Definition, Identity, Induction, Step, Theorem,
                    Use)
from proofs._kernel import NONNEG, POS, _facts, canon, check_theorem, sign, strip
from proofs._runner import signed_point_check

x, y, z, t = sp.symbols("x y z t")
w = sp.Function("w")


def _run(th):
    return proofs.run_theorem(th, coq=False)


def _one(name, claim, by, **kw):
    return Theorem("t", kw.pop("hypotheses", ()), (claim,), (Step(name, claim, by, **kw),))


# ------------------------------------------------------------------ what proves
def test_the_readme_example_proves_with_both_checkers():
    th = Theorem("am-gm", (x > 0, y > 0), (x**2 + y**2 >= 2 * x * y,),
                 (Step("square", (x - y) ** 2 >= 0, Certificate()),
                  Step("am-gm", x**2 + y**2 >= 2 * x * y, Chain(("square",)), uses=("square",))))
    r = _run(th)
    assert r.proved, r.error
    assert all(set(s.checked_by) >= {"sympy", "z3"} for s in r.steps)


def test_identity_with_definitions_and_its_twin():
    d = (Definition(z, "z = x + y", x + y),)
    good = Theorem("t", (), (sp.Eq(z**2, x**2 + 2 * x * y + y**2),),
                   (Step("a", sp.Eq(z**2, x**2 + 2 * x * y + y**2), Identity()),), d)
    bad = Theorem("t", (), (sp.Eq(z**2, x**2 + y**2),), (Step("a", sp.Eq(z**2, x**2 + y**2), Identity()),), d)
    assert _run(good).proved
    r = _run(bad)
    assert r.failed_steps == ("a",) and "does not vanish" in r.steps[0].detail


def test_certificate_multipliers_signs_and_strictness():
    lam, eta, f = sp.symbols("lam eta f")
    hyp = (eta > 0, eta * lam < 4)
    inc = eta * f**2 * (eta * lam - 4)
    ok = Theorem("t", hyp, (sp.Le(inc, 0),), (Step("d", sp.Le(inc, 0), Certificate(((eta * f**2, eta * lam < 4),), 0)),))
    assert _run(ok).proved
    # the twin: a window of 4.1 instead of 4 is caught (the certificate leaves −0.1 η f²)
    hyp41 = (eta > 0, eta * lam < sp.Rational(41, 10))
    twin = Theorem("t", hyp41, (sp.Le(inc, 0),),
                   (Step("d", sp.Le(inc, 0), Certificate(((eta * f**2, eta * lam < sp.Rational(41, 10)),))),))
    r = _run(twin)
    assert r.failed_steps == ("d",)
    assert "countermodel" in r.steps[0].detail  # the solver shows the claim is false
    # a negative multiplier on an inequality is refused
    neg = _one("d", sp.Le(-x, 0), Certificate(((-1, x >= 0),)), hypotheses=(x >= 0,))
    assert "not proved non-negative" in _run(neg).steps[0].detail


def test_induction_on_a_sequence():
    hyp = (Always(w(t + 1) <= w(t), t),)
    base = Step("base", sp.Le(w(0), w(0), evaluate=False), Certificate((), 0))
    step = Step("step", w(t + 1) <= w(0), Certificate(((1, w(t + 1) <= w(t)), (1, w(t) <= w(0))), 0),
                hypotheses=(w(t) <= w(0),))
    ind = Step("all", w(t) <= w(0), Induction("base", "step", t))
    assert _run(Theorem("t", hyp, (w(t) <= w(0),), (base, step, ind))).proved
    # the inductive step must assume the invariant at t, and only hypotheses that hold for every t
    local = Step("step", w(t + 1) <= w(0), Certificate(((1, w(t + 1) <= w(t)), (1, w(t) <= w(0))), 0),
                 hypotheses=(w(t) <= w(0), w(t + 1) <= w(t)))
    r = _run(Theorem("t", (), (w(t) <= w(0),), (base, local, ind)))
    assert r.failed_steps == ("all",) and "every t" in r.steps[-1].detail


def test_instantiation_substitutes_inside_definitions():
    d = (Definition(z, "z = x y", x * y),)
    th = Theorem("t", (), (sp.Eq(z, 6),),
                 (Step("a", sp.Eq(z, x * y), Identity()),
                  Step("b", sp.Eq(z, 6), Certificate(((1, sp.Eq(6, 6, evaluate=False)),), 0),
                       uses=(Use("a", {x: 2, y: 3}),))), d)
    # z is x y, not 6: instantiating a, whose z hides x and y, gives 6 = 6, never z = 6
    r = _run(th)
    assert "b" in r.failed_steps


# ------------------------------------------------------------------ the red-team corpus
def test_red_team_a_printed_claim_that_is_false():
    r = _run(_one("false", sp.Le(x**2 + 1, 0), Certificate()))
    assert r.failed_steps == ("false",) and not r.proved


def test_red_team_one_less_than_zero():
    r = _run(_one("one", sp.Lt(1, 0, evaluate=False), Certificate()))
    assert r.failed_steps == ("one",)
    r = _run(_one("one", sp.Lt(1, 0), Certificate()))  # evaluated by SymPy to False: not a relation
    assert not r.proved and "truth value" in (r.steps[0].detail if r.steps else r.error)


def test_red_team_a_strict_target_from_a_non_strict_remainder():
    r = _run(_one("strict", sp.Gt(x, 0), Certificate(((1, x >= 0),)), hypotheses=(x >= 0,)))
    assert r.failed_steps == ("strict",) and "strict" in r.steps[0].detail
    r = _run(_one("x<x", sp.Lt(x, x, evaluate=False), Certificate()))
    assert r.failed_steps == ("x<x",)


def test_red_team_a_false_chain_premise():
    th = Theorem("t", (), (x <= 0,), (Step("premise", x <= -1, Certificate()),
                                       Step("chain", x <= 0, Chain(("premise",)), uses=("premise",))))
    r = _run(th)
    assert r.failed_steps == ("premise", "chain")
    # a premise taken as a hypothesis of the step is not a hypothesis of the theorem
    hidden = Theorem("t", (), (x <= 0,), (Step("chain", x <= 0, Certificate(((1, x <= -1),)), hypotheses=(x <= -1,)),))
    r = _run(hidden)
    assert not r.proved and r.failed_steps == () and "x <= -1" in r.error


def test_red_team_uses_of_a_theorem_that_does_not_exist_or_failed():
    r = _run(_one("a", x**2 >= 0, Certificate(), uses=("theorem:no-such-theorem",)))
    assert r.failed_steps == ("a",) and "not a theorem of this run" in r.steps[0].detail
    with proofs.inject(lemma_constant=3):
        r = _run(_one("a", x**2 >= 0, Certificate(), uses=("theorem:weight-norm-identity[uv]",)))
    assert r.failed_steps == ("a",) and "not proved" in r.steps[0].detail


def test_red_team_a_trivial_identity_and_an_unchecked_step():
    th = Theorem("t", (), (x > 5,), (Step("trivial", sp.Eq(x, x, evaluate=False), Identity()),
                                      Step("claim", x > 5, None)))
    r = _run(th)
    assert r.failed_steps == ("claim",) and "unknown method" in r.steps[1].detail
    # and a conclusion that no step claims
    th = Theorem("t", (), (x > 5,), (Step("trivial", sp.Eq(x, x, evaluate=False), Identity()),))
    r = _run(th)
    assert not r.proved and "not the claim of any checked step" in r.error


@pytest.mark.parametrize("claim", [sp.Eq(sp.Abs(x), x), sp.Eq(sp.sqrt(x**2), x)])
def test_red_team_abs_and_root_without_a_sign(claim):
    r = _run(_one("a", claim, Identity()))
    assert r.failed_steps == ("a",)
    assert _run(_one("a", claim, Identity(), hypotheses=(x >= 0,))).steps[0].status == "checked"


def test_red_team_division_by_a_possibly_zero_expression():
    claim = sp.Eq((x**2 - 1) / (x - 1), x + 1)
    r = _run(_one("a", claim, Identity()))
    assert r.failed_steps == ("a",) and "division" in r.steps[0].detail
    assert _run(_one("a", claim, Identity(), hypotheses=(sp.Ne(x, 1),))).proved


def test_red_team_a_non_exhaustive_case_split():
    pos = Step("pos", x**2 + x >= 0, Certificate(((x + 1, x >= 0),), x * 0), hypotheses=(x >= 0,))
    th = Theorem("t", (), (x**2 + x >= 0,), (pos, Step("all", x**2 + x >= 0, Cases(((x >= 0, "pos"),)))))
    r = _run(th)
    assert r.failed_steps == ("all",) and "not exhaustive" in r.steps[-1].detail


def test_an_exhaustive_case_split_proves():
    big = Step("big", x**2 >= 0, Certificate(), hypotheses=(x >= 0,))
    small = Step("small", x**2 >= 0, Certificate(), hypotheses=(x < 0,))
    th = Theorem("t", (), (x**2 >= 0,), (big, small, Step("all", x**2 >= 0, Cases(((x >= 0, "big"),
                                                                                    (x < 0, "small"))))))
    assert _run(th).proved


def test_red_team_the_catapult_window_as_first_stated_is_not_proved():
    """η λ_∞ <= 2 stated without "f_t != 0 for every t" (false: a start with f_1 = 0
    stays at η λ = 9/4): the conclusion is refused, and dropping the hypothesis from
    the steps fails the ratio axiom."""
    from proofs import catapult_window_uv
    from proofs._window import LAM_INF

    th = catapult_window_uv.theorem()
    edge = sp.Le(sp.Symbol("eta") * LAM_INF, 2)
    as_first = Theorem(th.id, th.hypotheses, th.conclusion + (edge,), th.steps, th.definitions, th.model, th.title,
                       th.trajectory)
    r = _run(as_first)
    assert not r.proved and "f_seq(t) != 0" in r.error
    stripped = tuple(Step(s.name, s.claim, s.by, tuple(h for h in s.hypotheses if not isinstance(h, Always)),
                          s.uses, s.note) for s in th.steps)
    concl = tuple(c[0] if isinstance(c, tuple) else c for c in th.conclusion)
    r = _run(Theorem(th.id, th.hypotheses, concl, stripped, th.definitions, th.model, th.title, th.trajectory))
    assert "ratio" in r.failed_steps and "ratio-limit needs" in dict((s.name, s.detail) for s in r.steps)["ratio"]


def test_red_team_closure_converse_as_first_stated_is_not_proved():
    """"Closes only if ψ² ∝ I" is false: with three distinct eigenvalues the divided-
    difference weights that keep f and |θ|² change λ, so no such pair exists."""
    mu = sp.symbols("mu1:4")
    delta = sp.symbols("delta1:4")
    distinct = tuple(sp.Ne(mu[i], mu[j]) for i in range(3) for j in range(i + 1, 3))
    defs = tuple(Definition(delta[j], "divided-difference weight",
                            1 / sp.Mul(*[mu[j] - mu[k] for k in range(3) if k != j]), where=distinct) for j in range(3))
    claims = [sp.Eq(sp.Add(*[mu[j] ** k * delta[j] for j in range(3)]), 0) for k in range(3)]
    steps = tuple(Step(f"moment-{k}", c, Identity(), hypotheses=distinct) for k, c in enumerate(claims))
    r = _run(Theorem("closure-converse-as-first-stated", (), tuple((c, distinct) for c in claims), steps, defs))
    assert r.failed_steps == ("moment-2",)


# ------------------------------------------------------------------ pieces
def test_sign_reads_syntax_and_facts():
    facts = _facts([strip(x > 0), strip(sp.Ne(y, 0)), strip(4 - x * y > 0)])
    assert sign(strip(x**2 * y**2), facts) == POS
    assert sign(strip(x * (4 - x * y)), facts) == POS
    assert sign(strip(8 - 2 * x * y), facts) == POS  # a multiple of a fact
    assert not sign(strip(x - 1), facts) <= NONNEG
    assert sign(sp.Max(1, strip(y) ** 2), facts) == POS


def test_assumptions_are_lifted_into_printed_hypotheses():
    p = sp.Symbol("p", positive=True)
    claim = sp.Gt(p * x**2 + p, 0)  # SymPy cannot decide it (x is complex to SymPy): a relation
    th = Theorem("t", (), (claim,), (Step("a", claim, Certificate()),))
    r = _run(th)
    assert r.proved and any(sp.sstr(h) == "p > 0" for h in r.hypotheses)


def test_canon_identifies_a_relation_up_to_sides():
    assert canon(x <= y) == canon(y >= x) == canon(sp.Le(x - y, 0))
    assert canon(sp.Eq(x, y)) == canon(sp.Eq(y, x))
    assert canon(x < y) != canon(x <= y)


def test_signed_points_catch_a_false_identity_and_flag_vacuous_steps():
    th = _one("a", sp.Eq(sp.sqrt(x**2), x), Identity(), hypotheses=(x >= 0,))
    r = _run(th)
    assert r.proved and "signed points" in r.steps[0].numeric
    v = check_theorem(_one("v", sp.Eq(x, x, evaluate=False), Identity()))
    assert v.steps[0].vacuous
    from proofs._kernel import Obligation

    bad = Obligation(strip(sp.Eq(sp.sqrt(x**2), x)), (), {}, "identity")
    out = signed_point_check(bad)
    assert not out and "violated" in out.detail


def test_a_definition_twice_and_a_dummy_symbol_are_malformed():
    d = (Definition(z, "a", x), Definition(z, "b", y))
    r = _run(Theorem("t", (), (sp.Eq(z, z, evaluate=False),), (Step("a", sp.Eq(z, z, evaluate=False), Identity()),),
                     d))
    assert not r.proved and "defined twice" in r.error
    r = _run(_one("a", sp.Eq(sp.Dummy("q"), 0), Identity()))
    assert not r.proved
