"""Three-layer homogeneous nets ``f(x) = vᵀ σ(W2 σ(W1 x)) / (n √d)`` (ReLU MLPs, leaky slope ``a``)."""

from __future__ import annotations

from ..symbolic.models.three_layer import three_layer_model
from ._family import Lazy, ModelFamily

__all__ = ["THREE_LAYER"]


def _cli():
    from ..cli import ThreeLayerFamily

    return ThreeLayerFamily()


THREE_LAYER = ModelFamily(
    name="three-layer",
    help="three-layer net f = v^T sigma(W2 sigma(W1 x))/(n sqrt(d)), leaky slope a in [0, 1] (degree 3)",
    model=three_layer_model,
    cli=_cli,
    constants=Lazy(".experiments", "THREE_LAYER_CONSTANTS"),
    data_specs={"toy": "one datum x = 1, y = 0",
                "digits01": "scikit-learn's 8x8 digits, 0 vs 1, 128 training images, labels +-1",
                "digits:A:B, mnist:A:B, fmnist:A:B, cifar10:A:B[:SIDE]":
                    "two image classes (labels -1, +1), 128 training images; MNIST, Fashion-MNIST and CIFAR-10 "
                    "read from --data-dir or $CATAPULT_DATA_DIR"},
    report_section="sparsity",
)
