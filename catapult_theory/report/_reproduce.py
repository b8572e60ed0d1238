"""`catapult reproduce`: every experiment of the study, into one report folder.

The folder holds ``report.md`` (the findings, tables and figure links), ``report.html``
(the same, one self-contained page with the figures embedded), ``results.json`` (every
number behind the report, with version, git revision and settings), ``certificate.md``
(the proof certificate of every theorem, from the ``proofs`` section), ``figures/*.png``,
``data/<section>.json`` and ``cache/`` (finished experiments, :mod:`._cache`: a rerun skips
them, ``--force`` recomputes). Sections run in order; after each one the report is
rewritten, so an interrupt or a failing section loses nothing already computed. Files
are written through a temporary file in the same folder and ``os.replace``, so
a reader never sees half a file; the folder is checked before any work and locked
while a run writes to it (a second concurrent run on it is refused).
"""

from __future__ import annotations

import json
import platform
import re
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import InvalidInput
from ..experiments import jsonable
from ..files import FolderLock, check_output_dir, describe_failure, is_output_failure, write_atomic
from ._sections import (BUILTIN_SECTIONS, CERTIFICATE, SECTIONS, SILENT, Context, Reporter, Section, SectionOutput,
                        check_sections,
                        command_memory, figured_section, largest, register_section)

__all__ = ["BUILTIN_SECTIONS", "Context", "check_sections", "command_memory", "largest", "Reporter", "SILENT", "Section",
           "SectionOutput", "SECTIONS", "figured_section", "register_section", "reproduce", "reproduce_cli",
           "write_atomic"]


def _load_sections() -> None:
    """Import the built-in sections (each registers itself once, on first import) and
    put them first: a section registered from outside never hides them."""
    from . import _section_proofs  # noqa: F401
    from . import _section_quadratic  # noqa: F401
    from . import _section_sparsity  # noqa: F401
    from . import _section_two_layer  # noqa: F401
    from . import _section_uv  # noqa: F401

    order = {name: i for i, name in enumerate(BUILTIN_SECTIONS)}
    SECTIONS.sort(key=lambda sec: order.get(sec.name, len(order)))


@dataclass
class _Done:
    section: Section
    status: str
    seconds: float
    markdown: str
    alerts: tuple[str, ...] = ()
    summary: tuple[Any, ...] = ()


def _header(ctx: Context, sections: list[Section], alerts: Sequence[str] = ()) -> str:
    from .. import __version__
    import numpy
    import scipy
    import sympy

    warn = []
    for a in alerts:
        warn += [f"> **FAILED: {a}**", ""]
    return "\n".join([
        "# catapult_theory: reproduction report",
        "",
        *warn,
        f"catapult_theory {__version__}; Python {platform.python_version()}, NumPy {numpy.__version__}, "
        f"SciPy {scipy.__version__}, SymPy {sympy.__version__}; {'quick (smoke) settings' if ctx.quick else 'full settings'}.",
        "",
        "Every formula below was derived by the package's symbolic layer and every number obtained by "
        "running its engines; the data behind each figure is in `data/`.",
        "",
        "Sections: " + ", ".join(f"[{s.title}](#{s.name})" for s in sections)
        + (f"; the full proof certificate: [{CERTIFICATE}]({CERTIFICATE}) (typeset: "
           "[certificate.html](certificate.html))" if (ctx.out / CERTIFICATE).is_file() else "") + ".",
        "",
    ])


_FIG_ANCHOR = re.compile(r'<a id="fig-([\w.-]+)"></a>')
_FIG_TOKEN = re.compile(r"\{fig:([\w.-]+)\}")


def number_figures(text: str) -> str:
    """Number the figures of the assembled report in order of appearance: every
    ``{fig:STEM}`` becomes the number of the figure anchored ``fig-STEM`` (a reference to
    a figure not in the report says so)."""
    numbers: dict[str, int] = {}
    for m in _FIG_ANCHOR.finditer(text):
        numbers.setdefault(m.group(1), len(numbers) + 1)
    text = re.sub(r"\[Fig\. \{fig:([\w.-]+)\}\]\(#fig-[\w.-]+\)",
                  lambda m: m.group(0) if m.group(1) in numbers else "(figure not drawn)", text)
    return _FIG_TOKEN.sub(lambda m: str(numbers.get(m.group(1), "?")), text)


def _summary_rows(done: Sequence[_Done]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary rows (THEORY §7 row id -> row) and claims (§6 claim id -> row) of the sections done."""
    from ._summary import ClaimRow, SummaryRow

    rows = {r.row: r for d in done for r in d.summary if isinstance(r, SummaryRow)}
    claims = {c.claim: c for d in done for c in d.summary if isinstance(c, ClaimRow)}
    return rows, claims


def _write_report(ctx: Context, sections: list[Section], done: list[_Done], note: str = "") -> Path:
    """report.md and report.html (the same content, figures embedded, formulas typeset)
    from what is done: the summary first, then every section, figures numbered."""
    from ._summary import render_summary

    parts = [_header(ctx, sections, [a for d in done for a in d.alerts]), render_summary(*_summary_rows(done))]
    for d in done:
        parts.append(f'<a id="{d.section.name}"></a>\n\n## {d.section.title}\n\n'
                     f"*{d.status}, {d.seconds:.1f} s*\n\n{d.markdown}\n")
    if note:
        parts.append(f"\n> {note}\n")
    text = number_figures("\n".join(parts))
    from ._html import markdown_to_html

    write_atomic(ctx.out / "report.html",
                 markdown_to_html(text, ctx.out, links={CERTIFICATE: "certificate.html"}))
    return write_atomic(ctx.out / "report.md", text)


def _git_revision() -> str | None:
    """The git revision of the package's checkout (``None`` outside one, or without git)."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
    return proc.stdout.strip() + ("+modified" if dirty else "")


def _write_results(ctx: Context, done: list[_Done], results: dict[str, dict[str, Any]]) -> Path:
    """results.json: every number behind the report, with the run's configuration."""
    from .. import __version__
    import numpy
    import scipy
    import sympy

    payload = {
        "package": "catapult_theory", "version": __version__, "git_revision": _git_revision(),
        "python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
        "sympy": sympy.__version__, "quick": ctx.quick,
        "seeds": "every experiment states its seed in its section's settings (default 0)",
        "sections": {d.section.name: {"title": d.section.title, "status": d.status, "seconds": round(d.seconds, 3),
                                      "alerts": list(d.alerts), **results.get(d.section.name, {})}
                     for d in done},
        "experiments": {"cached": list(dict.fromkeys(ctx.cache.hits)),
                        "computed": list(dict.fromkeys(ctx.cache.misses))},
    }
    rows, claims = _summary_rows(done)
    payload["rows"] = {rid: r.to_dict() for rid, r in rows.items()}
    payload["claims"] = {cid: c.to_dict() for cid, c in claims.items()}
    return write_atomic(ctx.out / "results.json", json.dumps(jsonable(payload), allow_nan=False, indent=1))


def reproduce(out: str | Path, only: list[str] | None = None, quick: bool = False, verbose: bool = True,
              force: bool = False) -> int:
    """Run the sections (all, or ``only``) into ``out``. Returns 0 if all succeeded, 1 if a
    section raised or reported an alert (e.g. a theorem not proved), 3 if the report folder
    could not be written (a full or read-only disk: the sections finished before are kept).

    Finished experiments (and whole sections) are cached in ``out/cache``: a rerun with the
    same configuration, package version and code skips them (``force`` recomputes)."""
    _load_sections()
    names = [s.name for s in SECTIONS]
    if only:
        unknown = [o for o in only if o not in names]
        if unknown:
            raise InvalidInput(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(names)}")
    selected = [s for s in SECTIONS if not only or s.name in only]
    check_sections(selected, quick)  # the memory of each section, before the folder is touched
    ctx = Context(check_output_dir(out, "--out"), quick=quick, verbose=verbose, force=force)
    with FolderLock(ctx.out, "report folder"):
        return _run_sections(ctx, selected, verbose)


#: a figure in a section's Markdown; any relative link (figures, certificate.md) must exist for a cached section
_FIGURE_LINK = re.compile(r"\]\((figures/[^)\s]+)\)")
_FILE_LINK = re.compile(r"\]\(([^)\s#:]+)\)")


def _run_section(ctx: Context, sec: Section) -> tuple[SectionOutput, bool]:
    """The section's output, from the cache when its figures are all still there; and
    whether it came from the cache."""
    config = {"section": sec.name, "quick": ctx.quick}
    found, res = ctx.cache.load(f"section-{sec.name}", config)
    if found and isinstance(res, SectionOutput) and all(
            (ctx.out / link).is_file() for link in _FILE_LINK.findall(res.markdown)):
        ctx.cache.hits.append(f"section-{sec.name}")
        return res, True
    res = sec.run(ctx)
    ctx.cache.store(f"section-{sec.name}", config, res)
    return res, False


#: exit code of a run whose report folder could not be written
EXIT_OUTPUT_FAILED = 3


def _run_sections(ctx: Context, selected: list[Section], verbose: bool) -> int:
    done: list[_Done] = []
    try:
        return _sections(ctx, selected, verbose, done)
    except OSError as err:
        if not is_output_failure(err):
            raise
        finished = ", ".join(d.section.name for d in done if d.status.startswith("done")) or "none"
        sys.stderr.write(f"catapult: error: could not write the report folder {ctx.out}: {describe_failure(err)}; "
                         f"sections finished: {finished} (stored where the disk allowed)\n")
        return EXIT_OUTPUT_FAILED


def _sections(ctx: Context, selected: list[Section], verbose: bool, done: list[_Done]) -> int:
    (ctx.out / "data").mkdir(exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    failed = False
    for i, sec in enumerate(selected, 1):
        if verbose:
            sys.stderr.write(f"[{i}/{len(selected)}] {sec.title}\n")
        if i > 1:  # checked again on what the process holds now (earlier sections leave some behind)
            check_sections([sec], ctx.quick)
        t0 = time.perf_counter()
        try:
            res, from_cache = _run_section(ctx, sec)
        except KeyboardInterrupt:
            _write_report(ctx, selected, done, note=f"Interrupted during '{sec.title}'; the sections above are "
                                                    "complete, and finished experiments are kept for the next run.")
            _write_results(ctx, done, results)
            raise
        except OSError as err:
            if is_output_failure(err):  # a full disk is not the section's fault: stop, exit 3
                raise
            failed = True
            tb = traceback.format_exc()
            done.append(_Done(sec, "FAILED", time.perf_counter() - t0, f"```\n{tb}\n```"))
            sys.stderr.write(tb)
        except Exception:  # a failing section is reported, the others still run
            failed = True
            tb = traceback.format_exc()
            done.append(_Done(sec, "FAILED", time.perf_counter() - t0, f"```\n{tb}\n```"))
            sys.stderr.write(tb)
        else:
            write_atomic(ctx.out / "data" / f"{sec.name}.json", json.dumps(jsonable(res.data), allow_nan=False))
            results[sec.name] = {"data": res.data, "figures": _FIGURE_LINK.findall(res.markdown)}
            if res.alerts:
                failed = True
                for a in res.alerts:
                    sys.stderr.write(f"FAILED: {a}\n")
            status = "done, with failures (see the top of the report)" if res.alerts else "done"
            seconds = time.perf_counter() - t0
            if from_cache:
                status += " (finished in an earlier run; cached)"
            if verbose:
                sys.stderr.write(f"  {sec.title}: {status}, {seconds:.1f} s\n")
            done.append(_Done(sec, status, seconds, res.markdown, tuple(res.alerts), tuple(res.summary)))
        _write_report(ctx, selected, done)
        _write_results(ctx, done, results)
    path = _write_report(ctx, selected, done)
    _write_results(ctx, done, results)
    if verbose:
        sys.stderr.write(f"report written to {path} (and report.html, results.json)\n")
    return 1 if failed else 0


def reproduce_cli(args: Any) -> int:
    """``catapult reproduce``: :func:`reproduce` with the parsed command-line arguments."""
    return reproduce(args.out, only=args.only, quick=args.quick, force=getattr(args, "force", False))
