"""``ntk-bound``: for any degree-2 homogeneous family whose gradient map obeys an
operator relation ``Ψ³θ = KΨθ`` (derived by the symbolic layer),
``λ <= K |θ|²`` on one datum, from the identity ``K|θ|² − λ = K|θ − Ψ²θ/K|²``
of the word algebra; and the window end the symbolic layer reports is where
the weight-norm increment changes sign at that bound. Generic: the same steps
for a family registered at run time.
"""

from __future__ import annotations

import sympy as sp

from catapult_theory.symbolic import symbols as S

from . import _sources as src
from ._kernel import Definition, Identity, Step, Theorem
from ._ntk import ETA_STAR, spectral_steps
from ._tactics import model_table

ID = "ntk-bound"


def theorem(model: str | None = None) -> Theorem:
    model = model or "uv"
    th = src.theory(model)
    t = model_table(model)
    if th.K is None:
        raise ValueError(f"the symbolic layer found no operator relation Ψ³ = KΨ for {model!r} (the family is "
                         "not homogeneous of degree 2, or Ψ³ is not a multiple of Ψ)")
    K = th.K
    steps, bound = spectral_steps(t, K, sampler="uv" if model == "uv" else None)
    conclusion = [bound]
    if th.window is not None:
        pos = (sp.Gt(S.lam, 0), sp.Gt(S.w2, 0))
        t.add(Definition(ETA_STAR, "the learning rate at the reported window end, k_max/λ_0", th.window / S.lam,
                         r"\eta_{\ast}", where=pos))
        end = sp.Eq(ETA_STAR * K * S.w2, src.lemma_constant())
        steps.append(Step("window-end", end, Identity(), hypotheses=pos,
                          note="at the reported window end, η K|θ_0|² reaches the lemma's constant"))
        conclusion.append((end, pos))
    return Theorem(ID, tuple(t.hypotheses), tuple(conclusion), tuple(steps), tuple(t.definitions), model,
                   f"Ψ³ = KΨ (K = {sp.sstr(K)}) => λ <= K |θ|² on one datum, and the reported window "
                   "2 < k < λ_0 η* ends where η* K |θ_0|² = 4", generic=True)
