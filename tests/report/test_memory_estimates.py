"""`catapult reproduce` estimates each section's memory before any work: a section above
the limit is refused with one line (exit 2), and an estimate lies within 0.5-2x of the
peak resident memory the section really reaches."""

import os
import subprocess
import sys

import pytest

_ESTIMATE = """
import sys
from catapult_theory.report import _reproduce as R
from catapult_theory.resources import set_memory_limit
R._load_sections()
set_memory_limit(2**62)
secs = [s for s in R.SECTIONS if s.name == sys.argv[1]]
print(R.check_sections(secs, quick="--quick" in sys.argv)[sys.argv[1]])
"""

# the peak of one child process only (RUSAGE_CHILDREN of a process with no other child)
_PEAK = """
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "catapult_theory", *sys.argv[1:]], capture_output=True, text=True)
assert proc.returncode == 0, proc.stderr
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def _python(code, *args, timeout):
    env = {k: v for k, v in os.environ.items() if k != "CATAPULT_MAX_MEMORY"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          check=False, env=env)


def test_a_section_above_the_limit_is_refused_before_any_work(tmp_path, capsys):
    """The uv section's exact-map batches record 1200 runs for 20,000 steps (about 1 GB):
    a limit 500 MB above what the process holds refuses it up front, one line naming the
    section, exit 2; an estimate counting only the arrays of `phases uv` (under 40 MB)
    let it start."""
    from catapult_theory.cli import main
    from catapult_theory.resources import baseline_memory, set_memory_limit

    out = tmp_path / "r"
    limit = baseline_memory() + 500 * 2**20
    try:
        code = main(["reproduce", "--only", "uv", "--out", str(out), "--max-memory", str(limit)])
    finally:
        set_memory_limit(None)
    err = capsys.readouterr().err
    assert code == 2, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("catapult: error: "), err
    assert "section uv" in lines[0] and "(--max-memory)" in lines[0] and "exact-map runs" in lines[0]
    assert not (out / "report.md").exists()


@pytest.mark.slow
@pytest.mark.parametrize("section", ["uv", "proofs"])
def test_the_estimate_is_within_a_factor_two_of_the_measured_peak(tmp_path, section):
    """Estimate (libraries loaded, then the largest batch recorded to its budget; for the
    proofs their symbolic work and the Coq checker) against the peak resident memory of
    `reproduce --only SECTION --quick` measured from outside (the largest of its processes)."""
    est = float(_python(_ESTIMATE, section, "--quick", timeout=120).stdout.strip().splitlines()[-1])
    proc = _python(_PEAK, "reproduce", "--only", section, "--quick", "--force", "--out", str(tmp_path / "r"),
                   timeout=900)
    peak = float(proc.stdout.strip().splitlines()[-1])
    assert 0.5 <= est / peak <= 2.0, (est, peak)


def test_a_later_section_is_checked_again_on_what_the_process_holds_then(tmp_path, fake_sections, monkeypatch):
    """Sections run one at a time in one process (--jobs 1): before each later section the check runs again on the
    memory the process holds at that point, so what the earlier ones left behind counts; the
    run stops with one line (exit 2) and the finished section stays in the report."""
    from catapult_theory import resources
    from catapult_theory.errors import InvalidInput
    from catapult_theory.report import _reproduce as R

    held = {"bytes": 100 * 2**20}
    monkeypatch.setattr(resources, "baseline_memory", lambda: held["bytes"])

    def first(ctx):
        held["bytes"] = 900 * 2**20  # what the first section leaves in the process
        return R.SectionOutput("first done")

    need = [resources.Need("the second section's arrays", 200 * 2**20, "--only")]
    fake_sections.append(R.Section("first", "First", first))
    fake_sections.append(R.Section("second", "Second", lambda ctx: R.SectionOutput("second done"),
                                   lambda quick: need))
    resources.set_memory_limit(1000 * 2**20)
    try:
        with pytest.raises(InvalidInput, match="section second needs about 1.07 GB"):
            R.reproduce(tmp_path, verbose=False, jobs=1)
    finally:
        resources.set_memory_limit(None)
    report = (tmp_path / "report.md").read_text()
    assert "first done" in report and "second done" not in report
