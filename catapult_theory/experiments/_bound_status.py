"""Is a reported bound rigorous, and do its hypotheses hold for this run?

Every ``k_max`` the experiments report comes with a status
``{"rigorous": bool, "theorem": str | None, "hypotheses_hold": bool, "why": str}``:

* ``rigorous`` is true exactly when a theorem of ``catapult prove`` proves the
  bound's window: ``theorem`` is its id (the symbolic bound catalogue's
  ``BoundSpec.theorem``; ``relu-one-datum`` for the two-layer ``relu_uv``
  value, which is not a catalogue bound: on one datum inactive ReLU units are
  frozen, the active ones follow the uv law, units dying only lower ``lam``,
  so for d = 1 no divergence below ``k = 4``). The many-data bounds ``omega``
  and ``data`` and the three-layer ``degree3`` window have no window theorem and
  are not rigorous.
* ``hypotheses_hold``: every bound is proven for ``y = 0`` (all training
  labels exactly zero); the single-datum ones also for one datum (``B = 1``),
  the two-layer ``single`` window for a slope ``a != 1`` (``a = 1`` is the
  linear net), and ``relu_uv`` for ReLU (``a = 0``) and ``d = 1``. The
  heuristics (``effective``, ``naive``) borrow an argument with the same
  hypotheses and are checked the same way - but they are not bounds even when
  those hold.
* ``why`` says which hypotheses the bound needs and which of them fail here
  (or, for a bound that is not rigorous, why).
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
    #: proven for a slope other than 1 only (the two-layer window; a = 1 is the linear net)
    not_linear: bool = False
    #: proven for one input dimension only (d = 1)
    one_dimensional: bool = False
    #: where a bound outside the symbolic catalogue comes from, and the theorem proving it (None: not rigorous)
    origin: str = ""
    theorem_outside_catalogue: str | None = None
    outside_catalogue: bool = False


def catalogue_hypotheses(model: str, name: str) -> BoundHypotheses | None:
    """The hypotheses of a bound of the symbolic catalogue, as the catalogue states them
    (``one datum`` and ``a != 1`` among its ``hypotheses``); ``None`` for a bound outside it."""
    try:
        spec = bound_specs(model).get(name)
    except ValueError:  # a family without a catalogue
        return None
    if spec is None:
        return None
    return BoundHypotheses(one_datum="one datum" in spec.hypotheses, not_linear="a != 1" in spec.hypotheses)


def _theorem(model: str, name: str, hyp: BoundHypotheses) -> str | None:
    """The id of the theorem proving the bound's window, if any."""
    if hyp.outside_catalogue:  # a bound outside the symbolic catalogue names its theorem itself
        return hyp.theorem_outside_catalogue
    specs = bound_specs(model)
    if name not in specs:  # pragma: no cover - every table entry is one or the other
        raise ValueError(f"{model} bound {name!r} is neither in the catalogue nor labelled")
    spec = specs[name]
    if spec.rigorous != (spec.theorem is not None):  # pragma: no cover - the catalogue keeps them together
        raise ValueError(f"{model} bound {name!r}: rigorous={spec.rigorous} but theorem={spec.theorem}")
    return spec.theorem


def _status(model: str, name: str, y: np.ndarray, B: int, slope: float | None,
            dim: int | None, hypotheses: Mapping[str, BoundHypotheses] | None) -> dict[str, Any]:
    hyp = (hypotheses or {}).get(name) or catalogue_hypotheses(model, name)
    if hyp is None:
        raise InvalidInput(f"no hypotheses recorded for the {model} bound {name!r}")
    theorem = _theorem(model, name, hyp)
    rigorous = theorem is not None
    needs = ((["one datum (B = 1)"] if hyp.one_datum else []) + (["ReLU (a = 0)"] if hyp.relu else [])
             + (["a slope a != 1"] if hyp.not_linear else []) + (["d = 1"] if hyp.one_dimensional else [])
             + ["y = 0"])
    failed = []
    if not np.all(y == 0):
        failed.append(f"this data has labels y != 0 (max |y| = {float(np.max(np.abs(y))):.4g})")
    if hyp.one_datum and B != 1:
        failed.append(f"this data has B = {B} points")
    if hyp.relu or hyp.not_linear:
        if slope is None:
            raise ValueError(f"the {model} bound {name!r} needs the slope a")
        if hyp.relu and slope != 0:
            failed.append(f"this net has slope a = {slope:g}")
        if hyp.not_linear and slope == 1:
            failed.append("this net has slope a = 1 (the linear net: the uv window applies)")
    if hyp.one_dimensional:
        if dim is None:
            raise ValueError(f"the {model} bound {name!r} needs the input dimension d")
        if dim != 1:
            failed.append(f"this data has d = {dim} (the window is then 4 lam_0/(K N_0) <= 4)")
    hold = not failed
    listed = needs[0] if len(needs) == 1 else ", ".join(needs[:-1]) + " and " + needs[-1]
    holds_here = "which holds here" if len(needs) == 1 else "all of which hold here"
    if rigorous:
        proven = f"proven ({theorem}) for {listed}" + (" only" if len(needs) == 1 else "")
        why = f"{proven}, {holds_here}" if hold else f"{proven}; {'; '.join(failed)}"
    elif hyp.not_a_bound:
        why = (f"heuristic, not a bound: it {hyp.not_a_bound}; the argument it borrows assumes {listed}, "
               + (holds_here if hold else "but " + "; ".join(failed)))
    else:
        note = "" if hyp.outside_catalogue else bound_specs(model)[name].note
        note = note.removeprefix("not rigorous: ") or "no theorem proves its window"
        why = (f"not rigorous: {note}; the argument assumes {listed}, "
               + (holds_here if hold else "but " + "; ".join(failed)))
    if hyp.origin:
        why += f" ({hyp.origin})"
    return {"rigorous": rigorous, "theorem": theorem, "hypotheses_hold": hold, "why": why}


def bound_status(
    model: str, names: Iterable[str], y: Any, B: int, slope: float | None = None, dim: int | None = None,
    hypotheses: Mapping[str, BoundHypotheses] | None = None,
) -> dict[str, dict[str, Any]]:
    """``name -> {"rigorous", "theorem", "hypotheses_hold", "why"}`` for the bounds
    ``names`` of ``model``, on training labels ``y`` (all of them; a scalar for one
    datum), ``B`` training points and, for the two-layer values, slope ``slope``
    and input dimension ``dim``; ``hypotheses``: the family's own hypotheses by bound
    name (a heuristic's, a bound outside the catalogue); the others are the catalogue's
    (:func:`catalogue_hypotheses`)."""
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if B < 1:
        raise InvalidInput(f"B must be positive, got {B}")
    return {name: _status(model, name, y, int(B), slope, dim, hypotheses) for name in names}
