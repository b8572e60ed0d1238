"""Full-batch GD on two-layer homogeneous nets, batched over learning rates.

Model (THEORY §2, model 4): ``f(x) = Σ_i v_i σ(u_i·x) / √(n d)`` with
``σ(z) = z`` for ``z > 0`` and ``a z`` otherwise (``a = slope`` in ``[0, 1]``:
``0`` ReLU, ``1`` linear), ``U ∈ R^{n×d}`` with rows ``u_i``, ``v ∈ R^n``, no
biases. Square loss ``L = (1/2B) Σ_a (f(x_a) − y_a)²``, full-batch GD
``θ ← θ − η ∇L`` on all of ``θ = (U, v)``.

Closed forms used throughout (``X`` the ``d × B`` inputs, ``Z = U X``,
``A = σ(Z)``, ``D = σ'(Z)`` with entries ``1`` or ``a``, ``c = 1/√(n d)``,
``r = f − y``):

* ``f = c vᵀ A``;
* ``∂L/∂U = (c/B) (v ∘ D) (r ∘ Xᵀ)`` (one ``(n × B)(B × d)`` product per rate);
* ``∂L/∂v = (c/B) A r``;
* NTK ``Θ = c² [AᵀA + (XᵀX) ∘ (WᵀW)]`` with ``W = v ∘ D`` (rows scaled by
  ``v``), and ``lam = λ_max(Θ / B)``; no per-sample Jacobian is formed.

Activation sparsity is the fraction of (unit, datum) pairs with
``u_i·x_a <= 0``. A ReLU net (``a = 0``) whose units are all inactive on all
data is *collapsed*: ``f ≡ 0``, every gradient vanishes and GD is stuck at
loss ``mean(y²)/2`` for ever.

Layout and cost (:class:`_TwoLayerFamily`, a compacting :func:`run_gd` family).
``Uᵀ`` is stored as ``(d, R, n)``, ``v`` and the training and test
pre-activations in one ``(1 + B + B_test, R, n)`` buffer: one GEMM gives every
pre-activation of a slice of rates, one syrk of ``[vᵀ; A]`` gives ``|v|²``,
the outputs and ``AᵀA``, and ``W = v ∘ σ'(Z)`` serves both the second Gram
matrix (a syrk) and the gradient of ``U``. Level-3 work per step and active
rate, as counted in :attr:`TwoLayerRun.gemm_flops`::

    2 n d (B + B_test)     pre-activations, training and test inputs
    2 n d B                gradient of U (not after the last step)
    n (B+1)(B+2)           syrk of [vᵀ; A]  } only at steps where lam is
    n B (B+1)              syrk of W        } evaluated (``lam_every``)

plus about eight elementwise or matrix–vector passes over ``B × n`` (and two
over ``B_test × n``) per rate; on a machine whose memory bandwidth is shared
by the cores these passes, not the arithmetic, set the pace.
``lam``: :func:`top_eig` of the Gram matrices with a :class:`TopEigSolver`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import InvalidInput
from ._driver import (
    GDConfig,
    GDFamily,
    Observation,
    StopReason,
    Tally,
    check_data,
    check_int,
    check_rates,
    require,
    run_gd,
)
from ._eig import TopEigSolver, top_eig
from ._trajectory import PhaseCriteria, Trajectory, classify

__all__ = [
    "SupervisedData",
    "TopEigSolver",
    "TwoLayerObservables",
    "TwoLayerRun",
    "TwoLayerState",
    "train_two_layer",
    "two_layer_init",
    "two_layer_ntk",
    "two_layer_observables",
    "two_layer_output",
]


class SupervisedData(Protocol):
    """What the engine needs of a data set (read-only members: frozen records qualify)."""

    @property
    def X(self) -> np.ndarray:
        """Training inputs ``(B, d)``."""

    @property
    def y(self) -> np.ndarray:
        """Training labels ``(B,)``."""

    @property
    def X_test(self) -> np.ndarray | None:
        """Test inputs ``(B_test, d)``, or ``None`` without a test set."""

    @property
    def y_test(self) -> np.ndarray | None:
        """Test labels ``(B_test,)``, or ``None`` without a test set."""


@dataclass(frozen=True)
class TwoLayerState:
    """Parameters of a (batch of) two-layer net(s): ``U`` ``(..., n, d)``, ``v`` ``(..., n)``."""

    U: np.ndarray
    v: np.ndarray

    def __post_init__(self) -> None:
        U, v = np.asarray(self.U), np.asarray(self.v)
        if U.ndim < 2 or v.ndim < 1 or U.shape[:-1] != v.shape:
            raise InvalidInput(f"U must be (..., n, d) and v (..., n), got {U.shape} and {v.shape}")

    width = property(lambda self: int(self.U.shape[-2]), doc="``n``")
    dim = property(lambda self: int(self.U.shape[-1]), doc="``d``")
    batch_shape = property(lambda self: tuple(self.U.shape[:-2]), doc="the leading (batch) axes")


def two_layer_init(width: int, d: int, seed: int = 0) -> TwoLayerState:
    """i.i.d. N(0, 1) ``U`` ``(width, d)`` then ``v`` ``(width,)`` from
    ``numpy.random.default_rng(seed)``."""
    width, d = check_int("width", width, 1), check_int("d", d, 1)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((width, d))
    return TwoLayerState(U, rng.standard_normal(width))


def _check_slope(slope: float) -> float:
    require((0.0 <= float(slope) <= 1.0, f"slope must lie in [0, 1], got {slope}"))
    return float(slope)


def _sigma(Z: np.ndarray, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """``(σ(Z), σ'(Z))`` elementwise; ``σ'(0) = slope`` (the ``z <= 0`` branch)."""
    D = np.where(Z > 0, 1.0, slope)
    return D * Z, D


def guarded_top_eig(H: np.ndarray, warm: np.ndarray, solver: TopEigSolver, exact: bool,
                    tally: Tally) -> tuple[np.ndarray, np.ndarray]:
    """``(lam, warm')`` of the batch of Gram matrices ``H`` (:func:`top_eig` with the block
    ``warm``); a matrix with a non-finite entry (a diverged run) is zeroed in place and
    gets ``lam = NaN``. Exact solves the iteration needed are added to ``tally``."""
    ok = np.all(np.isfinite(H), axis=(1, 2))
    if not np.all(ok):
        H[~ok] = 0.0
    lam, new_warm, fallbacks = top_eig(H, warm=warm, solver=solver, exact=exact)
    tally.fallbacks += fallbacks
    return np.where(ok, lam, np.nan), warm if new_warm is None else new_warm


@dataclass(frozen=True)
class NetInputs:
    """The checked arguments of a batched net run (:func:`net_inputs`)."""

    slope: float
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    eta: np.ndarray
    cfg: GDConfig


def net_inputs(init: Any, state_type: type, data: SupervisedData, slope: float, eta: np.ndarray | float,
               max_steps: int, tol: float | None, criteria: PhaseCriteria, lam_every: int, test_every: int,
               solver: TopEigSolver, threads: int | None, progress: Callable[[int, int], None] | None,
               lam_dense: int = 0, lam_rtol: float | None = None) -> NetInputs:
    """Check what :func:`train_two_layer` and ``train_three_layer`` take: the slope, the
    state type, training (and test) data of the state's input dimension, a scalar or a
    non-empty 1-D array of rates (``init`` unbatched or batched over them), and build
    the driver's :class:`GDConfig`."""
    slope = _check_slope(slope)
    require((isinstance(init, state_type), f"init must be a {state_type.__name__}, got {type(init).__name__}"))
    X, y = check_data(data.X, data.y, init.dim)
    X_test, y_test = getattr(data, "X_test", None), getattr(data, "y_test", None)
    require(((X_test is None) == (y_test is None), "give both X_test and y_test or neither"))
    if X_test is not None:
        X_test, y_test = check_data(X_test, y_test, init.dim, "X_test")
    eta = check_rates(eta)
    require((eta.ndim <= 1 and eta.size > 0, f"eta must be a scalar or a non-empty 1-D array, got shape {eta.shape}"))
    eta = np.atleast_1d(eta)
    cfg = GDConfig(max_steps, criteria, tol, lam_every, test_every, solver.reanchor, threads, progress, trim=True,
                   lam_dense=lam_dense, lam_rtol=lam_rtol)
    require((init.batch_shape in ((), (eta.size,)),
             f"init must be unbatched or batched over {eta.size} rates: {init.batch_shape}"))
    return NetInputs(slope, X, y, X_test, y_test, eta, cfg)


def two_layer_output(state: TwoLayerState, X: np.ndarray, slope: float) -> np.ndarray:
    """Outputs ``f(x_a)`` ``(..., B)`` for inputs ``X`` ``(B, d)``."""
    slope = _check_slope(slope)
    X, _ = check_data(X, None, state.dim)
    n, d = state.width, state.dim
    A, _ = _sigma(state.U @ X.T, slope)
    return np.einsum("...i,...ib->...b", state.v, A) / np.sqrt(n * d)


def two_layer_ntk(state: TwoLayerState, X: np.ndarray, slope: float) -> np.ndarray:
    """The NTK ``Θ_ab = ∇f(x_a)·∇f(x_b)`` over all parameters, ``(..., B, B)``,
    from the closed form ``c² [AᵀA + (XᵀX) ∘ (Dᵀ diag(v²) D)]``."""
    slope = _check_slope(slope)
    X, _ = check_data(X, None, state.dim)
    n, d = state.width, state.dim
    A, D = _sigma(state.U @ X.T, slope)
    W = state.v[..., :, None] * D
    G = np.swapaxes(A, -1, -2) @ A + (X @ X.T) * (np.swapaxes(W, -1, -2) @ W)
    G = G / (n * d)
    return 0.5 * (G + np.swapaxes(G, -1, -2))


@dataclass(frozen=True)
class TwoLayerObservables:
    """Output, loss, ``lam = λ_max(Θ/B)``, ``w2 = |U|² + |v|²`` and activation
    sparsity of a (batch of) state(s) on one data set."""

    f: np.ndarray
    loss: np.ndarray
    lam: np.ndarray
    w2: np.ndarray
    sparsity: np.ndarray


def two_layer_observables(state: TwoLayerState, X: np.ndarray, y: np.ndarray, slope: float) -> TwoLayerObservables:
    """Exact observables (dense ``eigvalsh``; meant for initial states and checks)."""
    slope = _check_slope(slope)
    X, y = check_data(X, y, state.dim)
    f = two_layer_output(state, X, slope)
    B = X.shape[0]
    lam = np.linalg.eigvalsh(two_layer_ntk(state, X, slope) / B)[..., -1]
    w2 = np.sum(state.U**2, axis=(-2, -1)) + np.sum(state.v**2, axis=-1)
    sparsity = np.mean(state.U @ X.T <= 0, axis=(-2, -1))
    loss = 0.5 * np.mean((f - y) ** 2, axis=-1)
    return TwoLayerObservables(f, loss, lam, w2, sparsity)


@dataclass(frozen=True, eq=False)
class TwoLayerRun:
    """Result of :func:`train_two_layer` for a batch of ``R`` learning rates.

    ``traj``: loss, ``lam``, ``w2``, ``"sparsity"`` (and ``"test_loss"`` with a
    test set), shape ``(T + 1, R)``, ``T`` the last step any run was in the
    batch; a run that stopped (``tol``, ``collapsed``) at step ``s`` repeats
    its step-``s`` values after ``s``. ``phase``: :func:`classify` labels
    (``collapsed``: the ReLU net became the constant 0 on the training data).
    ``stopped_at``: the step each run left the batch, after as many GD
    updates; ``stop_reason``: its :class:`StopReason` value. ``lam_evaluated``
    ``(T + 1, R)``: steps at which ``lam`` was computed (held in between).
    ``state``: ``U`` ``(R, n, d)``, ``v`` ``(R, n)`` at ``stopped_at`` (for a
    diverged run as at the blow-up, possibly non-finite). ``gemm_flops``:
    level-3 FLOPs executed (module docstring); ``lam_fallbacks``: exact
    eigen-solves needed because the iteration did not converge.
    """

    traj: Trajectory
    phase: np.ndarray
    collapsed: np.ndarray
    stopped_at: np.ndarray
    stop_reason: np.ndarray
    lam_evaluated: np.ndarray
    state: TwoLayerState
    slope: float
    gemm_flops: int
    lam_fallbacks: int
    settings: dict = field(default_factory=dict)

    @property
    def steps_taken(self) -> np.ndarray:
        """GD updates applied per run (``stopped_at``)."""
        return self.stopped_at


def _count_active(mask: np.ndarray) -> np.ndarray:
    """Number of ``True`` entries per rate of a ``(B, k, n)`` mask."""
    if mask.shape[2] % 8 == 0:
        # a bool is one byte 0/1, so the set bits of 8-byte words count the True entries
        return np.bitwise_count(mask.view(np.uint64)).sum(axis=(0, 2), dtype=np.int64)
    return np.count_nonzero(mask, axis=(0, 2))


def _sigma_inplace(Z: np.ndarray, slope: float) -> None:
    """``Z ← σ(Z)`` in place."""
    if slope == 0.0:
        np.maximum(Z, 0.0, out=Z)
    elif slope < 1.0:
        np.maximum(Z, slope * Z, out=Z)  # σ(z) = max(z, a z) for 0 <= a <= 1


def _activate(Z: np.ndarray, mask: np.ndarray, W: np.ndarray, v: np.ndarray, slope: float) -> None:
    """In place: ``mask ← Z > 0``, ``Z ← σ(Z)`` and ``W ← v ∘ σ'(Z)``."""
    np.greater(Z, 0.0, out=mask)
    if slope == 0.0:
        np.maximum(Z, 0.0, out=Z)
        np.multiply(mask, v, out=W)
        return
    np.multiply(mask, 1.0 - slope, out=W)
    W += slope  # σ'(Z)
    Z *= W
    W *= v


class _TwoLayerFamily(GDFamily):
    """Buffers and per-slice kernels of the batched step (module docstring); a kernel
    touches the slots of its slice only, so that slices can run in threads."""

    extra, compact = ("sparsity",), True

    def __init__(self, U0, v0, X, y, X_test, y_test, slope: float, solver: TopEigSolver) -> None:
        (R, n, d), B, Bt = U0.shape, X.shape[0], 0 if X_test is None else X_test.shape[0]
        self.n, self.d, self.B, self.Bt, self.y, self.y_test = n, d, B, Bt, y, y_test
        self.has_test, self.work, self.slope, self.solver = Bt > 0, R * n * (B + Bt), slope, solver
        self.p, self.c = min(int(solver.block), B), 1.0 / np.sqrt(n * d)
        self.X_all = np.ascontiguousarray(X if X_test is None else np.vstack([X, X_test]))
        self.X_train = np.ascontiguousarray(X)
        self.X_test = np.empty((0, d)) if X_test is None else np.ascontiguousarray(X_test)
        self.Xd = np.ascontiguousarray(X.T)
        XX = X @ X.T
        self.XX = 0.5 * (XX + XX.T)
        self.Ut = np.array(U0.transpose(2, 0, 1), dtype=float, order="C")  # (d, R, n), a copy
        self.A = np.empty((1 + B + Bt, R, n))
        self.A[0] = v0
        self.W, self.mask, self.M = np.empty((B, R, n)), np.empty((B, R, n), dtype=bool), np.empty((d, R, n))
        self.G, self.H = np.empty((R, B + 1, B + 1)), np.empty((R, B, B))
        self.Q = np.zeros((R, B, self.p))  # replaced by exact eigenvectors at the first evaluation
        self.Q[:, np.arange(self.p), np.arange(self.p)] = 1.0
        self.r, self.lam = np.empty((R, B)), np.empty(R)
        self.U_final, self.v_final = np.empty((R, n, d)), np.empty((R, n))

    # -- per-slice kernels (the driver holds np.errstate(all="ignore"): a blow-up is a result) --

    def _gram(self, s: slice) -> None:
        B = self.B
        # per-rate contiguous copies: a stacked matmul over the strided slot axis is not BLAS
        Aext = np.ascontiguousarray(self.A[: B + 1, s, :].transpose(1, 0, 2))  # (k, B + 1, n)
        np.matmul(Aext, np.swapaxes(Aext, 1, 2), out=self.G[s])  # syrk
        Wr = np.ascontiguousarray(self.W[:, s, :].transpose(1, 0, 2))
        np.matmul(Wr, np.swapaxes(Wr, 1, 2), out=self.H[s])  # syrk

    def observe(self, s: slice, lam: bool, exact: bool, test: bool, tally: Tally) -> Observation:
        """Pre-activations (one GEMM for the slice), outputs, loss, ``w2``, active
        counts, the test loss if ``test`` and ``lam`` if ``lam``."""
        k, n, d, B, c, Bt = s.stop - s.start, self.n, self.d, self.B, self.c, (self.Bt if test else 0)
        Ut2 = self.Ut[:, s, :].reshape(d, k * n)
        Xin = self.X_all if Bt else self.X_train
        np.matmul(Xin, Ut2, out=self.A[1 : 1 + B + Bt, s, :].reshape(B + Bt, k * n))
        v = self.A[0, s, :]
        _activate(self.A[1 : B + 1, s, :], self.mask[:, s, :], self.W[:, s, :], v, self.slope)
        if Bt:
            _sigma_inplace(self.A[B + 1 :, s, :], self.slope)
        tally.flops += k * 2 * n * d * (B + Bt)
        if lam:
            self._gram(s)
            f, ft = self.G[s, 0, 1:] * c, None
            self._lam(s, exact, tally)
        else:
            f_all = np.matmul(self.A[1 : 1 + B + Bt, s, :].transpose(1, 0, 2), v[:, :, None])[:, :, 0] * c
            f, ft = f_all[:, :B], f_all[:, B:]
        np.subtract(f, self.y, out=self.r[s])
        Ut = self.Ut[:, s, :]
        count = _count_active(self.mask[:, s, :])
        return Observation(
            loss=0.5 * np.mean(self.r[s] ** 2, axis=1),
            w2=np.einsum("dri,dri->r", Ut, Ut) + np.einsum("ri,ri->r", v, v),
            lam=self.lam[s].copy() if lam else None,
            test_loss=self._test(s, ft) if Bt else None,
            extra={"sparsity": 1.0 - count / (n * B)},
            stuck=(count == 0) & (self.slope == 0.0),
        )

    def test_loss(self, s: slice, tally: Tally) -> np.ndarray:
        """The test loss at the current state when the forward pass skipped it."""
        k, n, d, B, Bt = s.stop - s.start, self.n, self.d, self.B, self.Bt
        np.matmul(self.X_test, self.Ut[:, s, :].reshape(d, k * n), out=self.A[B + 1 :, s, :].reshape(Bt, k * n))
        _sigma_inplace(self.A[B + 1 :, s, :], self.slope)
        tally.flops += k * 2 * n * d * Bt
        return self._test(s)

    def _test(self, s: slice, ft: np.ndarray | None = None) -> np.ndarray:
        if ft is None:  # the test outputs from the test activations in A
            ft = np.matmul(self.A[self.B + 1 :, s, :].transpose(1, 0, 2), self.A[0, s, :, None])[:, :, 0] * self.c
        return 0.5 * np.mean((ft - self.y_test) ** 2, axis=1)

    def top_eig(self, s: slice, exact: bool, tally: Tally) -> np.ndarray:
        """``lam`` at the current state when the forward pass did not form the Grams."""
        self._gram(s)
        self._lam(s, exact, tally)
        return self.lam[s].copy()

    def _lam(self, s: slice, exact: bool, tally: Tally) -> None:
        B = self.B
        tally.flops += (s.stop - s.start) * self.n * ((B + 1) * (B + 2) + B * (B + 1))
        H = self.H[s]
        np.multiply(H, self.XX, out=H)
        H += self.G[s, 1:, 1:]
        H *= self.c * self.c / B
        self.lam[s], self.Q[s] = guarded_top_eig(H, self.Q[s], self.solver, exact, tally)

    def update(self, s: slice, eta: np.ndarray, keep: np.ndarray, tally: Tally) -> None:
        """One GD step: ``η c r / B`` folded into the residual weights (0 for runs not kept)."""
        B, d, n, k = self.B, self.d, self.n, s.stop - s.start
        rs = np.where(keep, eta * self.c / B, 0.0)[:, None] * self.r[s]  # (k, B)
        # one GEMM for the slice: M[:, r, :] = Xᵀ diag(rs_r) W_r, with W_r scaled in place of X
        Y = self.W[:, s, :] * rs.T[:, :, None]  # (B, k, n), contiguous
        self.M[:, s, :] = (self.Xd @ Y.reshape(B, k * n)).reshape(d, k, n)
        np.multiply(self.A[1 : B + 1, s, :], rs.T[:, :, None], out=Y)
        gv = Y.sum(axis=0)  # (k, n)
        Ut = self.Ut[:, s, :]
        np.subtract(Ut, self.M[:, s, :], out=Ut)
        self.A[0, s, :] -= gv
        tally.flops += (s.stop - s.start) * 2 * self.n * self.d * B

    def retire(self, slots: np.ndarray, runs: np.ndarray) -> None:
        self.U_final[runs] = self.Ut[:, slots, :].transpose(1, 2, 0)
        self.v_final[runs] = self.A[0, slots, :]

    def slot_arrays(self) -> list[tuple[np.ndarray, int]]:
        """``Uᵀ`` (slots on axis 1), the first row of ``A`` (the weights ``v``) and the warm start."""
        return [(self.Ut, 1), (self.A[0], 0), (self.Q, 0)]


def train_two_layer(
    init: TwoLayerState,
    data: SupervisedData,
    slope: float,
    eta: np.ndarray | float,
    max_steps: int,
    *,
    tol: float | None = None,
    criteria: PhaseCriteria = PhaseCriteria(),
    lam_every: int = 1,
    solver: TopEigSolver = TopEigSolver(),
    threads: int | None = None,
    test_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
    lam_dense: int = 0,
    lam_rtol: float | None = None,
) -> TwoLayerRun:
    """Full-batch GD from ``init`` for every learning rate in ``eta`` at once (:func:`run_gd`).

    ``init``: ``U`` ``(n, d)``, ``v`` ``(n,)`` shared by every rate, or batched
    ``(R, n, d)``, ``(R, n)``. ``data``: ``X`` ``(B, d)``, ``y`` ``(B,)`` and
    optionally a test set (its loss is the series ``"test_loss"``). ``slope``:
    ``a`` in ``[0, 1]``. ``eta``: a scalar or ``R`` rates. ``max_steps``: the
    step budget; ``tol``, ``criteria``, ``lam_every``, ``test_every``,
    ``threads``, ``progress``, ``lam_dense``, ``lam_rtol``: stopping rules, cadences
    (``lam`` every step while a run moves fast), threads and progress of the driver
    (:class:`GDConfig`; a sweep that needs only final test losses saves the test
    forward pass with a large ``test_every``);
    ``solver``: the :class:`TopEigSolver` (and its ``reanchor`` cadence).

    A rate leaves the batch when it diverges (:func:`blown_up` loss, non-finite
    ``w2``, ``lam`` or test loss), collapses (ReLU, every unit inactive on every
    datum), meets ``tol`` or reaches ``max_steps``; results do not depend on
    ``threads`` beyond rounding.
    """
    inp = net_inputs(init, TwoLayerState, data, slope, eta, max_steps, tol, criteria, lam_every, test_every,
                     solver, threads, progress, lam_dense, lam_rtol)
    n, d, R, slope, cfg = init.width, init.dim, inp.eta.size, inp.slope, inp.cfg
    U0 = np.broadcast_to(np.asarray(init.U, dtype=float), (R, n, d))
    v0 = np.broadcast_to(np.asarray(init.v, dtype=float), (R, n))
    require((np.all(np.isfinite(U0)) and np.all(np.isfinite(v0)), "init must be finite"))
    fam = _TwoLayerFamily(U0, v0, inp.X, inp.y, inp.X_test, inp.y_test, slope, solver)
    res = run_gd(fam, inp.eta, cfg)  # BLAS on one thread: the driver's rule
    collapsed = res.stop_reason == StopReason.COLLAPSED.value
    return TwoLayerRun(
        res.traj, classify(res.traj, criteria, collapsed=collapsed), collapsed, res.stopped_at, res.stop_reason,
        res.lam_evaluated, TwoLayerState(fam.U_final, fam.v_final), slope, int(res.flops), res.fallbacks,
        settings={"width": n, "d": d, "B": fam.B, "B_test": fam.Bt, "max_steps": cfg.steps, "tol": tol,
                  "lam_every": lam_every, "lam_dense": lam_dense, "lam_rtol": lam_rtol, "test_every": test_every,
                  "threads": res.threads},
    )
