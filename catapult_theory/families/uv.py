"""The uv model ``f(x) = vᵀ U x / √n``: symbols, bounds, constants, data, CLI, report, strategies."""

from __future__ import annotations

from ..symbolic.models import uv_model
from ._family import Lazy, ModelFamily, lazy_function

__all__ = ["UV"]


def _cli():
    from ..cli import UVFamily

    return UVFamily()


UV = ModelFamily(
    name="uv",
    help="uv model f(x) = v^T U x / sqrt(n)",
    model=uv_model,
    cli=_cli,
    constants=Lazy(".experiments", "UV_CONSTANTS"),
    data_specs={"x = |x| e_1, target y": "one datum: the first basis vector of R^d scaled by --x-norm, label --y"},
    report_section="uv",
    strategies={"problems": lazy_function(".testing", "uv_problems")},
)
