"""The :class:`ModelFamily` record and the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import sympy as sp

from ..errors import InvalidInput
from ..symbolic import MODELS, BoundSpec, SymbolicModel, bound_catalog

__all__ = ["ModelFamily", "BUILTIN", "families", "get_family", "Lazy", "lazy_function"]


class Lazy(Mapping[Any, Any]):
    """A mapping imported on first use (``module`` relative to the package, ``attr`` in it):
    a family record names its numeric constants without importing the numeric layers, so
    ``catapult derive`` starts without them."""

    def __init__(self, module: str, attr: str) -> None:
        self._where = (module, attr)
        self._value: Mapping[Any, Any] | None = None

    def _load(self) -> Mapping[Any, Any]:
        if self._value is None:
            import importlib

            module, attr = self._where
            self._value = getattr(importlib.import_module(module, "catapult_theory"), attr)
        return self._value

    def __getitem__(self, key: Any) -> Any:
        return self._load()[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def lazy_function(module: str, attr: str) -> Callable[..., Any]:
    """``module.attr`` (a function), imported when first called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module, "catapult_theory"), attr)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    call.__doc__ = f"``catapult_theory{module}.{attr}``, imported on first call."
    return call


@dataclass(frozen=True)
class ModelFamily:
    """Everything about one model family, found in one place.

    Parameters
    ----------
    name
        Registry name (``"uv"``, ...), the same in every command.
    help
        One line for ``catapult models`` and ``--help``.
    model
        Builder of the family's :class:`SymbolicModel`.
    cli
        Factory of the CLI face (arguments and handlers of ``derive``/``run``/``phases``).
    constants
        Numeric providers of the bound catalogue's data-dependent constants,
        ``symbol -> provider(setup) -> float`` (the experiments' setup of this family).
    data_specs
        The ``--data`` specs the family accepts, with their meaning.
    report_section
        Name of the ``catapult reproduce`` section that covers the family.
    strategies
        Hypothesis strategies of the family (``name -> strategy factory``).
    """

    name: str
    help: str
    model: Callable[[], SymbolicModel]
    cli: Callable[[], Any] | None = None
    constants: Mapping[sp.Symbol, Callable[[Any], float]] = field(default_factory=dict)
    data_specs: Mapping[str, str] = field(default_factory=dict)
    report_section: str | None = None
    strategies: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def symbols_only(self) -> bool:
        """True for a family given only as symbols (no numeric engine, no CLI run/phases)."""
        return self.cli is None

    def bounds(self) -> dict[str, BoundSpec]:
        """The family's bounds from the symbolic catalogue (empty if it declares none)."""
        try:
            return bound_catalog(self.name)
        except ValueError:
            return {}

    def cli_face(self) -> Any:
        """The CLI face: the family's own, or the symbols-only one (``derive``)."""
        from ..cli import Family

        if self.cli is not None:
            return self.cli()
        return Family.symbols_only(self.name, self.help)


def _builtin() -> list[ModelFamily]:
    from .quadratic import PURE_QUADRATIC, QUADRATIC_BIAS
    from .three_layer import THREE_LAYER
    from .two_layer import TWO_LAYER
    from .uv import UV

    return [UV, PURE_QUADRATIC, QUADRATIC_BIAS, TWO_LAYER, THREE_LAYER]


class _Builtin:
    """The built-in families, an explicit list (built on first use)."""

    _items: list[ModelFamily] | None = None

    def __call__(self) -> list[ModelFamily]:
        if self._items is None:
            self._items = _builtin()
        return list(self._items)


#: the built-in families, in the order of the study
BUILTIN = _Builtin()


def families() -> list[ModelFamily]:
    """Every family: the built-ins, then each family registered as symbols only."""
    out = BUILTIN()
    known = {f.name for f in out}
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
    """The family called ``name`` (``ValueError`` naming the known ones otherwise)."""
    for fam in families():
        if fam.name == name:
            return fam
    raise InvalidInput(f"unknown model family {name!r}; known: {', '.join(f.name for f in families())}")
