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

Two engines, both families of :func:`run_gd`: :func:`train_quadratic`, full-parameter
GD for one datum or many, and :func:`train_spectral`, the exact single-datum engine
of THEORY §3 in the eigenbasis of ``ψ(x)`` (``O(m)`` per step and rate, not ``O(m²)``).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from functools import lru_cache

import numpy as np

from ..errors import InvalidInput
from ._driver import (
    GDConfig,
    GDFamily,
    Observation,
    check_data,
    check_rates,
    require,
    run_gd,
)
from ._eig import NTKSolver, serial_blas, top_eig
from ._trajectory import PhaseCriteria, Trajectory

__all__ = [
    "ACTIVATIONS",
    "FAMILIES",
    "NTK",
    "STREAMS",
    "Distribution",
    "NTKSolver",
    "QuadraticModel",
    "QuadraticParams",
    "QuadraticSpec",
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
# Random streams and named distributions.
# --------------------------------------------------------------------------

#: stream index of each kind of random object (see the module docstring)
STREAMS = {"meta_features": 0, "init": 1, "teacher": 2, "inputs": 3, "labels": 4}


def rng_stream(seed: int, stream: str) -> np.random.Generator:
    """The generator of one named random stream for ``seed`` (see :data:`STREAMS`)."""
    if stream not in STREAMS:
        raise InvalidInput(f"unknown random stream {stream!r}; expected one of {', '.join(STREAMS)}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed!r}")
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
        require(
            (self.kind in ("uniform", "normal", "const"),
             f"unknown distribution kind {self.kind!r}; expected uniform, normal or const"),
            (np.isfinite([self.a, self.b]).all(), f"distribution parameters must be finite, got {self.a}, {self.b}"),
            (self.kind != "uniform" or self.a <= self.b, f"uniform:A:B needs A <= B, got {self.a} > {self.b}"),
            (self.kind != "normal" or self.b >= 0, f"normal:M:S needs S >= 0, got {self.b}"),
            (self.kind != "const" or self.a == self.b, "const distribution needs a == b"),
        )

    @property
    def low(self) -> float:
        """Infimum of the support."""
        if self.truncated:
            return 0.0
        return -np.inf if (self.kind == "normal" and self.b > 0) else self.a

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
        raise InvalidInput(f"{what} must be a string such as {_DIST_FORMS}, got {text!r}")
    parts = text.strip().split(":")
    kind = parts[0].strip().lower()
    expected = {"uniform": 3, "normal": 3, "const": 2}
    if kind not in expected or len(parts) != expected[kind]:
        raise InvalidInput(f"bad {what} {text!r}: expected {_DIST_FORMS}")
    try:
        values = [float(p) for p in parts[1:]]
    except ValueError:
        raise InvalidInput(f"bad {what} {text!r}: expected {_DIST_FORMS} with numbers") from None
    try:
        dist = Distribution(kind, values[0], values[-1])
    except ValueError as err:
        raise InvalidInput(f"bad {what} {text!r}: {err}; expected {_DIST_FORMS}") from None
    if positive and kind == "normal" and dist.b > 0:
        if not dist.a > 0:
            raise InvalidInput(f"{what} {text!r}: a positive normal needs M > 0 (it is truncated to (0, inf))")
        return Distribution(kind, values[0], values[-1], truncated=True)
    if positive and not dist.low > 0:
        raise InvalidInput(
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
    """Configuration of a quadratic model: ``rank`` ``m``, the size of ``ψ(x)``, even
    (each ``W_i`` has its spectrum in ``±μ`` pairs); input dimension ``d``;
    ``family`` ``"pure"`` (``features = 0``) or ``"bias"`` (``features = p >= 1``
    linear features); ``mu``, the distribution of the ``μ_i`` (support in
    ``(0, ∞)``, :func:`parse_distribution`), e.g. ``"uniform:1:2"``;
    ``activation`` ``g`` (:data:`ACTIVATIONS`) with ``leaky_slope`` for
    ``leaky_relu``; ``seed`` of the ``"meta_features"`` stream (``W_i``, ``V``)."""

    rank: int
    d: int = 1
    family: str = "pure"
    features: int = 0
    mu: str = "uniform:1:2"
    activation: str = "identity"
    leaky_slope: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        require(*((isinstance(v, (int, np.integer)) and not isinstance(v, bool),
                   f"QuadraticSpec.{name} must be an integer, got {v!r}")
                  for name, v in ((n, getattr(self, n)) for n in ("rank", "d", "features", "seed"))))
        require(
            (self.rank >= 2 and not self.rank % 2, f"rank must be even and >= 2 (± eigenvalue pairs), got {self.rank}"),
            (self.d >= 1, f"d must be positive, got {self.d}"),
            (self.family in FAMILIES, f"family must be one of {FAMILIES}, got {self.family!r}"),
            (self.family != "pure" or self.features == 0, f"the pure family has no features, got {self.features}"),
            (self.family != "bias" or self.features >= 1, f"the bias family needs features >= 1, got {self.features}"),
            (self.activation in ACTIVATIONS, f"activation must be one of {ACTIVATIONS}, got {self.activation!r}"),
            (np.isfinite(self.leaky_slope), f"leaky_slope must be finite, got {self.leaky_slope}"),
            (self.seed >= 0, f"seed must be non-negative, got {self.seed}"),
        )
        parse_distribution(self.mu, positive=True, what="mu")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=float)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class QuadraticModel:
    """A constructed quadratic model, its fixed random parts read-only: ``spec``;
    ``W`` ``(d, m, m)``, ``W_i = q_i diag(μ_i, −μ_i) q_iᵀ``, with orthogonal ``q``
    ``(d, m, m)`` and ``mu`` ``(d, m/2)``; feature weights ``V`` ``(d, p)``."""

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
                raise InvalidInput(f"QuadraticModel.{name} must have shape {shape}, got {np.shape(getattr(self, name))}")

    family = property(lambda self: self.spec.family, doc="``spec.family``")
    m = property(lambda self: self.spec.rank, doc="``m = spec.rank``")
    p = property(lambda self: self.spec.features, doc="``p = spec.features``")
    d = property(lambda self: self.spec.d, doc="``spec.d``")

    @property
    def zeta(self) -> float:
        """``ζ = (m/2)^{-1/2}``, correctly rounded (:func:`~catapult_theory.symbolic.models.quadratic.zeta_of`)."""
        return _zeta(self.m)

    activation = property(lambda self: self.spec.activation, doc="``spec.activation``")

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


@lru_cache(maxsize=None)
def _zeta(rank: int) -> float:
    from ..symbolic.models.quadratic import zeta_of

    return float(zeta_of(rank))


def expm_antisymmetric(A: np.ndarray) -> np.ndarray:
    """``expm(A)`` for an antisymmetric ``A``, from one symmetric eigendecomposition.

    ``A`` is normal with ``A² = −AᵀA``, so the even and odd terms of the exponential
    series give ``expm(A) = cos(S) + A sinc(S)`` with ``S = (AᵀA)^{1/2}``, ``sinc(s) =
    sin(s)/s``; both are entire functions of ``AᵀA = V diag(s²) Vᵀ``, so repeated
    (paired) eigenvalues need no care. Two to three times faster than
    ``scipy.linalg.expm`` at ``m = 1000``, equal to it to round-off (tested).
    """
    G = A.T @ A
    with serial_blas():
        w, V = np.linalg.eigh(G)
    s = np.sqrt(np.maximum(w, 0.0))  # rounding can leave tiny negative s²
    # cos(S) + A sinc(S) = (V cos(s) + (A V) sinc(s)) Vᵀ: three products of order m in all
    return (V * np.cos(s) + (A @ V) * np.sinc(s / np.pi)) @ V.T


def _random_orthogonal(m: int, rng: np.random.Generator) -> np.ndarray:
    """``expm(A)`` for ``A`` antisymmetric with N(0, 1) off-diagonal entries."""
    G = rng.standard_normal((m, m))
    return expm_antisymmetric((G - G.T) / np.sqrt(2.0))


def quadratic_model(spec: QuadraticSpec) -> QuadraticModel:
    """Build the meta-feature matrices (and features) of ``spec``.

    For ``i = 1..d`` in order, from the ``"meta_features"`` stream: the
    antisymmetric generator of ``q_i``, then ``μ_i``; finally ``V``. Cost
    ``O(d m³)`` (one ``expm`` per input dimension), memory ``2 d m²`` floats.
    """
    if not isinstance(spec, QuadraticSpec):
        raise InvalidInput(f"expected a QuadraticSpec, got {type(spec).__name__}")
    rng = rng_stream(spec.seed, "meta_features")
    dist = parse_distribution(spec.mu, positive=True, what="mu")
    m, d, h = spec.rank, spec.d, spec.rank // 2
    W, q, mu = np.empty((d, m, m)), np.empty((d, m, m)), np.empty((d, h))
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
        raise InvalidInput(f"{what} must have shape (B, {model.d}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InvalidInput(f"{what} must be finite")
    return X


def meta_features(model: QuadraticModel, X: np.ndarray) -> np.ndarray:
    """``ψ(x_a) = g(Σ_i x_ai W_i / √d)`` for a batch ``X`` ``(B, d)``: ``(B, m, m)``
    symmetric matrices (memory ``B m²`` floats)."""
    X, m = _inputs(model, X), model.m
    S = ((X / np.sqrt(model.d)) @ model.W.reshape(model.d, m * m)).reshape(-1, m, m)  # Σ_i x_i W_i / √d
    return model.g(0.5 * (S + S.transpose(0, 2, 1)))  # exactly symmetric


class _FeatureStacks:
    """The meta-feature stacks ``ψ(x_a)`` of the most recently used ``(model, inputs)``
    pairs, read-only, so that the many :func:`train_quadratic` calls of one sweep (the
    grid, then each refinement round) build them once (``O(B m² d)`` and ``B m²``
    activations each). Least recently used stacks are dropped beyond ``max_bytes``
    (the newest is always kept), and a stack goes with its model."""

    def __init__(self, max_bytes: int = 3 << 29) -> None:
        self.max_bytes = max_bytes
        self._items: dict[tuple[int, tuple[int, ...], bytes], tuple[weakref.ref, np.ndarray]] = {}

    def get(self, model: QuadraticModel, X: np.ndarray) -> np.ndarray:
        """``meta_features(model, X)``, built once while it stays in the cache."""
        X = _inputs(model, X)
        key = (id(model), X.shape, hashlib.sha256(np.ascontiguousarray(X).tobytes()).digest())
        hit = self._items.pop(key, None)
        if hit is not None and hit[0]() is model:
            self._items[key] = hit  # most recently used last
            return hit[1]
        stack = meta_features(model, X)
        stack.flags.writeable = False
        self._items[key] = (weakref.ref(model, self._forget(key)), stack)
        while len(self._items) > 1 and sum(a.nbytes for _, a in self._items.values()) > self.max_bytes:
            self._items.pop(next(iter(self._items)))
        return stack

    def _forget(self, key: tuple[int, tuple[int, ...], bytes]) -> Callable[[weakref.ref], None]:
        def drop(_: weakref.ref) -> None:
            self._items.pop(key, None)

        return drop

    def clear(self) -> None:
        """Drop every stack."""
        self._items.clear()


#: the meta-feature stacks shared by the GD runs of one process (:class:`_FeatureStacks`)
FEATURE_STACKS = _FeatureStacks()


def features(model: QuadraticModel, X: np.ndarray) -> np.ndarray:
    """``φ(x_a) = Vᵀ x_a / √(d p)`` for a batch ``X`` of shape ``(B, d)``: ``(B, p)``
    (``(B, 0)`` for the pure family)."""
    X, p = _inputs(model, X), model.p
    return X @ model.V / np.sqrt(model.d * p) if p else np.zeros((X.shape[0], 0))


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
    return QuadraticParams(theta_psi, rng.standard_normal(model.p))


def _check_params(model: QuadraticModel, params: QuadraticParams) -> tuple[np.ndarray, np.ndarray]:
    tp = np.asarray(params.theta_psi, dtype=float)
    tf = np.asarray(params.theta_phi, dtype=float)
    if tp.shape[-1:] != (model.m,) or tf.shape[-1:] != (model.p,):
        raise InvalidInput(f"parameters must end in shapes ({model.m},) and ({model.p},), got {tp.shape} and {tf.shape}")
    return tp, tf


def quadratic_output(model: QuadraticModel, params: QuadraticParams, X: np.ndarray) -> np.ndarray:
    """``f(x_a)`` for every datum: shape ``(..., B)`` for parameters with leading shape ``...``."""
    tp, tf = _check_params(model, params)
    X = _inputs(model, X)
    phi = features(model, X)
    # the meta-features in chunks of data (a test set of 1000 points at rank 500 would be 2 GB at once)
    step = max(1, int(TEST_CHUNK_BYTES // (8 * model.m * model.m)))
    quad = np.concatenate([np.einsum("...j,bjk,...k->...b", tp, meta_features(model, X[lo : lo + step]), tp,
                                     optimize=True) for lo in range(0, X.shape[0], step)], axis=-1)
    return 0.5 * model.zeta * quad + np.einsum("...i,bi->...b", tf, phi)


def quadratic_gradient(model: QuadraticModel, params: QuadraticParams, X: np.ndarray) -> QuadraticParams:
    """Per-datum gradients ``∇f(x_a)``, ``ζ ψ(x_a) θ_ψ`` and ``φ(x_a)``, as parameters
    with an extra datum axis: ``theta_psi`` ``(..., B, m)``, ``theta_phi`` ``(..., B, p)``."""
    tp, tf = _check_params(model, params)
    psi = meta_features(model, X)
    phi = features(model, X)
    g_psi = model.zeta * np.einsum("bjk,...k->...bj", psi, tp)
    g_phi = np.broadcast_to(phi, tf.shape[:-1] + phi.shape).copy()
    return QuadraticParams(g_psi, g_phi)


@dataclass(frozen=True, eq=False)
class NTK:
    """``H = Θ/B`` for one parameter vector, its top eigenvalue and eigenvector
    (unit norm, its largest-magnitude entry positive)."""

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
        raise InvalidInput("ntk takes a single parameter vector (no batch axes)")
    grad = quadratic_gradient(model, params, X)
    J = np.concatenate([grad.theta_psi, grad.theta_phi], axis=-1)
    B = J.shape[0]
    H = J @ J.T / B
    H = 0.5 * (H + H.T)
    with serial_blas():
        evals, evecs = np.linalg.eigh(H)
    vec = evecs[:, -1]
    vec = vec * np.sign(vec[np.argmax(np.abs(vec))])
    return NTK(H, float(evals[-1]), vec)


# --------------------------------------------------------------------------
# Full-parameter gradient descent.
# --------------------------------------------------------------------------


#: a test set's packed meta-features (:class:`_TestStack`) are kept up to this size
TEST_STACK_BYTES = 5 << 28
#: a test set too large to keep is rebuilt in chunks of about this size
TEST_CHUNK_BYTES = 1 << 26


class _Basis:
    """``ψ(x_b) = Σ_k C_bk K_k`` over a fixed set of basis matrices ``K_k``.

    Identity ``g`` with ``d <= B``: ``K_k = W_k`` and ``C = X/√d`` (train and test
    share the ``d`` products ``W_k θ``); otherwise the dense ``ψ(x_b)`` of the
    training set and ``C = I`` (a test set has its own :class:`_TestStack`).
    With ``A = [C, Φ]`` the NTK is ``Θ = A D Aᵀ``, ``D = diag(ζ² M, I_p)``,
    ``M_kl = (K_k θ)·(K_l θ)``; when ``K + p < B`` its non-zero eigenvalues are
    those of the smaller ``S D S``, ``S = (AᵀA)^{1/2}`` (``reduced``, fixed by the data).
    """

    def __init__(self, model: QuadraticModel, X: np.ndarray, X_test: np.ndarray | None, Phi: np.ndarray) -> None:
        m, d, B = model.m, model.d, X.shape[0]
        self.m, self.linear = m, model.linear and d <= B
        if self.linear:
            self.stack, self.C, self.test_stack = model.W, X / np.sqrt(d), None
            self.C_test = None if X_test is None else X_test / np.sqrt(d)
        else:
            self.stack, self.C, self.C_test = FEATURE_STACKS.get(model, X), None, None
            self.test_stack = None if X_test is None else _TestStack(model, X_test)
        self.K = self.stack.shape[0]
        self.reduced = None
        if self.linear and self.K + Phi.shape[1] < B:
            A = np.concatenate([self.C, Phi], axis=1)
            w, V = np.linalg.eigh(A.T @ A)
            S = (V * np.sqrt(np.maximum(w, 0.0))) @ V.T  # rounding can leave tiny negative w
            self.reduced = 0.5 * (S + S.T)

    def products(self, theta: np.ndarray) -> np.ndarray:
        """``U_k = K_k θ``: ``(K, m, R)`` for ``θ`` of shape ``(m, R)`` (a view).

        Computed as ``θᵀ K_k`` (every ``K_k`` is exactly symmetric): one ``(R, m) x (m, m)``
        product per matrix, which OpenBLAS runs up to twice as fast as ``K_k θ`` for
        the few columns of a sweep (it packs the large operand differently); the
        contiguous ``θᵀ`` copy also undoes the stride of a slice of slot columns."""
        P = np.matmul(np.ascontiguousarray(theta.T)[None], self.stack)  # (K, R, m)
        return P.transpose(0, 2, 1)

    def train_forms(self, theta: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``θᵀ ψ(x_b) θ``: ``(B, R)``."""
        s = np.einsum("jr,kjr->kr", theta, U)
        return s if self.C is None else self.C @ s

    def train_form_scales(self, theta: np.ndarray, U: np.ndarray) -> np.ndarray:
        """The rounding scale of :meth:`train_forms` as it computes them: ``Σ_j |θ_j| |U_kj|``
        per basis matrix, combined with ``|C|`` for a linear ``g`` (an upper bound of
        ``Σ_j |θ_j| |(ψ(x_b) θ)_j|``: the cancellations of ``C`` are rounding too): ``(B, R)``."""
        s = np.einsum("jr,kjr->kr", np.abs(theta), np.abs(U))
        return s if self.C is None else np.abs(self.C) @ s

    def test_forms(self, theta: np.ndarray, U: np.ndarray) -> np.ndarray:
        """``θᵀ ψ(x_t) θ`` on the test set: ``(T, R)``."""
        if self.linear:
            return self.C_test @ np.einsum("jr,kjr->kr", theta, U)
        assert self.test_stack is not None
        return self.test_stack.forms(theta)

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


class _TestStack:
    """``θᵀ ψ(x_t) θ`` on a test set for a non-linear ``g`` (no shared basis).

    ``θᵀ ψ θ = Σ_{i<=j} (2 - δ_ij) ψ_ij θ_i θ_j``: the upper triangles of the ``ψ(x_t)`` are
    kept as one ``(T, m(m+1)/2)`` matrix (half the memory and half the work of the dense
    stack) when that fits in :data:`TEST_STACK_BYTES`, and a form is one GEMM against
    the packed outer products of the distinct columns of ``θ``; a larger test set is
    rebuilt in chunks of test points at each evaluation (memory ``O(chunk m²)``).
    """

    def __init__(self, model: QuadraticModel, X_test: np.ndarray) -> None:
        self.model, self.X, m = model, X_test, model.m
        self.iu = np.triu_indices(m)
        self.weight = np.where(self.iu[0] == self.iu[1], 1.0, 2.0)
        self.chunk = max(1, int(TEST_CHUNK_BYTES // (8 * m * m)))
        packed = X_test.shape[0] * self.iu[0].size * 8
        self.packed: np.ndarray | None = None
        if packed <= TEST_STACK_BYTES:  # filled chunk by chunk: the stack is held once, never with its parts
            self.packed = np.empty((X_test.shape[0], self.iu[0].size))
            for lo in range(0, X_test.shape[0], self.chunk):
                self.packed[lo : lo + self.chunk] = self._upper(lo)

    def _upper(self, lo: int) -> np.ndarray:
        psi = meta_features(self.model, self.X[lo : lo + self.chunk])
        return psi[:, self.iu[0], self.iu[1]]

    def forms(self, theta: np.ndarray) -> np.ndarray:
        """``(T, R)`` forms for ``θ`` ``(m, R)``; equal columns (every run at step 0) are
        evaluated once and zero columns (frozen runs) not at all."""
        R = theta.shape[1]
        out = np.zeros((self.X.shape[0], R))
        live = np.flatnonzero(np.any(theta != 0, axis=0))
        if live.size == 0:
            return out
        uniq, inverse = np.unique(theta[:, live], axis=1, return_inverse=True)
        if self.packed is not None:
            vals = self.packed @ (uniq[self.iu[0]] * uniq[self.iu[1]] * self.weight[:, None])
        else:
            m = self.model.m
            parts = []
            for lo in range(0, self.X.shape[0], self.chunk):
                psi = meta_features(self.model, self.X[lo : lo + self.chunk])
                Ut = (psi.reshape(-1, m) @ uniq).reshape(psi.shape[0], m, -1)
                parts.append(np.einsum("jr,tjr->tr", uniq, Ut))
            vals = np.concatenate(parts)
        out[:, live] = vals[:, np.asarray(inverse).reshape(-1)]
        return out


def _gram(U: np.ndarray) -> np.ndarray:
    """``M_r = U_rᵀ U_r``: ``(R, K, K)`` with ``M_r[k, l] = U_k·U_l`` for rate ``r``."""
    Ur = U.transpose(2, 0, 1)
    M = Ur @ Ur.transpose(0, 2, 1)
    return 0.5 * (M + M.transpose(0, 2, 1))


class _QuadraticFamily(GDFamily):
    """Full-parameter GD of a quadratic model as a :func:`run_gd` family: ``θ_ψ``
    ``(m, R)`` and ``θ_φ`` ``(p, R)`` (slot = column), diverged runs zeroed in place.
    Compacting: runs that leave the batch (diverged, converged, settled) are moved out
    of the active columns, so later steps multiply only the active ones."""

    compact = True

    def __init__(self, model: QuadraticModel, init: tuple[np.ndarray, np.ndarray], X, y, test, R: int,
                 solver: NTKSolver) -> None:
        self.zeta, self.y, self.B, self.solver = model.zeta, y, X.shape[0], solver
        self.Phi = features(model, X)
        self.Phi_abs = np.abs(self.Phi)
        self.basis = _Basis(model, X, None if test is None else test[0], self.Phi)
        self.has_test = test is not None
        if self.has_test:
            self.Phi_test, self.y_test = features(model, test[0]), test[1]
        self.theta = np.repeat(init[0][:, None], R, axis=1)
        self.theta_phi = np.repeat(init[1][:, None], R, axis=1)
        # a fixed generic start vector for Lanczos (not orthogonal to any eigenvector but by accident)
        self.warm = np.broadcast_to(np.random.default_rng(0).standard_normal(self.B), (R, self.B)).copy()
        #: per slice (keyed by its first slot): the products ``U`` and residuals of the current step
        self._step: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        #: multiply-adds of the products per step (the driver runs slices in threads from 2**21)
        self.work = self.basis.K * model.m * model.m * R

    def observe(self, s, lam, exact, test, tally) -> Observation:
        theta = self.theta[:, s]
        U = self.basis.products(theta)
        f = 0.5 * self.zeta * self.basis.train_forms(theta, U) + self.Phi @ self.theta_phi[:, s]
        res = f - self.y[:, None]
        self._step[s.start] = (U, res)
        w2 = np.sum(theta**2, axis=0) + np.sum(self.theta_phi[:, s] ** 2, axis=0)
        ok = np.all(np.isfinite(U), axis=(0, 1))
        scale = (0.5 * abs(self.zeta) * self.basis.train_form_scales(theta, U)
                 + self.Phi_abs @ np.abs(self.theta_phi[:, s]))
        return Observation(0.5 * np.mean(res**2, axis=0), w2, finite=(np.where(ok, 0.0, np.nan),),
                           test_loss=self.test_loss(s, tally) if test else None,
                           output_scale=np.sqrt(np.mean(scale**2, axis=0)))

    def test_loss(self, s, tally) -> np.ndarray:
        theta, U = self.theta[:, s], self._step[s.start][0]
        ft = 0.5 * self.zeta * self.basis.test_forms(theta, U) + self.Phi_test @ self.theta_phi[:, s]
        return 0.5 * np.mean((ft - self.y_test[:, None]) ** 2, axis=0)

    def freeze(self, s, bad) -> None:
        if bad.any():  # frozen runs are zeroed so that no non-finite value enters linear algebra
            for a in (self.theta[:, s], self.theta_phi[:, s], *self._step[s.start]):
                a[..., bad] = 0.0

    def top_eig(self, s, exact, tally) -> np.ndarray:
        """``λ_max(Θ/B)`` per rate, ``Θ = ζ² C M Cᵀ + Φ Φᵀ`` with ``M = UᵀU`` (see :class:`NTKSolver`)."""
        basis, Phi, zeta, B, solver = self.basis, self.Phi, self.zeta, self.B, self.solver
        U = self._step[s.start][0]
        if basis.reduced is not None:
            K, p = basis.K, Phi.shape[1]
            D = np.zeros((U.shape[-1], K + p, K + p))
            D[:, :K, :K] = zeta**2 * _gram(U)
            D[:, K:, K:] = np.eye(p)
            S = basis.reduced
            small = S @ D @ S
            small = 0.5 * (small + small.transpose(0, 2, 1))
            return top_eig(small / B)[0]
        FF = Phi @ Phi.T
        M = _gram(U) if (basis.K <= max(solver.exact_max, 1) or B <= solver.exact_max) else None
        if M is not None and B <= solver.exact_max:
            Theta = zeta**2 * basis.expand(basis.expand(M).transpose(0, 2, 1)) + FF
            Theta = 0.5 * (Theta + Theta.transpose(0, 2, 1))
            return top_eig(Theta / B)[0]
        Ur = U.transpose(2, 1, 0)  # (R, m, K)

        def matvec(v: np.ndarray) -> np.ndarray:
            a = basis.contract(v)  # (R, K)
            if M is not None:
                Ma = np.einsum("rkl,rl->rk", M, a)
            else:
                Ma = np.einsum("rjk,rj->rk", Ur, np.einsum("rjk,rk->rj", Ur, a))
            return (zeta**2 * basis.expand(Ma) + v @ FF) / B

        lam, self.warm[s], _ = top_eig(matvec=matvec, warm=self.warm[s], solver=solver)
        return lam

    def update(self, s, eta, keep, tally) -> None:
        U, res = self._step.pop(s.start)
        coef = np.where(keep, eta, 0.0) * res / self.B  # (B, R)
        self.theta[:, s] -= self.zeta * self.basis.gradient(coef, U)
        self.theta_phi[:, s] -= self.Phi.T @ coef

    def slot_arrays(self) -> list[tuple[np.ndarray, int]]:
        """``θ_ψ`` and ``θ_φ`` (slots on axis 1) and the warm start."""
        return [(self.theta, 1), (self.theta_phi, 1), (self.warm, 0)]


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
    settle: bool = False,
    lam_every: int = 1,
) -> Trajectory:
    """Full-batch GD on ``L = (1/2B) Σ_a (f(x_a) − y_a)²`` for every rate in ``eta`` (:func:`run_gd`).

    One (unbatched) ``init`` shared by every rate; training data ``X`` ``(B, d)``,
    ``y`` ``(B,)``; ``eta`` of any shape (the batch shape); optional ``test =
    (X_test, y_test)`` adds the series ``"test_loss"`` (same normalisation),
    evaluated every ``test_every`` steps (:class:`GDConfig`); ``solver``: how
    ``lam`` is computed (:class:`NTKSolver`). Returns ``loss``, ``lam =
    λ_max(Θ/B)``, ``w2 = |θ_ψ|² + |θ_φ|²`` per step, shape ``(steps + 1,
    *eta.shape)``; a run whose loss blows up (or whose state or test loss
    stops being finite) at step ``s`` has ``diverged_at = s`` and is frozen.
    ``lam_every``: ``lam`` at steps ``0, lam_every, ...``, at ``steps`` and when a run leaves,
    held in between (:class:`GDConfig`; a sweep that reports final values needs ``lam`` at the
    end only and saves the eigen-solves in between).
    With ``settle`` a run stops once its loss is settled (:class:`GDConfig`). A run
    that stops leaves the batch: later steps cost only the runs still in it.

    Per step and rate the cost is ``O(K m²)`` for the products ``K_k θ``
    (``K = d`` for identity ``g`` and ``d <= B``, else ``K = B``), plus the
    NTK cost of :class:`NTKSolver`. A test set of size ``T`` costs ``O(d)``
    per rate and evaluation for identity ``g``; otherwise ``O(T m²)`` per rate
    and evaluation and ``T m²`` floats of memory, read once per evaluation
    (memory-bound: for ``T = 512``, ``m = 500`` about 0.3 s per evaluation of
    28 rates on two cores, which is what ``test_every`` is for).
    """
    cfg = GDConfig(steps, criteria, lam_every=lam_every, test_every=test_every, settle=settle, threads=None)
    eta = check_rates(eta)
    require((isinstance(model, QuadraticModel), f"expected a QuadraticModel, got {type(model).__name__}"))
    tp0, tf0 = _check_params(model, init)
    require((tp0.ndim == 1 and tf0.ndim == 1, "init must be a single parameter vector (the same for every rate)"),
            (np.all(np.isfinite(tp0)) and np.all(np.isfinite(tf0)), "init must be finite"))
    X, y = check_data(X, y, model.d)
    test = None if test is None else check_data(*test, model.d, "X_test")
    family = _QuadraticFamily(model, (tp0, tf0), X, y, test, int(eta.size), solver)
    return run_gd(family, eta, cfg).traj  # BLAS on one thread: the driver's rule


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
        require(
            (mu.ndim == 1 and c.shape == mu.shape, f"mu and c must be 1-D of equal length, got {mu.shape}, {c.shape}"),
            (np.all(np.isfinite(mu)) and np.all(np.isfinite(c)) and np.all(c >= 0),
             "mu must be finite and c finite and non-negative"),
            (np.all(np.isfinite([self.zeta, self.phi2, self.p, self.q])), "zeta, phi2, p and q must be finite"),
            (self.phi2 >= 0 and self.q >= 0, "phi2 and q must be non-negative"),
            (self.has_features or not (self.phi2 or self.p or self.q), "without features phi2 = p = q = 0"),
        )


def merge_eigenvalues(mu: np.ndarray, c: np.ndarray, rtol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Merge numerically equal eigenvalues (sorted ``mu``), summing their weights.

    Components with one eigenvalue evolve identically (``c' = (1 − η r ζ μ)² c``
    is linear in ``c``), so the reduced state has one weight per *distinct*
    eigenvalue: two for ``ψ² ∝ I``, ``m`` for a generic spectrum. Eigenvalues
    within ``rtol · max|mu|`` of their neighbour count as equal (the
    rounding of ``eigh``), and the group keeps its weighted mean.
    """
    mu, c = np.asarray(mu, dtype=float), np.asarray(c, dtype=float)
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
    require((tp.ndim == 1 and tf.ndim == 1, "spectral_state takes a single parameter vector"))
    x = np.asarray(x, dtype=float).reshape(1, -1)
    psi = meta_features(model, x)[0]
    with serial_blas():
        mu, E = np.linalg.eigh(psi)
    mu, c = merge_eigenvalues(mu, (E.T @ tp) ** 2)
    if model.family == "pure":
        return SpectralState(mu, c, model.zeta)
    phi = features(model, x)[0]
    return SpectralState(mu, c, model.zeta, True, float(phi @ phi), float(tf @ phi), float(tf @ tf))


class _SpectralFamily(GDFamily):
    """The exact single-datum engine as a :func:`run_gd` family: eigen-weights ``c``
    ``(R, n)`` (and ``p``, ``q`` ``(R,)``) per slot, diverged runs zeroed in place.
    Compacting: runs that leave (diverged, settled) are moved out of the active rows."""

    compact = True

    def __init__(self, state: SpectralState, y: float, R: int) -> None:
        from ..compiled import (
            spectral_maps,  # derived in symbolic._spectral, compiled once
        )

        self.forms, self.state, self.y = spectral_maps(), state, y
        self.mu, self.zeta = np.asarray(state.mu, dtype=float), float(state.zeta)
        self.c = np.repeat(np.asarray(state.c, dtype=float)[None, :], R, axis=0)
        self.p, self.q = np.full(R, float(state.p)), np.full(R, float(state.q))
        self.r = np.zeros(R)

    def observe(self, s, lam, exact, test, tally) -> Observation:
        fj, lj, wj = self.forms.contributions(self.c[s], self.mu, self.zeta)
        f, lam, w2 = fj.sum(axis=1), lj.sum(axis=1), wj.sum(axis=1)
        if self.state.has_features:
            ff, lf, wf = self.forms.feature_contributions(self.p[s], self.q[s], float(self.state.phi2))
            f, lam, w2 = f + ff, lam + lf, w2 + wf
        self.r[s] = f - self.y
        return Observation(0.5 * self.r[s] ** 2, w2, lam=lam)

    def freeze(self, s, bad) -> None:
        if bad.any():  # frozen runs are reset so that no non-finite value is iterated
            for a in (self.c[s], self.p[s], self.q[s]):
                a[bad] = 0.0

    def update(self, s, eta, keep, tally) -> None:
        rr = np.where(keep, self.r[s], 0.0)
        self.c[s] = self.forms.weight_next(self.c[s], self.mu, eta[:, None], rr[:, None], self.zeta)
        if self.state.has_features:
            self.p[s], self.q[s] = self.forms.feature_next(self.p[s], self.q[s], float(self.state.phi2), eta, rr)

    def slot_arrays(self) -> list[tuple[np.ndarray, int]]:
        """The spectral coefficients and the feature block, slots first."""
        return [(self.c, 0), (self.p, 0), (self.q, 0), (self.r, 0)]


def train_spectral(
    state: SpectralState,
    eta: np.ndarray | float,
    steps: int,
    y: float = 0.0,
    criteria: PhaseCriteria = PhaseCriteria(),
) -> Trajectory:
    """Iterate the exact per-eigenvalue maps for every rate in ``eta`` at once (:func:`run_gd`).

    ``f``, ``lam`` and ``w2`` are the sums of the per-component contributions
    (plus the feature block); the residual ``r = f − y`` drives every
    component. Cost ``O(n)`` per step and rate. Divergence handling and the
    returned :class:`Trajectory` are as in :func:`train_quadratic`.
    """
    cfg = GDConfig(steps, criteria)
    eta = check_rates(eta)
    if not np.isfinite(y):
        raise InvalidInput(f"y must be finite, got {y}")
    return run_gd(_SpectralFamily(state, y, int(eta.size)), eta, cfg).traj
