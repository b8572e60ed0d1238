"""`catapult cache info|clear|build`: the on-disk cache of derived theories."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from ._common import Parser, add_format, emit

__all__ = ["add_cache_parser", "cache_cli"]

_ACTIONS = {
    "info": "show the cache folder and its entries",
    "clear": "delete every entry (the next use derives afresh)",
    "build": "derive every registered model now (theory and bounds), so later commands only load them",
}


def add_cache_parser(sub: Any) -> None:
    """Add ``cache {info,clear,build}`` to the ``catapult`` subcommands ``sub``."""
    text = ("the on-disk cache of derived theories (folder: $CATAPULT_CACHE_DIR, else the per-user cache "
            "folder; CATAPULT_CACHE_DIR=off turns it off)")
    cp = sub.add_parser("cache", help="show, clear or build the cache of derived theories", description=text)
    csub = cp.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    csub.required = True
    for action, help_text in _ACTIONS.items():
        ap = csub.add_parser(action, help=help_text, description=help_text)
        add_format(ap)
    cp.set_defaults(handler=None, command="cache")


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


def _where() -> tuple[str | None, str]:
    from ..symbolic import theory_cache

    ENV_VAR, cache_dir = theory_cache.ENV_VAR, theory_cache.cache_dir

    folder = cache_dir()
    if folder is None:
        return None, f"cache off ({ENV_VAR}={os.environ.get(ENV_VAR, '')}): every process derives afresh"
    return str(folder), f"cache folder: {folder}  (set {ENV_VAR} to move it, {ENV_VAR}=off to turn it off)"


def _info() -> tuple[dict[str, Any], str]:
    from ..symbolic import theory_cache

    entries = theory_cache.entries

    folder, head = _where()
    items = entries()
    payload: dict[str, Any] = {
        "dir": folder,
        "enabled": folder is not None,
        "entries": [{"file": e.path.name, "kind": e.kind, "model": e.name, "version": e.version, "bytes": e.size,
                     "current": e.current} for e in items],
        "total_bytes": sum(e.size for e in items),
    }
    lines = [head]
    if folder is not None:
        current = sum(e.current for e in items)
        lines.append(f"{len(items)} entries, {_size(payload['total_bytes'])} "
                     f"({current} current, {len(items) - current} stale or of other models)")
        for e in items:
            lines.append(f"  {e.kind:7s} {e.name:18s} {e.version:8s} {_size(e.size):>9s}  "
                         f"{'current' if e.current else 'stale'}")
    return payload, "\n".join(lines)


def _clear() -> tuple[dict[str, Any], str]:
    from ..symbolic import theory_cache

    clear = theory_cache.clear

    folder, head = _where()
    removed = clear()
    text = head if folder is None else f"removed {removed} cache file{'s' * (removed != 1)} from {folder}"
    return {"dir": folder, "removed": removed}, text


def _build() -> tuple[dict[str, Any], str]:
    from ..symbolic import theory_cache

    prebuild = theory_cache.prebuild

    folder, head = _where()
    t0 = time.perf_counter()
    built = prebuild()
    seconds = time.perf_counter() - t0
    text = f"{head}\nderived or loaded {len(built)} models in {seconds:.1f} s: {', '.join(built)}"
    return {"dir": folder, "models": built, "seconds": seconds}, text


def cache_cli(args: argparse.Namespace) -> int:
    """Run ``catapult cache ACTION``; the exit code (0)."""
    payload, text = {"info": _info, "clear": _clear, "build": _build}[args.action]()
    emit(payload, text, args.format)
    return 0
