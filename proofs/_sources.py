"""What the proofs read from the symbolic layer, and the test-only fault hook.

Proofs never retype a formula: they take the lemma, the update maps,
thresholds, operator relations and the bound catalogue from
:mod:`catapult_theory.symbolic` through the accessors here. :func:`inject`
(for tests only) perturbs what these accessors return - the lemma's constant,
a bound's constant ``K``, one premise of a bound, or a theorem's hypothesis -
so that a test can show that exactly the affected theorems fail, at the
expected step, without editing the shipped proofs.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any, Iterator

import sympy as sp

from catapult_theory.symbolic import LEMMA_CONSTANT, lemma_increment as _lemma_increment
from catapult_theory.symbolic import theory as _theory
from catapult_theory.symbolic import bound_catalog as _bounds
from catapult_theory.symbolic import BoundSpec, Premise

__all__ = ["inject", "lemma_increment", "lemma_constant", "lemma_constant_for", "theory", "bound", "hypotheses", "active_faults"]

_FAULTS: dict[str, Any] = {}


@contextlib.contextmanager
def inject(
    lemma_constant: object | None = None,
    scale_K: tuple[str, str, object] | None = None,
    premise: tuple[str, str, str, sp.Basic] | None = None,
    drop_hypothesis: tuple[str, str] | None = None,
    override: tuple[str, str, dict] | None = None,
) -> Iterator[None]:
    """Test-only: run proofs against a deliberately wrong symbolic layer.

    ``lemma_constant``: the 4 of ``Δ|θ|² = η r (η lam r − 4 f)`` replaced;
    ``scale_K=(model, bound, factor)``: that bound's ``K`` (and its NTK inequality)
    multiplied by ``factor``; ``premise=(model, bound, name, relation)``: that
    premise's relation replaced; ``drop_hypothesis=(theorem, hypothesis)``: a
    hypothesis of a theorem removed; ``override=(model, bound, {field: value})``:
    fields of that bound replaced (its ``ntk`` inequality, its ``k_max``, ...).
    """
    saved = dict(_FAULTS)
    if lemma_constant is not None:
        _FAULTS["lemma_constant"] = sp.sympify(lemma_constant)
    if scale_K is not None:
        _FAULTS["scale_K"] = scale_K
    if premise is not None:
        _FAULTS["premise"] = premise
    if drop_hypothesis is not None:
        _FAULTS["drop_hypothesis"] = drop_hypothesis
    if override is not None:
        _FAULTS["override"] = override
    try:
        yield
    finally:
        _FAULTS.clear()
        _FAULTS.update(saved)


def active_faults() -> dict[str, object]:
    """The faults in force (empty outside :func:`inject`)."""
    return dict(_FAULTS)


def lemma_constant() -> sp.Expr:
    return sp.sympify(_FAULTS.get("lemma_constant", LEMMA_CONSTANT))


def lemma_increment(lam: sp.Expr | None = None, f: sp.Expr | None = None, degree: int = 2) -> sp.Expr:
    """The weight-norm lemma's statement ``η r (η lam r − 2p f)`` for a model
    homogeneous of degree ``p`` (``4`` for p = 2, from the symbolic layer)."""
    from catapult_theory.symbolic import symbols as S

    return _lemma_increment(S.lam if lam is None else lam, S.f if f is None else f,
                            lemma_constant_for(degree))


def lemma_constant_for(degree: int) -> sp.Expr:
    """The lemma's constant ``2p`` for degree ``p`` (the injected 4 scaled by p/2)."""
    return sp.nsimplify(lemma_constant() * sp.Rational(degree, 2))


def theory(model: str):
    return _theory(model)


def bound(model: str, name: str) -> BoundSpec:
    """A bound of the catalogue, with any injected fault applied."""
    spec = _bounds(model)[name]
    fault = _FAULTS.get("scale_K")
    if fault is not None and fault[:2] == (model, name):
        factor = sp.sympify(fault[2])
        norm = spec.norm_symbol
        ntk = spec.ntk
        if ntk is not None:
            ntk = ntk.func(ntk.lhs, ntk.rhs.subs(norm, factor * norm))
        spec = replace(spec, K=spec.K * factor, ntk=ntk)
    fault = _FAULTS.get("override")
    if fault is not None and fault[:2] == (model, name):
        spec = replace(spec, **fault[2])
    fault = _FAULTS.get("lemma_constant")
    if fault is not None:
        premises = tuple(replace(p, relation=p.relation.func(p.relation.lhs, lemma_increment()))
                         if p.name == "lemma" else p for p in spec.premises)
        spec = replace(spec, premises=premises)
    fault = _FAULTS.get("premise")
    if fault is not None and fault[:2] == (model, name):
        pname, rel = fault[2], fault[3]
        if pname not in [p.name for p in spec.premises]:
            raise KeyError(f"bound {model}/{name} has no premise {pname!r}")
        premises = tuple(replace(p, relation=rel) if p.name == pname else p for p in spec.premises)
        spec = replace(spec, premises=premises)
    return spec


def premise(spec: BoundSpec, name: str) -> Premise:
    for p in spec.premises:
        if p.name == name:
            return p
    raise KeyError(f"bound {spec.model}/{spec.name} has no premise {name!r}")


def hypotheses(theorem: str, declared: dict[str, Any]) -> dict[str, Any]:
    """A theorem's hypotheses (name -> what it states), less a dropped one."""
    fault = _FAULTS.get("drop_hypothesis")
    if fault is not None and fault[0] == theorem:
        return {k: v for k, v in declared.items() if k != fault[1]}
    return dict(declared)
