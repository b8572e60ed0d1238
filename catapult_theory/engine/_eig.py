"""The top eigenvalue of a batch of symmetric PSD operators: one interface, three strategies.

:func:`top_eig` is the one entry point every family uses for ``lam = λ_max``: exact
(a batched ``eigvalsh``, or ``eigh`` when eigenvectors are kept as a warm start);
a warm-started subspace iteration on dense matrices with an exact fallback
(:class:`TopEigSolver`); or a warm-started restarted Lanczos on a matrix-free
operator (:class:`NTKSolver`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ._driver import check_int, require

__all__ = ["NTKSolver", "TopEigSolver", "serial_blas", "top_eig"]


def serial_blas() -> AbstractContextManager[Any]:
    """BLAS on one thread for a block of dense linear algebra (eigensolvers, the
    ``m × m`` products of a model's construction). A LAPACK eigensolver makes many
    small BLAS calls, between which OpenBLAS's threads busy-wait: beside another
    busy process that turns a 0.1 s ``eigh`` of order 1000 into seconds, while on an
    idle machine two threads gain nothing at these sizes."""
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class NTKSolver:
    """Dense or Lanczos ``lam`` for :func:`train_quadratic`: identity ``g`` with ``d + p <
    B``: exact, from a ``(d + p) × (d + p)`` matrix with the non-zero spectrum of
    ``Θ``; else ``B <= exact_max``: the dense ``Θ`` and ``eigvalsh``; else Lanczos
    on ``v ↦ H v`` (``lanczos_steps`` per restart, at most ``max_restarts``
    restarts, until ``|H u − λ u| <= rtol · λ``; the eigenvalue error is of the
    order of the squared residual over the spectral gap)."""

    exact_max: int = 128
    lanczos_steps: int = 24
    rtol: float = 1e-10
    max_restarts: int = 50

    def __post_init__(self) -> None:
        check_int("NTKSolver.exact_max", self.exact_max, 0)
        check_int("NTKSolver.lanczos_steps", self.lanczos_steps, 2)
        check_int("NTKSolver.max_restarts", self.max_restarts, 0)
        require((np.isfinite(self.rtol) and self.rtol > 0, f"NTKSolver.rtol must be positive, got {self.rtol}"))


@dataclass(frozen=True)
class TopEigSolver:
    """Subspace (block power) iteration for ``lam`` of dense Gram matrices: ``block``
    vectors, converged when the top Ritz residual is below ``rtol`` times the Ritz
    value, at most ``max_iter`` iterations before the exact fallback; an exact
    solve (re-seeding the block) at step 0 and every ``reanchor``-th scheduled
    evaluation (``0``: step 0 only)."""

    block: int = 4
    rtol: float = 1e-8
    max_iter: int = 30
    reanchor: int = 256

    def __post_init__(self) -> None:
        check_int("TopEigSolver.block", self.block, 1)
        check_int("TopEigSolver.max_iter", self.max_iter, 1)
        check_int("TopEigSolver.reanchor", self.reanchor, 0)
        require((0 < self.rtol < 1, f"TopEigSolver.rtol must lie in (0, 1), got {self.rtol}"))


def top_eig(
    H: np.ndarray | None = None,
    *,
    matvec: Callable[[np.ndarray], np.ndarray] | None = None,
    warm: np.ndarray | None = None,
    solver: NTKSolver | TopEigSolver | None = None,
    exact: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """``(lam, warm, fallbacks)``: the top eigenvalue of each operator of a batch.

    Dense ``H`` ``(R, B, B)``: ``eigvalsh`` without ``warm``; with a block ``warm``
    ``(R, B, p)``, ``eigh`` if ``exact``, else the subspace iteration of a
    :class:`TopEigSolver` (``fallbacks``: matrices that needed the exact solve).
    Or ``matvec`` on ``(R, B)`` from ``warm`` ``(R, B)``: Lanczos (an
    :class:`NTKSolver`). The returned ``warm`` starts the next call.
    """
    if matvec is not None:
        assert warm is not None and isinstance(solver, NTKSolver), "matvec needs a warm start and an NTKSolver"
        return (*_lanczos_top(matvec, warm, solver), 0)
    assert H is not None, "give H or matvec"
    if H.shape[-1] == 1:
        return H[:, 0, 0].copy(), warm, 0
    if warm is None:
        return np.linalg.eigvalsh(H)[:, -1], None, 0
    if exact:
        return (*_exact_top(H, warm.shape[-1]), 0)
    assert isinstance(solver, TopEigSolver), "the subspace iteration needs a TopEigSolver"
    lam, Q, conv = _block_power(H, warm, solver)
    if np.all(conv):
        return lam, Q, 0
    lam[~conv], Q[~conv] = _exact_top(H[~conv], warm.shape[-1])
    return lam, Q, int(np.count_nonzero(~conv))


def _exact_top(H: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Top eigenvalue and top-``p`` eigenvectors by a dense ``eigh``."""
    w, V = np.linalg.eigh(H)
    return w[:, -1], V[:, :, -p:]


def _block_power(H: np.ndarray, Q: np.ndarray, solver: TopEigSolver) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _lanczos_top(
    matvec: Callable[[np.ndarray], np.ndarray], v0: np.ndarray, solver: NTKSolver
) -> tuple[np.ndarray, np.ndarray]:
    """Top eigenpair of a batch of symmetric PSD operators (rows of ``v0``: ``(R, n)``)."""
    R, n = v0.shape
    k = min(solver.lanczos_steps, n)
    vec = v0 / np.linalg.norm(v0, axis=1, keepdims=True)
    lam = np.zeros(R)
    for _ in range(solver.max_restarts + 1):
        basis = np.zeros((k, R, n))
        alpha = np.zeros((R, k))
        beta = np.zeros((R, k))
        q = vec
        scale = np.zeros(R)
        for j in range(k):
            basis[j] = q
            w = matvec(q)
            alpha[:, j] = np.sum(w * q, axis=1)
            scale = np.maximum(scale, np.abs(alpha[:, j]))
            for _pass in range(2):  # full reorthogonalisation, twice is enough
                coef = np.einsum("jrn,rn->jr", basis[: j + 1], w)
                w = w - np.einsum("jr,jrn->rn", coef, basis[: j + 1])
            b = np.linalg.norm(w, axis=1)
            # an invariant subspace is found when the new direction is at rounding level;
            # continuing with zeros only adds zero eigenvalues, harmless for a PSD operator
            ok = b > 1e-13 * np.maximum(scale, np.finfo(float).tiny)
            beta[:, j] = np.where(ok, b, 0.0)
            q = np.where(ok[:, None], w / np.where(ok, b, 1.0)[:, None], 0.0)
        T = np.zeros((R, k, k))
        idx = np.arange(k)
        T[:, idx, idx] = alpha
        T[:, idx[:-1], idx[1:]] = beta[:, :-1]
        T[:, idx[1:], idx[:-1]] = beta[:, :-1]
        evals, evecs = np.linalg.eigh(T)
        lam = evals[:, -1]
        s = evecs[:, :, -1]
        new = np.einsum("jrn,rj->rn", basis, s)
        norm = np.linalg.norm(new, axis=1, keepdims=True)
        # a zero operator (a frozen run) has no direction: keep the previous one
        vec = np.where(norm > 0, new / np.where(norm > 0, norm, 1.0), vec)
        resid = np.abs(beta[:, -1] * s[:, -1])
        if np.all(resid <= solver.rtol * np.maximum(lam, np.finfo(float).tiny)):
            break
    return lam, vec
