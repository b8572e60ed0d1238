"""The grid's ``dask.distributed`` pieces (imported only when a grid runs on Dask).

:class:`PinBLAS` is a worker plugin: every worker of the client's cluster (also
one that joins later, or a restarted one) limits its BLAS/OpenMP threads before
its first cell, so that ``threads_per_worker`` cells per worker use that many
cores and no more.
"""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from ._task import pin_blas

__all__ = ["PLUGIN_NAME", "PinBLAS"]

#: the name the plugin is registered under (registering again replaces it)
PLUGIN_NAME = "catapult-theory-pin-blas"


class PinBLAS(WorkerPlugin):
    """Worker plugin: :func:`~catapult_theory.grid._task.pin_blas` on every worker."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = int(threads)

    def setup(self, worker: Any) -> None:
        """Pin the worker process's BLAS threads."""
        pin_blas(self.threads)
