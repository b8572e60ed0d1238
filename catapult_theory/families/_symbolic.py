"""The generic numeric family: any model given as symbols, at finite width.

:class:`SymbolicFamily` is the record of a model known only by its
:class:`~catapult_theory.symbolic.SymbolicModel`: a model FILE (``catapult run mine.py``)
or a built-in family written as symbols only (one file in this package and one line in
:data:`~catapult_theory.families.REGISTRY`). Its numbers come from the model's own
expression (:mod:`catapult_theory.experiments._symbolic`): ``--width`` sets ``n``,
``--size NAME=INT`` every other dimension (default 1; the data fix their own: ``toy`` is
one datum ``x = X e_1`` in ``R^d``), ``--scalar NAME=VALUE`` the model's own scalars,
N(0, 1) parameters unless the file defines ``init(sizes, rng)``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..data import DATA_HELP, DATA_SPECS
from ..errors import InvalidInput
from ..symbolic import SymbolicModel
from ._family import ModelFamily, Outcome, PlotRequest
from ._params import KGrid, data_spec, finite_float, no_refine_param, nonneg_int, param, positive_float, positive_int
from ._text import bound_lines, boundary_text, fmt, phase_segments, progress

__all__ = ["SymbolicFamily", "SymbolicPhases", "SymbolicRun", "parse_assignments"]

_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*")


def _assignment(kind: Callable[[str], Any], what: str) -> Callable[[str], str]:
    def value_type(text: str) -> str:
        m = _NAME.fullmatch(str(text))
        if m is None:
            raise argparse.ArgumentTypeError(f"expected NAME={what}, got {text!r}")
        kind(m.group(2))
        return f"{m.group(1)}={m.group(2)}"

    value_type.__name__ = f"name_{what.lower()}"
    return value_type


size_value = _assignment(positive_int, "INT")
scalar_value = _assignment(finite_float, "VALUE")


def parse_assignments(items: Sequence[str], kind: Callable[[str], Any], flag: str) -> dict[str, Any]:
    """``("d=3", "m=2")`` as ``{"d": 3, "m": 2}`` (:class:`InvalidInput` for a name given twice)."""
    out: dict[str, Any] = {}
    for item in items:
        m = _NAME.fullmatch(str(item))
        if m is None:
            raise InvalidInput(f"{flag}: expected NAME=VALUE, got {item!r}")
        name = m.group(1)
        if name in out:
            raise InvalidInput(f"{flag} {name} given twice")
        try:
            out[name] = kind(m.group(2))
        except argparse.ArgumentTypeError as exc:
            raise InvalidInput(f"{flag} {item}: {exc}") from None
    return out


_TOY = ("; for a model given as symbols, toy is one datum x = X e_1 in R^d (d from --size), and random:B:D "
        "takes its labels from the same model with N(0, 1) parameters")


@dataclass(frozen=True, kw_only=True)
class _SymbolicModelParams:
    width: int | None = param(None, help="width n (the model's dimension n)", type=positive_int)
    size: tuple[str, ...] = param(help="the size of another dimension of the model, NAME=INT (repeat the flag; "
                                       "default 1; the data fix the dimension of their inputs)",
                                  type=size_value, metavar="NAME=INT", repeat=True)
    scalar: tuple[str, ...] = param(help="the value of one of the model's own scalars, NAME=VALUE (repeat the flag)",
                                    type=scalar_value, metavar="NAME=VALUE", repeat=True)
    data: str = param("toy", help=DATA_HELP + _TOY, type=data_spec, metavar="SPEC")
    data_dir: str | None = param(None, help="folder holding mnist/, fashion-mnist/ and cifar-10-batches-py/ "
                                            "(default: $CATAPULT_DATA_DIR)", metavar="DIR")
    seed: int = param(0, help="seed of the N(0,1) init and the data (default 0)", type=nonneg_int)

    def __post_init__(self) -> None:  # a grid cell's JSON gives lists
        object.__setattr__(self, "size", tuple(self.size))
        object.__setattr__(self, "scalar", tuple(self.scalar))


@dataclass(frozen=True, kw_only=True)
class SymbolicRun(_SymbolicModelParams):
    """``catapult run FILE``: full-parameter GD at one ``k`` beside the derived map."""

    eta_lambda: float = param(help="k = eta * lam0", type=positive_float, metavar="K")
    steps: int = param(help="GD step budget", type=positive_int)
    tol: float | None = param(None, help="stop when the loss changes by less than this in one step (default: run "
                                         "until it settles)", type=positive_float)


@dataclass(frozen=True, kw_only=True)
class SymbolicPhases(_SymbolicModelParams):
    """``catapult phases FILE``: full-parameter GD batched over the ``k`` grid."""

    steps: int = param(2000, help="GD step budget per k (default 2000)", type=positive_int)
    tol: float | None = param(None, help="stop a run when its loss changes by less than this (default: when it "
                                         "settles)", type=positive_float)
    no_refine: bool = no_refine_param()


class SymbolicFamily(ModelFamily):
    """The record of a model given as symbols (module docstring). ``init``: the model file's
    ``init(sizes, rng)`` (``None``: N(0, 1)); ``source``: where it comes from, for the text."""

    Run = SymbolicRun
    Phases = SymbolicPhases

    def __init__(self, name: str, help: str, model: Callable[[], SymbolicModel], *,
                 init: Callable[..., Any] | None = None, source: str | None = None,
                 report_section: str | None = None) -> None:
        super().__init__(name, help, model, data_specs=DATA_SPECS, report_section=report_section)
        self.init = init
        self.source = source

    @classmethod
    def of_file(cls, name: str, entry: Any) -> SymbolicFamily:
        """The record of a loaded model file (:class:`~catapult_theory.families._file.ModelFile`)."""
        desc = ""
        try:
            desc = entry.model().description
        except Exception:  # noqa: BLE001 - a broken description is no reason to refuse the model
            pass
        fam = cls(name, desc or f"model file {entry.path}", entry.model, init=entry.init, source=entry.path)
        fam.file = entry
        return fam

    file: Any = None

    @property
    def hypotheses(self) -> Any:
        """The ``lemma`` window's (:func:`~catapult_theory.experiments.symbolic_hypotheses`)."""
        from ..experiments import symbolic_hypotheses

        return symbolic_hypotheses(self.name)

    # ------------------------------------------------------------------ set-up
    def _values(self, p: Any) -> tuple[dict[str, int], dict[str, float]]:
        return (parse_assignments(p.size, positive_int, "--size"),
                parse_assignments(p.scalar, finite_float, "--scalar"))

    def setup(self, params: Any) -> Any:
        """The model at its sizes, its data and initial state
        (:func:`~catapult_theory.experiments.symbolic_setup`)."""
        from ..experiments import symbolic_setup

        sizes, scalars = self._values(params)
        return symbolic_setup(self.name, params.width, sizes, scalars, params.data, seed=params.seed,
                              init=self.init, data_dir=params.data_dir)

    def memory(self, command: str, params: Any, num: int = 1) -> list[Any]:
        """Parameters, per-datum gradients, the NTK and the words of a step for ``R`` runs at
        once (``num`` rates, or a refinement round), and the trajectories."""
        from ..compiled import compiled_model
        from ..data import parse_data_spec
        from ..engine import INITIAL_ROWS
        from ..experiments import refinement_batch
        from ..resources import Need
        from ..symbolic import MODELS

        p = params
        sizes, _ = self._values(p)
        cm = compiled_model(MODELS[self.name]())
        spec = parse_data_spec(p.data)
        B, D, T = spec.shape()
        dims = {d.name: sizes.get(d.name, 1) for d in cm.dims}
        if "n" in dims and p.width is not None:
            dims["n"] = p.width
        for name in cm.data:  # the data fix the dimension of the data column
            rows = cm.shapes[name][0]
            if getattr(rows, "name", None) in dims and spec.kind != "toy":
                dims[rows.name] = D
        try:
            entries = {name: max(1, cm.shape_of(name, dims)[0] * cm.shape_of(name, dims)[1]) for name in cm.shapes}
        except InvalidInput:
            entries = {}
        P = sum(v for k, v in entries.items() if k in cm.params)
        W = max(entries.values(), default=1)
        R = 1 if command == "run" else (num if p.no_refine else max(num, refinement_batch(2)))
        rows = min(p.steps + 1, INITIAL_ROWS)
        flag = "--width" if R == 1 else "--num or --width"
        return [Need("parameters, their update and step (R x 3 x parameters)", 8.0 * R * 3 * P, flag),
                Need("gradients per datum (R x 2 x B x parameters)", 8.0 * R * 2 * B * P, f"{flag} or --data"),
                Need("the words of a step and the NTK (R x B x (2 x largest matrix + B))",
                     8.0 * R * B * (2 * W + B), f"{flag} or --data"),
                Need("data ((B + test) x d)", 8.0 * (B + T) * max(D, 1), "--data"),
                Need("trajectories (R x 4 series x rows)", 8.0 * R * 4 * rows, "--steps")]

    # ------------------------------------------------------------------ text
    def _describe(self, setup: Any) -> str:
        st = setup.settings
        where = f" (model file {self.source})" if self.source else ""
        sizes = ", ".join(f"{k}={v}" for k, v in st["sizes"].items())
        scalars = "".join(f", {k}={fmt(v)}" for k, v in st["scalars"].items())
        return (f"{self.name}{where}: sizes {sizes or '-'}{scalars}; data {st['data']} (B = {st['B']}, d = {st['d']}, "
                f"test {st['test_size']}), seed {st['seed']}, init {st['init']}")

    def _thresholds(self, setup: Any) -> dict[str, float]:
        """The derived thresholds in ``k = eta lam0`` at the initial state."""
        import numpy as np
        import sympy as sp

        from ..compiled import compile_expr
        from ..symbolic import symbols as S
        from ..symbolic import theory

        values = {**setup.named, "lam": setup.lam0, "w2": setup.w2_0, "y": float(setup.data.y[0])}
        out = {}
        for name, t in theory(self.name).thresholds.items():
            expr = (sp.sympify(t.eta) * S.lam).subs(S.lam, setup.lam0)
            args = sorted(expr.free_symbols, key=str)
            if all(a.name in values for a in args):
                with np.errstate(all="ignore"):
                    out[name] = float(compile_expr(expr, args)(*(values[a.name] for a in args)))
        return out

    def _bound_text(self, bounds: Mapping[str, float], status: Any) -> list[str]:
        if not bounds:
            return ["no bound: the model has no operator relation Psi^3 = K Psi (no K with lam <= K w2)"]
        return ["predicted k_max (bounds):", *bound_lines(bounds, status)]

    # ------------------------------------------------------------------ run and phases
    def run(self, params: Any) -> Outcome:
        """Full-parameter GD at ``k`` beside the derived map (when it closes, on one datum)."""
        from ..experiments import run_symbolic

        p = params
        setup = self.setup(p)
        res = run_symbolic(setup, p.eta_lambda, p.steps, tol=p.tol)
        gd, ref, st = res.gd, res.reference, res.settings
        lines = [
            self._describe(setup),
            f"k = eta*lam0 = {fmt(res.k)}   eta = {fmt(res.eta)}   lam0 = {fmt(res.lam0)}   w2_0 = {fmt(res.w2_0)}"
            f"   steps = {p.steps} (stopped at step {st['stopped_at']}: {st['stop_reason']})",
        ]
        if ref is not None:
            lines.append(f"phase: {res.phase} (GD), {st['map_phase']} (exact map)")
        else:
            why = ("the data have more than one point" if setup.data.B > 1 else
                   "the map of (f, lam, w2) does not close for this model")
            lines.append(f"phase: {res.phase} (GD); no exact map: {why}")

        def stats(t: Any) -> list[str]:
            return [fmt(float(t.peak_loss())), fmt(float(t.final("loss"))), fmt(float(res.eta * t.final("lam"))),
                    fmt(float(t.final("w2") / res.w2_0)),
                    fmt(int(t.diverged_at)) if int(t.diverged_at) >= 0 else "-"]

        names = ["peak loss", "final loss", "final eta*lam", "final w2/w2_0", "diverged at step"]
        if ref is not None:
            lines += ["", f"{'':18s} {'GD':>14s} {'exact map':>14s}"]
            lines += [f"{n:18s} {a:>14s} {b:>14s}" for n, a, b in zip(names, stats(gd), stats(ref))]
            lines += ["", f"max_rel_dev (GD vs exact map) = {res.max_rel_dev:.3e}"]
        else:
            lines += [f"{n}: {v}" for n, v in zip(names, stats(gd))]
        if "test_loss" in gd.extra:
            lines.append(f"final test loss {fmt(float(gd.final('test_loss')))}")
        lines += self._bound_text(res.bounds, res.bound_status)
        return Outcome(res.to_dict(), "\n".join(lines))

    def phases(self, params: Any, k: KGrid) -> Outcome:
        """Phases of full-parameter GD against ``k``, the derived thresholds and the window."""
        from ..experiments import sweep_symbolic

        p = params
        ks = k.values()
        setup = self.setup(p)
        progress(f"{self.name}: GD for {k.num} learning rates, up to {p.steps} steps ...")
        sweep = sweep_symbolic(setup, ks, steps=p.steps, tol=p.tol, refine=not p.no_refine)
        progress("")
        thresholds = self._thresholds(setup)
        payload = sweep.to_dict()
        payload["settings"]["thresholds"] = thresholds
        lines = [
            self._describe(setup),
            f"lam0 = {fmt(setup.lam0)}, w2_0 = {fmt(setup.w2_0)}, f0 = {fmt(setup.f0)}; k from {fmt(k.min)} to "
            f"{fmt(k.max)} ({k.num} points), up to {p.steps} steps",
            "derived thresholds (k = eta*lam0 at the initial state): "
            + (", ".join(f"{n} {fmt(v)}" for n, v in thresholds.items()) or "none"),
            *boundary_text(sweep.boundaries, "grid resolution" if p.no_refine else "bisection"),
            *self._bound_text(sweep.bounds, sweep.bound_status),
            "phases along k:",
        ]
        for lo, hi, ph, cnt in phase_segments(sweep.k, sweep.phase):
            lines.append(f"  k in [{lo:.4g}, {hi:.4g}]: {ph} ({cnt} points)")
        return Outcome(payload, "\n".join(lines), PlotRequest(sweep, self._describe(setup)))
