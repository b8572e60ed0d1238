"""Model families, each one object from symbols to report.

A :class:`ModelFamily` joins, in one place per family, everything the package
knows about it: its symbolic declaration (a :class:`~catapult_theory.symbolic.SymbolicModel`
builder), its bounds (the family's part of the symbolic bound catalogue), the
numeric providers of the catalogue's data-dependent constants (keyed by SymPy
symbol), its data specs, its CLI face, its report section and its Hypothesis
strategies.

There is one registry: :func:`families` lists the built-in families (an explicit
list, :data:`BUILTIN`) and then every family registered with
:func:`catapult_theory.symbolic.register` as symbols only (those support the
commands that need only symbols: ``derive`` and ``prove``). Registering never
hides a built-in.
"""

from ._family import BUILTIN, ModelFamily, families, get_family
from ._file import clear_compiled, file_model_name, is_model_file, load_model_file, register_model_file

__all__ = ["BUILTIN", "ModelFamily", "families", "get_family", "clear_compiled", "file_model_name", "is_model_file",
           "load_model_file", "register_model_file"]
