"""Experiments: runs, sweeps, phase boundaries and the study's figures."""

from ._boundaries import first_transition, refine_boundaries, refine_boundary
from ._results import PhaseSweep, RunResult, jsonable, max_rel_dev
from ._uv import UVSetup, run_uv, sweep_map, sweep_uv, uv_datum, uv_setup, uv_window

__all__ = [
    "PhaseSweep",
    "RunResult",
    "UVSetup",
    "first_transition",
    "jsonable",
    "max_rel_dev",
    "refine_boundaries",
    "refine_boundary",
    "run_uv",
    "sweep_map",
    "sweep_uv",
    "uv_datum",
    "uv_setup",
    "uv_window",
]
