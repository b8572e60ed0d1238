"""The claim language: a whitelist over Python's ast, evaluated in floats and exactly."""

import builtins
from fractions import Fraction

import pytest
import sympy as sp

from catapult_theory.errors import InvalidInput
from catapult_theory.testing._expr import EXACT, FLOAT, Bound, Undefined, bounds_of, exact_sign, parse_expr_safe

NAMES = ["f", "lam", "w2", "eta", "y", "k", "w2_next", "phase", "converges"]


def _eval(text, env, arith=FLOAT):
    return arith.evaluate(parse_expr_safe(text, NAMES, strings=("catapult", "lazy")), env)


def test_arithmetic_comparisons_and_logic():
    env = {"f": 1.5, "lam": 2.0, "w2": 3.0, "eta": 0.5, "y": 0.0, "k": 1.0, "w2_next": 2.5, "phase": "catapult",
           "converges": True}
    assert _eval("w2_next < w2", env) is True
    assert _eval("0 < eta*lam <= 1", env) is True
    assert _eval("eta*lam < 1 or y == 0", env) is True
    assert _eval("not (f > 0 and lam ** 2 == 4)", env) is False
    assert _eval("abs(-f) + sqrt(lam**2) - max(w2, 1, 2) + min(f, 0) == log(exp(1.5)) - 1", env) is True
    assert _eval("-f / 3 == -0.5", env) is True
    assert _eval("phase == 'catapult' and converges", env) is True
    assert _eval("phase != 'lazy'", env) is True


def test_exact_arithmetic():
    env = {"f": sp.sqrt(2), "lam": sp.Integer(2), "w2": sp.Rational(1, 3), "eta": sp.Rational(1, 2), "y": 0,
           "k": 1, "w2_next": sp.Rational(1, 3), "phase": "lazy", "converges": False}
    assert _eval("f**2 == lam", env, EXACT) is True
    assert _eval("w2_next < w2", env, EXACT) is False
    assert _eval("w2 == 1/3", env, EXACT) is True      # 1/3 exactly, not the float 0.333...
    assert _eval("w2 == 0.3333333333333333", env, EXACT) is False
    assert _eval("sqrt(lam) == f", env, EXACT) is True


def test_exact_sign_decides_algebraic_zeros_and_tiny_numbers():
    assert exact_sign(sp.sqrt(5) + sp.sqrt(3) - sp.sqrt(8 + 2 * sp.sqrt(15))) == 0
    assert exact_sign(sp.sqrt(2) - sp.Rational(14142135623730950488016887242097, 10**31)) == -1
    assert exact_sign(sp.Rational(-1, 10**40)) == -1


def test_undefined_values():
    env = {"f": 0.0, "lam": 0.0, "w2": 1.0, "eta": 1.0, "y": 0.0, "k": 0.0, "w2_next": 1.0, "phase": "lazy",
           "converges": True}
    for text in ("w2 / lam < 1", "log(lam) < 0", "sqrt(-w2) < 1", "phase < 1", "10.0 ** 400 > 1"):
        with pytest.raises(Undefined):
            _eval(text, env)
    with pytest.raises(Undefined):
        _eval("w2 / lam < 1", {**env, "lam": sp.Integer(0), "w2": sp.Integer(1)}, EXACT)


@pytest.mark.parametrize("text, word", [
    ("w2_next < bogus", "bogus"),
    ("__import__('os').system('true')", "__import__"),
    ("f.__class__", "attribute access"),
    ("(lambda: 1)() < 2", "lambda"),
    ("[x for x in (1, 2)] == 1", "comprehension"),
    ("sum(x for x in (1, 2)) > 1", "sum"),
    ("{1: 2} == f", "dict"),
    ("f[0] > 0", "subscript"),
    ("(f := 1) > 0", "assignment expression"),
    ("f if f else lam", "conditional expression"),
    ("f'{f}' == 1", "f-string"),
    ("max(f, key=abs) > 0", "keyword"),
    ("abs(f, lam) > 0", "abs() takes 1 argument"),
    ("max(f) > 0", "two or more"),
    ("eta^2 < 1", "'**'"),
    ("y = 0", "=="),
    ("f <", "malformed"),
    ("phase == 'bogus'", "bogus"),
    ("open('x') == 1", "open"),
    ("f @ lam", "MatMult"),
    ("b'x' == f", "bytes"),
    ("", "empty"),
])
def test_malformed_or_smuggled_claims_are_rejected_naming_the_problem(text, word):
    with pytest.raises(InvalidInput, match=None) as info:
        parse_expr_safe(text, NAMES, strings=("catapult",))
    assert word in str(info.value)


def test_nothing_is_ever_evaluated_as_code(monkeypatch):
    """Parsing and evaluating never call eval, exec, sympify on text or parse_expr."""
    import sympy.parsing.sympy_parser as parser

    def forbidden(*a, **k):
        raise AssertionError("code evaluation")

    claim = parse_expr_safe("w2_next < w2 and eta*lam < 4", NAMES)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(parser, "parse_expr", forbidden)
    claim2 = parse_expr_safe("sqrt(w2) < 2 and abs(f) <= lam", NAMES)
    env = {"f": sp.Integer(1), "lam": sp.Integer(2), "w2": sp.Integer(3), "eta": sp.Rational(1, 2),
           "y": 0, "k": 1, "w2_next": sp.Integer(2), "phase": "lazy", "converges": True}
    assert EXACT.evaluate(claim, env) is True
    assert EXACT.evaluate(claim2, env) is True
    with pytest.raises(InvalidInput):
        parse_expr_safe("__import__('os').system('true')", NAMES)


def test_bounds_read_off_assumptions():
    def k_alias(e):
        return e.kind == "bin" and e.op == "*" and sorted(str(a.value) for a in e.args) == ["eta", "lam"]

    def b(text):
        return bounds_of(parse_expr_safe(text, NAMES), {"k": k_alias})

    assert b("y == 0") == [Bound("y", Fraction(0), Fraction(0))]
    assert b("eta*lam < 4") == [Bound("k", high=Fraction(4), high_strict=True)]
    assert b("4.5 > lam*eta") == [Bound("k", high=Fraction(4.5), high_strict=True)]
    assert b("2 <= k < 4") == [Bound("k", low=Fraction(2)), Bound("k", high=Fraction(4), high_strict=True)]
    assert b("k > -1/2") == [Bound("k", low=Fraction(-1, 2), low_strict=True)]
    assert b("f != 0") is None
    assert b("w2_next < w2") is None
    assert b("eta*lam < 4 and y == 0") is None
