"""Machine-checked proofs of the theorems of the catapult study.

A proof is data (:class:`Theorem`, :class:`Step`): every step states a claim
(a SymPy relation) and how it is proved (:class:`Identity`,
:class:`Certificate`, :class:`Chain`, :class:`Induction`, :class:`Cases`,
:class:`Axiom`, :class:`Iterate`). One small kernel (:mod:`proofs._kernel`)
checks exactly the printed claims; an SMT solver checks every identity and
inequality step again; what stays assumed is the short list of
:data:`AXIOMS`, and every theorem lists the axioms it used. Proofs read every
formula from :mod:`catapult_theory.symbolic`; nothing is retyped here.

Theorem ids (a contract):

* family theorems: ``uv-map``, ``ntk-bound-uv``, ``ntk-bound-pure-quadratic``,
  ``ntk-bound-omega``, ``ntk-bound-quadratic-bias``, ``ntk-bound-two-layer``,
  ``catapult-window-uv``, ``catapult-window-pure-quadratic``,
  ``catapult-window-quadratic-bias``, ``catapult-window-two-layer``,
  ``closure-converse``;
* generic theorems, for any registered model family (a family added at run time
  with :func:`catapult_theory.symbolic.register` included): ``linear-onset``,
  ``weight-norm-identity``, ``weight-norm-decrease``, ``ntk-bound``.

``prove()`` runs them; ``catapult prove`` is the command line, and
``catapult prove FILE`` checks a proof of your own (:func:`load_proof_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Callable, Iterable, Sequence

from catapult_theory.errors import InvalidInput
from ._kernel import (Always, Axiom, Cases, Certificate, Chain, Definition, Identity, Induction, Iterate,
                      KernelError, Step, Theorem, Trajectory, Use)
from ._runner import Outcome, ProofResult, StepResult, run_theorem as _run_theorem
from ._format import FORMATS, formula, render, symbol_latex
from ._sources import inject
from .axioms import AXIOMS

__all__ = [
    "AXIOMS", "Always", "Axiom", "Cases", "Certificate", "Chain", "Definition", "FAMILY_THEOREMS", "FORMATS",
    "GENERIC_THEOREMS", "default_families", "family_of", "formula", "symbol_latex", "Identity", "Induction", "Iterate", "KernelError", "Outcome", "Planned", "ProofResult",
    "Step", "StepResult", "Theorem", "THEOREM_IDS", "Trajectory", "Use", "inject", "load_proof_file", "prove",
    "render", "run_theorem", "theorems", "coq_result", "coq_status",
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
    "divergence-shift-uv": "divergence_shift_uv",
    "peak-law-uv": "peak_law_uv",
    "relu-one-datum": "relu_one_datum",
}

#: generic theorem id -> module (the built-in families each runs for by default: :func:`default_families`)
GENERIC_THEOREMS: dict[str, str] = {
    "linear-onset": "linear_onset",
    "weight-norm-identity": "weight_norm_identity",
    "weight-norm-decrease": "weight_norm_decrease",
    "ntk-bound": "ntk_bound",
}


def default_families(tid: str) -> tuple[str, ...]:
    """The built-in families a generic theorem runs for by default: those whose record lists
    it (:attr:`catapult_theory.families.ModelFamily.generic_theorems`)."""
    from catapult_theory.families import BUILTIN

    return tuple(f.name for f in BUILTIN() if tid in f.generic_theorems)


def family_of(tid: str) -> str:
    """The family a family theorem is about: the one whose record lists it."""
    from catapult_theory.families import BUILTIN

    for f in BUILTIN():
        if tid in f.theorems:
            return f.name
    raise KeyError(f"no family lists the theorem {tid!r}")

#: every theorem id, in the order of the study
THEOREM_IDS: tuple[str, ...] = (
    "uv-map", "linear-onset", "weight-norm-identity", "weight-norm-decrease",
    "ntk-bound", "ntk-bound-uv", "ntk-bound-pure-quadratic", "ntk-bound-omega", "ntk-bound-quadratic-bias",
    "ntk-bound-two-layer", "catapult-window-uv", "catapult-window-pure-quadratic",
    "catapult-window-quadratic-bias", "catapult-window-two-layer", "closure-converse", "divergence-shift-uv",
    "peak-law-uv", "relu-one-datum",
)


@dataclass(frozen=True)
class Planned:
    """A theorem to run: its id, model, and the function that builds its proof."""

    id: str
    model: str
    generic: bool
    build: Callable[[], Theorem]

    @property
    def label(self) -> str:
        return f"{self.id}[{self.model}]" if self.generic else self.id


def _module(name: str):
    return import_module(f"{__name__}.{name}")


def _planned(tid: str, model: str | None) -> Planned:
    if tid in GENERIC_THEOREMS:
        mod = GENERIC_THEOREMS[tid]
        m = model or default_families(tid)[0]
        return Planned(tid, m, True, lambda: _module(mod).theorem(m))
    mod = FAMILY_THEOREMS[tid]
    return Planned(tid, family_of(tid), False, lambda: _module(mod).theorem())


def _from_label(label: str) -> Planned | None:
    if "[" in label and label.endswith("]"):
        tid, model = label[:-1].split("[", 1)
        return _planned(tid, model) if tid in GENERIC_THEOREMS else None
    if label in FAMILY_THEOREMS:
        return _planned(label, None)
    return None


def theorems(ids: Iterable[str] | None = None, models: Sequence[str] | None = None) -> list[Planned]:
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
    out: list[Planned] = []
    for i in ids:
        if i in GENERIC_THEOREMS:
            for m in (default_families(i) if models is None else models):
                out.append(_planned(i, m))
        elif models is None or family_of(i) in models:
            out.append(_planned(i, None))
    return out


def _cited(th: Theorem) -> list[str]:
    out = []
    for st in th.steps:
        refs = list(st.uses) + ([st.by.ref] if isinstance(st.by, Iterate) else [])
        for ref in refs:
            name = ref.name if isinstance(ref, Use) else str(ref)
            if name.startswith("theorem:") and name[len("theorem:"):] not in out:
                out.append(name[len("theorem:"):])
    return out


_COQ: dict = {}


def coq_result():
    """Coq's verdict on proofs/coq/ (compiled once per process), or ``None`` when
    coqc with Coquelicot is not installed (:func:`coq_status` says why)."""
    from . import _coq

    if "result" not in _COQ:
        _COQ["result"] = _coq.check() if _coq.coqc_available() else None
    return _COQ["result"]


def coq_status() -> str:
    """One line: what Coq checked, or why it was not run."""
    from . import _coq

    res = coq_result()
    if res is None:
        return f"Coq was not run: {_coq.coq_missing_reason()}"
    return res.summary().splitlines()[0]


class _Session:
    """Proves theorems once each, the theorems they cite first."""

    def __init__(self, smt: bool = True, coq: bool = True):
        self.smt = smt
        self.coq = coq
        self.done: dict[str, tuple] = {}
        self.results: dict[str, ProofResult] = {}
        self.active: list[str] = []

    def run(self, planned: Planned) -> ProofResult:
        label = planned.label
        if label in self.results:
            return self.results[label]
        self.active.append(label)
        try:
            try:
                th = planned.build()
            except Exception as exc:  # a proof that cannot be built is not proved, with the reason
                import traceback

                res = ProofResult(planned.id, planned.model, "", (), (), "failed", (), 0.0,
                                  "could not build the proof: "
                                  + traceback.format_exception_only(type(exc), exc)[-1].strip(),
                                  generic=planned.generic)
                self.results[label] = res
                return res
            for dep in _cited(th):
                if dep in self.done or dep in self.active:
                    continue
                p = _from_label(dep)
                if p is not None:
                    self.run(p)
            coq = coq_result() if self.coq and any(st.coq for st in th.steps) else None
            res = _run_theorem(th, {k: v for k, v in self.done.items()}, smt=self.smt, model=planned.model,
                               coq=coq)
            self.results[label] = res
            from ._kernel import TheoremVerdict

            self.done[label] = (th, res, TheoremVerdict(label, res.proved, [], "", res.hypotheses, res.axioms))
            return res
        finally:
            self.active.pop()


def prove(ids: Iterable[str] | None = None, models: Sequence[str] | None = None,
          progress: Callable[[str], None] | None = None, smt: bool = True, coq: bool = True) -> list[ProofResult]:
    """Run the theorems (see :func:`theorems`), with the theorems they cite;
    ``progress(label)`` is called before each requested one. With ``coq`` (and
    coqc installed) the conclusions Coq also proves are marked ``coq``."""
    session = _Session(smt, coq)
    out = []
    for p in theorems(ids, models):
        if progress is not None:
            progress(p.label)
        out.append(session.run(p))
    return out


def run_theorem(th: Theorem | Planned, smt: bool = True, coq: bool = True) -> ProofResult:
    """Check one theorem (a :class:`Theorem`, or a :class:`Planned` one from
    :func:`theorems`), proving first the theorems it cites."""
    session = _Session(smt, coq)
    if isinstance(th, Planned):
        return session.run(th)
    for dep in _cited(th):
        p = _from_label(dep)
        if p is not None:
            session.run(p)
    return _run_theorem(th, dict(session.done), smt=smt)


def load_proof_file(path) -> Theorem:
    """The ``theorem`` a Python file defines (see :mod:`proofs._userfile`)."""
    from ._userfile import load

    return load(path)
