"""The task of one grid cell: a pure function of the cell's configuration.

:func:`run_cell` runs the family's own ``phases`` (its record,
:mod:`catapult_theory.families`) with the cell's parameters: one batched sweep over
``k``, after the memory estimate of that command (against
the limit of the process it runs in: ``CATAPULT_MAX_MEMORY`` or a quarter of the
available memory). It writes nothing and returns a plain JSON record; the driver
stores it. Bad input (a combination of arguments the family
refuses) comes back as an ``error`` record rather than an exception, so the
driver names the cell and no scheduler retries a deterministic failure.

:func:`pin_blas` limits the BLAS/OpenMP threads of the process it runs in (once);
a worker runs it before its first cell, so that workers sharing a machine do not
oversubscribe its cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["BLAS_ENV", "pin_blas", "run_cell", "start_worker", "worker_memory"]

#: the environment variables that fix the thread count of BLAS/OpenMP libraries at their start
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

_PINNED: dict[str, Any] = {}


def pin_blas(threads: int = 1) -> None:
    """Limit this process's BLAS/OpenMP pools to ``threads`` threads, for good
    (libraries already loaded through threadpoolctl, later ones through the
    environment). Idempotent; meant for worker processes, not for a user's
    interactive process."""
    if _PINNED.get("threads") == threads:
        return
    from threadpoolctl import threadpool_limits

    for name in BLAS_ENV:
        os.environ[name] = str(threads)
    _PINNED["limits"] = threadpool_limits(limits=threads)  # kept alive: the limit holds while it does
    _PINNED["threads"] = threads


def worker_memory(workers: int) -> int:
    """Each of ``workers`` local worker processes' share of this process's memory limit
    (``--max-memory``, ``CATAPULT_MAX_MEMORY`` or a quarter of the available memory): the
    workers run at once, so together they stay within the one limit."""
    from ..resources import memory_limit

    return max(memory_limit()[0] // max(workers, 1), 1)


def start_worker(threads: int | None, memory: int | None) -> None:
    """Set up a local worker process: ``threads`` BLAS threads (:func:`pin_blas`) and
    ``memory`` bytes as its memory limit (``CATAPULT_MAX_MEMORY`` in its environment)."""
    from ..resources import ENV_VAR

    if memory is not None:
        os.environ[ENV_VAR] = str(memory)
    if threads is not None:
        pin_blas(threads)


def run_cell(config: Mapping[str, Any]) -> dict[str, Any]:
    """Run one cell: ``config`` is ``{"model", "params", "k"}`` (a
    :attr:`~catapult_theory.grid.Cell.config`).

    Returns ``{"key", "config", "result", "seconds"}`` with ``result`` the JSON
    payload of ``catapult phases`` (``k``, ``phase``, ``boundaries``, ``final``,
    ``settings``, ``bounds``, ``bound_status``), or ``{"key", "config", "error"}``
    when the family refuses the arguments.
    """
    from ..errors import InvalidInput
    from ..families import KGrid, get_family
    from ._spec import cell_key

    key = cell_key(config)
    k = config["k"]
    start = time.perf_counter()
    try:
        if "file" in config:  # a model file: registered in this process too (a worker loads it once)
            from ..families import ensure_model_file

            ensure_model_file(config["file"]["path"], config["file"].get("builder"), config["file"]["sha256"])
        fam = get_family(config["model"])
        params = fam.params("phases")(**config["params"])
        # as `catapult phases`: the memory estimate first, against this process's limit
        out = fam.execute("phases", params, KGrid(k["min"], k["max"], k["num"], k["scale"]),
                          f"grid cell {key} ({config['model']})")
    except InvalidInput as exc:
        return {"key": key, "config": dict(config), "error": str(exc).splitlines()[0] if str(exc) else repr(exc)}
    return {"key": key, "config": dict(config), "result": out.payload, "seconds": time.perf_counter() - start}
