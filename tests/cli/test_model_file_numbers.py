"""A model FILE at finite width: ``run`` beside its exact map, ``phases`` against its derived
thresholds, a grid in-process and on two processes, its memory estimate, and one-line errors."""

import json

import pytest

from tests.cli.conftest import run_cli


def test_run_matches_the_exact_map_where_it_closes(mine, capsys):
    code, out, err = run_cli(capsys, "run", "mine.py", "--width", "80", "--eta-lambda", "2.5", "--steps", "200",
                             "--format", "json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert d["model"] == "mine" and d["phase"] == "catapult" and d["settings"]["map_phase"] == "catapult"
    assert d["max_rel_dev"] < 1e-10
    assert d["bounds"]["lemma"] == pytest.approx(4.0) and d["bound_status"]["lemma"]["hypotheses_hold"]
    # no theorem of catapult prove proves the window of a model given as symbols: not rigorous, and it says so
    assert d["bound_status"]["lemma"]["rigorous"] is False and d["bound_status"]["lemma"]["theorem"] is None
    assert d["bound_status"]["lemma"]["why"].startswith("not rigorous")
    # with a target the window's hypotheses fail (and say so); the map still closes and matches
    code, out, _ = run_cli(capsys, "run", "mine.py", "--width", "40", "--data", "toy:1.5:0.2", "--size", "d=3",
                           "--eta-lambda", "1.5", "--steps", "100", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["max_rel_dev"] < 1e-10 and d["settings"]["sizes"] == {"d": 3, "n": 40}
    assert not d["bound_status"]["lemma"]["hypotheses_hold"] and "y != 0" in d["bound_status"]["lemma"]["why"]


def test_run_on_many_data_has_no_map_and_says_why(mine, capsys):
    code, out, _ = run_cli(capsys, "run", "mine.py", "--width", "30", "--data", "random:6:3:4", "--eta-lambda", "1",
                           "--steps", "60")
    assert code == 0
    assert "no exact map: the data have more than one point" in out and "final test loss" in out
    assert "sizes d=3, n=30" in out


def test_phases_find_the_derived_onset_and_divergence(mine, capsys):
    code, out, _ = run_cli(capsys, "phases", "mine.py", "--width", "60", "--k-min", "0.5", "--k-max", "6", "--num",
                           "12", "--steps", "600", "--format", "json")
    assert code == 0
    d = json.loads(out)
    th = d["settings"]["thresholds"]
    assert th == {"eta_crit": pytest.approx(2.0), "eta_max": pytest.approx(4.0)}
    assert d["boundaries"]["catapult_onset"] == pytest.approx(th["eta_crit"], abs=0.02)
    assert d["boundaries"]["divergence"] == pytest.approx(th["eta_max"], abs=0.01)
    assert set(d["phase"]) == {"lazy", "catapult", "divergent"}
    # the last converging k is where the divergence starts, and nothing converges above it
    assert d["boundaries"]["largest_convergent"] == pytest.approx(th["eta_max"], abs=0.01)
    assert d["boundary_details"]["largest_convergent"]["islands"] == []


@pytest.mark.slow
def test_the_done_when_sweep(mine, capsys):
    code, out, _ = run_cli(capsys, "phases", "mine.py", "--width", "300", "--k-min", "0.5", "--k-max", "6", "--num",
                           "40")
    assert code == 0 and "eta_crit 2, eta_max 4" in out
    assert "catapult_onset = 2.00" in out and "divergence = 4.0000" in out


def test_a_file_init_and_scalars_are_used(tmp_path, monkeypatch, capsys):
    """The file's init(sizes, rng) replaces the N(0, 1) draw of the blocks it gives; a model
    scalar takes its value from --scalar, and a missing one is one line."""
    (tmp_path / "scaled.py").write_text(
        "import numpy as np, sympy as sp\n"
        "from sympy.matrices.expressions import MatrixSymbol\n"
        "from catapult_theory.symbolic import SymbolicModel, symbols as S\n"
        "c = sp.Symbol('c', positive=True)\n"
        "U, v, x = MatrixSymbol('U', S.n, 1), MatrixSymbol('v', S.n, 1), MatrixSymbol('x', 1, 1)\n"
        "model = SymbolicModel('scaled', (U, v), c * v.T * U * x / sp.sqrt(S.n), scalars=(c,))\n"
        "def init(sizes, rng):\n"
        "    return {'v': np.full((sizes['n'], 1), 0.5)}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "run", "scaled.py", "--width", "10", "--eta-lambda", "1", "--steps", "5")
    assert code == 2 and err.count("\n") == 1 and "--scalar c=VALUE" in err
    code, out, _ = run_cli(capsys, "run", "scaled.py", "--width", "10", "--scalar", "c=2", "--eta-lambda", "1",
                           "--steps", "5", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["settings"]["scalars"] == {"c": 2.0} and d["settings"]["init"] == "the model file's init"
    assert d["w2_0"] == pytest.approx(d["gd"]["w2"][0])
    assert d["gd"]["w2"][0] > 10 * 0.25  # v is 0.5 everywhere, U is N(0, 1)


@pytest.mark.parametrize("argv, words", [
    (["--size", "m=3"], "no dimension 'm'"),
    (["--size", "d=2", "--data", "random:4:3"], "dimension 3"),
    (["--scalar", "a=1"], "no scalar 'a'"),
    (["--size", "d=x"], "is not an integer"),
    (["--size", "d3"], "expected NAME=INT"),
])
def test_bad_sizes_and_scalars_are_one_line(mine, capsys, argv, words):
    code, _, err = run_cli(capsys, "run", "mine.py", "--width", "5", "--eta-lambda", "1", "--steps", "5", *argv)
    assert code == 2 and err.count("\n") == 1 and words in err, err


def test_memory_is_estimated_and_refused_before_a_run(mine, capsys):
    code, _, err = run_cli(capsys, "phases", "mine.py", "--width", "2000000", "--k-min", "1", "--k-max", "2",
                           "--num", "40", "--max-memory", "100M")
    assert code == 2 and err.count("\n") == 1 and "needs about" in err and "--num or --width" in err


def test_memory_estimate_is_within_half_and_twice_the_peak(mine):
    """As for the built-ins (tests/cli/test_hostile.py): the estimate against the peak that
    tracemalloc sees, after a warm-up run."""
    import tracemalloc

    from threadpoolctl import threadpool_limits

    from catapult_theory.families import get_family, register_model_file, registry_scope

    with registry_scope(), threadpool_limits(limits=1):
        fam = get_family(register_model_file("mine.py"))
        params, k = fam.parse("phases", ["--width", "20000", "--k-min", "0.5", "--k-max", "5", "--num", "20",
                                         "--steps", "40", "--no-refine"])
        estimate = sum(n.nbytes for n in fam.memory("phases", params, k.num))
        fam.phases(params, k)
        tracemalloc.start()
        try:
            fam.phases(params, k)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert 0.5 * peak <= estimate <= 2 * peak, (estimate, peak)


def _spec(tmp_path):
    (tmp_path / "g.toml").write_text('model = "mine.py"\n[fixed]\nsteps = 200\nk = { min = 0.5, max = 6, num = 5 }\n'
                                     '[axes]\nwidth = [20, 40]\n', encoding="utf-8")
    return tmp_path / "g.toml"


def test_a_grid_over_a_model_file_runs_in_process(mine, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "grid", str(_spec(tmp_path)), "--out", "g1", "--scheduler", "synchronous",
                           "--no-figures", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["model"] == "mine" and d["cells"] == 2 and d["rows"] == 10
    for row in d["boundaries"]:
        assert row["divergence"]["mean"] == pytest.approx(4.0, abs=0.01)
    cell = json.loads(next((tmp_path / "g1" / "cells").iterdir()).read_text())
    assert cell["config"]["file"]["path"] == str(mine.resolve()) and len(cell["config"]["file"]["sha256"]) == 64
    # an edited file is another cell: nothing is reused
    mine.write_text(mine.read_text() + "\n# edited\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "grid", str(_spec(tmp_path)), "--out", "g1", "--scheduler", "synchronous",
                           "--no-figures", "--resume", "--format", "json")
    assert code == 0 and json.loads(out)["reused"] == 0


@pytest.mark.slow
def test_a_grid_over_a_model_file_gives_the_same_table_on_two_processes(mine, tmp_path, capsys):
    spec = str(_spec(tmp_path))
    assert run_cli(capsys, "grid", spec, "--out", "a", "--scheduler", "synchronous", "--no-figures")[0] == 0
    assert run_cli(capsys, "grid", spec, "--out", "b", "--scheduler", "processes:2", "--no-figures")[0] == 0
    assert (tmp_path / "a" / "table.csv").read_text() == (tmp_path / "b" / "table.csv").read_text()
