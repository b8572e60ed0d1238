"""`catapult derive|run|phases two-layer`."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import Family, unit_interval
from ._derive_common import derive_payload

__all__ = ["TwoLayerFamily"]


class TwoLayerFamily(Family):
    name = "two-layer"
    help = "two-layer net f = sum_i v_i sigma(u_i.x)/sqrt(n d), leaky slope a in [0, 1]"

    def add_derive_args(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--slope", type=unit_interval, default=None, metavar="A",
                       help="fix the negative-side slope a in [0, 1] (default: keep a symbolic)")

    def derive(self, args: argparse.Namespace) -> tuple[Any, str]:
        from ..symbolic.models.two_layer import a

        subs = {a: args.slope} if args.slope is not None else None
        return derive_payload(self.name, args.format, subs)
