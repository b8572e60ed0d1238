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

from . import _theory
from ._catalog import _FAMILIES, Deferred, bounds, portable_bounds
from ._store import (ENV_VAR, KINDS, NAME_RE, CacheEntry, _path, cache_dir, cached, clear, declaration, entry_key,
                     file_name, load, source_digest, store)
from ._theory import MODELS, theory

__all__ = [
    "ENV_VAR",
    "KINDS",
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

_ = _path  # the storage's own helpers stay reachable here


def _expected_files() -> set[str]:
    """File names of the entries this installation would use for every registered model."""
    names = set()
    for name, builder in list(MODELS.items()):
        try:
            model = builder()
        except Exception:  # noqa: BLE001, S112 - a broken user builder has no current entry
            continue
        names.add(file_name("theory", name, entry_key("theory", name, model)))
        if name in _FAMILIES:
            names.add(file_name("bounds", name, entry_key("bounds", name, model)))
    return names


def entries() -> list[CacheEntry]:
    """The entries in the cache folder (empty when it is off or absent), sorted by file name."""
    folder = cache_dir()
    if folder is None or not folder.is_dir():
        return []
    expected = _expected_files()
    out = []
    for p in sorted(folder.iterdir()):
        m = NAME_RE.match(p.name)
        if m is None or not p.is_file():
            continue
        try:
            size = p.stat().st_size
        except OSError:
            continue
        out.append(CacheEntry(p, m["kind"], m["name"], m["version"], size, p.name in expected))
    return out


def prebuild(names: tuple[str, ...] | None = None) -> list[str]:
    """Derive (or load) the theory and bound catalogue of each model in ``names``
    (default: every registered model) so that later processes load them; returns the names."""
    todo = tuple(MODELS) if names is None else names
    for name in todo:
        theory(name)
        if name in _FAMILIES:
            bounds(name)
    return list(todo)


# the first miss of a built-in theory prebuilds every built-in (theory and bounds); the
# theory module cannot import this one (the catalogue stands on it), so it is told here
_theory.PREBUILD[:] = [lambda names: prebuild(names)]
