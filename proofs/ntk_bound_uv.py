"""``ntk-bound-uv``: λ <= (x2/n) |θ|² for the uv model on one datum (any d).

The gradient map Ψθ = ∇f obeys Ψ³ = (x2/n)Ψ, so ``(x2/n)|θ|² − λ =
(x2/n)|θ − Ψ²θ n/x2|² >= 0`` (an identity of the word algebra); the bound is
attained for d = 1 (checked on real models). The constant is the catalogue's.
"""

from __future__ import annotations

import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._kernel import Theorem
from ._ntk import spectral_steps, window_end_step
from ._tactics import model_table

ID = "ntk-bound-uv"


def theorem(model: str | None = None) -> Theorem:
    spec = src.bound("uv", "lemma")
    assert spec.ntk is not None, "a rigorous bound states its NTK inequality"
    t = model_table("uv")
    steps, bound = spectral_steps(t, spec.K, bound_rel=spec.ntk, sampler="uv")
    end, defn = window_end_step(spec, spec.ntk.rhs)
    t.add(defn)
    steps.append(end)
    return Theorem(ID, tuple(t.hypotheses), (bound, (end.claim, end.hypotheses)), tuple(steps), tuple(t.definitions), "uv",
                   "λ <= (x2/n)|θ|² for the uv model on one datum, attained for d = 1; the window 2 < k < k_max "
                   "ends where η (x2/n)|θ_0|² = 4")
