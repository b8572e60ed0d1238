"""Every public definition of the package (functions, classes, their public methods) has a docstring."""

import ast
from pathlib import Path

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
