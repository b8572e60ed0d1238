"""Grids of phase sweeps: ``catapult grid SPEC.toml``, on Dask, in-process by default.

A SPEC (:mod:`._spec`) names a model family, fixed settings and axes; every
grid cell is one batched sweep over ``k`` (the family's ``catapult phases``), a
pure task of the cell's configuration (:func:`run_cell`). :func:`grid` runs the
missing cells (in this process, on a local process pool, on a ``LocalCluster``,
on a remote scheduler or on a given ``dask.distributed.Client``), writes each
result atomically under the hash of its configuration, and returns the tidy
table (:class:`GridTable`, one row per cell and ``k``)::

    from catapult_theory.grid import grid
    table = grid("uv-width.toml", out="uv-width")             # in-process
    table = grid("uv-width.toml", client=my_client)           # on a notebook's cluster

Dask is imported only when a grid runs.
"""

from ._run import (ADDRESS_SCHEMES, SCHEDULER_FORMS, CellDone, Scheduler, cell_path, check_grid, check_scheduler, grid,
                   grid_memory, parse_scheduler)
from ._spec import CELL_FORMAT, Cell, GridSpec, KGrid, cell_key, load_spec, parse_spec
from ._table import BOUNDARIES, SEED_AXIS, GridTable, boundary_summary, build_table, table_bytes
from ._task import pin_blas, run_cell

__all__ = [
    "ADDRESS_SCHEMES",
    "BOUNDARIES",
    "CELL_FORMAT",
    "SCHEDULER_FORMS",
    "SEED_AXIS",
    "Cell",
    "CellDone",
    "GridSpec",
    "GridTable",
    "KGrid",
    "Scheduler",
    "boundary_summary",
    "build_table",
    "cell_key",
    "cell_path",
    "check_grid",
    "check_scheduler",
    "grid",
    "grid_memory",
    "load_spec",
    "parse_scheduler",
    "parse_spec",
    "pin_blas",
    "run_cell",
    "table_bytes",
]
