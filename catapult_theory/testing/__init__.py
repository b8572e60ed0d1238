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
"""

from __future__ import annotations

from ._claims import Claim, Counterexample, falsify, assert_holds
from ._quadratic import QuadraticProblem, QuadraticStep, quadratic_gd_step, quadratic_problems
from ._two_layer import TwoLayerProblem, TwoLayerStep, two_layer_gd_step, two_layer_problems
from ._uv import UVProblem, UVStep, uv_gd_step, uv_problems

__all__ = [
    "Claim",
    "Counterexample",
    "QuadraticProblem",
    "QuadraticStep",
    "TwoLayerProblem",
    "TwoLayerStep",
    "quadratic_gd_step",
    "quadratic_problems",
    "two_layer_gd_step",
    "two_layer_problems",
    "UVProblem",
    "UVStep",
    "assert_holds",
    "falsify",
    "uv_gd_step",
    "uv_problems",
]
