"""The experiment cache of a report folder: finished experiments are kept, reruns skip them.

Each experiment's result is stored in ``<report>/cache/<name>-<key>.json`` (through the
atomic-write helper, so an interrupt never leaves half a file), where ``key`` hashes
the experiment's name, its configuration, the package version and the package's own
source code: a changed configuration or changed code computes afresh; anything that
fails to load (a stale, corrupted or foreign entry) is recomputed. ``--force``
recomputes all.

An entry is a record of :mod:`catapult_theory.records`, never a pickle: a report
folder copied from someone else cannot run their code when it is read (the key in the
file's header is compared before its body is parsed, and the body builds only data:
arrays, SymPy expressions, the package's own result classes). A result a record
cannot hold (a section registered from outside with its own classes) is computed in
every run.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from .. import records
from ..files import source_digest, write_atomic

__all__ = ["ExperimentCache", "code_hash", "config_key"]

T = TypeVar("T")


@lru_cache(maxsize=1)
def code_hash() -> str:
    """sha256 of every ``.py`` file of the package (and of ``proofs``), in path order."""
    import catapult_theory

    roots = [Path(catapult_theory.__file__).parent]
    try:
        import proofs

        roots.append(Path(proofs.__file__).parent)
    except ImportError:  # pragma: no cover - proofs ships with the package
        pass
    return source_digest(roots)


def config_key(name: str, config: Mapping[str, Any]) -> str:
    """The cache key of experiment ``name`` with ``config`` (plus version and code)."""
    from .. import __version__

    blob = json.dumps({"name": name, "config": config, "version": __version__, "code": code_hash()},
                      sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()


class ExperimentCache:
    """Results of finished experiments under ``folder``; ``force`` ignores what is stored.
    ``hits`` and ``misses`` name the experiments loaded and computed in this run."""

    def __init__(self, folder: Path, force: bool = False) -> None:
        self.folder, self.force = Path(folder), force
        self.hits: list[str] = []
        self.misses: list[str] = []

    def path(self, name: str, config: Mapping[str, Any]) -> Path:
        """Where experiment ``name`` with ``config`` is stored."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self.folder / f"{safe}-{config_key(name, config)[:20]}.json"

    def load(self, name: str, config: Mapping[str, Any]) -> tuple[bool, Any]:
        """``(True, result)`` if a valid entry is stored, else ``(False, None)``."""
        if self.force:
            return False, None
        return records.read(self.path(name, config), config_key(name, config))

    def cached(self, name: str, config: Mapping[str, Any], compute: Callable[[], T]) -> T:
        """The stored result of ``name`` with ``config``, or ``compute()`` stored for next time."""
        found, value = self.load(name, config)
        if found:
            self.hits.append(name)
            return value  # type: ignore[no-any-return]
        value = compute()
        self.store(name, config, value)
        return value

    def store(self, name: str, config: Mapping[str, Any], value: Any) -> None:
        """Store ``value`` as the result of ``name`` with ``config`` (atomically); a value a
        record cannot hold is not stored (computed again next time)."""
        self.misses.append(name)
        try:
            data = records.dumps(config_key(name, config), value, experiment=name)
        except (TypeError, ValueError, RecursionError):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path(name, config), data)
