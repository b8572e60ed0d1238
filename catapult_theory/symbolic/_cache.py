"""A per-user, on-disk cache of derived theories and bound catalogues.

Deriving a model (:func:`.theory`: factor, solve, simplify in the word algebra)
and its bound catalogue (:func:`.bound_catalog`) takes seconds; loading the
result takes milliseconds. The first derivation of each model, built-in or
registered, is therefore stored as one file per model and kind
(``theory``, ``bounds``) in

* ``$CATAPULT_CACHE_DIR`` when that is set (``off``, ``none``, ``0`` or
  ``false`` turn the on-disk cache off: every process derives afresh),
* otherwise the platform's per-user cache folder
  (``platformdirs.user_cache_dir("catapult_theory")``, e.g.
  ``~/.cache/catapult_theory``).

Every entry is keyed by the package version, the Python and SymPy versions and
a SHA-256 of the model's declaration (:func:`declaration`: the ``srepr`` of each
field of its :class:`.SymbolicModel`) together with the source of the symbolic
layer (:func:`source_digest`). A changed model, a changed derivation or a new
release therefore never loads an old entry.

An entry is a record of :mod:`catapult_theory.records` (JSON; never a pickle, so a
file planted in a shared cache folder cannot run code when it is read): its header
key is compared before its body is parsed, and reading builds only SymPy
expressions and the package's own data classes. Files are written atomically (a
temporary file with a unique name in the same folder, then ``os.replace``:
:func:`catapult_theory.files.write_atomic`); a loaded entry must carry the expected
key and model, and anything unreadable, corrupted, stale or foreign (an old
``.pickle`` entry included: it is never opened) is ignored and rebuilt. The folder
is safe to delete at any time (``catapult cache clear``). Only derived SymPy
objects are stored: the compiled layer lambdifies them afresh in each process, and
every premise callable of the bound catalogue is stored as a :class:`Deferred`
handle (data: which premise of which bound) that rebuilds the catalogue from the
package's source when called.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import sympy as sp

from .. import files, records

__all__ = [
    "ENV_VAR",
    "CacheEntry",
    "Deferred",
    "cache_dir",
    "cached",
    "clear",
    "declaration",
    "entries",
    "entry_key",
    "load",
    "portable_bounds",
    "prebuild",
    "source_digest",
    "store",
]

#: environment variable that overrides the cache folder (or turns the cache off)
ENV_VAR = "CATAPULT_CACHE_DIR"
#: values of :data:`ENV_VAR` that turn the on-disk cache off
_OFF = ("off", "none", "0", "false", "no")
#: layout of a stored record; bumped when the record itself changes
_FORMAT = 2
_SUFFIX = ".json"
#: the suffix of entries of older releases (pickles): never read, removed by ``cache clear``
_LEGACY_SUFFIX = ".pickle"
#: the kinds of derived objects stored
KINDS = ("theory", "bounds")

T = TypeVar("T")


def cache_dir() -> Path | None:
    """The cache folder (not created here), or ``None`` when the cache is off."""
    env = os.environ.get(ENV_VAR)
    if env is not None and env.strip():
        if env.strip().lower() in _OFF:
            return None
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("catapult_theory", appauthor=False))


@cache
def source_digest() -> str:
    """SHA-256 of the symbolic layer's source (every ``.py`` below this package, by relative path)."""
    return files.source_digest([Path(__file__).parent])


def declaration(model: Any) -> str:
    """The model's declaration as text: the ``srepr`` of every field of its
    :class:`.SymbolicModel` (``repr`` where ``srepr`` does not apply)."""
    if not dataclasses.is_dataclass(model):
        return repr(model)
    parts = []
    for f in dataclasses.fields(model):
        value = getattr(model, f.name)
        try:
            text = sp.srepr(value)
        except Exception:  # noqa: BLE001  # pragma: no cover - every field of a SymbolicModel has an srepr
            text = repr(value)
        parts.append(f"{f.name}={text}")
    return f"{type(model).__qualname__}(" + ", ".join(parts) + ")"


def _version() -> str:
    from .. import __version__

    return __version__


def entry_key(kind: str, name: str, model: Any) -> str:
    """The full key of an entry: kind, model name, package/Python/SymPy versions and
    the SHA-256 of the model's declaration and the symbolic layer's source."""
    h = hashlib.sha256()
    h.update(declaration(model).encode())
    h.update(b"\0")
    h.update(source_digest().encode())
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"{kind}|{name}|catapult_theory {_version()}|python {py}|sympy {sp.__version__}|format {_FORMAT}|{h.hexdigest()}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:48] or "_"


def _file_name(kind: str, name: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"{kind}-{_safe(name)}-{_version()}-{digest}{_SUFFIX}"


def _path(kind: str, name: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / _file_name(kind, name, key)


def load(kind: str, name: str, model: Any, check: Callable[[Any], bool] | None = None) -> Any | None:
    """The stored object of ``(kind, name)`` for this ``model``, or ``None`` when there is
    none or it is unreadable, corrupted, stale (another key or model) or fails ``check``.
    The file's key is compared before its body is parsed (:func:`catapult_theory.records.read`)."""
    key = entry_key(kind, name, model)
    path = _path(kind, name, key)
    if path is None:
        return None
    found, record = records.read(path, key)
    if not found or not isinstance(record, dict) or record.get("declaration") != declaration(model):
        return None
    value = record.get("value")
    try:
        if check is not None and not check(value):
            return None
    except Exception:  # noqa: BLE001 - a stored object that cannot even be checked is not used
        return None
    return value


def store(kind: str, name: str, model: Any, value: Any) -> Path | None:
    """Write ``value`` as the entry of ``(kind, name)`` for ``model``, atomically; ``None``
    (nothing written) when the cache is off or the folder cannot be written."""
    key = entry_key(kind, name, model)
    path = _path(kind, name, key)
    if path is None:
        return None
    record = {"kind": kind, "name": name, "declaration": declaration(model), "value": value}
    try:
        data = records.dumps(key, record)
    except (TypeError, ValueError, RecursionError):  # not storable (a user's foreign part): derived in each process
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomic(path, data)
    except OSError:  # read-only or full disk: the cache is an optimisation only
        return None
    _remove_superseded(kind, name, path)
    return path


def _remove_superseded(kind: str, name: str, keep: Path) -> None:
    """Delete older entries of the same kind, model and package version (another digest)."""
    prefix = f"{kind}-{_safe(name)}-{_version()}-"
    try:
        for p in keep.parent.iterdir():
            if p.name.startswith(prefix) and p.name.endswith((_SUFFIX, _LEGACY_SUFFIX)) and p != keep:
                try:
                    p.unlink()
                except OSError:
                    pass
    except OSError:
        pass


def cached(kind: str, name: str, model: Any, build: Callable[[], T],
           check: Callable[[Any], bool] | None = None,
           portable: Callable[[T], Any] | None = None) -> T:
    """The stored value of ``(kind, name)`` for ``model`` if there is a valid one,
    otherwise ``build()``, stored (as ``portable(value)`` when given) and returned."""
    value = load(kind, name, model, check)
    if value is not None:
        return value  # type: ignore[no-any-return]
    value = build()
    store(kind, name, model, value if portable is None else portable(value))
    return value


# ------------------------------------------------------------------ catalogue
@dataclass(frozen=True)
class Deferred:
    """A premise callable of a cached bound catalogue that cannot be stored by
    reference (a closure or lambda): calling it rebuilds the model's catalogue once
    per process and calls the original (``field`` is ``"derivation"`` or
    ``"meanings"``, ``index`` the position of the meaning)."""

    model: str
    bound: str
    premise: int
    field: str
    index: int = 0

    def original(self) -> Callable[..., Any]:
        """The callable this handle stands for, from a freshly built catalogue."""
        prem = _fresh_bounds(self.model)[self.bound].premises[self.premise]
        if self.field == "derivation":
            fn = prem.derivation
        else:
            fn = list(prem.meanings.values())[self.index]
        if not callable(fn):  # pragma: no cover - the stored catalogue came from the same source
            raise TypeError(f"cached premise {self} does not match the catalogue")
        return fn  # type: ignore[no-any-return]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.original()(*args, **kwargs)


@cache
def _fresh_bounds(model: str) -> Mapping[str, Any]:
    from ._catalog import _FAMILIES

    return _FAMILIES[model]()


def portable_bounds(model: str, specs: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a bound catalogue that a record can hold: each premise callable is
    replaced by a :class:`Deferred` handle (records store no functions, not even by name)."""
    out = {}
    for bname, spec in specs.items():
        premises = []
        for i, prem in enumerate(spec.premises):
            changes: dict[str, Any] = {}
            if prem.derivation is not None and not isinstance(prem.derivation, Deferred):
                changes["derivation"] = Deferred(model, bname, i, "derivation")
            if any(callable(v) and not isinstance(v, Deferred) for v in prem.meanings.values()):
                changes["meanings"] = {
                    k: (Deferred(model, bname, i, "meanings", j) if callable(v) and not isinstance(v, Deferred) else v)
                    for j, (k, v) in enumerate(prem.meanings.items())}
            premises.append(dataclasses.replace(prem, **changes) if changes else prem)
        out[bname] = dataclasses.replace(spec, premises=tuple(premises))
    return out


# ------------------------------------------------------------------ management
@dataclass(frozen=True)
class CacheEntry:
    """One file of the cache: its kind and model, size, and whether it is current
    (its key is the one this installation would use for a model of that name)."""

    path: Path
    kind: str
    name: str
    version: str
    size: int
    current: bool


_NAME_RE = re.compile(r"^(?P<kind>[a-z]+)-(?P<name>.+)-(?P<version>[^-]+)-(?P<digest>[0-9a-f]{20})\.(?:json|pickle)$")


def _expected_files() -> set[str]:
    """File names of the entries this installation would use for every registered model."""
    from ._catalog import _FAMILIES
    from ._theory import MODELS

    names = set()
    for name, builder in list(MODELS.items()):
        try:
            model = builder()
        except Exception:  # noqa: BLE001, S112 - a broken user builder has no current entry
            continue
        names.add(_file_name("theory", name, entry_key("theory", name, model)))
        if name in _FAMILIES:
            names.add(_file_name("bounds", name, entry_key("bounds", name, model)))
    return names


def entries() -> list[CacheEntry]:
    """The entries in the cache folder (empty when it is off or absent), sorted by file name."""
    folder = cache_dir()
    if folder is None or not folder.is_dir():
        return []
    expected = _expected_files()
    out = []
    for p in sorted(folder.iterdir()):
        m = _NAME_RE.match(p.name)
        if m is None or not p.is_file():
            continue
        try:
            size = p.stat().st_size
        except OSError:
            continue
        out.append(CacheEntry(p, m["kind"], m["name"], m["version"], size, p.name in expected))
    return out


def clear() -> int:
    """Delete every entry (and left-over temporary file) of the cache folder; other files in
    the folder are left alone. Returns the number of files removed."""
    folder = cache_dir()
    if folder is None or not folder.is_dir():
        return 0
    removed = 0
    for p in folder.iterdir():
        target = files.temp_target(p.name)
        if (_NAME_RE.match(p.name) or (target is not None and _NAME_RE.match(target))) and p.is_file():
            try:
                p.unlink()
                removed += 1
            except OSError:
                pass
    try:
        folder.rmdir()  # only if now empty
    except OSError:
        pass
    return removed


def prebuild(names: tuple[str, ...] | None = None) -> list[str]:
    """Derive (or load) the theory and bound catalogue of each model in ``names``
    (default: every registered model) so that later processes load them; returns the names."""
    from ._catalog import _FAMILIES, bounds
    from ._theory import MODELS, theory

    todo = tuple(MODELS) if names is None else names
    for name in todo:
        theory(name)
        if name in _FAMILIES:
            bounds(name)
    return list(todo)
