"""Realisable states of any symbolic model: real parameters, one real GD step, exact re-checks.

A :class:`ModelState` is a model instantiated with numbers: every dimension
symbol (the width ``n``, ``d``, ``m``, ...) an integer, every parameter block and
data matrix a matrix of exact rationals (entries on a grid of 1/100), the model's
own scalars values, a target ``y`` and ``k = eta*lam``. From these alone it
computes, in floats (fast) or exactly (SymPy rationals and the algebraic numbers
of the model's constants, such as ``1/sqrt(n)``):

* the state ``f, lam, w2`` (and the model's named invariants: ``x2``, moments),
  each atom of the word algebra evaluated from its word;
* ``eta = k/lam`` and one real GD step ``θ' = θ − η r ∇f`` on the parameters,
  then ``f_next, lam_next, w2_next`` at ``θ'``;
* run outcomes (``converges``, ``diverges``, ``phase``, ``lam_final``,
  ``steps_to_converge``, floats): the exact reduced map iterated when the
  model's map closes, full-parameter GD otherwise.

So every state is one that gradient descent can be in. Data that must obey the
model's rules are built to obey them: a symmetric ``X`` with ``X X = c1 X + c0 I``
gets eigenvalues among the roots (Householder-rotated, still rational), and the
two-layer net's slope matrix is the real activation pattern ``diag(σ'(U x))``,
recomputed after the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from ..compiled import CompiledModel, Word
from ..errors import InvalidInput
from ..symbolic import SymbolicModel
from ..symbolic import symbols as S
from ._expr import Undefined, exact_sign

__all__ = ["GRID", "K_DEFAULT", "OUTCOMES", "STEP_NAMES", "ModelSpec", "ModelState", "draw_state", "model_spec"]

#: entries of drawn matrices and scalars are integers over this denominator
GRID = 100
#: the names of a state's next-step values
STEP_NAMES = ("f_next", "lam_next", "w2_next")
#: run outcomes a claim may read, with their meaning
OUTCOMES = {
    "converges": "the run converges (phase lazy or catapult)",
    "diverges": "the run blows up (phase divergent)",
    "phase": "phase label: 'lazy', 'catapult', 'divergent', 'collapsed' or 'unresolved'",
    "lam_final": "lam at the end of the run",
    "steps_to_converge": "first step with loss <= 1e-12 * loss0 (inf if none)",
}
#: matrices with more entries than this are drawn from a seed, not byte by byte
MAX_DRAWN_ENTRIES = 1024
#: the default window of k = eta*lam (low, high): high excluded
K_DEFAULT = (0.01, 6.0)
#: default range of every dimension (a bound in the assumptions replaces it)
SIZE_DEFAULT = (1, 4)
#: drawn entries are signed bytes times this, over GRID: values in [-2.56, 2.54] in steps of 0.02
ENTRY_STEP = 2


# ----------------------------------------------------------------------------- the model, prepared once
class ModelSpec(CompiledModel):
    """A symbolic model prepared for instantiation: atoms, matrices, dimensions, scalars.

    Built once per model (:func:`model_spec`). ``names`` lists every name a
    claim about this model may read, with its meaning.
    """

    def __init__(self, model: SymbolicModel, registered: bool = False) -> None:
        super().__init__(model)
        self.registered = registered
        self.hooks = _hooks_of(self.name)
        self._next: dict[str, sp.Expr] | None = None
        self._next_atoms: list[sp.Symbol] = []

    @property
    def next_exprs(self) -> dict[str, sp.Expr]:
        """``f, lam, w2`` after one GD step with the data held fixed, in the atoms of the
        current parameters, ``eta`` and ``r`` (derived once, for the exact path)."""
        if self._next is None:
            der = self.derivation
            self._next = {n: sp.expand(der.next(self.targets[n])) for n in ("f", "lam", "w2")}
            self._next_atoms = sorted(set().union(*(der.algebra.atoms_of(e) for e in self._next.values())), key=str)
            for a in self._next_atoms:
                entry = der.algebra.atom_word(a)
                assert entry is not None
                self.words.setdefault(a, Word(entry[0], tuple((f.name, f.transposed) for f in entry[1])))
        return self._next

    def reads_realised(self, target: str) -> bool:
        """True when ``target`` reads a data matrix the family realises from the parameters."""
        A = self.derivation.algebra
        return any(f[0] in self.hooks.realised for a in A.atoms_of(self.targets[target])
                   for f in self.words[a].factors)

    @property
    def next_atoms(self) -> list[sp.Symbol]:
        """The atoms :attr:`next_exprs` read."""
        _ = self.next_exprs  # derives them (and their atoms) on first use
        return self._next_atoms

    # ---------------------------------------------------------------- names
    @property
    def names(self) -> dict[str, str]:
        """Every name a claim may read, with its meaning."""
        out = {
            "f": "network output", "lam": "NTK eigenvalue |grad f|^2", "w2": "squared weight norm",
            "eta": "learning rate k/lam", "y": "target", "r": "residual f - y", "k": "eta*lam",
            "f_next": "f after one GD step", "lam_next": "lam after one GD step",
            "w2_next": "w2 after one GD step",
        }
        for s, e in self.targets.items():
            out.setdefault(s, f"invariant {self.derivation.algebra.words_with_expr(e)}")
        for s, atom in self.alias.items():
            out[s] = f"data invariant {self.derivation.algebra.words_with(atom)}"
        for d in self.dims:
            out[d.name] = "dimension (integer)"
        for c in self.scalars:
            out.setdefault(c.name, "model scalar")
        out.update(OUTCOMES)
        return out

    def map_closes(self) -> bool:
        """True when the model's one-step map of ``(f, lam, w2)`` closes (the run uses the exact map)."""
        if not self.registered:
            return False
        from ..symbolic import theory

        return bool(theory(self.name).update.closed)


#: models prepared so far, keyed by the model object (a file model renamed is another key)
@lru_cache(maxsize=64)
def _spec_of(model: SymbolicModel, registered: bool) -> ModelSpec:
    return ModelSpec(model, registered)


def model_spec(model: str | SymbolicModel) -> ModelSpec:
    """The prepared :class:`ModelSpec` of a registered model name or a :class:`SymbolicModel`."""
    if isinstance(model, SymbolicModel):
        from ..symbolic import MODELS

        registered = model.name in MODELS and MODELS[model.name]() == model
        return _spec_of(model, registered)
    from ..symbolic import MODELS

    if model not in MODELS:
        raise InvalidInput(f"unknown model {model!r}; known: {', '.join(sorted(MODELS))}")
    try:
        built = MODELS[model]()
    except Exception as exc:  # noqa: BLE001 - a user's builder failed: bad input, not our bug
        raise InvalidInput(f"model {model!r} cannot be built: {type(exc).__name__}: {exc}") from None
    return _spec_of(built, True)


# ----------------------------------------------------------------------------- family hooks
@dataclass(frozen=True)
class _Hooks:
    """What a family adds to the generic instantiation."""

    #: scalar name -> (low, high) of its values (on the grid)
    scalar_ranges: Mapping[str, tuple[Fraction, Fraction]] = field(default_factory=dict)
    #: scalar name -> its value from the dimensions (exact)
    fixed: Mapping[str, Callable[[Mapping[str, int]], sp.Expr]] = field(default_factory=dict)
    #: data matrices computed from the parameters (``(matrices, scalars, exact) -> {name: matrix}``)
    realise: Callable[[Mapping[str, np.ndarray], Mapping[str, Any], bool], dict[str, np.ndarray]] | None = None
    #: the data matrices ``realise`` computes (never drawn)
    realised: tuple[str, ...] = ()


def _slopes(z: np.ndarray, a: Any, exact: bool) -> np.ndarray:
    """``diag(σ'(z))`` of a pre-activation column ``z``: slope 1 where it is positive, ``a``
    elsewhere (``σ'(0) = a``, the ``z <= 0`` branch of the engines)."""
    if exact:
        diag = [sp.S.One if exact_sign(zi) > 0 else a for zi in z]
        out = np.full((len(diag), len(diag)), sp.S.Zero, dtype=object)
        for i, s_ in enumerate(diag):
            out[i, i] = s_
        return out
    return np.diag(np.where(z > 0, 1.0, float(a)))


def _realise(realised: Sequence[Any], mats: Mapping[str, np.ndarray], scalars: Mapping[str, Any],
             exact: bool) -> dict[str, np.ndarray]:
    """The data a family realises from the parameters (its record's
    :class:`~catapult_theory.families.Realised`, in order): ``diag(σ'(z))`` of each word's column."""
    out: dict[str, np.ndarray] = {}
    for r in realised:
        m = {**mats, **out}
        z = _factor(m, *r.word[-1])
        for name, transposed in reversed(r.word[:-1]):  # right to left: W2 (S1 (W1 x))
            z = _matmul(_factor(m, name, transposed), z, exact)
        default = sp.Rational(r.default) if exact else float(r.default)
        out[r.name] = _slopes(z[:, 0], scalars.get(r.slope, default), exact)
    return out


def _hooks_of(name: str) -> _Hooks:
    """The hooks of the family called ``name`` (its record's instantiation; none for a model
    that is no family's)."""
    from ..families import families

    for fam in families():
        if fam.name == name:
            inst = fam.instantiation
            realise = (lambda mats, scalars, exact: _realise(inst.realised, mats, scalars, exact)) if inst.realised \
                else None
            return _Hooks(dict(inst.scalar_ranges), dict(inst.fixed), realise, tuple(r.name for r in inst.realised))
    return _Hooks()


# ----------------------------------------------------------------------------- arithmetic on matrices
def _matmul(a: np.ndarray, b: np.ndarray, exact: bool) -> np.ndarray:
    out = a @ b
    if exact and out.dtype == object:
        out = np.vectorize(lambda v: sp.expand(sp.sympify(v)), otypes=[object])(out)
    return out


def _factor(mats: Mapping[str, np.ndarray], name: str, transposed: bool) -> np.ndarray:
    m = mats[name]
    return m.T if transposed else m


def _word_value(mats: Mapping[str, np.ndarray], factors: Sequence[tuple[str, bool]], exact: bool) -> np.ndarray:
    out = _factor(mats, *factors[0])
    for f in factors[1:]:
        out = _matmul(out, _factor(mats, *f), exact)
    return out


def _as_fractions(mats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """The matrices with Python ``Fraction`` entries (fast exact arithmetic), or ``None``
    when an entry is irrational."""
    out = {}
    for k, m in mats.items():
        conv = []
        for v in m.ravel():
            if isinstance(v, (Fraction, int)):
                conv.append(Fraction(v))
            elif isinstance(v, sp.Rational):
                conv.append(Fraction(int(v.p), int(v.q)))
            else:
                return None
        out[k] = np.array(conv, dtype=object).reshape(m.shape)
    return out


def _atom_values(spec: ModelSpec, mats: Mapping[str, np.ndarray], exact: bool,
                 atoms: Sequence[sp.Symbol] | None = None) -> list[Any]:
    atoms = spec.atoms if atoms is None else atoms
    fr = _as_fractions(mats) if exact else None
    use, sym = (fr, False) if fr is not None else (mats, exact)
    vals = []
    for a in atoms:
        w = spec.words[a]
        prod = _word_value(use, w.factors, sym)
        if w.kind == "trace":
            v = sum((prod[i, i] for i in range(prod.shape[0])), sp.S.Zero if sym else 0)
        else:
            v = prod[0, 0]
        if not exact:
            vals.append(float(v))
        elif fr is not None:
            vals.append(sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else sp.Integer(v))
        else:
            vals.append(sp.expand(v))
    return vals


# ----------------------------------------------------------------------------- the state
class ModelState:
    """One realisable state of a model: exact drawn parameters and what follows from them.

    Attributes
    ----------
    model
        The model's registry name.
    sizes
        Dimension symbol name -> integer.
    scalars
        The model's own scalars -> exact value.
    matrices
        Parameter blocks and data, name -> exact matrix (NumPy object array of SymPy rationals).
    k
        ``eta*lam`` (a float, taken exactly).
    y
        The target (exact).
    """

    def __init__(self, spec: ModelSpec, sizes: Mapping[str, int], scalars: Mapping[str, sp.Expr],
                 matrices: Mapping[str, np.ndarray], k: float, y: sp.Expr, steps: int = 1000) -> None:
        self.spec = spec
        self.model = spec.name
        self.sizes = dict(sizes)
        self.scalars = dict(scalars)
        self.matrices = dict(matrices)
        self.k = float(k)
        self.y = sp.sympify(y)
        self.steps = steps
        #: filtering assumptions of the search that drew the state (re-checked exactly)
        self.assumptions: tuple[Any, ...] = ()
        self._float: dict[str, float] | None = None
        self._exact: dict[str, sp.Expr] | None = None
        self._exact_base: tuple[dict[str, np.ndarray], list[Any], dict[str, Any]] = ({}, [], {})
        self._outcomes: dict[str, Any] | None = None

    # ------------------------------------------------------------ common
    def _scalar_args(self, exact: bool) -> list[Any]:
        vals = [sp.sympify(self.scalars[s.name]) for s in self.spec.scalars]
        dims = [sp.Integer(self.sizes[d.name]) for d in self.spec.dims]
        if exact:
            return [*vals, *dims]
        return [float(v) for v in vals] + [float(d) for d in dims]

    def _mats(self, exact: bool) -> dict[str, np.ndarray]:
        if exact:
            return dict(self.matrices)
        return {k: np.array(v, dtype=float) for k, v in self.matrices.items()}

    def _observe(self, mats: Mapping[str, np.ndarray], exact: bool) -> tuple[list[Any], dict[str, Any]]:
        atoms = _atom_values(self.spec, mats, exact)
        args = atoms + self._scalar_args(exact)
        if exact:
            reps = dict(zip(self.spec._args, args))
            vals = {n: sp.expand(sp.sympify(e).xreplace(reps)) for n, e in self.spec.targets.items()}
        else:
            with np.errstate(all="ignore"):
                out = self.spec._targets_fn(*args)
            vals = {n: float(v) for n, v in zip(self.spec.targets, out)}
        return args, vals

    def _step(self, mats: dict[str, np.ndarray], args: list[Any], eta: Any, r: Any, exact: bool,
              realise: bool = True) -> dict[str, np.ndarray]:
        new = dict(mats)
        for p, terms in self.spec.grads.items():
            shape = mats[p].shape
            if exact:
                reps = dict(zip([*self.spec._args, S.eta, S.r], [*args, eta, r]))
                coeffs = [sp.expand(sp.sympify(c).xreplace(reps)) for _, c in terms]
                grad = np.full(shape, sp.S.Zero, dtype=object)
            else:
                with np.errstate(all="ignore"):
                    coeffs = [float(c) for c in self.spec._coeff_fns[p](*args, eta, r)][:len(terms)]
                grad = np.zeros(shape)
            for (word, _), c in zip(terms, coeffs):
                part = _word_value(mats, word, exact) if word else _identity(shape[0], exact)
                grad = grad + part * c
            with np.errstate(all="ignore"):
                new[p] = mats[p] - grad * (eta * r)
        if realise and self.spec.hooks.realise is not None:
            new.update(self.spec.hooks.realise(new, self._scalar_map(exact), exact))
        return new

    def _scalar_map(self, exact: bool) -> dict[str, Any]:
        return {k: (v if exact else float(v)) for k, v in self.scalars.items()}

    def _base(self, exact: bool) -> tuple[dict[str, np.ndarray], list[Any], dict[str, Any]]:
        """The state before the step: matrices, atom/scalar arguments and the named values."""
        mats = self._mats(exact)
        args, vals = self._observe(mats, exact)
        lam = vals["lam"]
        if exact:
            if exact_sign(lam) <= 0:
                raise Undefined("lam = 0: no learning rate gives this k")
            k: Any = sp.Rational(Fraction(self.k))
            y: Any = self.y
        else:
            if not (math.isfinite(lam) and lam > 0):
                raise Undefined("lam = 0: no learning rate gives this k")
            k, y = self.k, float(self.y)
        out: dict[str, Any] = dict(vals)
        out.update(eta=k / lam, y=y, r=vals["f"] - y, k=k)
        atoms = dict(zip(self.spec.atoms, args))
        for s, atom in self.spec.alias.items():
            out[s] = atoms[atom]
        for d in self.spec.dims:
            out[d.name] = sp.Integer(self.sizes[d.name]) if exact else float(self.sizes[d.name])
        for c in self.spec.scalars:
            out.setdefault(c.name, self.scalars[c.name] if exact else float(self.scalars[c.name]))
        if not exact:
            bad = [n for n, v in out.items() if not math.isfinite(v)]
            if bad:
                raise Undefined(f"{', '.join(bad)} not finite at this state")
        return mats, args, out

    def values(self) -> dict[str, float]:
        """Every quantity of the state and its GD step, in floats (may raise :class:`Undefined`)."""
        if self._float is None:
            mats, args, out = self._base(False)
            nxt = self._step(mats, args, out["eta"], out["r"], False)
            _, after = self._observe(nxt, False)
            for name in ("f", "lam", "w2"):
                out[f"{name}_next"] = after[name]
                if not math.isfinite(after[name]):
                    raise Undefined(f"{name}_next not finite at this state")
            self._float = out
        return self._float

    def exact_values(self, names: Sequence[str] | None = None) -> dict[str, sp.Expr]:
        """The same quantities in exact arithmetic, from the drawn rationals.

        ``names`` limits the next-step values computed to those listed (the others
        are left out); the default computes all of them.
        """
        if self._exact is None:
            self._exact_base = self._base(True)
            self._exact = dict(self._exact_base[2])
        want = STEP_NAMES if names is None else [n for n in names if n in STEP_NAMES]
        missing = [n for n in want if n not in self._exact]
        if missing:
            mats, args, out = self._exact_base
            self._exact.update(self._next_exact(mats, args, out["eta"], out["r"], [n[:-5] for n in missing]))
        return self._exact

    def _next_exact(self, mats: dict[str, np.ndarray], args: list[Any], eta: sp.Expr, r: sp.Expr,
                    targets: Sequence[str]) -> dict[str, Any]:
        """Exact ``target_next`` values: from the derived next-step expressions (data held
        fixed) unless the step changes realised data a target reads (a two-layer unit changes
        its slope), then from the stepped parameters."""
        spec = self.spec
        direct = list(targets)
        out: dict[str, Any] = {}
        if spec.hooks.realise is not None:
            reads = [t for t in targets if spec.reads_realised(t)]
            if reads:
                moved = self._step(mats, args, eta, r, True, realise=False)
                redone = spec.hooks.realise(moved, self._scalar_map(True), True)
                if any(not _same(redone[k], mats[k]) for k in redone):
                    moved.update(redone)
                    _, after = self._observe(moved, True)
                    out.update({f"{t}_next": after[t] for t in reads})
                    direct = [t for t in targets if t not in reads]
        if direct:
            exprs = spec.next_exprs
            atoms = _atom_values(spec, mats, True, spec.next_atoms)
            reps: dict[sp.Basic, Any] = dict(zip(spec.next_atoms, atoms))
            reps.update(zip(spec._args[len(spec.atoms):], args[len(spec.atoms):]))
            reps.update({S.eta: eta, S.r: r})
            out.update({f"{t}_next": sp.expand(exprs[t].xreplace(reps)) for t in direct})
        return out

    # ------------------------------------------------------------ runs
    def outcomes(self) -> dict[str, Any]:
        """Run outcomes from this state at ``eta = k/lam`` for :attr:`steps` steps (floats)."""
        if self._outcomes is None:
            self._outcomes = _run(self)
        return self._outcomes

    # ------------------------------------------------------------ reporting
    def parameters(self) -> dict[str, list[Any]]:
        """The drawn matrices as nested lists of floats."""
        return {k: np.array(v, dtype=float).tolist() for k, v in self.matrices.items()}

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: sizes, scalars, k, y and the matrices."""
        return {"model": self.model, "sizes": dict(self.sizes),
                "scalars": {k: float(v) for k, v in self.scalars.items()},
                "k": self.k, "y": float(self.y), "matrices": self.parameters()}

    def __repr__(self) -> str:
        try:
            v = self.values()
            core = ", ".join(f"{n}={v[n]:.6g}" for n in ("f", "lam", "w2", "eta") if n in v)
        except Undefined:
            core = "undefined"
        sizes = ", ".join(f"{k}={n}" for k, n in self.sizes.items())
        return f"ModelState({self.model}: {sizes}, k={self.k!r}, y={float(self.y)!r}, {core})"


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact equality of two matrices of SymPy numbers."""
    return a.shape == b.shape and all(exact_sign(sp.sympify(u) - sp.sympify(v)) == 0
                                      for u, v in zip(a.ravel(), b.ravel()))


def _identity(n: int, exact: bool) -> np.ndarray:
    if exact:
        out = np.full((n, n), sp.S.Zero, dtype=object)
        for i in range(n):
            out[i, i] = sp.S.One
        return out
    return np.eye(n)


# ----------------------------------------------------------------------------- runs
def _run(state: ModelState) -> dict[str, Any]:
    from ..engine import PhaseCriteria, classify

    criteria = PhaseCriteria()
    v = state.values()
    if state.spec.map_closes():
        traj = _run_map(state, v, criteria)
    else:
        traj = _run_gd(state, v, criteria)
    phase = str(classify(traj, criteria)[()])
    loss = traj.series("loss", ())
    scale = float(criteria.scale(loss[0]))
    hit = np.nonzero(loss <= criteria.converged_loss * scale)[0]
    lam_final = float(traj.final("lam"))
    return {
        "phase": phase,
        "converges": phase in ("lazy", "catapult"),
        "diverges": phase == "divergent",
        "lam_final": lam_final,
        "steps_to_converge": float(hit[0]) if hit.size else math.inf,
    }


def _run_map(state: ModelState, v: Mapping[str, float], criteria: Any) -> Any:
    from ..compiled import update_map
    from ..engine import iterate_map

    cmap = update_map(state.model)
    params: dict[str, Any] = {p: v[p] for p in cmap.params[2:]}
    return iterate_map(cmap, f0=v["f"], lam0=v["lam"], w2_0=v["w2"], eta=v["eta"], y=v["y"],
                       steps=state.steps, criteria=criteria, stop_early=True, **params)


def _run_gd(state: ModelState, v: Mapping[str, float], criteria: Any) -> Any:
    from ..engine import StepRecorder

    eta, y = v["eta"], v["y"]
    mats = state._mats(False)
    rec = StepRecorder(state.steps, (), criteria)
    args, vals = state._observe(mats, False)
    loss0 = 0.5 * (vals["f"] - y) ** 2
    rec.check(0, np.asarray(loss0), np.asarray(vals["lam"]), np.asarray(vals["w2"]))
    rec.store(0, loss=np.asarray(loss0), lam=np.asarray(vals["lam"]), w2=np.asarray(vals["w2"]))
    done = 0
    for t in range(1, state.steps + 1):
        mats = state._step(mats, args, eta, vals["f"] - y, False)
        with np.errstate(all="ignore"):
            args, vals = state._observe(mats, False)
            loss = np.asarray(0.5 * (vals["f"] - y) ** 2)
        bad = rec.check(t, loss, np.asarray(vals["lam"]), np.asarray(vals["w2"]))
        rec.store(t, loss=loss, lam=np.asarray(vals["lam"]), w2=np.asarray(vals["w2"]))
        done = t
        if bool(bad) or float(loss) <= criteria.converged_loss * criteria.scale(loss0):
            break
    return rec.trajectory(np.asarray(eta), upto=done)


# ----------------------------------------------------------------------------- drawing
def _grid(v: Fraction, up: bool) -> int:
    """``v`` on the 1/GRID grid, rounded up or down."""
    x = v * GRID
    return math.ceil(x) if up else math.floor(x)


def _grid_range(low: Fraction, high: Fraction, low_strict: bool, high_strict: bool, what: str) -> tuple[int, int]:
    lo, hi = _grid(low, True), _grid(high, False)
    if low_strict and Fraction(lo, GRID) == low:
        lo += 1
    if high_strict and Fraction(hi, GRID) == high:
        hi -= 1
    if lo > hi:
        raise InvalidInput(f"the assumptions leave no value for {what} (on the grid of 1/{GRID})")
    return lo, hi


@dataclass(frozen=True)
class Ranges:
    """Where a state's free numbers are drawn from (the assumptions' bounds applied)."""

    k: tuple[float, float, bool, bool] = (*K_DEFAULT, False, True)
    y: tuple[int, int] | None = (-300, 300)
    y_fixed: Fraction | None = None
    sizes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    scalars: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def _householder(u: Sequence[int], n: int) -> np.ndarray:
    """The rational orthogonal matrix ``I − 2 u uᵀ / (uᵀ u)`` (identity for ``u = 0``)."""
    uu = sum(x * x for x in u)
    out = np.full((n, n), sp.S.Zero, dtype=object)
    for i in range(n):
        for j in range(n):
            out[i, j] = (sp.S.One if i == j else sp.S.Zero) - (sp.Rational(2 * u[i] * u[j], uu) if uu else 0)
    return out


def _exact_matrix(entries: Sequence[int], rows: int, cols: int) -> np.ndarray:
    """Grid integers as a matrix of exact ``Fraction`` entries."""
    out = np.empty((rows, cols), dtype=object)
    for i, e in enumerate(entries):
        out[i // cols, i % cols] = Fraction(e, GRID)
    return out


#: bytes a drawn state costs per matrix entry it holds or computes (its exact ``Fraction``
#: matrices and the products of its word values, object arrays): measured with tracemalloc on
#: ``falsify`` runs of the uv model (8 bytes per entry at n = 2000 to 8000) and the two-layer
#: net (16 at n = 500 to 2000), whose dense slope matrices hold more distinct values
STATE_BYTES_PER_ENTRY = 12


def state_entries(spec: ModelSpec, sizes: Mapping[str, int]) -> int:
    """Matrix entries one state of ``spec`` with these dimension values holds: its drawn and
    realised matrices, plus the largest intermediate product of its word values (the
    words are multiplied left to right)."""
    dims = {d: sp.Integer(sizes.get(d.name, SIZE_DEFAULT[1])) for d in spec.dims}

    def shape(name: str, transposed: bool = False) -> tuple[int, int]:
        r, c = spec.shapes[name]
        rc = (int(sp.sympify(r).xreplace(dims)), int(sp.sympify(c).xreplace(dims)))
        return (rc[1], rc[0]) if transposed else rc

    held = sum(math.prod(shape(name)) for name in spec.shapes)
    words = [w.factors for w in spec.words.values()]
    words += [w for terms in spec.grads.values() for w, _ in terms if w]
    largest = 0
    for factors in words:
        rows, _ = shape(*factors[0])
        for f in factors[1:]:
            largest = max(largest, rows * shape(*f)[1])
    return held + largest


def state_bytes(spec: ModelSpec, sizes: Mapping[str, int]) -> float:
    """Bytes one drawn state of ``spec`` costs (:func:`state_entries` x :data:`STATE_BYTES_PER_ENTRY`)."""
    return float(STATE_BYTES_PER_ENTRY * state_entries(spec, sizes))


def draw_state(draw: st.DrawFn, spec: ModelSpec, ranges: Ranges, steps: int = 1000) -> ModelState:
    """Draw one :class:`ModelState` of ``spec`` within ``ranges`` (for use inside ``st.composite``)."""
    sizes = {}
    for d in spec.dims:
        lo, hi = ranges.sizes.get(d.name, SIZE_DEFAULT)
        sizes[d.name] = draw(st.integers(lo, hi), label=d.name)
    scalars: dict[str, sp.Expr] = {}
    for c in spec.scalars:
        if c.name in sizes:
            scalars[c.name] = sp.Integer(sizes[c.name])
        elif c.name in spec.hooks.fixed and c.name not in ranges.scalars:
            scalars[c.name] = spec.hooks.fixed[c.name](sizes)
        else:
            lo, hi = ranges.scalars.get(c.name) or _default_scalar_range(spec, c)
            scalars[c.name] = sp.Rational(draw(st.integers(lo, hi), label=c.name), GRID)
    dims = {d: sizes[d.name] for d in spec.dims}

    def shape_of(name: str) -> tuple[int, int]:
        r, c = spec.shapes[name]
        try:
            return int(sp.sympify(r).xreplace(dims)), int(sp.sympify(c).xreplace(dims))
        except TypeError:
            raise InvalidInput(f"{spec.name}: the shape of {name} is not fixed by its dimensions") from None

    def entries(rows: int, cols: int, label: str) -> list[int]:
        # one draw of bytes per matrix (fast to generate and to shrink: byte 0 is entry 0),
        # each byte a signed integer times ENTRY_STEP on the grid
        n = rows * cols
        if n <= MAX_DRAWN_ENTRIES:
            raw = draw(st.binary(min_size=n, max_size=n), label=label)
        else:
            seed = draw(st.integers(0, 2**32 - 1), label=f"{label} seed")
            raw = np.random.default_rng(seed).integers(0, 256, size=n, dtype=np.uint8).tobytes()
        return [(b - 256 if b > 127 else b) * ENTRY_STEP for b in raw]

    mats: dict[str, np.ndarray] = {}
    for p in spec.params:
        rows, cols = shape_of(p)
        mats[p] = _exact_matrix(entries(rows, cols, p), rows, cols)
    for name in spec.data:
        rows, cols = shape_of(name)
        if name in spec.hooks.realised:
            continue
        if name in spec.rule_roots:
            mats[name] = _rule_matrix(draw, spec, name, rows, scalars, sizes)
        elif name in spec.model_symmetric:
            a = _exact_matrix(entries(rows, cols, name), rows, cols)
            mats[name] = np.vectorize(lambda v: v, otypes=[object])((a + a.T) / 2)
        else:
            mats[name] = _exact_matrix(entries(rows, cols, name), rows, cols)
    if spec.hooks.realise is not None:
        mats.update(spec.hooks.realise(mats, scalars, True))
    k_lo, k_hi, lo_strict, hi_strict = ranges.k
    edge = max(k_lo, k_hi - 0.2)
    kk = st.floats(k_lo, k_hi, exclude_min=lo_strict, exclude_max=hi_strict, allow_nan=False,
                   allow_infinity=False, allow_subnormal=False)
    near = st.floats(edge, k_hi, exclude_min=lo_strict and edge == k_lo, exclude_max=hi_strict,
                     allow_nan=False, allow_infinity=False, allow_subnormal=False)
    k = draw(st.one_of(kk, near), label="k")
    if ranges.y_fixed is not None:
        y = sp.Rational(ranges.y_fixed)
    else:
        assert ranges.y is not None
        y = sp.Rational(draw(st.integers(*ranges.y), label="y"), GRID)
    return ModelState(spec, sizes, scalars, mats, k, y, steps)


def _default_scalar_range(spec: ModelSpec, c: sp.Symbol) -> tuple[int, int]:
    if c.name in spec.hooks.scalar_ranges:
        lo, hi = spec.hooks.scalar_ranges[c.name]
        return _grid(lo, True), _grid(hi, False)
    if c.is_positive:
        return 1, 3 * GRID
    if c.is_nonnegative:
        return 0, 3 * GRID
    return -3 * GRID, 3 * GRID


def _rule_matrix(draw: st.DrawFn, spec: ModelSpec, name: str, n: int, scalars: Mapping[str, sp.Expr],
                 sizes: Mapping[str, int]) -> np.ndarray:
    """A symmetric ``X`` with ``X X = c1 X + c0 I``: ``H diag(roots) H`` with a rational Householder ``H``."""
    c1, c0 = spec.rule_roots[name]
    reps = {s: v for s, v in ((sp.Symbol(k), v) for k, v in scalars.items())}
    reps.update({sp.Symbol(k): sp.Integer(v) for k, v in sizes.items()})
    for s in spec.scalars:
        reps[s] = scalars[s.name]
    c1v, c0v = sp.sympify(c1).xreplace(reps), sp.sympify(c0).xreplace(reps)
    disc = sp.expand(c1v**2 + 4 * c0v)
    if exact_sign(disc) < 0:
        raise Undefined(f"the rule of {name} has no real solution at these scalars")
    roots = [sp.radsimp((c1v + sp.sqrt(disc)) / 2), sp.radsimp((c1v - sp.sqrt(disc)) / 2)]
    pick = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n), label=f"{name} eigenvalues")
    u = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n), label=f"{name} rotation")
    H = _householder(u, n)
    D = _identity(n, True)
    for i, j in enumerate(pick):
        D[i, i] = roots[j]
    return _matmul(_matmul(H, D, True), H, True)
