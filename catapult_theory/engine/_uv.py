"""Full-parameter gradient descent on the finite-width uv model.

``f(x) = vᵀ U x / √n`` on one datum, square loss ``½ (f − y)²``. This is plain
GD on the actual parameters (forward pass, gradients, update), written
independently of the symbolic layer so that it can check the derived map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._trajectory import PhaseCriteria, StepRecorder, Trajectory

__all__ = ["UVState", "uv_init", "uv_observables", "train_uv"]


@dataclass(frozen=True)
class UVState:
    """Parameters of a batch of uv models: ``U`` (..., n, d), ``v`` (..., n)."""

    U: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        return self.U.shape[-2]


def uv_init(width: int, d: int = 1, seed: int = 0) -> UVState:
    """i.i.d. N(0, 1) initialisation from ``numpy.random.default_rng(seed)``."""
    if width < 1 or d < 1:
        raise ValueError(f"width and d must be positive, got width={width}, d={d}")
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((width, d))
    v = rng.standard_normal(width)
    return UVState(U, v)


def _forward(U: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    n = U.shape[-2]
    Ux = U @ x
    f = np.einsum("...i,...i->...", v, Ux) / np.sqrt(n)
    grad_U = (v / np.sqrt(n))[..., :, None] * x  # df/dU = v xᵀ / √n
    grad_v = Ux / np.sqrt(n)  # df/dv = U x / √n
    return f, grad_U, grad_v


def uv_observables(state: UVState, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(f, lam, w2)`` of a state: output, ``|∇f|²``, ``|θ|²``."""
    x = np.asarray(x, dtype=float)
    f, gU, gv = _forward(state.U, state.v, x)
    lam = np.sum(gU**2, axis=(-2, -1)) + np.sum(gv**2, axis=-1)
    w2 = np.sum(state.U**2, axis=(-2, -1)) + np.sum(state.v**2, axis=-1)
    return f, lam, w2


def train_uv(
    init: UVState,
    x: np.ndarray,
    eta: np.ndarray | float,
    steps: int,
    y: float = 0.0,
    criteria: PhaseCriteria = PhaseCriteria(),
) -> Trajectory:
    """GD from ``init`` for every learning rate in ``eta`` at once.

    ``eta`` may have any shape; the batch shape is ``eta.shape`` broadcast with
    the leading shape of ``init`` (same initialisation for every rate unless
    the init itself is batched). Returns loss, ``lam = |∇f|²`` and ``w2`` per
    step; a run that blows up is frozen at that step.
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    x = np.asarray(x, dtype=float)
    eta = np.asarray(eta, dtype=float)
    if not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ValueError("learning rates must be finite and non-negative")
    batch = np.broadcast_shapes(eta.shape, init.U.shape[:-2], init.v.shape[:-1])
    U = np.broadcast_to(init.U, batch + init.U.shape[-2:]).copy()
    v = np.broadcast_to(init.v, batch + init.v.shape[-1:]).copy()
    eta = np.broadcast_to(eta, batch)
    rec = StepRecorder(steps, batch, criteria)
    for t in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            f, gU, gv = _forward(U, v, x)
            r = f - y
            cur_loss = 0.5 * r**2
            lam = np.sum(gU**2, axis=(-2, -1)) + np.sum(gv**2, axis=-1)
            w2 = np.sum(U**2, axis=(-2, -1)) + np.sum(v**2, axis=-1)
        rec.check(t, cur_loss, lam, w2)
        rec.store(t, loss=cur_loss, lam=lam, w2=w2)
        if t == steps:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            step = np.where(rec.active, eta * r, 0.0)
            U -= step[..., None, None] * gU
            v -= step[..., None] * gv
    return rec.trajectory(eta)
