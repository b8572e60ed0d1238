"""`catapult reproduce`: every experiment of the study, into one report folder.

The folder holds ``report.md`` (the findings, tables and figure links), ``report.html``
(the same, one self-contained page with the figures embedded), ``results.json`` (every
number behind the report, with version, git revision and settings), ``certificate.md``
(the proof certificate of every theorem, from the ``proofs`` section), ``figures/*.png``,
``data/<section>.json`` and ``cache/`` (finished experiments, :mod:`._cache`: a rerun skips
them, ``--force`` recomputes). Sections run in order (up to ``--jobs`` at once, each in a process of its own); after each one the report is
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
from typing import Any, Sequence, cast

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
              force: bool = False, jobs: int | None = None) -> int:
    """Run the sections (all, or ``only``) into ``out``. Returns 0 if all succeeded, 1 if a
    section raised or reported an alert (e.g. a theorem not proved), 3 if the report folder
    could not be written (a full or read-only disk: the sections finished before are kept).

    Finished experiments (and whole sections) are cached in ``out/cache``: a rerun with the
    same configuration, package version and code skips them (``force`` recomputes).

    ``jobs``: sections run at once, each in a process of its own (default: one per core, at
    most one per section), fewer when their memory together would pass the limit."""
    _load_sections()
    names = [s.name for s in SECTIONS]
    if only:
        unknown = [o for o in only if o not in names]
        if unknown:
            raise InvalidInput(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(names)}")
    selected = [s for s in SECTIONS if not only or s.name in only]
    if jobs is not None and jobs < 1:
        raise InvalidInput(f"--jobs must be at least 1, not {jobs}")
    totals = check_sections(selected, quick)  # the memory of each section, before the folder is touched
    jobs = parallel_jobs(totals, jobs, verbose)
    ctx = Context(check_output_dir(out, "--out"), quick=quick, verbose=verbose, force=force)
    with FolderLock(ctx.out, "report folder"):
        return _run_sections(ctx, selected, verbose, jobs)


def parallel_jobs(totals: dict[str, float], jobs: int | None, verbose: bool = False) -> int:
    """How many sections run at once: ``jobs`` (default: the cores), at most one per
    section, and no more than the memory limit allows for the largest sections together
    (each estimate includes what this process holds, which forked processes share)."""
    import os

    from ..resources import baseline_memory, format_bytes, memory_limit

    want = min(jobs or os.cpu_count() or 1, max(len(totals), 1))
    limit, source = memory_limit()
    base = float(baseline_memory())
    own = sorted((t - base for t in totals.values()), reverse=True)
    n = want
    while n > 1 and base + sum(own[:n]) > limit:
        n -= 1
    if n < want and verbose:
        sys.stderr.write(f"catapult: running {n} section(s) at once, not {want}: together they would need "
                         f"{format_bytes(base + sum(own[:want]))}, above the limit of {format_bytes(limit)} "
                         f"({source})\n")
    return n


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


def _run_sections(ctx: Context, selected: list[Section], verbose: bool, jobs: int = 1) -> int:
    done: list[_Done] = []
    try:
        return _sections(ctx, selected, verbose, done, jobs)
    except OSError as err:
        if not is_output_failure(err):
            raise
        finished = ", ".join(d.section.name for d in done if d.status.startswith("done")) or "none"
        sys.stderr.write(f"catapult: error: could not write the report folder {ctx.out}: {describe_failure(err)}; "
                         f"sections finished: {finished} (stored where the disk allowed)\n")
        return EXIT_OUTPUT_FAILED


def _sections(ctx: Context, selected: list[Section], verbose: bool, done: list[_Done], jobs: int = 1) -> int:
    (ctx.out / "data").mkdir(exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    order = {sec.name: i for i, sec in enumerate(selected)}
    failed = False
    started: list[Section] = []  # the generators add each section as it starts
    if jobs > 1:
        outcomes = _parallel(ctx, selected, jobs, verbose, started)
    else:
        outcomes = _one_at_a_time(ctx, selected, verbose, started)
    try:
        for sec, outcome, seconds in outcomes:
            failed |= _record(ctx, sec, outcome, seconds, verbose, done, results)
            done.sort(key=lambda d: order[d.section.name])
            _write_report(ctx, selected, done)
            _write_results(ctx, done, results)
    except KeyboardInterrupt:
        finished = {d.section.name for d in done}
        running = ", ".join(f"'{s.title}'" for s in started if s.name not in finished) or f"'{selected[-1].title}'"
        _write_report(ctx, selected, done, note=f"Interrupted during {running}; the sections above are complete, "
                                                "and finished experiments are kept for the next run.")
        _write_results(ctx, done, results)
        raise
    path = _write_report(ctx, selected, done)
    _write_results(ctx, done, results)
    if verbose:
        sys.stderr.write(f"report written to {path} (and report.html, results.json)\n")
    return 1 if failed else 0


#: what running a section gave: ("ok", output, from_cache, cache hits) or ("failed", traceback text)
Outcome = tuple


def _attempt(ctx: Context, sec: Section) -> Outcome:
    """Run one section: its outcome; an output failure (a full disk) propagates."""
    try:
        res, from_cache = _run_section(ctx, sec)
    except OSError as err:
        if is_output_failure(err):  # a full disk is not the section's fault: stop, exit 3
            raise
        return ("failed", traceback.format_exc())
    except Exception:  # a failing section is reported, the others still run
        return ("failed", traceback.format_exc())
    return ("ok", res, from_cache, list(ctx.cache.hits))


def _one_at_a_time(ctx: Context, selected: list[Section], verbose: bool, started: list[Section]):
    """Sections in report order in this process, each checked again for memory on what
    the process holds when it starts (earlier sections leave some behind)."""
    for i, sec in enumerate(selected, 1):
        if verbose:
            sys.stderr.write(f"[{i}/{len(selected)}] {sec.title}\n")
        if i > 1:
            check_sections([sec], ctx.quick)
        started.append(sec)
        t0 = time.perf_counter()
        yield sec, _attempt(ctx, sec), time.perf_counter() - t0


def _child(ctx: Context, sec: Section, conn: Any) -> None:
    """A section in a process of its own (forked: it sees the sections and settings of
    this run): its outcome sent back through ``conn``. Progress lines name the section;
    no progress bars (two would overwrite each other)."""
    ctx.cache.hits = []
    ctx.label, ctx.bars = sec.name, False
    try:
        outcome = _attempt(ctx, sec)
    except KeyboardInterrupt:  # the parent stops the run as if interrupted itself
        outcome = ("interrupted",)
    except OSError as err:
        outcome = ("output", err)
    try:
        conn.send(outcome)
        conn.close()
    except (BrokenPipeError, KeyboardInterrupt):  # the parent is gone or ending the run
        pass


def _parallel(ctx: Context, selected: list[Section], jobs: int, verbose: bool, started: list[Section]):
    """Up to ``jobs`` sections at once, each in a forked process, in report order as
    processes free up; yields each section's outcome as it finishes. On an interrupt the
    running sections are interrupted too (their files are written atomically) and ended."""
    import multiprocessing as mp
    import os
    import signal
    from multiprocessing.connection import Connection, wait

    fork = mp.get_context("fork")
    pending = list(selected)
    running: dict[Connection, tuple[Any, Section, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                sec = pending.pop(0)
                if verbose:
                    sys.stderr.write(f"[{len(selected) - len(pending)}/{len(selected)}] {sec.title} (started)\n")
                recv, send = fork.Pipe(duplex=False)
                proc = fork.Process(target=_child, args=(ctx, sec, send), name=f"section-{sec.name}", daemon=True)
                proc.start()
                started.append(sec)
                send.close()
                running[recv] = (proc, sec, time.perf_counter())
            for ready in wait(list(running)):
                conn = cast(Connection, ready)
                proc, sec, t0 = running.pop(conn)
                try:
                    outcome = conn.recv()
                except EOFError:
                    proc.join()
                    outcome = ("failed", f"the process running section {sec.name} ended without a result "
                                         f"(exit code {proc.exitcode})")
                conn.close()
                proc.join()
                if outcome[0] == "interrupted":
                    raise KeyboardInterrupt
                if outcome[0] == "output":
                    err = outcome[1]
                    assert isinstance(err, OSError)
                    raise err
                yield sec, outcome, time.perf_counter() - t0
    finally:
        procs = [proc for proc, _, _ in running.values()]
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGINT)
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _record(ctx: Context, sec: Section, outcome: Outcome, seconds: float, verbose: bool,
            done: list[_Done], results: dict[str, dict[str, Any]]) -> bool:
    """Store a section's outcome (its data file, results, a line on stderr); whether it failed."""
    if outcome[0] == "failed":
        done.append(_Done(sec, "FAILED", seconds, f"```\n{outcome[1]}\n```"))
        sys.stderr.write(outcome[1])
        return True
    _, res, from_cache, hits = outcome
    ctx.cache.hits.extend(h for h in hits if h not in ctx.cache.hits)
    write_atomic(ctx.out / "data" / f"{sec.name}.json", json.dumps(jsonable(res.data), allow_nan=False))
    results[sec.name] = {"data": res.data, "figures": _FIGURE_LINK.findall(res.markdown)}
    for a in res.alerts:
        sys.stderr.write(f"FAILED: {a}\n")
    status = "done, with failures (see the top of the report)" if res.alerts else "done"
    if from_cache:
        status += " (finished in an earlier run; cached)"
    if verbose:
        sys.stderr.write(f"  {sec.title}: {status}, {seconds:.1f} s\n")
    done.append(_Done(sec, status, seconds, res.markdown, tuple(res.alerts), tuple(res.summary)))
    return bool(res.alerts)


def reproduce_cli(args: Any) -> int:
    """``catapult reproduce``: :func:`reproduce` with the parsed command-line arguments."""
    return reproduce(args.out, only=args.only, quick=args.quick, force=getattr(args, "force", False),
                     jobs=getattr(args, "jobs", None))
