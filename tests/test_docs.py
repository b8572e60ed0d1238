"""Every public definition of the engine (functions, classes, their public methods) has a docstring."""

import ast
from pathlib import Path

import catapult_theory.engine

ENGINE = Path(catapult_theory.engine.__file__).parent
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


def test_public_engine_definitions_have_docstrings():
    missing = []
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if ast.get_docstring(tree) is None:
            missing.append(f"{path.name}: module")
        missing += [f"{path.name}: {name}" for name in _undocumented(tree)]
    assert not missing, missing
