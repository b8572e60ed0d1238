"""The NTK-bound theorems: a bound of the catalogue, premise by premise."""

from __future__ import annotations

from ._bounds import bound_steps
from ._core import Theorem
from . import _sources as src

__all__ = ["ntk_bound_theorem"]


def ntk_bound_theorem(id: str, model: str, bound: str, sampler: str, statement: str,
                      hypotheses: tuple[str, ...]) -> Theorem:
    """``lam <= K · norm`` (or ``λ_max(H) <= K w2``) for the catalogue's ``bound``
    of ``model``: each premise checked, composed, and shown tight."""

    def build():
        return bound_steps(src.bound(model, bound), sampler)

    return Theorem(id, model, statement, hypotheses, build)
