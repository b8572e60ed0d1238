"""Quadratic models: meta-features, full-parameter GD and the exact spectral engine.

The two families (THEORY §2), with ``ζ = (m/2)^{-1/2}``:

``pure``
    ``f(x) = (ζ/2) θᵀ ψ(x) θ``, ``θ ∈ R^m``.
``bias``
    ``f(x) = θ_φ·φ(x) + (ζ/2) θ_ψᵀ ψ(x) θ_ψ`` with separate blocks
    ``θ_φ ∈ R^p`` and ``θ_ψ ∈ R^m``.

Meta-features ``ψ(x) = g(Σ_i x_i W_i / √d)`` with ``g`` elementwise (identity,
tanh, relu or leaky_relu with a stated slope) and ``W_i = q_i diag(μ_i, −μ_i)
q_iᵀ``: ``q_i = expm(A_i)`` for a random antisymmetric ``A_i`` (off-diagonal
entries N(0, 1)), hence orthogonal, and ``μ_i ∈ R^{m/2}`` i.i.d. from a named
distribution whose support is in ``(0, ∞)``. Each ``W_i`` therefore has its
eigenvalues in ``±`` pairs. Features ``φ(x) = Vᵀx / √(d p)``, ``V ∈ R^{d×p}``
i.i.d. N(0, 1).

Random streams. Every random object comes from
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(stream,)))`` with a
fixed stream per purpose (:data:`STREAMS`): meta-features and ``V``, the
initialisation, a teacher, inputs and labels are independent even when they
are given the same seed.

Two engines, one datum or many:

:func:`train_quadratic`
    Full-parameter GD on ``L = (1/2B) Σ_a (f(x_a) − y_a)²``, float64, every
    learning rate of a batch at once (same initialisation for all). Reports
    loss, ``lam = λ_max(H)`` (``H = Θ/B``, ``Θ_ab = ∇f(x_a)·∇f(x_b)`` over all
    parameters), ``w2 = |θ|²`` (both blocks) and, with a test set,
    ``test_loss``.
:func:`train_spectral`
    The exact single-datum engine of THEORY §3 in the eigenbasis of ``ψ(x)``:
    one weight ``c_j = (e_j·θ_ψ)²`` per eigenvalue (plus the feature block
    ``p = θ_φ·φ``, ``q = |θ_φ|²`` for the bias model), ``O(m)`` per step and
    rate instead of ``O(m²)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import scipy.linalg

from ._trajectory import PhaseCriteria, StepRecorder, Trajectory

__all__ = [
    "ACTIVATIONS",
    "FAMILIES",
    "STREAMS",
    "Distribution",
    "NTK",
    "NTKSolver",
    "QuadraticModel",
    "QuadraticParams",
    "QuadraticSpec",
    "SpectralFormulas",
    "SpectralState",
    "features",
    "merge_eigenvalues",
    "meta_features",
    "ntk",
    "parse_distribution",
    "quadratic_gradient",
    "quadratic_init",
    "quadratic_model",
    "quadratic_output",
    "rng_stream",
    "spectral_state",
    "train_quadratic",
    "train_spectral",
]


# --------------------------------------------------------------------------
# The per-component maps of the spectral engine (THEORY §3).
# --------------------------------------------------------------------------


class SpectralFormulas(NamedTuple):
    """The compiled per-component formulas the spectral engine iterates.

    ``weight_next(c, mu, eta, r, zeta) -> c'``
        one GD step of an eigen-weight ``c_j = (e_j·θ_ψ)²``.
    ``contributions(c, mu, zeta) -> (f_part, lam_part, w2_part)``
        per-component parts of ``f``, ``lam`` and ``w2`` (summed by the engine).
    ``feature_next(p, q, phi2, eta, r) -> (p', q')``
        one GD step of the feature block, ``p = θ_φ·φ``, ``q = |θ_φ|²``.
    ``feature_contributions(p, q, phi2) -> (f_part, lam_part, w2_part)``
        the feature block's parts of ``f``, ``lam`` and ``w2``.
    """

    weight_next: Callable[..., np.ndarray]
    contributions: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]
    feature_next: Callable[..., tuple[np.ndarray, np.ndarray]]
    feature_contributions: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


def _spectral_formulas() -> SpectralFormulas:
    """The spectral engine's formulas: derived in
    :mod:`catapult_theory.symbolic._spectral` and compiled once
    (:func:`catapult_theory.compiled.spectral_maps`); nothing is typed here."""
    from ..compiled import spectral_maps

    sm = spectral_maps()
    return SpectralFormulas(sm.weight_next, sm.contributions, sm.feature_next, sm.feature_contributions)


# --------------------------------------------------------------------------
# Random streams and named distributions.
# --------------------------------------------------------------------------

#: stream index of each kind of random object (see the module docstring)
STREAMS = {"meta_features": 0, "init": 1, "teacher": 2, "inputs": 3, "labels": 4}


def rng_stream(seed: int, stream: str) -> np.random.Generator:
    """The generator of one named random stream for ``seed`` (see :data:`STREAMS`)."""
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}; expected one of {', '.join(STREAMS)}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(STREAMS[stream],)))


_DIST_FORMS = "'uniform:A:B' (A <= B), 'normal:M:S' (S >= 0) or 'const:C'"


@dataclass(frozen=True)
class Distribution:
    """A named scalar distribution: ``uniform`` on ``[a, b]``, ``normal`` with
    mean ``a`` and standard deviation ``b``, or ``const`` (``a == b``)."""

    kind: str
    a: float
    b: float
    #: a normal truncated to (0, ∞): non-positive draws are redrawn
    truncated: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "normal", "const"):
            raise ValueError(f"unknown distribution kind {self.kind!r}; expected uniform, normal or const")
        if not (np.isfinite(self.a) and np.isfinite(self.b)):
            raise ValueError(f"distribution parameters must be finite, got {self.a}, {self.b}")
        if self.kind == "uniform" and self.a > self.b:
            raise ValueError(f"uniform:A:B needs A <= B, got {self.a} > {self.b}")
        if self.kind == "normal" and self.b < 0:
            raise ValueError(f"normal:M:S needs S >= 0, got {self.b}")
        if self.kind == "const" and self.a != self.b:
            raise ValueError("const distribution needs a == b")

    @property
    def low(self) -> float:
        """Infimum of the support."""
        if self.truncated:
            return 0.0
        return -np.inf if (self.kind == "normal" and self.b > 0) else self.a

    @property
    def high(self) -> float:
        """Supremum of the support."""
        if self.kind == "normal":
            return np.inf if self.b > 0 else self.a
        return self.b

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """``size`` i.i.d. draws (``const`` draws nothing from ``rng``)."""
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, size)
        if self.kind == "normal":
            x = rng.normal(self.a, self.b, size)
            if self.truncated:  # redraw the non-positive ones (rejection sampling)
                bad = x <= 0
                while bad.any():
                    x[bad] = rng.normal(self.a, self.b, int(bad.sum()))
                    bad = x <= 0
            return x
        return np.full(size, self.a, dtype=float)

    def __str__(self) -> str:
        if self.kind == "const":
            return f"const:{self.a:g}"
        return f"{self.kind}:{self.a:g}:{self.b:g}" + (" truncated to (0, inf)" if self.truncated else "")


def parse_distribution(text: str, *, positive: bool = False, what: str = "distribution") -> Distribution:
    """Parse ``'uniform:A:B'``, ``'normal:M:S'`` or ``'const:C'``.

    With ``positive`` the support must lie in ``(0, ∞)``: ``uniform`` needs
    ``A > 0`` and ``const`` needs ``C > 0`` (otherwise: an error, never
    folding or clipping); ``normal:M:S`` needs ``M > 0`` and is then the
    normal *truncated to (0, ∞)* (non-positive draws are redrawn), as stated
    in its ``str``.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a string such as {_DIST_FORMS}, got {text!r}")
    parts = text.strip().split(":")
    kind = parts[0].strip().lower()
    expected = {"uniform": 3, "normal": 3, "const": 2}
    if kind not in expected or len(parts) != expected[kind]:
        raise ValueError(f"bad {what} {text!r}: expected {_DIST_FORMS}")
    try:
        values = [float(p) for p in parts[1:]]
    except ValueError:
        raise ValueError(f"bad {what} {text!r}: expected {_DIST_FORMS} with numbers") from None
    try:
        dist = Distribution(kind, values[0], values[-1])
    except ValueError as err:
        raise ValueError(f"bad {what} {text!r}: {err}; expected {_DIST_FORMS}") from None
    if positive and kind == "normal" and dist.b > 0:
        if not dist.a > 0:
            raise ValueError(f"{what} {text!r}: a positive normal needs M > 0 (it is truncated to (0, inf))")
        return Distribution(kind, values[0], values[-1], truncated=True)
    if positive and not dist.low > 0:
        raise ValueError(
            f"{what} {text!r} can produce values <= 0, but they must be positive: "
            "use 'uniform:A:B' with 0 < A <= B or 'const:C' with C > 0"
        )
    return dist


# --------------------------------------------------------------------------
# Model construction and evaluation.
# --------------------------------------------------------------------------

#: elementwise activations ``g`` of the meta-features
ACTIVATIONS = ("identity", "tanh", "relu", "leaky_relu")
#: model families
FAMILIES = ("pure", "bias")


@dataclass(frozen=True)
class QuadraticSpec:
    """Configuration of a quadratic model.

    Parameters
    ----------
    rank
        ``m``, the size of ``ψ(x)``; even (the spectrum of each ``W_i`` comes
        in ``±μ`` pairs).
    d
        Input dimension.
    family
        ``"pure"`` (no feature block, ``features = 0``) or ``"bias"``
        (``features = p >= 1``).
    features
        ``p``, the number of linear features of the bias model.
    mu
        Distribution of the ``μ_i`` (see :func:`parse_distribution`; support
        in ``(0, ∞)``), e.g. ``"uniform:1:2"`` or ``"const:1"``.
    activation
        ``g``, one of :data:`ACTIVATIONS`.
    leaky_slope
        Slope of ``leaky_relu`` for negative arguments (ignored otherwise).
    seed
        Seed of the ``"meta_features"`` stream (``W_i`` and ``V``).
    """

    rank: int
    d: int = 1
    family: str = "pure"
    features: int = 0
    mu: str = "uniform:1:2"
    activation: str = "identity"
    leaky_slope: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("rank", "d", "features", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"QuadraticSpec.{name} must be an integer, got {v!r}")
        if self.rank < 2 or self.rank % 2:
            raise ValueError(f"rank must be even and >= 2 (eigenvalues come in ± pairs), got {self.rank}")
        if self.d < 1:
            raise ValueError(f"d must be positive, got {self.d}")
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.family == "pure" and self.features != 0:
            raise ValueError(f"the pure family has no features, got features={self.features}")
        if self.family == "bias" and self.features < 1:
            raise ValueError(f"the bias family needs features >= 1, got {self.features}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if not np.isfinite(self.leaky_slope):
            raise ValueError(f"leaky_slope must be finite, got {self.leaky_slope}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")
        parse_distribution(self.mu, positive=True, what="mu")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=float)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class QuadraticModel:
    """A constructed quadratic model (its fixed random parts, read-only).

    Attributes
    ----------
    spec
        The configuration it was built from.
    W
        ``(d, m, m)`` symmetric matrices ``W_i = q_i diag(μ_i, −μ_i) q_iᵀ``.
    q
        ``(d, m, m)`` their orthogonal factors.
    mu
        ``(d, m/2)`` the positive halves of their spectra.
    V
        ``(d, p)`` feature weights (``p = 0`` for the pure family).
    """

    spec: QuadraticSpec
    W: np.ndarray
    q: np.ndarray
    mu: np.ndarray
    V: np.ndarray

    def __post_init__(self) -> None:
        m, d, p = self.spec.rank, self.spec.d, self.spec.features
        want = {"W": (d, m, m), "q": (d, m, m), "mu": (d, m // 2), "V": (d, p)}
        for name, shape in want.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"QuadraticModel.{name} must have shape {shape}, got {np.shape(getattr(self, name))}")

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def m(self) -> int:
        return self.spec.rank

    @property
    def p(self) -> int:
        return self.spec.features

    @property
    def d(self) -> int:
        return self.spec.d

    @property
    def zeta(self) -> float:
        """``ζ = (m/2)^{-1/2}``."""
        return float((self.m / 2) ** -0.5)

    @property
    def activation(self) -> str:
        return self.spec.activation

    @property
    def linear(self) -> bool:
        """``g`` is the identity, so ``ψ(x)`` is linear in ``x``."""
        return self.spec.activation == "identity"

    def g(self, s: np.ndarray) -> np.ndarray:
        """The elementwise activation."""
        name = self.spec.activation
        if name == "identity":
            return s
        if name == "tanh":
            return np.tanh(s)
        if name == "relu":
            return np.maximum(s, 0.0)
        return np.where(s > 0, s, self.spec.leaky_slope * s)


def _random_orthogonal(m: int, rng: np.random.Generator) -> np.ndarray:
    """``expm(A)`` for ``A`` antisymmetric with N(0, 1) off-diagonal entries."""
    G = rng.standard_normal((m, m))
    return scipy.linalg.expm((G - G.T) / np.sqrt(2.0))


def quadratic_model(spec: QuadraticSpec) -> QuadraticModel:
    """Build the meta-feature matrices (and features) of ``spec``.

    For ``i = 1..d`` in order, from the ``"meta_features"`` stream: the
    antisymmetric generator of ``q_i``, then ``μ_i``; finally ``V``. Cost
    ``O(d m³)`` (one ``expm`` per input dimension), memory ``2 d m²`` floats.
    """
    if not isinstance(spec, QuadraticSpec):
        raise ValueError(f"expected a QuadraticSpec, got {type(spec).__name__}")
    rng = rng_stream(spec.seed, "meta_features")
    dist = parse_distribution(spec.mu, positive=True, what="mu")
    m, d, h = spec.rank, spec.d, spec.rank // 2
    W = np.empty((d, m, m))
    q = np.empty((d, m, m))
    mu = np.empty((d, h))
    for i in range(d):
        q[i] = _random_orthogonal(m, rng)
        mu[i] = dist.sample(rng, h)
        spectrum = np.concatenate([mu[i], -mu[i]])
        Wi = (q[i] * spectrum) @ q[i].T
        W[i] = 0.5 * (Wi + Wi.T)  # exactly symmetric, so ψ(x) is too
    V = rng.standard_normal((d, spec.features))
    return QuadraticModel(spec, _readonly(W), _readonly(q), _readonly(mu), _readonly(V))


def _inputs(model: QuadraticModel, X: np.ndarray, what: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != model.d:
        raise ValueError(f"{what} must have shape (B, {model.d}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{what} must be finite")
    return X


def _preactivation(model: QuadraticModel, X: np.ndarray) -> np.ndarray:
    """``Σ_i x_i W_i / √d`` for every row of ``X``: ``(B, m, m)``, exactly symmetric."""
    m = model.m
    S = (X / np.sqrt(model.d)) @ model.W.reshape(model.d, m * m)
    S = S.reshape(-1, m, m)
    return 0.5 * (S + S.transpose(0, 2, 1))


def meta_features(model: QuadraticModel, X: np.ndarray) -> np.ndarray:
    """``ψ(x_a) = g(Σ_i x_ai W_i / √d)`` for a batch ``X`` of shape ``(B, d)``.

    Returns ``(B, m, m)`` symmetric matrices (memory ``B m²`` floats).
    """
    X = _inputs(model, X)
    return model.g(_preactivation(model, X))


def features(model: QuadraticModel, X: np.ndarray) -> np.ndarray:
    """``φ(x_a) = Vᵀ x_a / √(d p)`` for a batch ``X`` of shape ``(B, d)``: ``(B, p)``
    (``(B, 0)`` for the pure family)."""
    X = _inputs(model, X)
    p = model.p
    if p == 0:
        return np.zeros((X.shape[0], 0))
    return X @ model.V / np.sqrt(model.d * p)


@dataclass(frozen=True, eq=False)
class QuadraticParams:
    """Trainable parameters: ``theta_psi`` ``(..., m)`` and ``theta_phi`` ``(..., p)``
    (``p = 0`` for the pure family)."""

    theta_psi: np.ndarray
    theta_phi: np.ndarray

    @property
    def w2(self) -> np.ndarray:
        """``|θ|²`` over both blocks."""
        return np.sum(self.theta_psi**2, axis=-1) + np.sum(self.theta_phi**2, axis=-1)


def quadratic_init(model: QuadraticModel, seed: int = 0) -> QuadraticParams:
    """``θ_ψ`` then ``θ_φ``, i.i.d. N(0, 1), from the ``"init"`` stream of ``seed``.

    The pure and bias models of equal rank share ``θ_ψ`` for equal seeds.
    """
    rng = rng_stream(seed, "init")
    theta_psi = rng.standard_normal(model.m)
    theta_phi = rng.standard_normal(model.p)
    return QuadraticParams(theta_psi, theta_phi)


def _check_params(model: QuadraticModel, params: QuadraticParams) -> tuple[np.ndarray, np.ndarray]:
    tp = np.asarray(params.theta_psi, dtype=float)
    tf = np.asarray(params.theta_phi, dtype=float)
    if tp.shape[-1:] != (model.m,) or tf.shape[-1:] != (model.p,):
        raise ValueError(
            f"parameters must end in shapes ({model.m},) and ({model.p},), got {tp.shape} and {tf.shape}"
        )
    return tp, tf


def quadratic_output(model: QuadraticModel, params: QuadraticParams, X: np.ndarray) -> np.ndarray:
    """``f(x_a)`` for every datum: shape ``(..., B)`` for parameters with leading shape ``...``."""
    tp, tf = _check_params(model, params)
    psi = meta_features(model, X)
    phi = features(model, X)
    quad = np.einsum("...j,bjk,...k->...b", tp, psi, tp, optimize=True)
    return 0.5 * model.zeta * quad + np.einsum("...i,bi->...b", tf, phi)


def quadratic_gradient(model: QuadraticModel, params: QuadraticParams, X: np.ndarray) -> QuadraticParams:
    """Per-datum gradients ``∇f(x_a)``: ``ζ ψ(x_a) θ_ψ`` and ``φ(x_a)``.

    Returned as parameters with an extra datum axis: ``theta_psi`` of shape
    ``(..., B, m)``, ``theta_phi`` of shape ``(..., B, p)``.
    """
    tp, tf = _check_params(model, params)
    psi = meta_features(model, X)
    phi = features(model, X)
    g_psi = model.zeta * np.einsum("bjk,...k->...bj", psi, tp)
    g_phi = np.broadcast_to(phi, tf.shape[:-1] + phi.shape).copy()
    return QuadraticParams(g_psi, g_phi)


@dataclass(frozen=True, eq=False)
class NTK:
    """``H = Θ/B`` for one parameter vector, its top eigenvalue and eigenvector.

    The eigenvector has unit norm and its largest-magnitude entry positive.
    """

    H: np.ndarray
    lam: float
    vec: np.ndarray


def ntk(model: QuadraticModel, params: QuadraticParams, X: np.ndarray) -> NTK:
    """The NTK operator ``H = Θ/B``, ``Θ_ab = ∇f(x_a)·∇f(x_b)`` over all parameters.

    Dense ``B × B`` and an exact ``eigh``: meant for the initial state (the
    ``H_0`` and top eigenvector of the effective meta-feature of THEORY §5),
    not for every step.
    """
    tp, tf = _check_params(model, params)
    if tp.ndim != 1 or tf.ndim != 1:
        raise ValueError("ntk takes a single parameter vector (no batch axes)")
    grad = quadratic_gradient(model, params, X)
    J = np.concatenate([grad.theta_psi, grad.theta_phi], axis=-1)
    B = J.shape[0]
    H = J @ J.T / B
    H = 0.5 * (H + H.T)
    evals, evecs = np.linalg.eigh(H)
    vec = evecs[:, -1]
    vec = vec * np.sign(vec[np.argmax(np.abs(vec))])
    return NTK(H, float(evals[-1]), vec)


# --------------------------------------------------------------------------
# Full-parameter gradient descent.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class NTKSolver:
    """How :func:`train_quadratic` finds ``lam = λ_max(H)`` at every step.

    Identity ``g`` with ``d + p < B``: always exact, a batched ``eigvalsh`` of
    a ``(d + p) × (d + p)`` matrix with the same non-zero spectrum as ``Θ``;
    cost per step ``O(R (d² m + (d + p)³))``, whatever ``B``. Otherwise:

    ``B <= exact_max``: form ``Θ`` for every rate and take a batched
    ``numpy.linalg.eigvalsh``; cost per step ``O(R (K² m + B² K + B³))``
    (``K = d`` for identity ``g``, ``K = B`` otherwise), exact to rounding.

    ``B > exact_max``: restarted Lanczos with full reorthogonalisation on
    the matrix-free ``v ↦ H v``, batched over rates and warm-started from the
    previous step's top eigenvector; cost per step ``O(s R (B K + K m))`` for
    ``s`` matrix–vector products (``lanczos_steps`` per restart, restarted
    until the residual ``|H u − λ u|`` is below ``rtol · λ``, at most
    ``max_restarts`` times). The eigenvalue error is of the order of the
    squared residual over the spectral gap.
    """

    exact_max: int = 128
    lanczos_steps: int = 24
    rtol: float = 1e-10
    max_restarts: int = 50

    def __post_init__(self) -> None:
        if self.exact_max < 0:
            raise ValueError(f"exact_max must be >= 0, got {self.exact_max}")
        if self.lanczos_steps < 2:
            raise ValueError(f"lanczos_steps must be >= 2, got {self.lanczos_steps}")
        if not (np.isfinite(self.rtol) and self.rtol > 0):
            raise ValueError(f"rtol must be positive and finite, got {self.rtol}")
        if self.max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {self.max_restarts}")


def _lanczos_top(
    matvec: Callable[[np.ndarray], np.ndarray],
    v0: np.ndarray,
    solver: NTKSolver,
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


class _Basis:
    """``ψ(x_b) = Σ_k C_bk K_k`` over a fixed set of basis matrices ``K_k``.

    Identity ``g`` with ``d <= B``: ``K_k = W_k`` and ``C = X/√d`` (train and
    test share the ``d`` products ``W_k θ``). Otherwise ``K`` is the stack of
    dense ``ψ(x_b)`` of the training set and ``C = I``; a test set then has its
    own dense stack (``T m²`` floats, ``O(T m² R)`` per step).

    With ``A = [C, Φ]`` (``B × (K + p)``) the NTK is ``Θ = A D Aᵀ``,
    ``D = diag(ζ² M, I_p)``, ``M_kl = (K_k θ)·(K_l θ)``. When ``K + p < B``
    its non-zero eigenvalues are those of the smaller ``S D S``,
    ``S = (AᵀA)^{1/2}`` (``A = U Σ Vᵀ`` gives ``S = V Σ Vᵀ``); ``S`` is
    fixed by the data and computed once (``reduced``, else ``None``).
    """

    def __init__(
        self, model: QuadraticModel, X: np.ndarray, X_test: np.ndarray | None, Phi: np.ndarray
    ) -> None:
        m, d, B = model.m, model.d, X.shape[0]
        self.m = m
        self.linear = model.linear and d <= B
        if self.linear:
            self.mats = model.W.reshape(d * m, m)
            self.C = X / np.sqrt(d)
            self.C_test = None if X_test is None else X_test / np.sqrt(d)
            self.test_mats = None
        else:
            self.mats = meta_features(model, X).reshape(B * m, m)
            self.C = None
            self.C_test = None
            self.test_mats = None if X_test is None else meta_features(model, X_test).reshape(-1, m)
        self.K = self.mats.shape[0] // m
        self.reduced = None
        if self.linear and self.K + Phi.shape[1] < B:
            A = np.concatenate([self.C, Phi], axis=1)
            w, V = np.linalg.eigh(A.T @ A)
            S = (V * np.sqrt(np.maximum(w, 0.0))) @ V.T  # rounding can leave tiny negative w
            self.reduced = 0.5 * (S + S.T)

    def products(self, theta: np.ndarray) -> np.ndarray:
        """``U_k = K_k θ``: ``(K, m, R)`` for ``θ`` of shape ``(m, R)``."""
        return (self.mats @ theta).reshape(self.K, self.m, -1)

    def train_forms(self, theta: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``θᵀ ψ(x_b) θ``: ``(B, R)``."""
        s = np.einsum("jr,kjr->kr", theta, U)
        return s if self.C is None else self.C @ s

    def test_forms(self, theta: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``θᵀ ψ(x_t) θ`` on the test set: ``(T, R)``."""
        if self.linear:
            return self.C_test @ np.einsum("jr,kjr->kr", theta, U)
        T = self.test_mats.shape[0] // self.m
        Ut = (self.test_mats @ theta).reshape(T, self.m, -1)
        return np.einsum("jr,tjr->tr", theta, Ut)

    def gradient(self, coef: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``Σ_b coef_br ψ(x_b) θ_r``: ``(m, R)`` for ``coef`` of shape ``(B, R)``."""
        a = coef if self.C is None else self.C.T @ coef
        return np.einsum("kr,kjr->jr", a, U)

    def expand(self, a: np.ndarray) -> np.ndarray:
        """``C a`` for ``a`` of shape ``(R, K)``: ``(R, B)``."""
        return a if self.C is None else a @ self.C.T

    def contract(self, v: np.ndarray) -> np.ndarray:
        """``Cᵀ v`` for ``v`` of shape ``(R, B)``: ``(R, K)``."""
        return v if self.C is None else v @ self.C


def _gram(U: np.ndarray) -> np.ndarray:
    """``M_r = U_rᵀ U_r``: ``(R, K, K)`` with ``M_r[k, l] = U_k·U_l`` for rate ``r``."""
    Ur = U.transpose(2, 0, 1)
    M = Ur @ Ur.transpose(0, 2, 1)
    return 0.5 * (M + M.transpose(0, 2, 1))


def _check_eta(eta: np.ndarray | float) -> np.ndarray:
    eta = np.asarray(eta, dtype=float)
    if not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ValueError("learning rates must be finite and non-negative")
    return eta


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    return int(steps)


def _labels(y: np.ndarray, B: int, what: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.shape != (B,) or not np.all(np.isfinite(y)):
        raise ValueError(f"{what} must be finite of shape ({B},), got shape {y.shape}")
    return y


def train_quadratic(
    model: QuadraticModel,
    init: QuadraticParams,
    X: np.ndarray,
    y: np.ndarray,
    eta: np.ndarray | float,
    steps: int,
    *,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    test_every: int = 1,
    criteria: PhaseCriteria = PhaseCriteria(),
    solver: NTKSolver = NTKSolver(),
) -> Trajectory:
    """Full-batch GD on ``L = (1/2B) Σ_a (f(x_a) − y_a)²`` for every rate in ``eta``.

    Parameters
    ----------
    model, init
        The model and one (unbatched) initial parameter vector, shared by
        every learning rate.
    X, y
        Training inputs ``(B, d)`` and labels ``(B,)``.
    eta
        Learning rates, any shape (the trajectory's batch shape).
    steps
        Number of GD steps.
    test
        Optional ``(X_test, y_test)``: adds the series ``"test_loss"``
        (same normalisation ``(1/2T) Σ_t r_t²``).
    test_every
        The test loss is evaluated at the steps ``t ≡ 0 (mod test_every)``
        and at ``t = steps``; in between, ``test_loss[t]`` holds the value of
        the latest evaluated step. ``1`` (the default) evaluates every step.
    criteria
        Blow-up criterion (:func:`blown_up`).
    solver
        How ``lam`` is computed (:class:`NTKSolver`).

    Returns
    -------
    Trajectory
        ``loss``, ``lam = λ_max(Θ/B)``, ``w2 = |θ_ψ|² + |θ_φ|²`` per step, shape
        ``(steps + 1, *eta.shape)``. A run whose loss blows up (or whose state
        stops being finite) at step ``s`` has ``diverged_at = s`` and is frozen
        there; no floating-point warning escapes. Phases: :func:`classify`.

    Notes
    -----
    Per step and rate the cost is ``O(K m²)`` for the products ``K_k θ``
    (``K = d`` for identity ``g`` and ``d <= B``, else ``K = B``), plus the
    NTK cost of :class:`NTKSolver`. A test set of size ``T`` costs ``O(d)``
    per rate and evaluation for identity ``g``; otherwise ``O(T m²)`` per rate
    and evaluation and ``T m²`` floats of memory, read once per evaluation
    (memory-bound: for ``T = 512``, ``m = 500`` about 0.3 s per evaluation of
    28 rates on two cores, which is what ``test_every`` is for).
    """
    steps = _check_steps(steps)
    eta = _check_eta(eta)
    if not isinstance(model, QuadraticModel):
        raise ValueError(f"expected a QuadraticModel, got {type(model).__name__}")
    tp0, tf0 = _check_params(model, init)
    if tp0.ndim != 1 or tf0.ndim != 1:
        raise ValueError("init must be a single parameter vector (the same for every rate)")
    if not (np.all(np.isfinite(tp0)) and np.all(np.isfinite(tf0))):
        raise ValueError("init must be finite")
    X = _inputs(model, X)
    B = X.shape[0]
    if B < 1:
        raise ValueError("need at least one datum")
    y = _labels(y, B, "y")
    if test is not None:
        X_test = _inputs(model, test[0], "X_test")
        y_test = _labels(test[1], X_test.shape[0], "y_test")
        if X_test.shape[0] < 1:
            raise ValueError("the test set is empty; pass test=None instead")
    else:
        X_test = y_test = None
    if isinstance(test_every, bool) or int(test_every) != test_every or test_every < 1:
        raise ValueError(f"test_every must be a positive integer, got {test_every!r}")

    shape = eta.shape
    R = int(eta.size)
    rate = eta.reshape(R)
    zeta = model.zeta
    Phi = features(model, X)
    basis = _Basis(model, X, X_test, Phi)
    Phi_test = None if X_test is None else features(model, X_test)
    theta = np.repeat(tp0[:, None], R, axis=1)  # (m, R)
    theta_phi = np.repeat(tf0[:, None], R, axis=1)  # (p, R)
    # a fixed generic start vector for Lanczos (not orthogonal to any eigenvector but by accident)
    warm = np.broadcast_to(np.random.default_rng(0).standard_normal(B), (R, B)).copy()

    rec = StepRecorder(steps, (R,), criteria, extra=("test_loss",) if X_test is not None else ())
    for t in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            U = basis.products(theta)
            f = 0.5 * zeta * basis.train_forms(theta, U) + Phi @ theta_phi
            res = f - y[:, None]
            cur = 0.5 * np.mean(res**2, axis=0)
            w2 = np.sum(theta**2, axis=0) + np.sum(theta_phi**2, axis=0)
            finite = np.all(np.isfinite(U), axis=(0, 1)) & np.isfinite(w2)
        bad = rec.check(t, cur, np.where(finite, 0.0, np.nan))
        if bad.any():  # frozen runs are zeroed so that no non-finite value enters linear algebra
            theta[:, bad] = 0.0
            theta_phi[:, bad] = 0.0
            U[..., bad] = 0.0
            res[:, bad] = 0.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            lam, warm = _top_ntk(basis, U, Phi, zeta, B, warm, solver)
        bad = rec.check(t, cur, lam)
        if bad.any():
            theta[:, bad] = 0.0
            theta_phi[:, bad] = 0.0
            U[..., bad] = 0.0
            res[:, bad] = 0.0
        rec.store(t, loss=cur, lam=lam, w2=w2)
        if X_test is not None and t % test_every and t != steps:
            rec.store(t, test_loss=rec.series["test_loss"][t - 1])
        elif X_test is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                ft = 0.5 * zeta * basis.test_forms(theta, U) + Phi_test @ theta_phi
                rec.store(t, test_loss=0.5 * np.mean((ft - y_test[:, None]) ** 2, axis=0))
        if t == steps:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            coef = np.where(rec.active, rate, 0.0) * res / B  # (B, R)
            theta -= zeta * basis.gradient(coef, U)
            theta_phi -= Phi.T @ coef

    return _reshape(rec.trajectory(eta.reshape(R)), shape, eta)


def _reshape(traj: Trajectory, shape: tuple[int, ...], eta: np.ndarray) -> Trajectory:
    """A trajectory of ``R`` runs laid out in the batch ``shape`` of ``eta``."""
    steps = traj.loss.shape[0]

    def out(a: np.ndarray) -> np.ndarray:
        return a.reshape((steps,) + shape)

    return Trajectory(out(traj.loss), out(traj.lam), out(traj.w2), eta.copy(), traj.diverged_at.reshape(shape),
                      {k: out(v) for k, v in traj.extra.items()})


def _top_ntk(
    basis: _Basis,
    U: np.ndarray,
    Phi: np.ndarray,
    zeta: float,
    B: int,
    warm: np.ndarray,
    solver: NTKSolver,
) -> tuple[np.ndarray, np.ndarray]:
    """``λ_max(Θ/B)`` per rate, ``Θ = ζ² C M Cᵀ + Φ Φᵀ`` with ``M = UᵀU`` (see :class:`NTKSolver`)."""
    if basis.reduced is not None:
        K, p = basis.K, Phi.shape[1]
        D = np.zeros((U.shape[-1], K + p, K + p))
        D[:, :K, :K] = zeta**2 * _gram(U)
        D[:, K:, K:] = np.eye(p)
        S = basis.reduced
        small = S @ D @ S
        small = 0.5 * (small + small.transpose(0, 2, 1))
        return np.linalg.eigvalsh(small / B)[:, -1], warm
    FF = Phi @ Phi.T
    small_K = basis.K <= max(solver.exact_max, 1)
    M = _gram(U) if (small_K or B <= solver.exact_max) else None
    if B <= solver.exact_max:
        Theta = zeta**2 * basis.expand(basis.expand(M).transpose(0, 2, 1)) + FF
        Theta = 0.5 * (Theta + Theta.transpose(0, 2, 1))
        return np.linalg.eigvalsh(Theta / B)[:, -1], warm
    Ur = U.transpose(2, 1, 0)  # (R, m, K)

    def matvec(v: np.ndarray) -> np.ndarray:
        a = basis.contract(v)  # (R, K)
        if M is not None:
            Ma = np.einsum("rkl,rl->rk", M, a)
        else:
            Ma = np.einsum("rjk,rj->rk", Ur, np.einsum("rjk,rk->rj", Ur, a))
        return (zeta**2 * basis.expand(Ma) + v @ FF) / B

    return _lanczos_top(matvec, warm, solver)


# --------------------------------------------------------------------------
# The exact single-datum spectral engine.
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SpectralState:
    """The state of the exact single-datum engine.

    ``mu`` ``(n,)`` eigenvalues of ``ψ(x)``; ``c`` ``(n,)`` weights
    ``(e_j·θ_ψ)²``; ``zeta``; for the bias model (``has_features``)
    ``phi2 = |φ(x)|²``, ``p = θ_φ·φ(x)``, ``q = |θ_φ|²``.
    """

    mu: np.ndarray
    c: np.ndarray
    zeta: float
    has_features: bool = False
    phi2: float = 0.0
    p: float = 0.0
    q: float = 0.0

    def __post_init__(self) -> None:
        mu = np.asarray(self.mu, dtype=float)
        c = np.asarray(self.c, dtype=float)
        if mu.ndim != 1 or c.shape != mu.shape:
            raise ValueError(f"mu and c must be 1-D of equal length, got {mu.shape} and {c.shape}")
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(c)) and np.all(c >= 0)):
            raise ValueError("mu must be finite and c finite and non-negative")
        for name in ("zeta", "phi2", "p", "q"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite")
        if self.phi2 < 0 or self.q < 0:
            raise ValueError("phi2 and q must be non-negative")
        if not self.has_features and (self.phi2 or self.p or self.q):
            raise ValueError("a state without features must have phi2 = p = q = 0")


def merge_eigenvalues(mu: np.ndarray, c: np.ndarray, rtol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Merge numerically equal eigenvalues (sorted ``mu``), summing their weights.

    Components with one eigenvalue evolve identically (``c' = (1 − η r ζ μ)² c``
    is linear in ``c``), so the reduced state has one weight per *distinct*
    eigenvalue: two for ``ψ² ∝ I``, ``m`` for a generic spectrum. Eigenvalues
    within ``rtol · max|mu|`` of their neighbour count as equal (the
    rounding of ``eigh``), and the group keeps its weighted mean.
    """
    mu = np.asarray(mu, dtype=float)
    c = np.asarray(c, dtype=float)
    if mu.size == 0:
        return mu, c
    order = np.argsort(mu, kind="stable")
    mu, c = mu[order], c[order]
    tol = rtol * max(float(np.max(np.abs(mu))), np.finfo(float).tiny)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(mu) > tol) + 1])
    weights = np.add.reduceat(c, starts)
    counts = np.diff(np.concatenate([starts, [mu.size]]))
    means = np.add.reduceat(mu, starts) / counts
    return means, weights


def spectral_state(model: QuadraticModel, params: QuadraticParams, x: np.ndarray) -> SpectralState:
    """Eigendecompose ``ψ(x)`` once (``numpy.linalg.eigh``, ``O(m³)``), project ``θ``
    and merge equal eigenvalues (:func:`merge_eigenvalues`)."""
    tp, tf = _check_params(model, params)
    if tp.ndim != 1 or tf.ndim != 1:
        raise ValueError("spectral_state takes a single parameter vector")
    x = np.asarray(x, dtype=float).reshape(1, -1)
    psi = meta_features(model, x)[0]
    mu, E = np.linalg.eigh(psi)
    mu, c = merge_eigenvalues(mu, (E.T @ tp) ** 2)
    if model.family == "pure":
        return SpectralState(mu, c, model.zeta)
    phi = features(model, x)[0]
    return SpectralState(mu, c, model.zeta, True, float(phi @ phi), float(tf @ phi), float(tf @ tf))


def train_spectral(
    state: SpectralState,
    eta: np.ndarray | float,
    steps: int,
    y: float = 0.0,
    criteria: PhaseCriteria = PhaseCriteria(),
) -> Trajectory:
    """Iterate the exact per-eigenvalue maps for every rate in ``eta`` at once.

    ``f``, ``lam`` and ``w2`` are the sums of the per-component contributions
    (plus the feature block); the residual ``r = f − y`` drives every
    component. Cost ``O(n)`` per step and rate. Divergence handling and the
    returned :class:`Trajectory` are as in :func:`train_quadratic`.
    """
    steps = _check_steps(steps)
    eta = _check_eta(eta)
    if not np.isfinite(y):
        raise ValueError(f"y must be finite, got {y}")
    forms = _spectral_formulas()
    shape = eta.shape
    R = int(eta.size)
    rate = eta.reshape(R, 1)
    mu = np.asarray(state.mu, dtype=float)
    zeta = float(state.zeta)
    c = np.repeat(np.asarray(state.c, dtype=float)[None, :], R, axis=0)  # (R, n)
    p = np.full(R, float(state.p))
    q = np.full(R, float(state.q))
    phi2 = float(state.phi2)

    rec = StepRecorder(steps, (R,), criteria)
    for t in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            fj, lj, wj = forms.contributions(c, mu, zeta)
            f, lam, w2 = fj.sum(axis=1), lj.sum(axis=1), wj.sum(axis=1)
            if state.has_features:
                ff, lf, wf = forms.feature_contributions(p, q, phi2)
                f, lam, w2 = f + ff, lam + lf, w2 + wf
            r = f - y
            cur = 0.5 * r**2
        bad = rec.check(t, cur, lam, w2)
        rec.store(t, loss=cur, lam=lam, w2=w2)
        if t == steps:
            break
        if bad.any():  # frozen runs are reset so that no non-finite value is iterated
            c[bad] = 0.0
            p[bad] = 0.0
            q[bad] = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            rr = np.where(rec.active, r, 0.0)
            c = forms.weight_next(c, mu, rate, rr[:, None], zeta)
            if state.has_features:
                p, q = forms.feature_next(p, q, phi2, rate[:, 0], rr)

    return _reshape(rec.trajectory(eta.reshape(R)), shape, eta)
