"""Numeric engine: exact reduced maps, full-parameter GD through one driver, phase labels."""

from ._driver import GDConfig, GDFamily, GDResult, Observation, StopReason, run_gd
from ._eig import NTKSolver, TopEigSolver, serial_blas, top_eig
from ._maps import iterate_map
from ._quadratic import (
    NTK, QuadraticModel, QuadraticParams, QuadraticSpec, SpectralState, features, merge_eigenvalues, meta_features,
    ntk, parse_distribution, quadratic_gradient, quadratic_init, quadratic_model, quadratic_output, spectral_state,
    train_quadratic, train_spectral, rng_stream, TEST_CHUNK_BYTES, TEST_STACK_BYTES,
)
from ._trajectory import INITIAL_ROWS, Phase, recorded_bytes, StepRecorder, PhaseCriteria, Trajectory, blown_up, classify, linear_stability_edge, rose
from ._two_layer import (
    SupervisedData, TwoLayerObservables, TwoLayerRun, TwoLayerState, train_two_layer, two_layer_init,
    two_layer_ntk, two_layer_observables, two_layer_output,
)
from ._uv import UVState, train_uv, uv_init, uv_observables
from ._symbolic import SymbolicGD, symbolic_state, train_symbolic
from ._three_layer import (
    ThreeLayerObservables, ThreeLayerRun, ThreeLayerState, three_layer_init, three_layer_ntk, three_layer_observables,
    three_layer_output, train_three_layer,
)

__all__ = ["NTK", "NTKSolver", "QuadraticModel", "QuadraticParams", "QuadraticSpec", "SpectralState", "features",
    "merge_eigenvalues", "meta_features", "ntk", "parse_distribution", "quadratic_gradient", "quadratic_init",
    "quadratic_model", "quadratic_output", "spectral_state", "train_quadratic", "train_spectral", "Phase",
    "PhaseCriteria", "Trajectory", "blown_up", "classify", "iterate_map", "linear_stability_edge", "rose", "serial_blas",
    "SupervisedData", "TopEigSolver", "TwoLayerObservables", "TwoLayerRun", "TwoLayerState", "train_two_layer",
    "two_layer_init", "two_layer_ntk", "two_layer_observables", "two_layer_output", "UVState", "train_uv", "uv_init",
    "uv_observables", "INITIAL_ROWS", "recorded_bytes", "TEST_CHUNK_BYTES", "TEST_STACK_BYTES", "StepRecorder", "GDConfig", "GDFamily", "GDResult", "Observation", "StopReason", "run_gd", "top_eig", "rng_stream",
    "ThreeLayerObservables", "ThreeLayerRun", "ThreeLayerState", "three_layer_init", "three_layer_ntk",
    "three_layer_observables", "three_layer_output", "train_three_layer", "SymbolicGD",
    "symbolic_state", "train_symbolic"]
