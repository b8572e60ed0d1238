"""Numeric engine: exact reduced maps, full-parameter GD, phase labels."""

from ._maps import iterate_map
from ._trajectory import Phase, PhaseCriteria, Trajectory, blown_up, classify
from ._uv import UVState, train_uv, uv_init, uv_observables

__all__ = [
    "Phase",
    "PhaseCriteria",
    "Trajectory",
    "blown_up",
    "classify",
    "iterate_map",
    "UVState",
    "train_uv",
    "uv_init",
    "uv_observables",
]
