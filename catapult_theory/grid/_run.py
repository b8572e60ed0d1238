"""Running a grid: cells to tasks on Dask, results to files as they finish.

One code path for every scheduler: the cells still missing become tasks
(:func:`~catapult_theory.grid._task.run_cell`, keyed by the hash of the cell's
configuration); each finished result is written at once, atomically, to
``OUT/cells/<hash>.json``, so an interrupted grid keeps every finished cell and
``resume`` recomputes only the missing ones. Where tasks run:

* ``synchronous``: one after the other in this process (Dask's synchronous scheduler);
* ``processes:N``: a pool of N local processes (Dask's multiprocessing scheduler), no cluster;
* ``local`` / ``local:N``: a ``dask.distributed`` ``LocalCluster`` of N single-threaded
  worker processes (default: one per core), which also survives a lost worker;
* an address (``tcp://host:8786``): the scheduler of an existing cluster;
* or a ``dask.distributed.Client`` passed to :func:`grid` (a notebook's own).

The default (``scheduler=None``) is a process pool sized to the machine, or
synchronous when only one core or one cell is left.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ._spec import Cell, GridSpec, load_spec, parse_spec, spec_message
from ._figures import write_outputs
from ._table import GridTable, build_table, table_bytes

__all__ = ["ADDRESS_SCHEMES", "SCHEDULER_FORMS", "CellDone", "Scheduler", "cell_path", "check_grid", "check_scheduler",
           "grid", "grid_memory", "parse_scheduler"]

SCHEDULER_FORMS = ("synchronous, processes:N, local, local:N or a scheduler address such as tcp://host:8786 "
                   "(schemes tcp, tls, ws, wss)")
#: the address schemes of a remote Dask scheduler
ADDRESS_SCHEMES = ("tcp", "tls", "ws", "wss")
#: seconds to wait for a remote scheduler to answer before giving up
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Scheduler:
    """Where the tasks run: ``kind`` is ``synchronous``, ``processes``, ``local``,
    ``address`` or ``client``; ``workers`` the pool size (processes, local)."""

    kind: str
    workers: int | None = None
    address: str | None = None

    def describe(self) -> str:
        """One phrase for progress and reports."""
        if self.kind == "synchronous":
            return "in-process, synchronous"
        if self.kind == "processes":
            return f"in-process pool of {self.workers} processes"
        if self.kind == "local":
            return f"LocalCluster of {self.workers} workers"
        if self.kind == "address":
            return f"cluster at {self.address}"
        return "the given Dask client"


def _cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return max(os.cpu_count() or 1, 1)


def parse_scheduler(text: str | None, todo: int | None = None) -> Scheduler:
    """Read a ``--scheduler`` value (:data:`SCHEDULER_FORMS`); ``None`` is the default
    for ``todo`` cells: a process pool with one process per core (at most one per
    cell), synchronous with one core or one cell."""
    if text is None:
        n = min(_cores(), todo if todo is not None else _cores())
        return Scheduler("processes", n) if n > 1 else Scheduler("synchronous")
    if not isinstance(text, str):
        raise InvalidInput(f"scheduler must be a string ({SCHEDULER_FORMS}), got {text!r}")
    t = text.strip()
    if t in ("synchronous", "sync"):
        return Scheduler("synchronous")
    if t == "local":
        return Scheduler("local", _cores())
    if re.fullmatch(r"threads?(:\S*)?", t):
        raise InvalidInput(f"scheduler {t!r}: a thread pool is not offered (each cell holds the GIL); "
                           "use processes:N or local:N")
    m = re.fullmatch(r"(processes|local):(\S*)", t)
    if m:
        if not m.group(2).isdigit() or int(m.group(2)) < 1:
            raise InvalidInput(f"scheduler {t!r}: {m.group(1)}:N needs a positive integer N")
        return Scheduler(m.group(1), int(m.group(2)))
    m = re.fullmatch(r"([a-z][a-z0-9+.-]*)://(\S*)", t)
    if m:
        if m.group(1) not in ADDRESS_SCHEMES:
            raise InvalidInput(f"scheduler {t!r}: unknown scheme {m.group(1)}://; a scheduler address is "
                               f"{' or '.join(s + '://HOST:PORT' for s in ADDRESS_SCHEMES)}")
        if _host_port(m.group(2)) is None:
            raise InvalidInput(f"scheduler {t!r}: expected {m.group(1)}://HOST:PORT")
        return Scheduler("address", address=t)
    if re.fullmatch(r"[\w.-]+:\d+", t):
        return Scheduler("address", address=t)
    raise InvalidInput(f"scheduler {t!r} is not one of: {SCHEDULER_FORMS}")


def _host_port(rest: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``HOST:PORT`` (``[::1]:8786`` for IPv6), or ``None``."""
    m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[\w.-]+):(\d{1,5})/?", rest)
    if not m or not 0 < int(m.group(2)) < 65536:
        return None
    return m.group(1).strip("[]"), int(m.group(2))


def _reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse (:class:`InvalidInput`) a scheduler address nothing answers on within
    ``timeout`` seconds (a refused connection fails at once)."""
    import socket

    rest = address.split("://", 1)[1] if "://" in address else address
    hp = _host_port(rest)
    if hp is None:  # pragma: no cover - parse_scheduler checked it
        return
    try:
        with socket.create_connection(hp, timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc) or type(exc).__name__)
        raise InvalidInput(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def grid_memory(spec: GridSpec) -> list[Any]:
    """What the process running ``spec`` holds for the grid itself (records and table of
    every cell, :func:`~catapult_theory.grid.table_bytes`), from the axes alone: no cell
    is made. Each cell checks its own computation when it runs."""
    import math

    from ..resources import Need

    cells = math.prod(spec.shape())
    return [Need(f"the records and table of {cells} cells x {spec.k.num} values of k", table_bytes(cells, spec.k.num),
                 "the number of values on the axes (or k.num)")]


def check_grid(spec: GridSpec) -> float:
    """Refuse (:class:`InvalidInput`, before any cell is made) a grid whose records and table
    would not fit the memory limit (``--max-memory``, ``CATAPULT_MAX_MEMORY``, or a quarter
    of the available memory) beside what the process holds; returns the estimate."""
    from ..resources import check_memory

    return check_memory(grid_memory(spec), f"the {spec.model} grid")


def check_scheduler(text: str | None) -> Scheduler:
    """:func:`parse_scheduler`, and for an address a connection attempt: a scheduler nobody
    listens on is :class:`InvalidInput` within :data:`CONNECT_TIMEOUT` seconds, before any work."""
    sched = parse_scheduler(text)
    if sched.kind == "address" and sched.address is not None:
        _reachable(sched.address)
    return sched


@dataclass(frozen=True)
class CellDone:
    """Progress of a grid: one cell finished (``reused`` when read from its file)."""

    cell: Cell
    record: Mapping[str, Any]
    done: int
    total: int
    reused: bool = False

    def line(self) -> str:
        """``[3/10] width=100 seed=2: catapult_onset 2.0117, divergence 4 (0.8 s)``."""
        res = self.record["result"]
        b = ", ".join(f"{n} {_num(v)}" for n, v in res.get("boundaries", {}).items())
        how = "reused" if self.reused else f"{self.record.get('seconds', 0.0):.1f} s"
        return f"[{self.done}/{self.total}] {self.cell.label()}: {b} ({how})"


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.6g}"


def _as_spec(spec: GridSpec | Mapping[str, Any] | str | os.PathLike[str]) -> GridSpec:
    if isinstance(spec, GridSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec)
    if isinstance(spec, (str, os.PathLike)):
        return load_spec(spec)
    raise InvalidInput(f"spec must be a GridSpec, a mapping or the path of a TOML file, got {type(spec).__name__}")


def _plain(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as it reads back from its file (strict JSON, no NaN)."""
    out: dict[str, Any] = json.loads(json.dumps(record, allow_nan=False))
    return out


def cell_path(out: Path, key: str) -> Path:
    """The file of a cell: ``OUT/cells/<first 16 hex digits of its hash>.json``."""
    return out / "cells" / f"{key[:16]}.json"


def _load_cell(out: Path, cell: Cell) -> dict[str, Any] | None:
    """The stored result of ``cell`` if its file is complete and is about this very configuration."""
    path = cell_path(out, cell.key)
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("key") != cell.key or not _complete(rec.get("result"), cell.k.num):
        return None
    if rec.get("config") != _plain(cell.config):
        return None
    return rec


def _complete(result: Any, num: int) -> bool:
    """A cell's result has what the table reads: ``k`` and ``phase`` with ``num`` entries,
    ``final`` series of that length, and ``boundaries``, ``bounds`` and ``settings`` tables
    (a file that lacks any of it, or holds other types, is computed again like a corrupt one)."""
    if not isinstance(result, dict):
        return False
    k, phase = result.get("k"), result.get("phase")
    if not (isinstance(k, list) and isinstance(phase, list) and len(k) == len(phase) == num):
        return False
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in k):
        return False
    if not all(isinstance(p, str) for p in phase):
        return False
    final = result.get("final", {})
    if not isinstance(final, dict) or not all(isinstance(v, list) and len(v) == num for v in final.values()):
        return False
    return all(isinstance(result.get(name, {}), dict) for name in ("boundaries", "bounds", "settings"))


def grid(
    spec: GridSpec | Mapping[str, Any] | str | os.PathLike[str],
    client: Any = None,
    *,
    out: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    figures: bool = True,
    progress: Callable[[CellDone], None] | None = None,
    blas_threads: int | None = 1,
) -> GridTable:
    """Run a grid and return its tidy table (one row per cell and ``k``).

    ``spec``: a :class:`GridSpec`, a mapping (a parsed SPEC) or the path of a
    TOML SPEC. ``client``: a ``dask.distributed.Client`` to run on (then
    ``scheduler`` must be ``None``); otherwise ``scheduler`` picks where to run
    (:func:`parse_scheduler`). ``out``: the folder of the cell files, the table
    (``table.csv``), ``grid.json`` and the figures (``figures/``, unless
    ``figures=False``); ``None`` keeps everything in memory. ``resume``: reuse
    the cells already in ``out`` (only missing ones are computed).
    ``progress(CellDone)`` is called after each cell, in this process.
    ``blas_threads``: BLAS threads per task (``None``: leave the workers alone).

    Local processes (the default pool, ``local``) are started with ``spawn``: a
    script that calls :func:`grid` needs the usual ``if __name__ == "__main__":``
    guard of multiprocessing code (a notebook does not).
    """
    spec = _as_spec(spec)
    if client is not None and scheduler is not None:
        raise InvalidInput("give either a Dask client or a scheduler, not both")
    if blas_threads is not None and (isinstance(blas_threads, bool) or not isinstance(blas_threads, int)
                                     or blas_threads < 1):
        raise InvalidInput(f"blas_threads must be a positive integer or None, got {blas_threads!r}")
    if client is None:
        check_scheduler(scheduler)  # a bad or unreachable scheduler fails before anything runs
    check_grid(spec)  # the number of cells and the grid's own table, before a cell is made
    cells = spec.cells()
    out_dir = Path(out) if out is not None else None
    if out_dir is None:
        return _grid(spec, cells, client, None, scheduler, resume, figures, progress, blas_threads)
    from ..files import FolderLock, check_output_dir

    check_output_dir(out_dir, "--out")
    with FolderLock(out_dir, "grid folder"):
        return _grid(spec, cells, client, out_dir, scheduler, resume, figures, progress, blas_threads)


def _grid(spec: GridSpec, cells: list[Cell], client: Any, out_dir: Path | None, scheduler: str | None,
          resume: bool, figures: bool, progress: Callable[[CellDone], None] | None,
          blas_threads: int | None) -> GridTable:
    by_key = {c.key: c for c in cells}
    records: dict[str, dict[str, Any]] = {}
    reused: list[str] = []
    total = len(cells)
    if out_dir is not None and resume:
        for cell in cells:
            rec = _load_cell(out_dir, cell)
            if rec is not None:
                records[cell.key] = rec
                reused.append(cell.key)
                if progress is not None:
                    progress(CellDone(cell, rec, len(records), total, reused=True))
    todo = [c for c in cells if c.key not in records]
    sched = Scheduler("client") if client is not None else parse_scheduler(scheduler, len(todo))
    if out_dir is not None:
        (out_dir / "cells").mkdir(exist_ok=True)
    params = list(spec.params)

    failures: list[str] = []

    def finished(raw: Mapping[str, Any]) -> None:
        cell = by_key[raw["key"]]
        if "error" in raw:
            raise InvalidInput(f"SPEC cell {cell.label()}: {spec_message(str(raw['error']), params)}")
        rec = _plain(raw)
        if out_dir is not None:
            from ..files import describe_failure, is_output_failure, write_atomic

            try:
                write_atomic(cell_path(out_dir, cell.key), json.dumps(rec, allow_nan=False, indent=1) + "\n")
            except OSError as err:  # a full disk: the result is kept in memory, the grid goes on
                if not is_output_failure(err):
                    raise
                failures.append(f"could not write the cell file of {cell.label()}: {describe_failure(err)}")
        records[cell.key] = rec
        if progress is not None:
            progress(CellDone(cell, rec, len(records), total))

    if todo:
        _execute(todo, sched, client, finished, blas_threads)
    table = build_table(spec, cells, records, computed=[c.key for c in todo], reused=reused,
                        scheduler=sched.describe() if todo else "nothing to compute")
    if out_dir is not None:
        from ..files import describe_failure, is_output_failure

        try:
            table = write_outputs(table, out_dir, figures=figures)
        except OSError as err:
            if not is_output_failure(err):
                raise
            failures.append(f"could not write the table, grid.json or figures in {out_dir}: {describe_failure(err)}")
    if failures:
        from dataclasses import replace

        table = replace(table, failures=tuple(failures))
    return table


# --------------------------------------------------------------------------- executors


def _execute(cells: list[Cell], sched: Scheduler, client: Any, finished: Callable[[Mapping[str, Any]], None],
             blas_threads: int | None) -> None:
    if sched.kind == "client":
        _on_client(client, cells, finished, blas_threads)
    elif sched.kind in ("synchronous", "processes"):
        _in_process(cells, sched, finished, blas_threads)
    elif sched.kind == "local":
        from distributed import Client, LocalCluster

        from ..resources import ENV_VAR
        from ._task import worker_memory

        # single-threaded workers; their nanny starts them with one BLAS thread, the plugin makes
        # sure; each worker gets its share of this process's memory limit
        n = min(sched.workers or 1, len(cells))
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                          env={ENV_VAR: str(worker_memory(n))}) as cluster, Client(cluster) as local_client:
            _on_client(local_client, cells, finished, blas_threads)
    else:
        from distributed import Client

        assert sched.address is not None
        _reachable(sched.address)  # nobody listening: one line within seconds, not Dask's retries
        try:
            remote = Client(sched.address, timeout=f"{CONNECT_TIMEOUT:g}s")
        except (OSError, TimeoutError) as exc:
            raise InvalidInput(f"cannot reach the Dask scheduler at {sched.address}: {exc}") from None
        with remote:
            _on_client(remote, cells, finished, blas_threads)


def _on_client(client: Any, cells: list[Cell], finished: Callable[[Mapping[str, Any]], None],
               blas_threads: int | None) -> None:
    """Submit every cell to a ``dask.distributed`` client; store each result as it
    arrives. A worker lost mid-task is the scheduler's business: it reruns the task
    elsewhere (``distributed.scheduler.allowed-failures`` times)."""
    from distributed import as_completed

    from ._dask import PLUGIN_NAME, PinBLAS
    from ._task import run_cell

    if blas_threads is not None:
        client.register_plugin(PinBLAS(blas_threads), name=PLUGIN_NAME)
    futures = [client.submit(run_cell, cell.config, key=f"catapult-cell-{cell.key}") for cell in cells]
    try:
        done = as_completed(futures)
        while not done.is_empty():
            # poll rather than block inside the client's event loop: Ctrl-C then lands in this
            # thread's sleep and unwinds cleanly (cancel the rest, close the cluster)
            batch = done.next_batch(block=False)
            if not batch:
                time.sleep(0.05)
            for fut in batch:
                raw = fut.result()
                fut.release()
                finished(raw)
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)


def _in_process(cells: list[Cell], sched: Scheduler, finished: Callable[[Mapping[str, Any]], None],
                blas_threads: int | None) -> None:
    """Dask's local schedulers: synchronous in this thread, or a local process pool."""
    from contextlib import nullcontext

    import dask
    from dask.callbacks import Callback

    from ._task import run_cell, start_worker, worker_memory

    names = {f"catapult-cell-{c.key}" for c in cells}
    tasks = [dask.delayed(run_cell)(c.config, dask_key_name=f"catapult-cell-{c.key}") for c in cells]

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in names:
            finished(result)

    with Callback(posttask=posttask):
        if sched.kind == "synchronous":
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=blas_threads) if blas_threads is not None else nullcontext():
                dask.compute(*tasks, scheduler="synchronous")
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # each worker: its BLAS threads and its share of this process's memory limit
        share = worker_memory(sched.workers or 1)
        pool = ProcessPoolExecutor(sched.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=start_worker, initargs=(blas_threads, share))
        try:
            dask.compute(*tasks, scheduler="processes", pool=pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
