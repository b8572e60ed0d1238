"""Full-parameter GD on a model given only as symbols, at concrete sizes, batched over rates.

A :class:`~catapult_theory.compiled.CompiledModel` says what ``f`` and ``∇f`` are in the
model's own words (products of its matrices) and atoms (their traces or scalar entries).
With the dimensions set to integers, the parameter blocks to arrays with a leading axis
of runs and the data column to a stack of inputs, each word is one batched matrix chain
(multiplied in its cheapest order), each atom an array over (run, datum), and

* ``f(x_a)``, the model's other invariants and the coefficients of the gradient words:
  the compiled expressions at those atoms;
* ``∇_p f(x_a)``: the words of block ``p`` times their coefficients;
* the loss ``(1/2B) Σ_a (f(x_a) − y_a)²``, ``lam = λ_max(Θ)/B`` with the NTK
  ``Θ_ab = Σ_p ⟨∇_p f(x_a), ∇_p f(x_b)⟩`` (``|∇f|²`` for one datum) and ``w2 = Σ_p |p|²``;
* one GD step ``p ← p − (η/B) Σ_a r_a ∇_p f(x_a)``.

:func:`train_symbolic` runs it on the shared driver (:func:`.run_gd`), one rate per run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..compiled import CompiledModel
from ..errors import InvalidInput
from ._driver import GDConfig, GDFamily, GDResult, Observation, check_rates, run_gd
from ._eig import top_eig

__all__ = ["SymbolicGD", "symbolic_state", "train_symbolic"]

#: a matrix chain: the index of a factor, or the product of two chains
_Tree = Any


def _plan(shapes: Sequence[tuple[int, int]]) -> _Tree:
    """The cheapest order of a matrix chain (the classic dynamic programme on its sizes)."""
    return _plan_cost(shapes)[0]


def _plan_cost(shapes: Sequence[tuple[int, int]]) -> tuple[_Tree, int]:
    k = len(shapes)
    dims = [shapes[0][0]] + [c for _, c in shapes]
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length - 1
            cost[i][j] = -1
            for m in range(i, j):
                c = cost[i][m] + cost[m + 1][j] + dims[i] * dims[m + 1] * dims[j + 1]
                if cost[i][j] < 0 or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, m

    def tree(i: int, j: int) -> _Tree:
        return i if i == j else (tree(i, split[i][j]), tree(split[i][j] + 1, j))

    return tree(0, k - 1), cost[0][k - 1]


def _trace_plan(shapes: Sequence[tuple[int, int]]) -> tuple[int, _Tree, _Tree | None]:
    """A trace ``tr(F_1 ... F_k)`` as ``Σ (F_1..F_m) ∘ (F_m+1..F_k)ᵀ`` at the cheapest split
    ``m`` (never the square product itself: ``tr(U Uᵀ)`` costs ``n d``, not ``n² d``)."""
    if len(shapes) == 1:
        return 1, 0, None
    best: tuple[int, int, _Tree, _Tree] | None = None
    for m in range(1, len(shapes)):
        left, cl = _plan_cost(shapes[:m])
        right, cr = _plan_cost(shapes[m:])
        cost = cl + cr + shapes[0][0] * shapes[m - 1][1]
        if best is None or cost < best[0]:
            best = (cost, m, left, _shift(right, m))
    assert best is not None
    return best[1], best[2], best[3]


def _shift(tree: _Tree, by: int) -> _Tree:
    return tree + by if isinstance(tree, int) else (_shift(tree[0], by), _shift(tree[1], by))


def _chain(tree: _Tree, arrays: Sequence[np.ndarray]) -> np.ndarray:
    if isinstance(tree, int):
        return arrays[tree]
    return np.matmul(_chain(tree[0], arrays), _chain(tree[1], arrays))


class SymbolicGD(GDFamily):
    """A batch of ``R`` states of a :class:`CompiledModel` as a :func:`run_gd` family.

    ``params``: name -> ``(R, rows, cols)``; ``X`` ``(B, d)`` the inputs of the data column
    ``data`` (``None``: the model reads no data), ``y`` ``(B,)``; ``test``: ``(X_test, y_test)``.
    Runs that leave are compacted away by the driver (:meth:`slot_arrays`); a step's
    gradients are kept per slice, so slices may run in the driver's threads.
    """

    compact = True

    def __init__(self, cm: CompiledModel, sizes: Mapping[str, int], scalars: Mapping[str, float],
                 params: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, data: str | None,
                 test: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.cm = cm
        missing = [s.name for s in cm.scalars if s.name not in scalars]
        if missing:
            raise InvalidInput(f"{cm.name}: no value for the scalar(s) {', '.join(missing)}")
        self.fixed = [float(scalars[s.name]) for s in cm.scalars] + [float(sizes[d.name]) for d in cm.dims]
        self.P = {name: np.asarray(params[name], dtype=float) for name in cm.params}
        self.data = data
        self.y = np.asarray(y, dtype=float)
        self.B = self.y.shape[0]
        self.inputs = self._stack(X)
        self.has_test = test is not None
        if test is not None:
            self.test_inputs, self.y_test = self._stack(test[0]), np.asarray(test[1], dtype=float)
        shapes = {name: cm.shape_of(name, dict(sizes)) for name in cm.shapes}
        self.shapes = shapes

        def plan(factors: Sequence[tuple[str, bool]]) -> _Tree:
            return _plan([shapes[n][::-1] if t else shapes[n] for n, t in factors])

        def atom_plan(kind: str, factors: Sequence[tuple[str, bool]]) -> _Tree:
            if kind != "trace":
                return plan(factors)
            return _trace_plan([shapes[n][::-1] if t else shapes[n] for n, t in factors])

        self.atom_plans = [(cm.words[a].kind, cm.words[a].factors, atom_plan(cm.words[a].kind, cm.words[a].factors))
                           for a in cm.atoms]
        self.grad_plans = {p: [(w, plan(w) if w else None) for w, _ in terms] for p, terms in cm.grads.items()}
        self.f_index = list(cm.targets).index("f")
        self.work = sum(a.size for a in self.P.values()) * max(self.B, 1)
        self._steps: dict[int, tuple[dict[str, np.ndarray], np.ndarray]] = {}

    def _stack(self, X: np.ndarray) -> np.ndarray | None:
        """Inputs ``(B, d)`` as the data column's stack ``(1, B, d, 1)``."""
        if self.data is None:
            return None
        X = np.asarray(X, dtype=float)
        return X[None, :, :, None]

    # ------------------------------------------------------------------ evaluation
    def _mats(self, s: slice, inputs: np.ndarray | None) -> dict[str, np.ndarray]:
        mats = {name: a[s][:, None] for name, a in self.P.items()}
        if self.data is not None and inputs is not None:
            mats[self.data] = inputs
        return mats

    @staticmethod
    def _factors(mats: Mapping[str, np.ndarray], factors: Sequence[tuple[str, bool]]) -> list[np.ndarray]:
        return [np.swapaxes(mats[n], -1, -2) if t else mats[n] for n, t in factors]

    def _atoms(self, mats: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        out = []
        for kind, factors, tree in self.atom_plans:
            arrays = self._factors(mats, factors)
            if kind != "trace":
                out.append(_chain(tree, arrays)[..., 0, 0])
                continue
            _, left, right = tree
            if right is None:
                out.append(np.trace(arrays[0], axis1=-2, axis2=-1))
            else:
                out.append(np.sum(_chain(left, arrays) * np.swapaxes(_chain(right, arrays), -1, -2), axis=(-2, -1)))
        return out

    def _evaluate(self, s: slice, inputs: np.ndarray | None, grads: bool) -> tuple[np.ndarray, list[np.ndarray],
                                                                                   dict[str, np.ndarray]]:
        """``f`` ``(R_s, B)``, every invariant and (``grads``) ``∇_p f`` ``(R_s, B, rows, cols)``."""
        mats = self._mats(s, inputs)
        args = [*self._atoms(mats), *self.fixed]
        R = s.stop - s.start
        B = self.B if inputs is None else inputs.shape[1]
        values = [np.broadcast_to(np.asarray(v, dtype=float), (R, B)) for v in self.cm.targets_at(args)]
        out: dict[str, np.ndarray] = {}
        if grads:
            for p, terms in self.grad_plans.items():
                coeffs = self.cm.coefficients(p, args)
                rows, cols = self.shapes[p]
                g = np.zeros((R, B, rows, cols))
                for (word, tree), c in zip(terms, coeffs):
                    c = np.broadcast_to(np.asarray(c, dtype=float), (R, B))[..., None, None]
                    g = g + c * (_chain(tree, self._factors(mats, word)) if word else np.eye(rows))
                out[p] = g
        return values[self.f_index], values, out

    def named(self, run: int = 0, datum: int = 0) -> dict[str, float]:
        """Every invariant (by name), the data invariants the model names (its aliases),
        the dimensions and scalars, at run ``run`` and datum ``datum``: the state the
        derived map starts from."""
        s = slice(run, run + 1)
        mats = self._mats(s, self.inputs)
        atoms = self._atoms(mats)
        args = [*atoms, *self.fixed]
        out = {name: float(np.broadcast_to(np.asarray(v, dtype=float), (1, self.B))[0, datum])
               for name, v in zip(self.cm.targets, self.cm.targets_at(args))}
        index = {a: i for i, a in enumerate(self.cm.atoms)}
        for name, atom in self.cm.alias.items():
            out[name] = float(np.broadcast_to(atoms[index[atom]], (1, self.B))[0, datum])
        for sym, v in zip([*self.cm.scalars, *self.cm.dims], self.fixed):
            out[sym.name] = v
        return out

    # ------------------------------------------------------------------ the driver's protocol
    def observe(self, s: slice, lam: bool, exact: bool, test: bool, tally: Any) -> Observation:
        """``f``, ``∇f`` (kept for the step), the loss, ``w2`` and (``lam``) ``λ_max(Θ)/B``."""
        f, _, g = self._evaluate(s, self.inputs, grads=True)
        r = f - self.y
        self._steps[s.start] = (g, r)
        loss = 0.5 * np.mean(r**2, axis=1)
        w2 = sum(np.sum(a[s] ** 2, axis=(1, 2)) for a in self.P.values())
        ntk = sum(np.einsum("rbij,rcij->rbc", gp, gp) for gp in g.values())
        lam_v = None
        if lam:
            ok = np.all(np.isfinite(ntk), axis=(1, 2))
            lam_v = np.full(ntk.shape[0], np.nan)
            if np.any(ok):
                lam_v[ok] = top_eig(ntk[ok])[0] / self.B
        test_loss = self.test_loss(s, tally) if test else None
        return Observation(loss, np.asarray(w2, dtype=float), lam=lam_v, test_loss=test_loss)

    def test_loss(self, s: slice, tally: Any) -> np.ndarray:
        """``(1/2) mean (f(x) − y)²`` over the test set."""
        f, _, _ = self._evaluate(s, self.test_inputs, grads=False)
        return np.asarray(0.5 * np.mean((f - self.y_test) ** 2, axis=1))

    def update(self, s: slice, eta: np.ndarray, keep: np.ndarray, tally: Any) -> None:
        """``p ← p − (η/B) Σ_a r_a ∇_p f(x_a)`` for the runs ``keep``."""
        g, r = self._steps.pop(s.start)
        step = np.where(keep, eta, 0.0)[:, None] * r / self.B
        for p, gp in g.items():
            self.P[p][s] -= np.einsum("rb,rbij->rij", step, gp)

    def slot_arrays(self) -> list[tuple[np.ndarray, int]]:
        """The parameter blocks, runs first."""
        return [(a, 0) for a in self.P.values()]

    def freeze(self, s: slice, bad: np.ndarray) -> None:
        """A blown-up run's parameters become zeros: finite, and never looked at again."""
        if np.any(bad):
            for a in self.P.values():
                a[s][bad] = 0.0


def _batch(cm: CompiledModel, init: Mapping[str, np.ndarray], R: int) -> dict[str, np.ndarray]:
    return {name: np.broadcast_to(np.asarray(init[name], dtype=float), (R, *np.shape(init[name]))).copy()
            for name in cm.params}


def symbolic_state(cm: CompiledModel, sizes: Mapping[str, int], scalars: Mapping[str, float],
                   init: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray,
                   data: str | None) -> tuple[np.ndarray, float, float, dict[str, float]]:
    """``(f (B,), lam, w2, named)`` of one state: the outputs on every datum, the top NTK
    eigenvalue over ``B``, the squared norm, and :meth:`SymbolicGD.named` at the first datum."""
    fam = SymbolicGD(cm, sizes, scalars, _batch(cm, init, 1), X, y, data)
    with np.errstate(all="ignore"):
        obs = fam.observe(slice(0, 1), True, True, False, None)
        f = fam._steps.pop(0)[1][0] + fam.y
        named = fam.named()
    assert obs.lam is not None
    return f, float(obs.lam[0]), float(obs.w2[0]), named


def train_symbolic(cm: CompiledModel, sizes: Mapping[str, int], scalars: Mapping[str, float],
                   init: Mapping[str, np.ndarray], X: np.ndarray, y: np.ndarray, data: str | None,
                   eta: np.ndarray | float, cfg: GDConfig,
                   test: tuple[np.ndarray, np.ndarray] | None = None) -> GDResult:
    """GD from ``init`` (one array per parameter block) for every rate in ``eta`` at once."""
    eta = np.atleast_1d(check_rates(eta))
    fam = SymbolicGD(cm, sizes, scalars, _batch(cm, init, eta.size), X, y, data, test)
    return run_gd(fam, eta.reshape(-1), cfg)
