"""Records on disk that never run code when read: a whitelisted object graph as JSON.

The caches of the package (derived theories, :mod:`catapult_theory.symbolic`; finished
experiments of a report folder, :mod:`catapult_theory.report`) live in folders other
people may be able to write (a shared ``CATAPULT_CACHE_DIR``, a report folder copied
from someone else). So they are never pickles: a pickle runs whatever its author put
in it when it is loaded. A record is plain JSON, and reading it builds only:

* JSON's own values (``None``, booleans, integers, floats, strings), lists, and
  tuples, dicts (any keys), sets, complex numbers and bytes, tagged;
* SymPy expressions, from a table of nodes: a leaf is a ``Symbol``/``Dummy`` (a name
  and boolean assumptions), an ``Integer``, ``Rational``, ``Float`` (its binary
  digits), ``Str`` or an undefined function's name; every other node is a SymPy class
  *looked up by name in SymPy's own namespace* (never imported from a name in the
  file) applied to earlier nodes, with evaluation off (``func(*args)`` rebuilds
  ``expr``). No string ever reaches ``sympify`` or ``parse_expr`` (which use ``eval``);
* NumPy arrays and scalars of plain numeric, boolean or string dtypes, from their bytes
  (an array of ``object`` dtype element by element, each element one of these values);
* instances of the package's own data classes (dataclasses, enumerations and the few
  plain classes in :data:`PLAIN`, all defined in ``catapult_theory``): the object is
  made with ``object.__new__`` and its attributes set from the record; no method of
  the class runs, except that a class may say how it is stored: ``_record_state()``
  (the attributes to store) and the class method ``_record_restore(state)`` (the
  instance from them; e.g. a derived law that holds compiled functions is stored as
  nothing and derived again). Functions are never stored (not even by name).

A record file is one header line (``{"format", "key", ...}``) and the body: the key is
read and compared first (:func:`read`), and only a record with the expected key has
its body parsed. Anything else in a file (an unknown tag, class or dtype, a
reference out of range, malformed JSON) is :class:`RecordError`: the caller treats
the entry as missing and computes it again.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
import math
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "PLAIN", "RecordError", "decode", "dumps", "encode", "read", "write"]

#: layout of a record (header and body); part of the header
FORMAT = 1
#: the first bytes of every record file
MAGIC = "catapult-record"
#: plain (non-dataclass) classes of the package whose instances a record may hold
PLAIN = frozenset({
    "catapult_theory.symbolic._derive:Derivation",
    "catapult_theory.symbolic._words:Algebra",
    "catapult_theory.experiments._boundaries:BoundaryMap",
})
_MODULE_RE = re.compile(r"catapult_theory(\.[A-Za-z_][A-Za-z0-9_]*)*")
_QUALNAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_ARRAY_KINDS = frozenset("biufcUS")
_ASSUMPTION_RE = re.compile(r"[a-z_]+")


class RecordError(ValueError):
    """A record that cannot be read back (malformed, another format, a forbidden type):
    the entry is treated as missing."""


# ----------------------------------------------------------------------------- SymPy
@cache
def _sympy_classes() -> dict[str, type]:
    """SymPy's expression classes by name: its public namespace, its numbers (singleton
    classes) and matrix expressions; a name maps to a class only when it is unambiguous."""
    import sympy as sp
    import sympy.core.numbers as numbers
    import sympy.core.relational as relational
    import sympy.core.symbol as symbol
    import sympy.logic.boolalg as boolalg
    import sympy.matrices.expressions as matexpr

    out: dict[str, type] = {}
    clash: set[str] = set()
    for space in (sp, numbers, relational, symbol, boolalg, matexpr):
        for name, obj in vars(space).items():
            if isinstance(obj, type) and issubclass(obj, sp.Basic) and not name.startswith("_"):
                if out.get(name, obj) is not obj:
                    clash.add(name)
                out[name] = obj
    for name in clash:
        out.pop(name)
    return out


class _SymPyTable:
    """The node table of the SymPy expressions in one record (shared subexpressions once)."""

    def __init__(self) -> None:
        self.nodes: list[list[Any]] = []
        self._index: dict[int, int] = {}
        self._keep: list[Any] = []  # the objects whose ids are in _index stay alive

    def add(self, e: Any) -> int:
        found = self._index.get(id(e))
        if found is not None:
            return found
        node = self._node(e)
        self.nodes.append(node)
        i = len(self.nodes) - 1
        self._index[id(e)] = i
        self._keep.append(e)
        return i

    def _node(self, e: Any) -> list[Any]:
        import sympy as sp
        from sympy.core.function import AppliedUndef
        from sympy.core.symbol import Str

        if isinstance(e, sp.Dummy):
            return ["Dummy", e.name, int(e.dummy_index), _assumptions(e)]
        if isinstance(e, sp.Symbol):
            if type(e) is not sp.Symbol:
                raise TypeError(f"cannot store the symbol {e!r} of type {type(e).__name__}")
            return ["Symbol", e.name, _assumptions(e)]
        if isinstance(e, sp.Integer):
            return ["Integer", int(e)]
        if isinstance(e, sp.Rational):
            return ["Rational", int(e.p), int(e.q)]
        if isinstance(e, sp.Float):
            sign, man, exp, bc = e._mpf_
            return ["Float", [int(sign), int(man), int(exp), int(bc)], int(e._prec)]
        if isinstance(e, Str):
            return ["Str", str(e.name)]
        if isinstance(e, AppliedUndef):
            return ["Undef", str(e.func.__name__), [self.add(a) for a in e.args]]
        name = type(e).__name__
        if _sympy_classes().get(name) is not type(e):
            raise TypeError(f"cannot store the SymPy object {e!r} of type {name}")
        if not e.args:  # type: ignore[attr-defined]
            from sympy.core.singleton import S

            if getattr(S, name, None) is not e:
                raise TypeError(f"cannot store the SymPy atom {e!r} of type {name}")
        return ["@" + name, [self.add(a) for a in e.args]]


def _assumptions(s: Any) -> dict[str, bool]:
    orig = getattr(s, "_assumptions_orig", None)
    if orig is None:  # pragma: no cover - SymPy < 1.7
        orig = s.assumptions0
    return {str(k): bool(v) for k, v in orig.items() if v is not None}


def _build_sympy(nodes: Any) -> list[Any]:
    """The expressions of a node table, each built from earlier ones only."""
    import sympy as sp
    from sympy.core.symbol import Str

    if not isinstance(nodes, list):
        raise RecordError("the SymPy table is not a list")
    classes = _sympy_classes()
    out: list[Any] = []

    def ref(i: Any) -> Any:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(out):
            raise RecordError(f"SymPy node reference {i!r} out of range")
        return out[i]

    def name_of(v: Any) -> str:
        if not isinstance(v, str):
            raise RecordError(f"a name must be a string, got {v!r}")
        return v

    def assumptions(v: Any) -> dict[str, bool]:
        if not isinstance(v, dict) or not all(isinstance(k, str) and _ASSUMPTION_RE.fullmatch(k)
                                              and isinstance(b, bool) for k, b in v.items()):
            raise RecordError(f"malformed assumptions {v!r}")
        return v

    def integer(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise RecordError(f"expected an integer, got {v!r}")
        return v

    with sp.evaluate(False):
        for node in nodes:
            if not isinstance(node, list) or not node or not isinstance(node[0], str):
                raise RecordError(f"malformed SymPy node {node!r}")
            tag, rest = node[0], node[1:]
            try:
                if tag == "Symbol" and len(rest) == 2:
                    out.append(sp.Symbol(name_of(rest[0]), **assumptions(rest[1])))
                elif tag == "Dummy" and len(rest) == 3:
                    out.append(sp.Dummy(name_of(rest[0]), dummy_index=integer(rest[1]), **assumptions(rest[2])))
                elif tag == "Integer" and len(rest) == 1:
                    out.append(sp.Integer(integer(rest[0])))
                elif tag == "Rational" and len(rest) == 2:
                    out.append(sp.Rational(integer(rest[0]), integer(rest[1])))
                elif tag == "Float" and len(rest) == 2 and isinstance(rest[0], list) and len(rest[0]) == 4:
                    sign, man, exp, bc = (integer(v) for v in rest[0])
                    out.append(sp.Float._new((sign, man, exp, bc), integer(rest[1])))
                elif tag == "Str" and len(rest) == 1:
                    out.append(Str(name_of(rest[0])))
                elif tag == "Undef" and len(rest) == 2 and isinstance(rest[1], list):
                    out.append(sp.Function(name_of(rest[0]))(*(ref(i) for i in rest[1])))
                elif tag.startswith("@") and len(rest) == 1 and isinstance(rest[0], list):
                    cls = classes.get(tag[1:])
                    if cls is None:
                        raise RecordError(f"unknown SymPy class {tag[1:]!r}")
                    args = [ref(i) for i in rest[0]]
                    out.append(cls(*args) if args else cls())
                else:
                    raise RecordError(f"malformed SymPy node {node!r}")
            except RecordError:
                raise
            except Exception as exc:  # noqa: BLE001 - a node SymPy refuses: the record is unusable
                raise RecordError(f"SymPy node {node!r} cannot be built: {type(exc).__name__}") from None
    return out


# ----------------------------------------------------------------------------- objects
def _class_ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _allowed_class(cls: type) -> bool:
    ref = _class_ref(cls)
    if not _MODULE_RE.fullmatch(cls.__module__) or not _QUALNAME_RE.fullmatch(cls.__qualname__):
        return False
    return ref in PLAIN or dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)


def _resolve_class(ref: Any) -> type:
    """The class a record names: a package class of an allowed kind, or :class:`RecordError`."""
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise RecordError(f"malformed class reference {ref!r}")
    module, qualname = ref.split(":")
    if not _MODULE_RE.fullmatch(module) or not _QUALNAME_RE.fullmatch(qualname):
        raise RecordError(f"class {ref!r} is not one of the package's")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise RecordError(f"no class {ref!r}") from None
    if not isinstance(obj, type) or _class_ref(obj) != ref or not _allowed_class(obj):
        raise RecordError(f"{ref!r} is not a data class of the package")
    return obj


class _Encoder:
    def __init__(self) -> None:
        self.sympy = _SymPyTable()
        self._active: set[int] = set()

    def enc(self, v: Any) -> Any:
        import numpy as np
        import sympy as sp

        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, enum.Enum):
            cls = type(v)
            if not _allowed_class(cls):
                raise TypeError(f"cannot store {v!r}: {_class_ref(cls)} is not a class of the package")
            return {"E": [_class_ref(cls), self.enc(v.value)]}
        if isinstance(v, int) and type(v) is int:
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"f": repr(v)}
        if type(v) is complex:
            return {"C": [self.enc(v.real), self.enc(v.imag)]}
        if isinstance(v, bytes) and type(v) is bytes:
            return {"B": base64.b64encode(v).decode("ascii")}
        if isinstance(v, sp.Basic):
            return {"X": self.sympy.add(v)}
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject and v.dtype.kind == "O":  # each element stored as a value
                return {"AO": [list(v.shape), [self.enc(x) for x in v.reshape(-1).tolist()]]}
            return {"A": _array(v)}
        if isinstance(v, np.generic):
            arr = np.asarray(v)
            return {"N": _array(arr.reshape(1))}
        key = id(v)
        if key in self._active:
            raise TypeError("cannot store a cyclic structure")
        self._active.add(key)
        try:
            if type(v) is list:
                return [self.enc(x) for x in v]
            if type(v) is tuple:
                return {"T": [self.enc(x) for x in v]}
            if type(v) is dict:
                return {"D": [[self.enc(k), self.enc(x)] for k, x in v.items()]}
            if type(v) in (set, frozenset):
                return {"S" if type(v) is set else "F": [self.enc(x) for x in v]}
            cls = type(v)
            if not isinstance(cls, type) or not _allowed_class(cls) or isinstance(v, type) or callable(v) and not (
                    dataclasses.is_dataclass(cls)):
                raise TypeError(f"cannot store a value of type {cls.__module__}.{cls.__qualname__}")
            hook = getattr(cls, "_record_state", None)
            state = hook(v) if hook is not None else getattr(v, "__dict__", None)
            if state is None:
                raise TypeError(f"cannot store {_class_ref(cls)}: its instances have no __dict__")
            out: dict[str, Any] = {"O": [_class_ref(cls), [[k, self.enc(x)] for k, x in state.items()]]}
            if isinstance(v, dict):
                out["I"] = [[self.enc(k), self.enc(x)] for k, x in v.items()]
            elif isinstance(v, (list, tuple, set)):
                raise TypeError(f"cannot store the container subclass {_class_ref(cls)}")
            return out
        finally:
            self._active.discard(key)


def _array(a: Any) -> list[Any]:
    import numpy as np

    a = np.asarray(a, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    if a.dtype.kind not in _ARRAY_KINDS or a.dtype.hasobject:
        raise TypeError(f"cannot store an array of dtype {a.dtype}")
    return [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode("ascii")]


def _unarray(v: Any) -> Any:
    import numpy as np

    if not isinstance(v, list) or len(v) != 3 or not isinstance(v[0], str) or not isinstance(v[1], list) \
            or not isinstance(v[2], str):
        raise RecordError("malformed array")
    if not re.fullmatch(r"[<>|=]?[biufcUS][0-9]{1,4}", v[0]):
        raise RecordError(f"array dtype {v[0]!r} not allowed")
    dtype = np.dtype(v[0])
    if dtype.kind not in _ARRAY_KINDS or dtype.hasobject:
        raise RecordError(f"array dtype {v[0]!r} not allowed")
    shape = v[1]
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise RecordError("malformed array shape")
    try:
        data = base64.b64decode(v[2], validate=True)
    except ValueError:
        raise RecordError("malformed array data") from None
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise RecordError("array data does not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


class _Decoder:
    def __init__(self, sympy_nodes: list[Any]) -> None:
        self.sympy = sympy_nodes

    def dec(self, v: Any, depth: int = 0) -> Any:
        if depth > 200:
            raise RecordError("record nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        d = depth + 1
        if isinstance(v, list):
            return [self.dec(x, d) for x in v]
        if not isinstance(v, dict) or len(v) not in (1, 2):
            raise RecordError(f"malformed value {str(v)[:80]}")
        tag = next(iter(v))
        body = v[tag]
        if len(v) == 2 and set(v) != {"O", "I"}:
            raise RecordError(f"malformed value {str(v)[:80]}")
        if tag == "f" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "X":
            if isinstance(body, bool) or not isinstance(body, int) or not 0 <= body < len(self.sympy):
                raise RecordError(f"SymPy reference {body!r} out of range")
            return self.sympy[body]
        if tag == "A":
            return _unarray(body)
        if tag == "AO" and isinstance(body, list) and len(body) == 2 and isinstance(body[0], list) \
                and isinstance(body[1], list):
            import numpy as np

            shape = body[0]
            if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape) \
                    or math.prod(shape) != len(body[1]):
                raise RecordError("malformed object array")
            arr = np.empty(len(body[1]), dtype=object)
            for i, x in enumerate(body[1]):
                arr[i] = self.dec(x, d)
            return arr.reshape(shape)
        if tag == "N":
            arr = _unarray(body)
            if arr.shape != (1,):
                raise RecordError("malformed NumPy scalar")
            return arr[0]
        if tag == "B" and isinstance(body, str):
            try:
                return base64.b64decode(body, validate=True)
            except ValueError:
                raise RecordError("malformed bytes") from None
        if tag == "C" and isinstance(body, list) and len(body) == 2:
            re_, im = (self.dec(x, d) for x in body)
            if not isinstance(re_, float) or not isinstance(im, float):
                raise RecordError("malformed complex number")
            return complex(re_, im)
        if tag in ("T", "S", "F") and isinstance(body, list):
            items = [self.dec(x, d) for x in body]
            try:
                return tuple(items) if tag == "T" else set(items) if tag == "S" else frozenset(items)
            except TypeError:
                raise RecordError("unhashable set member") from None
        if tag == "D" and isinstance(body, list):
            return dict(self._pairs(body, d))
        if tag == "E" and isinstance(body, list) and len(body) == 2:
            cls = _resolve_class(body[0])
            if not issubclass(cls, enum.Enum):
                raise RecordError(f"{body[0]!r} is not an enumeration")
            try:
                return cls(self.dec(body[1], d))
            except ValueError:
                raise RecordError(f"no member {body[1]!r} of {body[0]!r}") from None
        if tag == "O" and isinstance(body, list) and len(body) == 2 and isinstance(body[1], list):
            cls = _resolve_class(body[0])
            if issubclass(cls, enum.Enum):
                raise RecordError(f"{body[0]!r} is an enumeration")
            obj = dict.__new__(cls) if issubclass(cls, dict) else object.__new__(cls)
            for name, value in self._pairs(body[1], d):
                if not isinstance(name, str) or not _QUALNAME_RE.fullmatch(name) or "." in name:
                    raise RecordError(f"malformed attribute name {name!r}")
                object.__setattr__(obj, name, value)
            if "I" in v:
                if not isinstance(obj, dict) or not isinstance(v["I"], list):
                    raise RecordError("items for a class that is not a dict")
                dict.update(obj, self._pairs(v["I"], d))
            restore = getattr(cls, "_record_restore", None)
            if restore is not None:
                return restore(dict(vars(obj)))
            return obj
        raise RecordError(f"unknown tag {tag!r}")

    def _pairs(self, body: list[Any], depth: int) -> list[tuple[Any, Any]]:
        out = []
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise RecordError("malformed pair")
            k = self.dec(pair[0], depth)
            try:
                hash(k)
            except TypeError:
                raise RecordError("unhashable key") from None
            out.append((k, self.dec(pair[1], depth)))
        return out


def encode(value: Any) -> dict[str, Any]:
    """``value`` as a JSON-able structure ``{"sympy": [...], "value": ...}``; ``TypeError``
    for anything a record cannot hold (a function, a foreign class, an object array)."""
    e = _Encoder()
    out = e.enc(value)
    return {"sympy": e.sympy.nodes, "value": out}


def decode(data: Any) -> Any:
    """The value of an :func:`encode` structure; :class:`RecordError` for anything else."""
    if not isinstance(data, dict) or set(data) != {"sympy", "value"}:
        raise RecordError("malformed record body")
    return _Decoder(_build_sympy(data["sympy"])).dec(data["value"])


# ----------------------------------------------------------------------------- files
def dumps(key: str, value: Any, **header: Any) -> bytes:
    """The bytes of a record file: the header line (``format``, ``key`` and ``header``),
    then the body. ``TypeError`` when ``value`` cannot be stored."""
    body = json.dumps(encode(value), separators=(",", ":"))
    head = json.dumps({"magic": MAGIC, "format": FORMAT, "key": key, **header}, separators=(",", ":"))
    if "\n" in head:  # pragma: no cover - json.dumps escapes newlines
        raise ValueError("header with a newline")
    return (head + "\n" + body + "\n").encode("utf-8")


def write(path: str | os.PathLike[str], key: str, value: Any, **header: Any) -> Path:
    """Store ``value`` under ``key`` in ``path`` atomically
    (:func:`catapult_theory.files.write_atomic`). ``TypeError`` when it cannot be stored."""
    from .files import write_atomic

    return write_atomic(path, dumps(key, value, **header))


def read(path: str | os.PathLike[str], key: str, max_header: int = 1 << 16) -> tuple[bool, Any]:
    """``(True, value)`` when ``path`` is a record of ``key``; ``(False, None)`` when it is
    missing, of another key or format, or malformed. The header is read and compared
    before the body is parsed."""
    try:
        with open(path, "rb") as fh:
            head = fh.readline(max_header)
            try:
                header = json.loads(head.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return False, None
            if not isinstance(header, dict) or header.get("magic") != MAGIC or header.get("format") != FORMAT \
                    or header.get("key") != key:
                return False, None
            raw = fh.read()
    except OSError:
        return False, None
    try:
        return True, decode(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecordError is a ValueError
        return False, None
