"""A family's parameters: frozen dataclasses whose fields say their flag, type and help.

Each command of a family (``derive``, ``run``, ``phases``) takes one frozen dataclass of
parameters (``kw_only``: a field without a default is required). A field is declared with
:func:`param`: its help, its value type (a function from the text of the flag to the
value, raising :class:`argparse.ArgumentTypeError` with a one-line reason) and, for the
few string values a family checks only when it runs, an early ``check`` (the grid checks
every cell's values before any cell runs). The flag is the field's name with ``-`` for
``_`` (``mu_dist`` -> ``--mu-dist``); a ``bool`` field is a switch.

The same declaration serves every interface: the command line adds one flag per field
(:func:`add_arguments`), a grid SPEC reads its keys through the fields' types
(:func:`convert`), a report section builds the parameters directly. ``k`` of ``phases``
is not a field: it is the :class:`KGrid` every sweep takes.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CLIError, InvalidInput

__all__ = [
    "FlagParser",
    "KGrid",
    "Param",
    "add_arguments",
    "convert",
    "data_spec",
    "finite_float",
    "flag_of",
    "k_grid",
    "no_refine_param",
    "nonneg_int",
    "param",
    "param_fields",
    "positive_float",
    "positive_int",
    "unit_interval",
]


class FlagParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Raise :class:`CLIError` (one line on stderr, exit 2) instead of printing usage."""
        raise CLIError(f"{self.prog}: {message}")


# --------------------------------------------------------------------------- value types
def _number(text: str, kind: Callable[[str], Any], what: str) -> Any:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not finite")
    return value


def positive_int(text: str) -> int:
    """Value type: an integer > 0."""
    v = _number(text, int, "an integer")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def nonneg_int(text: str) -> int:
    """Value type: an integer >= 0."""
    v = _number(text, int, "an integer")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be non-negative, got {v}")
    return v


def positive_float(text: str) -> float:
    """Value type: a finite number > 0."""
    v = _number(text, float, "a number")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def finite_float(text: str) -> float:
    """Value type: a finite number."""
    return _number(text, float, "a number")


def unit_interval(text: str) -> float:
    """Value type: a number in [0, 1]."""
    v = _number(text, float, "a number")
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {v}")
    return v


def data_spec(text: str) -> str:
    """Value type: a data spec of the one grammar (:mod:`catapult_theory.data`), checked
    when read; the value is the text as given."""
    from ..data import parse_data_spec

    try:
        parse_data_spec(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


# --------------------------------------------------------------------------- fields
@dataclass(frozen=True)
class Param:
    """What a field says about its flag (:func:`param`)."""

    help: str
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: tuple[Any, ...] | None = None
    #: a check of the typed value that the family otherwise makes only when it runs
    check: Callable[[Any], Any] | None = None
    #: the flag repeats (``--size d=3 --size m=2``): the value is a tuple of the typed values
    repeat: bool = False


def param(default: Any = dataclasses.MISSING, *, help: str, type: Callable[[str], Any] | None = None,
          metavar: str | None = None, choices: Sequence[Any] | None = None,
          check: Callable[[Any], Any] | None = None, repeat: bool = False) -> Any:
    """A parameter field (see the module docstring); no ``default``: the flag is required."""
    meta = Param(help, type, metavar, tuple(choices) if choices is not None else None, check, repeat)
    if repeat:
        return dataclasses.field(default=() if default is dataclasses.MISSING else default, metadata={"param": meta})
    return dataclasses.field(default=default, metadata={"param": meta})


def no_refine_param() -> Any:
    """``--no-refine``: one flag with one meaning in every family (boundaries at grid
    resolution, no bisection runs)."""
    return param(False, help="report boundaries at grid resolution (no bisection runs)")


def param_fields(cls: type) -> Iterator[tuple[dataclasses.Field[Any], Param]]:
    """The fields of a parameter dataclass with their :class:`Param`, in declaration order."""
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("param")
        if meta is not None:
            yield f, meta


def flag_of(name: str) -> str:
    """The flag of a field: ``mu_dist`` -> ``--mu-dist``."""
    return "--" + name.replace("_", "-")


def _is_switch(f: dataclasses.Field[Any]) -> bool:
    return f.type in (bool, "bool")


def add_arguments(parser: argparse.ArgumentParser, cls: type, before: str | None = None,
                  insert: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """One flag per field of ``cls``; ``insert(parser)`` adds more flags just before the
    field named ``before`` (the ``k`` grid of ``phases`` goes before ``--steps``)."""
    for f, meta in param_fields(cls):
        if insert is not None and f.name == before:
            insert(parser)
        flag = flag_of(f.name)
        if _is_switch(f):
            parser.add_argument(flag, action="store_true", help=meta.help)
            continue
        kw: dict[str, Any] = {"help": meta.help, "dest": f.name}
        if meta.type is not None:
            kw["type"] = meta.type
        if meta.metavar is not None:
            kw["metavar"] = meta.metavar
        if meta.choices is not None:
            kw["choices"] = list(meta.choices)
        if meta.repeat:
            kw["action"] = "append"
            kw["default"] = None
        elif f.default is dataclasses.MISSING:
            kw["required"] = True
        else:
            kw["default"] = f.default
        parser.add_argument(flag, **kw)
    if insert is not None and before is None:
        insert(parser)


def from_namespace(cls: type, args: argparse.Namespace) -> Any:
    """The parameters of ``cls`` from parsed arguments."""
    values = {}
    for f, meta in param_fields(cls):
        v = getattr(args, f.name)
        values[f.name] = tuple(v or ()) if meta.repeat else v
    return cls(**values)


def convert(f: dataclasses.Field[Any], meta: Param, value: Any) -> Any:
    """A value of a SPEC (TOML: a number, a string, a boolean; a list for a repeated flag)
    as the field's typed value; ``ValueError`` (``InvalidInput`` included) with the reason."""
    if _is_switch(f):
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {value!r}")
        return value
    if meta.repeat:
        items = value if isinstance(value, (list, tuple)) else [value]
        return tuple(_typed(dataclasses.replace(meta, repeat=False), v) for v in items)
    return _typed(meta, value)


def _typed(meta: Param, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"must be a number or a string, got {value!r} ({type(value).__name__})")
    text = value if isinstance(value, str) else repr(value)
    try:
        out = meta.type(text) if meta.type is not None else text
    except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
        raise ValueError(str(exc) or f"invalid value {value!r}") from None
    if meta.choices is not None and out not in meta.choices:
        raise ValueError(f"invalid choice {value!r}; choose from {', '.join(map(str, meta.choices))}")
    if meta.check is not None:
        try:
            meta.check(out)
        except ValueError as exc:  # InvalidInput included
            raise ValueError(str(exc).splitlines()[0]) from None
    return out


# --------------------------------------------------------------------------- the k grid
def k_grid(k_min: float, k_max: float, num: int, scale: str = "linear") -> np.ndarray:
    """The grid of ``k = η λ0``, validated: evenly spaced (``linear``) or geometric
    (``log``, for ranges over several decades)."""
    if k_min >= k_max:
        raise InvalidInput(f"--k-min ({k_min}) must be smaller than --k-max ({k_max})")
    if num < 2:
        raise InvalidInput(f"--num must be at least 2, got {num}")
    if scale == "log":
        return np.geomspace(k_min, k_max, num)
    if scale != "linear":
        raise InvalidInput(f"--k-scale must be linear or log, got {scale!r}")
    return np.linspace(k_min, k_max, num)


@dataclass(frozen=True)
class KGrid:
    """The ``k = η λ0`` grid of a sweep: ``num`` points from ``min`` to ``max``,
    evenly spaced (``linear``) or geometric (``log``)."""

    min: float
    max: float
    num: int
    scale: str = "linear"

    def values(self) -> np.ndarray:
        """The grid itself (:func:`k_grid`; :class:`InvalidInput` for a bad grid)."""
        return k_grid(self.min, self.max, self.num, self.scale)

    def to_dict(self) -> dict[str, Any]:
        """``{"min", "max", "num", "scale"}``."""
        return {"min": self.min, "max": self.max, "num": self.num, "scale": self.scale}


def add_k_grid(p: argparse.ArgumentParser) -> None:
    """The ``k`` grid flags, the same in every family: ``--k-min``, ``--k-max``, ``--num``
    and ``--k-scale``."""
    p.add_argument("--k-min", type=positive_float, required=True, help="smallest k = eta*lam0")
    p.add_argument("--k-max", type=positive_float, required=True, help="largest k")
    p.add_argument("--num", type=positive_int, required=True, help="grid points")
    p.add_argument("--k-scale", choices=("linear", "log"), default="linear",
                   help="grid spacing: linear (default) or log (geometric, for wide ranges)")


def k_of(args: argparse.Namespace) -> KGrid:
    """The :class:`KGrid` of parsed ``--k-min/--k-max/--num/--k-scale``."""
    return KGrid(args.k_min, args.k_max, args.num, args.k_scale)
