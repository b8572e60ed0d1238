"""Full-parameter GD of a model given only as symbols (engine/_symbolic.py) against the
independently written engines: the uv model on one datum, and the linear two-layer net
(f = vᵀUx/√(n d), slope 1) on many data, where the batch NTK and the mean loss meet."""

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory.compiled import CompiledModel, compiled_model
from catapult_theory.engine import GDConfig, train_symbolic, train_two_layer, train_uv, two_layer_init, uv_init
from catapult_theory.experiments import Dataset
from catapult_theory.symbolic import SymbolicModel
from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic.models import uv_model

D = sp.Symbol("d")


def _linear_net() -> SymbolicModel:
    U, v, x = MatrixSymbol("U", S.n, D), MatrixSymbol("v", S.n, 1), MatrixSymbol("x", D, 1)
    return SymbolicModel("linear-net", (U, v), v.T * U * x / sp.sqrt(S.n * D))


def _deviation(a, b, names=("loss", "lam", "w2")):
    T = min(a.loss.shape[0], b.loss.shape[0])
    return max(float(np.max(np.abs(getattr(a, n)[:T] - getattr(b, n)[:T]) / (1 + np.abs(getattr(b, n)[:T]))))
               for n in names)


def test_the_uv_model_matches_its_own_engine():
    n, d = 40, 3
    st = uv_init(n, d, seed=1)
    x = np.array([1.2, 0.0, 0.0])
    eta = np.array([0.05, 0.2, 0.6])
    res = train_symbolic(compiled_model(uv_model()), {"n": n, "d": d}, {}, {"U": st.U, "v": st.v[:, None]},
                         x[None, :], np.array([0.3]), "x", eta, GDConfig(150, settle=False))
    ref = train_uv(st, x, eta, 150, y=0.3, settle=False)
    assert _deviation(res.traj, ref) < 1e-12


def _linear_net_runs(cm: CompiledModel):
    n, d, B = 30, 4, 5
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((B, d)), rng.standard_normal(B)
    st = two_layer_init(n, d, seed=2)
    eta = np.array([0.1, 0.5, 1.5])
    res = train_symbolic(cm, {"n": n, "d": d}, {}, {"U": st.U, "v": st.v[:, None]}, X, y, "x", eta,
                         GDConfig(120, settle=False))
    ref = train_two_layer(st, Dataset("toy", "", X, y), 1.0, eta, 120).traj
    return res.traj, ref


def test_many_data_match_the_two_layer_engine_at_slope_one():
    got, ref = _linear_net_runs(compiled_model(_linear_net()))
    assert _deviation(got, ref) < 1e-10


def test_a_dropped_gradient_term_is_caught():
    """The wrong variant: GD that leaves out the gradient of U (only v learns)."""
    cm = CompiledModel(_linear_net())
    cm.grads = {**cm.grads, "U": []}
    cm._coeff_fns = {**cm._coeff_fns, "U": cm._coeff_fns["v"]}
    got, ref = _linear_net_runs(cm)
    assert _deviation(got, ref) > 1e-3


def test_a_trace_atom_never_forms_the_square_product():
    """tr(U Uᵀ) is summed elementwise: a (1, 5000, 2) batch would need 25e6 entries as a product."""
    from catapult_theory.engine import SymbolicGD

    cm = compiled_model(uv_model())
    n = 5000
    st = uv_init(n, 2, seed=0)
    fam = SymbolicGD(cm, {"n": n, "d": 2}, {}, {"U": st.U[None], "v": st.v[None, :, None]}, np.ones((1, 2)),
                     np.zeros(1), "x")
    import tracemalloc

    tracemalloc.start()
    try:
        obs = fam.observe(slice(0, 1), True, True, False, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * n * n / 20
    assert obs.w2[0] == pytest.approx(np.sum(st.U**2) + np.sum(st.v**2))


def test_frozen_runs_stay_finite_and_the_others_go_on():
    """A run that blows up is frozen at its step (a result, no warning); the batch goes on."""
    n, d = 20, 1
    st = uv_init(n, d, seed=0)
    res = train_symbolic(compiled_model(uv_model()), {"n": n, "d": d}, {}, {"U": st.U, "v": st.v[:, None]},
                         np.ones((1, 1)), np.zeros(1), "x", np.array([0.01, 50.0]), GDConfig(200))
    assert res.traj.diverged_at[0] < 0 <= res.traj.diverged_at[1]
    assert str(res.stop_reason[1]) == "diverged"
