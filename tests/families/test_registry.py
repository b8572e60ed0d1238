"""One registry of model families; a family registered from outside never hides the built-ins."""

import json

import pytest
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.cli import main
from catapult_theory.families import BUILTIN, families, get_family
from catapult_theory.symbolic import MODELS, SymbolicModel, register, symbols as S, theory

BUILTIN_NAMES = ["uv", "pure-quadratic", "quadratic-bias", "two-layer", "three-layer"]
#: the families with bounds in the symbolic catalogue (three-layer's degree-3 window is its own)
CATALOGUE_NAMES = BUILTIN_NAMES[:4]


def _uvw():
    """f = wᵀ V U x / n: three parameter blocks, degree 3."""
    d = sp.Symbol("d")
    U, V, w, x = (MatrixSymbol("U", S.n, d), MatrixSymbol("V", S.n, S.n), MatrixSymbol("w", S.n, 1),
                  MatrixSymbol("x", d, 1))
    return SymbolicModel("uvw", (U, V, w), w.T * V * U * x / S.n, aliases=((x.T * x, S.x2),),
                         description="three-block uvw model")


@pytest.fixture
def uvw():
    register("uvw", _uvw)
    yield "uvw"
    MODELS.pop("uvw", None)
    theory.cache_clear()


def test_builtin_families_in_order_with_all_their_parts():
    fams = BUILTIN()
    assert [f.name for f in fams] == BUILTIN_NAMES
    for f in fams:
        assert not f.symbols_only and f.report_section and f.data_specs
        assert f.model().name == f.name
        assert set(f.commands()) == {"derive", "run", "phases"}


@pytest.mark.parametrize("name", CATALOGUE_NAMES)
def test_every_bound_constant_has_a_numeric_provider(name):
    fam = get_family(name)
    bounds = fam.bounds()
    assert bounds
    for spec in bounds.values():
        missing = spec.k_max.free_symbols - set(fam.constants)
        assert not missing, (name, spec.name, missing)


def test_a_family_registered_from_outside_joins_without_hiding_the_builtins(uvw, capsys):
    assert [f.name for f in families()] == BUILTIN_NAMES + ["uvw"]
    assert get_family("uvw").symbols_only
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in BUILTIN_NAMES:
        assert out.count(f"{name} ") >= 1
    assert "uvw" in out and "three-block uvw model  [derive]" in out
    # the new family derives; the built-ins still derive and run
    assert main(["derive", "uvw", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "uvw" and data["closed"] is False
    assert "6*f" in data["update"]["w2"]  # degree 3: θ·∇f = 3f doubles to 6f
    assert main(["derive", "uv", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["thresholds"]["eta_max"] == "4/lam"
    assert main(["run", "uv", "--width", "50", "--eta-lambda", "1", "--steps", "20", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["phase"] == "lazy"
    # commands that need numbers are not offered for a symbols-only family
    assert main(["run", "uvw", "--width", "5"]) == 2
    assert "uvw" in capsys.readouterr().err
    # the generic proofs run on it: the onset and the lemma at its degree 3 hold, the NTK bound needs degree 2
    assert main(["prove", "linear-onset", "--model", "uvw"]) == 0
    assert main(["prove", "weight-norm-identity", "--model", "uvw"]) == 0
    assert main(["prove", "ntk-bound", "--model", "uvw"]) == 1
    capsys.readouterr()


def test_unknown_family():
    with pytest.raises(ValueError, match="known: uv"):
        get_family("nope")
