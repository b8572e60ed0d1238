"""Every public definition of the package (functions, classes, their public methods) has a
docstring; the version is defined once; the citation file is well formed."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import catapult_theory

PACKAGE = Path(catapult_theory.__file__).parent
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _undocumented(tree: ast.Module, prefix: str = "") -> list[str]:
    missing = []
    for node in tree.body:
        if isinstance(node, DEFS) and not node.name.startswith("_"):
            if ast.get_docstring(node) is None:
                missing.append(prefix + node.name)
            if isinstance(node, ast.ClassDef) and not prefix:
                missing += _undocumented(node, node.name + ".")
    return missing


def test_public_definitions_have_docstrings():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if ast.get_docstring(tree) is None and path.name != "__main__.py":
            missing.append(f"{rel}: module")
        missing += [f"{rel}: {name}" for name in _undocumented(tree)]
    assert not missing, missing


def test_the_check_finds_an_undocumented_definition():
    tree = ast.parse("def public():\n    pass\n\nclass C:\n    def method(self):\n        pass\n")
    assert _undocumented(tree) == ["public", "C", "C.method"]


# ----------------------------------------------------------------------------- version, citation
ROOT = PACKAGE.parent


def test_the_version_is_defined_once():
    version = catapult_theory.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and 'path = "catapult_theory/__init__.py"' in pyproject
    assignments = [p for p in sorted(PACKAGE.rglob("*.py")) if re.search(r"^__version__\s*=", p.read_text(
        encoding="utf-8"), flags=re.M)]
    assert assignments == [PACKAGE / "__init__.py"]


def test_version_flags(capsys):
    from catapult_theory.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"catapult_theory {catapult_theory.__version__}\n"
    proc = subprocess.run([sys.executable, "-m", "catapult_theory", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout == f"catapult_theory {catapult_theory.__version__}\n"


def _citation_errors(data: dict) -> list[str]:
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [e.message for e in validator.iter_errors(data)]


def test_the_citation_file_is_valid_cff():
    """CITATION.cff against the Citation File Format 1.2.0 schema (the schema cffconvert ships),
    with the package's version; a file without authors is caught."""
    import yaml

    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert _citation_errors(data) == []
    assert data["cff-version"] == "1.2.0" and data["version"] == catapult_theory.__version__
    broken = {k: v for k, v in data.items() if k != "authors"}
    assert _citation_errors(broken)
    assert _citation_errors({**data, "date-released": "7 Dec 2026"})
