"""The task of one grid cell: a pure function of the cell's configuration.

:func:`run_cell` runs the family's own ``catapult phases`` handler (its CLI face,
the one mapping from arguments to setups and sweeps) on the cell's arguments:
one batched sweep over ``k``, after the memory estimate of that command (against
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

import argparse
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
    from ..cli import CLIError
    from ..errors import InvalidInput
    from ..families import get_family
    from ._spec import cell_key

    key = cell_key(config)
    k = config["k"]
    args = argparse.Namespace(**config["params"], k_min=k["min"], k_max=k["max"], num=k["num"],
                              k_scale=k["scale"], plot=None, format="json")
    start = time.perf_counter()
    try:
        face = get_family(config["model"]).cli_face()
        # as `catapult phases`: the memory estimate first, against this process's limit
        payload, _text = face.execute(args, "phases", f"grid cell {key} ({config['model']})")
    except (InvalidInput, CLIError) as exc:
        return {"key": key, "config": dict(config), "error": str(exc).splitlines()[0] if str(exc) else repr(exc)}
    return {"key": key, "config": dict(config), "result": payload, "seconds": time.perf_counter() - start}
