"""report.html: the Markdown report as one self-contained page (figures embedded)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["markdown_to_html"]

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1.5em; line-height: 1.5; color: #1b1b1b; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
code { background: #f4f4f4; padding: 0 .2em; border-radius: 3px; }
pre { background: #f4f4f4; padding: .8em; overflow-x: auto; }
blockquote { border-left: 4px solid #c33; margin: 1em 0; padding: .2em 1em; background: #fff4f4; }
"""

_IMG = re.compile(r'(<img\b[^>]*\bsrc=")([^"]+)(")')


def _embed(match: re.Match[str], folder: Path) -> str:
    src = html.unescape(match.group(2))
    path = folder / src
    if src.startswith(("data:", "http:", "https:")) or not path.is_file():
        return match.group(0)
    kind = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"{match.group(1)}data:{kind};base64,{data}{match.group(3)}"


def markdown_to_html(text: str, folder: Path, title: str = "catapult_theory report") -> str:
    """``text`` (the report's Markdown) as a standalone HTML page; images under
    ``folder`` are embedded as data URIs, so the page needs no other file."""
    import markdown

    body = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    body = _IMG.sub(lambda m: _embed(m, folder), body)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
