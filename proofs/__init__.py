"""Machine-checked proofs of the theorems of the catapult study.

One module per theorem; a proof is an ordered list of named steps
(:class:`Step`), each an ``identity`` (simplifies to 0 with the sizes
symbolic), an ``inequality`` (a certificate SymPy verifies) or a ``logical``
step (bookkeeping only, labelled so), most with a numeric cross-check on the
package's compiled maps or on real finite models. Proofs read every formula
from :mod:`catapult_theory.symbolic` (the lemma, update maps, thresholds and
the bound catalogue's premises); nothing is retyped here.

Theorem ids (a contract):

* family theorems: ``uv-map``, ``ntk-bound-uv``, ``ntk-bound-pure-quadratic``,
  ``ntk-bound-omega``, ``ntk-bound-quadratic-bias``, ``ntk-bound-two-layer``,
  ``catapult-window-uv``, ``catapult-window-pure-quadratic``,
  ``catapult-window-quadratic-bias``, ``catapult-window-two-layer``,
  ``closure-converse``;
* generic theorems, for any registered model family (a family added at run time
  with :func:`catapult_theory.symbolic.register` included): ``linear-onset``,
  ``weight-norm-identity``, ``weight-norm-decrease``, ``ntk-bound`` (when the
  family's gradient map has an operator relation).

``prove()`` runs them; ``catapult prove`` is the command line. This package is
shipped in the wheel beside ``catapult_theory`` (import name ``proofs``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Iterable, Sequence

from catapult_theory.errors import InvalidInput
from ._core import KINDS, Outcome, ProofResult, Step, StepResult, Theorem, run_theorem
from ._format import FORMATS, render
from ._sources import inject

__all__ = [
    "FAMILY_THEOREMS",
    "FORMATS",
    "GENERIC_THEOREMS",
    "KINDS",
    "Outcome",
    "ProofResult",
    "Step",
    "StepResult",
    "Theorem",
    "THEOREM_IDS",
    "inject",
    "prove",
    "render",
    "run_theorem",
    "theorems",
]

#: family theorem id -> module
FAMILY_THEOREMS: dict[str, str] = {
    "uv-map": "uv_map",
    "ntk-bound-uv": "ntk_bound_uv",
    "ntk-bound-pure-quadratic": "ntk_bound_pure_quadratic",
    "ntk-bound-omega": "ntk_bound_omega",
    "ntk-bound-quadratic-bias": "ntk_bound_quadratic_bias",
    "ntk-bound-two-layer": "ntk_bound_two_layer",
    "catapult-window-uv": "catapult_window_uv",
    "catapult-window-pure-quadratic": "catapult_window_pure_quadratic",
    "catapult-window-quadratic-bias": "catapult_window_quadratic_bias",
    "catapult-window-two-layer": "catapult_window_two_layer",
    "closure-converse": "closure_converse",
}

#: generic theorem id -> (module, the built-in families it is run for by default)
GENERIC_THEOREMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "linear-onset": ("linear_onset", ("uv", "pure-quadratic", "quadratic-bias", "two-layer")),
    "weight-norm-identity": ("weight_norm_identity", ("uv", "pure-quadratic", "two-layer")),
    "weight-norm-decrease": ("weight_norm_decrease", ("uv", "pure-quadratic", "two-layer")),
    "ntk-bound": ("ntk_bound", ("uv",)),
}

#: every theorem id, in the order of the study
THEOREM_IDS: tuple[str, ...] = (
    "uv-map", "linear-onset", "weight-norm-identity", "weight-norm-decrease",
    "ntk-bound", "ntk-bound-uv", "ntk-bound-pure-quadratic", "ntk-bound-omega", "ntk-bound-quadratic-bias",
    "ntk-bound-two-layer", "catapult-window-uv", "catapult-window-pure-quadratic",
    "catapult-window-quadratic-bias", "catapult-window-two-layer", "closure-converse",
)


def _module(name: str):
    return import_module(f"{__name__}.{name}")


def theorems(ids: Iterable[str] | None = None, models: Sequence[str] | None = None) -> list[Theorem]:
    """The theorems to run.

    ``ids``: theorem ids (default: all). ``models``: model families; generic
    theorems run for each of them (default: their built-in families), family
    theorems only when their family is among them. An unknown id or model raises
    ``ValueError`` naming it.
    """
    from catapult_theory.symbolic import MODELS

    ids = list(THEOREM_IDS if ids is None else ids)
    unknown = [i for i in ids if i not in FAMILY_THEOREMS and i not in GENERIC_THEOREMS]
    if unknown:
        raise InvalidInput(f"unknown theorem {unknown[0]!r}; known: {', '.join(THEOREM_IDS)}")
    if models is not None:
        bad = [m for m in models if m not in MODELS]
        if bad:
            raise InvalidInput(f"unknown model {bad[0]!r}; known: {', '.join(sorted(MODELS))}")
    out: list[Theorem] = []
    for i in ids:
        if i in GENERIC_THEOREMS:
            mod, default = GENERIC_THEOREMS[i]
            for m in (default if models is None else models):
                out.append(_module(mod).theorem(m))
        else:
            th = _module(FAMILY_THEOREMS[i]).theorem()
            if models is None or th.model in models:
                out.append(th)
    return out


def prove(ids: Iterable[str] | None = None, models: Sequence[str] | None = None,
          progress=None) -> list[ProofResult]:
    """Run the theorems (see :func:`theorems`); ``progress(label)`` is called
    before each one."""
    results = []
    for th in theorems(ids, models):
        if progress is not None:
            progress(th.label)
        results.append(run_theorem(th))
    return results
