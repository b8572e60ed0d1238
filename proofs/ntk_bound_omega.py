"""``ntk-bound-omega``: λ_max(H) <= (ζ²/B) λ_max(Σ_a ψ_a²) |θ|² on B data.

rᵀΘr = ζ²|Σ_a r_a ψ_a θ|² (derived through rᵀf), Cauchy–Schwarz, the Rayleigh
quotient of Σ_a ψ_a² (the top eigenvalue of the block matrix Ω), and the
variational form of λ_max(H); attained for B copies of one datum with θ in the
top eigenspace of ψ².
"""

from ._ntk import ntk_bound_theorem

ID = "ntk-bound-omega"


def theorem(model: str | None = None):
    return ntk_bound_theorem(ID, "pure-quadratic", "omega", "omega",
                             "lambda_max(H) <= (zeta^2/B) lambda_max(sum_a psi_a^2) w2 for the pure quadratic "
                             "model on B data", ("B data, any labels (the bound on H holds for every state)",))
