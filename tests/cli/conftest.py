"""Shared helpers of the CLI tests."""

import re
from pathlib import Path

import pytest

from catapult_theory.cli import main

#: the guides that hold the example model file (``# mine.py``) and test file (``# test_my_conjecture.py``)
DOCS = [Path(__file__).resolve().parents[2] / "docs" / page for page in ("models.md", "falsify.md")]


def docs_block(first_line: str) -> str:
    """The python code block of the documentation's guides that starts with ``first_line``."""
    for page in DOCS:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
            if block.startswith(first_line):
                return block
    raise AssertionError(f"no block starting with {first_line!r} in {[p.name for p in DOCS]}")


@pytest.fixture
def mine(tmp_path, monkeypatch):
    """The documentation's model file (the mean-field uv model f = vᵀUx/n), written to a fresh
    folder that is the working directory."""
    path = tmp_path / "mine.py"
    path.write_text(docs_block("# mine.py"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return path


def run_cli(capsys, *argv):
    """Run ``catapult argv...`` in-process: ``(exit code, stdout, stderr)``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
