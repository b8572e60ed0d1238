"""The :class:`ModelFamily` record: one per family, the protocol every interface uses."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from ..symbolic import BoundSpec, SymbolicModel, bound_catalog
from ._params import KGrid, add_arguments, add_k_grid, from_namespace, k_of

__all__ = ["Derive", "Instantiation", "ModelFamily", "Outcome", "PlotRequest", "Realised"]


@dataclass(frozen=True, kw_only=True)
class Derive:
    """The parameters of ``derive`` beyond ``--format`` (none by default)."""


@dataclass(frozen=True)
class Realised:
    """A data matrix computed from the parameters, never drawn: ``diag(σ'(z))`` of the
    column ``z`` that ``word`` gives (its factors ``(name, transposed)``, multiplied right to
    left), slope 1 where ``z > 0`` and the scalar ``slope`` elsewhere (``default`` when the
    model has no such scalar)."""

    name: str
    word: tuple[tuple[str, bool], ...]
    slope: str = "a"
    default: Fraction = Fraction(0)


@dataclass(frozen=True)
class Instantiation:
    """How a family's symbols take numbers in the realisable states of the testing layer
    (:func:`catapult_theory.testing.model_states`): the range of its scalars, scalars fixed
    by the dimensions, and data it realises from the parameters (an activation pattern)."""

    #: scalar name -> (low, high) of its values
    scalar_ranges: Mapping[str, tuple[Fraction, Fraction]] = field(default_factory=dict)
    #: scalar name -> its exact value from the dimensions (by name)
    fixed: Mapping[str, Callable[[Mapping[str, int]], sp.Expr]] = field(default_factory=dict)
    #: the data matrices computed from the parameters, in order
    realised: tuple[Realised, ...] = ()


@dataclass(frozen=True)
class PlotRequest:
    """What a phase diagram of a sweep shows: the sweep, its title and its panels
    (``None``: the diagram's defaults). The command line draws it (``--plot``)."""

    sweep: Any
    title: str
    panels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Outcome:
    """What ``run`` and ``phases`` return: the JSON payload, the text form and, for a
    sweep, what its phase diagram shows."""

    payload: dict[str, Any]
    text: str
    plot: PlotRequest | None = None


class ModelFamily:
    """Everything about one model family, found in one place.

    A family given only as symbols (a model registered with
    :func:`catapult_theory.symbolic.register`) is a plain record: ``derive`` and ``prove``.
    A family with numbers sets :attr:`Run` and :attr:`Phases` (frozen dataclasses of
    parameters, :mod:`._params`) and implements :meth:`setup`, :meth:`memory`,
    :meth:`run` and :meth:`phases`; every interface (the command line, a grid cell, a
    report section) calls those, with parameters, never flags.

    Parameters
    ----------
    name
        Registry name (``"uv"``, ...), the same in every command.
    help
        One line for ``catapult models`` and ``--help``.
    model
        Builder of the family's :class:`SymbolicModel` (its symbols).
    data_specs
        The ``--data`` specs the family accepts, with their meaning.
    report_section
        Name of the ``catapult reproduce`` section that covers the family.
    generic_theorems
        The generic theorems (``catapult prove``) checked for this family by default.
    theorems
        The family's own theorems (``catapult prove`` ids).
    samplers
        The proofs' independent numeric samplers of the family (``"step"``: one-datum GD
        steps, ``"batch"``: many-data steps), by the names the proofs give them.
    instantiation
        How its symbols take numbers in the testing layer's realisable states.
    """

    #: parameters of ``derive`` (beyond ``--format``), ``run`` and ``phases`` (``None``: no such command)
    Derive: type = Derive
    Run: type | None = None
    Phases: type | None = None
    #: formats of ``derive``
    derive_formats: Sequence[str] = ("text", "latex", "python", "json", "markdown")

    def __init__(self, name: str, help: str, model: Callable[[], SymbolicModel], *,
                 data_specs: Mapping[str, str] | None = None, report_section: str | None = None,
                 generic_theorems: Sequence[str] | None = None, theorems: Sequence[str] = (),
                 samplers: Mapping[str, str] | None = None, instantiation: Instantiation | None = None) -> None:
        self.name = name
        self.help = help
        self.model = model
        self.data_specs: Mapping[str, str] = dict(data_specs or {})
        self.report_section = report_section
        self._generic = None if generic_theorems is None else tuple(generic_theorems)
        self.theorems: tuple[str, ...] = tuple(theorems)
        self.samplers: Mapping[str, str] = dict(samplers or {})
        self.instantiation = instantiation or Instantiation()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # ------------------------------------------------------------------ what the family has
    @property
    def symbols_only(self) -> bool:
        """True for a family given only as symbols (no numeric engine: no run/phases)."""
        return self.Run is None and self.Phases is None

    def commands(self) -> tuple[str, ...]:
        """``derive`` always; ``run`` and ``phases`` where the family has numbers."""
        return ("derive",) + (("run",) if self.Run is not None else ()) + (("phases",) if self.Phases is not None
                                                                           else ())

    def params(self, command: str) -> type:
        """The parameter dataclass of ``command``."""
        cls = {"derive": self.Derive, "run": self.Run, "phases": self.Phases}.get(command)
        if cls is None:
            from ..errors import InvalidInput

            raise InvalidInput(f"the {self.name} family has no {command} command")
        return cls

    @property
    def constants(self) -> Mapping[sp.Symbol, Callable[[Any], float]]:
        """Numeric providers of the bound catalogue's data-dependent constants,
        ``symbol -> provider(setup) -> float`` (none for a family given as symbols)."""
        return {}

    @property
    def generic_theorems(self) -> tuple[str, ...]:
        """The generic theorems checked for this family by default: as its record says, or
        from its derived theory (``linear-onset`` always; the weight-norm lemma and its
        decrease for a degree-2 homogeneous model; the NTK bound with an operator relation)."""
        if self._generic is not None:
            return self._generic
        from ..symbolic import theory

        th = theory(self.name)
        return (("linear-onset",) + (("weight-norm-identity", "weight-norm-decrease") if th.homogeneous else ())
                + (("ntk-bound",) if th.K is not None else ()))

    @property
    def hypotheses(self) -> Mapping[str, Any]:
        """The family's own bound hypotheses by bound name (a heuristic's, a bound outside the
        catalogue: :class:`~catapult_theory.experiments.BoundHypotheses`); the catalogue's
        bounds state theirs."""
        return {}

    def bound_hypotheses(self) -> dict[str, Any]:
        """The hypotheses of every bound the family reports: the catalogue's, then its own."""
        from ..experiments import catalogue_hypotheses

        out = {name: catalogue_hypotheses(self.name, name) for name in self.bounds()}
        out.update(self.hypotheses)
        return out

    def bounds(self) -> dict[str, BoundSpec]:
        """The family's bounds from the symbolic catalogue (empty if it declares none)."""
        try:
            return bound_catalog(self.name)
        except ValueError:
            return {}

    # ------------------------------------------------------------------ the protocol
    def derive(self, params: Any, fmt: str) -> tuple[Any, str]:
        """``(json payload, text)`` of the derived theory in format ``fmt``."""
        from ._derive import derive_payload

        return derive_payload(self.name, fmt)

    def memory(self, command: str, params: Any, num: int = 1) -> list[Any]:
        """The arrays ``command`` will hold with ``params`` (``num``: the points of the ``k``
        grid), as :class:`catapult_theory.resources.Need` records estimated before anything
        is allocated. Trajectories are counted at their first
        :data:`~catapult_theory.engine.INITIAL_ROWS` rows: they grow as a run goes, each
        growth checked against the same limit."""
        return []

    def run(self, params: Any) -> Outcome:
        """``run``: train a finite model at one ``k``."""
        raise NotImplementedError

    def phases(self, params: Any, k: KGrid) -> Outcome:
        """``phases``: a phase diagram on the grid ``k``."""
        raise NotImplementedError

    def execute(self, command: str, params: Any, k: KGrid | None = None, what: str | None = None) -> Outcome:
        """``run`` or ``phases`` after the memory check: :meth:`memory` against the limit of
        this process (:class:`InvalidInput` naming ``what`` above it), so every caller (the
        command line, a grid cell) refuses the same runs."""
        from ..resources import check_memory

        check_memory(self.memory(command, params, k.num if k is not None else 1),
                     what or f"catapult {command} {self.name}")
        if command == "run":
            return self.run(params)
        assert k is not None
        return self.phases(params, k)

    # ------------------------------------------------------------------ flags
    def add_arguments(self, command: str, parser: argparse.ArgumentParser) -> None:
        """The flags of ``command``: one per parameter; ``phases`` adds the ``k`` grid
        (before ``--steps``)."""
        cls = self.params(command)
        if command == "phases":
            add_arguments(parser, cls, before="steps", insert=add_k_grid)
        else:
            add_arguments(parser, cls)

    def from_arguments(self, command: str, args: argparse.Namespace) -> tuple[Any, KGrid | None]:
        """The parameters (and, for ``phases``, the ``k`` grid) of parsed flags."""
        params = from_namespace(self.params(command), args)
        return params, (k_of(args) if command == "phases" else None)

    def parse(self, command: str, argv: Sequence[Any]) -> tuple[Any, KGrid | None]:
        """The parameters of ``catapult COMMAND NAME ARGV`` (flags as text), without running it."""
        from ._params import FlagParser

        parser = FlagParser(prog=f"catapult {command} {self.name}")
        self.add_arguments(command, parser)
        return self.from_arguments(command, parser.parse_args([str(a) for a in argv]))
