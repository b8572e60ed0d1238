"""``ntk-bound-quadratic-bias``: lam <= |φ|² + ζ² λ_max(ψ²) Q with the modified norm
Q = |θ|² + (θ_φ·φ)²/|φ|², on one datum.

lam = |φ|² + ζ² θ_ψᵀψ²θ_ψ (derived), Rayleigh on the ψ block, and
|θ_ψ|² <= Q (the rest of Q is a sum of squares); attained with θ_φ = 0 and θ_ψ
in the top eigenspace of ψ². Dropping the |φ|² term leaves a remainder the
certificate cannot sign.
"""

from ._ntk import ntk_bound_theorem

ID = "ntk-bound-quadratic-bias"


def theorem(model: str | None = None):
    return ntk_bound_theorem(ID, "quadratic-bias", "feature", "quadratic-bias",
                             "lam <= phi2 + zeta^2 lambda_max(psi^2) Q for the quadratic model with bias on one datum",
                             ("one datum",))
