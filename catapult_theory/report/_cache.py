"""The experiment cache of a report folder: finished experiments are kept, reruns skip them.

Each experiment's result is stored in ``<report>/cache/<name>-<key>.pkl`` (through the
atomic-write helper, so an interrupt never leaves half a file), where ``key`` hashes
the experiment's name, its configuration, the package version and the package's own
source code: a changed configuration or changed code computes afresh; anything that
fails to load (a stale or corrupted entry) is recomputed. ``--force`` recomputes all.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

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
        return self.folder / f"{safe}-{config_key(name, config)[:20]}.pkl"

    def load(self, name: str, config: Mapping[str, Any]) -> tuple[bool, Any]:
        """``(True, result)`` if a valid entry is stored, else ``(False, None)``."""
        if self.force:
            return False, None
        path = self.path(name, config)
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh)
        except FileNotFoundError:
            return False, None
        except Exception:  # noqa: BLE001 - a corrupted or stale entry is recomputed
            return False, None
        if not isinstance(entry, dict) or entry.get("key") != config_key(name, config):
            return False, None
        return True, entry["value"]

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
        """Store ``value`` as the result of ``name`` with ``config`` (atomically)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path(name, config),
                     pickle.dumps({"key": config_key(name, config), "value": value}, protocol=pickle.HIGHEST_PROTOCOL))
        self.misses.append(name)
