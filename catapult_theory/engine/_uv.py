"""Full-parameter gradient descent on the finite-width uv model.

``f(x) = vᵀ U x / √n`` on one datum, square loss ``½ (f − y)²``: plain GD on the actual
parameters, written independently of the symbolic layer so that it can check the derived map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput
from ._driver import GDConfig, GDFamily, Observation, check_rates, run_gd
from ._eig import top_eig
from ._trajectory import PhaseCriteria, Trajectory

__all__ = ["UVState", "uv_init", "uv_observables", "train_uv"]


@dataclass(frozen=True)
class UVState:
    """Parameters of a batch of uv models: ``U`` (..., n, d), ``v`` (..., n)."""

    U: np.ndarray
    v: np.ndarray

    width = property(lambda self: self.U.shape[-2], doc="``n``")


def uv_init(width: int, d: int = 1, seed: int = 0) -> UVState:
    """i.i.d. N(0, 1) initialisation from ``numpy.random.default_rng(seed)``."""
    if width < 1 or d < 1:
        raise InvalidInput(f"width and d must be positive, got width={width}, d={d}")
    rng = np.random.default_rng(seed)
    return UVState(rng.standard_normal((width, d)), rng.standard_normal(width))


def _forward(U: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """``f``, ``∂f/∂U``, ``∂f/∂v``, ``lam = |∇f|²`` (the ``1 × 1`` NTK) and ``w2``."""
    n = U.shape[-2]
    Ux = U @ x
    f = np.einsum("...i,...i->...", v, Ux) / np.sqrt(n)
    grad_U = (v / np.sqrt(n))[..., :, None] * x  # df/dU = v xᵀ / √n
    grad_v = Ux / np.sqrt(n)  # df/dv = U x / √n
    lam = np.sum(grad_U**2, axis=(-2, -1)) + np.sum(grad_v**2, axis=-1)
    return f, grad_U, grad_v, lam, np.sum(U**2, axis=(-2, -1)) + np.sum(v**2, axis=-1)


def uv_observables(state: UVState, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(f, lam, w2)`` of a state: output, ``|∇f|²``, ``|θ|²``."""
    f, _, _, lam, w2 = _forward(state.U, state.v, np.asarray(x, dtype=float))
    return f, lam, w2


class _UVFamily(GDFamily):
    """The uv model as a :func:`run_gd` family; ``U`` ``(*batch, n, d)`` and ``v``
    ``(*batch, n)`` keep their batch shape (the driver sees it flattened)."""

    def __init__(self, U: np.ndarray, v: np.ndarray, x: np.ndarray, y: float) -> None:
        self.U, self.v, self.x, self.y = U, v, x, y

    def observe(self, s, lam, exact, test, tally) -> Observation:
        f, self.gU, self.gv, g2, w2 = _forward(self.U, self.v, self.x)
        self.r = f - self.y
        return Observation((0.5 * self.r**2).reshape(-1), w2.reshape(-1), lam=top_eig(g2.reshape(-1, 1, 1))[0])

    def update(self, s, eta, keep, tally) -> None:
        step = np.where(keep, eta * self.r.reshape(-1), 0.0).reshape(self.r.shape)
        self.U -= step[..., None, None] * self.gU
        self.v -= step[..., None] * self.gv


def train_uv(
    init: UVState,
    x: np.ndarray,
    eta: np.ndarray | float,
    steps: int,
    y: float = 0.0,
    criteria: PhaseCriteria = PhaseCriteria(),
    settle: bool = True,
) -> Trajectory:
    """GD from ``init`` for every learning rate in ``eta`` at once (:func:`run_gd`).

    ``eta`` may have any shape; the batch shape is ``eta.shape`` broadcast with
    the leading shape of ``init`` (same initialisation for every rate unless
    the init itself is batched). Returns loss, ``lam = |∇f|²`` and ``w2`` per
    step; a run that blows up is frozen at that step; with ``settle`` a run stops
    once its loss is settled (:class:`GDConfig`), and the series end when all have.
    """
    cfg = GDConfig(steps, criteria, settle=settle)
    x, eta = np.asarray(x, dtype=float), check_rates(eta)
    batch = np.broadcast_shapes(eta.shape, init.U.shape[:-2], init.v.shape[:-1])
    U = np.broadcast_to(init.U, batch + init.U.shape[-2:]).copy()
    v = np.broadcast_to(init.v, batch + init.v.shape[-1:]).copy()
    return run_gd(_UVFamily(U, v, x, y), np.broadcast_to(eta, batch), cfg).traj
