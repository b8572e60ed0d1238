"""The frame of a report section: its context, output, memory estimate and the registry.

Every section module (``_section_*.py``) imports this and registers itself;
:mod:`._reproduce` runs them.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, TypeVar

from ..files import write_atomic
from ._cache import ExperimentCache

T = TypeVar("T")

#: the proof certificate's file name in the report folder (beside it: certificate.html, typeset)
CERTIFICATE = "certificate.md"

__all__ = ["CERTIFICATE", "BUILTIN_SECTIONS", "Context", "check_sections", "command_memory", "largest", "Reporter", "SILENT", "Section",
           "SectionOutput", "SECTIONS", "figured_section", "register_section", "write_atomic"]


class Reporter(Protocol):
    """Where a section's compute step reports progress (a :class:`Context` is one)."""

    def progress(self, message: str) -> None:
        """One line of progress."""

    def ticker(self, label: str, total_steps: int, every: float = 10.0) -> Callable[[int, int], None]:
        """A ``progress(step, active)`` callback for long engine runs."""

    def cached(self, name: str, config: Mapping[str, Any], compute: Callable[[], T]) -> T:
        """The result of experiment ``name`` with ``config``: stored, or ``compute()`` (and stored)."""


class _Silent:
    """A :class:`Reporter` that reports nothing."""

    def progress(self, message: str) -> None:
        """Ignore the message."""

    def ticker(self, label: str, total_steps: int, every: float = 10.0) -> Callable[[int, int], None]:
        """A callback that ignores its calls."""
        return lambda step, active: None

    def cached(self, name: str, config: Mapping[str, Any], compute: Callable[[], T]) -> T:
        """No cache: ``compute()``."""
        return compute()


#: the reporter of a compute step run outside ``catapult reproduce``
SILENT: Reporter = _Silent()


@dataclass
class Context:
    """What a section gets: where to write, how big to go, how to report progress, and the
    report folder's experiment cache (:meth:`cached`; ``force`` recomputes everything)."""

    out: Path
    quick: bool = False
    verbose: bool = True
    force: bool = False
    cache: ExperimentCache = field(init=False)
    #: the section named on progress lines (sections running at once), and whether progress bars may be drawn
    label: str = field(default="", init=False)
    bars: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        self.cache = ExperimentCache(self.out / "cache", force=self.force)

    def cached(self, name: str, config: Mapping[str, Any], compute: Callable[[], T]) -> T:
        """The stored result of experiment ``name`` with ``config`` (and the package version
        and code), or ``compute()``, stored atomically for the next run."""
        found, value = self.cache.load(name, config)
        if found:
            self.progress(f"{name}: finished in an earlier run (cached)")
            self.cache.hits.append(name)
            return value  # type: ignore[no-any-return]
        return self.cache.cached(name, config, compute)

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
            from tqdm import tqdm

            tqdm.write(f"  [{self.label}] {message}" if self.label else f"  {message}", file=sys.stderr)

    def ticker(self, label: str, total_steps: int, every: float = 10.0) -> Callable[[int, int], None]:
        """A ``progress(step, active)`` callback for long engine runs: a progress bar (tqdm)
        when stderr is a terminal, else a line at most every ``every`` seconds."""
        if self.verbose and self.bars and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=total_steps, desc=f"  {label}", unit="step", leave=False, file=sys.stderr)

            def tick_bar(step: int, active: int) -> None:
                bar.update(max(step - bar.n, 0))
                bar.set_postfix_str(f"{active} runs active", refresh=False)
                if step >= total_steps or active == 0:
                    bar.close()

            return tick_bar
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
    ``alerts``: failures it found but survived (a theorem not proved, ...),
    shown prominently at the top of report.md (a section with alerts makes
    :func:`reproduce` return 1, the other sections still run), and ``summary``: its
    rows of the summary table (:class:`~._summary.SummaryRow`, :class:`~._summary.ClaimRow`)."""

    markdown: str
    data: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    #: the section's rows of the report's summary (THEORY §7 rows and §6 claims, :mod:`._summary`)
    summary: list[Any] = field(default_factory=list)


def figured_section(ctx: Context, settings: Any, compute: Callable[[Any, Context], Any],
                    figures: Callable[[Any, Callable[[str], Path]], dict[str, Path]],
                    render: Callable[[Any, dict[str, str]], str],
                    data: Callable[[Any], dict[str, Any]],
                    summary: Callable[[Any, dict[str, str]], list[Any]] | None = None) -> SectionOutput:
    """The usual section: ``compute`` at ``settings.quick()`` or ``settings.full()``
    (``--quick``), draw its ``figures``, ``render`` the Markdown with their paths relative
    to report.md, its ``data`` and its ``summary`` rows."""
    res = compute(settings.quick() if ctx.quick else settings.full(), ctx)
    figs = figures(res, ctx.figure)
    links = {name: ctx.rel(path) for name, path in figs.items()}
    return SectionOutput(render(res, links), data(res), summary=summary(res, links) if summary else [])


@dataclass(frozen=True)
class Section:
    """A report section: its anchor ``name``, its heading ``title``, what runs it and,
    optionally, ``memory(quick)``: the arrays of its largest experiment as
    :class:`~catapult_theory.resources.Need` records, checked before any section runs."""

    name: str
    title: str
    run: Callable[[Context], SectionOutput]
    memory: Callable[[bool], list[Any]] | None = None


def command_memory(model: str, command: str, argv: Sequence[Any]) -> list[Any]:
    """The memory estimate of ``catapult COMMAND MODEL ARGV`` (the family's own, as the
    command line checks it): what an experiment of a section that runs the same holds."""
    from ..families import get_family

    fam = get_family(model)
    params, k = fam.parse(command, argv)
    return fam.memory(command, params, k.num if k is not None else 1)


def largest(*estimates: list[Any]) -> list[Any]:
    """The estimate of the largest total among ``estimates`` (experiments run one at a time)."""
    return max(estimates, key=lambda needs: sum(n.nbytes for n in needs))


def check_sections(sections: Sequence[Section], quick: bool) -> dict[str, float]:
    """Refuse (:class:`InvalidInput`, before any work) a run one of whose sections needs
    more memory than the limit beside what the process holds (sections run one at a time:
    each is checked on its own; a section without an estimate is checked for the process
    alone); returns each section's estimated total in bytes."""
    from ..resources import Need, check_memory

    _load_libraries(sections)
    totals = {}
    for sec in sections:
        needs = sec.memory(quick) if sec.memory is not None else []
        totals[sec.name] = check_memory(needs or [Need("the section's own work", 0.0, "--only (fewer sections)")],
                                        f"catapult reproduce, section {sec.name}")
    return totals


def _load_libraries(sections: Sequence[Section]) -> None:
    """Import the libraries the sections import as they run (Matplotlib for the figures,
    the proof checkers for ``proofs``), so that the memory the process holds, which every
    estimate comes on top of, counts them: they stay loaded for the rest of the run."""
    from ._plots import _pyplot

    _pyplot()
    if any(sec.name == "proofs" for sec in sections):
        import proofs  # noqa: F401


#: sections in report order (model families append theirs)
SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    """Append ``section`` to :data:`SECTIONS` (``ValueError`` if its name is taken)."""
    if any(s.name == section.name for s in SECTIONS):
        raise ValueError(f"section {section.name!r} registered twice")
    SECTIONS.append(section)


def _builtin_sections() -> tuple[str, ...]:
    """``proofs``, then the sections the built-in families name (their records'
    ``report_section``), in the order of the families."""
    from ..families import BUILTIN

    return ("proofs", *dict.fromkeys(f.report_section for f in BUILTIN() if f.report_section))


#: the built-in sections, in the report's order (sections registered from outside follow)
BUILTIN_SECTIONS = _builtin_sections()
