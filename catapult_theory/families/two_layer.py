"""Two-layer homogeneous nets ``f(x) = Σ_i v_i σ(u_i·x) / √(n d)`` (leaky slope ``a``)."""

from __future__ import annotations

from ..symbolic.models.two_layer import two_layer_model
from ._family import Lazy, ModelFamily, lazy_function

__all__ = ["TWO_LAYER"]


def _cli():
    from ..cli import TwoLayerFamily

    return TwoLayerFamily()


TWO_LAYER = ModelFamily(
    name="two-layer",
    help="two-layer net f = sum_i v_i sigma(u_i.x)/sqrt(n d), leaky slope a in [0, 1]",
    model=two_layer_model,
    cli=_cli,
    constants=Lazy(".experiments", "TWO_LAYER_CONSTANTS"),
    data_specs={"toy": "one datum x = 1, y = 0",
                "digits01": "scikit-learn's 8x8 digits, 0 vs 1, 128 training images, labels +-1"},
    report_section="two-layer",
    strategies={"problems": lazy_function(".testing", "two_layer_problems")},
)
