"""The bridge from symbols to numbers.

Every formula the numeric engine uses is derived in :mod:`catapult_theory.symbolic`
and turned into a NumPy function here, once per process
(``sympy.lambdify(..., cse=True)`` over NumPy, :func:`lambdify_numpy`, behind
``functools.lru_cache``).
Nothing numeric is typed a second time.
"""

from ._model import CompiledModel, Word, compiled_model
from ._lambdify import (
    CompiledMap,
    SpectralMaps,
    compile_expr,
    lambdify_numpy,
    spectral_maps,
    threshold,
    update_map,
)

__all__ = ["CompiledModel", "Word", "compiled_model", "CompiledMap", "SpectralMaps", "compile_expr", "lambdify_numpy", "spectral_maps", "threshold", "update_map"]
