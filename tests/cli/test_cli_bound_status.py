"""`run` and `phases` say, for every bound, whether it is rigorous (the theorem that
proves it) and whether its hypotheses hold for this run (JSON ``bound_status``; a
marker in the text)."""

import json

import pytest

from tests.cli.conftest import run_cli

NOT_HOLD = "rigorous; hypotheses do NOT hold here"
HOLD = "rigorous; hypotheses hold"
HEURISTIC = "[heuristic, not a bound"
NOT_RIGOROUS = "[not rigorous"


def _json(capsys, *argv):
    code, out, err = run_cli(capsys, *argv, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data["bound_status"]) == set(data["bounds"])
    for st in data["bound_status"].values():
        assert set(st) == {"rigorous", "theorem", "hypotheses_hold", "why"}
        assert isinstance(st["rigorous"], bool) and isinstance(st["hypotheses_hold"], bool) and st["why"]
        assert st["rigorous"] is (st["theorem"] is not None)
    return data


def _text(capsys, *argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    return out


def _line(text, name):
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(f"{name}: k < ")]
    return line


PQ_DATA = ["phases", "pure-quadratic", "--rank", "50", "--data", "random:8:2", "--test-size", "8",
           "--k-min", "0.5", "--k-max", "5", "--num", "4", "--steps", "100"]


def test_phases_pure_quadratic_on_labelled_data(capsys):
    data = _json(capsys, *PQ_DATA)
    st = data["bound_status"]
    assert st["omega"]["rigorous"] is False and st["omega"]["hypotheses_hold"] is False
    assert "y = 0" in st["omega"]["why"] and "y != 0" in st["omega"]["why"]
    assert st["effective"]["rigorous"] is False and st["effective"]["why"].startswith("heuristic, not a bound")
    text = _text(capsys, *PQ_DATA)
    assert NOT_RIGOROUS in _line(text, "omega") and "y != 0" in _line(text, "omega")
    assert HEURISTIC in _line(text, "effective") and "rigorous;" not in _line(text, "effective")


@pytest.mark.parametrize("y, hold", [("0.5", False), ("0", True)])
def test_run_uv_with_and_without_a_target(capsys, y, hold):
    argv = ["run", "uv", "--width", "50", "--eta-lambda", "3", "--steps", "30", "--y", y]
    st = _json(capsys, *argv)["bound_status"]
    assert set(st) == {"lemma"} and st["lemma"]["rigorous"] is True and st["lemma"]["hypotheses_hold"] is hold
    assert ("y != 0" in st["lemma"]["why"]) is (not hold)
    assert (HOLD if hold else NOT_HOLD) in _line(_text(capsys, *argv), "lemma")


def test_phases_uv(capsys):
    argv = ["phases", "uv", "--width", "50", "--k-min", "1", "--k-max", "5", "--num", "5", "--steps", "100"]
    st = _json(capsys, *argv)["bound_status"]
    assert st["lemma"]["rigorous"] is True and st["lemma"]["hypotheses_hold"] is True
    assert HOLD in _line(_text(capsys, *argv), "lemma")
    # with a target the sweep reports no bound, so no status, and the text says why
    code, out, _ = run_cli(capsys, *argv, "--y", "0.5", "--format", "json")
    assert code == 0 and "bounds" not in json.loads(out) and "bound_status" not in json.loads(out)
    assert "needs y = 0" in _text(capsys, *argv, "--y", "0.5")


@pytest.mark.parametrize("command", ["run", "phases"])
def test_quadratic_toy_hypotheses_hold(capsys, command):
    extra = (["--eta-lambda", "1", "--steps", "10"] if command == "run"
             else ["--k-min", "1", "--k-max", "3", "--num", "3", "--steps", "50"])
    st = _json(capsys, command, "pure-quadratic", "--rank", "20", *extra)["bound_status"]
    assert st == {"single": {"rigorous": True, "theorem": "catapult-window-pure-quadratic", "hypotheses_hold": True,
                             "why": st["single"]["why"]}}
    argv = [command, "quadratic-bias", "--rank", "20", "--features", "3", *extra]
    st = _json(capsys, *argv)["bound_status"]
    assert st["feature"]["rigorous"] is True and st["feature"]["hypotheses_hold"] is True
    assert st["naive"]["rigorous"] is False
    text = _text(capsys, *argv)
    assert HOLD in _line(text, "feature") and HEURISTIC in _line(text, "naive")


@pytest.mark.parametrize("command", ["run", "phases"])
def test_two_layer_toy_and_digits(capsys, command):
    extra = (["--eta-lambda", "1", "--steps", "5"] if command == "run"
             else ["--k-min", "1", "--k-max", "3", "--num", "2", "--steps", "5", "--no-refine"])
    toy = ["two-layer", "--width", "16", "--slope", "0"]
    st = _json(capsys, command, *toy, *extra)["bound_status"]
    assert set(st) == {"single", "relu_uv"}
    assert all(s["rigorous"] and s["hypotheses_hold"] for s in st.values())
    assert HOLD in _line(_text(capsys, command, *toy, *extra), "relu_uv")
    digits = ["two-layer", "--width", "16", "--slope", "0", "--data", "digits01"]
    st = _json(capsys, command, *digits, *extra)["bound_status"]
    assert set(st) == {"data"} and st["data"]["rigorous"] is False and st["data"]["hypotheses_hold"] is False
    assert "y != 0" in st["data"]["why"]
    assert NOT_RIGOROUS in _line(_text(capsys, command, *digits, *extra), "data")
