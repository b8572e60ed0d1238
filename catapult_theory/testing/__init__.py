"""Hypothesis strategies and falsification helpers for claims about GD dynamics.

The package's own property tests use exactly this machinery; users can point
it at their own claimed bounds:

>>> from catapult_theory.testing import falsify, uv_problems, uv_gd_step, Claim
>>> claim = Claim("w2 decreases when eta*lam < 4.1, y = 0",
...               lambda p: uv_gd_step(p).dw2 < 0 if p.k < 4.1 else True)
>>> cex = falsify(claim, uv_problems(k_max=4.1, y_zero=True))   # doctest: +SKIP
>>> cex.example.k                                               # doctest: +SKIP
4.000...

A :class:`Claim` is a predicate over drawn examples; :func:`falsify` searches
for an example where it is false (Hypothesis ``find``: random search, then
shrinking to a simplest counterexample) and returns it, or ``None`` when the
search budget finds none (which is evidence, not proof). The search runs under
the caller's active Hypothesis settings profile (its ``max_examples``,
``derandomize``, phases and database), so a test suite's ``ci`` or ``dev``
profile governs it like any ``@given`` test.

Claims written as text, about realisable states of any model
-------------------------------------------------------------

:func:`parse_claim` reads a claim in a small safe language (a whitelist over
Python's ``ast``: numbers, the model's names, ``+ - * / **``, comparisons,
``and``/``or``/``not``, ``abs``, ``sqrt``, ``log``, ``exp``, ``min``, ``max``;
never ``eval``) and :func:`model_states` draws states a gradient-descent run can
be in: real parameters of the model (a built-in family, any
:class:`~catapult_theory.symbolic.SymbolicModel`, or a ``.py`` model file, whose
code then runs like a ``conftest.py``), drawn as exact rationals, with one real
GD step. A :class:`StateClaim` is checked in floats and re-checked exactly where
floats say false, so a counterexample is never a rounding artefact:

>>> from catapult_theory.testing import falsify, model_states, parse_claim
>>> claim = parse_claim("w2_next < w2", "uv")
>>> falsify(claim, model_states("uv", ["y == 0", "eta*lam < 4.5", "f != 0"]))  # doctest: +SKIP
Counterexample(claim='w2_next < w2', example=ModelState(uv: d=2, n=1, k=4.0, ...))

Strategies for users' own ``@given`` tests: :func:`model_states` and the
family ones (:func:`uv_states`, :func:`two_layer_states`,
:func:`pure_quadratic_states`, :func:`quadratic_bias_states`), :func:`k_windows`,
:func:`symmetric_matrices` (chosen spectra), :func:`datasets`, and the finite
problems :func:`uv_problems`, :func:`quadratic_problems`,
:func:`two_layer_problems` with their plain GD steps. :func:`search` is the
``catapult falsify`` search with explicit settings (``max_examples``, ``seed``).
"""

from __future__ import annotations

from ._claims import Claim, Counterexample, assert_holds, falsify
from ._expr import Undefined
from ._quadratic import (
    QuadraticProblem,
    QuadraticStep,
    quadratic_gd_step,
    quadratic_problems,
)
from ._search import (
    PHASES,
    SearchResult,
    Side,
    StateClaim,
    StatePlan,
    model_states,
    parse_claim,
    plan_states,
    search,
)
from ._states import OUTCOMES, ModelSpec, ModelState, model_spec
from ._strategies import (
    Dataset,
    datasets,
    k_windows,
    pure_quadratic_states,
    quadratic_bias_states,
    symmetric_matrices,
    two_layer_states,
    uv_states,
)
from ._two_layer import (
    TwoLayerProblem,
    TwoLayerStep,
    two_layer_gd_step,
    two_layer_problems,
)
from ._uv import UVProblem, UVStep, uv_gd_step, uv_problems

__all__ = [
    "PHASES",
    "Claim",
    "Counterexample",
    "Dataset",
    "ModelSpec",
    "ModelState",
    "QuadraticProblem",
    "QuadraticStep",
    "SearchResult",
    "Side",
    "StateClaim",
    "StatePlan",
    "TwoLayerProblem",
    "TwoLayerStep",
    "UVProblem",
    "UVStep",
    "Undefined",
    "assert_holds",
    "datasets",
    "falsify",
    "k_windows",
    "model_spec",
    "model_states",
    "parse_claim",
    "plan_states",
    "pure_quadratic_states",
    "quadratic_bias_states",
    "quadratic_gd_step",
    "quadratic_problems",
    "search",
    "symmetric_matrices",
    "two_layer_gd_step",
    "two_layer_problems",
    "two_layer_states",
    "uv_gd_step",
    "uv_problems",
    "uv_states",
]
