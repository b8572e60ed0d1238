"""Full-batch GD on three-layer homogeneous nets (ReLU MLPs), batched over learning rates.

Model (THEORY §7 rows 14–16; :mod:`catapult_theory.symbolic.models.three_layer`):
``f(x) = vᵀ σ(W2 σ(W1 x)) / (n √d)`` with ``σ(z) = z`` for ``z > 0`` and ``a z``
otherwise (``a = slope`` in ``[0, 1]``), ``W1 ∈ R^{n×d}``, ``W2 ∈ R^{n×n}``,
``v ∈ R^n``, no biases: the NTK parametrisation ``h1 = σ(W1 x/√d)``,
``h2 = σ(W2 h1/√n)``, ``f = vᵀ h2/√n`` with the scalings moved outside (σ is
positively homogeneous), ``c = 1/(n √d)``. Square loss
``L = (1/2B) Σ_a (f(x_a) − y_a)²``, full-batch GD on all of ``θ = (W1, W2, v)``.

Closed forms (``X`` the ``B × d`` inputs; per datum columns ``Z1 = W1 Xᵀ``,
``H1 = σ(Z1)``, ``D1 = σ'(Z1)``, ``Z2 = W2 H1``, ``H2 = σ(Z2)``, ``D2 = σ'(Z2)``
with entries 1 or ``a``; ``E2 = v ∘ D2`` (rows scaled by ``v``) and
``E1 = (W2ᵀ E2) ∘ D1`` the back-propagated signals; ``r = f − y``):

* ``f = c vᵀ H2``;
* ``∂L/∂v = (c/B) H2 r``, ``∂L/∂W2 = (c/B) (E2 ∘ r) H1ᵀ``, ``∂L/∂W1 = (c/B) (E1 ∘ r) X``
  (``∘ r``: column ``a`` scaled by ``r_a``);
* NTK ``Θ = c² [H2ᵀH2 + (E2ᵀE2) ∘ (H1ᵀH1) + (E1ᵀE1) ∘ (X Xᵀ)]`` and
  ``lam = λ_max(Θ/B)`` (:func:`top_eig` with a :class:`TopEigSolver`); no per-sample
  Jacobian is formed.

Per step and active rate the work is three ``n × n × B`` products (``Z2``,
``W2ᵀ E2``, the ``W2`` update, applied in place by BLAS), ``4 n d B`` for the first
layer, and four ``n B²`` Gram matrices at the steps where ``lam`` is evaluated; the
test inputs add their forward pass at the steps where the test loss is.

Activation sparsity, per hidden layer: the fraction of (unit, datum) pairs of the
training set with pre-activation ``<= 0`` (``sparsity1``, ``sparsity2``; ``sparsity``
their mean). A ReLU net (``a = 0``) whose second hidden layer is inactive on every
datum is *collapsed*: ``f ≡ 0``, every gradient vanishes and GD is stuck at loss
``mean(y²)/2`` (a dead first layer kills the second one too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput
from ._driver import (
    GDFamily,
    Observation,
    StopReason,
    Tally,
    check_data,
    check_int,
    require,
    run_gd,
)
from ._eig import TopEigSolver
from ._trajectory import PhaseCriteria, Trajectory, classify
from ._two_layer import SupervisedData, _check_slope, _sigma, guarded_top_eig, net_inputs

__all__ = [
    "ThreeLayerObservables",
    "ThreeLayerRun",
    "ThreeLayerState",
    "three_layer_init",
    "three_layer_ntk",
    "three_layer_observables",
    "three_layer_output",
    "train_three_layer",
]


@dataclass(frozen=True)
class ThreeLayerState:
    """Parameters of a (batch of) three-layer net(s): ``W1`` ``(..., n, d)``, ``W2``
    ``(..., n, n)``, ``v`` ``(..., n)``."""

    W1: np.ndarray
    W2: np.ndarray
    v: np.ndarray

    def __post_init__(self) -> None:
        W1, W2, v = np.asarray(self.W1), np.asarray(self.W2), np.asarray(self.v)
        if (W1.ndim < 2 or v.ndim < 1 or W1.shape[:-1] != v.shape or W2.shape != v.shape + v.shape[-1:]):
            raise InvalidInput(f"W1 must be (..., n, d), W2 (..., n, n) and v (..., n), got {W1.shape}, "
                               f"{W2.shape} and {v.shape}")

    width = property(lambda self: int(self.W1.shape[-2]), doc="``n``")
    dim = property(lambda self: int(self.W1.shape[-1]), doc="``d``")
    batch_shape = property(lambda self: tuple(self.W1.shape[:-2]), doc="the leading (batch) axes")

    @property
    def w2(self) -> np.ndarray:
        """``|θ|² = |W1|² + |W2|² + |v|²`` per net of the batch."""
        return (np.sum(self.W1**2, axis=(-2, -1)) + np.sum(self.W2**2, axis=(-2, -1))
                + np.sum(self.v**2, axis=-1))


def three_layer_init(width: int, d: int, seed: int = 0) -> ThreeLayerState:
    """i.i.d. N(0, 1) ``W1`` ``(width, d)``, then ``W2`` ``(width, width)``, then ``v``
    ``(width,)`` from ``numpy.random.default_rng(seed)``."""
    width, d = check_int("width", width, 1), check_int("d", d, 1)
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((width, d))
    W2 = rng.standard_normal((width, width))
    return ThreeLayerState(W1, W2, rng.standard_normal(width))


def _forward(state: ThreeLayerState, X: np.ndarray, slope: float) -> dict[str, np.ndarray]:
    """Every intermediate of the forward and backward pass on ``X`` (module docstring)."""
    X, _ = check_data(X, None, state.dim)
    Z1 = np.asarray(state.W1) @ X.T
    H1, D1 = _sigma(Z1, slope)
    Z2 = np.asarray(state.W2) @ H1
    H2, D2 = _sigma(Z2, slope)
    E2 = np.asarray(state.v)[..., :, None] * D2
    E1 = (np.swapaxes(np.asarray(state.W2), -1, -2) @ E2) * D1
    return {"Z1": Z1, "H1": H1, "Z2": Z2, "H2": H2, "E2": E2, "E1": E1, "X": X}


def _scale(state: ThreeLayerState) -> float:
    return 1.0 / (state.width * np.sqrt(state.dim))


def three_layer_output(state: ThreeLayerState, X: np.ndarray, slope: float) -> np.ndarray:
    """Outputs ``f(x_a)`` ``(..., B)`` for inputs ``X`` ``(B, d)``."""
    fw = _forward(state, X, _check_slope(slope))
    return np.einsum("...i,...ib->...b", state.v, fw["H2"]) * _scale(state)


def three_layer_ntk(state: ThreeLayerState, X: np.ndarray, slope: float) -> np.ndarray:
    """The NTK ``Θ_ab = ∇f(x_a)·∇f(x_b)`` over all parameters, ``(..., B, B)``, from the
    closed form of the module docstring."""
    fw = _forward(state, X, _check_slope(slope))

    def gram(M: np.ndarray) -> np.ndarray:
        return np.swapaxes(M, -1, -2) @ M

    X = fw["X"]
    G = gram(fw["H2"]) + gram(fw["E2"]) * gram(fw["H1"]) + gram(fw["E1"]) * (X @ X.T)
    G = G * _scale(state) ** 2
    return 0.5 * (G + np.swapaxes(G, -1, -2))


@dataclass(frozen=True)
class ThreeLayerObservables:
    """Output, loss, ``lam = λ_max(Θ/B)``, ``w2 = |θ|²`` and the activation sparsity of
    each hidden layer (and their mean) of a (batch of) state(s) on one data set."""

    f: np.ndarray
    loss: np.ndarray
    lam: np.ndarray
    w2: np.ndarray
    sparsity1: np.ndarray
    sparsity2: np.ndarray

    @property
    def sparsity(self) -> np.ndarray:
        """Mean sparsity of the two hidden layers (they have the same width)."""
        return 0.5 * (self.sparsity1 + self.sparsity2)


def three_layer_observables(state: ThreeLayerState, X: np.ndarray, y: np.ndarray,
                            slope: float) -> ThreeLayerObservables:
    """Exact observables (dense ``eigvalsh``; meant for initial states and checks)."""
    slope = _check_slope(slope)
    X, y = check_data(X, y, state.dim)
    fw = _forward(state, X, slope)
    f = np.einsum("...i,...ib->...b", state.v, fw["H2"]) * _scale(state)
    lam = np.linalg.eigvalsh(three_layer_ntk(state, X, slope) / X.shape[0])[..., -1]
    return ThreeLayerObservables(f, 0.5 * np.mean((f - y) ** 2, axis=-1), lam, state.w2,
                                 np.mean(fw["Z1"] <= 0, axis=(-2, -1)), np.mean(fw["Z2"] <= 0, axis=(-2, -1)))


@dataclass(frozen=True, eq=False)
class ThreeLayerRun:
    """Result of :func:`train_three_layer` for a batch of ``R`` learning rates.

    ``traj``: loss, ``lam``, ``w2``, ``"sparsity"``, ``"sparsity1"``, ``"sparsity2"``
    (and ``"test_loss"`` with a test set), shape ``(T + 1, R)``; a run that stopped
    (``tol``, ``collapsed``) at step ``s`` repeats its step-``s`` values after ``s``.
    ``phase``: :func:`classify` labels (``collapsed``: the ReLU net became the constant
    0 on the training data). ``stopped_at``, ``stop_reason``, ``lam_evaluated`` as for
    the two-layer engine. ``state``: the parameters at ``stopped_at`` (``None`` when
    the caller did not keep them). ``gemm_flops``: level-3 FLOPs executed;
    ``lam_fallbacks``: exact eigen-solves the iteration needed.
    """

    traj: Trajectory
    phase: np.ndarray
    collapsed: np.ndarray
    stopped_at: np.ndarray
    stop_reason: np.ndarray
    lam_evaluated: np.ndarray
    state: ThreeLayerState | None
    slope: float
    gemm_flops: int
    lam_fallbacks: int
    settings: dict = field(default_factory=dict)


def _count(mask: np.ndarray) -> np.ndarray:
    """Number of ``True`` entries per rate of a ``(k, n, B)`` mask."""
    return np.count_nonzero(mask.reshape(mask.shape[0], -1), axis=1)


class _ThreeLayerFamily(GDFamily):
    """Buffers and per-slice kernels of the batched step (module docstring). Every buffer
    is slot-major (``(R, ...)``), so a slice of slots is a contiguous block and slices
    can run in threads."""

    extra, compact, blas_threads = ("sparsity", "sparsity1", "sparsity2"), True, True

    def __init__(self, init: tuple[np.ndarray, np.ndarray, np.ndarray], X: np.ndarray, y: np.ndarray,
                 X_test: np.ndarray | None, y_test: np.ndarray | None, slope: float, solver: TopEigSolver,
                 keep_state: bool) -> None:
        W1, W2, v = init
        (R, n, d), B, Bt = W1.shape, X.shape[0], 0 if X_test is None else X_test.shape[0]
        self.n, self.d, self.B, self.Bt, self.y, self.y_test = n, d, B, Bt, y, y_test
        self.has_test, self.slope, self.solver = Bt > 0, slope, solver
        self.work = R * (3 * n * n + n * (2 * B + Bt))
        self.c = 1.0 / (n * np.sqrt(d))
        self.XT = np.ascontiguousarray(X.T)
        self.X = np.ascontiguousarray(X)
        self.XtT = None if X_test is None else np.ascontiguousarray(X_test.T)
        XX = X @ X.T
        self.XX = 0.5 * (XX + XX.T)
        self.W1, self.W2, self.v = (np.array(W1, dtype=float, order="C"), np.array(W2, dtype=float, order="C"),
                                    np.array(v, dtype=float, order="C"))
        self.H1, self.H2 = np.empty((R, n, B)), np.empty((R, n, B))
        self.E2, self.E1 = np.empty((R, n, B)), np.empty((R, n, B))
        self.p = min(int(solver.block), B)
        self.Q = np.zeros((R, B, self.p))  # replaced by exact eigenvectors at the first evaluation
        self.Q[:, np.arange(self.p), np.arange(self.p)] = 1.0
        self.r, self.lam = np.empty((R, B)), np.empty(R)
        self.keep_state = keep_state
        if keep_state:
            self.final = (np.empty((R, n, d)), np.empty((R, n, n)), np.empty((R, n)))

    # -- per-slice kernels (the driver holds np.errstate(all="ignore"): a blow-up is a result) --

    def _act(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """In place ``Z ← σ(Z)``; returns ``(mask Z > 0, σ'(Z))`` (the mask itself for ReLU)."""
        mask = Z > 0
        if self.slope == 0.0:
            np.maximum(Z, 0.0, out=Z)
            return mask, mask
        D = np.where(mask, 1.0, self.slope)
        Z *= D
        return mask, D

    def _hidden(self, s: slice, XT: np.ndarray, H1: np.ndarray, H2: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Both hidden layers of the slots ``s`` on inputs ``XT`` ``(d, B')`` into ``H1``,
        ``H2`` ``(k, n, B')``; returns the masks and ``σ'`` of both layers."""
        k, n = s.stop - s.start, self.n
        np.matmul(self.W1[s].reshape(k * n, self.d), XT, out=H1.reshape(k * n, XT.shape[1]))
        m1, D1 = self._act(H1)
        np.matmul(self.W2[s], H1, out=H2)
        m2, D2 = self._act(H2)
        return m1, D1, m2, D2

    def observe(self, s: slice, lam: bool, exact: bool, test: bool, tally: Tally) -> Observation:
        """Forward and backward signals of the slice, outputs, loss, ``w2``, active
        counts, the test loss if ``test`` and ``lam`` if ``lam``."""
        k, n, d, B, c = s.stop - s.start, self.n, self.d, self.B, self.c
        m1, D1, m2, D2 = self._hidden(s, self.XT, self.H1[s], self.H2[s])
        v, E2 = self.v[s], self.E2[s]
        np.multiply(v[:, :, None], D2, out=E2)
        np.matmul(np.swapaxes(self.W2[s], 1, 2), E2, out=self.E1[s])
        self.E1[s] *= D1
        f = np.matmul(v[:, None, :], self.H2[s])[:, 0, :] * c
        np.subtract(f, self.y, out=self.r[s])
        tally.flops += k * (2 * n * d * B + 4 * n * n * B)
        a1, a2 = _count(m1), _count(m2)
        W1, W2 = self.W1[s].reshape(k, -1), self.W2[s].reshape(k, -1)
        s1, s2 = 1.0 - a1 / (n * B), 1.0 - a2 / (n * B)
        return Observation(
            loss=0.5 * np.mean(self.r[s] ** 2, axis=1),
            w2=np.einsum("ri,ri->r", W1, W1) + np.einsum("ri,ri->r", W2, W2) + np.einsum("ri,ri->r", v, v),
            lam=self._lam(s, exact, tally) if lam else None,
            test_loss=self.test_loss(s, tally) if test else None,
            extra={"sparsity": 0.5 * (s1 + s2), "sparsity1": s1, "sparsity2": s2},
            stuck=(a2 == 0) & (self.slope == 0.0),
        )

    def test_loss(self, s: slice, tally: Tally) -> np.ndarray:
        """The test loss at the current state."""
        assert self.XtT is not None and self.y_test is not None
        k, n, Bt = s.stop - s.start, self.n, self.Bt
        H1t, H2t = np.empty((k, n, Bt)), np.empty((k, n, Bt))
        self._hidden(s, self.XtT, H1t, H2t)
        tally.flops += k * (2 * n * self.d * Bt + 2 * n * n * Bt)
        ft = np.matmul(self.v[s][:, None, :], H2t)[:, 0, :] * self.c
        return 0.5 * np.mean((ft - self.y_test) ** 2, axis=1)

    def top_eig(self, s: slice, exact: bool, tally: Tally) -> np.ndarray:
        """``lam`` at the current state (the signals of the last forward pass)."""
        return self._lam(s, exact, tally)

    def _lam(self, s: slice, exact: bool, tally: Tally) -> np.ndarray:
        B = self.B

        def gram(M: np.ndarray) -> np.ndarray:
            return np.matmul(np.swapaxes(M, 1, 2), M)

        H = gram(self.E2[s]) * gram(self.H1[s])
        H += gram(self.H2[s])
        H += gram(self.E1[s]) * self.XX
        H *= self.c * self.c / B
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        tally.flops += (s.stop - s.start) * 8 * self.n * B * B
        self.lam[s], self.Q[s] = guarded_top_eig(H, self.Q[s], self.solver, exact, tally)
        return self.lam[s].copy()

    def update(self, s: slice, eta: np.ndarray, keep: np.ndarray, tally: Tally) -> None:
        """One GD step: ``η c r / B`` folded into the residual weights (0 for runs not
        kept); the ``W2`` update is one in-place BLAS product per rate."""
        from scipy.linalg.blas import dgemm  # here, not at import: SciPy's linalg costs ~0.15 s to import

        B = self.B
        rs = np.where(keep, eta * self.c / B, 0.0)[:, None] * self.r[s]  # (k, B)
        gv = np.matmul(self.H2[s], rs[:, :, None])[:, :, 0]
        self.E1[s] *= rs[:, None, :]
        self.W1[s] -= np.matmul(self.E1[s], self.X)
        E2r = self.E2[s] * rs[:, None, :]
        H1 = self.H1[s]
        for j in range(s.stop - s.start):
            if rs[j].any():
                # W2ᵀ (Fortran-ordered view of the C-ordered W2) ← W2ᵀ − H1 E2rᵀ, in place
                dgemm(-1.0, H1[j], E2r[j], beta=1.0, c=self.W2[s.start + j].T, trans_b=True, overwrite_c=True)
        self.v[s] -= gv
        tally.flops += (s.stop - s.start) * (2 * self.n * self.d * B + 2 * self.n * self.n * B)

    def retire(self, slots: np.ndarray, runs: np.ndarray) -> None:
        """Keep the final parameters of the leaving runs (when asked to)."""
        if self.keep_state:
            self.final[0][runs] = self.W1[slots]
            self.final[1][runs] = self.W2[slots]
            self.final[2][runs] = self.v[slots]

    def slot_arrays(self) -> list[tuple[np.ndarray, int]]:
        """``W1``, ``W2``, ``v`` and the warm start, slots first."""
        return [(self.W1, 0), (self.W2, 0), (self.v, 0), (self.Q, 0)]


#: the default phase criteria and eigen-solver (shared, immutable)
_CRITERIA, _SOLVER = PhaseCriteria(), TopEigSolver()


def train_three_layer(
    init: ThreeLayerState,
    data: SupervisedData,
    slope: float,
    eta: np.ndarray | float,
    max_steps: int,
    *,
    tol: float | None = None,
    criteria: PhaseCriteria = _CRITERIA,
    lam_every: int = 1,
    solver: TopEigSolver = _SOLVER,
    threads: int | None = None,
    test_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
    keep_state: bool = True,
    lam_dense: int = 0,
    lam_rtol: float | None = None,
) -> ThreeLayerRun:
    """Full-batch GD from ``init`` for every learning rate in ``eta`` at once (:func:`run_gd`).

    ``init``: ``W1`` ``(n, d)``, ``W2`` ``(n, n)``, ``v`` ``(n,)`` shared by every rate,
    or batched over ``R`` rates. ``data``: ``X`` ``(B, d)``, ``y`` ``(B,)`` and optionally
    a test set (its loss is the series ``"test_loss"``). ``slope``: ``a`` in ``[0, 1]``.
    ``eta``: a scalar or ``R`` rates. ``max_steps``, ``tol``, ``criteria``,
    ``lam_every``, ``test_every``, ``threads``, ``progress``, ``lam_dense``, ``lam_rtol``: as for
    :func:`~catapult_theory.engine.train_two_layer`; ``keep_state=False`` drops the
    final parameters (``R n²`` numbers) from the result.

    A rate leaves the batch when it diverges, collapses (ReLU, second hidden layer
    inactive on every datum), meets ``tol`` or reaches ``max_steps``; results do not
    depend on ``threads`` beyond rounding.
    """
    inp = net_inputs(init, ThreeLayerState, data, slope, eta, max_steps, tol, criteria, lam_every, test_every,
                     solver, threads, progress, lam_dense, lam_rtol)
    n, d, R, slope, cfg = init.width, init.dim, inp.eta.size, inp.slope, inp.cfg
    params = tuple(np.broadcast_to(np.asarray(p, dtype=float), (R,) + np.shape(p)[-nd:])
                   for p, nd in ((init.W1, 2), (init.W2, 2), (init.v, 1)))
    require((all(np.all(np.isfinite(p)) for p in params), "init must be finite"))
    fam = _ThreeLayerFamily((params[0], params[1], params[2]), inp.X, inp.y, inp.X_test, inp.y_test, slope, solver,
                            keep_state)
    res = run_gd(fam, inp.eta, cfg)  # BLAS threads only for large steps on one slice: the driver's rule
    collapsed = res.stop_reason == StopReason.COLLAPSED.value
    state = ThreeLayerState(*fam.final) if keep_state else None
    return ThreeLayerRun(
        res.traj, classify(res.traj, criteria, collapsed=collapsed), collapsed, res.stopped_at, res.stop_reason,
        res.lam_evaluated, state, slope, int(res.flops), res.fallbacks,
        settings={"width": n, "d": d, "B": fam.B, "B_test": fam.Bt, "max_steps": cfg.steps, "tol": tol,
                  "lam_every": lam_every, "lam_dense": lam_dense, "lam_rtol": lam_rtol, "test_every": test_every,
                  "threads": res.threads},
    )
