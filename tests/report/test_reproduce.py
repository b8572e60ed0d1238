"""`catapult reproduce`: incremental report, failures and interrupts lose nothing."""

import json

import pytest

from catapult_theory.report import _reproduce as R


def test_failing_section_is_reported_and_others_still_run(tmp_path, fake_sections):
    fake_sections.append(R.Section("good", "Good", lambda ctx: R.SectionOutput("all fine", {"x": [1.0, 2.0]})))

    def bad(ctx):
        raise RuntimeError("boom")

    fake_sections.append(R.Section("bad", "Bad", bad))
    fake_sections.append(R.Section("later", "Later", lambda ctx: R.SectionOutput("after the failure")))
    code = R.reproduce(tmp_path, verbose=False)
    assert code == 1
    report = (tmp_path / "report.md").read_text()
    assert "all fine" in report and "FAILED" in report and "boom" in report and "after the failure" in report
    assert json.loads((tmp_path / "data" / "good.json").read_text()) == {"x": [1.0, 2.0]}


def test_interrupt_keeps_finished_sections(tmp_path, fake_sections):
    fake_sections.append(R.Section("first", "First", lambda ctx: R.SectionOutput("first done")))

    def interrupted(ctx):
        raise KeyboardInterrupt

    fake_sections.append(R.Section("second", "Second", interrupted))
    with pytest.raises(KeyboardInterrupt):
        R.reproduce(tmp_path, verbose=False, jobs=1)  # one at a time: the first is done when the second starts
    report = (tmp_path / "report.md").read_text()
    assert "first done" in report and "Interrupted during 'Second'" in report


def test_unknown_section_is_rejected(tmp_path, fake_sections):
    fake_sections.append(R.Section("only", "Only", lambda ctx: R.SectionOutput("x")))
    with pytest.raises(ValueError, match="unknown section"):
        R.reproduce(tmp_path, only=["nope"], verbose=False)


@pytest.mark.slow  # kept out of the default run's time budget; run with -m slow
def test_cli_reproduce_uv_quick(tmp_path, capsys):
    from catapult_theory.cli import main

    code = main(["reproduce", "--out", str(tmp_path), "--quick", "--only", "uv"])
    assert code == 0
    report = (tmp_path / "report.md").read_text()
    assert "## uv model" in report and "FAILED" not in report
    for fig in ("uv_trajectories.png", "uv_phases.png", "uv_final_lam.png", "uv_peak_scaling.png"):
        assert (tmp_path / "figures" / fig).stat().st_size > 5_000
    data = json.loads((tmp_path / "data" / "uv.json").read_text())
    b = data["phase_sweep"]["boundaries"]
    assert abs(b["catapult_onset"] - 2) < 0.02 and abs(b["divergence"] - 4) < 0.02
