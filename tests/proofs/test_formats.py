"""Certificates parse: JSON loads to the contract, LaTeX is balanced amsmath,
Markdown has one table row per theorem; the CLI's exit codes."""

import json
import re

import proofs
from catapult_theory.cli import main


def test_json_contract(all_results):
    data = json.loads(proofs.render(all_results, "json"))
    assert isinstance(data, list) and len(data) == len(all_results)
    for item in data:
        assert item["status"] in ("proved", "failed")
        assert isinstance(item["theorem"], str) and isinstance(item["model"], str)
        for step in item["steps"]:
            assert {"name", "kind", "status", "uses"} <= set(step)
            assert step["kind"] in ("identity", "inequality", "logical")
            assert isinstance(step["uses"], list)


def _balanced(tex: str) -> None:
    depth = 0
    for i, ch in enumerate(tex):
        if ch == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or tex[i - 1] != "\\"):
            depth -= 1
        assert depth >= 0, tex[max(0, i - 60):i + 1]
    assert depth == 0
    stack = []
    for m in re.finditer(r"\\(begin|end)\{([^}]*)\}", tex):
        if m.group(1) == "begin":
            stack.append(m.group(2))
        else:
            assert stack and stack.pop() == m.group(2), m.group(0)
    assert not stack


def test_latex_is_balanced_amsmath(all_results):
    tex = proofs.render(all_results, "latex")
    assert r"\usepackage{amsmath}" in tex and tex.strip().endswith(r"\end{document}")
    _balanced(tex)
    assert tex.count(r"\begin{equation*}") > 20


def test_latex_balance_check_can_fail():
    import pytest

    with pytest.raises(AssertionError):
        _balanced(r"\begin{document}\frac{a}{b\end{document}")
    with pytest.raises(AssertionError):
        _balanced(r"\begin{equation*}x\end{align*}")


def test_markdown_has_one_table_row_per_theorem(all_results):
    md = proofs.render(all_results, "md")
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(all_results)
    assert all(line.rstrip().endswith("|") and "proved" in line for line in rows)
    assert md.count("## `") == len(all_results)


def test_text_table(all_results):
    text = proofs.render(all_results, "text")
    assert f"{len(all_results)} of {len(all_results)} proved" in text


def test_cli_exit_codes(capsys, tmp_path):
    assert main(["prove", "uv-map", "ntk-bound-uv", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["theorem"] for d in data] == ["uv-map", "ntk-bound-uv"]
    assert main(["prove", "bogus-theorem"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bogus-theorem" in err
    assert main(["prove", "linear-onset", "--model", "nope"]) == 2
    with proofs.inject(lemma_constant=3):
        assert main(["prove", "weight-norm-identity", "--model", "uv"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "one-datum" in out


def test_cli_out_file(capsys, tmp_path):
    target = tmp_path / "cert.md"
    assert main(["prove", "ntk-bound-omega", "--format", "md", "--out", str(target)]) == 0
    assert "certificate written" in capsys.readouterr().out
    text = target.read_text()
    assert "ntk-bound-omega" in text and not list(tmp_path.glob(".*.tmp"))
    assert main(["prove", "uv-map", "--out", str(tmp_path)]) == 2  # a directory
    (tmp_path / "plain").write_text("")
    assert main(["prove", "uv-map", "--out", str(tmp_path / "plain" / "c.md")]) == 2  # a file in the way
    # a missing folder is made (checked before the proofs run)
    assert main(["prove", "uv-map", "--out", str(tmp_path / "new" / "sub" / "c.md")]) == 0
    assert (tmp_path / "new" / "sub" / "c.md").is_file()
