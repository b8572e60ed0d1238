"""``ntk-bound-two-layer``: one datum, lam <= max(1, a²) x2/(n d) |θ|²; many data,
λ_max(H) <= max(1, a²) λ_max(XᵀX)/(n d B) |θ|².

One datum: per unit Ψ_i³ = s_i² x2/(n d) Ψ_i (derived), Ψ block-diagonal, s_i ∈
{1, a}. Many data: rᵀΘr per unit (derived through rᵀf), Rayleigh and
Cauchy–Schwarz with λ_max(XᵀX), |s∘r|² <= max(1, a²)|r|², the variational form
of λ_max(H). Both are attained (|a| = 1, units parallel to the datum; for data,
B copies of one datum).
"""

from ._bounds import bound_steps
from ._core import Theorem
from . import _sources as src

ID = "ntk-bound-two-layer"


def theorem(model: str | None = None):
    def build():
        one = [s.__class__(**{**s.__dict__, "name": f"single/{s.name}",
                              "uses": tuple(f"single/{u}" for u in s.uses)})
               for s in bound_steps(src.bound("two-layer", "single"), "two-layer")]
        many = [s.__class__(**{**s.__dict__, "name": f"data/{s.name}",
                               "uses": tuple(f"data/{u}" for u in s.uses)})
                for s in bound_steps(src.bound("two-layer", "data"), "two-layer-data")]
        return one + many

    return Theorem(ID, "two-layer", "lam <= max(1,a^2) x2/(n d) w2 (one datum) and lambda_max(H) <= "
                   "max(1,a^2) lambda_max(X^T X)/(n d B) w2 (B data), within and across activation regions",
                   ("any slope a", "one datum / B data"), build)
