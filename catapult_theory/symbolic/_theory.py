"""Everything the package derives about one model, derived once per installation
(stored in the on-disk cache of :mod:`._cache`) and kept for the process."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Callable

import sympy as sp

from ..errors import InvalidInput
from . import _store
from . import _symbols as S
from ._bounds import operator_relation, window_k
from ._derive import Derivation, SymbolicModel, UpdateMap
from ._thresholds import Threshold, divergence_threshold, onset_threshold
from .models import uv_model
from .models.quadratic import pure_quadratic_model, quadratic_bias_model
from .models.two_layer import two_layer_model

__all__ = ["BUILTIN_MODELS", "MODELS", "FactoredUpdateMap", "ModelTheory", "derive_theory", "register", "theory"]

#: model name -> builder of its SymbolicModel
MODELS: dict[str, Callable[[], SymbolicModel]] = {
    "uv": uv_model,
    "pure-quadratic": pure_quadratic_model,
    "quadratic-bias": quadratic_bias_model,
    "two-layer": two_layer_model,
}


#: the package's own builders: a miss of one of these in the on-disk cache pre-builds them all
BUILTIN_MODELS: dict[str, Callable[[], SymbolicModel]] = dict(MODELS)

#: pre-build every built-in theory and bound catalogue on the first miss of a built-in
PREBUILD_BUILTINS = True
#: what pre-builds them (set by :mod:`._cache`, which stands on the bound catalogue)
PREBUILD: list[Callable[[tuple[str, ...]], object]] = []


def register(name: str, builder: Callable[[], SymbolicModel]) -> None:
    """Add a model family to the registry (for the CLI and :func:`theory`)."""
    MODELS[name] = builder
    theory.cache_clear()


@dataclass(frozen=True)
class ModelTheory:
    """The derived facts of one model: update map, thresholds, lemma checks."""

    model: SymbolicModel
    derivation: Derivation
    update: UpdateMap
    thresholds: dict[str, Threshold]
    euler_residual: sp.Expr
    homogeneity_residual: sp.Expr
    weight_norm_residual: sp.Expr
    #: K with lam <= K w2 (from Ψ³ = K Ψ), when the model has such a relation
    K: sp.Expr | None = None
    #: upper end of the proven window in k = eta lam0, in the initial state symbols
    window: sp.Expr | None = None

    @property
    def homogeneous(self) -> bool:
        """True when ``f`` is homogeneous of degree 2 (checked directly and by Euler)."""
        return self.homogeneity_residual == 0 and self.euler_residual == 0

    def _repr_latex_(self) -> str:
        """Jupyter: the map, lemma, thresholds and window as display math."""
        from ..display_hooks import show

        return show("theory_latex", self)

    def _repr_markdown_(self) -> str:
        """Jupyter: the tables of ``catapult derive --format markdown``."""
        from ..display_hooks import show

        return show("theory_markdown", self)


@lru_cache(maxsize=None)
def theory(name: str) -> ModelTheory:
    """The update map, thresholds and lemma of a registered model: derived once per
    installation (:func:`derive_theory`, stored in the on-disk cache of
    :mod:`._cache`) and once loaded, kept for the process."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise InvalidInput(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None
    model = builder()
    th = _store.load("theory", name, model, check=lambda v: isinstance(v, ModelTheory) and v.model == model)
    if th is None:
        th = derive_theory(model)
        stored = _store.store("theory", name, model, th)
        # only where entries can be stored: else every process would derive every built-in
        if stored is not None and PREBUILD_BUILTINS and BUILTIN_MODELS.get(name) is builder:
            _prebuild_builtins()
    return th


_prebuilding = False


def _prebuild_builtins() -> None:
    """First use of a built-in: derive (or load) every built-in theory and bound
    catalogue now, so that every later process only loads them."""
    global _prebuilding
    if _prebuilding:
        return
    _prebuilding = True
    try:
        for prebuild in PREBUILD:
            prebuild(tuple(n for n, b in BUILTIN_MODELS.items() if MODELS.get(n) is b))
    finally:
        _prebuilding = False


class FactoredUpdateMap(UpdateMap):
    """An :class:`UpdateMap` whose factored :meth:`increments` and :meth:`contract`
    form are computed once and kept with it (so a cached theory exports without
    factoring again). Equal to a plain :class:`UpdateMap` with the same fields."""

    def increments(self) -> dict[sp.Symbol, sp.Expr]:
        """``s' − s`` for each invariant, factored (computed once)."""
        memo = self.__dict__.get("_increments")
        if memo is None:
            memo = UpdateMap.increments(self)
            object.__setattr__(self, "_increments", memo)
        return dict(memo)

    def contract(self) -> dict[sp.Symbol, sp.Expr]:
        """The update with ``r`` replaced by ``f − y`` (computed once)."""
        memo = self.__dict__.get("_contract")
        if memo is None:
            memo = UpdateMap.contract(self)
            object.__setattr__(self, "_contract", memo)
        return dict(memo)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UpdateMap):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(UpdateMap))

    __hash__ = None  # type: ignore[assignment]


def _memo_update_map(umap: UpdateMap) -> FactoredUpdateMap:
    """``umap`` as a :class:`FactoredUpdateMap`, its factored forms computed now."""
    out = FactoredUpdateMap(**{f.name: getattr(umap, f.name) for f in fields(UpdateMap)})
    out.increments()
    out.contract()
    return out


def derive_theory(model: SymbolicModel) -> ModelTheory:
    """Derive the update map, thresholds and lemma checks of ``model`` afresh (no cache)."""
    der = Derivation(model)
    umap = _memo_update_map(der.update_map())
    thresholds = {"eta_crit": onset_threshold(umap)}
    if not umap.leftover.get(S.w2) and not (umap.update[S.w2].free_symbols & set(umap.uses_extra)):
        thresholds["eta_max"] = divergence_threshold(umap)
    K = operator_relation(der)
    window = window_k(thresholds["eta_max"].eta, K) if K is not None and "eta_max" in thresholds else None
    return ModelTheory(
        model=model,
        derivation=der,
        update=umap,
        thresholds=thresholds,
        euler_residual=der.euler_residual(),
        homogeneity_residual=der.homogeneity_residual(),
        weight_norm_residual=der.weight_norm_identity_residual(),
        K=K,
        window=window,
    )
