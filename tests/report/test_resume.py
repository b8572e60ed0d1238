"""`catapult reproduce` is resumable: finished experiments are cached, reruns skip them,
a changed configuration reruns, an interrupt leaves no half-written file; report.html and
results.json agree with report.md."""

import json
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser

import pytest

from catapult_theory.report import _reproduce as R
from catapult_theory.report._cache import ExperimentCache


def test_cache_computes_once_and_reruns_on_a_changed_configuration(tmp_path):
    calls = []
    cache = ExperimentCache(tmp_path)

    def compute(v):
        calls.append(v)
        return {"value": v}

    assert cache.cached("exp", {"k": 1}, lambda: compute(1)) == {"value": 1}
    assert cache.cached("exp", {"k": 1}, lambda: compute(99)) == {"value": 1}  # stored
    assert cache.cached("exp", {"k": 2}, lambda: compute(2)) == {"value": 2}  # changed configuration
    assert calls == [1, 2] and cache.hits == ["exp"] and cache.misses == ["exp", "exp"]
    assert ExperimentCache(tmp_path, force=True).cached("exp", {"k": 1}, lambda: compute(3)) == {"value": 3}
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_corrupted_or_foreign_entries_are_recomputed(tmp_path):
    cache = ExperimentCache(tmp_path)
    cache.cached("exp", {"k": 1}, lambda: 1)
    path = cache.path("exp", {"k": 1})
    path.write_bytes(b"not a record")
    assert ExperimentCache(tmp_path).cached("exp", {"k": 1}, lambda: 2) == 2
    from catapult_theory import records

    path.write_bytes(records.dumps("another key", 3))
    assert ExperimentCache(tmp_path).cached("exp", {"k": 1}, lambda: 4) == 4


class _Plant:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.write_text, (pathlib.Path(self.marker), "ran"))


def test_a_planted_pickle_in_a_copied_report_folder_never_runs(tmp_path):
    """A report folder from someone else, with a pickle under an entry's name (old or new
    suffix): nothing runs, the experiment is computed again and stored as a record."""
    marker = tmp_path / "ran"
    cache = ExperimentCache(tmp_path / "cache")
    path = cache.path("exp", {"k": 1})
    path.parent.mkdir()
    payload = pickle.dumps({"key": "x", "value": _Plant(marker)})
    for p in (path, path.with_suffix(".pkl")):
        p.write_bytes(payload)
    assert cache.cached("exp", {"k": 1}, lambda: {"v": 5}) == {"v": 5}
    assert not marker.exists() and cache.misses == ["exp"]
    assert ExperimentCache(tmp_path / "cache").load("exp", {"k": 1}) == (True, {"v": 5})
    assert not marker.exists()


def test_results_of_the_experiments_round_trip_through_a_record(tmp_path):
    """Arrays, NumPy scalars, the package's result classes (a phase sweep with its
    BoundaryMap, a run result) come back equal; a function is not stored."""
    import numpy as np

    from catapult_theory import records
    from catapult_theory.experiments import run_uv, sweep_uv, uv_setup

    sweep = sweep_uv(uv_setup(50), np.linspace(0.5, 5, 6), steps=50, refine=False)
    run = run_uv(50, 3.0, 20)
    value = {"sweep": sweep, "run": run, "scalar": np.float64(2.5), "strings": np.array(["a", "bc"]),
             ("t", 1): {1, 2}, "c": 1 + 2j, "nan": float("nan")}
    back = records.decode(json.loads(json.dumps(records.encode(value))))
    assert back["sweep"].boundaries == sweep.boundaries and back["sweep"].boundaries.details == \
        sweep.boundaries.details and type(back["sweep"].boundaries) is type(sweep.boundaries)
    np.testing.assert_array_equal(back["sweep"].k, sweep.k)
    np.testing.assert_array_equal(back["run"].gd.loss, run.gd.loss)
    assert back["run"].to_dict() == run.to_dict()
    assert type(back["scalar"]) is np.float64 and back["strings"].tolist() == ["a", "bc"]
    assert back[("t", 1)] == {1, 2} and back["c"] == 1 + 2j and np.isnan(back["nan"])
    with pytest.raises(TypeError):
        records.encode({"f": lambda: 1})
    with pytest.raises(TypeError):
        records.encode(np.array([object()], dtype=object))


def _figure_section(calls):
    def run(ctx):
        value = ctx.cached("tiny-exp", {"n": 3}, lambda: calls.append(1) or 2.5 * 3)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from catapult_theory.files import save_figure

        fig = plt.figure(figsize=(2, 2))
        plt.plot([0, 1], [0, value])
        path = ctx.figure("tiny.png")
        save_figure(fig, path)
        plt.close(fig)
        return R.SectionOutput(f"measured value **{value}**\n\n![tiny]({ctx.rel(path)})\n", {"value": value})

    return run


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


def test_outputs_agree_and_a_rerun_skips_finished_work(tmp_path, fake_sections):
    calls = []
    fake_sections.append(R.Section("tiny", "Tiny", _figure_section(calls)))
    assert R.reproduce(tmp_path, verbose=False) == 0
    md = (tmp_path / "report.md").read_text()
    results = json.loads((tmp_path / "results.json").read_text())
    page = (tmp_path / "report.html").read_text()
    assert results["sections"]["tiny"]["data"]["value"] == 7.5 and "**7.5**" in md
    assert results["sections"]["tiny"]["figures"] == ["figures/tiny.png"]
    assert results["version"] and "git_revision" in results and results["quick"] is False
    parser = _Images()
    parser.feed(page)
    assert parser.srcs and all(s.startswith("data:image/png;base64,") for s in parser.srcs)  # self-contained
    assert "<strong>7.5</strong>" in page
    assert calls == [1]
    # a rerun: the section comes from the cache, nothing is computed again
    assert R.reproduce(tmp_path, verbose=False) == 0
    assert calls == [1]
    results = json.loads((tmp_path / "results.json").read_text())
    assert "section-tiny" in results["experiments"]["cached"]
    # a missing figure makes the section run again, but its experiment is still cached
    (tmp_path / "figures" / "tiny.png").unlink()
    assert R.reproduce(tmp_path, verbose=False) == 0
    assert calls == [1] and (tmp_path / "figures" / "tiny.png").exists()
    # --force recomputes
    assert R.reproduce(tmp_path, verbose=False, force=True) == 0
    assert calls == [1, 1]


def test_quick_and_full_are_different_configurations(tmp_path, fake_sections):
    calls = []
    fake_sections.append(R.Section("count", "Count", lambda ctx: calls.append(ctx.quick) or R.SectionOutput("x")))
    R.reproduce(tmp_path, verbose=False, quick=True)
    R.reproduce(tmp_path, verbose=False, quick=False)
    R.reproduce(tmp_path, verbose=False, quick=True)
    assert calls == [True, False]


SCRIPT = textwrap.dedent('''
    import signal, sys, time
    from pathlib import Path
    from catapult_theory.report import _reproduce as R

    # Ctrl-C as in a terminal, even where the test runner was started with SIGINT ignored
    # (a background job of a non-interactive shell inherits SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    out, mode = Path(sys.argv[1]), sys.argv[2]
    log = out.parent / "computed.log"

    def run(ctx):
        def first():
            with open(log, "a") as fh:
                fh.write("first\\n")
            return 1
        def second():
            with open(log, "a") as fh:
                fh.write("second\\n")
            if mode == "slow":
                (out.parent / "first-done").write_text("")
                time.sleep(120)
            return 2
        a = ctx.cached("first", {}, first)
        b = ctx.cached("second", {}, second)
        return R.SectionOutput(f"a = {a}, b = {b}")

    R.SECTIONS[:] = [R.Section("resumable", "Resumable", run)]
    R._load_sections = lambda: None
    sys.exit(R.reproduce(out, verbose=False))
''')


def test_sigint_keeps_finished_experiments_and_no_partial_file(tmp_path):
    out = tmp_path / "report"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out), "slow"])
    try:
        deadline = time.time() + 180
        while not (tmp_path / "first-done").exists():
            assert time.time() < deadline and proc.poll() is None, "the run did not reach its second experiment"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=180) != 0  # generous: a loaded CI machine
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".catapult-probe")]
    assert leftovers == [] and not (out / ".catapult.lock").exists()
    assert "Interrupted during 'Resumable'" in (out / "report.md").read_text()
    proc = subprocess.run([sys.executable, str(script), str(out), "fast"], timeout=300)
    assert proc.returncode == 0
    assert (tmp_path / "computed.log").read_text().split() == ["first", "second", "second"]  # first not rerun
    assert "a = 1, b = 2" in (out / "report.md").read_text()


@pytest.mark.slow
def test_reproduce_quick_end_to_end_outputs_agree(tmp_path):
    """The whole `reproduce --quick` into a temporary folder: report.md, report.html,
    results.json and the figures exist and agree with each other (about 40 s)."""
    from catapult_theory.cli import main

    assert main(["reproduce", "--out", str(tmp_path), "--quick"]) == 0
    md = (tmp_path / "report.md").read_text()
    results = json.loads((tmp_path / "results.json").read_text())
    page = (tmp_path / "report.html").read_text()
    R._load_sections()
    assert set(results["sections"]) == {s.name for s in R.SECTIONS}
    linked = sorted(set(R._FIGURE_LINK.findall(md)))
    listed = sorted({f for s in results["sections"].values() for f in s["figures"]})
    assert linked == listed and len(linked) >= 25
    assert all((tmp_path / f).stat().st_size > 5_000 for f in linked)
    parser = _Images()
    parser.feed(page)
    assert len(parser.srcs) == len(R._FIGURE_LINK.findall(md))  # every figure embedded in the page
    for name, sec in results["sections"].items():
        assert sec["status"] == "done" and json.loads((tmp_path / "data" / f"{name}.json").read_text()) == \
            json.loads(json.dumps(sec["data"]))
    # a rerun computes nothing
    assert main(["reproduce", "--out", str(tmp_path), "--quick"]) == 0
    again = json.loads((tmp_path / "results.json").read_text())
    assert again["experiments"]["computed"] == []
