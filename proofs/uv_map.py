"""``uv-map``: the pair (f, lam) and |θ|² of the uv model are closed under one GD
step at every finite width: the derived one-step map (THEORY §3).

Each component of the map, with f, lam, w2 given their meaning in the word
algebra (``f = vᵀUx/√n``, ``lam = |∇f|²``, ``w2 = |U|² + |v|²``), equals the
value after one step ``θ − η r ∇f`` identically in n and d; the map uses
nothing but the state; and the compiled map of the package reproduces real GD.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from catapult_theory.compiled import update_map
from catapult_theory.symbolic import symbols as S
from catapult_theory.testing import UVProblem, uv_gd_step

from . import _numeric as N
from . import _sources as src
from ._bounds import meaning
from ._core import Outcome, Step, Theorem, identity

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
    def build():
        th = src.theory("uv")
        der = th.derivation
        inv = der.invariants()
        steps = []
        for i, s in enumerate(th.update.state):
            target = th.update.update[s]
            diff = der.named(sp.expand(der.next(inv[s]) - meaning(der, target, {})))
            steps.append(Step(f"map-{s.name}", "identity", sp.Eq(sp.Symbol(f"{s.name}_next"),
                                                                th.update.contract()[s]),
                              f"{s.name} after θ − η r ∇f, expanded in the word algebra (n, d symbolic), "
                              "against the map with the state given its meaning",
                              check=lambda diff=diff: identity(diff, "one-step value against the map"),
                              numeric=_gd_numeric(i)))
        extra = set().union(*(e.free_symbols for e in th.update.contract().values())) - set(S.CONTRACT.values())

        def closed() -> Outcome:
            if not th.update.closed or extra:
                return Outcome(False, f"the map needs more than the state: leftover {dict(th.update.leftover)}, "
                                      f"extra {sorted(map(str, extra))}")
            return Outcome(True, "every component is a polynomial in f, lam, w2, eta, y, n, x2")

        def iterate_numeric() -> Outcome:
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
            return Outcome(True, f"30 iterations of the compiled map follow real GD (worst relative {worst:.1e})")

        steps.append(Step("closed", "identity", sp.Eq(sp.Symbol("leftover"), 0),
                          "subalgebra membership: no parameter atom is left over", uses=tuple(s.name for s in steps),
                          check=closed, numeric=iterate_numeric))
        return steps

    return Theorem(ID, "uv", "(f, lam, |θ|²) of the uv model follow a closed one-step map at every finite width",
                   ("one datum",), build)
