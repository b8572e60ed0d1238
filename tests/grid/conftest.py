"""Shared pieces of the grid tests: tiny SPECs and one 2-worker LocalCluster per module."""

import pytest

#: a 2 x 2 uv grid, a few hundredths of a second per cell
TINY = {
    "model": "uv",
    "fixed": {"steps": 60, "k": {"min": 0.5, "max": 5.0, "num": 8}},
    "axes": {"width": [50, 500], "seed": [0, 1]},
}

TINY_TOML = """\
model = "uv"
[fixed]
steps = 60
k = { min = 0.5, max = 5, num = 8 }
[axes]
width = [50, 500]
seed = [0, 1]
"""


@pytest.fixture(scope="module")
def cluster_client():
    """A LocalCluster of 2 single-threaded worker processes and its client, closed at the end."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client
