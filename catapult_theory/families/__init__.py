"""Model families, each one record from symbols to numbers.

A :class:`ModelFamily` joins, in one place per family (``families/<name>.py``), everything
the package knows about it: its symbols (a :class:`~catapult_theory.symbolic.SymbolicModel`
builder), the parameters of each command (frozen dataclasses, :mod:`._params`), data
parsing, set-up, memory estimate, run and sweep, and its bounds with their constants.
Every interface (the command line, a grid cell, a report section, the testing
strategies, the proofs' numeric checks) takes the record; none keeps a table keyed by a
family's name. A model FILE becomes the same record through a generic numeric family
built from its symbols (:mod:`._file`).

There is one registry (:mod:`._registry`): :func:`families` lists the built-in families
(:data:`REGISTRY`, one line each), the model files of the command, then every family
registered with :func:`catapult_theory.symbolic.register` as symbols only (``derive`` and
``prove``). Registering never hides a built-in.
"""

from ._family import Derive, Instantiation, ModelFamily, Outcome, PlotRequest, Realised
from ._file import (ModelFile, clear_compiled, ensure_model_file, file_digest, file_model_name, forget_model_file, is_model_file,
                    load_model_file, model_file, register_model_file, registry_scope)
from ._params import (KGrid, add_arguments, add_k_grid, convert, data_spec, finite_float, FlagParser, flag_of, k_grid,
                      nonneg_int, param, param_fields, positive_float, positive_int, unit_interval)
from ._registry import BUILTIN, REGISTRY, families, get_family
from ._symbolic import SymbolicFamily, SymbolicPhases, SymbolicRun
from ._text import bound_lines, bound_marker, boundary_text, fmt, phase_segments, progress

__all__ = ["BUILTIN", "REGISTRY", "Derive", "Instantiation", "Realised", "FlagParser", "KGrid", "ModelFamily", "ModelFile", "Outcome", "PlotRequest",
           "SymbolicFamily", "SymbolicPhases", "SymbolicRun", "ensure_model_file", "file_digest", "registry_scope", "forget_model_file", "model_file",
           "add_arguments", "add_k_grid", "bound_lines", "bound_marker", "boundary_text", "clear_compiled",
           "convert", "data_spec", "families", "file_model_name", "finite_float", "flag_of", "fmt", "get_family",
           "is_model_file", "k_grid", "load_model_file", "nonneg_int", "param", "param_fields", "phase_segments",
           "positive_float", "positive_int", "progress", "register_model_file", "unit_interval"]
