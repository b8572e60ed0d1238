"""A proof of your own: a Python file that defines ``theorem``.

``catapult prove FILE`` loads the file (running its code, as pytest runs a
conftest.py) and checks the :class:`~proofs.Theorem` bound to the name
``theorem`` with the same kernel and solver as the shipped proofs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from catapult_theory.errors import InvalidInput

from ._kernel import Theorem

__all__ = ["load"]


def load(path) -> Theorem:
    """The ``theorem`` that ``path`` defines; ``InvalidInput`` (one line) when the
    file cannot be read or run, or defines no :class:`~proofs.Theorem`."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"proof file {str(p)!r}: no such file")
    name = f"_catapult_user_proof_{abs(hash(str(p.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"proof file {str(p)!r}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise InvalidInput(f"proof file {str(p)!r}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        line = str(exc).splitlines()[0] if str(exc) else ""
        raise InvalidInput(f"proof file {str(p)!r}: running it raised {type(exc).__name__}: {line}") from None
    finally:
        sys.modules.pop(name, None)
    th = getattr(module, "theorem", None)
    if not isinstance(th, Theorem):
        got = "nothing" if th is None else type(th).__name__
        raise InvalidInput(f"proof file {str(p)!r}: `theorem` must be a proofs.Theorem, got {got}")
    return th
