"""A small, safe language for claims and assumptions about one GD step.

A claim such as ``w2_next < w2`` or ``eta*lam < 4 and y == 0`` is parsed with
Python's :mod:`ast` and accepted only if every node is on a whitelist: numbers,
the names the caller allows, ``+ - * / **``, comparisons (chained too),
``and``/``or``/``not``, and calls of ``abs``, ``sqrt``, ``log``, ``exp``,
``min``, ``max``. Nothing is ever passed to ``eval``, ``exec``, ``sympify`` or
``parse_expr``: those execute code. Attribute access, subscripts, lambdas,
comprehensions, keyword arguments and every other construct are rejected with
:class:`~catapult_theory.errors.InvalidInput` naming the construct; an unknown
name is rejected naming it.

A parsed :class:`Expr` is evaluated by a tree walk over one of two arithmetics:
floats (:data:`FLOAT`, fast, for the search) or exact SymPy numbers
(:data:`EXACT`: rationals and the algebraic numbers of the model's own
constants such as ``1/sqrt(n)``, signs decided exactly), so that a
counterexample found in floating point can be re-checked without rounding.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from ..errors import InvalidInput

__all__ = [
    "EXACT",
    "FLOAT",
    "FUNCTIONS",
    "Arithmetic",
    "Bound",
    "Expr",
    "Undefined",
    "bounds_of",
    "exact_sign",
    "parse_expr_safe",
]

#: longest claim text accepted (a claim is a formula, not a program)
MAX_LENGTH = 2000
#: deepest nesting accepted
MAX_DEPTH = 60
#: largest integer exponent evaluated exactly (beyond it the value is undefined)
MAX_EXACT_EXPONENT = 4096

#: the functions a claim may call, with their number of arguments (``None``: two or more)
FUNCTIONS: dict[str, int | None] = {"abs": 1, "sqrt": 1, "log": 1, "exp": 1, "min": None, "max": None}

_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_HINTS = {
    ast.BitXor: "'^' is not a power here: write '**'",
    ast.BitAnd: "'&' is not 'and': write 'and'",
    ast.BitOr: "'|' is not 'or': write 'or'",
    ast.FloorDiv: "'//' is not allowed: write '/'",
    ast.Mod: "'%' is not allowed",
}


class Undefined(ArithmeticError):
    """The expression has no value at this state (division by zero, log of a negative, overflow)."""


# ----------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class Expr:
    """A parsed, whitelisted expression: ``kind`` and its parts.

    ``kind`` is one of ``num`` (``value``), ``str`` (``value``), ``name``
    (``value`` the name), ``bin`` (``op``, ``args`` = 2), ``neg``, ``not``,
    ``and``/``or`` (``args``), ``cmp`` (``ops`` and ``args``, a chain) or
    ``call`` (``op`` the function, ``args``). ``text`` is the source segment.
    """

    kind: str
    text: str
    value: Any = None
    op: str = ""
    ops: tuple[str, ...] = ()
    args: tuple[Expr, ...] = ()

    def names(self) -> set[str]:
        """Every name the expression reads."""
        out = {self.value} if self.kind == "name" else set()
        for a in self.args:
            out |= a.names()
        return out

    def __str__(self) -> str:
        return self.text


def _segment(text: str, node: ast.AST) -> str:
    seg = ast.get_source_segment(text, node)
    return seg if seg is not None else type(node).__name__


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
        ast.ListComp: "comprehension", ast.SetComp: "comprehension", ast.DictComp: "comprehension",
        ast.GeneratorExp: "comprehension", ast.NamedExpr: "assignment expression", ast.IfExp: "conditional expression",
        ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set", ast.Starred: "starred expression",
        ast.JoinedStr: "f-string", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    }
    return kinds.get(type(node), type(node).__name__)


def parse_expr_safe(text: str, names: Mapping[str, str] | Sequence[str], *, what: str = "claim",
                    strings: Sequence[str] = ()) -> Expr:
    """Parse ``text`` into an :class:`Expr` over the whitelisted grammar.

    Parameters
    ----------
    text
        The expression (``"w2_next < w2"``).
    names
        The names it may read (a mapping gives each a meaning, listed in errors).
    what
        What the text is, for error messages (``claim``, ``assumption``).
    strings
        The string constants it may contain (the phase names).

    Raises
    ------
    InvalidInput
        For a syntax error, a construct off the whitelist, an unknown name or
        function, or a wrong number of arguments; the message names the problem.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a string, got {type(text).__name__}")
    src = text.strip()
    if not src:
        raise InvalidInput(f"empty {what}")
    if len(src) > MAX_LENGTH:
        raise InvalidInput(f"{what} is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        hint = ""
        if "=" in src and "==" not in src and not any(op in src for op in ("<=", ">=", "!=")):
            hint = " (write '==' for equality)"
        raise InvalidInput(f"malformed {what} {src!r}: {exc.msg}{hint}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise InvalidInput(f"malformed {what} {src!r}: {type(exc).__name__}") from None
    allowed = set(names)
    return _Converter(src, allowed, set(strings), what, names).convert(tree.body, 0)


class _Converter:
    def __init__(self, text: str, allowed: set[str], strings: set[str], what: str,
                 names: Mapping[str, str] | Sequence[str]) -> None:
        self.text, self.allowed, self.strings, self.what, self.names = text, allowed, strings, what, names

    def reject(self, node: ast.AST, why: str) -> InvalidInput:
        return InvalidInput(f"{why} in {self.what} {self.text!r}: {_segment(self.text, node)!r}")

    def convert(self, node: ast.AST, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise InvalidInput(f"{self.what} {self.text!r} is nested too deeply")
        seg = _segment(self.text, node)
        d = depth + 1
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return Expr("num", seg, value=v)
            if isinstance(v, (int, float)):
                if isinstance(v, float) and not math.isfinite(v):
                    raise self.reject(node, "a non-finite number")
                return Expr("num", seg, value=v)
            if isinstance(v, str):
                if v not in self.strings:
                    known = ", ".join(repr(s) for s in sorted(self.strings)) or "none"
                    raise self.reject(node, f"unknown string {v!r} (allowed: {known})")
                return Expr("str", seg, value=v)
            raise self.reject(node, f"a {type(v).__name__} constant is not allowed")
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self.reject(node, f"function {node.id!r} must be called")
            if node.id not in self.allowed:
                raise InvalidInput(f"unknown name {node.id!r} in {self.what} {self.text!r}; "
                                   f"known: {', '.join(sorted(self.allowed))}")
            return Expr("name", seg, value=node.id)
        if isinstance(node, ast.BinOp):
            op = _BIN.get(type(node.op))
            if op is None:
                raise self.reject(node, _HINTS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed"))
            return Expr("bin", seg, op=op, args=(self.convert(node.left, d), self.convert(node.right, d)))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Expr("neg", seg, args=(self.convert(node.operand, d),))
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, d)
            if isinstance(node.op, ast.Not):
                return Expr("not", seg, args=(self.convert(node.operand, d),))
            raise self.reject(node, "operator '~' is not allowed")
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return Expr(kind, seg, args=tuple(self.convert(v, d) for v in node.values))
        if isinstance(node, ast.Compare):
            ops = []
            for o in node.ops:
                sym = _CMP.get(type(o))
                if sym is None:
                    raise self.reject(node, f"comparison {type(o).__name__} is not allowed (use < <= > >= == !=)")
                ops.append(sym)
            args = (self.convert(node.left, d), *(self.convert(c, d) for c in node.comparators))
            return Expr("cmp", seg, ops=tuple(ops), args=args)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.reject(node, f"calling {_describe(node.func)} is not allowed")
            fn = node.func.id
            if fn not in FUNCTIONS:
                raise self.reject(node, f"unknown function {fn!r} (allowed: {', '.join(FUNCTIONS)})")
            if node.keywords:
                raise self.reject(node, "keyword arguments are not allowed")
            nargs = FUNCTIONS[fn]
            if any(isinstance(a, ast.Starred) for a in node.args):
                raise self.reject(node, "starred arguments are not allowed")
            if (nargs is None and len(node.args) < 2) or (nargs is not None and len(node.args) != nargs):
                want = "two or more arguments" if nargs is None else f"{nargs} argument"
                raise self.reject(node, f"{fn}() takes {want}")
            return Expr("call", seg, op=fn, args=tuple(self.convert(a, d) for a in node.args))
        raise self.reject(node, f"{_describe(node)} is not allowed")


# ----------------------------------------------------------------------------- arithmetic
@dataclass(frozen=True)
class Arithmetic:
    """How to compute: conversion of literals, the operators and the functions."""

    name: str
    number: Callable[[Any], Any]
    binary: Callable[[str, Any, Any], Any]
    function: Callable[[str, Sequence[Any]], Any]
    compare: Callable[[str, Any, Any], bool]

    def evaluate(self, e: Expr, env: Mapping[str, Any]) -> Any:
        """The value of ``e`` with the names in ``env`` (may raise :class:`Undefined`)."""
        k = e.kind
        if k == "num":
            return e.value if isinstance(e.value, bool) else self.number(e.value)
        if k == "str":
            return e.value
        if k == "name":
            return env[e.value]
        if k == "bin":
            a, b = (self.evaluate(x, env) for x in e.args)
            return self.binary(e.op, _numeric(a, e), _numeric(b, e))
        if k == "neg":
            return self.binary("*", self.number(-1), _numeric(self.evaluate(e.args[0], env), e))
        if k == "not":
            return not _truth(self.evaluate(e.args[0], env), e)
        if k == "and":
            return all(_truth(self.evaluate(x, env), e) for x in e.args)
        if k == "or":
            return any(_truth(self.evaluate(x, env), e) for x in e.args)
        if k == "cmp":
            vals = [self.evaluate(x, env) for x in e.args]
            return all(self._cmp(op, a, b) for op, a, b in zip(e.ops, vals, vals[1:]))
        if k == "call":
            return self.function(e.op, [_numeric(self.evaluate(x, env), e) for x in e.args])
        raise AssertionError(f"unknown node {k}")  # pragma: no cover - the parser builds only these

    def _cmp(self, op: str, a: Any, b: Any) -> bool:
        if isinstance(a, str) or isinstance(b, str):
            if op not in ("==", "!="):
                raise Undefined(f"strings compare only with == and != ({a!r} {op} {b!r})")
            return (a == b) == (op == "==")
        return self.compare(op, a, b)


def _numeric(v: Any, e: Expr) -> Any:
    if isinstance(v, str):
        raise Undefined(f"{v!r} is not a number in {e.text!r}")
    return int(v) if isinstance(v, bool) else v


def _truth(v: Any, e: Expr) -> bool:
    if isinstance(v, str):
        raise Undefined(f"{v!r} is not true or false in {e.text!r}")
    if isinstance(v, bool):
        return v
    return bool(v != 0)


# -- floats
def _fbin(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            out = a + b
        elif op == "-":
            out = a - b
        elif op == "*":
            out = a * b
        elif op == "/":
            out = a / b
        else:
            out = a ** b
    except (ZeroDivisionError, OverflowError) as exc:
        raise Undefined(str(exc)) from None
    if isinstance(out, complex) or not math.isfinite(out):
        raise Undefined(f"{a!r} {op} {b!r} is not a finite real number")
    return float(out)


def _ffun(name: str, args: Sequence[float]) -> float:
    try:
        if name == "abs":
            return abs(args[0])
        if name == "sqrt":
            return math.sqrt(args[0])
        if name == "log":
            return math.log(args[0])
        if name == "exp":
            return math.exp(args[0])
        if name == "min":
            return min(args)
        return max(args)
    except (ValueError, OverflowError) as exc:
        raise Undefined(f"{name}{tuple(args)}: {exc}") from None


def _fcmp(op: str, a: float, b: float) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


def _fnum(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:
        raise Undefined(f"{v} does not fit a float") from None


#: float arithmetic (the search)
FLOAT = Arithmetic("float", _fnum, _fbin, _ffun, _fcmp)


# -- exact
def exact_sign(x: sp.Expr) -> int:
    """The sign (−1, 0, 1) of a real SymPy number, decided exactly.

    Rationals are compared directly. Otherwise SymPy's ``evalf`` is asked for 30
    certified digits (``strict``: it raises its precision until the error bound
    is below them, or gives up); a number it cannot tell from 0 is settled by
    simplification (an exact zero such as ``sqrt(2)*sqrt(3) - sqrt(6)``).
    """
    x = sp.sympify(x)
    if x.is_Rational:
        return int(sp.sign(x))
    if x.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or x.is_real is False:
        raise Undefined(f"{x} is not a finite real number")
    if x.is_zero:
        return 0
    try:
        v = x.evalf(30, strict=True, maxn=3000)
    except PrecisionExhausted:
        v = None
    if v is not None:
        if not v.is_Number or v.has(sp.I):
            raise Undefined(f"{x} is not a real number")
        if v != 0:
            return 1 if v > 0 else -1
    if sp.simplify(sp.radsimp(x)) == 0:
        return 0
    raise Undefined(f"cannot decide the sign of {x}")


def _enum(v: Any) -> sp.Expr:
    if isinstance(v, float):
        return sp.Rational(Fraction(v))  # the literal's exact binary value
    return sp.Integer(v) if isinstance(v, int) else sp.sympify(v)


def _ebin(op: str, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    if op == "+":
        out = a + b
    elif op == "-":
        out = a - b
    elif op == "*":
        out = a * b
    elif op == "/":
        if exact_sign(b) == 0:
            raise Undefined("division by zero")
        out = a / b
    else:
        if b.is_Integer and abs(int(b)) > MAX_EXACT_EXPONENT:
            raise Undefined(f"exponent {b} too large to evaluate exactly")
        if not b.is_Integer and exact_sign(a) < 0:
            raise Undefined(f"({a})**({b}) is not real")
        if exact_sign(a) == 0 and exact_sign(b) < 0:
            raise Undefined("0 to a negative power")
        out = a ** b
    out = sp.expand(out) if out.is_Add or out.is_Mul else out
    if out.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I):
        raise Undefined(f"{a} {op} {b} is not a finite real number")
    return out


def _efun(name: str, args: Sequence[sp.Expr]) -> sp.Expr:
    if name == "abs":
        return -args[0] if exact_sign(args[0]) < 0 else args[0]
    if name == "sqrt":
        if exact_sign(args[0]) < 0:
            raise Undefined(f"sqrt of a negative number {args[0]}")
        return sp.sqrt(args[0])
    if name == "log":
        if exact_sign(args[0]) <= 0:
            raise Undefined(f"log of a non-positive number {args[0]}")
        return sp.log(args[0])
    if name == "exp":
        return sp.exp(args[0])
    best = args[0]
    for a in args[1:]:
        s = exact_sign(a - best)
        if (name == "min" and s < 0) or (name == "max" and s > 0):
            best = a
    return best


def _ecmp(op: str, a: sp.Expr, b: sp.Expr) -> bool:
    a, b = sp.sympify(a), sp.sympify(b)
    if a.is_infinite or b.is_infinite:  # a run that never converged: steps_to_converge = oo
        if a == b:
            s = 0
        else:
            s = -1 if (a == -sp.oo or b == sp.oo) else 1
        return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0, "==": s == 0, "!=": s != 0}[op]
    s = exact_sign(a - b)
    return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0, "==": s == 0, "!=": s != 0}[op]


#: exact arithmetic (the re-check): SymPy rationals and algebraic numbers
EXACT = Arithmetic("exact", _enum, _ebin, _efun, _ecmp)


# ----------------------------------------------------------------------------- bounds
@dataclass(frozen=True)
class Bound:
    """A bound read off an assumption: ``low``/``high`` on ``name`` (``None``: open),
    with strictness; ``low == high`` (both inclusive) fixes the value."""

    name: str
    low: Fraction | None = None
    high: Fraction | None = None
    low_strict: bool = False
    high_strict: bool = False


def _constant(e: Expr) -> Fraction | None:
    """The value of a constant expression of numbers (``4``, ``-1/2``, ``4.5``), else ``None``."""
    if e.kind == "num" and not isinstance(e.value, bool):
        return Fraction(e.value)
    if e.kind == "neg":
        v = _constant(e.args[0])
        return None if v is None else -v
    if e.kind == "bin" and e.op in "+-*/":
        a, b = _constant(e.args[0]), _constant(e.args[1])
        if a is None or b is None or (e.op == "/" and b == 0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else a}[e.op]
    return None


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def bounds_of(e: Expr, aliases: Mapping[str, Callable[[Expr], bool]] | None = None) -> list[Bound] | None:
    """The bounds an assumption states, or ``None`` when it is not a plain bound.

    A plain bound compares one name with a constant, or chains such comparisons
    (``0 <= a <= 1``, ``eta*lam < 4``, ``y == 0``); ``!=`` is never a bound.
    ``aliases`` maps a name to a predicate recognising other spellings of it
    (``k`` for ``eta*lam``).
    """
    if e.kind != "cmp" or "!=" in e.ops:
        return None
    aliases = aliases or {}

    def name_of(x: Expr) -> str | None:
        if x.kind == "name":
            return str(x.value)
        for n, spelled in aliases.items():
            if spelled(x):
                return n
        return None

    out: list[Bound] = []
    for op, a, b in zip(e.ops, e.args, e.args[1:]):
        na, nb = name_of(a), name_of(b)
        ca, cb = _constant(a), _constant(b)
        if na is not None and cb is not None:
            name, c = na, cb
        elif nb is not None and ca is not None:
            name, c, op = nb, ca, _FLIP[op]
        else:
            return None
        if op == "==":
            out.append(Bound(name, c, c))
        elif op in ("<", "<="):
            out.append(Bound(name, high=c, high_strict=op == "<"))
        else:
            out.append(Bound(name, low=c, low_strict=op == ">"))
    return out
