"""Small Markdown helpers for the report."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["md_table", "fmt_num", "fmt_tol", "image"]


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def fmt_num(x: float | None, d: int = 4) -> str:
    """``d`` significant digits, ``-`` for a missing or non-finite number."""
    return "-" if x is None or not np.isfinite(x) else f"{x:.{d}g}"


def fmt_tol(x: float) -> str:
    """A tolerance as written by hand: ``1e-08 -> 1e-8``, ``0.005 -> 0.005``."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{x:g}").replace("e+", "e")


def image(alt: str, link: str | None) -> list[str]:
    """Lines of a Markdown image and the blank line after it; none without a link."""
    return [f"![{alt}]({link})", ""] if link else []
