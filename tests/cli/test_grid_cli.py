"""`catapult grid`: the table and files, resume after an interrupt, one-line errors naming the SPEC key."""

import csv
import json

import pytest

from catapult_theory.grid import _task
from tests.cli.conftest import run_cli
from tests.grid.conftest import TINY_TOML


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML)
    return path


def test_grid_writes_table_cells_and_summary(capsys, spec, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "grid", str(spec), "--out", str(out), "--scheduler", "synchronous",
                                "--no-figures")
    assert code == 0, err
    assert "computed 4 cells (in-process, synchronous), reused 0" in stdout
    assert "boundaries (mean ± sd over seed" in stdout and "catapult_onset" in stdout
    assert sum(line.startswith("[") for line in err.splitlines()) == 4  # a line per finished cell
    with open(out / "table.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 32 and {"width", "seed", "k", "phase", "catapult_onset", "divergence"} <= set(rows[0])
    assert len(list((out / "cells").glob("*.json"))) == 4
    code, stdout, err = run_cli(capsys, "grid", str(spec), "--out", str(out), "--resume", "--format", "json",
                                "--no-figures")
    data = json.loads(stdout)
    assert code == 0 and data["computed"] == 0 and data["reused"] == 4 and data["rows"] == 32
    assert [b["axes"] for b in data["boundaries"]] == [{"width": 50}, {"width": 500}]
    assert data["boundaries"][0]["catapult_onset"]["in_range"] == 2


def test_default_out_folder_is_named_after_the_spec(capsys, spec, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "grid", str(spec), "--scheduler", "synchronous", "--no-figures")
    assert code == 0, err
    assert (tmp_path / "tiny-grid" / "table.csv").exists()


def test_resume_after_an_interrupt_runs_only_the_missing_cells(capsys, spec, tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []
    real = _task.run_cell

    def interrupted(config):
        calls.append(config)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(config)

    monkeypatch.setattr(_task, "run_cell", interrupted)
    code, _, err = run_cli(capsys, "grid", str(spec), "--out", str(out), "--scheduler", "synchronous",
                           "--no-figures")
    assert code == 130 and "2 of 4 cells stored" in err and "--resume" in err
    calls.clear()
    monkeypatch.setattr(_task, "run_cell", lambda config: calls.append(config) or real(config))
    code, stdout, err = run_cli(capsys, "grid", str(spec), "--out", str(out), "--scheduler", "synchronous",
                                "--resume", "--no-figures")
    assert code == 0 and len(calls) == 2
    assert "computed 2 cells (in-process, synchronous), reused 2" in stdout
    assert err.count("(reused)") == 2


@pytest.mark.parametrize("text, key", [
    ('model = "uv"\n[fixed]\nk = { min = 1, max = 2, num = 3 }\n[axes]\nwidht = [10]\n', "axes.widht"),
    ('model = "uv"\n[fixed]\nk = { min = 1, max = 2, num = 3 }\n[axes]\nwidth = [10, -1]\n', "axes.width[1]"),
    ('model = "uvw"\n[fixed]\nk = { min = 1, max = 2, num = 3 }\n', "model"),
    ('model = "uv"\n[fixed]\nwidth = 10\n', "fixed.k"),
])
def test_a_malformed_spec_exits_2_with_one_line_naming_the_key(capsys, tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = run_cli(capsys, "grid", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"catapult: error: SPEC key {key}:"), err
    assert not (tmp_path / "o").exists()


def test_bad_scheduler_and_missing_spec_exit_2(capsys, spec, tmp_path):
    code, _, err = run_cli(capsys, "grid", str(spec), "--scheduler", "threads:4", "--out", str(tmp_path / "o"))
    assert code == 2 and "scheduler 'threads:4'" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "grid", str(tmp_path / "none.toml"))
    assert code == 2 and "SPEC file not found" in err


@pytest.mark.parametrize("where, word", [
    ("http://127.0.0.1:1", "unknown scheme http://"),
    ("foo://x", "unknown scheme foo://"),
    ("inproc://x", "unknown scheme inproc://"),
    ("tcp://", "expected tcp://HOST:PORT"),
    ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ("127.0.0.1:1", "cannot reach the Dask scheduler"),
])
def test_a_scheduler_of_an_unknown_scheme_or_nobody_listening_exits_2_quickly(capsys, spec, tmp_path, where,
                                                                               word):
    import time

    t0 = time.perf_counter()
    code, out, err = run_cli(capsys, "grid", str(spec), "--scheduler", where, "--out", str(tmp_path / "o"))
    assert code == 2 and word in err and err.count("\n") == 1 and out == "", err
    assert time.perf_counter() - t0 < 10
