"""`catapult derive|run|phases two-layer`: JSON contracts and bad input."""

import json

import pytest
import sympy as sp

from tests.cli.conftest import run_cli


def test_derive_two_layer_with_and_without_slope(capsys):
    code, out, _ = run_cli(capsys, "derive", "two-layer", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["lemma"]["homogeneous_degree_2"] is True
    assert not data["closed"] and data["leftover"]
    code, out, _ = run_cli(capsys, "derive", "two-layer", "--slope", "0.5", "--format", "json")
    K = sp.sympify(json.loads(out)["bounds"]["single"]["K"])
    assert "a" not in {s.name for s in K.free_symbols}


def test_run_two_layer_toy_json(capsys):
    code, out, _ = run_cli(capsys, "run", "two-layer", "--width", "64", "--slope", "0.5", "--eta-lambda", "3",
                           "--steps", "300", "--format", "json")
    assert code == 0
    data = json.loads(out)
    for key in ("phase", "eta", "lam0", "w2_0", "gd", "bounds"):
        assert key in data
    assert set(data["gd"]) >= {"loss", "lam", "w2", "sparsity"}
    assert "single" in data["bounds"]
    # values: the Python API gives the same numbers; k = 3 lies beyond the proven
    # window of a = 1/2 (THEORY §6: not tight) and the net still converges
    from catapult_theory.experiments import two_layer_bounds, two_layer_setup

    setup = two_layer_setup(64, 0.5, "toy")
    assert data["lam0"] == setup.lam0 and data["bounds"] == two_layer_bounds(setup)
    assert data["bounds"]["single"] < 3
    assert data["phase"] == "catapult"
    assert data["gd"]["lam"][-1] * data["eta"] <= 2 * (1 + 1e-3)


def test_run_two_layer_digits_has_test_loss(capsys):
    code, out, _ = run_cli(capsys, "run", "two-layer", "--width", "32", "--slope", "0", "--data", "digits01",
                           "--eta-lambda", "1", "--steps", "20", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert len(data["gd"]["test_loss"]) == len(data["gd"]["loss"]) == 21
    assert "data" in data["bounds"]


def test_phases_two_layer_json(capsys, tmp_path):
    plot = tmp_path / "tl.png"
    code, out, _ = run_cli(capsys, "phases", "two-layer", "--width", "128", "--slope", "0", "--k-min", "0.5",
                           "--k-max", "8", "--num", "16", "--steps", "1500", "--no-refine", "--format", "json",
                           "--plot", str(plot))
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"k", "phase", "boundaries", "bounds", "final"}
    for key in ("lam_eta", "w2_ratio", "train_loss", "test_loss", "sparsity"):
        assert len(data["final"][key]) == 16
    assert plot.exists()
    # values: ReLU on one datum does not diverge below k = 4 (THEORY §6); the
    # converged runs end linearly stable
    ks, ph = data["k"], data["phase"]
    assert all(p != "divergent" for k, p in zip(ks, ph) if k < 4)
    assert data["bounds"]["relu_uv"] == 4.0
    for k, p, el in zip(ks, ph, data["final"]["lam_eta"]):
        if p in ("lazy", "catapult"):
            assert el <= 2 * (1 + 1e-3), (k, p, el)


BAD = [
    ["run", "two-layer", "--width", "8", "--slope", "1.5", "--eta-lambda", "2", "--steps", "5"],
    ["run", "two-layer", "--width", "8", "--slope", "-0.1", "--eta-lambda", "2", "--steps", "5"],
    ["run", "two-layer", "--width", "0", "--slope", "0", "--eta-lambda", "2", "--steps", "5"],
    ["run", "two-layer", "--width", "8", "--slope", "0", "--eta-lambda", "2", "--steps", "5", "--data", "mnist"],
    ["derive", "two-layer", "--slope", "2"],
    ["phases", "two-layer", "--width", "8", "--slope", "0", "--k-min", "2", "--k-max", "1", "--num", "4"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a[2:]) for a in BAD])
def test_bad_input(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("catapult: error:")
