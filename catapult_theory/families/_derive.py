"""The derived theory of a family in every export format (`catapult derive MODEL|FILE`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["derive_payload"]


def derive_payload(model: str, fmt: str, subs: Mapping[Any, Any] | None = None) -> tuple[Any, str]:
    """``(json payload, text)`` for ``fmt``; for latex/python/markdown the text is the source."""
    from ..symbolic import (
        export_json,
        export_latex,
        export_markdown,
        export_python,
        export_text,
        theory,
    )

    th = theory(model)
    payload = export_json(th, subs)
    if fmt == "latex":
        return payload, export_latex(th, subs)
    if fmt == "python":
        return payload, export_python(th, subs)
    if fmt == "markdown":
        return payload, export_markdown(th, subs)
    return payload, export_text(th, subs)
