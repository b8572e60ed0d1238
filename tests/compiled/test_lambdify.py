"""The bridge: compiled functions equal the SymPy expressions they came from."""

import numpy as np
import pytest
import sympy as sp

from catapult_theory.compiled import compile_expr, threshold, update_map
from catapult_theory.symbolic import symbols as S, theory
from tests.tolerances import assert_close


def test_update_map_round_trip(rng):
    cm = update_map("uv")
    assert cm.state == ("f", "lam", "w2") and cm.params == ("eta", "y", "n", "x2")
    th = theory("uv")
    for _ in range(25):
        vals = {"f": rng.normal(), "lam": rng.uniform(0.1, 5), "w2": rng.uniform(1, 100), "eta": rng.uniform(0, 3),
                "y": rng.normal(), "n": float(rng.integers(1, 5000)), "x2": rng.uniform(0.1, 4)}
        got = cm(*(vals[a] for a in cm.state + cm.params))
        subs = {S.CONTRACT[k]: v for k, v in vals.items()}
        for g, e in zip(got, cm.exprs):
            assert_close(g, float(e.evalf(subs=subs)), rtol=1e-12, atol=1e-12)
    # the compiled map is built once per process
    assert update_map("uv") is cm


def test_update_map_broadcasts():
    cm = update_map("uv")
    eta = np.linspace(0.1, 2, 7)[:, None]
    n = np.array([10.0, 100.0, 1000.0])[None, :]
    out = cm(1.0, 2.0, 3.0, eta, 0.0, n, 1.0)
    assert all(o.shape == (7, 3) for o in out)


def test_thresholds_compiled():
    crit, mx = threshold("uv", "eta_crit"), threshold("uv", "eta_max")
    lam = np.array([0.5, 2.0])
    assert_close(crit(lam=lam) * lam, np.full(2, float(theory("uv").thresholds["eta_crit"].eta.subs(S.lam, 1))),
                 rtol=1e-15)
    assert_close(mx(lam=lam), 2 * crit(lam=lam), rtol=1e-15)
    with pytest.raises(ValueError, match="needs"):
        crit()
    with pytest.raises(ValueError, match="no threshold"):
        threshold("uv", "eta_nope")


def test_compile_rejects_foreign_symbols():
    with pytest.raises(ValueError, match="not arguments"):
        compile_expr(S.f + sp.Symbol("mystery"), [S.f])
