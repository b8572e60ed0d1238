"""`catapult falsify`: exit codes, the counterexample contract, malformed and smuggled claims."""

import json
from fractions import Fraction

import pytest
import sympy as sp

from tests.cli.conftest import run_cli

LEMMA = ["--assume", "y == 0", "--assume", "f != 0", "--claim", "w2_next < w2"]


def _uv_w2_increment(params):
    """``|θ'|² − |θ|²`` of one GD step from the drawn uv parameters, exactly (written out here)."""
    M = {k: sp.Matrix([[sp.Rational(Fraction(x)) for x in row] for row in v]) for k, v in params["matrices"].items()}
    U, v, x = M["U"], M["v"], M["x"]
    c = 1 / sp.sqrt(U.shape[0])
    f = (v.T * U * x)[0, 0] * c
    gU, gv = c * v * x.T, c * U * x
    lam = sum(t**2 for t in gU) + sum(t**2 for t in gv)
    eta = sp.Rational(Fraction(params["k"])) / lam
    r = f - sp.Rational(Fraction(params["y"]))
    U1, v1 = U - eta * r * gU, v - eta * r * gv
    return sp.simplify(sum(t**2 for t in U1) + sum(t**2 for t in v1) - sum(t**2 for t in U) - sum(t**2 for t in v))


def test_the_lemma_survives_below_4(capsys):
    code, out, err = run_cli(capsys, "falsify", "uv", "--assume", "eta*lam < 4", *LEMMA)
    assert code == 0 and err == ""
    assert "no counterexample in 200 examples" in out


def test_the_wrong_twin_gives_a_counterexample_that_violates_the_claim(capsys):
    code, out, err = run_cli(capsys, "falsify", "uv", "--assume", "eta*lam < 4.5", *LEMMA, "--format", "json")
    assert code == 1 and err == ""
    data = json.loads(out)
    assert data["falsified"] is True and sorted(data["generated_by"]) == ["eta*lam < 4.5", "y == 0"]
    cex = data["counterexample"]
    assert cex["relation"] == "w2_next < w2"
    assert cex["lhs"] >= cex["rhs"] and cex["lhs"] == cex["state"]["w2_next"] and cex["rhs"] == cex["state"]["w2"]
    assert sp.Rational(cex["lhs_exact"]) >= sp.Rational(cex["rhs_exact"])
    params = cex["parameters"]
    assert 4 <= params["k"] < 4.5 and params["y"] == 0
    # independently: one exact GD step from the drawn parameters does not shrink the weight norm
    assert bool(_uv_w2_increment(params) >= 0)


def test_the_text_form_shows_both_sides(capsys):
    code, out, _ = run_cli(capsys, "falsify", "uv", "--assume", "y == 0", "--claim", "w2_next >= w2",
                           "--max-examples", "50")
    assert code == 1
    assert "COUNTEREXAMPLE" in out and "re-checked in exact arithmetic" in out
    assert "lhs  w2_next" in out and "rhs  w2" in out and "drawn:" in out


@pytest.mark.parametrize("model", ["two-layer", "pure-quadratic"])
def test_other_families(model, capsys):
    code, out, _ = run_cli(capsys, "falsify", model, "--assume", "eta*lam < 4", *LEMMA, "--max-examples", "60",
                           "--format", "json")
    assert code == 0 and json.loads(out)["examples"] == 60


@pytest.mark.parametrize("claim, name", [
    ("w2_next < bogus", "bogus"),
    ("w2_next < w2 and m3 > 0", "m3"),      # not a symbol of the uv model
    ("eta^2 < 1", "**"),
    ("y = 0", "=="),
    ("f <", "malformed"),
    ("phase == 'fast'", "fast"),
])
def test_malformed_claims_exit_2_naming_the_problem(claim, name, capsys):
    code, out, err = run_cli(capsys, "falsify", "uv", "--claim", claim)
    assert code == 2 and out == ""
    assert err.startswith("catapult: error:") and name in err and err.count("\n") == 1


@pytest.mark.parametrize("claim", [
    "__import__('os').system('touch {marker}')",
    "f.__class__.__bases__ == 0",
    "(lambda: __import__('os').system('touch {marker}'))() == 0",
    "[__import__('os').system('touch {marker}') for _ in (1,)] == 0",
    "exec('import os') == 0",
])
def test_smuggled_code_is_rejected_and_never_runs(claim, tmp_path, capsys):
    marker = tmp_path / "ran"
    code, _, err = run_cli(capsys, "falsify", "uv", "--claim", claim.format(marker=marker))
    assert code == 2 and ("not allowed" in err or "unknown" in err)
    assert not marker.exists()
    code, _, err = run_cli(capsys, "falsify", "uv", "--assume", claim.format(marker=marker), "--claim", "f == f")
    assert code == 2 and not marker.exists()


def test_the_search_is_reproducible_and_budgeted(capsys):
    args = ("falsify", "uv", "--claim", "lam_next >= 0", "--max-examples", "15", "--seed", "3", "--format", "json")
    first = json.loads(run_cli(capsys, *args)[1])
    second = json.loads(run_cli(capsys, *args)[1])
    assert first == second and first["examples"] == 15 and first["seed"] == 3


def test_assumptions_that_reject_everything(capsys):
    code, _, err = run_cli(capsys, "falsify", "uv", "--assume", "f > 1000", "--claim", "w2 > 0",
                           "--max-examples", "3")
    assert code == 2 and "rejected every drawn state" in err


def test_unknown_model(capsys):
    code, _, err = run_cli(capsys, "falsify", "nosuch", "--claim", "f == f")
    assert code == 2 and "nosuch" in err
