"""Quadratic-model experiments: setups, predicted bounds, runs and phase sweeps.

One datum (``toy``) runs full-parameter GD beside the exact spectral engine;
phase sweeps on one datum use the spectral engine (exact, checked against GD
to ~1e-15), on many data full-parameter GD batched over learning rates.
Every bound is the symbolic catalogue's ``k_max`` evaluated on the concrete
initial state (spectral constants by ``numpy.linalg.eigvalsh``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..engine import (
    PhaseCriteria,
    QuadraticModel,
    QuadraticParams,
    QuadraticSpec,
    Trajectory,
    classify,
    features,
    meta_features,
    ntk,
    quadratic_init,
    quadratic_model,
    quadratic_output,
    serial_blas,
    spectral_state,
    train_quadratic,
    train_spectral,
)
from ..errors import InvalidInput, check_initial_state, check_int, check_lam0, check_positive, learning_rates
from ..symbolic import QUANTITIES
from ..symbolic import bound_catalog as bound_specs
from ..symbolic import symbols as S
from ..symbolic.models.quadratic import phi2, zeta
from ._bound_eval import Providers, evaluate_bounds
from ._bound_status import BoundHypotheses, bound_status
from ._boundaries import LARGEST_CONVERGENT, final_values, grid_boundaries, phase_flags
from ._dataset import Dataset
from ._quadratic_data import data_dimension, quadratic_data
from ._results import PhaseSweep, RunResult, max_rel_dev

__all__ = [
    "QUADRATIC_CONSTANTS",
    "QUADRATIC_HYPOTHESES",
    "QuadraticSetup",
    "quadratic_bounds",
    "quadratic_setup",
    "run_quadratic",
    "sweep_quadratic",
]

_Q = {s.name: s for s in QUANTITIES}
Lpsi2, LOmega, Leff2, B, Q, p_phi = (_Q[n] for n in ("Lpsi2", "LOmega", "Leff2", "B", "Q", "p_phi"))

_FAMILY = {"pure-quadratic": "pure", "quadratic-bias": "bias"}


@dataclass(frozen=True, eq=False)
class QuadraticSetup:
    """A concrete model, data set and initial parameters, with the initial state."""

    name: str
    model: QuadraticModel
    data: Dataset
    init: QuadraticParams
    f0: np.ndarray
    lam0: float
    w2_0: float
    settings: dict

    @property
    def single_datum(self) -> bool:
        """Whether the data set has one point (the exact spectral engine applies)."""
        return self.data.B == 1


def quadratic_setup(
    name: str,
    rank: int,
    *,
    features_: int = 0,
    mu: str = "uniform:1:2",
    activation: str = "identity",
    data: str = "toy",
    seed: int = 0,
    test_size: int = 512,
    mask_psi: int = 0,
    mask_phi: int = 0,
    inputs: str = "normal:0:1",
    labels: str = "teacher",
) -> QuadraticSetup:
    """Build model (``name`` = ``pure-quadratic`` or ``quadratic-bias``), data and init.

    ``inputs`` (the distribution of every input coordinate) and ``labels`` (``"teacher"``
    or a distribution of i.i.d. labels) apply to ``random:B:D`` data (:func:`.quadratic_data`).
    """
    if name not in _FAMILY:
        raise InvalidInput(f"unknown quadratic model {name!r}; use {', '.join(_FAMILY)}")
    rank, features_, seed = check_int("rank", rank, 1), check_int("features", features_, 0), check_int("seed", seed, 0)
    test_size = check_int("test_size", test_size, 0)
    mask_psi, mask_phi = check_int("mask_psi", mask_psi, 0), check_int("mask_phi", mask_phi, 0)
    d = data_dimension(data)
    spec = QuadraticSpec(rank=rank, d=d, family=_FAMILY[name], features=features_, mu=mu,
                         activation=activation, seed=seed)
    with np.errstate(all="ignore"):  # an overflow is refused just below, never a warning
        model = quadratic_model(spec)
        ds = quadratic_data(data, model, test_size=test_size, mask_psi=mask_psi, mask_phi=mask_phi, seed=seed,
                            inputs=inputs, labels=labels)
        if ds.d != model.d:
            raise InvalidInput(f"data dimension {ds.d} does not match the model's {model.d}")
        init = quadratic_init(model, seed)
        f0 = quadratic_output(model, init, ds.X)
        lam0 = float(ntk(model, init, ds.X).lam)
        loss0 = 0.5 * np.mean((f0 - ds.y) ** 2)
    check_initial_state({"f0": f0, "lam0": lam0, "the initial loss": loss0, "w2_0": init.w2},
                        "make the --mu-dist values (or the data) smaller")
    check_lam0(lam0, "raise the --mu-dist values (lam0 grows with the mu_i)")
    settings = {"model": name, "rank": rank, "features": features_, "mu": mu, "activation": activation,
                "data": data, "seed": seed, "B": ds.B, "d": ds.d,
                "test_size": 0 if ds.X_test is None else len(ds.X_test), "mask_psi": mask_psi, "mask_phi": mask_phi,
                "inputs": inputs, "labels": labels, "data_description": ds.description}
    return QuadraticSetup(name, model, ds, init, f0, lam0, float(init.w2), settings)


def _psi(setup: QuadraticSetup) -> np.ndarray:
    return meta_features(setup.model, setup.data.X)


def _top_square(mat: np.ndarray) -> float:
    """λ_max(M²) of a symmetric ``M``: the largest squared eigenvalue."""
    return float(np.max(np.linalg.eigvalsh(mat) ** 2))


def _psi_eff(setup: QuadraticSetup) -> np.ndarray:
    """``ψ_eff = B^(-1/2) Σ_a e_a ψ(x_a)``, ``e`` the top eigenvector of ``H_0``."""
    e = ntk(setup.model, setup.init, setup.data.X).vec
    return np.einsum("a,aij->ij", e, _psi(setup)) / np.sqrt(setup.data.B)


def _phi(setup: QuadraticSetup) -> np.ndarray:
    return features(setup.model, setup.data.X)[0]


def _modified_norm(setup: QuadraticSetup) -> float:
    """``Q`` at initialisation: the catalogue's definition of ``Q`` evaluated on this state."""
    (defn,) = [p for p in bound_specs("quadratic-bias")["feature"].premises if p.name == "Q"]
    phi = _phi(setup)
    vals = {S.w2: setup.w2_0, p_phi: float(setup.init.theta_phi @ phi), phi2: float(phi @ phi)}
    return float(defn.relation.rhs.xreplace({k: sp.Float(v, 30) for k, v in vals.items()}))


#: the quadratic families' bound constants, keyed by symbol (see :mod:`._bound_eval`)
QUADRATIC_CONSTANTS: Providers = {
    S.lam: lambda s: s.lam0,
    S.w2: lambda s: s.w2_0,
    zeta: lambda s: s.model.zeta,
    B: lambda s: float(s.data.B),
    Lpsi2: lambda s: _top_square(_psi(s)[0]),
    LOmega: lambda s: float(np.linalg.eigvalsh(np.einsum("aij,ajk->ik", _psi(s), _psi(s)))[-1]),
    Leff2: lambda s: _top_square(_psi_eff(s)),
    phi2: lambda s: float(_phi(s) @ _phi(s)),
    Q: _modified_norm,
}


def quadratic_bounds(setup: QuadraticSetup) -> dict[str, float]:
    """Predicted ``k_max`` of every applicable bound, for this initial state.

    One datum: ``single`` (pure) or ``feature`` and ``naive`` (bias). Many
    data (pure): ``omega`` and ``effective`` (heuristic). The constants come
    from :data:`QUADRATIC_CONSTANTS`.
    """
    cached = _PER_SETUP.setdefault(setup, {})
    if "bounds" not in cached:  # eigen-solves of m x m matrices: once per setup
        if setup.name == "pure-quadratic":
            names = ["single"] if setup.single_datum else ["omega", "effective"]
        else:
            names = (["feature"] if setup.single_datum else []) + ["naive"]
        with serial_blas():
            cached["bounds"] = evaluate_bounds(setup.name, names, setup, QUADRATIC_CONSTANTS)
    return dict(cached["bounds"])


#: per setup (weakly held): its bounds and its spectral state, each computed once
_PER_SETUP: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rigorous(model: str) -> dict[str, bool]:
    """``bound name -> rigorous?`` for a quadratic family (from the catalogue)."""
    return {name: spec.rigorous for name, spec in bound_specs(model).items()}


#: the quadratic families' own hypotheses (the heuristics'; the rest are the catalogue's)
QUADRATIC_HYPOTHESES = {
    "effective": BoundHypotheses(
        not_a_bound="treats the effective meta-feature psi_eff (from the top eigenvector e of H_0) as one "
                    "datum, and H need not stay aligned with e"),
    "naive": BoundHypotheses(
        one_datum=True,
        not_a_bound="drops the feature terms of a non-homogeneous model, and such models diverge below k = 4"),
}


def quadratic_bound_status(setup: QuadraticSetup, names) -> dict[str, dict]:
    """Rigorous? Hypotheses hold for this data? (:func:`.bound_status`)"""
    return bound_status(setup.name, names, setup.data.y, setup.data.B, hypotheses=QUADRATIC_HYPOTHESES)


def _gd(setup: QuadraticSetup, eta: np.ndarray, steps: int, criteria: PhaseCriteria, test_every: int = 1,
        with_test: bool = True, finals_only: bool = False):
    """Full-parameter GD; ``finals_only`` (a sweep): ``lam`` only where a run leaves and at the
    end, and runs whose loss settled below float64 resolution leave early."""
    d = setup.data
    return train_quadratic(setup.model, setup.init, d.X, d.y, eta, steps, test=d.test if with_test else None,
                           test_every=test_every, criteria=criteria, settle=finals_only,
                           lam_every=max(steps, 1) if finals_only else 1)


def _reduced(setup: QuadraticSetup, eta: np.ndarray, steps: int, criteria: PhaseCriteria) -> Trajectory:
    cached = _PER_SETUP.setdefault(setup, {})
    if "spectral" not in cached:  # one eigendecomposition of psi(x) per setup
        cached["spectral"] = spectral_state(setup.model, setup.init, setup.data.X[0])
    st = cached["spectral"]
    return train_spectral(st, eta, steps, y=float(setup.data.y[0]), criteria=criteria)


def run_quadratic(setup: QuadraticSetup, k: float, steps: int,
                  criteria: PhaseCriteria = PhaseCriteria(), test_every: int = 1) -> RunResult:
    """Full-parameter GD at ``η = k / lam0`` and, for one datum, the exact spectral engine
    (``test_every``: the cadence of the test loss, when the data have a test set)."""
    k, steps = check_positive("k", k), check_int("steps", steps, 1)
    test_every = check_int("test_every", test_every, 1)
    eta = float(learning_rates(k, setup.lam0, "lower --eta-lambda or raise the --mu-dist values"))
    gd = _gd(setup, np.asarray(eta), steps, criteria, test_every=test_every)
    b = quadratic_bounds(setup)
    ref = _reduced(setup, np.asarray(eta), steps, criteria) if setup.single_datum else None
    series = ("loss", "lam", "w2") + (("test_loss",) if "test_loss" in gd.extra else ())
    return RunResult(
        model=setup.name,
        phase=str(classify(gd, criteria)),
        eta=float(eta),
        k=float(k),
        lam0=setup.lam0,
        w2_0=setup.w2_0,
        gd=gd,
        reference=ref,
        reference_name="reduced",
        max_rel_dev=max_rel_dev(gd, ref) if ref is not None else None,
        settings={**setup.settings, "steps": steps,
                  **({"reduced_phase": str(classify(ref, criteria))} if ref is not None else {})},
        bounds=b,
        series=series,
        bound_status=quadratic_bound_status(setup, b),
    )


def sweep_quadratic(
    setup: QuadraticSetup,
    k: np.ndarray,
    steps: int = 2000,
    criteria: PhaseCriteria = PhaseCriteria(),
    tol: float = 1e-4,
    engine: str = "auto",
    refine: tuple[str, ...] = ("catapult_onset", "divergence", LARGEST_CONVERGENT),
) -> PhaseSweep:
    """Phases on a grid of ``k``; the boundaries named in ``refine`` refined by multisection
    on the same engine, the others reported at grid resolution (status ``grid``).

    ``engine``: ``"reduced"`` (one datum only), ``"gd"`` or ``"auto"`` (reduced
    for one datum, GD otherwise).
    """
    k = np.asarray(k, dtype=float)
    if engine == "auto":
        engine = "reduced" if setup.single_datum else "gd"
    if engine == "reduced" and not setup.single_datum:
        raise InvalidInput("the reduced (spectral) engine is exact for one datum only")

    learning_rates(k, setup.lam0, "lower --k-max or raise the --mu-dist values")  # every rate finite

    def run(ks: np.ndarray, test: bool) -> Trajectory:
        eta = ks / setup.lam0
        if engine == "reduced":
            return _reduced(setup, eta, steps, criteria)
        # the refinement runs decide a phase only: no test set
        return _gd(setup, eta, steps, criteria, test_every=max(steps, 1), with_test=test, finals_only=True)

    traj = run(k, test=True)
    phase = classify(traj, criteria)
    flags = phase_flags(traj, criteria, phase=phase)
    unknown = set(refine) - set(flags)
    if unknown:
        raise InvalidInput(f"unknown boundaries to refine: {', '.join(sorted(unknown))}; known: {', '.join(flags)}")
    boundaries = grid_boundaries(k, flags, lambda ks: phase_flags(run(ks, False), criteria), tol, refine=refine,
                                 phase=phase)
    final = final_values(traj, k / setup.lam0, setup.w2_0, extra=("test_loss",))
    b = quadratic_bounds(setup)
    status = quadratic_bound_status(setup, b)
    return PhaseSweep(
        model=setup.name,
        k=k,
        phase=phase,
        boundaries=boundaries,
        final=final,
        settings={**setup.settings, "steps": steps, "engine": engine, "lam0": setup.lam0, "w2_0": setup.w2_0,
                  "refined": list(refine),
                  "rigorous": {n: status[n]["rigorous"] for n in b}},
        bounds=b,
        bound_status=status,
    )



