"""The one registry of model families.

:data:`REGISTRY` names the modules of the built-in families, one line each, in the order of
the study; each module lists its records in ``FAMILIES``. Adding a built-in family is one
file and one line here: its record gives every command (``derive``, ``run``, ``phases``,
``grid``, the generic proofs) without anything else touched; its symbols join the symbolic
registry (:data:`catapult_theory.symbolic.MODELS`) on first use.

:func:`families` lists the built-ins, then each model FILE loaded for this command (a
numeric family built from its symbols, :mod:`._file`), then every model registered with
:func:`catapult_theory.symbolic.register` as symbols only (``derive`` and ``prove``).
Registering never hides a built-in.
"""

from __future__ import annotations

import importlib

from ..errors import InvalidInput
from ..symbolic import MODELS, register
from ._family import ModelFamily

__all__ = ["BUILTIN", "REGISTRY", "families", "get_family"]

#: the modules of the built-in families (relative to this package, or absolute dotted names)
REGISTRY: list[str] = [
    "uv",
    "quadratic",
    "two_layer",
    "three_layer",
]


def _load(entry: str) -> list[ModelFamily]:
    module = importlib.import_module(entry if "." in entry else f"{__package__}.{entry}")
    return list(module.FAMILIES)


class _Builtin:
    """The built-in families of :data:`REGISTRY` (loaded again when the list changes)."""

    def __init__(self) -> None:
        self._items: list[ModelFamily] | None = None
        self._of: tuple[str, ...] = ()

    def __call__(self) -> list[ModelFamily]:
        if self._items is None or self._of != tuple(REGISTRY):
            self._items, self._of = [fam for entry in REGISTRY for fam in _load(entry)], tuple(REGISTRY)
        for fam in self._items:  # the symbols of a family that the symbolic layer does not know (yet, or again)
            if fam.name not in MODELS:
                register(fam.name, fam.model)
        return list(self._items)


#: the built-in families, in the order of the study
BUILTIN = _Builtin()


def families() -> list[ModelFamily]:
    """Every family: the built-ins, the model files of this command, then each model
    registered as symbols only."""
    from ._file import file_families

    out = BUILTIN()
    known = {f.name for f in out}
    for fam in file_families():
        if fam.name not in known:
            out.append(fam)
            known.add(fam.name)
    for name, builder in MODELS.items():
        if name not in known:
            desc = ""
            try:
                desc = builder().description
            except Exception:  # a broken user builder shows up when it is derived, with its error
                desc = "registered model"
            out.append(ModelFamily(name, desc or "registered model", builder))
    return out


def get_family(name: str) -> ModelFamily:
    """The family called ``name`` (:class:`InvalidInput` naming the known ones otherwise)."""
    for fam in families():
        if fam.name == name:
            return fam
    raise InvalidInput(f"unknown model family {name!r}; known: {', '.join(f.name for f in families())}")
