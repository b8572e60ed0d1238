"""catapult_theory: a symbolic-numeric companion for the catapult phase of gradient descent.

Layers (each importable on its own):

* :mod:`catapult_theory.symbolic` - SymPy derivations: one GD step of a model given
  as matrix symbols (width stays symbolic), update maps, thresholds, the
  weight-norm lemma, bounds, and export (text, LaTeX, Python, JSON);
* :mod:`catapult_theory.compiled` - those formulas lambdified once to NumPy;
* :mod:`catapult_theory.engine` - exact maps and full-parameter GD, vectorised,
  with phase labels and divergence handled as a result;
* :mod:`catapult_theory.experiments` - runs, sweeps, phase boundaries;
* :mod:`catapult_theory.report`, :mod:`catapult_theory.cli` - figures, the
  ``catapult`` command and ``catapult reproduce``;
* :mod:`catapult_theory.testing` - Hypothesis strategies and falsification helpers;
* :mod:`catapult_theory.display` - how results show in Jupyter (typeset formulas, figures).

``__version__`` below is the one place the version is defined: the build (hatch), ``catapult
--version``, the report's results.json, and the keys of the derivation cache, the report's
cache and the grid's cells read it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

# the Jupyter display of the result classes (standard library only at import; see display_hooks)
from . import display as _display  # noqa: E402,F401
