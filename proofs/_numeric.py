"""Real finite models for the numeric cross-checks of proof steps.

Each sampler draws a concrete model (random sizes and parameters, or a *tight*
configuration where a bound is attained) and computes, with plain NumPy and
independently of the symbolic layer, the value of every quantity a premise or
step relates (:data:`catapult_theory.symbolic.QUANTITIES`). ``matrices`` and
``scalars`` let the word algebra evaluate its own atoms on the same model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

import numpy as np
import sympy as sp

from catapult_theory.symbolic import QUANTITIES, symbols as S
from catapult_theory.symbolic.models.quadratic import phi2 as PHI2, zeta as ZETA
from catapult_theory.symbolic.models.two_layer import a as A_SLOPE
from catapult_theory.symbolic.models.uv import d as D_IN

__all__ = ["Instance", "SAMPLERS", "STEP_SAMPLERS", "BATCH_SAMPLERS", "instances", "q", "gd_steps"]

class _FromRecords(Mapping[str, str]):
    """Family -> sampler, as the families' records name their samplers (``kind``: ``step`` or ``batch``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _table(self) -> dict[str, str]:
        from catapult_theory.families import BUILTIN

        return {f.name: f.samplers[self.kind] for f in BUILTIN() if self.kind in f.samplers}

    def __getitem__(self, key: str) -> str:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


#: families with a real one-datum GD-step sampler (their records say so)
STEP_SAMPLERS: Mapping[str, str] = _FromRecords("step")
#: families with a real many-data GD-step sampler -> its name
BATCH_SAMPLERS: Mapping[str, str] = _FromRecords("batch")

_Q = {s.name: s for s in QUANTITIES}


def q(name: str) -> sp.Symbol:
    """A quantity symbol by name."""
    return _Q[name]


@dataclass(frozen=True)
class Instance:
    """One concrete model: quantity values, and the arrays and scalars behind them."""

    values: Mapping[sp.Symbol, float]
    matrices: Mapping[str, np.ndarray] = field(default_factory=dict)
    scalars: Mapping[sp.Symbol, float] = field(default_factory=dict)


def _sym(rng: np.random.Generator, m: int) -> np.ndarray:
    a = rng.standard_normal((m, m))
    return (a + a.T) / 2


def _top_eig(M: np.ndarray) -> tuple[float, np.ndarray]:
    w, V = np.linalg.eigh(M)
    return float(w[-1]), V[:, -1]


def uv(rng: np.random.Generator, tight: bool) -> Instance:
    n = int(rng.integers(2, 12))
    d = 1 if tight else int(rng.integers(1, 5))
    U, v, x = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    c = np.sqrt(n)
    f = v @ U @ x / c
    gU, gv = np.outer(v, x) / c, U @ x / c
    vals = {S.f: f, S.lam: np.sum(gU**2) + gv @ gv, S.w2: np.sum(U**2) + v @ v, S.x2: x @ x,
            S.n: float(n), D_IN: float(d)}
    return Instance(vals, {"U": U, "v": v, "x": x}, {S.n: float(n), D_IN: float(d), S.x2: float(x @ x)})


def pure_quadratic(rng: np.random.Generator, tight: bool) -> Instance:
    m = int(rng.integers(3, 10))
    psi = _sym(rng, m)
    z = (m / 2) ** -0.5
    if tight:
        _, e = _top_eig(psi @ psi)
        theta = rng.uniform(0.5, 2) * e
    else:
        theta = rng.standard_normal(m)
    g = z * psi @ theta
    vals = {S.f: z / 2 * theta @ psi @ theta, S.lam: g @ g, S.w2: theta @ theta, ZETA: z,
            q("psi2_form"): theta @ psi @ psi @ theta, q("Lpsi2"): float(np.max(np.linalg.eigvalsh(psi) ** 2))}
    return Instance(vals, {"theta": theta, "psi": psi}, {ZETA: z})


def omega(rng: np.random.Generator, tight: bool) -> Instance:
    m, B = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    z = (m / 2) ** -0.5
    if tight:  # B copies of one datum, θ in the top eigenspace of ψ²
        one = _sym(rng, m)
        psi = np.stack([one] * B)
        theta = _top_eig(one @ one)[1] * rng.uniform(0.5, 2)
    else:
        psi = np.stack([_sym(rng, m) for _ in range(B)])
        theta = rng.standard_normal(m)
    J = z * psi @ theta  # (B, m) rows ∇f_a
    Theta = J @ J.T
    lam_H, r = _top_eig(Theta / B)
    Pr = np.einsum("a,aij->ij", r, psi)
    vals = {q("lam_H"): lam_H, q("rTr"): r @ Theta @ r, q("r2"): r @ r, q("B"): float(B), ZETA: z,
            q("G"): float(np.sum((Pr @ theta) ** 2)), q("S2"): float(np.sum((psi @ theta) ** 2)),
            q("LOmega"): float(np.linalg.eigvalsh(np.einsum("aij,ajk->ik", psi, psi))[-1]), S.w2: theta @ theta}
    return Instance(vals, {"theta": theta, "P": Pr}, {ZETA: z})


def quadratic_bias(rng: np.random.Generator, tight: bool) -> Instance:
    p, m = int(rng.integers(1, 6)), int(rng.integers(3, 9))
    z = (m / 2) ** -0.5
    phi, psi = rng.standard_normal(p), _sym(rng, m)
    if tight:  # no feature weights, θ_ψ in the top eigenspace of ψ²
        tphi = np.zeros(p)
        tpsi = _top_eig(psi @ psi)[1] * rng.uniform(0.5, 2)
    else:
        tphi, tpsi = rng.standard_normal(p), rng.standard_normal(m)
    f = tphi @ phi + z / 2 * tpsi @ psi @ tpsi
    g = z * psi @ tpsi
    w2 = tphi @ tphi + tpsi @ tpsi
    vals = {S.f: f, S.lam: phi @ phi + g @ g, S.w2: w2, PHI2: phi @ phi, ZETA: z,
            q("Q"): w2 + (tphi @ phi) ** 2 / (phi @ phi), q("w2_phi"): tphi @ tphi, q("w2_psi"): tpsi @ tpsi,
            q("p_phi"): tphi @ phi, q("psi2_form"): tpsi @ psi @ psi @ tpsi,
            q("Lpsi2"): float(np.max(np.linalg.eigvalsh(psi) ** 2))}
    return Instance(vals, {"theta_phi": tphi, "theta_psi": tpsi, "phi": phi, "psi": psi},
                    {ZETA: z, PHI2: float(phi @ phi)})


def _slope(rng: np.random.Generator, tight: bool) -> float:
    if tight:
        return float(rng.choice([1.0, -1.0]))
    return float(rng.choice([0.0, 0.5, rng.uniform(-2, 2)]))


def two_layer(rng: np.random.Generator, tight: bool) -> Instance:
    n, d = int(rng.integers(2, 10)), int(rng.integers(1, 5))
    a = _slope(rng, tight)
    x, v = rng.standard_normal(d), rng.standard_normal(n)
    U = np.outer(rng.standard_normal(n), x) if tight else rng.standard_normal((n, d))
    z = U @ x
    s = np.where(z > 0, 1.0, a)
    c = np.sqrt(n * d)
    gv, gU = s * z / c, (v * s)[:, None] * x[None, :] / c
    vals = {S.f: v @ (s * z) / c, S.lam: gv @ gv + np.sum(gU**2), S.w2: np.sum(U**2) + v @ v,
            S.x2: x @ x, S.n: float(n), D_IN: float(d), A_SLOPE: a, q("s2"): float(np.max(s**2))}
    return Instance(vals, {"U": U, "v": v, "x": x, "S": np.diag(s)},
                    {S.n: float(n), D_IN: float(d), S.x2: float(x @ x), A_SLOPE: a})


def two_layer_data(rng: np.random.Generator, tight: bool) -> Instance:
    n, d, B = int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(2, 5))
    a = _slope(rng, tight)
    if tight:  # B copies of one datum, units (anti)parallel to it, |a| = 1
        x = rng.standard_normal(d)
        X = np.stack([x] * B)
        U = np.outer(rng.standard_normal(n), x)
    else:
        X = rng.standard_normal((B, d))
        U = rng.standard_normal((n, d))
    v = rng.standard_normal(n)
    c = np.sqrt(n * d)
    Z = U @ X.T  # (n, B)
    s = np.where(Z > 0, 1.0, a)
    dv = (s * Z).T / c  # (B, n)
    dU = (v[:, None] * s).T[:, :, None] * X[:, None, :] / c  # (B, n, d)
    J = np.concatenate([dU.reshape(B, -1), dv], axis=1)
    Theta = J @ J.T
    lam_H, r = _top_eig(Theta / B)
    zr = s * r[None, :]  # z_i = s_i ∘ r, rows per unit
    XTz = zr @ X  # (n, d): Xᵀ z_i per unit
    vals = {q("lam_H"): lam_H, q("rTr"): r @ Theta @ r, q("r2"): r @ r, q("B"): float(B),
            q("A_v"): float(np.sum(v**2 * np.sum(XTz**2, axis=1))),
            q("C_u"): float(np.sum(np.sum(U * XTz, axis=1) ** 2)),
            q("U2"): float(np.sum(U**2)), q("V2"): float(v @ v), q("Z2"): float(np.max(np.sum(zr**2, axis=1))),
            q("LX"): float(np.linalg.eigvalsh(X.T @ X)[-1]), S.w2: float(np.sum(U**2) + v @ v),
            S.n: float(n), D_IN: float(d), A_SLOPE: a}
    return Instance(vals, {"U": U, "v": v}, {S.n: float(n), D_IN: float(d), A_SLOPE: a})


#: sampler name -> function(rng, tight) -> Instance
SAMPLERS: dict[str, Callable[[np.random.Generator, bool], Instance]] = {
    "uv": uv,
    "pure-quadratic": pure_quadratic,
    "omega": omega,
    "quadratic-bias": quadratic_bias,
    "two-layer": two_layer,
    "two-layer-data": two_layer_data,
}


def instances(sampler: str, count: int = 12, tight: bool = False, seed: int = 2024) -> list[Instance]:
    """``count`` instances from a sampler (seeded: a proof run is reproducible)."""
    rng = np.random.default_rng([seed, sorted(SAMPLERS).index(sampler), int(tight)])
    return [SAMPLERS[sampler](rng, tight) for _ in range(count)]


# ------------------------------------------------------------------ GD steps
def _step_values(theta: np.ndarray, theta1: np.ndarray) -> float:
    """``|θ'|² − |θ|²`` as ``(θ' − θ)·(θ' + θ)`` (no cancellation)."""
    return float((theta1 - theta) @ (theta1 + theta))


def gd_step(model: str, rng: np.random.Generator, y_zero: bool = False) -> dict[sp.Symbol, float]:
    """One real GD step on one datum (``model`` a family) or on a batch
    (``pure-quadratic-batch``, ``two-layer-batch``): the values before it, the
    learning rate, the target and the measured norm increments."""
    eta = float(rng.uniform(0.01, 0.5))
    if model in ("pure-quadratic-batch", "two-layer-batch", "uv-batch"):
        return _batch_step(model, rng, eta, y_zero)
    inst = SAMPLERS[model](rng, False)
    y = 0.0 if y_zero else float(rng.standard_normal())
    v = dict(inst.values)
    M = inst.matrices
    if model == "uv":
        U, vv, x = M["U"], M["v"], M["x"]
        n = U.shape[0]
        f = vv @ U @ x / np.sqrt(n)
        r = f - y
        th = np.concatenate([U.ravel(), vv])
        g = np.concatenate([np.outer(vv, x).ravel(), U @ x]) / np.sqrt(n)
    elif model == "two-layer":
        U, vv, x, Sd = M["U"], M["v"], M["x"], np.diag(M["S"])
        c = np.sqrt(U.shape[0] * U.shape[1])
        f = vv @ (Sd * (U @ x)) / c
        r = f - y
        th = np.concatenate([U.ravel(), vv])
        g = np.concatenate([((vv * Sd)[:, None] * x[None, :]).ravel(), Sd * (U @ x)]) / c
    elif model == "pure-quadratic":
        th, psi, z = M["theta"], M["psi"], v[ZETA]
        f = z / 2 * th @ psi @ th
        r = f - y
        g = z * psi @ th
    elif model == "quadratic-bias":
        tphi, tpsi, phi, psi, z = M["theta_phi"], M["theta_psi"], M["phi"], M["psi"], v[ZETA]
        f = tphi @ phi + z / 2 * tpsi @ psi @ tpsi
        r = f - y
        th = np.concatenate([tphi, tpsi])
        g = np.concatenate([phi, z * psi @ tpsi])
        p = len(phi)
        th1 = th - eta * r * g

        def Qn(t: np.ndarray) -> float:
            return float(t @ t + (t[:p] @ phi) ** 2 / (phi @ phi))

        v[q("DQ")] = Qn(th1) - Qn(th)
    else:
        raise ValueError(f"no GD step sampler for {model!r}")
    th1 = th - eta * r * g
    v.update({S.eta: eta, S.y: y, S.r: float(r), S.f: float(f), q("Dw2"): _step_values(th, th1)})
    return v


def _batch_step(model: str, rng: np.random.Generator, eta: float, y_zero: bool) -> dict[sp.Symbol, float]:
    B = int(rng.integers(2, 5))
    if model == "pure-quadratic-batch":
        m = int(rng.integers(3, 8))
        z = (m / 2) ** -0.5
        psi = np.stack([_sym(rng, m) for _ in range(B)])
        th = rng.standard_normal(m)
        f = 0.5 * z * np.einsum("i,aij,j->a", th, psi, th)
        J = z * psi @ th
    else:
        n, d = int(rng.integers(2, 8)), int(rng.integers(1, 4))
        # the uv model is the two-layer net with slope 1 and x scaled by √d
        a = 1.0 if model == "uv-batch" else float(rng.uniform(-1, 1))
        X, U, vv = rng.standard_normal((B, d)), rng.standard_normal((n, d)), rng.standard_normal(n)
        c = np.sqrt(n * d)
        Z = U @ X.T
        s = np.where(Z > 0, 1.0, a)
        f = vv @ (s * Z) / c
        dv = (s * Z).T / c
        dU = (vv[:, None] * s).T[:, :, None] * X[:, None, :] / c
        J = np.concatenate([dU.reshape(B, -1), dv], axis=1)
        th = np.concatenate([U.ravel(), vv])
    y = np.zeros(B) if y_zero else rng.standard_normal(B)
    r = f - y
    th1 = th - eta / B * (r @ J)
    Theta = J @ J.T
    return {S.eta: eta, q("B"): float(B), q("fsum2"): float(r @ f), q("rTr"): float(r @ Theta @ r),
            q("Dw2"): _step_values(th, th1), q("r2"): float(r @ r),
            q("lam_H"): float(np.linalg.eigvalsh(Theta / B)[-1])}


def gd_steps(model: str, count: int = 12, seed: int = 7, y_zero: bool = False) -> list[dict[sp.Symbol, float]]:
    """``count`` real GD steps (seeded)."""
    rng = np.random.default_rng([seed, len(model), int(y_zero)])
    return [gd_step(model, rng, y_zero) for _ in range(count)]


# ------------------------------------------------------------------ GD runs
@dataclass(frozen=True)
class Run:
    """A full-parameter GD run on one datum (y = 0) at ``k = eta*lam0``."""

    k: float
    k_max: float
    #: the norm the proof controls (|θ|², or Q for the bias model)
    norm: np.ndarray
    loss: np.ndarray
    eta_lam: np.ndarray
    diverged: bool


def _problem(model: str, rng: np.random.Generator):
    """A model near its tight configuration, so that the proven window is not empty:
    returns ``(theta0, output(theta), grad(theta), norm(theta), values)``; the norm is
    |θ|², or the modified norm Q for the bias model."""

    def sq(t: np.ndarray) -> float:
        return float(t @ t)

    if model == "uv":
        n = 200
        U, v = rng.standard_normal((n, 1)), rng.standard_normal(n)
        x = np.array([1.0])

        def out(t):
            return t[n:] @ (t[:n] * x[0]) / np.sqrt(n)

        def grad(t):
            return np.concatenate([t[n:] * x[0], t[:n] * x[0]]) / np.sqrt(n)

        vals = {S.n: float(n), S.x2: 1.0}
        return np.concatenate([U[:, 0], v]), out, grad, sq, vals
    if model == "two-layer":
        n, a = 200, 0.5
        x = np.array([1.0])
        U, v = np.abs(rng.standard_normal((n, 1))), rng.standard_normal(n)

        def out(t):
            z = t[:n] * x[0]
            return t[n:] @ np.where(z > 0, z, a * z) / np.sqrt(n)

        def grad(t):
            z = t[:n] * x[0]
            s = np.where(z > 0, 1.0, a)
            return np.concatenate([t[n:] * s * x[0], s * z]) / np.sqrt(n)

        vals = {S.n: float(n), S.x2: 1.0, D_IN: 1.0, A_SLOPE: a}
        return np.concatenate([U[:, 0], v]), out, grad, sq, vals
    if model in ("pure-quadratic", "quadratic-bias"):
        m = 60
        qm, _ = np.linalg.qr(rng.standard_normal((m, m)))
        mu = np.concatenate([rng.uniform(1, 2, m // 2)] * 2) * np.repeat([1, -1], m // 2)
        psi = (qm * mu) @ qm.T
        z = (m / 2) ** -0.5
        top = qm[:, np.argmax(np.abs(mu))]
        th = top + 0.05 * rng.standard_normal(m)
        vals = {ZETA: z, q("Lpsi2"): float(np.max(mu**2))}
        if model == "pure-quadratic":
            return th, (lambda t: z / 2 * t @ psi @ t), (lambda t: z * psi @ t), sq, vals
        p = 3
        phi = 0.3 * rng.standard_normal(p)

        def out(t):
            return t[:p] @ phi + z / 2 * t[p:] @ psi @ t[p:]

        def grad(t):
            return np.concatenate([phi, z * psi @ t[p:]])

        def Qn(t):
            return float(t @ t + (t[:p] @ phi) ** 2 / (phi @ phi))

        t0 = np.concatenate([0.1 * rng.standard_normal(p), th])
        vals.update({PHI2: float(phi @ phi), q("Q"): Qn(t0)})
        return t0, out, grad, Qn, vals
    raise ValueError(f"no GD run for {model!r}")


def stability_edge(model: str) -> float:
    """``eta_crit * lam`` of ``model`` (derived by the symbolic layer, compiled)."""
    from catapult_theory.compiled import threshold

    return float(threshold(model, "eta_crit")(lam=1.0))


def catapult_run(model: str, k_max_expr: sp.Expr, frac: float = 0.5, steps: int = 4000, seed: int = 3) -> Run:
    """GD at ``k = edge + frac (k_max − edge)`` inside the proven window (``edge`` the
    derived stability edge ``eta_crit lam`` of the model), ``k_max`` the
    bound evaluated on this model's initial state."""
    rng = np.random.default_rng([seed, len(model)])
    th, out, grad, norm_of, vals = _problem(model, rng)
    g = grad(th)
    lam0, w2_0 = float(g @ g), float(th @ th)
    vals = {**vals, S.lam: lam0, S.w2: w2_0}
    k_max = float(sp.sympify(k_max_expr).xreplace({k: sp.Float(v, 30) for k, v in vals.items()}))
    edge = stability_edge(model)
    k = edge + frac * (k_max - edge)
    eta = k / lam0
    w2, loss, el = [norm_of(th)], [0.5 * out(th) ** 2], [k]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            f = out(th)
            th = th - eta * f * grad(th)
            gg = grad(th)
            w2.append(norm_of(th))
            loss.append(0.5 * float(out(th)) ** 2)
            el.append(eta * float(gg @ gg))
            if not np.isfinite(loss[-1]) or loss[-1] > 1e30:
                diverged = True
                break
            if loss[-1] < 1e-30:
                break
    return Run(k, k_max, np.array(w2), np.array(loss), np.array(el), diverged)
