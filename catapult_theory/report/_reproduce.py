"""`catapult reproduce`: every experiment of the study, into one report folder.

The folder holds ``report.md`` (the findings, tables and figure links),
``certificate.md`` (the proof certificate of every theorem, from the ``proofs``
section), ``figures/*.png`` and ``data/<section>.json`` (the numbers behind each
figure). Sections run in order; after each one the report is rewritten, so an
interrupt or a failing section loses nothing that was already computed. Files
are written through a temporary file in the same folder and ``os.replace``, so
a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from ..experiments import jsonable

__all__ = ["Context", "Reporter", "SILENT", "Section", "SectionOutput", "SECTIONS", "register_section", "reproduce",
           "reproduce_cli", "write_atomic"]


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and
    ``os.replace``: the file is either the old one or the complete new one."""
    path = Path(path)
    # a unique name, created with mode 0o666 so the umask applies as for any new file
    # (tempfile.mkstemp would leave the report readable by its owner only)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class Reporter(Protocol):
    """Where a section's compute step reports progress (a :class:`Context` is one)."""

    def progress(self, message: str) -> None:
        """One line of progress."""

    def ticker(self, label: str, total_steps: int, every: float = 10.0) -> Callable[[int, int], None]:
        """A ``progress(step, active)`` callback for long engine runs."""


class _Silent:
    """A :class:`Reporter` that reports nothing."""

    def progress(self, message: str) -> None:
        """Ignore the message."""

    def ticker(self, label: str, total_steps: int, every: float = 10.0) -> Callable[[int, int], None]:
        """A callback that ignores its calls."""
        return lambda step, active: None


#: the reporter of a compute step run outside ``catapult reproduce``
SILENT: Reporter = _Silent()


@dataclass
class Context:
    """What a section gets: where to write, how big to go, how to report progress."""

    out: Path
    quick: bool = False
    verbose: bool = True

    def figure(self, name: str) -> Path:
        """The path of figure ``name`` under ``figures/`` (the folder is created)."""
        path = self.out / "figures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def rel(self, path: Path) -> str:
        """``path`` relative to the report folder (a link from report.md)."""
        return str(path.relative_to(self.out))

    def progress(self, message: str) -> None:
        """One indented line on stderr (when verbose)."""
        if self.verbose:
            sys.stderr.write(f"  {message}\n")
            sys.stderr.flush()

    def ticker(self, label: str, total_steps: int, every: float = 10.0) -> Callable[[int, int], None]:
        """A ``progress(step, active)`` callback for long engine runs, printing at
        most every ``every`` seconds."""
        last = [time.perf_counter()]

        def tick(step: int, active: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= every:
                last[0] = now
                self.progress(f"{label}: step {step}/{total_steps}, {active} runs still active")

        return tick


@dataclass
class SectionOutput:
    """What a section returns: its Markdown, the data written to ``data/<name>.json``,
    and ``alerts``: failures it found but survived (a theorem not proved, ...),
    shown prominently at the top of report.md; a section with alerts makes
    :func:`reproduce` return 1, the other sections still run."""

    markdown: str
    data: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    """A report section: its anchor ``name``, its heading ``title`` and what runs it."""

    name: str
    title: str
    run: Callable[[Context], SectionOutput]


#: sections in report order (model families append theirs)
SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    """Append ``section`` to :data:`SECTIONS` (``ValueError`` if its name is taken)."""
    if any(s.name == section.name for s in SECTIONS):
        raise ValueError(f"section {section.name!r} registered twice")
    SECTIONS.append(section)


#: the built-in sections, in the report's order (sections registered from outside follow)
BUILTIN_SECTIONS = ("proofs", "uv", "quadratic", "two-layer")


def _load_sections() -> None:
    """Import the built-in sections (each registers itself once, on first import) and
    put them first: a section registered from outside never hides them."""
    from . import _section_proofs  # noqa: F401
    from . import _section_quadratic  # noqa: F401
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
        "Sections: " + ", ".join(f"[{s.title}](#{s.name})" for s in sections),
        "",
    ])


def _write_report(ctx: Context, sections: list[Section], done: list[_Done], note: str = "") -> Path:
    parts = [_header(ctx, sections, [a for d in done for a in d.alerts])]
    for d in done:
        parts.append(f'<a id="{d.section.name}"></a>\n\n## {d.section.title}\n\n'
                     f"*{d.status}, {d.seconds:.1f} s*\n\n{d.markdown}\n")
    if note:
        parts.append(f"\n> {note}\n")
    return write_atomic(ctx.out / "report.md", "\n".join(parts))


def reproduce(out: str | Path, only: list[str] | None = None, quick: bool = False, verbose: bool = True) -> int:
    """Run the sections (all, or ``only``) into ``out``. Returns 0 if all succeeded, 1 if a
    section raised or reported an alert (e.g. a theorem not proved)."""
    _load_sections()
    names = [s.name for s in SECTIONS]
    if only:
        unknown = [o for o in only if o not in names]
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(names)}")
    selected = [s for s in SECTIONS if not only or s.name in only]
    ctx = Context(Path(out), quick=quick, verbose=verbose)
    ctx.out.mkdir(parents=True, exist_ok=True)
    (ctx.out / "data").mkdir(exist_ok=True)
    done: list[_Done] = []
    failed = False
    for i, sec in enumerate(selected, 1):
        if verbose:
            sys.stderr.write(f"[{i}/{len(selected)}] {sec.title}\n")
        t0 = time.perf_counter()
        try:
            res = sec.run(ctx)
        except KeyboardInterrupt:
            _write_report(ctx, selected, done, note=f"Interrupted during '{sec.title}'; the sections above are complete.")
            raise
        except Exception:  # a failing section is reported, the others still run
            failed = True
            tb = traceback.format_exc()
            done.append(_Done(sec, "FAILED", time.perf_counter() - t0, f"```\n{tb}\n```"))
            sys.stderr.write(tb)
        else:
            write_atomic(ctx.out / "data" / f"{sec.name}.json", json.dumps(jsonable(res.data), allow_nan=False))
            if res.alerts:
                failed = True
                for a in res.alerts:
                    sys.stderr.write(f"FAILED: {a}\n")
            done.append(_Done(sec, "done, with failures (see the top of the report)" if res.alerts else "done",
                              time.perf_counter() - t0, res.markdown, tuple(res.alerts)))
        _write_report(ctx, selected, done)
    path = _write_report(ctx, selected, done)
    if verbose:
        sys.stderr.write(f"report written to {path}\n")
    return 1 if failed else 0


def reproduce_cli(args: Any) -> int:
    """``catapult reproduce``: :func:`reproduce` with the parsed command-line arguments."""
    return reproduce(args.out, only=args.only, quick=args.quick)
