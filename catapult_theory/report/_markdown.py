"""Small Markdown helpers for the report."""

from __future__ import annotations

import numpy as np

__all__ = ["md_table", "fmt_num"]


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def fmt_num(x, d: int = 4) -> str:
    """``d`` significant digits, ``-`` for a missing or non-finite number."""
    return "-" if x is None or not np.isfinite(x) else f"{x:.{d}g}"
