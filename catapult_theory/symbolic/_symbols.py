"""The scalar symbols of the public contract.

They carry no assumptions, so that an expression string exported by the
package and read back with :func:`sympy.sympify` gives back the very same
symbols.
"""

from __future__ import annotations

import sympy as sp

f, lam, w2 = sp.symbols("f lam w2")
eta, y, r = sp.symbols("eta y r")
n, x2 = sp.symbols("n x2")

#: the state of a single-datum update map, in order
STATE = (f, lam, w2)
#: symbols an exported update or threshold may contain, for any model
CONTRACT = {s.name: s for s in (f, lam, w2, eta, y, n, x2)}

__all__ = ["f", "lam", "w2", "eta", "y", "r", "n", "x2", "STATE", "CONTRACT"]
