"""Small Markdown helpers for the report."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["md_table", "fmt_num", "fmt_tol", "image", "figure", "figure_stem", "cell", "math"]


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


def figure_stem(link: str) -> str:
    """The file stem of a figure link (``figures/uv_phases.png`` -> ``uv_phases``): its anchor."""
    return link.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def figure(link: str | None, alt: str, caption: str) -> list[str]:
    """Lines of a numbered figure: an anchor ``fig-STEM``, the image with its ``alt`` text
    and a caption line ``*Figure {fig:STEM}. caption*`` (numbered when the report is
    assembled); none without a link. ``alt`` is plain text, ``caption`` may hold formulas."""
    if not link:
        return []
    stem = figure_stem(link)
    return [f'<a id="fig-{stem}"></a>', "", f"![{alt}]({link})", "", f"*Figure {{fig:{stem}}}. {caption}*", ""]


_MATH_SPAN = re.compile(r"(\$[^$]*\$)")


def cell(text: str) -> str:
    """``text`` for a Markdown table cell: a ``|`` outside formulas is escaped."""
    parts = _MATH_SPAN.split(text)
    return "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))


def math(tex: str) -> str:
    """An inline formula: ``$tex$``."""
    return f"${tex}$"
