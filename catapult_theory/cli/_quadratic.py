"""`catapult derive|run|phases pure-quadratic|quadratic-bias`."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import Family
from ._derive_common import derive_payload

__all__ = ["PureQuadraticFamily", "QuadraticBiasFamily"]


class PureQuadraticFamily(Family):
    name = "pure-quadratic"
    help = "pure quadratic model f = (zeta/2) theta^T psi(x) theta"

    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        return derive_payload(self.name, args.format)


class QuadraticBiasFamily(PureQuadraticFamily):
    name = "quadratic-bias"
    help = "quadratic model with bias f = theta_phi.phi(x) + (zeta/2) theta_psi^T psi(x) theta_psi"
