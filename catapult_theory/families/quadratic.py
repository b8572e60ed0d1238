"""Quadratic models: the pure quadratic model and the quadratic model with bias."""

from __future__ import annotations

from ..symbolic.models.quadratic import pure_quadratic_model, quadratic_bias_model
from ._family import Lazy, ModelFamily, lazy_function

__all__ = ["PURE_QUADRATIC", "QUADRATIC_BIAS"]

_DATA = {
    "toy": "one datum x = 1, y = 0",
    "random:B:D": "teacher-student: B training points in R^D, x ~ U[-1/2, 1/2], labels from a teacher of the "
                  "same model, with a test set",
}


def _pure_cli():
    from ..cli import PureQuadraticFamily

    return PureQuadraticFamily()


def _bias_cli():
    from ..cli import QuadraticBiasFamily

    return QuadraticBiasFamily()


PURE_QUADRATIC = ModelFamily(
    name="pure-quadratic",
    help="pure quadratic model f = (zeta/2) theta^T psi(x) theta",
    model=pure_quadratic_model,
    cli=_pure_cli,
    constants=Lazy(".experiments", "QUADRATIC_CONSTANTS"),
    data_specs=_DATA,
    report_section="quadratic",
    strategies={"problems": lazy_function(".testing", "quadratic_problems")},
)

QUADRATIC_BIAS = ModelFamily(
    name="quadratic-bias",
    help="quadratic model with bias f = theta_phi.phi(x) + (zeta/2) theta_psi^T psi(x) theta_psi",
    model=quadratic_bias_model,
    cli=_bias_cli,
    constants=Lazy(".experiments", "QUADRATIC_CONSTANTS"),
    data_specs=_DATA,
    report_section="quadratic",
)
