"""Experiments: runs, sweeps, phase boundaries and the study's figures."""

from ._digits import DIGITS_INSTALL_HINT, Dataset, digits01, toy_data
from ._two_layer import (
    TWO_LAYER_CONSTANTS,
    TwoLayerSetup,
    run_two_layer,
    sweep_two_layer,
    sweep_two_layer_run,
    two_layer_bounds,
    two_layer_image_setup,
    two_layer_setup,
)
from ._bound_status import BoundHypotheses, bound_status, catalogue_hypotheses
from ._quadratic import QUADRATIC_HYPOTHESES
from ._three_layer import THREE_LAYER_HYPOTHESES
from ._two_layer import TWO_LAYER_HYPOTHESES
from ._images import DATA_DIR_ENV, IMAGE_SPEC_FORMS, ImageSpec, image_data, is_image_spec, kernel_difficulty
from ._images import parse_image_spec, resolve_data_dir
from ..data import DATA_FORMS, DATA_HELP, DataSpec, parse_data_spec
from ._data import load_data, named_data
from ._three_layer import (
    THREE_LAYER_CONSTANTS,
    ThreeLayerSetup,
    run_three_layer,
    sweep_three_layer,
    three_layer_bound_status,
    three_layer_bounds,
    three_layer_setup,
)
from ._boundaries import (
    REFINE_POINTS,
    BoundaryMap,
    final_values,
    first_transition,
    refine_boundaries,
    refine_boundary,
    refine_brackets,
    refinement_batch,
)
from ._bound_eval import Providers, evaluate_bounds
from ._quadratic import (
    QUADRATIC_CONSTANTS,
    QuadraticSetup,
    quadratic_bounds,
    quadratic_setup,
    run_quadratic,
    sweep_quadratic,
)
from ._quadratic_data import data_dimension, quadratic_data, teacher_params
from ._results import PhaseSweep, RunResult, jsonable, max_rel_dev
from ._symbolic import (SymbolicSetup, run_symbolic, symbolic_bounds, symbolic_hypotheses, symbolic_setup,
                        sweep_symbolic)
from ._uv import UV_CONSTANTS, UVSetup, run_uv, sweep_map, sweep_uv, uv_datum, uv_setup, uv_state, uv_window
from ._uv import w2_at_bound

__all__ = [
    "BoundHypotheses",
    "catalogue_hypotheses",
    "QUADRATIC_HYPOTHESES",
    "THREE_LAYER_HYPOTHESES",
    "TWO_LAYER_HYPOTHESES",
    "SymbolicSetup",
    "run_symbolic",
    "symbolic_bounds",
    "symbolic_hypotheses",
    "symbolic_setup",
    "sweep_symbolic",
    "DATA_FORMS",
    "DATA_HELP",
    "DataSpec",
    "DIGITS_INSTALL_HINT",
    "load_data",
    "parse_data_spec",
    "Providers",
    "QUADRATIC_CONSTANTS",
    "TWO_LAYER_CONSTANTS",
    "UV_CONSTANTS",
    "evaluate_bounds",
    "bound_status",
    "Dataset",
    "TwoLayerSetup",
    "digits01",
    "run_two_layer",
    "sweep_two_layer",
    "toy_data",
    "two_layer_bounds",
    "two_layer_setup",
    "QuadraticSetup",
    "quadratic_bounds",
    "quadratic_data",
    "data_dimension",
    "quadratic_setup",
    "run_quadratic",
    "sweep_quadratic",
    "teacher_params",
    "PhaseSweep",
    "RunResult",
    "UVSetup",
    "first_transition",
    "BoundaryMap",
    "REFINE_POINTS",
    "final_values",
    "refinement_batch",
    "refine_brackets",
    "jsonable",
    "max_rel_dev",
    "refine_boundaries",
    "refine_boundary",
    "run_uv",
    "sweep_map",
    "sweep_uv",
    "uv_datum",
    "uv_setup",
    "uv_state",
    "uv_window",
    "w2_at_bound",
    "DATA_DIR_ENV",
    "IMAGE_SPEC_FORMS",
    "ImageSpec",
    "image_data",
    "is_image_spec",
    "kernel_difficulty",
    "named_data",
    "parse_image_spec",
    "resolve_data_dir",
    "two_layer_image_setup",
    "THREE_LAYER_CONSTANTS",
    "ThreeLayerSetup",
    "run_three_layer",
    "sweep_three_layer",
    "sweep_two_layer_run",
    "three_layer_bound_status",
    "three_layer_bounds",
    "three_layer_setup",
]
