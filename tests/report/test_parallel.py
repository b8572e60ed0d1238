"""`catapult reproduce --jobs N`: sections at once, each in a forked process, with the same
report as one at a time; failures, output failures, interrupts and memory as in one process."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catapult_theory import resources
from catapult_theory.report import _reproduce as R


def _section(name, value, pause=0.0):
    def run(ctx):
        time.sleep(pause)
        a = ctx.cached(f"{name}-experiment", {"v": value}, lambda: value * 2)
        path = ctx.figure(f"{name}.txt")
        path.write_text(name)
        return R.SectionOutput(f"{name}: a = {a}, figure [{name}]({ctx.rel(path)})", {"a": a})
    return R.Section(name, name.title(), run)


def _body(folder):
    """report.md without its timings and run header (they differ between runs)."""
    text = (Path(folder) / "report.md").read_text()
    return [ln for ln in text.splitlines() if " s" not in ln and "Generated" not in ln and "revision" not in ln]


def test_two_at_once_give_the_report_of_one_at_a_time(tmp_path, fake_sections):
    # the first section is the slowest: the others finish before it, the report keeps their order
    fake_sections.extend([_section("alpha", 1, 0.6), _section("beta", 2), _section("gamma", 3)])
    assert R.reproduce(tmp_path / "one", verbose=False, jobs=1) == 0
    assert R.reproduce(tmp_path / "two", verbose=False, jobs=2) == 0
    assert _body(tmp_path / "one") == _body(tmp_path / "two")
    body = "\n".join(_body(tmp_path / "two"))
    assert body.index("alpha: a = 2") < body.index("beta: a = 4") < body.index("gamma: a = 6")
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    two = json.loads((tmp_path / "two" / "results.json").read_text())
    assert one["sections"]["beta"]["data"] == two["sections"]["beta"]["data"] == {"a": 4}
    assert (tmp_path / "two" / "figures" / "gamma.txt").read_text() == "gamma"
    # a rerun finds every experiment of the child processes in the cache
    assert R.reproduce(tmp_path / "two", verbose=False, jobs=2) == 0
    again = json.loads((tmp_path / "two" / "results.json").read_text())
    assert {"section-alpha", "section-beta", "section-gamma"} <= set(again["experiments"]["cached"])


def test_a_failing_section_in_its_process_is_reported_and_the_others_run(tmp_path, fake_sections):
    def broken(ctx):
        raise ValueError("a section bug")

    fake_sections.extend([R.Section("broken", "Broken", broken), _section("beta", 2)])
    assert R.reproduce(tmp_path, verbose=False, jobs=2) == 1
    report = (tmp_path / "report.md").read_text()
    assert "ValueError: a section bug" in report and "beta: a = 4" in report


def test_a_process_that_dies_is_a_failed_section(tmp_path, fake_sections):
    import os

    fake_sections.extend([R.Section("dies", "Dies", lambda ctx: os._exit(7)), _section("beta", 2)])
    assert R.reproduce(tmp_path, verbose=False, jobs=2) == 1
    report = (tmp_path / "report.md").read_text()
    assert "ended without a result (exit code 7)" in report and "beta: a = 4" in report


def test_a_full_disk_in_a_section_process_exits_3(tmp_path, fake_sections, capsys):
    from catapult_theory.cli import main

    def full(ctx):
        raise OSError(28, "No space left on device", str(ctx.out / "figures" / "x.png"))

    fake_sections.extend([R.Section("full", "Full", full), _section("beta", 2)])
    assert main(["reproduce", "--out", str(tmp_path / "r"), "--jobs", "2"]) == 3
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err


@pytest.mark.parametrize("limit_mb, jobs", [(300, 2), (299, 1)])
def test_sections_at_once_must_fit_the_memory_limit_together(monkeypatch, limit_mb, jobs):
    """What forked processes share (the parent's memory) counts once: 100 MB held, two
    sections of 100 MB own arrays each need 300 MB together, exactly the limit."""
    mb = 2**20
    monkeypatch.setattr(resources, "baseline_memory", lambda: 100 * mb)
    resources.set_memory_limit(limit_mb * mb)
    try:
        assert R.parallel_jobs({"a": 200 * mb, "b": 200 * mb, "c": 150 * mb}, 2) == jobs
    finally:
        resources.set_memory_limit(None)


def test_no_more_processes_than_sections(monkeypatch):
    monkeypatch.setattr(resources, "baseline_memory", lambda: 0)
    assert R.parallel_jobs({"a": 1.0}, 4) == 1
    assert R.parallel_jobs({"a": 1.0, "b": 1.0, "c": 1.0}, 2) == 2


def test_jobs_below_one_is_refused(capsys, tmp_path):
    from catapult_theory.cli import main

    assert main(["reproduce", "--jobs", "0", "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()


SCRIPT = '''
import signal, sys, time
from pathlib import Path
from catapult_theory.report import _reproduce as R
signal.signal(signal.SIGINT, signal.default_int_handler)
out = Path(sys.argv[1])

def quick(ctx):
    return R.SectionOutput("quick done")

def slow(ctx):
    (out.parent / "slow-started").write_text("")
    for i in range(600):
        ctx.cached(f"step-{i}", {}, lambda: i)  # files written one after another until interrupted
        time.sleep(0.05)
    return R.SectionOutput("slow done")

R.SECTIONS[:] = [R.Section("quick", "Quick", quick), R.Section("slow", "Slow", slow)]
R._load_sections = lambda: None
sys.exit(R.reproduce(out, verbose=False, jobs=2))
'''


def test_an_interrupt_ends_the_section_processes_and_keeps_what_finished(tmp_path):
    out = tmp_path / "report"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out)])
    try:
        deadline = time.time() + 120
        while not (tmp_path / "slow-started").exists() or not (out / "report.md").exists():
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)  # the parent only, as `kill -INT`: it ends its section processes
        assert proc.wait(timeout=120) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(script) not in ps  # no section process left behind
    report = (out / "report.md").read_text()
    assert "quick done" in report and "Interrupted during 'Slow'" in report
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == [] and not (out / ".catapult.lock").exists()


def test_an_interrupt_inside_a_section_process_stops_the_run(tmp_path, fake_sections):
    def interrupted(ctx):
        raise KeyboardInterrupt

    fake_sections.extend([_section("alpha", 1, 1.0), R.Section("second", "Second", interrupted)])
    with pytest.raises(KeyboardInterrupt):
        R.reproduce(tmp_path, verbose=False, jobs=2)
    report = (tmp_path / "report.md").read_text()
    assert "Interrupted during 'Alpha', 'Second'" in report  # both were running
