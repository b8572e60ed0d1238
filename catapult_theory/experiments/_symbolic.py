"""Any model given as symbols, at finite width: set-up, runs beside the derived map, sweeps.

A model (a registered :class:`~catapult_theory.symbolic.SymbolicModel`, e.g. from a
user's file) is instantiated at integer dimensions: ``n`` is the width, the data
column's dimension is the data's (``toy``: one datum ``x = X e_1`` in ``R^d``, ``d`` from
``sizes``), every other dimension comes from ``sizes`` (default 1). Its own scalars
take the values of ``scalars``. Parameters are i.i.d. N(0, 1) from
``default_rng(seed)`` (in the order the model declares them) unless ``init`` gives
some of them. ``f`` and ``∇f`` come from the model's own expression at those sizes
(:mod:`catapult_theory.engine._symbolic`), all learning rates batched on the shared
driver.

Beside GD: the derived exact map of ``(f, lam, w2)`` when it closes (one datum: its
trajectory and ``max_rel_dev``), the phase classifier and refined boundaries, and the
window the generic lemma gives when the model has an operator relation
``Ψ³ = KΨ`` (``lam <= K w2``): ``k < k_max`` (the ``lemma`` bound: one datum, ``y = 0``;
not rigorous, as no theorem proves the window of a model given as symbols).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..compiled import CompiledModel, compile_expr, compiled_model, update_map
from ..data import DataSpec, parse_data_spec
from ..engine import GDConfig, PhaseCriteria, Trajectory, classify, iterate_map, symbolic_state, train_symbolic
from ..errors import InvalidInput, check_initial_state, check_int, check_lam0, check_positive, learning_rates
from ..symbolic import MODELS, theory
from ..symbolic import symbols as S
from ._bound_status import BoundHypotheses, bound_status
from ._boundaries import final_values, grid_boundaries, phase_flags
from ._data import load_data
from ._dataset import Dataset
from ._results import PhaseSweep, RunResult, max_rel_dev

__all__ = ["SymbolicSetup", "TEACHER_SEED_STREAM", "run_symbolic", "symbolic_bounds", "symbolic_hypotheses",
           "symbolic_setup", "sweep_symbolic"]

#: the stream of ``default_rng([seed, 1])``: inputs and teacher of ``random`` data (the student is ``seed``'s)
TEACHER_SEED_STREAM = 1
#: advice when ``lam0`` vanishes
_LAM0_ADVICE = "change --seed or the sizes (every gradient vanishes at this initial state)"


@dataclass(frozen=True, eq=False)
class SymbolicSetup:
    """A model at integer sizes, its data and its initial state."""

    name: str
    compiled: CompiledModel
    sizes: dict[str, int]
    scalars: dict[str, float]
    data_name: str | None
    data: Dataset
    init: dict[str, np.ndarray]
    f0: float
    lam0: float
    w2_0: float
    loss0: float
    named: dict[str, float]
    settings: dict[str, Any]

    @property
    def y(self) -> np.ndarray:
        """The training labels."""
        return self.data.y


def _data_column(cm: CompiledModel) -> tuple[str | None, sp.Expr | None]:
    """The model's data column (name and its dimension), ``(None, None)`` without data."""
    if not cm.data:
        return None, None
    if len(cm.data) > 1:
        raise InvalidInput(f"{cm.name}: a model runs at finite width with one data column x (d x 1); it reads "
                           f"{', '.join(cm.data)}")
    name = cm.data[0]
    rows, cols = (sp.sympify(v) for v in cm.shapes[name])
    if cols != 1:
        raise InvalidInput(f"{cm.name}: the data {name} must be a column (d x 1) to take one input per datum, "
                           f"it is {rows} x {cols}")
    return name, rows


def _sizes(cm: CompiledModel, width: int | None, sizes: Mapping[str, int], column: sp.Expr | None,
           spec: DataSpec) -> dict[str, int]:
    """Every dimension of the model: ``n`` the width, the data column's the data's, the rest
    from ``sizes`` (default 1)."""
    names = {d.name for d in cm.dims}
    unknown = sorted(set(sizes) - names)
    if unknown:
        raise InvalidInput(f"--size {unknown[0]}: the model has no dimension {unknown[0]!r}; its dimensions: "
                           f"{', '.join(sorted(names)) or 'none'}")
    out: dict[str, int] = {}
    for d in cm.dims:
        if d == S.n:
            if sizes.get("n") is not None and width is not None and sizes["n"] != width:
                raise InvalidInput(f"--size n={sizes['n']} and --width {width} disagree")
            w = width if width is not None else sizes.get("n")
            if w is None:
                raise InvalidInput(f"{cm.name}: the model has the width n: give --width")
            out["n"] = check_int("width", w, 1)
        else:
            out[d.name] = check_int(f"size {d.name}", sizes.get(d.name, 1), 1)
    if column is not None and spec.kind != "toy":
        D = spec.dim
        if isinstance(column, sp.Symbol):
            given = sizes.get(column.name)
            if given is not None and given != D:
                raise InvalidInput(f"--size {column.name}={given}: the data {spec.text} has inputs of dimension {D}")
            out[column.name] = D
        elif int(column) != D:
            raise InvalidInput(f"{cm.name}: the data column takes inputs of dimension {column}; {spec.text} has {D}")
    return out


def _column_dim(cm: CompiledModel, column: sp.Expr | None, sizes: Mapping[str, int]) -> int:
    if column is None:
        return 1
    return int(sp.sympify(column).xreplace(cm.sizes_of(dict(sizes))))


def _normal_init(cm: CompiledModel, sizes: Mapping[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {p: rng.standard_normal(cm.shape_of(p, dict(sizes))) for p in cm.params}


def _check_init(cm: CompiledModel, sizes: Mapping[str, int], given: Any) -> dict[str, np.ndarray]:
    if not isinstance(given, Mapping):
        raise InvalidInput(f"{cm.name}: init(sizes, rng) must return a mapping of parameter names to arrays, got "
                           f"{type(given).__name__}")
    out = {}
    for name, value in given.items():
        if name not in cm.params:
            raise InvalidInput(f"{cm.name}: init gives {name!r}, which is not a parameter ({', '.join(cm.params)})")
        shape = cm.shape_of(name, dict(sizes))
        try:
            arr = np.asarray(value, dtype=float).reshape(shape)
        except (TypeError, ValueError):
            raise InvalidInput(f"{cm.name}: init gives {name} of shape {np.shape(value)}, expected {shape}") from None
        if not np.all(np.isfinite(arr)):
            raise InvalidInput(f"{cm.name}: init gives {name} with entries that are not finite")
        out[name] = arr
    return out


def symbolic_setup(model: str, width: int | None = None, sizes: Mapping[str, int] | None = None,
                   scalars: Mapping[str, float] | None = None, data: str = "toy", seed: int = 0,
                   init: Callable[[Mapping[str, int], np.random.Generator], Any] | None = None,
                   train_size: int = 128, data_dir: str | None = None) -> SymbolicSetup:
    """The registered model ``model`` at finite sizes on a data set (module docstring)."""
    if model not in MODELS:
        raise InvalidInput(f"unknown model {model!r}; known: {', '.join(sorted(MODELS))}")
    cm = compiled_model(MODELS[model]())
    seed = check_int("seed", seed, 0)
    sizes = dict(sizes or {})
    scalars = {k: float(v) for k, v in (scalars or {}).items()}
    spec = parse_data_spec(data)
    column_name, column = _data_column(cm)
    dims = _sizes(cm, width, sizes, column, spec)
    names = {s.name for s in cm.scalars}
    unknown = sorted(set(scalars) - names)
    if unknown:
        raise InvalidInput(f"--scalar {unknown[0]}: the model has no scalar {unknown[0]!r}; its scalars: "
                           f"{', '.join(sorted(names)) or 'none'}")
    missing = sorted(names - set(scalars))
    if missing:
        raise InvalidInput(f"{cm.name}: give the value of its scalar {missing[0]} with --scalar {missing[0]}=VALUE")
    D = _column_dim(cm, column, dims)

    def teacher(sp_: DataSpec) -> Dataset:
        rng = np.random.default_rng([seed, TEACHER_SEED_STREAM])
        X = rng.standard_normal((sp_.B, sp_.D))
        T = sp_.T or 0
        X_test = rng.standard_normal((T, sp_.D)) if T else None
        theta = _normal_init(cm, dims, rng)
        with np.errstate(all="ignore"):
            y = symbolic_state(cm, dims, scalars, theta, X, np.zeros(sp_.B), column_name)[0]
            y_test = (symbolic_state(cm, dims, scalars, theta, X_test, np.zeros(T), column_name)[0]
                      if X_test is not None else None)
        if not np.all(np.isfinite(y)) or (y_test is not None and not np.all(np.isfinite(y_test))):
            raise InvalidInput(f"{cm.name}: the teacher's labels overflow float64 at these sizes")
        return Dataset(name=sp_.text, description=(
            f"{sp_.B} inputs in R^{sp_.D}, coordinates i.i.d. N(0, 1), labels from a teacher of the same model "
            f"(N(0, 1) parameters at the same sizes); " + (f"{T} test points drawn the same way" if T else
                                                            "no test set")), X=X, y=y, X_test=X_test, y_test=y_test)

    if spec.kind == "toy":
        X = np.zeros((1, D))
        X[0, 0] = spec.x
        ds = Dataset(name=spec.text, description=(f"one datum x = {spec.x:g} e_1 in R^{D}, y = {spec.y:g}"),
                     X=X, y=np.array([spec.y]))
    else:
        ds = load_data(spec, seed=seed, train_size=train_size, data_dir=data_dir, teacher=teacher)
    rng = np.random.default_rng(seed)
    params = _normal_init(cm, dims, rng)
    if init is not None:
        try:
            given = init(dict(dims), np.random.default_rng([seed, 2]))
        except InvalidInput:
            raise
        except Exception as exc:  # noqa: BLE001 - the model file's own init failed: bad input
            raise InvalidInput(f"{cm.name}: init(sizes, rng) raised {type(exc).__name__}: {exc}") from None
        params.update(_check_init(cm, dims, given))
    with np.errstate(all="ignore"):
        f, lam0, w2_0, named = symbolic_state(cm, dims, scalars, params, ds.X, ds.y, column_name)
        loss0 = 0.5 * np.mean((f - ds.y) ** 2)
    check_initial_state({"f0": f, "lam0": lam0, "w2_0": w2_0, "the initial loss": loss0},
                        "make the sizes, the data or the initialisation smaller")
    check_lam0(lam0, _LAM0_ADVICE)
    settings = {"model": model, "sizes": dict(dims), "scalars": dict(scalars), "data": data, "seed": seed,
                "B": ds.B, "d": ds.d, "test_size": ds.B_test, "data_description": ds.description,
                "init": "N(0, 1)" if init is None else "the model file's init"}
    return SymbolicSetup(model, cm, dims, scalars, column_name, ds, params, float(f[0]), float(lam0), float(w2_0),
                         float(loss0), named, settings)


def symbolic_hypotheses(model: str) -> dict[str, BoundHypotheses]:
    """The hypotheses of the ``lemma`` window of ``model`` (one datum, ``y = 0``): no theorem
    of ``catapult prove`` proves the window of a model given as symbols (its NTK bound and
    the weight-norm decrease are theorems for it, the window induction is not), so it is
    not rigorous; for a model that is not homogeneous of degree 2 it is a heuristic."""
    th = theory(model)
    origin = ("the generic window 4 lam_0/(K w2_0), K from the operator relation Psi^3 = K Psi, "
              f"K = {sp.sstr(th.K)}")
    if th.homogeneous:
        return {"lemma": BoundHypotheses(one_datum=True, origin=origin, outside_catalogue=True)}
    return {"lemma": BoundHypotheses(
        one_datum=True, outside_catalogue=True, origin=origin,
        not_a_bound="borrows the weight-norm lemma of degree-2 homogeneous models, and this model is not one")}


def symbolic_bounds(setup: SymbolicSetup) -> dict[str, float]:
    """``{"lemma": k_max}``: the window end of the generic lemma at the initial state,
    when the model has an operator relation (empty otherwise)."""
    window = theory(setup.name).window
    if window is None:
        return {}
    values = {**setup.named, "lam": setup.lam0, "w2": setup.w2_0}
    args = sorted(window.free_symbols, key=str)
    if any(a.name not in values for a in args):
        return {}
    with np.errstate(all="ignore"):
        return {"lemma": float(compile_expr(window, args)(*(values[a.name] for a in args)))}


def _status(setup: SymbolicSetup, bounds: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    return bound_status(setup.name, bounds, setup.data.y, setup.data.B, hypotheses=symbolic_hypotheses(setup.name))


def _map_params(setup: SymbolicSetup) -> dict[str, Any] | None:
    """The derived map's parameters at the initial state, or ``None`` when the map does not
    apply (it does not close, or the data have more than one point)."""
    if setup.data.B != 1 or not theory(setup.name).update.closed:
        return None
    cmap = update_map(setup.name)
    wanted = cmap.params[2:]
    if any(p not in setup.named for p in wanted):
        return None
    out: dict[str, Any] = {p: setup.named[p] for p in wanted}
    return out


def _gd(setup: SymbolicSetup, eta: np.ndarray, steps: int, tol: float | None, criteria: PhaseCriteria,
        with_test: bool = True) -> Any:
    d = setup.data
    return train_symbolic(setup.compiled, setup.sizes, setup.scalars, setup.init, d.X, d.y, setup.data_name, eta,
                          GDConfig(steps, criteria, tol=tol), test=d.test if with_test else None)


def run_symbolic(setup: SymbolicSetup, k: float, steps: int, tol: float | None = None,
                 criteria: PhaseCriteria = PhaseCriteria()) -> RunResult:
    """Full-parameter GD at ``η = k / lam0`` beside the derived map (one datum, map closed)."""
    k, steps = check_positive("k", k), check_int("steps", steps, 1)
    eta = float(learning_rates(k, setup.lam0, "lower --eta-lambda"))
    res = _gd(setup, np.array([eta]), steps, tol, criteria)
    gd = res.traj.run(0)
    params = _map_params(setup)
    ref: Trajectory | None = None
    if params is not None:
        ref = iterate_map(update_map(setup.name), f0=setup.f0, lam0=setup.lam0, w2_0=setup.w2_0, eta=eta,
                          y=float(setup.data.y[0]), steps=steps, criteria=criteria, settle=True, **params)
    bounds = symbolic_bounds(setup)
    series = ("loss", "lam", "w2") + (("test_loss",) if "test_loss" in gd.extra else ())
    return RunResult(
        model=setup.name, phase=str(classify(gd, criteria)), eta=eta, k=float(k), lam0=setup.lam0,
        w2_0=setup.w2_0, gd=gd, reference=ref, reference_name="map",
        max_rel_dev=max_rel_dev(gd, ref) if ref is not None else None,
        settings={**setup.settings, "steps": steps, "tol": tol, "f0": setup.f0,
                  "stopped_at": int(res.stopped_at[0]), "stop_reason": str(res.stop_reason[0]),
                  **({"map_phase": str(classify(ref, criteria))} if ref is not None else {})},
        bounds=bounds, series=series, bound_status=_status(setup, bounds))


def sweep_symbolic(setup: SymbolicSetup, k: np.ndarray, steps: int = 2000, tol: float | None = None,
                   criteria: PhaseCriteria = PhaseCriteria(), refine: bool = True,
                   refine_tol: float = 1e-3) -> PhaseSweep:
    """Phases of full-parameter GD on a grid of ``k``, every rate batched; boundaries
    (``catapult_onset``, ``divergence``) refined by multisection (each round one batched
    run) unless ``refine`` is false."""
    k = np.asarray(k, dtype=float)
    steps = check_int("steps", steps, 1)
    eta = learning_rates(k, setup.lam0, "lower --k-max")
    res = _gd(setup, eta, steps, tol, criteria)
    traj = res.traj
    phase = classify(traj, criteria)

    def evaluate(ks: np.ndarray) -> dict[str, np.ndarray]:
        return phase_flags(_gd(setup, ks / setup.lam0, steps, tol, criteria, with_test=False).traj, criteria)

    boundaries = grid_boundaries(k, phase_flags(traj, criteria, phase=phase), evaluate if refine else None,
                                 refine_tol, phase=phase)
    final = final_values(traj, k / setup.lam0, setup.w2_0, extra=("test_loss",))
    final["diverged_at"] = np.where(traj.diverged_at >= 0, traj.diverged_at, -1)
    bounds = symbolic_bounds(setup)
    status = _status(setup, bounds)
    return PhaseSweep(
        model=setup.name, k=k, phase=phase, boundaries=boundaries, final=final,
        settings={**setup.settings, "steps": steps, "tol": tol, "lam0": setup.lam0, "w2_0": setup.w2_0,
                  "f0": setup.f0, "engine": "GD", "refined": refine,
                  "stop_reason": [str(r) for r in res.stop_reason],
                  "rigorous": {n: status[n]["rigorous"] for n in bounds}},
        bounds=bounds, bound_status=status)
