"""Adding a built-in family is one file and one line in the registry: the family file below
(the mean-field uv model f = vᵀUx/n, as symbols and a generic numeric record) gets derive,
run, phases, a grid and the generic proofs with nothing else touched."""

import json
import sys
import textwrap

import pytest

from catapult_theory.families import REGISTRY, families, get_family
from catapult_theory.symbolic import MODELS, theory
from tests.cli.conftest import run_cli

FAMILY_FILE = '''
    """The mean-field uv model f = vᵀ U x / n."""

    import sympy as sp
    from sympy.matrices.expressions import MatrixSymbol

    from catapult_theory.families import SymbolicFamily
    from catapult_theory.symbolic import SymbolicModel
    from catapult_theory.symbolic import symbols as S

    d = sp.Symbol("d")


    def mean_field_uv_model():
        U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
        return SymbolicModel("mean-field-uv", (U, v), v.T * U * x / S.n, aliases=((x.T * x, S.x2),),
                             description="mean-field uv model f = v^T U x / n")


    FAMILIES = [SymbolicFamily("mean-field-uv", "mean-field uv model f = v^T U x / n", mean_field_uv_model)]
'''


@pytest.fixture
def added(tmp_path, monkeypatch):
    pkg = tmp_path / "more_families"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "mean_field_uv.py").write_text(textwrap.dedent(FAMILY_FILE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("catapult_theory.families._registry.REGISTRY", [*REGISTRY, "more_families.mean_field_uv"])
    monkeypatch.chdir(tmp_path)
    yield "mean-field-uv"
    MODELS.pop("mean-field-uv", None)
    theory.cache_clear()
    sys.modules.pop("more_families.mean_field_uv", None)
    sys.modules.pop("more_families", None)


def test_one_file_and_one_line_give_every_command(added, tmp_path, capsys):
    assert [f.name for f in families()][-1] == added and not get_family(added).symbols_only
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and "mean-field uv model f = v^T U x / n  [derive, run, phases]" in out
    code, out, _ = run_cli(capsys, "derive", added, "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["closed"] and d["thresholds"]["eta_max"] == "4/lam"
    code, out, _ = run_cli(capsys, "run", added, "--width", "60", "--eta-lambda", "3", "--steps", "200",
                           "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["phase"] == "catapult" and d["max_rel_dev"] < 1e-10
    code, out, _ = run_cli(capsys, "phases", added, "--width", "60", "--k-min", "0.5", "--k-max", "6", "--num", "12",
                           "--steps", "600", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["boundaries"]["divergence"] == pytest.approx(4.0, abs=0.01)
    (tmp_path / "g.toml").write_text(f'model = "{added}"\n[fixed]\nsteps = 300\nk = {{ min = 1, max = 6, num = 6 }}\n'
                                     '[axes]\nwidth = [20, 40]\n', encoding="utf-8")
    code, out, _ = run_cli(capsys, "grid", "g.toml", "--out", "g", "--scheduler", "synchronous", "--no-figures",
                           "--format", "json")
    assert code == 0 and json.loads(out)["cells"] == 2


def test_the_generic_proofs_take_the_new_family(added, capsys):
    import proofs

    get_family(added)  # the registry has loaded the family (as any command does)
    for tid in ("linear-onset", "weight-norm-identity", "weight-norm-decrease", "ntk-bound"):
        assert added in proofs.default_families(tid), tid
    code, out, _ = run_cli(capsys, "prove", "linear-onset", "--model", added)
    assert code == 0 and f"linear-onset[{added}]" in out and "proved" in out


def test_without_the_line_the_family_is_absent(capsys):
    assert "mean-field-uv" not in [f.name for f in families()]
    code, _, err = run_cli(capsys, "run", "mean-field-uv", "--width", "5", "--eta-lambda", "1", "--steps", "3")
    assert code == 2 and "mean-field-uv" in err
