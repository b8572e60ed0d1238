"""The grid SPEC: a model family, fixed settings and axes to sweep, validated.

A SPEC is a TOML file (or the same structure as a mapping)::

    model = "uv"
    [fixed]
    steps = 300
    k = { min = 0.1, max = 6, num = 60 }     # optional: scale = "linear" | "log"
    [axes]
    width = [100, 1000]
    seed = [0, 1]

Its keys are the family's ``phases`` parameters (the fields of its record's
``Phases`` dataclass, :mod:`catapult_theory.families`; the flag without its dashes;
``mu-dist`` and ``mu_dist`` are the same key), read and checked by the fields' own
types, so a grid accepts exactly what ``catapult phases MODEL`` accepts: the same
types, ranges, choices and defaults. ``k`` is the one
exception: it is always batched inside one cell (``k = {min, max, num, scale}``
in ``[fixed]``), never an axis.

Every error is an :class:`~catapult_theory.errors.InvalidInput` whose one-line
message starts with the SPEC key it is about (``SPEC key axes.width[1]: ...``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import sys
from argparse import ArgumentTypeError
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from ..errors import InvalidInput
from ..families import KGrid, convert, param_fields, positive_float, positive_int

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the tomli backport
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

__all__ = ["CELL_FORMAT", "SPEC_KEYS", "Cell", "GridSpec", "KGrid", "cell_key", "load_spec", "parse_spec"]

#: version of the cell configuration and cell file layout (part of every cell's hash)
CELL_FORMAT = 1
#: the top-level keys of a SPEC
SPEC_KEYS = ("model", "fixed", "axes")
#: the ``k`` table's keys and the flags they replace (for messages)
_K_FLAGS = {"--k-min": "k.min", "--k-max": "k.max", "--num": "k.num", "--k-scale": "k.scale"}


def _bad(key: str, message: str) -> InvalidInput:
    return InvalidInput(f"SPEC key {key}: {message}")


def cell_key(config: Mapping[str, Any]) -> str:
    """The hash of a cell configuration (SHA-256 of its canonical JSON, with the
    cell format and the package version): equal configurations, equal keys,
    whichever SPEC they came from."""
    from .. import __version__

    blob = json.dumps({"format": CELL_FORMAT, "version": __version__, **config}, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Cell:
    """One grid cell: a complete ``catapult phases`` configuration.

    ``params`` holds every argument of the family's ``phases`` command (defaults
    resolved), ``axes`` the cell's own axis values; ``config`` (what the task
    gets and what the key hashes) leaves the axes out, so a cell computed for one
    SPEC is found again by any SPEC that asks for the same configuration.
    """

    model: str
    params: Mapping[str, Any]
    k: KGrid
    axes: Mapping[str, Any]
    #: the model file of a model given as a file: ``{"path", "sha256", "builder"}``
    file: Mapping[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        """``{"model", "params", "k"}`` (and ``"file"`` for a model file: its path and the
        SHA-256 of its text, so an edited file is another cell): plain JSON, the task's whole input."""
        out = {"model": self.model, "params": dict(self.params), "k": self.k.to_dict()}
        if self.file is not None:
            out["file"] = dict(self.file)
        return out

    @property
    def key(self) -> str:
        """:func:`cell_key` of the configuration."""
        return cell_key(self.config)

    def label(self) -> str:
        """``width=100 seed=0`` (``-`` for a grid without axes)."""
        return " ".join(f"{n}={_show(v)}" for n, v in self.axes.items()) or "-"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class GridSpec:
    """A validated SPEC: the family, the fixed settings, the ``k`` grid and the axes
    (each a tuple of typed values, in SPEC order)."""

    model: str
    fixed: Mapping[str, Any]
    k: KGrid
    axes: Mapping[str, tuple[Any, ...]]
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    #: the model file (``{"path", "sha256", "builder"}``) when ``model`` names one
    file: Mapping[str, Any] | None = None

    def cells(self) -> list[Cell]:
        """Every cell, the first axis outermost (the order of the table's rows)."""
        names = list(self.axes)
        out = []
        for combo in itertools.product(*(self.axes[n] for n in names)):
            axes = dict(zip(names, combo))
            out.append(Cell(self.model, {**self.params, **axes}, self.k, axes, self.file))
        return out

    def shape(self) -> tuple[int, ...]:
        """The number of values of each axis."""
        return tuple(len(v) for v in self.axes.values())

    def to_dict(self) -> dict[str, Any]:
        """The SPEC in its normalised form (keys as argument names, values typed)."""
        out = {"model": self.model, "fixed": {**dict(self.fixed), "k": self.k.to_dict()},
               "axes": {n: list(v) for n, v in self.axes.items()}}
        if self.file is not None:
            out["file"] = dict(self.file)
        return out


# --------------------------------------------------------------------------- reading


def load_spec(path: str | os.PathLike[str]) -> GridSpec:
    """Read and validate a SPEC file (TOML)."""
    p = Path(path)
    from ..files import check_name_lengths

    check_name_lengths(p, "SPEC file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"SPEC file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"SPEC file {p} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"SPEC file {p} is not valid TOML: {str(exc).splitlines()[0]}") from None
    return parse_spec(data, source=str(p))


class _Arguments:
    """The ``phases`` parameters of one family, from its record's ``Phases`` dataclass."""

    def __init__(self, model: str) -> None:
        from ..families import families

        fams = {f.name: f for f in families()}
        if model not in fams:
            raise _bad("model", f"unknown model family {model!r}; known: {', '.join(fams)}")
        fam = fams[model]
        if "phases" not in fam.commands():
            runnable = [f.name for f in fams.values() if "phases" in f.commands()]
            raise _bad("model", f"family {model!r} has no numeric engine (a grid runs its phases); "
                                f"use one of: {', '.join(runnable)}")
        self.model = model
        self.fields = {f.name: (f, meta) for f, meta in param_fields(fam.params("phases"))}

    def dest(self, key: str, where: str) -> str:
        name = key.replace("-", "_")
        if name == "k":
            raise _bad(where, "k is batched inside every cell: set it in [fixed] as k = { min = ..., max = ..., "
                              "num = ... } (an axis of k is the k grid itself)")
        if name not in self.fields:
            raise _bad(where, f"unknown parameter of the {self.model} family; known: "
                              f"{', '.join(sorted(self.fields))}")
        return name

    def convert(self, dest: str, value: Any, where: str) -> Any:
        f, meta = self.fields[dest]
        try:
            return convert(f, meta, value)
        except ValueError as exc:
            raise _bad(where, str(exc)) from None

    def defaults(self) -> dict[str, Any]:
        return {d: f.default for d, (f, meta) in self.fields.items() if f.default is not dataclasses.MISSING}

    def required(self) -> list[str]:
        return [d for d, (f, meta) in self.fields.items() if f.default is dataclasses.MISSING]


def _table(data: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _bad(key, f"must be a table, got {data!r}")
    return data


def _k_grid(value: Any) -> KGrid:
    if not isinstance(value, Mapping):
        raise _bad("fixed.k", f"must be a table k = {{ min = ..., max = ..., num = ... }}, got {value!r}")
    for name in value:
        if name not in ("min", "max", "num", "scale"):
            raise _bad(f"fixed.k.{name}", "unknown key; k takes min, max, num and scale")
    got: dict[str, Any] = {}
    for name, kind in (("min", positive_float), ("max", positive_float), ("num", positive_int)):
        if name not in value:
            raise _bad(f"fixed.k.{name}", "missing (k = { min = ..., max = ..., num = ... })")
        v = value[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _bad(f"fixed.k.{name}", f"must be a number, got {v!r}")
        try:
            got[name] = kind(repr(v))
        except (ArgumentTypeError, ValueError) as exc:
            raise _bad(f"fixed.k.{name}", str(exc)) from None
    scale = value.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise _bad("fixed.k.scale", f"must be \"linear\" or \"log\", got {scale!r}")
    if got["min"] >= got["max"]:
        raise _bad("fixed.k.min", f"must be smaller than k.max ({got['min']} >= {got['max']})")
    if got["num"] < 2:
        raise _bad("fixed.k.num", f"must be at least 2, got {got['num']}")
    return KGrid(float(got["min"]), float(got["max"]), int(got["num"]), str(scale))


def parse_spec(data: Mapping[str, Any], source: str | None = None) -> GridSpec:
    """Validate a SPEC given as a mapping (a parsed TOML file); see the module docstring."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"SPEC must be a table of {', '.join(SPEC_KEYS)}, got {type(data).__name__}")
    for key in data:
        if key not in SPEC_KEYS:
            raise _bad(str(key), f"unknown top-level key; a SPEC has {', '.join(SPEC_KEYS)}")
    if "model" not in data:
        raise _bad("model", "missing: name the model family, e.g. model = \"uv\"")
    model = data["model"]
    if not isinstance(model, str):
        raise _bad("model", f"must be a string naming a model family, got {model!r}")
    file = None
    if model.endswith(".py"):  # a model file: relative to the SPEC's folder
        model, file = _model_file(model, source)
    args = _Arguments(model)
    fixed_in = _table(data.get("fixed", {}), "fixed")
    axes_in = _table(data.get("axes", {}), "axes")
    fixed: dict[str, Any] = {}
    k: KGrid | None = None
    for key, value in fixed_in.items():
        if key == "k":
            k = _k_grid(value)
            continue
        dest = args.dest(key, f"fixed.{key}")
        if dest in fixed:
            raise _bad(f"fixed.{key}", f"given twice (as {dest} too)")
        fixed[dest] = args.convert(dest, value, f"fixed.{key}")
    if k is None:
        raise _bad("fixed.k", "missing: the k grid of every cell, k = { min = ..., max = ..., num = ... }")
    axes: dict[str, tuple[Any, ...]] = {}
    for key, values in axes_in.items():
        dest = args.dest(key, f"axes.{key}")
        if dest in fixed:
            raise _bad(f"axes.{key}", "also set in [fixed]: a parameter is either fixed or an axis")
        if dest in axes:
            raise _bad(f"axes.{key}", f"given twice (as {dest} too)")
        if not isinstance(values, (list, tuple)) or not values:
            raise _bad(f"axes.{key}", f"must be a non-empty list of values, got {values!r}")
        typed = tuple(args.convert(dest, v, f"axes.{key}[{i}]") for i, v in enumerate(values))
        for i, v in enumerate(typed):
            if v in typed[:i]:
                raise _bad(f"axes.{key}[{i}]", f"repeats the value {values[i]!r} (every cell once)")
        axes[dest] = typed
    missing = [d for d in args.required() if d not in fixed and d not in axes]
    if missing:
        raise _bad(f"fixed.{missing[0]}", f"missing: the {model} family needs {missing[0]} "
                                          f"(set it in [fixed] or sweep it in [axes])")
    params = {**args.defaults(), **fixed}
    return GridSpec(model, fixed, k, axes, params, source, file)


def _model_file(path: str, source: str | None) -> tuple[str, dict[str, Any]]:
    """Register the model file ``path`` (relative to the SPEC file's folder) in this process:
    its registry name and ``{"path", "sha256", "builder"}``."""
    from ..families import ensure_model_file

    p = Path(path)
    if not p.is_absolute() and source is not None:
        p = Path(source).resolve().parent / p
    try:
        name, entry = ensure_model_file(str(p.resolve()))
    except InvalidInput as exc:
        raise _bad("model", str(exc).splitlines()[0]) from None
    return name, {"path": entry.path, "sha256": entry.sha256, "builder": entry.builder}


def spec_message(message: str, params: Sequence[str]) -> str:
    """A family's error message in SPEC words: each ``--flag`` of a known parameter
    becomes its SPEC key (``--mask`` -> ``mask``, ``--k-min`` -> ``k.min``)."""
    import re

    known = set(params)

    def sub(m: re.Match[str]) -> str:
        flag = m.group(0)
        if flag in _K_FLAGS:
            return _K_FLAGS[flag]
        name = flag[2:].replace("-", "_")
        return name if name in known else flag

    return re.sub(r"--[a-z0-9][a-z0-9-]*", sub, message)
