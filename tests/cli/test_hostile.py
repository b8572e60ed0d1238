"""Hostile input: sizes, paths, overflow, exit codes; a Hypothesis fuzz of the CLI's arguments.

Every probe gives a correct answer or one line with exit code 2, quickly, without a
traceback or a floating-point warning (warnings are errors in this test suite).
"""

import functools
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catapult_theory.cli import main
from catapult_theory.errors import InvalidInput
from catapult_theory.files import LOCK_NAME

from .conftest import run_cli


def one_error_line(code, out, err):
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("catapult: error: "), err
    return lines[0]


# ------------------------------------------------------------------ item 2: boundaries
def test_wide_linear_grid_gives_the_true_boundaries_and_a_coarse_grid_warning(capsys):
    code, out, err = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.1", "--k-max", "1e100",
                             "--num", "600", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["boundaries"]["catapult_onset"] == pytest.approx(2.0035, abs=1e-4)
    assert d["boundaries"]["divergence"] == pytest.approx(4.0, abs=1e-5)
    assert all(v["status"] == "refined" for v in d["boundary_details"].values())
    assert any("grid too coarse" in w for w in d["warnings"])
    code, out, err = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.1", "--k-max", "1e100",
                             "--num", "600")
    assert "warning: grid too coarse" in out


def test_log_grid_resolves_the_window_without_warning(capsys):
    code, out, err = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.1", "--k-max", "1e100",
                           "--num", "600", "--k-scale", "log", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["warnings"] == [] and d["boundaries"]["divergence"] == pytest.approx(4.0, abs=1e-5)


def test_boundary_outside_the_grid_is_flagged_not_a_number(capsys):
    code, out, _ = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "0.1", "--k-max", "3",
                           "--num", "20", "--format", "json")
    d = json.loads(out)
    assert d["boundaries"]["divergence"] is None
    assert d["boundary_details"]["divergence"]["status"] == "not_found"
    code, out, err = run_cli(capsys, "phases", "uv", "--width", "1000", "--k-min", "5", "--k-max", "6",
                           "--num", "5")
    assert code == 0, err
    assert "divergence <= 5 (already at the first grid point)" in out


def test_unconverged_refinement_is_an_interval_with_a_flag():
    import numpy as np

    from catapult_theory.experiments import BoundaryMap
    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.linspace(0.0, 10.0, 11)
    res = grid_boundaries(k, {"b": k > np.pi}, {"b": lambda ks: ks > np.pi}, tol=1e-9, max_rounds=2)
    assert isinstance(res, BoundaryMap)
    assert res["b"] is None  # never a number when unconverged
    lo, hi = res.details["b"]["interval"]
    assert res.details["b"]["status"] == "unconverged" and lo < np.pi < hi
    assert any("did not reach the tolerance" in w for w in res.warnings)
    res = grid_boundaries(k, {"b": k > np.pi}, {"b": lambda ks: ks > np.pi}, tol=1e-9)
    assert res["b"] == pytest.approx(np.pi, abs=1e-9) and res.details["b"]["status"] == "refined"


def test_a_flag_flipping_twice_is_a_warning():
    import numpy as np

    from catapult_theory.experiments._boundaries import grid_boundaries

    k = np.arange(6.0)
    res = grid_boundaries(k, {"b": np.array([0, 1, 1, 0, 0, 0], bool)}, None, tol=1e-3)  # on, then off: twice
    assert res["b"] == 1.0 and any("changes more than once" in w and "(2 times)" in w for w in res.warnings)
    res = grid_boundaries(k, {"b": np.array([0, 1, 0, 1, 1, 1], bool)}, None, tol=1e-3)
    assert any("(3 times)" in w for w in res.warnings)
    once = grid_boundaries(k, {"b": np.array([0, 0, 1, 1, 1, 1], bool)}, None, tol=1e-3)
    assert once["b"] == 2.0 and not once.warnings


# ------------------------------------------------------------------ item 1: memory
@pytest.mark.parametrize("argv, flag", [
    ("run uv --width 100000000000 --eta-lambda 3 --steps 10", "--width"),
    ("run pure-quadratic --rank 100000000 --eta-lambda 2 --steps 10", "--rank"),
    ("phases uv --width 100 --k-min 1 --k-max 5 --num 100000000", "--num"),
    ("run two-layer --width 100000000 --slope 0.5 --eta-lambda 3 --steps 10", "--width"),
    ("run quadratic-bias --rank 10 --features 1000000000 --eta-lambda 2 --steps 5", "--features"),
    ("phases pure-quadratic --rank 10 --data random:100000000:2 --k-min 1 --k-max 3 --num 5", "--data"),
])
def test_oversized_runs_are_refused_before_allocating(capsys, argv, flag):
    t0 = time.perf_counter()
    line = one_error_line(*run_cli(capsys, *argv.split(), "--max-memory", "2G"))
    assert time.perf_counter() - t0 < 5
    assert "needs about" in line and "above the limit of 2 GB (--max-memory)" in line and flag in line


def test_memory_limit_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("CATAPULT_MAX_MEMORY", "1M")
    line = one_error_line(*run_cli(capsys, "run", "uv", "--width", "100000", "--eta-lambda", "3", "--steps", "5"))
    assert "CATAPULT_MAX_MEMORY" in line and "1 MB" in line
    monkeypatch.setenv("CATAPULT_MAX_MEMORY", "lots")
    assert "CATAPULT_MAX_MEMORY" in one_error_line(*run_cli(capsys, "run", "uv", "--width", "10", "--eta-lambda",
                                                            "3", "--steps", "5"))
    line = one_error_line(*run_cli(capsys, "run", "uv", "--width", "10", "--eta-lambda", "3", "--steps", "5",
                                   "--max-memory", "-3G"))
    assert "--max-memory" in line


def test_large_step_budget_costs_what_the_run_uses(capsys):
    code, out, err = run_cli(capsys, "run", "uv", "--width", "1000", "--eta-lambda", "3", "--steps", str(10**12),
                             "--format", "json", "--max-memory", "4G")
    assert code == 0, err
    d = json.loads(out)
    assert d["settings"]["steps_run"] < 10_000 and d["phase"] == "catapult"


def test_growth_beyond_the_limit_is_refused():
    """Trajectories grow as a run goes; a growth past the limit is refused, naming --steps."""
    import numpy as np

    from catapult_theory.engine import INITIAL_ROWS, PhaseCriteria
    from catapult_theory.engine._trajectory import StepRecorder
    from catapult_theory.resources import set_memory_limit

    rec = StepRecorder(10**9, (1000,), PhaseCriteria())
    assert rec.series["loss"].shape[0] == INITIAL_ROWS  # not the whole budget up front
    one = np.ones(1000)
    set_memory_limit(3 * 8 * 1000 * 4 * INITIAL_ROWS)  # room for two doublings
    try:
        for t in range(4 * INITIAL_ROWS):
            rec.store(t, loss=one, lam=one, w2=one)
        with pytest.raises(InvalidInput, match=r"would grow to .*lower --steps"):
            rec.store(4 * INITIAL_ROWS, loss=one, lam=one, w2=one)
    finally:
        set_memory_limit(None)


@functools.lru_cache(maxsize=None)
def _estimate_and_peak(argv):
    """The command's estimate of its arrays and the peak it really allocates beyond what the
    process held before (tracemalloc: NumPy reports its buffers to it), after a warm-up run
    (derivations, compiled maps, caches of the process)."""
    from threadpoolctl import threadpool_limits

    from catapult_theory.families import get_family

    command, model, *flags = argv.split()
    fam = get_family(model)
    params, k = fam.parse(command, flags)
    estimate = sum(n.nbytes for n in fam.memory(command, params, k.num if k is not None else 1))
    with threadpool_limits(limits=1):
        assert main(argv.split() + ["--format", "json"]) == 0
        tracemalloc.start()
        try:
            main(argv.split() + ["--format", "json"])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return estimate, peak


FAST_ESTIMATES = [
    "run uv --width 200000 --eta-lambda 3 --steps 50",
    "phases uv --width 20000 --k-min 0.5 --k-max 5 --num 400 --steps 300 --no-refine",
    "run pure-quadratic --rank 500 --eta-lambda 2.5 --steps 50",
    "phases two-layer --width 3000 --slope 0.5 --k-min 0.5 --k-max 5 --num 40 --steps 100 --no-refine",
    "run two-layer --width 512 --slope 0 --data digits01 --eta-lambda 3 --steps 60",
]
SLOW_ESTIMATES = [
    "phases uv --width 20000 --k-min 0.5 --k-max 5 --num 400 --steps 300",
    "phases pure-quadratic --rank 400 --k-min 0.5 --k-max 5 --num 40 --steps 200",
    "phases pure-quadratic --rank 150 --data random:48:2 --k-min 0.5 --k-max 5 --num 20 --steps 100",
    "phases pure-quadratic --rank 100 --data random:32:2 --act tanh --k-min 0.5 --k-max 5 --num 20 --steps 100",
    "run quadratic-bias --rank 100 --features 10 --data random:32:2 --eta-lambda 2 --steps 100",
    "phases two-layer --width 256 --slope 0.5 --data digits01 --k-min 0.5 --k-max 20 --num 10 --steps 60",
    "phases two-layer --width 256 --slope 0 --data digits01 --k-min 0.5 --k-max 20 --num 40 --steps 60 --no-refine",
    "phases three-layer --width 128 --data digits:3:8 --k-min 0.5 --k-max 12 --num 12 --steps 60 --no-refine",
    "run three-layer --width 256 --data digits:3:8 --eta-lambda 6 --steps 60",
]


@pytest.mark.parametrize("argv", FAST_ESTIMATES + [pytest.param(a, marks=pytest.mark.slow) for a in SLOW_ESTIMATES])
def test_memory_estimate_is_within_half_and_twice_the_real_peak(argv):
    """Each estimate is honest on both sides: at least half and at most twice the peak the
    run allocates (sizes where the arrays, not the interpreter's own objects, dominate)."""
    estimate, peak = _estimate_and_peak(argv)
    assert 0.5 * peak <= estimate <= 2 * peak, (argv, estimate / peak)


def test_the_estimate_check_catches_the_old_two_layer_estimate():
    """The check can fail: the two-layer estimate that counted per-sample Jacobians (never
    built) is 20 to 70 times the peak of the digits run, and a quarter of the real
    estimate is below half of it."""
    argv = "run two-layer --width 512 --slope 0 --data digits01 --eta-lambda 3 --steps 60"
    estimate, peak = _estimate_and_peak(argv)
    B, d, n_test, n = 128, 64, 232, 512
    old = 8.0 * 4 * n * (d + 1) + 8.0 * (B + n_test) * n * (d + 3)
    assert old > 2 * peak and estimate / 4 < 0.5 * peak


# ------------------------------------------------------------------ item 3: output paths
def test_bad_plot_path_is_refused_before_any_computation(capsys, monkeypatch, tmp_path):
    import catapult_theory.experiments as ex

    def boom(*a, **k):
        raise AssertionError("the sweep ran before the path was checked")

    monkeypatch.setattr(ex, "sweep_uv", boom)
    base = ["phases", "uv", "--width", "100", "--k-min", "1", "--k-max", "5", "--num", "5"]
    for bad in (["--plot", str(tmp_path)], ["--plot", "/proc/x.png"] if os.path.isdir("/proc/self") else [],
                ["--plot", str(tmp_path / "x.txt")]):
        if bad:
            one_error_line(*run_cli(capsys, *base, *bad))
    (tmp_path / "f").write_text("")
    assert "not a directory" in one_error_line(*run_cli(capsys, *base, "--plot", str(tmp_path / "f" / "x.png")))


def test_results_are_printed_when_the_plot_cannot_be_written_at_the_end(capsys, monkeypatch, tmp_path):
    import catapult_theory.report as rep

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rep, "plot_phase_diagram", disk_full)
    code, out, err = run_cli(capsys, "phases", "uv", "--width", "100", "--k-min", "1", "--k-max", "5", "--num", "5",
                             "--plot", str(tmp_path / "p.png"))
    assert code == 3
    assert "boundaries (bisection)" in out and "phase diagram NOT written" in out
    assert "No space left on device" in err and "the results above are complete" in err


def test_reproduce_out_must_be_a_writable_folder(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    assert "not a directory" in one_error_line(*run_cli(capsys, "reproduce", "--out", str(tmp_path / "file"),
                                                        "--only", "proofs"))


def test_reproduce_refuses_a_folder_in_use(capsys, tmp_path):
    import socket

    (tmp_path / LOCK_NAME).write_text(f"{os.getpid()}@{socket.gethostname()}\n")  # a live holder
    line = one_error_line(*run_cli(capsys, "reproduce", "--out", str(tmp_path), "--only", "proofs"))
    assert "in use by process" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]  # nothing written


def test_prove_out_write_failure_still_prints_the_table(capsys, monkeypatch, tmp_path):
    import catapult_theory.cli._prove as prove_mod

    def fail(path, text):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(prove_mod, "write_atomic", fail)
    code, out, err = run_cli(capsys, "prove", "uv-map", "--out", str(tmp_path / "c.md"))
    assert code == 3 and "uv-map" in out and "Input/output error" in err


# ------------------------------------------------------------------ item 4: overflow
@pytest.mark.parametrize("argv, word", [
    ("run uv --width 100 --eta-lambda 3 --steps 10 --y 1e308", "loss0"),
    ("run uv --width 100 --eta-lambda 3 --steps 10 --x-norm 1e200", "|x|^2"),
    ("phases uv --width 100 --f0 1e300 --lam0 1 --k-min 1 --k-max 5 --num 5", "loss0"),
    ("run pure-quadratic --rank 10 --eta-lambda 2 --steps 10 --mu-dist uniform:1:1e308", "lam0"),
])
def test_overflowing_initial_states_are_refused(capsys, argv, word):
    line = one_error_line(*run_cli(capsys, *argv.split()))
    assert "overflows float64" in line and word in line


def test_overflow_in_the_first_steps_is_divergence_not_a_warning(capsys):
    code, out, err = run_cli(capsys, "phases", "uv", "--width", "100", "--f0", "1e150", "--lam0", "1",
                             "--k-min", "1", "--k-max", "5", "--num", "5", "--format", "json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert set(d["phase"]) == {"divergent"}


# ------------------------------------------------------------------ item 5: exit codes
def test_only_invalid_input_is_exit_2(capsys, monkeypatch):
    from catapult_theory.families import get_family

    UVFamily = type(get_family("uv"))

    def bug(self, params):
        raise ValueError("an internal inconsistency")

    monkeypatch.setattr(UVFamily, "run", bug)
    argv = ["run", "uv", "--width", "10", "--eta-lambda", "3", "--steps", "5"]
    with pytest.raises(ValueError, match="internal"):
        main(argv)  # a bug propagates: the console script prints its traceback and exits 1

    def bad(self, params):
        raise InvalidInput("a bad value")

    monkeypatch.setattr(UVFamily, "run", bad)
    assert one_error_line(*run_cli(capsys, *argv)) == "catapult: error: a bad value"


def test_a_bug_exits_1_with_a_traceback_from_the_console_script():
    code = ("import sys; from catapult_theory import cli; from catapult_theory.families import get_family\n"
            "def bug(self, params): raise KeyError('internal')\n"
            "type(get_family('uv')).run = bug\nsys.argv = ['catapult', 'run', 'uv', '--width', '10', '--eta-lambda', '3', "
            "'--steps', '5']\ncli.entry_point()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "KeyError" in proc.stderr


# ------------------------------------------------------------------ item 7: the fuzz
HUGE = ["1e308", "1e100", str(10**12), str(10**15), str(2**63), "1e20"]
TINY = ["1e-320", "5e-324", "1e-300", "1e-200", "0"]
BAD = ["nan", "inf", "-inf", "-1", "-1e308", "2.5", "", "abc", "0x10", "1_000", " 3"]
SPECS = ["uniform:1", "uniform:2:1", "uniform:1:1e308", "normal:0:-1", "normal:1e308:1", "random:x",
         "random:0:2", "random:100000000:2", "random:2:100000000", "toy:nan:0", "toy:1e308:0", "digits01",
         "toy:1:2:3", "uniform:-1:1", "uniform:1e-320:1e-320", "uniform:1e-200:1e-200", "normal:1e-300:1e-300"]

BASES = {
    ("run", "uv"): "--width 50 --eta-lambda 3 --steps 50",
    ("phases", "uv"): "--width 50 --k-min 0.5 --k-max 5 --num 6 --steps 100",
    ("run", "pure-quadratic"): "--rank 20 --eta-lambda 2.5 --steps 50",
    ("phases", "pure-quadratic"): "--rank 20 --k-min 0.5 --k-max 5 --num 6 --steps 100",
    ("run", "quadratic-bias"): "--rank 10 --features 4 --eta-lambda 2.5 --steps 50",
    ("run", "two-layer"): "--width 50 --slope 0.5 --eta-lambda 3 --steps 50",
    ("phases", "two-layer"): "--width 50 --slope 0.5 --k-min 0.5 --k-max 5 --num 4 --steps 60 --no-refine",
}
FLAGS = {
    "uv": ["--width", "--eta-lambda", "--steps", "--y", "--x-norm", "--d", "--seed", "--k-min", "--k-max", "--num",
           "--f0", "--lam0"],
    "pure-quadratic": ["--rank", "--eta-lambda", "--steps", "--mu-dist", "--data", "--test-size", "--mask",
                       "--k-min", "--k-max", "--num", "--seed"],
    "quadratic-bias": ["--rank", "--features", "--eta-lambda", "--steps", "--mu-dist", "--data"],
    "two-layer": ["--width", "--slope", "--eta-lambda", "--steps", "--tol", "--k-min", "--k-max", "--num", "--data"],
}


@st.composite
def hostile_argv(draw):
    command, model = draw(st.sampled_from(sorted(BASES)))
    args = dict(zip(BASES[command, model].split()[::2], BASES[command, model].split()[1::2]))
    only = {"run": ("--eta-lambda",), "phases": ("--k-min", "--k-max", "--num", "--f0", "--lam0")}
    flags = [f for f in FLAGS[model] if not any(f in only[c] for c in only if c != command)]
    for flag in draw(st.lists(st.sampled_from(flags), min_size=1, max_size=3, unique=True)):
        pool = SPECS if flag in ("--mu-dist", "--data") else HUGE + TINY + BAD
        args[flag] = draw(st.sampled_from(pool))
    if command == "run":
        args.pop("--k-min", None), args.pop("--k-max", None), args.pop("--num", None)
    if "--f0" in args or "--lam0" in args:
        args.setdefault("--f0", "0.5"), args.setdefault("--lam0", "1")
    argv = [command, model]
    for flag, value in args.items():
        argv += [flag, value] if not value.startswith("-") else [f"{flag}={value}"]
    return argv + ["--format", "json"]


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """One worker process under a 4 GB address-space limit (RLIMIT_AS)."""
    resource = pytest.importorskip("resource")
    limit = 4 * 2**30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, "CATAPULT_MAX_MEMORY": "512M", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    # in a folder of its own: a command that writes where it should not (an empty --out) is not
    # hidden in the repository; the package is found through PYTHONPATH as in every test
    root = str(Path(__file__).parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen([sys.executable, "-W", "error", str(Path(__file__).with_name("_hostile_worker.py"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, preexec_fn=cap,
                            cwd=str(tmp_path_factory.mktemp("hostile-cwd")))
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)
    proc.stdout.close()


def _ask(proc, argv, timeout=60.0):
    import select

    proc.stdin.write(json.dumps(argv) + "\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        proc.wait()
        pytest.fail(f"catapult {' '.join(argv)} ran longer than {timeout} s")
    line = proc.stdout.readline()
    if not line:
        pytest.fail(f"catapult {' '.join(argv)} killed the worker (memory limit?)")
    return json.loads(line)


def _strict(text):
    def no(c):
        raise ValueError(f"non-finite JSON constant {c}")

    return json.loads(text, parse_constant=no)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(argv=hostile_argv())
def test_fuzz_hostile_arguments(worker, argv):
    r = _ask(worker, argv)
    assert r["crash"] is None, f"catapult {' '.join(argv)} raised:\n{r['crash']}"
    assert r["code"] in (0, 2), (argv, r)
    assert r["seconds"] < 60, argv
    if r["code"] == 0:
        _strict(r["out"])
        assert r["err"] == "", (argv, r["err"])
    else:
        lines = r["err"].strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("catapult: error: "), (argv, r["err"])
        assert r["out"] == ""


def test_fuzz_worker_reports_a_crash(worker):
    """The fuzz can fail: a command that raises inside the worker is reported as a crash."""
    r = _ask(worker, ["__raise__"])
    assert "RuntimeError" in r["crash"]
    r = _ask(worker, ["run", "uv", "--width", "10", "--eta-lambda", "3", "--steps", "5", "--y", "1e-320"])
    assert r["crash"] is None  # a subnormal target is a legal value


# ------------------------------------------------------------------ one line, the right exit code
def _tiny_section(R):
    return R.Section("tiny", "Tiny", lambda ctx: R.SectionOutput("a tiny section\n", {"v": 1}))


def test_a_full_disk_during_reproduce_exits_3_with_one_line(capsys, monkeypatch, tmp_path):
    from catapult_theory.report import _reproduce as R

    monkeypatch.setattr(R, "SECTIONS", [_tiny_section(R)])
    monkeypatch.setattr(R, "_load_sections", lambda: None)

    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(R, "write_atomic", full)
    code, out, err = run_cli(capsys, "reproduce", "--out", str(tmp_path / "r"))
    assert code == 3
    line = [ln for ln in err.splitlines() if ln.startswith("catapult:")]
    assert len(line) == 1 and "No space left on device" in line[0] and "Traceback" not in err


def test_a_report_md_in_the_way_exits_3(capsys, monkeypatch, tmp_path):
    """report.md that cannot be replaced (here a folder of that name) is an output failure."""
    from catapult_theory.report import _reproduce as R

    monkeypatch.setattr(R, "SECTIONS", [_tiny_section(R)])
    monkeypatch.setattr(R, "_load_sections", lambda: None)
    (tmp_path / "report.md").mkdir()
    (tmp_path / "report.md" / "x").write_text("")
    code, out, err = run_cli(capsys, "reproduce", "--out", str(tmp_path))
    assert code == 3 and "Traceback" not in err and "report.md" in err


def test_a_full_disk_during_a_grid_prints_the_summary_and_exits_3(capsys, monkeypatch, tmp_path):
    import catapult_theory.files as files_mod

    from tests.grid.conftest import TINY_TOML

    spec = tmp_path / "g.toml"
    spec.write_text(TINY_TOML)
    real = files_mod.write_atomic

    def full(path, data):
        if "cells" in str(path) or str(path).endswith("table.csv"):
            raise OSError(28, "No space left on device", str(path))
        return real(path, data)

    monkeypatch.setattr(files_mod, "write_atomic", full)
    code, out, err = run_cli(capsys, "grid", str(spec), "--out", str(tmp_path / "o"), "--scheduler", "synchronous",
                             "--no-figures")
    assert code == 3 and "boundaries (mean" in out and "table NOT written" in out
    lines = [ln for ln in err.splitlines() if ln.startswith("catapult: error")]
    assert len(lines) == 1 and "No space left on device" in lines[0] and "more outputs not written" in lines[0]


def test_the_memory_limit_is_checked_before_any_work_by_every_command(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CATAPULT_MAX_MEMORY", "garbage")
    for argv in (["reproduce", "--out", str(tmp_path / "r"), "--only", "proofs"],
                 ["falsify", "uv", "--claim", "lam >= 0"], ["derive", "uv"]):
        line = one_error_line(*run_cli(capsys, *argv))
        assert "CATAPULT_MAX_MEMORY" in line, argv
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv", [
    "phases uv --width 10 --k-min 1 --k-max 5 --num 5 --plot {long}.png",
    "phases uv --width 10 --k-min 1 --k-max 5 --num 5 --plot {long}/x.png",
    "reproduce --only proofs --out {long}",
    "derive {long}.py",
    "grid {long}.toml",
    "prove uv-map --out {long}.md",
    "grid {spec} --out=",
])
def test_an_over_long_path_exits_2(capsys, tmp_path, argv):
    """(and an empty --out of a grid, which wrote into the current folder)"""
    long = str(tmp_path / ("a" * 300))
    spec = tmp_path / "g.toml"
    from tests.grid.conftest import TINY_TOML

    spec.write_text(TINY_TOML)
    one_error_line(*run_cli(capsys, *argv.format(long=long, spec=spec).split()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.toml"]


class _Unwritable:
    """A standard output that refuses every write (``> /dev/full``) or is closed."""

    def __init__(self, errno_):
        self.errno = errno_

    def write(self, text):
        raise OSError(self.errno, os.strerror(self.errno))

    def flush(self):
        raise OSError(self.errno, os.strerror(self.errno))

    def fileno(self):
        raise ValueError("no descriptor")


def test_a_full_stdout_exits_3_and_a_closed_one_quietly(capsys, monkeypatch):
    import errno

    import sys as sys_

    for argv in (["models"], ["derive", "uv", "--format", "json"], ["prove", "--list"]):
        monkeypatch.setattr(sys_, "stdout", _Unwritable(errno.ENOSPC))
        code = main(argv)
        monkeypatch.undo()
        err = capsys.readouterr().err
        assert code == 3 and err.count("\n") == 1 and "No space left on device" in err, (argv, err)
        monkeypatch.setattr(sys_, "stdout", _Unwritable(errno.EBADF))
        code = main(argv)
        monkeypatch.undo()
        assert code == 0 and capsys.readouterr().err == ""
    monkeypatch.setattr(sys_, "stdout", None)  # started with stdout closed (catapult models >&-)
    assert main(["models"]) == 0
    monkeypatch.undo()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, word", [
    ("run uv --width 10 --eta-lambda 3 --steps 5 --x-norm 1e-200", "lam0 = 0"),
    ("phases uv --width 10 --k-min 1 --k-max 5 --num 5 --x-norm 5e-324", "--x-norm"),
    ("phases uv --width 10 --f0 1 --lam0 1e-300 --k-min 1 --k-max 1e100 --num 5", "overflows"),
    ("run pure-quadratic --rank 10 --eta-lambda 2 --steps 5 --mu-dist uniform:1e-320:1e-320", "--mu-dist"),
    ("run two-layer --width 1 --slope 0 --seed 4 --eta-lambda 3 --steps 5", "every unit of the net is inactive"),
])
def test_lam0_zero_or_underflowing_is_named_with_the_flag(capsys, argv, word):
    line = one_error_line(*run_cli(capsys, *argv.split()))
    assert "lam0" in line and word in line


# ------------------------------------------------------------------ memory of grids and of falsify
@pytest.mark.slow
def test_a_grid_estimate_is_within_half_and_twice_of_its_own_memory(tmp_path):
    """The grid's own records and table (cells x k values), pinned on both sides against
    what a grid of 16 tiny cells of 400 k values allocates beyond the process's start."""
    from threadpoolctl import threadpool_limits

    from catapult_theory.grid import grid, grid_memory, parse_spec

    spec = {"model": "uv", "fixed": {"steps": 10, "no-refine": True, "k": {"min": 0.5, "max": 5.0, "num": 400}},
            "axes": {"width": list(range(20, 28)), "seed": [0, 1]}}
    estimate = sum(n.nbytes for n in grid_memory(parse_spec(spec)))
    with threadpool_limits(limits=1):
        grid({**spec, "axes": {"width": [20], "seed": [0]}}, scheduler="synchronous", figures=False)  # warm
        tracemalloc.start()
        try:
            grid(spec, out=tmp_path, scheduler="synchronous", figures=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert 0.5 * peak <= estimate <= 2 * peak, estimate / peak


def test_a_grid_of_ten_million_cells_is_refused_before_a_cell_is_made(capsys, tmp_path):
    spec = tmp_path / "huge.toml"
    spec.write_text('model = "uv"\n[fixed]\nk = { min = 0.5, max = 5, num = 10 }\n[axes]\n'
                    f"width = {list(range(1, 10001))}\nseed = {list(range(1000))}\n")
    t0 = time.perf_counter()
    line = one_error_line(*run_cli(capsys, "grid", str(spec), "--out", str(tmp_path / "o"), "--max-memory", "4G"))
    assert time.perf_counter() - t0 < 20
    assert "10000000 cells" in line and "--max-memory" in line and "above the limit of 4 GB" in line
    assert not (tmp_path / "o").exists()


def _falsify_peak(argv):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        main(argv)
        tracemalloc.start()
        try:
            main(argv)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize("model, n", [("uv", 1500), pytest.param("two-layer", 400, marks=pytest.mark.slow)])
def test_the_falsify_state_estimate_is_within_half_and_twice_of_the_real_peak(model, n):
    from catapult_theory.testing._search import plan_states

    plan = plan_states(model, [f"n == {n}"])
    sizes = {d: hi for d, (lo, hi) in plan.ranges.sizes.items()}
    from catapult_theory.testing._states import state_bytes

    estimate = state_bytes(plan.spec, sizes)
    peak = _falsify_peak(["falsify", model, "--claim", "lam >= 0", "--assume", f"n == {n}", "--assume", "d == 4",
                          "--max-examples", "3"])
    assert 0.5 * peak <= estimate <= 2 * peak, estimate / peak


def test_falsify_refuses_sizes_beyond_the_limit_and_narrows_open_ranges(capsys):
    t0 = time.perf_counter()
    line = one_error_line(*run_cli(capsys, "falsify", "uv", "--assume", "n >= 100000000", "--claim", "lam >= 0"))
    assert time.perf_counter() - t0 < 10 and "n = 100000000" in line and "--max-memory" in line
    code, out, err = run_cli(capsys, "falsify", "uv", "--assume", "n <= 1000000000", "--claim", "lam >= 0",
                             "--max-memory", "2G", "--max-examples", "3", "--format", "json")
    assert code == 0, err
    lo, hi = json.loads(out)["generator"]["sizes"]["n"]
    assert lo == 1 and 100 < hi < 10**6  # narrowed to what fits in 2 GB beside this process
    from catapult_theory.resources import baseline_memory, set_memory_limit
    from catapult_theory.testing._search import plan_states
    from catapult_theory.testing._states import state_bytes

    set_memory_limit("2G")
    try:
        plan = plan_states("uv", ["n <= 1000000000"])
        n_hi = plan.ranges.sizes["n"][1]
        room = 2 * 2**30 - baseline_memory()
        assert state_bytes(plan.spec, {"n": n_hi, "d": 4}) <= room < state_bytes(plan.spec, {"n": 2 * n_hi, "d": 4})
    finally:
        set_memory_limit(None)


# ------------------------------------------------------------------ the fuzz: paths, schedulers, model files
LONG = "a" * 300
PATHS = [f"{LONG}.png", f"{LONG}/x.png", "/proc/x.png", "/dev/full", "/dev/null", "/nonexistent-root-dir/x/y.png",
         "{tmp}", "{tmp}/file/x.png", "{tmp}/", "", "{tmp}/ok.png", "{tmp}/ok.svg", "{tmp}/x.txt", "a\x00b.png",
         "{tmp}/" + "b" * 255 + ".png"]
SCHEDULERS = ["http://127.0.0.1:1", "foo://x", "inproc://x", "tcp://127.0.0.1:1", "tcp://", "tcp://:1", "processes:0",
              "processes:x", "local:-1", "threads:2", "synchronous", "sync", "127.0.0.1:1", "", " ", "tls://[::1]:1",
              "ws://127.0.0.1:99999"]
SCALAR_NAMES = ["lam", "eta", "f", "y", "w2", "r", "n", "x2", "c", "None", "lambda", "zeta", "numpy", "a_1", "gamma",
                "theta2", "w_2", "E", "q1", "xTx"]
FILE_SPEC = """model = "uv"
[fixed]
steps = 20
no-refine = true
k = {{ min = 0.5, max = 5, num = 4 }}
[axes]
width = [20, 30]
"""
MODEL_FILE = """import sympy as sp
from sympy.matrices.expressions import MatrixSymbol
from catapult_theory.symbolic import SymbolicModel
from catapult_theory.symbolic import symbols as S
d, s = sp.Symbol("d"), sp.Symbol({name!r})
U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
model = SymbolicModel("fuzzed", (U, v), s * v.T * U * x / sp.sqrt(S.n){aliases})
"""


@st.composite
def hostile_io_argv(draw, tmp):
    kind = draw(st.sampled_from(["plot", "grid", "derive", "out", "tiny"]))
    path = draw(st.sampled_from(PATHS)).format(tmp=tmp)
    if kind == "plot":
        return ["phases", "uv", "--width", "20", "--k-min", "0.5", "--k-max", "5", "--num", "4", "--steps", "30",
                "--no-refine", "--plot", path]
    if kind == "grid":
        argv = ["grid", f"{tmp}/spec.toml", "--scheduler", draw(st.sampled_from(SCHEDULERS)), "--no-figures"]
        return argv + ["--out", draw(st.sampled_from([path, f"{tmp}/grid-out"]))]
    if kind == "out":
        return ["prove", "uv-map", "--out", path]
    if kind == "tiny":
        flag = draw(st.sampled_from(["--x-norm", "--y", "--f0", "--lam0"]))
        value = draw(st.sampled_from(TINY + HUGE))
        argv = ["phases", "uv", "--width", "20", "--k-min", "0.5", "--k-max", "5", "--num", "4", "--steps", "30"]
        if flag in ("--f0", "--lam0"):
            argv += ["--f0", "0.5", "--lam0", "1"]
        return argv + [f"{flag}={value}"]
    name = draw(st.sampled_from(SCALAR_NAMES))
    aliases = draw(st.sampled_from(["", ", aliases=((x.T * x, S.x2),)"]))
    fmt = draw(st.sampled_from(["text", "python", "latex", "json", "markdown"]))
    return ["derive", f"{tmp}/{name}{'-a' if aliases else ''}.py", "--format", fmt]


@pytest.fixture(scope="module")
def io_folder(tmp_path_factory):
    """A folder with the grid SPEC, a file where a folder is expected, and one model file
    per scalar name (with and without aliases) for the fuzz below."""
    tmp = tmp_path_factory.mktemp("hostile-io")
    (tmp / "spec.toml").write_text(FILE_SPEC.format())
    (tmp / "file").write_text("")
    for name in SCALAR_NAMES:
        (tmp / f"{name}.py").write_text(MODEL_FILE.format(name=name, aliases=""))
        (tmp / f"{name}-a.py").write_text(MODEL_FILE.format(name=name, aliases=", aliases=((x.T * x, S.x2),)"))
    return tmp


def _check_reply(argv, r):
    assert r["crash"] is None, f"catapult {' '.join(argv)} raised:\n{r['crash']}"
    assert r["code"] in (0, 2, 3), (argv, r)
    assert r["seconds"] < 60, argv
    lines = [ln for ln in r["err"].strip().splitlines() if ln.startswith("catapult: error:")]
    if r["code"] in (2, 3):
        assert len(lines) == 1 and "Traceback" not in r["err"], (argv, r["err"])
    else:
        assert not lines and "Traceback" not in r["err"], (argv, r["err"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_hostile_paths_schedulers_model_files_and_floats(worker, io_folder, data):
    """Paths (too long, in /proc, devices, a file as a folder, NUL), scheduler strings, model
    files whose scalars are named like the derivation's symbols (every export format), and
    tiny and huge floats: a result or one line with exit 2 or 3, never a traceback."""
    argv = data.draw(hostile_io_argv(str(io_folder)))
    r = _ask(worker, argv)
    _check_reply(argv, r)
    if argv[0] == "derive" and r["code"] == 0 and argv[-1] == "python":
        compile(r["out"], "exported", "exec")  # the export is Python


def test_the_io_fuzz_sees_a_traceback(worker):
    """The reply check can fail: a crash, a second error line and a traceback are caught."""
    with pytest.raises(AssertionError):
        _check_reply(["__raise__"], _ask(worker, ["__raise__"]))
    with pytest.raises(AssertionError):
        _check_reply(["x"], {"crash": None, "code": 2, "seconds": 0.1, "err": "catapult: error: a\ncatapult: error: b"})
    with pytest.raises(AssertionError):
        _check_reply(["x"], {"crash": None, "code": 0, "seconds": 0.1, "err": "Traceback (most recent call last)"})


def test_reproduce_checks_every_section_before_it_touches_the_folder(capsys, monkeypatch, tmp_path):
    from catapult_theory.report import _reproduce as R
    from catapult_theory.resources import Need

    line = one_error_line(*run_cli(capsys, "reproduce", "--max-memory", "1K", "--out", str(tmp_path / "r")))
    assert "section proofs" in line and "above the limit of 1 kB (--max-memory)" in line
    assert not (tmp_path / "r").exists()
    big = R.Section("big", "Big", lambda ctx: R.SectionOutput("never run\n"),
                    lambda quick: [Need("a huge batch", 2.0**50 if not quick else 1.0, "--quick")])
    monkeypatch.setattr(R, "SECTIONS", [big])
    monkeypatch.setattr(R, "_load_sections", lambda: None)
    line = one_error_line(*run_cli(capsys, "reproduce", "--out", str(tmp_path / "r")))
    assert "section big" in line and "a huge batch" in line and "lower --quick" in line
    assert not (tmp_path / "r").exists()
    assert run_cli(capsys, "reproduce", "--quick", "--out", str(tmp_path / "r"))[0] == 0


def test_the_built_in_sections_fit_the_default_limit_of_a_small_machine():
    """Every section's estimate (full settings) is positive and fits 4 GB: the report runs
    on an 16 GB machine's default limit."""
    from catapult_theory.report import _reproduce as R

    R._load_sections()
    for sec in R.SECTIONS:
        if sec.memory is None:
            continue
        for quick in (True, False):
            total = sum(n.nbytes for n in sec.memory(quick))
            assert 0 < total < 4 * 2**30, (sec.name, quick, total)
