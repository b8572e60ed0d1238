"""report.html and certificate.html: the Markdown as one self-contained page, figures
embedded, formulas typeset.

Formulas are LaTeX between ``$ ... $`` (inline) or ``$$ ... $$`` (display) in the
Markdown. Before the Markdown is parsed each formula is set aside (so no ``*`` or
``_`` inside one becomes emphasis and no ``|`` ends a table cell), and afterwards
it comes back as MathML, generated here by latex2mathml: the page needs no script,
no font and no network to show it. Code spans and code blocks are left as they are.
A figure (an image followed by its ``Figure N.`` caption line) becomes a
``<figure>`` with its ``<figcaption>``.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["markdown_to_html", "split_math", "latex_to_mathml"]

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1.5em; line-height: 1.5; color: #1b1b1b; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; display: block; overflow-x: auto;
        max-width: 100%; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
figure { margin: 1.2em 0; } figcaption { font-size: 0.92em; color: #333; margin-top: .3em; }
code { background: #f4f4f4; padding: 0 .2em; border-radius: 3px; }
pre { background: #f4f4f4; padding: .8em; overflow-x: auto; white-space: pre-wrap; }
blockquote { border-left: 4px solid #c33; margin: 1em 0; padding: .2em 1em; background: #fff4f4; }
math { font-size: 1.05em; }
.math-display { overflow-x: auto; margin: .6em 0; }
table.summary td { font-size: 0.9em; }
"""

_IMG = re.compile(r'(<img\b[^>]*\bsrc=")([^"]+)(")')

#: a formula set aside while the Markdown is parsed (letters only: no Markdown meaning)
_TOKEN = "XQMATHX{}XQMATHX"
_TOKEN_RE = re.compile(r"XQMATHX(\d+)XQMATHX")
#: fenced code blocks and code spans, which keep any ``$`` they hold
_CODE = re.compile(r"^(```|~~~).*?^\1[ \t]*$|`[^`\n]+`", re.S | re.M)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])((?:\\\$|[^$\n])+?)(?<![\s\\])\$(?!\d)")


def split_math(text: str) -> tuple[str, list[tuple[str, bool]]]:
    """``text`` with every formula outside code replaced by a token, and the formulas
    (LaTeX, display or not) in token order."""
    found: list[tuple[str, bool]] = []

    def keep(tex: str, display: bool) -> str:
        found.append((tex.strip(), display))
        return _TOKEN.format(len(found) - 1)

    def outside_code(chunk: str) -> str:
        chunk = _DISPLAY.sub(lambda m: keep(m.group(1), True), chunk)
        return _INLINE.sub(lambda m: keep(m.group(1), False), chunk)

    out, pos = [], 0
    for m in _CODE.finditer(text):
        out += [outside_code(text[pos:m.start()]), m.group(0)]
        pos = m.end()
    out.append(outside_code(text[pos:]))
    return "".join(out), found


def latex_to_mathml(tex: str, display: bool = False) -> str:
    """The MathML of one LaTeX formula (``ValueError`` if latex2mathml cannot read it)."""
    from latex2mathml.converter import convert

    try:
        return convert(tex.replace(r"\vert", "|"), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises its own exception types
        raise ValueError(f"cannot typeset the formula {tex!r}: {exc}") from exc


def _typeset(tex: str, display: bool) -> str:
    """MathML of a formula; one latex2mathml cannot read stays visible as its LaTeX source
    (``<code class="tex-unread">``: a report is never lost to one formula; the tests
    require that none is left)."""
    try:
        return latex_to_mathml(tex, display)
    except ValueError:
        return f'<code class="tex-unread">{html.escape(tex)}</code>'


def _embed(match: re.Match[str], folder: Path) -> str:
    src = html.unescape(match.group(2))
    path = folder / src
    if src.startswith(("data:", "http:", "https:")) or not path.is_file():
        return match.group(0)
    kind = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"{match.group(1)}data:{kind};base64,{data}{match.group(3)}"


#: an image paragraph followed by its caption paragraph (``*Figure N. ...*``)
_FIGURE = re.compile(r"<p>(<img\b[^>]*>)</p>\s*<p><em>(Figure \d+\..*?)</em></p>", re.S)


def markdown_to_html(text: str, folder: Path, title: str = "catapult_theory report",
                     links: dict[str, str] | None = None) -> str:
    """``text`` (Markdown with LaTeX formulas) as a standalone HTML page: formulas as
    MathML, images under ``folder`` embedded as data URIs, so the page needs no other
    file; ``links`` rewrites link targets (``certificate.md`` -> ``certificate.html``)."""
    import markdown

    protected, formulas = split_math(text)
    body = markdown.markdown(protected, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    typeset = [_typeset(tex, display) for tex, display in formulas]

    def back(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return f'<div class="math-display">{typeset[i]}</div>' if formulas[i][1] else typeset[i]

    body = re.sub(r"<p>(XQMATHX\d+XQMATHX)</p>", r"\1", body)  # a display formula is its own block
    body = _TOKEN_RE.sub(back, body)
    body = _FIGURE.sub(lambda m: f"<figure>{m.group(1)}<figcaption>{m.group(2)}</figcaption></figure>", body)
    for old, new in (links or {}).items():
        body = body.replace(f'href="{old}"', f'href="{new}"').replace(f'href="{old}#', f'href="{new}#')
    body = _IMG.sub(lambda m: _embed(m, folder), body)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
