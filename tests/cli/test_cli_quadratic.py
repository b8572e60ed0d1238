"""`catapult run|phases pure-quadratic|quadratic-bias`: JSON contracts and bad input."""

import json

import pytest

from tests.cli.conftest import run_cli


def test_run_pure_quadratic_toy_json(capsys):
    code, out, _ = run_cli(capsys, "run", "pure-quadratic", "--rank", "200", "--eta-lambda", "2.2", "--steps", "150",
                           "--seed", "1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    for key in ("phase", "eta", "lam0", "w2_0", "gd", "reduced", "max_rel_dev", "bounds"):
        assert key in data
    assert set(data["gd"]) >= {"loss", "lam", "w2"} and set(data["reduced"]) >= {"loss", "lam", "w2"}
    assert data["max_rel_dev"] < 1e-9
    assert set(data["bounds"]) == {"single"}
    # values: the same numbers as the Python API, and physics that must hold
    from catapult_theory.experiments import quadratic_bounds, quadratic_setup

    setup = quadratic_setup("pure-quadratic", 200, seed=1)
    assert data["lam0"] == setup.lam0 and data["w2_0"] == setup.w2_0
    assert data["eta"] == pytest.approx(2.2 / setup.lam0, rel=1e-15)
    assert data["bounds"] == quadratic_bounds(setup)
    assert 2 < data["bounds"]["single"] <= 4
    assert data["phase"] == ("catapult" if max(data["gd"]["loss"]) > data["gd"]["loss"][0] else "lazy")


def test_run_teacher_student_has_test_loss_and_no_reduced(capsys):
    code, out, _ = run_cli(capsys, "run", "pure-quadratic", "--rank", "40", "--eta-lambda", "1", "--steps", "20",
                           "--data", "random:8:2", "--act", "tanh", "--test-size", "16", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert "test_loss" in data["gd"] and len(data["gd"]["test_loss"]) == 21
    assert "reduced" not in data
    assert set(data["bounds"]) == {"omega", "effective"}


def test_phases_bias_json(capsys, tmp_path):
    plot = tmp_path / "bias.png"
    code, out, _ = run_cli(capsys, "phases", "quadratic-bias", "--rank", "40", "--features", "5",
                           "--mu-dist", "normal:1:0.1", "--k-min", "1", "--k-max", "5", "--num", "20",
                           "--steps", "800", "--format", "json", "--plot", str(plot))
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"k", "phase", "boundaries", "bounds"}
    assert set(data["bounds"]) == {"feature", "naive"}
    assert plot.exists()
    # values: the rigorous feature bound lies below the measured divergence; the
    # naive "bound" (4) is not below it (THEORY §5: such models diverge below 4)
    b, div = data["bounds"], data["boundaries"]["divergence"]
    assert b["naive"] == 4.0 and b["feature"] < div < b["naive"]
    assert data["bound_status"]["feature"]["rigorous"] and not data["bound_status"]["naive"]["rigorous"]
    first_div = data["k"][data["phase"].index("divergent")]
    assert abs(first_div - div) <= (data["k"][1] - data["k"][0]) + 1e-9


BAD = [
    ["run", "pure-quadratic", "--rank", "7", "--eta-lambda", "2", "--steps", "5"],
    ["run", "pure-quadratic", "--rank", "8", "--eta-lambda", "2", "--steps", "5", "--features", "3"],
    ["run", "quadratic-bias", "--rank", "8", "--eta-lambda", "2", "--steps", "5", "--features", "0"],
    ["run", "pure-quadratic", "--rank", "8", "--eta-lambda", "2", "--steps", "5", "--data", "random:x"],
    ["run", "pure-quadratic", "--rank", "8", "--eta-lambda", "2", "--steps", "5", "--mu-dist", "uniform:-1:2"],
    ["run", "pure-quadratic", "--rank", "8", "--eta-lambda", "2", "--steps", "5", "--mu-dist", "gamma:1:1"],
    ["run", "pure-quadratic", "--rank", "8", "--eta-lambda", "2", "--steps", "5", "--act", "softplus"],
    ["phases", "pure-quadratic", "--rank", "8", "--k-min", "3", "--k-max", "1", "--num", "5"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a[4:]) for a in BAD])
def test_bad_input(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("catapult: error:")
