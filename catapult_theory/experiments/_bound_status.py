"""Is a reported bound rigorous, and do its hypotheses hold for this run?

Every ``k_max`` the experiments report comes with a status
``{"rigorous": bool, "hypotheses_hold": bool, "why": str}``:

* ``rigorous`` is the symbolic bound catalogue's flag
  (:func:`catapult_theory.symbolic.bound_catalog`), except for the two-layer
  ``relu_uv`` value, which is not a catalogue bound but the argument of
  THEORY §6 (one datum, ReLU: inactive units are frozen, the active ones follow
  the uv law exactly, units dying only lower ``lam``, so no divergence below
  the uv threshold ``k = 4``); it is rigorous under its own hypotheses, and
  since the uv threshold is ``4`` only for ``y = 0`` (with labels it moves
  below 4, THEORY §6 first bullet), those are one datum, ``a = 0`` and ``y = 0``.
* ``hypotheses_hold``: every bound is proven for ``y = 0`` (all training
  labels exactly zero); the single-datum ones (uv ``lemma``, ``single``,
  ``feature``, two-layer ``single``, ``relu_uv``) also for one datum
  (``B = 1``), and ``relu_uv`` for ReLU (``a = 0``). The heuristics
  (``effective``, ``naive``) borrow an argument with the same hypotheses and
  are checked the same way - but they are not bounds even when those hold.
* ``why`` says which hypotheses the bound needs and which of them fail here
  (or, for a heuristic, why it is not a bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import InvalidInput
from ..symbolic import bound_catalog as bound_specs

__all__ = ["BoundHypotheses", "bound_status", "catalogue_hypotheses"]


@dataclass(frozen=True)
class BoundHypotheses:
    """What a bound is proven for, and (for a heuristic) why it is not a bound."""

    #: proven for one datum only (``B = 1``)
    one_datum: bool = False
    #: proven for ReLU only (slope ``a = 0``)
    relu: bool = False
    #: for a heuristic: why it is not a bound (empty for a rigorous bound)
    not_a_bound: str = ""
    #: where a bound outside the symbolic catalogue comes from, and whether it is rigorous
    origin: str = ""
    rigorous_outside_catalogue: bool | None = None


def catalogue_hypotheses(model: str, name: str) -> BoundHypotheses | None:
    """The hypotheses of a bound of the symbolic catalogue, as the catalogue states them
    (``one datum`` among its ``hypotheses``); ``None`` for a bound outside it."""
    try:
        spec = bound_specs(model).get(name)
    except ValueError:  # a family without a catalogue
        return None
    return None if spec is None else BoundHypotheses(one_datum="one datum" in spec.hypotheses)


def _rigorous(model: str, name: str, hyp: BoundHypotheses) -> bool:
    if hyp.rigorous_outside_catalogue is not None:  # a bound outside the symbolic catalogue says itself
        return hyp.rigorous_outside_catalogue
    specs = bound_specs(model)
    if name not in specs:  # pragma: no cover - every table entry is one or the other
        raise ValueError(f"{model} bound {name!r} is neither in the catalogue nor labelled")
    return bool(specs[name].rigorous)


def _status(model: str, name: str, y: np.ndarray, B: int, slope: float | None,
            hypotheses: Mapping[str, BoundHypotheses] | None) -> dict[str, Any]:
    hyp = (hypotheses or {}).get(name) or catalogue_hypotheses(model, name)
    if hyp is None:
        raise InvalidInput(f"no hypotheses recorded for the {model} bound {name!r}")
    rigorous = _rigorous(model, name, hyp)
    needs = (["one datum (B = 1)"] if hyp.one_datum else []) + (["ReLU (a = 0)"] if hyp.relu else []) + ["y = 0"]
    failed = []
    if not np.all(y == 0):
        failed.append(f"this data has labels y != 0 (max |y| = {float(np.max(np.abs(y))):.4g})")
    if hyp.one_datum and B != 1:
        failed.append(f"this data has B = {B} points")
    if hyp.relu:
        if slope is None:
            raise ValueError(f"the {model} bound {name!r} needs the slope a")
        if slope != 0:
            failed.append(f"this net has slope a = {slope:g}")
    hold = not failed
    listed = needs[0] if len(needs) == 1 else ", ".join(needs[:-1]) + " and " + needs[-1]
    holds_here = "which holds here" if len(needs) == 1 else "all of which hold here"
    if rigorous:
        proven = f"proven for {listed}" + (" only" if len(needs) == 1 else "")
        why = f"{proven}, {holds_here}" if hold else f"{proven}; {'; '.join(failed)}"
    else:
        why = (f"heuristic, not a bound: it {hyp.not_a_bound}; the argument it borrows assumes {listed}, "
               + (holds_here if hold else "but " + "; ".join(failed)))
    if hyp.origin:
        why += f" ({hyp.origin})"
    return {"rigorous": rigorous, "hypotheses_hold": hold, "why": why}


def bound_status(
    model: str, names: Iterable[str], y: Any, B: int, slope: float | None = None,
    hypotheses: Mapping[str, BoundHypotheses] | None = None,
) -> dict[str, dict[str, Any]]:
    """``name -> {"rigorous", "hypotheses_hold", "why"}`` for the bounds ``names`` of
    ``model``, on training labels ``y`` (all of them; a scalar for one datum),
    ``B`` training points and, for the two-layer ReLU value, slope ``slope``;
    ``hypotheses``: the family's own hypotheses by bound name (a heuristic's, a bound outside
    the catalogue); the others are the catalogue's (:func:`catalogue_hypotheses`)."""
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if B < 1:
        raise InvalidInput(f"B must be positive, got {B}")
    return {name: _status(model, name, y, int(B), slope, hypotheses) for name in names}
