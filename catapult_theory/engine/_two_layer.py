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

Layout and cost. The rates of a batch share one set of buffers: ``Uᵀ`` is
stored as ``(d, R, n)``; row 0 of the activation buffer ``(1 + B + B_test,
R, n)`` holds ``v``, the next rows the training and test pre-activations, so
that one GEMM ``[X; X_test] @ Uᵀ`` (``(B + B_test) × d`` times ``d × (k n)``
for a slice of ``k`` rates) gives every pre-activation, and one symmetric
rank-``n`` update (syrk) of the ``(B + 1) × n`` block ``[vᵀ; A]`` per rate
gives ``|v|²``, the outputs ``vᵀA`` and ``AᵀA`` together. ``W = v ∘ σ'(Z)``
serves both the second Gram matrix (a syrk) and the gradient of ``U``. The
active rates are cut into one contiguous slice per thread; each thread
advances its slice with the same vectorised kernels and single-threaded BLAS
(NumPy and BLAS release the GIL) for a number of steps on its own, after
which the remaining rates are gathered and cut again (no per-step barrier).
Level-3 floating-point work per step and active rate, as counted in
:attr:`TwoLayerRun.gemm_flops`::

    2 n d (B + B_test)     pre-activations, training and test inputs
    2 n d B                gradient of U (not after the last step)
    n (B+1)(B+2)           syrk of [vᵀ; A]  } only at steps where lam is
    n B (B+1)              syrk of W        } evaluated (``lam_every``)

plus about eight elementwise or matrix–vector passes over ``B × n`` (and two
over ``B_test × n``) per rate; on a machine whose memory bandwidth is shared
by the cores these passes, not the arithmetic, set the pace.

``lam`` from the Gram matrices: a block power (subspace) iteration with
Rayleigh–Ritz on the ``B × B`` matrices of all rates of a slice at once,
warm-started from the previous evaluation's Ritz vectors, ``O(B² p)`` per
rate and iteration (block size ``p``); a rate is converged when the residual
of its top Ritz pair is below ``rtol`` times its Ritz value (eigenvalue error
of the order of the squared residual over the spectral gap). Rates not
converged after ``max_iter`` iterations, the evaluation at step 0 and every
``reanchor``-th scheduled evaluation use an exact ``numpy.linalg.eigh``
(``O(B³)`` per rate), which also re-seeds the block.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from ._trajectory import PhaseCriteria, Trajectory, blown_up, classify

__all__ = [
    "SupervisedData",
    "TwoLayerState",
    "TwoLayerObservables",
    "TopEigSolver",
    "TwoLayerRun",
    "two_layer_init",
    "two_layer_output",
    "two_layer_ntk",
    "two_layer_observables",
    "train_two_layer",
]


class SupervisedData(Protocol):
    """What the engine needs of a data set: ``X`` ``(B, d)``, ``y`` ``(B,)`` and
    an optional test set ``X_test`` ``(B_test, d)``, ``y_test`` (``None`` if absent)."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None


@dataclass(frozen=True)
class TwoLayerState:
    """Parameters of a (batch of) two-layer net(s): ``U`` ``(..., n, d)``, ``v`` ``(..., n)``."""

    U: np.ndarray
    v: np.ndarray

    def __post_init__(self) -> None:
        U, v = np.asarray(self.U), np.asarray(self.v)
        if U.ndim < 2 or v.ndim < 1 or U.shape[:-1] != v.shape:
            raise ValueError(f"U must be (..., n, d) and v (..., n), got {U.shape} and {v.shape}")

    @property
    def width(self) -> int:
        return int(self.U.shape[-2])

    @property
    def dim(self) -> int:
        return int(self.U.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.U.shape[:-2])


def two_layer_init(width: int, d: int, seed: int = 0) -> TwoLayerState:
    """i.i.d. N(0, 1) ``U`` ``(width, d)`` then ``v`` ``(width,)`` from
    ``numpy.random.default_rng(seed)``."""
    for name, val in (("width", width), ("d", d)):
        if isinstance(val, bool) or int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((int(width), int(d)))
    v = rng.standard_normal(int(width))
    return TwoLayerState(U, v)


def _check_slope(slope: float) -> float:
    slope = float(slope)
    if not 0.0 <= slope <= 1.0:
        raise ValueError(f"slope must lie in [0, 1], got {slope}")
    return slope


def _check_inputs(X: np.ndarray, d: int, what: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
        raise ValueError(f"{what} must have shape (B, {d}) with B >= 1, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{what} must be finite")
    return X


def _check_labels(y: np.ndarray, B: int, what: str = "y") -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.shape != (B,) or not np.all(np.isfinite(y)):
        raise ValueError(f"{what} must be finite of shape ({B},), got shape {y.shape}")
    return y


def _sigma(Z: np.ndarray, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """``(σ(Z), σ'(Z))`` elementwise; ``σ'(0) = slope`` (the ``z <= 0`` branch)."""
    D = np.where(Z > 0, 1.0, slope)
    return D * Z, D


def two_layer_output(state: TwoLayerState, X: np.ndarray, slope: float) -> np.ndarray:
    """Outputs ``f(x_a)`` ``(..., B)`` for inputs ``X`` ``(B, d)``."""
    slope = _check_slope(slope)
    X = _check_inputs(X, state.dim)
    n, d = state.width, state.dim
    A, _ = _sigma(state.U @ X.T, slope)
    return np.einsum("...i,...ib->...b", state.v, A) / np.sqrt(n * d)


def two_layer_ntk(state: TwoLayerState, X: np.ndarray, slope: float) -> np.ndarray:
    """The NTK ``Θ_ab = ∇f(x_a)·∇f(x_b)`` over all parameters, ``(..., B, B)``,
    from the closed form ``c² [AᵀA + (XᵀX) ∘ (Dᵀ diag(v²) D)]``."""
    slope = _check_slope(slope)
    X = _check_inputs(X, state.dim)
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
    X = _check_inputs(X, state.dim)
    y = _check_labels(y, X.shape[0])
    f = two_layer_output(state, X, slope)
    B = X.shape[0]
    lam = np.linalg.eigvalsh(two_layer_ntk(state, X, slope) / B)[..., -1]
    w2 = np.sum(state.U**2, axis=(-2, -1)) + np.sum(state.v**2, axis=-1)
    sparsity = np.mean(state.U @ X.T <= 0, axis=(-2, -1))
    loss = 0.5 * np.mean((f - y) ** 2, axis=-1)
    return TwoLayerObservables(f, loss, lam, w2, sparsity)


@dataclass(frozen=True)
class TopEigSolver:
    """Batched block power iteration for ``lam = λ_max(Θ/B)`` (see module docstring).

    ``block`` vectors per rate (at most ``B``), residual tolerance ``rtol``
    relative to the top Ritz value, at most ``max_iter`` iterations per
    evaluation before the exact fallback, and an exact evaluation at step 0
    and at the scheduled steps ``t`` with ``(t // lam_every) % reanchor == 0``
    (``reanchor = 0``: only at step 0).
    """

    block: int = 4
    rtol: float = 1e-8
    max_iter: int = 30
    reanchor: int = 256

    def __post_init__(self) -> None:
        if isinstance(self.block, bool) or int(self.block) != self.block or self.block < 1:
            raise ValueError(f"TopEigSolver.block must be a positive integer, got {self.block!r}")
        if not (np.isfinite(self.rtol) and 0 < self.rtol < 1):
            raise ValueError(f"TopEigSolver.rtol must lie in (0, 1), got {self.rtol}")
        if isinstance(self.max_iter, bool) or int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise ValueError(f"TopEigSolver.max_iter must be a positive integer, got {self.max_iter!r}")
        if isinstance(self.reanchor, bool) or int(self.reanchor) != self.reanchor or self.reanchor < 0:
            raise ValueError(f"TopEigSolver.reanchor must be a non-negative integer, got {self.reanchor!r}")


@dataclass(frozen=True, eq=False)
class TwoLayerRun:
    """Result of :func:`train_two_layer` for a batch of ``R`` learning rates.

    ``traj``
        Loss, ``lam``, ``w2`` and the extra series ``"sparsity"`` (and
        ``"test_loss"`` with a test set), shape ``(T + 1, R)`` where ``T`` is
        the last step any run was still in the batch. A run that stopped
        (``tol``, ``collapsed``) at step ``s`` repeats its step-``s`` values
        after ``s``; a diverged run has NaN from ``diverged_at`` on.
    ``phase``
        :func:`classify` labels, with ``collapsed`` runs labelled ``collapsed``.
    ``collapsed``
        ``(R,)`` bool: the ReLU net became the constant 0 on the training data.
    ``stopped_at``
        ``(R,)`` the step at which each run left the batch (``max_steps`` for a
        run that used its whole budget, ``diverged_at`` for a diverged run).
        ``stopped_at`` GD updates were applied to reach it.
    ``stop_reason``
        ``(R,)`` one of ``"max_steps"``, ``"tol"``, ``"collapsed"``, ``"diverged"``.
    ``lam_evaluated``
        ``(T + 1, R)`` bool: steps at which ``lam`` was computed; between them
        the series holds the last computed value.
    ``state``
        Parameters ``U`` ``(R, n, d)``, ``v`` ``(R, n)`` at ``stopped_at`` (for a
        diverged run: as they were at the blow-up, possibly non-finite).
    ``gemm_flops``
        Level-3 floating-point operations executed (module docstring).
    ``lam_fallbacks``
        Per-rate exact eigen-solves used because the iteration did not
        converge (not counting the first evaluation and re-anchoring).
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


# --------------------------------------------------------------------------
# Top eigenvalue of a batch of small symmetric PSD matrices.
# --------------------------------------------------------------------------


def _exact_top(H: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Top eigenvalue and top-``p`` eigenvectors by a dense ``eigh``."""
    w, V = np.linalg.eigh(H)
    return w[:, -1], V[:, :, -p:]


def _block_power(
    H: np.ndarray, Q: np.ndarray, solver: TopEigSolver
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lam, Q, converged)``: block power iteration with Rayleigh–Ritz from ``Q``.

    ``H`` ``(R, B, B)`` symmetric PSD, ``Q`` ``(R, B, p)`` orthonormal columns.
    Each iteration applies ``H`` twice (Rayleigh–Ritz on ``Q`` with ``H Q``,
    then ``Q ← orth(H² Q S)``), so the error falls like ``(λ_{p+1}/λ_1)²``.
    """
    # work with H / trace(H) (spectrum in [0, 1]): powers of a huge H cannot overflow
    scale = np.trace(H, axis1=1, axis2=2)
    scale = np.where(scale > 0, scale, 1.0)
    H = H / scale[:, None, None]
    lam = np.zeros(H.shape[0])
    conv = np.zeros(H.shape[0], dtype=bool)
    for _ in range(solver.max_iter):
        Y = H @ Q
        w, S = np.linalg.eigh(np.swapaxes(Q, 1, 2) @ Y)  # lower triangle of the p × p projection
        s1 = S[:, :, -1:]
        lam = w[:, -1]
        resid = np.linalg.norm((Y @ s1 - lam[:, None, None] * (Q @ s1))[:, :, 0], axis=1)
        # a zero matrix (a collapsed net) has residual 0 <= 0: converged at lam = 0
        conv = resid <= solver.rtol * np.abs(lam)
        if np.all(conv):
            return lam * scale, Q @ S, conv
        Q, _ = np.linalg.qr(H @ (Y @ S))
    return lam * scale, Q, conv


# --------------------------------------------------------------------------
# The batched GD loop.
# --------------------------------------------------------------------------


class _Series:
    """Row-wise storage of per-step values, grown by doubling (steps unknown up front)."""

    def __init__(self, R: int, names: tuple[str, ...], capacity: int) -> None:
        self.data = {k: np.full((max(capacity, 1), R), np.nan) for k in names}
        self.lam_eval = np.zeros((max(capacity, 1), R), dtype=bool)

    def ensure(self, rows: int) -> None:
        cap = self.lam_eval.shape[0]
        if rows <= cap:
            return
        new = max(rows, 2 * cap)
        for k, a in self.data.items():
            b = np.full((new,) + a.shape[1:], np.nan)
            b[:cap] = a
            self.data[k] = b
        e = np.zeros((new,) + self.lam_eval.shape[1:], dtype=bool)
        e[:cap] = self.lam_eval
        self.lam_eval = e


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


class _Engine:
    """Buffers and per-slice kernels of the batched step.

    Rates occupy slots ``0 .. Ra-1`` of every buffer; a kernel works on the
    slots ``lo .. hi-1`` only, so disjoint slices can run in parallel threads
    (NumPy and BLAS release the GIL). ``A`` holds ``v`` in row 0, the
    training pre-activations/activations in rows ``1 .. B`` and the test ones
    after them, so that one GEMM gives every pre-activation and one syrk of
    rows ``0 .. B`` gives ``|v|²``, ``vᵀA`` (the outputs) and ``AᵀA``.
    """

    def __init__(self, U0, v0, X, y, X_test, y_test, slope: float, solver: TopEigSolver) -> None:
        R, n, d = U0.shape
        B = X.shape[0]
        Bt = 0 if X_test is None else X_test.shape[0]
        self.n, self.d, self.B, self.Bt = n, d, B, Bt
        self.slope, self.solver = slope, solver
        self.p = min(int(solver.block), B)
        self.c = 1.0 / np.sqrt(n * d)
        self.y = y
        self.y_test = y_test
        self.X_all = np.ascontiguousarray(X if X_test is None else np.vstack([X, X_test]))
        self.X_train = np.ascontiguousarray(X)
        self.X_test = None if X_test is None else np.ascontiguousarray(X_test)
        self.Xd = np.ascontiguousarray(X.T)
        XX = X @ X.T
        self.XX = 0.5 * (XX + XX.T)
        self.Ut = np.array(U0.transpose(2, 0, 1), dtype=float, order="C")  # (d, R, n), a copy
        self.A = np.empty((1 + B + Bt, R, n))
        self.A[0] = v0
        self.W = np.empty((B, R, n))
        self.mask = np.empty((B, R, n), dtype=bool)
        self.M = np.empty((d, R, n))
        self.G = np.empty((R, B + 1, B + 1))
        self.H = np.empty((R, B, B))
        self.Q = np.zeros((R, B, self.p))  # replaced by exact eigenvectors at the first evaluation
        self.Q[:, np.arange(self.p), np.arange(self.p)] = 1.0
        self.r = np.empty((R, B))
        self.rs = np.empty((R, B))
        self.loss = np.empty(R)
        self.test_loss = np.empty(R)
        self.w2 = np.empty(R)
        self.count = np.empty(R, dtype=np.int64)
        self.lam = np.empty(R)

    # -- per-slice kernels (each sets its own floating-point error state:
    #    the state is thread-local and a blow-up is handled as a result) --

    def _gram(self, s: slice) -> None:
        B = self.B
        Aext = self.A[: B + 1, s, :].transpose(1, 0, 2)  # (k, B + 1, n)
        np.matmul(Aext, np.swapaxes(Aext, 1, 2), out=self.G[s])  # syrk
        Wr = self.W[:, s, :].transpose(1, 0, 2)
        np.matmul(Wr, np.swapaxes(Wr, 1, 2), out=self.H[s])  # syrk

    def forward(self, lo: int, hi: int, gram: bool, exact: bool, test: bool = True) -> int:
        """Pre-activations (one GEMM for the slice), outputs, loss, ``w2``, active
        counts, the test loss if ``test`` and ``lam`` if ``gram``."""
        with np.errstate(all="ignore"):
            s, k = slice(lo, hi), hi - lo
            n, d, B, c = self.n, self.d, self.B, self.c
            Bt = self.Bt if test else 0
            Ut2 = self.Ut[:, s, :].reshape(d, k * n)
            Xin = self.X_all if Bt else self.X_train
            np.matmul(Xin, Ut2, out=self.A[1 : 1 + B + Bt, s, :].reshape(B + Bt, k * n))
            v = self.A[0, s, :]
            _activate(self.A[1 : B + 1, s, :], self.mask[:, s, :], self.W[:, s, :], v, self.slope)
            if Bt:
                _sigma_inplace(self.A[B + 1 :, s, :], self.slope)
            fallbacks = 0
            if gram:
                self._gram(s)
                f = self.G[s, 0, 1:] * c
                if Bt:
                    ft = np.matmul(self.A[B + 1 :, s, :].transpose(1, 0, 2), v[:, :, None])[:, :, 0] * c
                fallbacks = self._lam(s, exact)
            else:
                f_all = np.matmul(self.A[1 : 1 + B + Bt, s, :].transpose(1, 0, 2), v[:, :, None])[:, :, 0] * c
                f, ft = f_all[:, :B], f_all[:, B:]
            np.subtract(f, self.y, out=self.r[s])
            self.loss[s] = 0.5 * np.mean(self.r[s] ** 2, axis=1)
            if Bt:
                self.test_loss[s] = 0.5 * np.mean((ft - self.y_test) ** 2, axis=1)
            Ut = self.Ut[:, s, :]
            self.w2[s] = np.einsum("dri,dri->r", Ut, Ut) + np.einsum("ri,ri->r", v, v)
            self.count[s] = _count_active(self.mask[:, s, :])
            return fallbacks

    def test_only(self, lo: int, hi: int) -> None:
        """The test loss at the current state when the forward pass skipped it."""
        with np.errstate(all="ignore"):
            s, k = slice(lo, hi), hi - lo
            n, d, B, Bt = self.n, self.d, self.B, self.Bt
            Ut2 = self.Ut[:, s, :].reshape(d, k * n)
            np.matmul(self.X_test, Ut2, out=self.A[B + 1 :, s, :].reshape(Bt, k * n))
            _sigma_inplace(self.A[B + 1 :, s, :], self.slope)
            v = self.A[0, s, :]
            ft = np.matmul(self.A[B + 1 :, s, :].transpose(1, 0, 2), v[:, :, None])[:, :, 0] * self.c
            self.test_loss[s] = 0.5 * np.mean((ft - self.y_test) ** 2, axis=1)

    def lam_only(self, lo: int, hi: int, exact: bool) -> int:
        """``lam`` at the current state when the forward pass did not form the Grams."""
        with np.errstate(all="ignore"):
            s = slice(lo, hi)
            self._gram(s)
            return self._lam(s, exact)

    def _lam(self, s: slice, exact: bool) -> int:
        H = self.H[s]
        np.multiply(H, self.XX, out=H)
        H += self.G[s, 1:, 1:]
        H *= self.c * self.c / self.B
        ok = np.all(np.isfinite(H), axis=(1, 2))
        if not np.all(ok):
            H[~ok] = 0.0
        Q = self.Q[s]
        fallbacks = 0
        if exact:
            lam, Q[:] = _exact_top(H, self.p)
        else:
            lam, Q[:], conv = _block_power(H, Q, self.solver)
            if not np.all(conv):
                lam[~conv], Q[~conv] = _exact_top(H[~conv], self.p)
                fallbacks = int(np.count_nonzero(~conv))
        self.lam[s] = np.where(ok, lam, np.nan)
        return fallbacks

    def update(self, lo: int, hi: int) -> None:
        """One GD step with the residual weights ``rs = η c r / B`` of each rate."""
        with np.errstate(all="ignore"):
            s = slice(lo, hi)
            B = self.B
            rs = self.rs[s]
            rX = self.Xd[None, :, :] * rs[:, None, :]  # (k, d, B)
            np.matmul(rX, self.W[:, s, :].transpose(1, 0, 2), out=self.M[:, s, :].transpose(1, 0, 2))
            gv = np.matmul(rs[:, None, :], self.A[1 : B + 1, s, :].transpose(1, 0, 2))[:, 0, :]
            Ut = self.Ut[:, s, :]
            np.subtract(Ut, self.M[:, s, :], out=Ut)
            self.A[0, s, :] -= gv

    # -- FLOP counts and moves of slots --

    def flops_forward(self, k: int, gram: bool, test: bool = True) -> int:
        n, d, B = self.n, self.d, self.B
        Bt = self.Bt if test else 0
        return k * (2 * n * d * (B + Bt) + (self.flops_gram(1) if gram else 0))

    def flops_test(self, k: int) -> int:
        return k * 2 * self.n * self.d * self.Bt

    def flops_gram(self, k: int) -> int:
        n, B = self.n, self.B
        return k * n * ((B + 1) * (B + 2) + B * (B + 1))

    def flops_update(self, k: int) -> int:
        return k * 2 * self.n * self.d * self.B

    def state(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Copies of ``U`` ``(k, n, d)`` and ``v`` ``(k, n)`` of some slots."""
        return self.Ut[:, slots, :].transpose(1, 2, 0).copy(), self.A[0, slots, :].copy()

    def move(self, src: np.ndarray, dst: int) -> None:
        """Copy the slots ``src`` (increasing, all ``>= dst``) to ``dst, dst+1, ...``."""
        k = src.size
        if k == 0 or (src[0] == dst and src[-1] == dst + k - 1):
            return
        self.Ut[:, dst : dst + k, :] = self.Ut[:, src, :]
        self.A[0, dst : dst + k, :] = self.A[0, src, :]
        self.Q[dst : dst + k] = self.Q[src]


class _Pool:
    """Runs one callable per slice of the active slots, one slice per thread.

    With more than one thread, use it inside :meth:`single_blas` (BLAS limited
    to one thread per call: the slices already occupy the cores, and idle
    BLAS worker threads would spin on them).
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.pool = ThreadPoolExecutor(threads - 1) if threads > 1 else None

    def single_blas(self):
        if self.pool is None:
            return nullcontext()
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # BLAS then keeps its own threads: slower, still correct
            return nullcontext()
        return threadpool_limits(limits=1, user_api="blas")

    def slices(self, Ra: int) -> list[tuple[int, int]]:
        edges = np.linspace(0, Ra, min(self.threads, Ra) + 1).round().astype(int)
        return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]

    def map(self, fn, parts: list[tuple[int, int]], *args) -> list:
        if self.pool is None or len(parts) == 1:
            return [fn(lo, hi, *args) for lo, hi in parts]
        futures = [self.pool.submit(fn, lo, hi, *args) for lo, hi in parts[1:]]
        first = fn(*parts[0], *args)
        return [first] + [f.result() for f in futures]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


#: steps between re-balancing the slices of the rate batch over threads
_SYNC_EVERY = 32

#: activations per step (rates × width × data) from which ``threads=None`` uses every CPU
_THREADS_MIN_WORK = 1 << 21


def _can_limit_blas() -> bool:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on every platform
        return os.cpu_count() or 1


def _check_int(name: str, val: int, low: int) -> int:
    if isinstance(val, bool) or int(val) != val or val < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {val!r}")
    return int(val)


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
) -> TwoLayerRun:
    """Full-batch GD from ``init`` for every learning rate in ``eta`` at once.

    Parameters
    ----------
    init
        Initial parameters, ``U`` ``(n, d)`` and ``v`` ``(n,)`` shared by every
        rate, or batched ``(R, n, d)``, ``(R, n)`` (one initialisation per rate).
    data
        Training set ``X`` ``(B, d)``, ``y`` ``(B,)`` and optionally a test set
        (``X_test``, ``y_test``; its loss is recorded as ``"test_loss"``).
    slope
        Negative-side slope ``a`` of ``σ`` in ``[0, 1]``.
    eta
        Learning rates, a scalar or a 1-D array of ``R`` finite non-negative values.
    max_steps
        Step budget per rate.
    tol
        Stop a rate at the first step ``t >= 1`` with
        ``|loss_t − loss_{t−1}| < tol``; ``None``: run the whole budget.
    criteria
        Divergence (:func:`blown_up`) and phase criteria.
    lam_every
        Evaluate ``lam`` at steps ``0, lam_every, 2 lam_every, ...``, at
        ``max_steps`` and at the step a run stops by ``tol`` or collapses;
        between evaluations the series holds the last value (see
        ``TwoLayerRun.lam_evaluated``). A diverged run keeps its last
        evaluated value.
    solver
        Settings of the top-eigenvalue iteration.
    test_every
        With a test set: evaluate the test loss at steps ``0, test_every,
        2 test_every, ...``, at ``max_steps`` and at the step each run leaves
        the batch (so its final test loss is always exact); between
        evaluations the series holds the last value. A sweep that needs only
        final test losses saves the test forward pass on the other steps.
    progress
        Called as ``progress(step, active_rates)`` every few dozen steps (for
        a progress display of long sweeps).
    threads
        Number of threads; the active rates are cut into this many contiguous
        slices, each advanced by its own thread with single-threaded BLAS
        (needs ``threadpoolctl``; without it BLAS keeps its own threads) for
        32 steps at a time, after which the slices are re-balanced.
        ``None``: the number of CPUs available to this process when a step
        touches at least ``2**21`` activations (``R n (B + B_test)``) and
        ``threadpoolctl`` is installed, else ``1``; ``1``: no extra threads,
        BLAS threading as configured. Results do not depend on it beyond
        rounding.

    Returns
    -------
    TwoLayerRun
        Series, phases and stopping information (see :class:`TwoLayerRun`).

    Notes
    -----
    Each rate leaves the batch when it diverges (:func:`blown_up` on the
    loss, or a non-finite ``w2``, ``lam`` or test loss), collapses (ReLU,
    every unit inactive on every datum), meets ``tol``, or reaches
    ``max_steps``; later steps only cost the rates still active. No
    floating-point warning escapes: a blow-up is a result (``diverged_at``).
    """
    slope = _check_slope(slope)
    if not isinstance(init, TwoLayerState):
        raise ValueError(f"init must be a TwoLayerState, got {type(init).__name__}")
    n, d = init.width, init.dim
    X = _check_inputs(data.X, d)
    B = X.shape[0]
    y = _check_labels(data.y, B)
    X_test = getattr(data, "X_test", None)
    y_test = getattr(data, "y_test", None)
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test or neither")
    if X_test is not None:
        X_test = _check_inputs(X_test, d, "X_test")
        y_test = _check_labels(y_test, X_test.shape[0], "y_test")
    eta = np.asarray(eta, dtype=float)
    if eta.ndim > 1:
        raise ValueError(f"eta must be a scalar or a 1-D array, got shape {eta.shape}")
    if not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ValueError("learning rates must be finite and non-negative")
    eta_1d = np.atleast_1d(eta).copy()
    R = eta_1d.shape[0]
    if R == 0:
        raise ValueError("eta must contain at least one learning rate")
    max_steps = _check_int("max_steps", max_steps, 0)
    lam_every = _check_int("lam_every", lam_every, 1)
    test_every = _check_int("test_every", test_every, 1)
    if tol is not None and not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be None or positive and finite, got {tol}")
    if threads is None:
        # below ~2M activations per step thread hand-offs cost more than they save
        big = R * n * (B + (0 if X_test is None else X_test.shape[0])) >= _THREADS_MIN_WORK
        threads = _default_threads() if big and _can_limit_blas() else 1
    threads = min(_check_int("threads", threads, 1), R)
    if init.batch_shape not in ((), (R,)):
        raise ValueError(f"init must be unbatched or batched over the {R} rates, got batch shape {init.batch_shape}")
    U0 = np.broadcast_to(np.asarray(init.U, dtype=float), (R, n, d))
    v0 = np.broadcast_to(np.asarray(init.v, dtype=float), (R, n))
    if not (np.all(np.isfinite(U0)) and np.all(np.isfinite(v0))):
        raise ValueError("init must be finite")

    eng = _Engine(U0, v0, X, y, X_test, y_test, slope, solver)
    B_test = eng.Bt
    names = ("loss", "lam", "w2", "sparsity") + (("test_loss",) if B_test else ())
    series = _Series(R, names, min(max_steps + 1, 4096))
    # per slot (compacted with the rates)
    idx = np.arange(R)  # original index of the rate in each slot
    eta_a = eta_1d.copy()
    loss_prev = np.full(R, np.nan)
    lam_held = np.full(R, np.nan)
    test_held = np.full(R, np.nan)
    slot_arrays = (idx, eta_a, loss_prev, lam_held, test_held)
    # per rate (original index)
    loss0 = np.full(R, np.nan)
    stopped_at = np.full(R, max_steps, dtype=np.int64)
    reason = np.full(R, "max_steps", dtype=object)
    diverged_at = np.full(R, -1, dtype=np.int64)
    collapsed = np.zeros(R, dtype=bool)
    U_final = np.empty((R, n, d))
    v_final = np.empty((R, n))

    def advance(lo: int, hi: int, t0: int, t1: int) -> tuple[int, int, int]:
        """Steps ``t0 .. t1-1`` of the rates in slots ``lo .. hi-1``; the rates that
        leave are recorded and the others compacted to ``lo ..``. Returns
        ``(rates still active, level-3 FLOPs, eigen-solver fallbacks)``. Slices
        touch disjoint slots and rates, so they can advance in parallel."""
        flops = fallbacks = 0
        with np.errstate(all="ignore"):  # thread-local; a blow-up is handled as a result
            for t in range(t0, t1):
                s, k = slice(lo, hi), hi - lo
                scheduled = t % lam_every == 0 or t == max_steps
                exact = scheduled and (
                    t == 0 or (solver.reanchor > 0 and (t // lam_every) % solver.reanchor == 0)
                )
                test_now = bool(B_test) and (t % test_every == 0 or t == max_steps)
                fallbacks += eng.forward(lo, hi, scheduled, exact, test_now)
                flops += eng.flops_forward(k, scheduled, test_now)
                rates = idx[s].copy()
                loss = eng.loss[s].copy()
                if t == 0:
                    loss0[rates] = loss
                w2 = eng.w2[s].copy()
                count = eng.count[s].copy()
                bad = blown_up(loss, loss0[rates], criteria) | ~np.isfinite(w2)
                if test_now:
                    test_loss = eng.test_loss[s].copy()
                    bad |= ~np.isfinite(test_loss)
                    test_held[s] = test_loss
                coll = (count == 0) & (slope == 0.0) & ~bad
                conv = np.zeros(k, dtype=bool)
                if tol is not None and t >= 1:
                    conv = (np.abs(loss - loss_prev[s]) < tol) & ~bad & ~coll
                evaluated = scheduled
                if not scheduled and np.any(coll | conv):
                    fallbacks += eng.lam_only(lo, hi, False)
                    flops += eng.flops_gram(k)
                    evaluated = True
                if evaluated:
                    lam_new = eng.lam[s]
                    bad |= ~np.isfinite(lam_new)
                    coll &= ~bad
                    conv &= ~bad
                    lam_held[s] = np.where(np.isfinite(lam_new), lam_new, lam_held[s])
                if B_test and not test_now and np.any(bad | coll | conv | (t == max_steps)):
                    # a run leaves the batch: its final test loss is evaluated, not held
                    eng.test_only(lo, hi)
                    flops += eng.flops_test(k)
                    test_new = eng.test_loss[s].copy()
                    leaving_now = bad | coll | conv | (t == max_steps)
                    test_held[s] = np.where(leaving_now & np.isfinite(test_new), test_new, test_held[s])
                good = ~bad
                row = {"loss": loss, "lam": lam_held[s], "w2": w2, "sparsity": 1.0 - count / (n * B)}
                if B_test:
                    row["test_loss"] = test_held[s].copy()
                for name, val in row.items():
                    series.data[name][t, rates[good]] = val[good]
                series.lam_eval[t, rates] = evaluated & good
                leaving = bad | coll | conv | (t == max_steps)
                if np.any(leaving):
                    j = rates[leaving]
                    stopped_at[j] = t
                    reason[rates[bad]] = "diverged"
                    diverged_at[rates[bad]] = t
                    reason[rates[coll]] = "collapsed"
                    collapsed[rates[coll]] = True
                    reason[rates[conv]] = "tol"
                    U_final[j], v_final[j] = eng.state(lo + np.flatnonzero(leaving))
                    if np.all(leaving):
                        return 0, flops, fallbacks
                # gradient step: η c r / B folded into the residual weights (0 for leaving runs)
                eng.rs[s] = np.where(leaving, 0.0, eta_a[s] * eng.c / B)[:, None] * eng.r[s]
                eng.update(lo, hi)
                flops += eng.flops_update(k)
                loss_prev[s] = loss
                if np.any(leaving):
                    src = lo + np.flatnonzero(~leaving)
                    eng.move(src, lo)
                    for a in slot_arrays:
                        a[lo : lo + src.size] = a[src]
                    hi = lo + src.size
        return hi - lo, flops, fallbacks

    # with threads, the slices advance independently for ``_SYNC_EVERY`` steps,
    # then the remaining rates are gathered and cut into equal slices again
    sync = _SYNC_EVERY if (threads > 1 or progress is not None) else max_steps + 1
    pool = _Pool(threads)
    flops = fallbacks = 0
    Ra, t = R, 0
    try:
        with pool.single_blas():
            while Ra > 0 and t <= max_steps:
                t_end = min(t + sync, max_steps + 1)
                series.ensure(t_end)
                parts = pool.slices(Ra)
                results = pool.map(advance, parts, t, t_end)
                Ra = 0
                for (lo, _), (count, fl, fb) in zip(parts, results):
                    flops += fl
                    fallbacks += fb
                    src = np.arange(lo, lo + count)
                    eng.move(src, Ra)
                    for a in slot_arrays:
                        a[Ra : Ra + count] = a[src]
                    Ra += count
                t = t_end
                if progress is not None:
                    progress(min(t, max_steps), Ra)
    finally:
        pool.close()

    T = int(stopped_at.max())
    data_out = {k: a[: T + 1] for k, a in series.data.items()}
    lam_eval = series.lam_eval[: T + 1]
    # runs that stopped early (tol, collapse) repeat their last values
    held = (stopped_at < T) & (diverged_at < 0)
    if np.any(held):
        rows = np.arange(T + 1)[:, None]
        fill = held[None, :] & (rows > stopped_at[None, :])
        for a in data_out.values():
            last = a[stopped_at, np.arange(R)]
            a[:] = np.where(fill, last[None, :], a)
    extra = {"sparsity": data_out["sparsity"]}
    if B_test:
        extra["test_loss"] = data_out["test_loss"]
    traj = Trajectory(
        loss=data_out["loss"],
        lam=data_out["lam"],
        w2=data_out["w2"],
        eta=eta_1d,
        diverged_at=diverged_at,
        extra=extra,
    )
    return TwoLayerRun(
        traj=traj,
        phase=classify(traj, criteria, collapsed=collapsed),
        collapsed=collapsed,
        stopped_at=stopped_at,
        stop_reason=reason.astype(str),
        lam_evaluated=lam_eval,
        state=TwoLayerState(U_final, v_final),
        slope=slope,
        gemm_flops=int(flops),
        lam_fallbacks=fallbacks,
        settings={"width": n, "d": d, "B": B, "B_test": B_test, "max_steps": max_steps, "tol": tol,
                  "lam_every": lam_every, "test_every": test_every, "threads": threads},
    )
