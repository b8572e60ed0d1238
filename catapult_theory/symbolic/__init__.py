"""Symbolic layer: the word algebra, generic GD-step derivation, lemma,
thresholds and bounds, per model family, with export to text/LaTeX/Python/JSON.

The per-eigencomponent maps of the quadratic models are :func:`spectral_formulas`,
written in the symbols ``c`` (weight of one eigencomponent), ``mu`` (its
eigenvalue) and, for the bias model's feature block, ``pf`` (``p = θ_φᵀφ``) and
``qf`` (``q = |θ_φ|²``).
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
from ._export import FORMATS
from ._export import to_json as export_json
from ._export import to_latex as export_latex
from ._export import to_python as export_python
from ._export import to_text as export_text
from ._theory import MODELS, ModelTheory, register, theory
from ._thresholds import Threshold, divergence_threshold, onset_threshold, sign_change_root
from ._spectral import SpectralFormulas, c, closure_obstruction, mu, pf, qf, spectral_formulas
from ._catalog import QUANTITIES, BoundSpec, Premise, window_from
from ._catalog import bounds as bound_catalog
from ._words import Algebra, Factor, MatPoly, UnsupportedExpression

__all__ = [
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
    "export_json",
    "export_latex",
    "export_python",
    "export_text",
    "gradient_operator_powers",
    "onset_threshold",
    "operator_relation",
    "register",
    "symbols",
    "theory",
    "window_k",
    "SpectralFormulas",
    "spectral_formulas",
    "c",
    "mu",
    "pf",
    "qf",
]
