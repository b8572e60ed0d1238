"""Storage of the on-disk cache of derived theories and bound catalogues: keys, records,
atomic writes, clearing (:mod:`._cache` says what is stored and why)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import sympy as sp

from .. import files, records

__all__ = [
    "ENV_VAR",
    "NAME_RE",
    "CacheEntry",
    "cache_dir",
    "cached",
    "clear",
    "declaration",
    "entry_key",
    "file_name",
    "load",
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


def file_name(kind: str, name: str, key: str) -> str:
    """The file of an entry: kind, model name, package version and a digest of its key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"{kind}-{_safe(name)}-{_version()}-{digest}{_SUFFIX}"


def _path(kind: str, name: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / file_name(kind, name, key)


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


NAME_RE = re.compile(r"^(?P<kind>[a-z]+)-(?P<name>.+)-(?P<version>[^-]+)-(?P<digest>[0-9a-f]{20})\.(?:json|pickle)$")


def clear() -> int:
    """Delete every entry (and left-over temporary file) of the cache folder; other files in
    the folder are left alone. Returns the number of files removed."""
    folder = cache_dir()
    if folder is None or not folder.is_dir():
        return 0
    removed = 0
    for p in folder.iterdir():
        target = files.temp_target(p.name)
        if (NAME_RE.match(p.name) or (target is not None and NAME_RE.match(target))) and p.is_file():
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
