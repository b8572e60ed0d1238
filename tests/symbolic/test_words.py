"""The word algebra: every symbolic result is checked numerically at random matrices."""

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions import Identity, MatrixSymbol

from catapult_theory.symbolic import Algebra, UnsupportedExpression
from tests.tolerances import EXACT, assert_close

n, d, m = sp.symbols("n d m")
U = MatrixSymbol("U", n, d)
v = MatrixSymbol("v", n, 1)
x = MatrixSymbol("x", d, 1)
psi = MatrixSymbol("psi", m, m)
th = MatrixSymbol("theta", m, 1)


def _uv_values(rng, nn=7, dd=3):
    return {"U": rng.standard_normal((nn, dd)), "v": rng.standard_normal(nn), "x": rng.standard_normal(dd)}


def test_scalar_and_trace_match_numbers(rng):
    A = Algebra()
    vals = _uv_values(rng)
    expr = A.scalarize(v.T * U * x * x.T * x) + A.scalarize(sp.Trace(U.T * U * x * x.T))
    Un, vn, xn = vals["U"], vals["v"], vals["x"]
    want = vn @ Un @ xn * (xn @ xn) + np.trace(Un.T @ Un @ np.outer(xn, xn))
    assert_close(A.evaluate(expr, vals), want, **EXACT)


def test_transposed_words_are_one_atom():
    A = Algebra()
    a = A.scalarize(v.T * U * x)
    b = A.scalarize(x.T * U.T * v)
    assert a == b
    assert A.scalarize(sp.Trace(U * U.T)) == A.scalarize(sp.Trace(U.T * U))


def test_inner_scalars_are_pulled_out_of_words():
    A = Algebra()
    p = A.poly(v * x.T * x * x.T)
    ((word, coeff),) = p.terms.items()
    assert [str(f) for f in word] == ["v", "xᵀ"]
    assert A.atoms_of(coeff)


@pytest.mark.parametrize("sym", [U, v])
def test_gradient_matches_finite_differences(rng, sym):
    A = Algebra()
    f = A.scalarize(v.T * U * x) ** 2 + A.scalarize(sp.Trace(U.T * U)) * A.scalarize(v.T * v)
    vals = _uv_values(rng)
    g = A.grad(f, sym)
    # evaluate the gradient matrix entrywise through inner products with unit matrices
    base = vals[sym.name]
    num = np.zeros_like(base)
    h = 1e-6
    for idx in np.ndindex(base.shape):
        up = {**vals, sym.name: base.copy()}
        dn = {**vals, sym.name: base.copy()}
        up[sym.name][idx] += h
        dn[sym.name][idx] -= h
        num[idx] = (A.evaluate(f, up) - A.evaluate(f, dn)) / (2 * h)
    E = MatrixSymbol("E", *sym.shape)
    for idx in np.ndindex(base.shape):
        unit = np.zeros(base.shape)
        unit[idx] = 1.0
        comp = A.inner(A.poly(E), g)
        val = A.evaluate(comp, {**vals, "E": unit})
        assert_close(val, num[idx], rtol=1e-6, atol=1e-6, what=f"d f / d {sym.name}{idx}")


def test_symmetric_symbols_and_rules(rng):
    kappa = sp.Symbol("kappa")
    A = Algebra(symmetric=[psi], rules=[(psi * psi, kappa * Identity(m))])
    e = A.scalarize(th.T * psi * psi * psi * th)
    assert sp.simplify(e - kappa * A.scalarize(th.T * psi * th)) == 0
    # psi^T psi = psi psi because psi is symmetric
    assert sp.simplify(A.scalarize(th.T * psi.T * psi * th) - kappa * A.scalarize(th.T * th)) == 0


def test_rule_must_shorten_words():
    with pytest.raises(ValueError, match="shorten"):
        Algebra(rules=[(psi, psi * psi)])


def test_unsupported_constructs_fail_loudly():
    A = Algebra()
    with pytest.raises(UnsupportedExpression, match="matrix elements"):
        A.scalarize(U[0, 0])
    with pytest.raises(UnsupportedExpression, match="HadamardProduct"):
        A.poly(sp.HadamardProduct(U, U))


def test_substitution_is_a_gradient_step(rng):
    A = Algebra()
    f = A.scalarize(v.T * U * x / sp.sqrt(n))
    eta = sp.Symbol("eta")
    step = {p: A.sub(A.poly(p), A.scale(A.grad(f, p), eta)) for p in (U, v)}
    f_next = A.substitute(f, step)
    vals = _uv_values(rng)
    Un, vn, xn = vals["U"], vals["v"], vals["x"]
    nn = Un.shape[0]
    etan = 0.37
    U1 = Un - etan * np.outer(vn, xn) / np.sqrt(nn)
    v1 = vn - etan * Un @ xn / np.sqrt(nn)
    want = v1 @ U1 @ xn / np.sqrt(nn)
    got = A.evaluate(f_next, vals, {eta: etan, n: nn})
    assert_close(got, want, **EXACT)
