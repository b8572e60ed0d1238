"""`catapult run|phases|derive three-layer`, image specs and --data-dir (also for two-layer), bad input."""

import gzip
import json

import numpy as np
import pytest

from catapult_theory.experiments import DATA_DIR_ENV
from catapult_theory.experiments._images import _load_raw
from tests.cli.conftest import run_cli


def _one_error_line(code, out, err):
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("catapult: error: "), (code, err)
    return err


def test_models_lists_three_layer_with_its_commands(capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("three-layer "))
    assert line.endswith("[derive, run, phases]")


def test_run_three_layer_json_on_a_digit_pair(capsys):
    code, out, _ = run_cli(capsys, "run", "three-layer", "--width", "24", "--data", "digits:4:9", "--eta-lambda",
                           "1.5", "--steps", "30", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "three-layer" and data["phase"] in ("lazy", "catapult", "unresolved")
    assert set(data["gd"]) >= {"loss", "lam", "w2", "sparsity1", "sparsity2", "test_loss"}
    assert data["bound_status"]["degree3"]["rigorous"] is False  # the identity is a theorem, the window is not
    assert data["bound_status"]["degree3"]["theorem"] is None
    from catapult_theory.experiments import three_layer_setup

    assert data["lam0"] == three_layer_setup(24, 0.0, "digits:4:9").lam0


def test_phases_three_layer_text_and_plot(capsys, tmp_path):
    plot = tmp_path / "p.png"
    code, out, _ = run_cli(capsys, "phases", "three-layer", "--width", "16", "--data", "digits:0:1", "--k-min", "0.5",
                           "--k-max", "12", "--num", "5", "--steps", "60", "--no-refine", "--plot", str(plot))
    assert code == 0 and plot.stat().st_size > 0
    assert "boundaries (grid resolution)" in out and "degree3: k <" in out and "layer 2" in out


def _mnist(root):
    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for prefix, count in (("train", 700), ("t10k", 20)):  # 140 threes and eights: 128 for training
        labels = np.arange(count) % 10
        images = rng.integers(0, 255, (count, 28, 28))
        for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            arr = np.asarray(arr, dtype=np.uint8)
            head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
            with gzip.open(folder / f"{name}.gz", "wb") as fh:
                fh.write(head + arr.tobytes())


@pytest.mark.parametrize("model, extra", [("two-layer", ["--slope", "0"]), ("three-layer", [])])
def test_real_data_sets_from_data_dir_and_a_clear_error_without_it(capsys, tmp_path, monkeypatch, model, extra):
    _load_raw.cache_clear()
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    base = ["run", model, "--width", "8", *extra, "--eta-lambda", "1", "--steps", "3", "--format", "json"]
    err = _one_error_line(*run_cli(capsys, *base, "--data", "mnist:3:8"))
    assert "download" in err and "mnist/" in err and "--data-dir" in err
    _mnist(tmp_path)
    code, out, _ = run_cli(capsys, *base, "--data", "mnist:3:8:7", "--data-dir", str(tmp_path))
    assert code == 0
    data = json.loads(out)
    assert data["settings"]["d"] == 49 and data["settings"]["B"] == 128 and data["settings"]["test_size"] == 4
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert run_cli(capsys, *base, "--data", "mnist:3:8")[0] == 0
    _load_raw.cache_clear()


@pytest.mark.parametrize("argv", [
    ["run", "three-layer", "--width", "8", "--eta-lambda", "1", "--steps", "3", "--data", "digits:3:3"],
    ["run", "three-layer", "--width", "8", "--eta-lambda", "1", "--steps", "3", "--data", "bogus"],
    ["run", "three-layer", "--width", "8", "--eta-lambda", "1", "--steps", "3", "--slope", "2"],
    ["run", "two-layer", "--width", "8", "--slope", "0", "--eta-lambda", "1", "--steps", "3", "--data",
     "cifar10:cat:unicorn"],
    ["phases", "three-layer", "--width", "8", "--k-min", "2", "--k-max", "1", "--num", "3"],
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv):
    _one_error_line(*run_cli(capsys, *argv))


@pytest.mark.slow
def test_derive_three_layer_has_the_degree_three_facts(capsys):
    code, out, _ = run_cli(capsys, "derive", "three-layer", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "three-layer" and data["thresholds"]["eta_max"] == "6/lam"
    assert data["degree3"]["lemma_constant"] == "6" and data["degree3"]["lam_degree"] == 4
    code, out, _ = run_cli(capsys, "derive", "three-layer")
    assert code == 0 and "theta.grad f = 3*f" in out


@pytest.mark.slow
def test_prove_model_three_layer_runs_the_generic_theorems(capsys):
    code, out, _ = run_cli(capsys, "prove", "--model", "three-layer", "--format", "json")
    assert code == 1  # ntk-bound needs degree 2 (an operator relation Ψ³ = KΨ): not proved, as it must not be
    got = {r["theorem"]: r for r in json.loads(out)}
    assert got["linear-onset"]["status"] == "proved"
    # the weight-norm theorems at degree 3: Euler with 3, the lemma with 6, per layer with 2
    ident = got["weight-norm-identity"]
    assert ident["status"] == "proved" and "eta*lam*r - 6*f" in next(s["claim"] for s in ident["steps"]
                                                                       if s["name"] == "one-datum")
    assert {"block-W1", "block-W2", "block-v"} <= {s["name"] for s in ident["steps"]}
    assert got["weight-norm-decrease"]["status"] == "proved"
    assert got["ntk-bound"]["status"] == "failed" and "operator relation" in got["ntk-bound"]["error"]
