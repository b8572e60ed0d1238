"""Symbolic layer: the word algebra, generic GD-step derivation, lemma,
thresholds and bounds, per model family, with export to text/LaTeX/Markdown/Python/JSON.

The per-eigencomponent maps of the quadratic models are :func:`spectral_formulas`,
written in the symbols ``c`` (weight of one eigencomponent), ``mu`` (its
eigenvalue) and, for the bias model's feature block, ``pf`` (``p = θ_φᵀφ``) and
``qf`` (``q = |θ_φ|²``).

:func:`theory` and :func:`bound_catalog` derive each model once per installation:
the results are kept in an on-disk cache (:mod:`theory_cache <._cache>`;
``$CATAPULT_CACHE_DIR`` or the per-user cache folder); :func:`derive_theory`
always derives afresh.
"""

from . import _symbols as symbols
from ._bounds import gradient_operator_powers, operator_relation, window_k
from ._derive import (
    LEMMA_CONSTANT,
    Derivation,
    Expressed,
    SymbolicModel,
    UpdateMap,
    batch_weight_norm_identity,
    lemma_increment,
)
from ._export import FORMATS, bound_latex, derivation_latex_rows, latex_rows
from ._export import to_json as export_json
from ._export import to_latex as export_latex
from ._export import to_markdown as export_markdown
from ._export import to_python as export_python
from ._export import to_text as export_text
from ._theory import MODELS, ModelTheory, derive_theory, register, theory
from . import _cache as theory_cache
from ._thresholds import Threshold, divergence_threshold, onset_threshold, sign_change_root
from ._spectral import SpectralFormulas, c, closure_obstruction, mu, pf, qf, spectral_formulas
from ._catalog import QUANTITIES, BoundSpec, Premise, window_from
from ._catalog import bounds as bound_catalog
from ._words import Algebra, Factor, MatPoly, UnsupportedExpression
from .models.three_layer import ThreeLayerFacts, three_layer_facts, three_layer_model

# the ReLU three-layer net joins the registry (derive/prove); it is not among the built-ins
# the on-disk cache pre-builds on first use (its derivation takes tens of seconds)
register("three-layer", three_layer_model)

__all__ = [
    "ThreeLayerFacts",
    "three_layer_facts",
    "three_layer_model",
    "Algebra",
    "BoundSpec",
    "LEMMA_CONSTANT",
    "Premise",
    "QUANTITIES",
    "bound_catalog",
    "closure_obstruction",
    "lemma_increment",
    "sign_change_root",
    "window_from",
    "Derivation",
    "Expressed",
    "FORMATS",
    "Factor",
    "MODELS",
    "MatPoly",
    "ModelTheory",
    "SymbolicModel",
    "Threshold",
    "UnsupportedExpression",
    "UpdateMap",
    "batch_weight_norm_identity",
    "divergence_threshold",
    "bound_latex",
    "derivation_latex_rows",
    "latex_rows",
    "export_json",
    "export_latex",
    "export_markdown",
    "export_python",
    "export_text",
    "gradient_operator_powers",
    "onset_threshold",
    "operator_relation",
    "register",
    "symbols",
    "theory",
    "derive_theory",
    "theory_cache",
    "window_k",
    "SpectralFormulas",
    "spectral_formulas",
    "c",
    "mu",
    "pf",
    "qf",
]
