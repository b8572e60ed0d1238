"""`catapult grid SPEC.toml [--out DIR] [--scheduler ...] [--resume]`: a grid of phase sweeps on Dask."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._common import EXIT_OUTPUT_FAILED, CLIError, add_format, add_max_memory, emit, fmt

__all__ = ["add_grid_parser", "grid_cli"]

_HELP = "run a grid of phase sweeps (axes from a TOML SPEC), in-process or on a Dask cluster"


def add_grid_parser(sub: Any) -> None:
    """Add the ``grid`` subcommand to the subparsers ``sub``."""
    gp = sub.add_parser(
        "grid", help=_HELP,
        description="Run every cell of a grid (SPEC: model, [fixed] settings with the k grid, [axes] to sweep); "
                    "each cell is one batched sweep over k. Results: DIR/cells/ (one JSON file per cell, "
                    "named by the hash of its configuration), DIR/table.csv (one row per cell and k), "
                    "DIR/figures/, DIR/grid.json.")
    gp.add_argument("spec", metavar="SPEC.toml", help="the grid: model, [fixed] (with k = {min, max, num}), [axes]")
    gp.add_argument("--out", metavar="DIR", default=None,
                    help="output folder (default: ./<SPEC name>-grid)")
    gp.add_argument("--scheduler", metavar="WHERE", default=None,
                    help="synchronous | processes:N | local | local:N | a scheduler address (tcp://host:8786); "
                         "default: a local process pool with one process per core")
    gp.add_argument("--resume", action="store_true",
                    help="reuse the cells already in DIR: compute only the missing ones")
    gp.add_argument("--no-figures", action="store_true", help="write the table only, no summary figures")
    add_max_memory(gp)
    add_format(gp)
    gp.set_defaults(handler=None, command="grid")


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def grid_cli(args: argparse.Namespace) -> int:
    """Run ``catapult grid``; progress (a line per finished cell) on stderr, the summary on stdout."""
    import math

    from ..grid import boundary_summary, check_grid, check_scheduler, grid, load_spec

    spec = load_spec(args.spec)
    if args.scheduler is not None:
        check_scheduler(args.scheduler)  # a bad or unreachable --scheduler fails before anything runs
    check_grid(spec)  # the number of cells and the grid's own table, before a cell is made
    if args.out is not None and not args.out.strip():
        raise CLIError("--out: expected a folder name, got an empty one")
    out = Path(args.out) if args.out is not None else Path(f"{Path(args.spec).stem}-grid")
    total = math.prod(spec.shape())
    shape = " x ".join(f"{n} {len(v)}" for n, v in spec.axes.items()) or "no axes"
    _stderr(f"catapult grid: {spec.model}, {total} cells ({shape}) -> {out}")
    done = [0]

    def progress(event: Any) -> None:
        done[0] = event.done
        _stderr(event.line())

    try:
        table = grid(spec, out=out, scheduler=args.scheduler, resume=args.resume, figures=not args.no_figures,
                     progress=progress)
    except KeyboardInterrupt:
        _stderr(f"catapult grid: interrupted with {done[0]} of {total} cells stored in {out}; "
                "rerun with --resume to compute only the missing ones")
        raise
    summary = boundary_summary(table)
    figures = [str(p) for n, p in table.files.items() if n.startswith("figure:")]
    bnames = [c for c in table.columns if c in ("catapult_onset", "divergence", "collapse")]
    payload = {
        "model": spec.model,
        "out": str(out),
        "table": str(table.files["table"]) if "table" in table.files else None,
        "grid": str(table.files["grid"]) if "grid" in table.files else None,
        "figures": figures,
        "cells": total,
        "computed": len(table.computed),
        "reused": len(table.reused),
        "scheduler": table.scheduler,
        "rows": len(table.rows),
        "columns": list(table.columns),
        "boundaries": [{"axes": axes, "cells": n,
                        **{b: {"mean": st[b][0], "sd": st[b][1], "in_range": st[b][2]} for b in bnames}}
                       for axes, n, st in summary],
    }
    k = spec.k
    fixed = ", ".join(f"{n} = {fmt(v)}" for n, v in spec.fixed.items())
    lines = [
        f"{spec.model} grid: {total} cells ({shape}); k from {fmt(k.min)} to {fmt(k.max)} ({k.num} points, "
        f"{k.scale})" + (f"; fixed: {fixed}" if fixed else ""),
        f"computed {len(table.computed)} cells ({table.scheduler}), reused {len(table.reused)}",
    ]
    group_axes = list(summary[0][0]) if summary else []
    pooled = "seed" if "seed" in spec.axes else "nothing"
    lines.append(f"boundaries (mean ± sd over {pooled}; [m/n]: cells with the boundary in range):")
    head = [*group_axes, "cells", *bnames]
    body = [[*(fmt(v) for v in axes.values()), str(n),
             *(_stat(st[b], n) for b in bnames)] for axes, n, st in summary]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    for r in [head, *body]:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if "table" in table.files:
        lines.append(f"table: {table.files['table']} ({len(table.rows)} rows, one per cell and k)")
    else:
        lines.append(f"table NOT written ({len(table.rows)} rows, one per cell and k)")
    lines.append(f"cells: {out / 'cells'} (one JSON file per cell)")
    if figures:
        lines.append("figures: " + ", ".join(figures))
    payload["failures"] = list(table.failures)
    emit(payload, "\n".join(lines), args.format)
    if table.failures:
        more = f" (and {len(table.failures) - 1} more outputs not written)" if len(table.failures) > 1 else ""
        sys.stderr.write(f"catapult: error: {table.failures[0]}{more}; the results above are complete\n")
    return EXIT_OUTPUT_FAILED if table.failures else 0


def _stat(stat: tuple[float | None, float | None, int], n: int) -> str:
    mean, sd, m = stat
    if mean is None:
        return f"- [0/{n}]"
    text = fmt(mean, 6) + (f" ± {fmt(sd, 2)}" if sd is not None else "")
    return text + (f" [{m}/{n}]" if m < n else "")
