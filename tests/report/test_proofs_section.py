"""`catapult reproduce --only proofs`: the certificate beside report.md, one row
per theorem, and a failed theorem flagged at the top without stopping the run."""

import json
import re


import proofs
from catapult_theory.report import _reproduce as R


def _rows(markdown):
    """theorem label -> the cells of its table row (rows start with a backquoted label)."""
    rows = {}
    for line in markdown.splitlines():
        m = re.match(r"\| `([^`]+)` \|(.*)\|$", line)
        if m:
            assert m.group(1) not in rows, f"two rows for {m.group(1)}"
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def _proofs_section():
    R._load_sections()
    return next(s for s in R.SECTIONS if s.name == "proofs")


def test_proofs_section_writes_the_certificate(tmp_path, monkeypatch, all_results):
    monkeypatch.setattr(proofs, "prove", lambda *a, **k: list(all_results))  # proved once per session
    code = R.reproduce(tmp_path, only=["proofs"], verbose=False)
    assert code == 0
    expected = [th.label for th in proofs.theorems()]
    assert len(expected) == len(set(expected)) >= len(proofs.THEOREM_IDS)

    cert = (tmp_path / "certificate.md").read_text()
    assert cert.startswith("# Proof certificate")
    assert list(_rows(cert)) == expected

    report = (tmp_path / "report.md").read_text()
    assert "## Proofs" in report and "[certificate.md](certificate.md)" in report
    assert "NOT PROVED" not in report
    rows = _rows(report)
    assert list(rows) == expected
    assert all(cells[-1] == "proved" for cells in rows.values()), rows
    assert f"All {len(expected)} theorems proved" in report

    data = json.loads((tmp_path / "data" / "proofs.json").read_text())
    assert [t["status"] for t in data["theorems"]] == ["proved"] * len(expected)
    # written through a temporary file that is gone afterwards
    assert not [p.name for p in tmp_path.rglob("*.tmp")]


def test_failed_theorem_is_flagged_at_the_top_and_the_run_completes(tmp_path, monkeypatch):
    section = _proofs_section()
    monkeypatch.setattr(R, "SECTIONS", [section, R.Section("later", "Later", lambda ctx: R.SectionOutput("ran"))])
    monkeypatch.setattr(R, "_load_sections", lambda: None)
    real_prove = proofs.prove

    def wrong_lemma(*args, **kwargs):  # a fast subset, with the lemma's 4 replaced by 3
        with proofs.inject(lemma_constant=3):
            return real_prove(["uv-map", "weight-norm-decrease"], ["uv"])

    monkeypatch.setattr(proofs, "prove", wrong_lemma)
    code = R.reproduce(tmp_path, verbose=False)
    assert code == 1

    report = (tmp_path / "report.md").read_text()
    top = report.split("<a id=")[0]
    assert "not proved" in top and "weight-norm-decrease[uv]" in top and "uv-map" not in top
    assert "ran" in report  # the next section still ran
    rows = _rows(report)
    assert rows["uv-map"][-1] == "proved"
    assert rows["weight-norm-decrease[uv]"][-1].startswith("**NOT PROVED**")
    cert_rows = _rows((tmp_path / "certificate.md").read_text())
    assert list(cert_rows) == ["uv-map", "weight-norm-decrease[uv]"]
    assert "**failed**" in cert_rows["weight-norm-decrease[uv]"] and "**proved**" in cert_rows["uv-map"]
