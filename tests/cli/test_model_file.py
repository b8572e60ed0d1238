"""A model FILE wherever a model name is taken: derive, export, falsify, prove (its numbers:
``tests/cli/test_model_file_numbers.py``); the documentation's own example file and test file;
one-line errors for broken files."""

import json

import pytest
from hypothesis import settings

from catapult_theory.cli import main
from catapult_theory.families import families
from catapult_theory.symbolic import MODELS
from tests.cli.conftest import docs_block as _docs_block
from tests.cli.conftest import run_cli

def test_the_documented_model_derives_in_one_command(mine, capsys):
    before = dict(MODELS)
    code, out, err = run_cli(capsys, "derive", "mine.py")
    assert code == 0 and err == ""
    assert out.startswith("mine: mean-field uv model")
    assert "closed in (f, lam, w2): yes" in out
    assert "homogeneity degree: 2" in out
    assert "weight-norm lemma: w2' - w2 = eta*r*(eta*lam*r - 4*f)" in out
    assert "eta_max = 4/lam" in out
    assert "K = x2/n**2" in out and "catapult window: 2 < k = eta lam0 < 4*lam*n**2/(w2*x2)" in out
    assert MODELS == before  # registered for the one command only
    assert "mine" not in [f.name for f in families()]


@pytest.mark.parametrize("fmt, marker", [("markdown", "| quantity | after one step |"),
                                         ("latex", r"\begin{align*}"), ("python", "def mine_step("),
                                         ("json", '"model": "mine"')])
def test_the_documented_model_exports_in_one_command(mine, fmt, marker, capsys):
    code, out, _ = run_cli(capsys, "derive", str(mine), "--format", fmt)
    assert code == 0 and marker in out
    if fmt == "json":
        data = json.loads(out)
        assert data["closed"] is True and data["K"] == "x2/n**2" and data["lemma"]["homogeneity_degree"] == 2
    if fmt == "python":
        ns: dict = {}
        exec(compile(out, "<mine>", "exec"), ns)
        f1, lam1, w21 = ns["mine_step"](1.0, 2.0, 3.0, 0.5, 0.0, 10.0, 1.0)
        assert w21 == pytest.approx(3.0 + 0.5 * (0.5 * 2.0 - 4.0))


def test_the_documented_model_falsifies_in_one_command(mine, capsys):
    lemma = ["--assume", "y == 0", "--assume", "f != 0", "--claim", "w2_next < w2", "--max-examples", "60"]
    code, out, _ = run_cli(capsys, "falsify", "mine.py", "--assume", "eta*lam < 4", *lemma)
    assert code == 0 and "no counterexample in 60 examples" in out
    code, out, _ = run_cli(capsys, "falsify", "mine.py", "--assume", "eta*lam < 4.5", *lemma, "--format", "json")
    assert code == 1
    cex = json.loads(out)["counterexample"]
    assert cex["lhs"] >= cex["rhs"] and cex["parameters"]["model"] == "mine"


def test_the_model_file_may_follow_the_options_of_falsify(mine, capsys):
    code, out, _ = run_cli(capsys, "falsify", "--claim", "w2 >= 0", "--max-examples", "5", "mine.py")
    assert code == 0 and "model: mine" in out


def test_the_documented_model_proves_the_generic_theorems(mine, capsys):
    code, out, _ = run_cli(capsys, "prove", "linear-onset", "--model", "mine.py")
    assert code == 0 and "linear-onset[mine]" in out and "proved" in out


def test_the_documented_test_file_runs(mine):
    """The documentation's user test file: its @given tests pass as written."""
    ns: dict = {"__name__": "test_my_conjecture"}
    exec(compile(_docs_block("# test_my_conjecture.py"), "test_my_conjecture.py", "exec"), ns)
    tests = [v for k, v in ns.items() if k.startswith("test_")]
    assert len(tests) == 5
    previous = settings.get_current_profile_name()
    settings.register_profile("catapult-theory-docs", parent=settings.get_profile(previous), max_examples=10)
    settings.load_profile("catapult-theory-docs")  # the user's profile governs their tests and searches
    try:
        for t in tests:
            t()
    finally:
        settings.load_profile(previous)


def test_a_builder_function(tmp_path, capsys):
    path = tmp_path / "built.py"
    path.write_text(_docs_block("# mine.py").replace("model = SymbolicModel(", "def make():\n    return SymbolicModel("),
                    encoding="utf-8")
    code, out, _ = run_cli(capsys, "derive", str(path), "--builder", "make", "--format", "json")
    assert code == 0 and json.loads(out)["model"] == "built"
    code, _, err = run_cli(capsys, "derive", str(path))
    assert code == 2 and "built.py" in err and "--builder" in err
    code, _, err = run_cli(capsys, "derive", "uv", "--builder", "make")
    assert code == 2 and "needs a model FILE" in err


def test_a_file_named_like_a_builtin_does_not_hide_it(tmp_path, capsys):
    path = tmp_path / "uv.py"
    path.write_text(_docs_block("# mine.py"), encoding="utf-8")
    code, out, _ = run_cli(capsys, "derive", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["model"] == "uv.py"
    code, out, _ = run_cli(capsys, "derive", "uv", "--format", "json")
    assert json.loads(out)["update"]["f"].endswith("/n + f") and "x2/n" == json.loads(out)["K"]


@pytest.mark.parametrize("source, problem", [
    ("x = = 1\n", "SyntaxError"),
    ("import sympy\n", "defines no module-level `model`"),
    ("model = 3\n", "not a SymbolicModel"),
    ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("def model():\n    raise KeyError('k')\n", "calling model() raised KeyError"),
    ("import sympy as sp\nfrom sympy.matrices.expressions import MatrixSymbol\n"
     "from catapult_theory.symbolic import SymbolicModel\n"
     "A = MatrixSymbol('A', 3, 3)\nx = MatrixSymbol('x', 3, 1)\n"
     "model = SymbolicModel('inv', (A,), x.T * A.I * x)\n", "cannot be derived"),
])
def test_a_broken_file_exits_2_with_one_line(tmp_path, source, problem, capsys):
    path = tmp_path / "broken.py"
    path.write_text(source, encoding="utf-8")
    before = dict(MODELS)
    for argv in (["derive", str(path)], ["falsify", str(path), "--claim", "f == f"],
                 ["prove", "linear-onset", "--model", str(path)]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == "", (argv, err)
        assert err.count("\n") == 1 and "broken.py" in err and problem in err, err
    assert MODELS == before


def test_missing_file_and_a_run_without_its_flags(tmp_path, mine, capsys):
    code, _, err = run_cli(capsys, "derive", str(tmp_path / "nowhere.py"))
    assert code == 2 and "no such model file" in err
    code, _, err = run_cli(capsys, "run", "mine.py", "--width", "3")
    assert code == 2 and err.count("\n") == 1 and "--eta-lambda, --steps" in err


def test_help_says_that_loading_runs_the_file(capsys):
    for argv in (["derive", "--help"], ["run", "--help"], ["phases", "--help"], ["falsify", "--help"],
                 ["prove", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = " ".join(capsys.readouterr().out.split())
        assert ".py" in out and "conftest.py" in out


def test_the_falsify_options_taking_a_value_are_all_known_to_the_file_lookup():
    """Before parsing, a model FILE of ``falsify`` is the first ``.py`` that is no option's
    value: the list of valued options must be the parser's (``--builder`` is removed first)."""
    import argparse

    from catapult_theory.cli import _build_parser
    from catapult_theory.cli._model_file import _VALUED

    parser, _ = _build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    valued = {o for a in sub.choices["falsify"]._actions if a.option_strings and a.nargs != 0
              for o in a.option_strings if o.startswith("--")}
    assert set(_VALUED) == valued - {"--builder"}


_CLASH = """
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol
from catapult_theory.symbolic import SymbolicModel
from catapult_theory.symbolic import symbols as S
d, s = sp.Symbol("d"), sp.Symbol("{name}")
U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
model = SymbolicModel("mine", (U, v), s * v.T * U * x / sp.sqrt(S.n){aliases})
"""


@pytest.mark.parametrize("name", ["lam", "eta", "f", "y", "w2", "r"])
def test_a_file_scalar_named_like_a_state_or_step_symbol_is_refused(name, tmp_path, capsys):
    """f = lam vᵀUx/√n derived with exit 0 and the scalar merged into the state before."""
    path = tmp_path / "clash.py"
    path.write_text(_CLASH.format(name=name, aliases=", aliases=((x.T * x, S.x2),)"))
    for argv in (["derive", str(path)], ["prove", "linear-onset", "--model", str(path)]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == "", (argv, out)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and f"clash.py: model 'mine': the scalar '{name}' is named like" in lines[0]


@pytest.mark.parametrize("aliases", ["", ", aliases=((x.T * x, S.x2),)"])
def test_every_format_of_a_file_is_valid_with_and_without_aliases(aliases, tmp_path, capsys):
    import ast

    path = tmp_path / "scaled.py"
    path.write_text(_CLASH.format(name="c", aliases=aliases))
    code, out, _ = run_cli(capsys, "derive", str(path), "--format", "python")
    assert code == 0
    ast.parse(out)
    ns: dict = {}
    exec(compile(out, "scaled", "exec"), ns)
    assert "scaled_step" in ns
    code, out, _ = run_cli(capsys, "derive", str(path), "--format", "json")
    data = json.loads(out)
    assert data["data_invariants"] == ({} if aliases else {"xTx": "xᵀ x"})
    assert all("[" not in e for e in data["update"].values())
