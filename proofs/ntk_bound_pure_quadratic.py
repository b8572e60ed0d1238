"""``ntk-bound-pure-quadratic``: lam <= ζ² λ_max(ψ²) |θ|² on one datum.

lam = ζ² θᵀψ²θ (read off the derived gradient of lam) and the Rayleigh quotient;
attained with θ in the top eigenspace of ψ².
"""

from ._ntk import ntk_bound_theorem

ID = "ntk-bound-pure-quadratic"


def theorem(model: str | None = None):
    return ntk_bound_theorem(ID, "pure-quadratic", "single", "pure-quadratic",
                             "lam <= zeta^2 lambda_max(psi^2) w2 for the pure quadratic model on one datum",
                             ("one datum",))
