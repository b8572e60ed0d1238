"""``uv-map``: the pair (f, λ) and |θ|² of the uv model are closed under one GD
step at every finite width: the derived one-step map (THEORY §3).

Each component after one step ``θ − η r ∇f`` (``f = vᵀUx/√n``, ``λ = |∇f|²``,
``|θ|² = |U|² + |v|²`` in the word algebra) equals the derived map, a
polynomial in the state, η, r, n and |x|² only, identically in n and d; the
compiled map of the package reproduces real GD (numeric cross-checks).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.compiled import update_map
from catapult_theory.symbolic import symbols as S
from catapult_theory.testing import UVProblem, uv_gd_step

from . import _numeric as N
from . import _sources as src
from ._kernel import Identity, Step, Theorem
from ._runner import Outcome
from ._tactics import F_NEXT, LAM_NEXT, W2_NEXT, model_table

ID = "uv-map"


def _gd_numeric(index: int):
    def check() -> Outcome:
        cm = update_map("uv")
        rng = np.random.default_rng(21)
        worst = 0.0
        for inst in N.instances("uv", 10, seed=31):
            M = inst.matrices
            p = UVProblem(M["U"], M["v"], M["x"], float(rng.standard_normal()), float(rng.uniform(0.1, 5)))
            st = uv_gd_step(p)
            args = {"f": st.f, "lam": st.lam, "w2": st.w2, "eta": st.eta, "y": p.y, "n": float(p.width),
                    "x2": float(p.x @ p.x)}
            got = cm(*(args[a] for a in cm.state + cm.params))[index]
            want = (st.f_next, st.lam_next, st.w2_next)[index]
            worst = max(worst, abs(float(got) - want) / max(abs(want), 1e-12))
        if worst > 1e-9:
            return Outcome(False, f"compiled map against real GD: relative deviation {worst:.2e}")
        return Outcome(True, f"compiled map against 10 real GD steps: worst relative deviation {worst:.1e}")

    return check


def theorem(model: str | None = None) -> Theorem:
    th = src.theory("uv")
    t = model_table("uv")
    nxt = {S.f: F_NEXT, S.lam: LAM_NEXT, S.w2: W2_NEXT}
    steps = []
    conclusion = []
    for i, s in enumerate(th.update.state):
        claim = sp.Eq(nxt[s], th.update.update[s])
        steps.append(Step(f"map-{s.name}", claim, Identity(),
                          note="the value after θ − η r ∇f, expanded in the word algebra (n, d symbolic), against "
                               "the derived map", numeric=_gd_numeric(i)))
        conclusion.append(claim)
    extra = set().union(*(e.free_symbols for e in th.update.update.values())) - {S.f, S.lam, S.w2, S.eta, S.r,
                                                                                   S.n, S.x2}
    if extra or not th.update.closed:
        raise ValueError(f"the derived uv map needs more than the state: {sorted(map(str, extra))}")
    steps[-1] = Step(steps[-1].name, steps[-1].claim, steps[-1].by, note=steps[-1].note,
                     numeric=_iterate_numeric(steps[-1].numeric))
    return Theorem(ID, tuple(t.hypotheses), tuple(conclusion), tuple(steps), tuple(t.definitions), "uv",
                   "(f, λ, |θ|²) of the uv model follow a closed one-step map at every finite width: after θ − η r ∇f "
                   "each is the stated polynomial of f, λ, |θ|², η, r, n and |x|²")


def _iterate_numeric(first):
    def check() -> Outcome:
        out = first()
        if not out:
            return out
        cm = update_map("uv")
        inst = N.instances("uv", 1, seed=41)[0]
        M = inst.matrices
        U, v, x = M["U"].copy(), M["v"].copy(), M["x"]
        n = U.shape[0]
        f0, lam0, w20 = (float(inst.values[q]) for q in (S.f, S.lam, S.w2))
        eta, y = 1.5 / lam0, 0.3
        state: tuple[float, ...] = (f0, lam0, w20)
        worst = 0.0
        for _ in range(30):
            f = v @ U @ x / np.sqrt(n)
            r = f - y
            U, v = U - eta * r * np.outer(v, x) / np.sqrt(n), v - eta * r * U @ x / np.sqrt(n)
            state = tuple(float(a) for a in cm(*state, eta, y, float(n), float(x @ x)))
            gU, gv = np.outer(v, x) / np.sqrt(n), U @ x / np.sqrt(n)
            real = (v @ U @ x / np.sqrt(n), np.sum(gU**2) + gv @ gv, np.sum(U**2) + v @ v)
            worst = max(worst, max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(state, real)))
        if worst > 1e-8:
            return Outcome(False, f"30 iterations of the map drift from GD by {worst:.2e}")
        return Outcome(True, f"{out.detail}; 30 iterations of the compiled map follow real GD (worst relative "
                             f"{worst:.1e})")

    return check
