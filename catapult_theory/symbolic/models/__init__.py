"""Model families, each declared as SymPy objects (see :mod:`.._derive`)."""

from __future__ import annotations

from .uv import uv_model

__all__ = ["uv_model"]
