"""`catapult reproduce`: every experiment of the study, into one report folder.

The folder holds ``report.md`` (the findings, tables and figure links),
``figures/*.png`` and ``data/<section>.json`` (the numbers behind each figure).
Sections run in order; after each one the report is rewritten, so an
interrupt or a failing section loses nothing that was already computed.
"""

from __future__ import annotations

import json
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..experiments._results import jsonable

__all__ = ["Context", "Section", "SectionOutput", "SECTIONS", "register_section", "reproduce", "reproduce_cli"]


@dataclass
class Context:
    """What a section gets: where to write, how big to go, how to report progress."""

    out: Path
    quick: bool = False
    verbose: bool = True

    def figure(self, name: str) -> Path:
        path = self.out / "figures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.out))

    def progress(self, message: str) -> None:
        if self.verbose:
            sys.stderr.write(f"  {message}\n")
            sys.stderr.flush()

    def ticker(self, label: str, total_steps: int, every: float = 10.0):
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
    markdown: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    run: Callable[[Context], SectionOutput]


#: sections in report order (model families append theirs)
SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    if any(s.name == section.name for s in SECTIONS):
        raise ValueError(f"section {section.name!r} registered twice")
    SECTIONS.append(section)


def _load_sections() -> None:
    if SECTIONS:
        return
    # each module registers its section on import; this order is the report's order
    from . import _section_uv  # noqa: F401
    from . import _section_quadratic  # noqa: F401
    from . import _section_two_layer  # noqa: F401


@dataclass
class _Done:
    section: Section
    status: str
    seconds: float
    markdown: str


def _header(ctx: Context, sections: list[Section]) -> str:
    from .. import __version__
    import numpy
    import scipy
    import sympy

    return "\n".join([
        "# catapult_theory: reproduction report",
        "",
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
    parts = [_header(ctx, sections)]
    for d in done:
        parts.append(f'<a id="{d.section.name}"></a>\n\n## {d.section.title}\n\n'
                     f"*{d.status}, {d.seconds:.1f} s*\n\n{d.markdown}\n")
    if note:
        parts.append(f"\n> {note}\n")
    path = ctx.out / "report.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(path)
    return path


def reproduce(out: str | Path, only: list[str] | None = None, quick: bool = False, verbose: bool = True) -> int:
    """Run the sections (all, or ``only``) into ``out``. Returns 0 if all succeeded, 1 otherwise."""
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
            (ctx.out / "data" / f"{sec.name}.json").write_text(json.dumps(jsonable(res.data), allow_nan=False))
            done.append(_Done(sec, "done", time.perf_counter() - t0, res.markdown))
        _write_report(ctx, selected, done)
    path = _write_report(ctx, selected, done)
    if verbose:
        sys.stderr.write(f"report written to {path}\n")
    return 1 if failed else 0


def reproduce_cli(args) -> int:
    return reproduce(args.out, only=args.only, quick=args.quick)
