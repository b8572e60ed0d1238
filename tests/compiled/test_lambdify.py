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


def test_spectral_maps_round_trip_and_broadcast(rng):
    """Each compiled spectral map equals its SymPy formula, with outputs of the arguments' broadcast shape."""
    from catapult_theory.compiled import spectral_maps
    from catapult_theory.symbolic import c, mu, pf, qf, spectral_formulas
    from catapult_theory.symbolic.models.quadratic import phi2, zeta

    sm, sf = spectral_maps(), spectral_formulas()
    assert spectral_maps() is sm  # compiled once per process
    cs, mus = rng.uniform(0, 2, 5), rng.normal(size=5)
    z, eta, r = 0.7, 0.3, -1.2
    p, q, ph2 = rng.normal(size=(3, 1)), rng.uniform(0.5, 2, (1, 4)), 1.3
    cases = [
        ((sm.weight_next(cs, mus, eta, r, z),), (sf.weight_next,), {c: cs, mu: mus, S.eta: eta, S.r: r, zeta: z},
         (5,)),
        (sm.contributions(cs, mus, z), sf.contributions, {c: cs, mu: mus, zeta: z}, (5,)),
        (sm.feature_next(p, q, ph2, eta, r), sf.feature_next, {pf: p, qf: q, phi2: ph2, S.eta: eta, S.r: r},
         (3, 4)),
        (sm.feature_contributions(p, q, ph2), sf.feature_contributions, {pf: p, qf: q, phi2: ph2}, (3, 4)),
    ]
    for got, exprs, values, shape in cases:
        assert len(got) == len(exprs)
        for g, e in zip(got, exprs):
            assert np.shape(g) == shape
            arrays = {s: np.broadcast_to(np.asarray(v, dtype=float), shape) for s, v in values.items()}
            want = np.array([float(e.evalf(subs={s: a[idx] for s, a in arrays.items()})) for idx in np.ndindex(shape)])
            assert_close(np.ravel(g), want, rtol=1e-12, atol=1e-14)


def _package_formulas():
    """Every formula the package lambdifies: the closed update map, each threshold of
    each model, the spectral maps."""
    from catapult_theory.symbolic import MODELS, c, mu, pf, qf, spectral_formulas
    from catapult_theory.symbolic.models.quadratic import phi2, zeta

    out = []
    for model in MODELS:
        th = theory(model)
        if th.update.closed:
            cm = update_map(model)
            out.append((list(th.update.state) + [S.CONTRACT[p] if p in S.CONTRACT else sp.Symbol(p)
                                                 for p in cm.params], list(cm.exprs)))
        for t in th.thresholds.values():
            out.append((sorted(t.eta.free_symbols, key=str), t.eta))
    sf = spectral_formulas()
    out += [([c, mu, S.eta, S.r, zeta], sf.weight_next), ([c, mu, zeta], list(sf.contributions)),
            ([pf, qf, phi2, S.eta, S.r], list(sf.feature_next)), ([pf, qf, phi2], list(sf.feature_contributions))]
    return out


def test_lambdify_over_numpy_writes_the_code_of_modules_numpy(rng):
    """The package's NumPy namespace (no star import) gives SymPy's ``modules="numpy"``
    code, line for line, and the same values."""
    import inspect

    from catapult_theory.compiled import lambdify_numpy

    formulas = _package_formulas()
    assert len(formulas) >= 10
    for args, exprs in formulas:
        mine = lambdify_numpy(args, exprs)
        ref = sp.lambdify(args, exprs, modules="numpy", cse=True)
        assert inspect.getsource(mine) == inspect.getsource(ref), exprs
        vals = [rng.uniform(0.5, 2.0, 3) for _ in args]
        with np.errstate(all="ignore"):
            got, want = mine(*vals), ref(*vals)
        np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float))


def test_compiling_does_not_load_numpy_submodules():
    """``modules="numpy"`` runs ``from numpy import *``, which imports ``numpy.f2py`` and
    ``numpy.testing`` (~0.15 s); the package's compiled functions do not."""
    import subprocess
    import sys

    code = ("import sys; from catapult_theory.compiled import threshold, update_map; "
            "threshold('uv', 'eta_crit'); update_map('uv'); "
            "print(sorted(m for m in ('numpy.f2py', 'numpy.testing') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
