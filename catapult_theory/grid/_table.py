"""The tidy table of a grid: one row per (cell, ``k``), and the grid's output folder.

Columns, in order: ``cell`` (the first 16 hex digits of the cell's hash, the
name of its file in ``cells/``), one column per axis (SPEC order), ``k``,
``phase``, the cell's boundaries (``catapult_onset``, ``divergence``, and
``collapse`` for ReLU nets; the same on every row of a cell, empty when not in
range), the final values of the run at that ``k`` (``final_lam_eta`` (final
``η λ``), ``final_w2_ratio``, ``final_peak_loss``, ``final_train_loss``,
``final_diverged_at``, and ``final_test_loss`` / ``final_sparsity`` /
``final_steps`` where the family reports them; empty for diverged runs), the
predicted ``k_max`` of each bound (``bound_<name>``) and the cell's ``lam0``.
Rows follow the cells in SPEC order (first axis outermost), then ``k``: the
table does not depend on where or in which order the cells ran.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._spec import GridSpec

__all__ = ["BOUNDARIES", "CELL_BYTES", "ROW_BYTES", "SEED_AXIS", "GridTable", "boundary_summary", "build_table",
           "table_bytes"]

#: what the grid's own process holds per cell (its configuration, key and stored record
#: without the per-k series) and per row (a k value's series in the record, the table row
#: and its CSV text): measured with tracemalloc on uv grids of 64 to 256 cells and 20 to 200
#: k values (12 to 11.5 kB per cell, 0.78 kB per row), with room for families of more series
CELL_BYTES = 12 * 2**10
ROW_BYTES = 1 * 2**10


def table_bytes(cells: int, num: int) -> float:
    """Bytes the process running a grid of ``cells`` cells of ``num`` k values each holds
    for its records and table (before any cell is computed)."""
    return float(cells) * (CELL_BYTES + num * ROW_BYTES)

#: the axis whose spread becomes error bars (the other axes are plotted)
SEED_AXIS = "seed"
#: the boundaries every table has a column for
BOUNDARIES = ("catapult_onset", "divergence")


@dataclass(frozen=True, eq=False)
class GridTable:
    """A grid's tidy table (``columns``, ``rows``) and where it came from.

    ``cells`` are the cell keys in table order, ``records`` their stored results
    (``{"key", "config", "result", ...}``), ``cell_axes`` their axis values; ``computed`` and ``reused`` the keys
    computed by this run and read back from ``out``; ``files`` the written
    outputs (``table``, ``grid``, and one ``figure:NAME`` per figure).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    spec: GridSpec
    cells: tuple[str, ...]
    records: Mapping[str, Mapping[str, Any]]
    cell_axes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    computed: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    scheduler: str = ""
    out: Path | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    #: what could not be written (a full or read-only disk): the table itself is complete
    failures: tuple[str, ...] = ()

    @property
    def axes(self) -> tuple[str, ...]:
        """The axis columns."""
        return tuple(self.spec.axes)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column (``None`` where empty)."""
        try:
            i = self.columns.index(name)
        except ValueError:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns)}") from None
        return [row[i] for row in self.rows]

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as dicts ``column -> value``."""
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_csv(self) -> str:
        """The table as CSV text (header line first; empty field for a missing value;
        floats written so that they read back exactly)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for row in self.rows:
            w.writerow([_text(v) for v in row])
        return buf.getvalue()

    def to_pandas(self) -> Any:
        """The table as a ``pandas.DataFrame`` (pandas is not a dependency: install it to use this)."""
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame(list(self.rows), columns=list(self.columns))


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    return str(v)


def _union(names: Iterable[Iterable[str]], first: Sequence[str] = ()) -> list[str]:
    out = list(first)
    for group in names:
        for n in group:
            if n not in out:
                out.append(n)
    return out


def build_table(spec: GridSpec, cells: Sequence[Any], records: Mapping[str, Mapping[str, Any]],
                computed: Sequence[str] = (), reused: Sequence[str] = (), scheduler: str = "") -> GridTable:
    """The table of ``cells`` (SPEC order) from their ``records`` (key -> stored result)."""
    results = [records[c.key]["result"] for c in cells]
    bnames = _union((r.get("boundaries", {}) for r in results), BOUNDARIES)
    fnames = _union(r.get("final", {}) for r in results)
    knames = _union(r.get("bounds", {}) for r in results)
    axes = list(spec.axes)
    columns = ("cell", *axes, "k", "phase", *bnames, *(f"final_{n}" for n in fnames),
               *(f"bound_{n}" for n in knames), "lam0")
    rows: list[tuple[Any, ...]] = []
    for cell, res in zip(cells, results):
        head = (cell.key[:16], *(cell.axes[a] for a in axes))
        bvals = tuple(res.get("boundaries", {}).get(n) for n in bnames)
        kvals = tuple(res.get("bounds", {}).get(n) for n in knames)
        lam0 = res.get("settings", {}).get("lam0")
        final = res.get("final", {})
        for i, (k, ph) in enumerate(zip(res["k"], res["phase"])):
            fvals = tuple(final[n][i] if n in final else None for n in fnames)
            rows.append((*head, k, ph, *bvals, *fvals, *kvals, lam0))
    return GridTable(columns, tuple(rows), spec, tuple(c.key for c in cells),
                     {c.key: records[c.key] for c in cells}, {c.key: dict(c.axes) for c in cells},
                     tuple(computed), tuple(reused), scheduler)


def boundary_summary(table: GridTable) -> list[tuple[dict[str, Any], int, dict[str, tuple[float | None, float | None, int]]]]:
    """Boundaries per group of cells that differ only in ``seed`` (or in nothing):
    ``(group axis values, cells, {boundary: (mean, sample sd, cells with it in range)})``."""
    group_axes = [a for a in table.axes if a != SEED_AXIS]
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for key in table.cells:
        rec = table.records[key]
        axes = table.cell_axes[key]
        groups.setdefault(tuple(axes[a] for a in group_axes), []).append(rec["result"].get("boundaries", {}))
    names = [c for c in table.columns if c in BOUNDARIES or c == "collapse"]
    out = []
    for gkey, bs in groups.items():
        stats: dict[str, tuple[float | None, float | None, int]] = {}
        for n in names:
            vals = [float(b[n]) for b in bs if b.get(n) is not None]
            if not vals:
                stats[n] = (None, None, 0)
                continue
            mean = math.fsum(vals) / len(vals)
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else None
            stats[n] = (mean, sd, len(vals))
        out.append((dict(zip(group_axes, gkey)), len(bs), stats))
    return out
