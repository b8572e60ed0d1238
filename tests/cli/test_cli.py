"""The `catapult` command: JSON contracts, text output, one-line errors."""

import json

import numpy as np
import pytest
import sympy as sp

from tests.cli.conftest import run_cli
from catapult_theory.symbolic import symbols as S


def test_derive_uv_json_contract(capsys):
    code, out, err = run_cli(capsys, "derive", "uv", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["model"] == "uv"
    allowed = set(S.CONTRACT.values())
    for key in ("f", "lam", "w2"):
        expr = sp.sympify(data["update"][key], locals=S.CONTRACT)
        assert expr.free_symbols <= allowed
    crit = sp.sympify(data["thresholds"]["eta_crit"], locals=S.CONTRACT)
    mx = sp.sympify(data["thresholds"]["eta_max"], locals=S.CONTRACT)
    assert sp.simplify(mx - 2 * crit) == 0
    # the exported map reproduces a GD step of the package's own engine
    from catapult_theory.testing import UVProblem, uv_gd_step

    rng = np.random.default_rng(0)
    p = UVProblem(rng.standard_normal((40, 1)), rng.standard_normal(40), np.array([1.0]), 0.4, 2.7)
    s = uv_gd_step(p)
    subs = {S.f: s.f, S.lam: s.lam, S.w2: s.w2, S.eta: s.eta, S.y: 0.4, S.n: 40, S.x2: 1.0}
    got = [float(sp.sympify(data["update"][k], locals=S.CONTRACT).subs(subs)) for k in ("f", "lam", "w2")]
    np.testing.assert_allclose(got, [s.f_next, s.lam_next, s.w2_next], rtol=1e-10)


@pytest.mark.parametrize("fmt, marker", [("text", "eta_crit"), ("latex", r"\begin{align*}"), ("python", "def uv_step")])
def test_derive_other_formats(capsys, fmt, marker):
    code, out, _ = run_cli(capsys, "derive", "uv", "--format", fmt)
    assert code == 0 and marker in out
    if fmt == "python":
        ns: dict = {}
        exec(compile(out, "<derived>", "exec"), ns)
        f1, lam1, w21 = ns["uv_step"](1.0, 2.0, 3.0, 0.5, 0.0, 10.0, 1.0)
        assert np.isfinite([f1, lam1, w21]).all()


def test_run_uv_json(capsys):
    code, out, _ = run_cli(capsys, "run", "uv", "--width", "200", "--eta-lambda", "3", "--steps", "200",
                           "--seed", "1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    for key in ("phase", "eta", "lam0", "gd", "map", "max_rel_dev"):
        assert key in data
    for part in ("gd", "map"):
        assert set(data[part]) >= {"loss", "lam", "w2"}
        assert len(data[part]["loss"]) <= 201  # the runs stop once settled (loss below 1e-32 of its start)
    assert len(data["gd"]["loss"]) == data["settings"]["steps_run"] + 1
    assert data["gd"]["loss"][-1] <= 1e-32 * data["gd"]["loss"][0] and data["map"]["loss"][-1] <= 1e-32 * data["map"]["loss"][0]
    assert data["phase"] == "catapult"
    assert data["max_rel_dev"] < 1e-9


def test_run_divergent_json_has_no_nan(capsys):
    code, out, _ = run_cli(capsys, "run", "uv", "--width", "100", "--eta-lambda", "6", "--steps", "100",
                           "--format", "json")
    assert code == 0
    assert "NaN" not in out and "Infinity" not in out
    data = json.loads(out)
    assert data["phase"] == "divergent" and data["diverged_at"] == len(data["gd"]["loss"])


def test_run_text(capsys):
    code, out, _ = run_cli(capsys, "run", "uv", "--width", "100", "--eta-lambda", "1", "--steps", "50")
    assert code == 0 and "phase: lazy" in out and "max_rel_dev" in out


def test_phases_json_and_plot(capsys, tmp_path):
    plot = tmp_path / "ph.png"
    code, out, _ = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.1", "--k-max", "6",
                           "--num", "120", "--format", "json", "--plot", str(plot))
    assert code == 0
    data = json.loads(out)
    assert len(data["k"]) == len(data["phase"]) == 120
    assert abs(data["boundaries"]["catapult_onset"] - 2) < 0.02
    assert abs(data["boundaries"]["divergence"] - 4) < 0.02
    assert plot.exists() and plot.stat().st_size > 10_000


def test_phases_given_state_and_out_of_range_boundary(capsys):
    code, out, _ = run_cli(capsys, "phases", "uv", "--width", "500", "--f0", "0.5", "--lam0", "2",
                           "--k-min", "0.1", "--k-max", "1.5", "--num", "10", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["boundaries"] == {"catapult_onset": None, "divergence": None, "largest_convergent": None}
    # every run of the grid converges: the largest convergent k lies at or above k_max
    assert data["boundary_details"]["largest_convergent"] == {"status": "not_found", "interval": [1.5, None],
                                                              "tol": None, "islands": []}


BAD = [
    ["run", "uv", "--width", "0", "--eta-lambda", "3", "--steps", "10"],
    ["run", "uv", "--width", "-5", "--eta-lambda", "3", "--steps", "10"],
    ["run", "uv", "--width", "10", "--eta-lambda", "0", "--steps", "10"],
    ["run", "uv", "--width", "10", "--eta-lambda", "-1", "--steps", "10"],
    ["run", "uv", "--width", "10", "--eta-lambda", "nan", "--steps", "10"],
    ["run", "uv", "--width", "10", "--eta-lambda", "inf", "--steps", "10"],
    ["run", "uv", "--width", "10", "--eta-lambda", "3", "--steps", "0"],
    ["run", "uv", "--width", "10", "--eta-lambda", "3", "--steps", "10", "--y", "nan"],
    ["run", "uv", "--width", "ten", "--eta-lambda", "3", "--steps", "10"],
    ["run", "nosuchmodel", "--width", "10"],
    ["derive", "nosuchmodel"],
    ["phases", "uv", "--width", "10", "--k-min", "3", "--k-max", "2", "--num", "10"],
    ["phases", "uv", "--width", "10", "--k-min", "2", "--k-max", "2", "--num", "10"],
    ["phases", "uv", "--width", "10", "--k-min", "1", "--k-max", "2", "--num", "1"],
    ["phases", "uv", "--width", "10", "--k-min", "1", "--k-max", "2", "--num", "5", "--f0", "1"],
    ["phases", "uv", "--width", "10", "--k-min", "1", "--k-max", "2", "--num", "5", "--plot", "x.txt"],
    ["frobnicate"],
    [],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) or "empty" for a in BAD])
def test_bad_input_one_line_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("catapult: error:")
    assert "Traceback" not in err


def test_models_lists_uv(capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and out.startswith("uv")


def test_log_k_grid_on_a_huge_range_keeps_the_right_boundaries(capsys):
    """--k-scale log (the same flag in every family) spreads the grid over decades;
    the refined boundaries do not depend on the grid."""
    code, out, _ = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.1", "--k-max", "1e100",
                           "--num", "100", "--k-scale", "log", "--format", "json")
    assert code == 0
    data = json.loads(out)
    k = np.asarray(data["k"])
    assert np.allclose(k[1:] / k[:-1], k[1] / k[0]) and k[0] == 0.1 and abs(k[-1] / 1e100 - 1) < 1e-12
    assert abs(data["boundaries"]["catapult_onset"] - 2.0035) < 1e-3
    assert abs(data["boundaries"]["divergence"] - 4) < 1e-3
    for fam in (["two-layer", "--width", "8", "--slope", "0"], ["pure-quadratic", "--rank", "8"]):
        code, _, err = run_cli(capsys, "phases", *fam, "--k-min", "1", "--k-max", "2", "--num", "2",
                               "--k-scale", "cubic")
        assert code == 2 and "--k-scale" in err


@pytest.mark.parametrize("family, args", [
    ("uv", ["--width", "1000"]), ("pure-quadratic", ["--rank", "200"]), ("quadratic-bias", ["--rank", "200"]),
    ("two-layer", ["--width", "64", "--slope", "0.5", "--steps", "300"]),
    ("three-layer", ["--width", "16", "--steps", "300", "--k-max", "40"]),
])
def test_no_refine_means_grid_resolution_in_every_family(capsys, monkeypatch, family, args):
    """``--no-refine`` is one flag with one meaning everywhere: boundaries at the grid points
    where their flags turn true, and no refinement run (the refinement is made to fail)."""
    import json

    from catapult_theory.experiments import _boundaries

    monkeypatch.setattr(_boundaries, "_multisect", lambda *a, **k: pytest.fail("a refinement ran"))
    grid = ["--k-min", "0.5", "--num", "12"] + ([] if "--k-max" in args else ["--k-max", "12"])
    code, out, _ = run_cli(capsys, "phases", family, *args, *grid, "--no-refine", "--format", "json")
    assert code == 0
    res = json.loads(out)
    found = [d for d in res["boundary_details"].values() if d["status"] not in ("not_found", "below_grid")]
    assert found and all(d["status"] == "grid" for d in found)
    for name, d in res["boundary_details"].items():
        if name == "largest_convergent":  # the contract: every family's details list the islands
            assert set(d) == {"status", "interval", "tol", "islands"} and isinstance(d["islands"], list)
        if d["status"] == "grid":  # the grid point past the transition; the largest converging one
            edge = d["interval"][0 if name == "largest_convergent" else 1]
            assert res["boundaries"][name] == edge and edge in res["k"]


@pytest.mark.parametrize("family, args", [
    ("uv", ["--width", "1000"]), ("pure-quadratic", ["--rank", "200"]), ("quadratic-bias", ["--rank", "200"]),
    ("two-layer", ["--width", "64", "--slope", "0.5", "--steps", "300"]),
    ("three-layer", ["--width", "16", "--steps", "300", "--k-max", "40"]),
])
def test_phases_text_of_every_family_shows_the_largest_convergent_k_and_the_islands(capsys, family, args):
    """The text states the JSON's largest convergent k (as a number, or why there is none)
    and its list of islands, in every family."""
    import json

    grid = ["--k-min", "0.5", "--num", "12"] + ([] if "--k-max" in args else ["--k-max", "12"])
    code, out, _ = run_cli(capsys, "phases", family, *args, *grid, "--no-refine", "--format", "json")
    res = json.loads(out)
    code_t, text, _ = run_cli(capsys, "phases", family, *args, *grid, "--no-refine")
    assert code == code_t == 0
    k, d = res["boundaries"]["largest_convergent"], res["boundary_details"]["largest_convergent"]
    if d["status"] == "not_found":
        assert f"largest_convergent >= {d['interval'][0]:g} (the last grid point converges)" in text
    elif d["status"] == "below_grid":
        assert "largest_convergent: no run on the grid converges" in text
    else:
        assert f"largest_convergent = {k:g}" in text
    islands = text.split("convergent islands above the first divergence: ")[1].splitlines()[0]
    assert (islands == "none") == (d["islands"] == [])


def test_phases_text_shows_the_largest_convergent_k_and_the_islands(capsys):
    code, out, _ = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.5", "--k-max", "6", "--num", "12")
    assert code == 0
    assert "largest_convergent = 4" in out and "convergent islands above the first divergence: none" in out


@pytest.mark.slow
def test_phases_text_lists_the_bias_toy_islands(capsys):
    """THEORY §7 row 6 near its divergence: the bias toy converges at 3.92-3.98 and 4.06 above
    its first divergence 3.804; the text names both islands and the largest convergent k."""
    code, out, _ = run_cli(capsys, "phases", "quadratic-bias", "--rank", "100", "--features", "10", "--mu-dist",
                           "uniform:1:1", "--k-min", "3.7", "--k-max", "4.1", "--num", "21", "--steps", "3000")
    assert code == 0
    assert "largest_convergent = 4.064" in out
    assert ("convergent islands above the first divergence: k in [3.92, 3.98] (catapult; 4 points); "
            "k = 4.06 (catapult; 1 point)") in out
