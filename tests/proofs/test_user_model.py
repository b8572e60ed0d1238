"""The generic theorems for a model family registered at run time."""

import pytest
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

import proofs
from catapult_theory.cli import main
from catapult_theory.symbolic import MODELS, SymbolicModel, register, symbols as S, theory


def _scaled_uv():
    """f = vᵀ U x / n (mean-field scaling): degree-2 homogeneous."""
    d = sp.Symbol("d")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    return SymbolicModel("mf-uv", (U, v), v.T * U * x / S.n, aliases=((x.T * x, S.x2),))


def _uvw():
    """f = wᵀ V U x / n: three blocks, degree 3."""
    d = sp.Symbol("d")
    U, V, w, x = (MatrixSymbol("U", S.n, d), MatrixSymbol("V", S.n, S.n), MatrixSymbol("w", S.n, 1),
                  MatrixSymbol("x", d, 1))
    return SymbolicModel("uvw", (U, V, w), w.T * V * U * x / S.n, aliases=((x.T * x, S.x2),))


@pytest.fixture
def registered():
    names = {"mf-uv": _scaled_uv, "uvw": _uvw}
    for name, builder in names.items():
        register(name, builder)
    yield names
    for name in names:
        MODELS.pop(name, None)
    theory.cache_clear()


def test_generic_theorems_prove_for_a_registered_degree_two_model(registered):
    res = proofs.prove(["linear-onset", "weight-norm-identity", "weight-norm-decrease", "ntk-bound"], ["mf-uv"])
    assert [r.model for r in res] == ["mf-uv"] * 4
    assert all(r.proved for r in res), [(r.theorem, r.failed_steps, r.error) for r in res]
    (nb,) = [r for r in res if r.theorem == "ntk-bound"]
    bound = next(s for s in nb.steps if s.name == "ntk-bound")
    assert "x2/n**2" in sp.sstr(bound.claim) and "z3" in bound.checked_by


def test_degree_three_model_proves_the_lemma_at_its_degree_and_not_the_ntk_bound(registered, capsys):
    (r,) = proofs.prove(["weight-norm-identity"], ["uvw"])
    assert r.proved  # at its own degree: Euler with 3, the lemma with 6
    assert "6*f" in sp.sstr(next(s.claim for s in r.steps if s.name == "one-datum"))
    assert main(["prove", "weight-norm-identity", "--model", "uvw"]) == 0
    assert main(["prove", "ntk-bound", "--model", "uvw"]) == 1  # no operator relation at degree 3
    assert main(["prove", "linear-onset", "--model", "uvw"]) == 0
    capsys.readouterr()


def test_a_model_without_aliases_proves_too():
    """xᵀx left as a word-algebra atom (no alias): the numeric checks evaluate it."""
    d = sp.Symbol("d")
    U, v, x = MatrixSymbol("U", S.n, d), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", d, 1)
    register("bare-uv", lambda: SymbolicModel("bare-uv", (U, v), v.T * U * x / sp.sqrt(S.n)))
    try:
        res = proofs.prove(None, ["bare-uv"])
        assert [r.theorem for r in res] == ["linear-onset", "weight-norm-identity", "weight-norm-decrease",
                                            "ntk-bound"]
        assert all(r.proved for r in res), [(r.theorem, r.failed_steps) for r in res]
    finally:
        MODELS.pop("bare-uv", None)
        theory.cache_clear()


def test_family_theorems_are_skipped_for_other_models(registered):
    assert proofs.theorems(["uv-map"], ["mf-uv"]) == []
