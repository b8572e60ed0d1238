"""Everything the package derives about one model, derived once and cached."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy as sp

from . import _symbols as S
from ._bounds import operator_relation, window_k
from ._derive import Derivation, SymbolicModel, UpdateMap
from ._thresholds import Threshold, divergence_threshold, onset_threshold
from .models import uv_model
from .models.quadratic import pure_quadratic_model, quadratic_bias_model
from .models.two_layer import two_layer_model

__all__ = ["ModelTheory", "theory", "MODELS", "register"]

#: model name -> builder of its SymbolicModel
MODELS: dict[str, Callable[[], SymbolicModel]] = {
    "uv": uv_model,
    "pure-quadratic": pure_quadratic_model,
    "quadratic-bias": quadratic_bias_model,
    "two-layer": two_layer_model,
}


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


@lru_cache(maxsize=None)
def theory(name: str) -> ModelTheory:
    """Derive (once per process) the update map, thresholds and lemma of a model."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None
    model = builder()
    der = Derivation(model)
    umap = der.update_map()
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
