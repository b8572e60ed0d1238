"""Every reported bound says whether it is rigorous (the theorem that proves it) and
whether its hypotheses hold here.

The expected values are read off the data (are all labels zero? one datum?)
and the symbolic catalogue (``BoundSpec.rigorous``, ``BoundSpec.theorem``), never typed.
"""

import numpy as np
import pytest

from catapult_theory.experiments import (
    bound_status,
    run_two_layer,
    run_uv,
    sweep_two_layer,
    sweep_uv,
    two_layer_setup,
    uv_setup,
)
from catapult_theory.families import get_family
from catapult_theory.experiments._quadratic import quadratic_setup, run_quadratic, sweep_quadratic
from catapult_theory.experiments._results import PhaseSweep, RunResult
from catapult_theory.symbolic._catalog import bounds as catalogue

FAMILIES = ("uv", "pure-quadratic", "quadratic-bias", "two-layer")


def _hyp(model, name):
    """A bound's hypotheses as its family's record gives them (the catalogue's, then its own)."""
    return get_family(model).bound_hypotheses()[name]


def _all_hypotheses():
    """``(model, name, hypotheses)`` of every bound the built-in families report."""
    return [(m, n, h) for m in (*FAMILIES, "three-layer") for n, h in get_family(m).bound_hypotheses().items()]


def _labels_zero(setup) -> bool:
    return bool(np.all(setup.data.y == 0))


def _check(result, labels_zero: bool, B: int):
    """``bound_status`` of a result against the catalogue and the data, and its JSON form."""
    st = result.bound_status
    assert set(st) == set(result.bounds) and st
    for name, s in st.items():
        spec = catalogue(result.model).get(name)
        theorem = spec.theorem if spec is not None else _hyp(result.model, name).theorem_outside_catalogue
        assert s["theorem"] == theorem and s["rigorous"] is (theorem is not None)
        needs_one = _hyp(result.model, name).one_datum
        assert s["hypotheses_hold"] is (labels_zero and (B == 1 or not needs_one))
        if not labels_zero:
            assert "y != 0" in s["why"]
        if not s["rigorous"]:
            assert s["why"].startswith(("heuristic, not a bound", "not rigorous"))
        else:
            assert f"proven ({theorem})" in s["why"]
    d = result.to_dict()
    assert d["bounds"] == pytest.approx(dict(result.bounds)) and set(d["bound_status"]) == set(d["bounds"])
    assert d["bound_status"] == {n: dict(s) for n, s in st.items()}


def test_every_catalogue_bound_has_recorded_hypotheses():
    for model in FAMILIES:
        for name in catalogue(model):
            assert _hyp(model, name) is not None
    # the catalogue says which rigorous bounds are for one datum: its stated hypotheses where it
    # has them, else its notes (the uv model is one datum by construction)
    for model in FAMILIES:
        for name, spec in catalogue(model).items():
            if spec.rigorous:
                hyps = tuple(getattr(spec, "hypotheses", ()))
                if hyps:
                    assert "y = 0" in hyps, (model, name)
                one = "one datum" in hyps if hyps else (model == "uv" or "one datum" in spec.note)
                assert _hyp(model, name).one_datum is one, (model, name)
    # and every entry outside the catalogue says so (the three-layer net has no catalogue)
    for model, name, hyp in _all_hypotheses():
        in_catalogue = model in FAMILIES and name in catalogue(model)
        assert in_catalogue == (not hyp.outside_catalogue)
    # a heuristic says why it is not a bound
    for model in FAMILIES:
        for name, spec in catalogue(model).items():
            if not spec.hypotheses and not spec.rigorous:
                assert _hyp(model, name).not_a_bound, (model, name)


def test_rigorous_means_a_proved_theorem(all_results):
    """Every theorem id a bound names is a theorem of `catapult prove` that proves (the
    session's proof run), and a catalogue bound is rigorous exactly when it names one."""
    import proofs

    proved = {r.theorem for r in all_results if r.proved}
    for model in FAMILIES:
        for name, spec in catalogue(model).items():
            assert spec.rigorous is (spec.theorem is not None), (model, name)
            if spec.theorem is not None:
                assert spec.theorem in proofs.THEOREM_IDS and spec.theorem in proved, (model, name)
    for _, _, hyp in _all_hypotheses():
        if hyp.theorem_outside_catalogue is not None:
            assert hyp.theorem_outside_catalogue in proofs.THEOREM_IDS
    assert not catalogue("pure-quadratic")["omega"].rigorous and not catalogue("two-layer")["data"].rigorous


@pytest.mark.parametrize("model", FAMILIES)
def test_helper_labels_and_one_datum(model):
    names = list(catalogue(model))
    own = get_family(model).hypotheses
    zero = bound_status(model, names, np.zeros(1), 1, slope=0.5, hypotheses=own)
    labelled = bound_status(model, names, np.array([0.0, 0.25]), 2, slope=0.5, hypotheses=own)
    many_zero = bound_status(model, names, np.zeros(3), 3, slope=0.5, hypotheses=own)
    for name in names:
        spec = catalogue(model)[name]
        one = _hyp(model, name).one_datum
        for st in (zero, labelled, many_zero):
            assert st[name]["rigorous"] is spec.rigorous and st[name]["theorem"] == spec.theorem
        assert zero[name]["hypotheses_hold"] is True
        assert labelled[name]["hypotheses_hold"] is False and "y != 0" in labelled[name]["why"]
        assert many_zero[name]["hypotheses_hold"] is (not one)
        if one:
            assert "B = 3" in many_zero[name]["why"]
    # the labels are all of them: one nonzero label among zeros breaks y = 0
    assert bound_status(model, names, np.array([0.0, 0.0, -1e-300]), 3, slope=0.5, hypotheses=own)[names[0]][
        "hypotheses_hold"] is False


def test_relu_uv_is_rigorous_for_one_relu_datum_in_one_dimension_with_y_zero():
    own = get_family("two-layer").hypotheses

    def bound_status(*args, **kw):
        from catapult_theory.experiments import bound_status

        return bound_status(*args, hypotheses=own, **kw)

    ok = bound_status("two-layer", ["relu_uv"], [0.0], 1, slope=0.0, dim=1)["relu_uv"]
    assert ok["rigorous"] is True and ok["hypotheses_hold"] is True and "relu-one-datum" in ok["why"]
    assert ok["theorem"] == "relu-one-datum"
    assert bound_status("two-layer", ["relu_uv"], [0.5], 1, slope=0.0, dim=1)["relu_uv"]["hypotheses_hold"] is False
    leaky = bound_status("two-layer", ["relu_uv"], [0.0], 1, slope=0.5, dim=1)["relu_uv"]
    assert leaky["hypotheses_hold"] is False and "a = 0.5" in leaky["why"]
    wide = bound_status("two-layer", ["relu_uv"], [0.0], 1, slope=0.0, dim=3)["relu_uv"]
    assert wide["hypotheses_hold"] is False and "d = 3" in wide["why"]
    with pytest.raises(ValueError, match="slope"):
        bound_status("two-layer", ["relu_uv"], [0.0], 1, dim=1)
    with pytest.raises(ValueError, match="dimension"):
        bound_status("two-layer", ["relu_uv"], [0.0], 1, slope=0.0)
    # the two-layer window is for a slope other than 1 (a = 1 is the linear net)
    linear = bound_status("two-layer", ["single"], [0.0], 1, slope=1.0)["single"]
    assert linear["rigorous"] and not linear["hypotheses_hold"] and "a = 1" in linear["why"]
    with pytest.raises(ValueError, match="no hypotheses"):
        bound_status("uv", ["nosuchbound"], [0.0], 1)



def test_a_bound_outside_the_catalogue_needs_its_family_hypotheses():
    """relu_uv is the two-layer family's own bound: without the record's hypotheses it has none."""
    with pytest.raises(ValueError, match="no hypotheses"):
        bound_status("two-layer", ["relu_uv"], [0.0], 1, slope=0.0, dim=1)


def test_results_refuse_a_status_that_does_not_match_the_bounds():
    res = run_uv(20, 1.0, 5)
    with pytest.raises(ValueError, match="bound_status"):
        RunResult(**{**res.__dict__, "bound_status": {}})
    sweep = sweep_uv(uv_setup(20), np.array([1.0, 3.0]), steps=20)
    with pytest.raises(ValueError, match="bound_status"):
        PhaseSweep(**{**sweep.__dict__, "bound_status": {"other": sweep.bound_status["lemma"]}})


@pytest.mark.parametrize("y", [0.0, 0.5])
def test_uv_run_and_sweep(y):
    res = run_uv(50, 3.0, 50, y=y)
    _check(res, labels_zero=(y == 0), B=1)
    assert res.bound_status["lemma"]["hypotheses_hold"] is (y == 0)
    sweep = sweep_uv(uv_setup(50, y=y), np.array([1.0, 3.0]), steps=50)
    if y == 0:
        _check(sweep, labels_zero=True, B=1)
    else:  # the sweep reports no bound with a target, hence no status either
        assert sweep.bounds == {} and sweep.bound_status == {}
        assert "bounds" not in sweep.to_dict() and "bound_status" not in sweep.to_dict()


@pytest.mark.parametrize("model, data, names", [
    ("pure-quadratic", "toy", {"single"}),
    ("pure-quadratic", "random:8:2", {"omega", "effective"}),
    ("quadratic-bias", "toy", {"feature", "naive"}),
    ("quadratic-bias", "random:8:2", {"naive"}),
])
def test_quadratic_run_and_sweep(model, data, names):
    setup = quadratic_setup(model, 40, features_=5 if model == "quadratic-bias" else 0, data=data, test_size=8)
    zero = _labels_zero(setup)
    assert zero is (data == "toy")  # the teacher-student labels are not all zero
    res = run_quadratic(setup, 1.0, 10)
    sweep = sweep_quadratic(setup, np.array([1.0, 3.0]), steps=30, tol=1e-2)
    for r in (res, sweep):
        assert set(r.bounds) == names
        _check(r, labels_zero=zero, B=setup.data.B)
    st = sweep.bound_status
    if "omega" in st:
        assert st["omega"]["rigorous"] is False and st["omega"]["hypotheses_hold"] is False
        assert st["omega"]["theorem"] is None and st["omega"]["why"].startswith("not rigorous")
        assert st["effective"]["rigorous"] is False
    if "single" in st or "feature" in st:
        assert all(s["hypotheses_hold"] for s in st.values())
    if "naive" in st:
        assert st["naive"]["rigorous"] is False
    assert sweep.settings["rigorous"] == {n: s["rigorous"] for n, s in st.items()}


@pytest.mark.parametrize("slope", [0.0, 0.5])
def test_two_layer_toy_hypotheses_hold(slope):
    setup = two_layer_setup(16, slope, "toy")
    assert _labels_zero(setup)
    res = run_two_layer(setup, 1.0, 5)
    sweep = sweep_two_layer(setup, np.array([1.0, 3.0]), max_steps=20, refine=False)
    for r in (res, sweep):
        _check(r, labels_zero=True, B=1)
        assert all(s["rigorous"] and s["hypotheses_hold"] for s in r.bound_status.values())
        assert {s["theorem"] for s in r.bound_status.values()} <= {"catapult-window-two-layer", "relu-one-datum"}
        assert ("relu_uv" in r.bound_status) is (slope == 0)


def test_two_layer_digits_labels_break_the_hypotheses():
    setup = two_layer_setup(16, 0.0, "digits01")
    assert not _labels_zero(setup)
    res = run_two_layer(setup, 1.0, 5)
    sweep = sweep_two_layer(setup, np.array([1.0, 3.0]), max_steps=5, refine=False)
    for r in (res, sweep):
        _check(r, labels_zero=False, B=setup.data.B)
        assert r.bound_status["data"]["rigorous"] is False and r.bound_status["data"]["theorem"] is None
        assert r.bound_status["data"]["hypotheses_hold"] is False
        assert "y = 0" in r.bound_status["data"]["why"] and "y != 0" in r.bound_status["data"]["why"]
