"""``ntk-bound-uv``: lam <= (x2/n) |θ|² for the uv model on one datum (any d).

From the operator relation Ψ³ = (x2/n) Ψ of the gradient map Ψθ = ∇f, the
spectrum of Ψ² lies in {0, x2/n}; lam = θᵀΨ²θ and the Rayleigh quotient give
the bound, attained for d = 1.
"""

from ._ntk import ntk_bound_theorem

ID = "ntk-bound-uv"


def theorem(model: str | None = None):
    return ntk_bound_theorem(ID, "uv", "lemma", "uv", "lam <= (x2/n) w2 for the uv model on one datum",
                             ("one datum",))
