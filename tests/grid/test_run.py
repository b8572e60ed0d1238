"""Running grids: the same table in-process and on a LocalCluster, resume, a lost worker."""

import json
import os
import signal
import threading
import time

import pytest

from catapult_theory.errors import InvalidInput
from catapult_theory.grid import _task, cell_path, grid, parse_spec, run_cell
from tests.grid.conftest import TINY


def _results(out):
    """Every cell file's configuration and result (what must not depend on where a cell ran)."""
    recs = [json.loads(p.read_text()) for p in sorted((out / "cells").glob("*.json"))]
    return {r["key"]: (r["config"], r["result"]) for r in recs}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny grid run in-process (synchronous): the table every other run must reproduce."""
    out = tmp_path_factory.mktemp("sync")
    table = grid(TINY, out=out, scheduler="synchronous", figures=False)
    return table, out


def test_the_table_is_tidy(reference):
    table, out = reference
    assert table.columns[:7] == ("cell", "width", "seed", "k", "phase", "catapult_onset", "divergence")
    assert {"final_lam_eta", "final_w2_ratio", "bound_lemma", "lam0"} <= set(table.columns)
    assert len(table) == 4 * 8 and len(table.computed) == 4 and table.reused == ()
    rows = table.to_records()
    assert [r["width"] for r in rows[::8]] == [50, 50, 500, 500] and [r["seed"] for r in rows[::8]] == [0, 1, 0, 1]
    assert rows[0]["k"] == 0.5 and rows[7]["k"] == 5.0
    assert {r["phase"] for r in rows} == {"lazy", "catapult", "divergent"}
    # one cell's boundaries on each of its rows; no final state for diverged runs
    assert len({r["catapult_onset"] for r in rows[:8]}) == 1 and 2 < rows[0]["catapult_onset"] < 2.1
    assert all(r["final_lam_eta"] is None for r in rows if r["phase"] == "divergent")
    # the files: the table as CSV, one JSON file per cell (strict JSON, its configuration inside)
    assert (out / "table.csv").read_text() == table.to_csv()
    assert (out / "table.csv").read_text().splitlines()[0].startswith("cell,width,seed,k,phase,catapult_onset")
    for key in table.cells:
        rec = json.loads(cell_path(out, key).read_text(), parse_constant=pytest.fail)
        assert rec["key"] == key and rec["config"]["params"]["width"] in (50, 500)
    info = json.loads((out / "grid.json").read_text())
    assert info["spec"]["axes"] == {"width": [50, 500], "seed": [0, 1]} and len(info["cells"]) == 4


def test_a_task_is_a_pure_function_of_its_configuration():
    cell = parse_spec(TINY).cells()[1]
    a, b = run_cell(cell.config), run_cell(cell.config)
    assert a["key"] == b["key"] == cell.key and a["result"] == b["result"]


def test_local_cluster_gives_the_identical_table(reference, cluster_client, tmp_path):
    table, out = reference
    on_cluster = grid(TINY, client=cluster_client, out=tmp_path, figures=False)
    assert on_cluster.to_csv() == table.to_csv()
    assert (tmp_path / "table.csv").read_bytes() == (out / "table.csv").read_bytes()
    assert _results(tmp_path) == _results(out)
    assert on_cluster.scheduler == "the given Dask client"
    # the workers run with one BLAS thread each
    from threadpoolctl import threadpool_info

    infos = cluster_client.run(lambda: [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
    assert all(n == 1 for threads in infos.values() for n in threads)


def test_resume_after_an_interrupt_runs_only_the_missing_cells(reference, tmp_path, monkeypatch):
    table, _ = reference
    calls = []
    real = _task.run_cell

    def interrupted(config):
        calls.append(config["params"]["width"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(config)

    monkeypatch.setattr(_task, "run_cell", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grid(TINY, out=tmp_path, scheduler="synchronous", figures=False)
    stored = sorted((tmp_path / "cells").glob("*.json"))
    assert len(stored) == 2 and not (tmp_path / "table.csv").exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in stored}
    calls.clear()
    monkeypatch.setattr(_task, "run_cell", lambda config: calls.append(1) or real(config))
    seen = []
    resumed = grid(TINY, out=tmp_path, scheduler="synchronous", resume=True, figures=False,
                   progress=lambda ev: seen.append(ev.reused))
    assert len(calls) == 2 and len(resumed.reused) == 2 and len(resumed.computed) == 2
    assert seen == [True, True, False, False]
    assert {p.name: p.stat().st_mtime_ns for p in stored} == stamps  # finished cells untouched
    assert resumed.to_csv() == table.to_csv()
    # everything there: a second resume computes nothing
    calls.clear()
    again = grid(TINY, out=tmp_path, scheduler="synchronous", resume=True, figures=False)
    assert calls == [] and again.computed == () and again.to_csv() == table.to_csv()


def test_resume_recomputes_a_damaged_or_foreign_cell_file(reference, tmp_path):
    table, _ = reference
    first = grid(TINY, out=tmp_path, scheduler="synchronous", figures=False)
    damaged, foreign = cell_path(tmp_path, first.cells[0]), cell_path(tmp_path, first.cells[1])
    damaged.write_text(damaged.read_text()[:50])
    rec = json.loads(foreign.read_text())
    rec["config"]["params"]["steps"] = 61
    foreign.write_text(json.dumps(rec))
    resumed = grid(TINY, out=tmp_path, scheduler="synchronous", resume=True, figures=False)
    assert set(resumed.computed) == {first.cells[0], first.cells[1]} and resumed.to_csv() == table.to_csv()


@pytest.mark.parametrize("damage", [
    lambda rec: rec["result"].pop("phase"),
    lambda rec: rec["result"].pop("k"),
    lambda rec: rec["result"].update(k=rec["result"]["k"][:-1]),
    lambda rec: rec["result"].update(phase=[1] * len(rec["result"]["phase"])),
    lambda rec: rec["result"].update(final={"lam_eta": [0.0]}),
    lambda rec: rec["result"].update(boundaries=[]),
    lambda rec: rec.update(result=[]),
])
def test_resume_recomputes_a_valid_json_cell_file_without_its_result_keys(reference, tmp_path, damage):
    """A cell file that is valid JSON with the right key and configuration but lacks what
    the table reads (a KeyError on --resume before) is computed again like a corrupt one."""
    table, _ = reference
    first = grid(TINY, out=tmp_path, scheduler="synchronous", figures=False)
    path = cell_path(tmp_path, first.cells[2])
    rec = json.loads(path.read_text())
    damage(rec)
    path.write_text(json.dumps(rec))
    resumed = grid(TINY, out=tmp_path, scheduler="synchronous", resume=True, figures=False)
    assert resumed.computed == (first.cells[2],) and resumed.to_csv() == table.to_csv()


@pytest.mark.slow
def test_a_process_pool_gives_the_identical_table(reference):
    table, _ = reference
    assert grid(TINY, scheduler="processes:2").to_csv() == table.to_csv()


def test_a_cell_the_family_refuses_names_the_cell_and_keys(tmp_path):
    spec = {"model": "uv", "fixed": {"f0": 0.5, "k": {"min": 1, "max": 2, "num": 2}}, "axes": {"width": [10, 20]}}
    with pytest.raises(InvalidInput, match=r"^SPEC cell width=(10|20): f0 and lam0 go together$"):
        grid(spec, scheduler="synchronous")
    with pytest.raises(InvalidInput, match="either a Dask client or a scheduler"):
        grid(TINY, client=object(), scheduler="synchronous")
    with pytest.raises(InvalidInput, match="scheduler"):
        grid(TINY, scheduler="threads:2")
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInput, match="--out"):
        grid(TINY, out=tmp_path / "file", scheduler="synchronous")


def test_summary_figures_per_pair_of_axes(tmp_path):
    spec = {"model": "uv", "fixed": {"steps": 40, "k": {"min": 0.5, "max": 5, "num": 6}},
            "axes": {"width": [20, 200], "y": [0.0, 0.5], "seed": [0]}}
    table = grid(spec, out=tmp_path, scheduler="synchronous")
    names = sorted(n for n in table.files if n.startswith("figure:"))
    assert names == ["figure:width-k", "figure:width-y", "figure:y-k"]
    assert all(table.files[n].stat().st_size > 10_000 for n in names)
    assert table.to_csv().count("\n") == 1 + 4 * 6


def _kill_a_busy_worker(client, killed):
    """Wait until a worker is executing a cell, then SIGKILL its process; record the
    process, the cell's task key and the time."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        running = client.run(lambda dask_worker: [ts.key for ts in dask_worker.state.executing])
        busy = [(addr, keys[0]) for addr, keys in running.items() if keys]
        if busy:
            time.sleep(0.3)  # well inside the cell
            addr, key = busy[0]
            os.kill(pids[addr], signal.SIGKILL)
            killed.append((pids[addr], key, time.monotonic()))
            return
        time.sleep(0.05)


#: cells of about a second each, so that the kill lands inside one
SLOW = {"model": "uv", "fixed": {"steps": 3000, "k": {"min": 0.5, "max": 5.0, "num": 600}},
        "axes": {"width": [50, 500], "seed": [0, 1]}}


@pytest.mark.slow
def test_a_killed_worker_does_not_change_the_result(cluster_client, tmp_path):
    expected = grid(SLOW, out=tmp_path / "sync", scheduler="synchronous", figures=False)
    cluster_client.run(lambda: run_cell(parse_spec(TINY).cells()[0].config))  # warm both workers
    killed, finished = [], {}
    killer = threading.Thread(target=_kill_a_busy_worker, args=(cluster_client, killed))
    killer.start()
    table = grid(SLOW, client=cluster_client, out=tmp_path / "cluster", figures=False,
                 progress=lambda ev: finished.setdefault(f"catapult-cell-{ev.cell.key}", time.monotonic()))
    killer.join()
    assert killed, "no worker was killed"
    pid, key, when = killed[0]
    assert finished[key] > when  # the cell that was running on the killed worker ran again, elsewhere
    assert pid not in cluster_client.run(os.getpid).values()
    assert table.to_csv() == expected.to_csv()
    assert _results(tmp_path / "cluster") == _results(tmp_path / "sync")


def test_a_cell_above_the_memory_limit_is_an_error_record_not_an_allocation(monkeypatch):
    """A cell runs the memory estimate of `catapult phases` before it allocates: above the
    limit of its process it comes back as an error naming the estimate and the flag."""
    from catapult_theory import resources

    cell = parse_spec(TINY).cells()[0]
    monkeypatch.setattr(resources, "_limit_override", None)
    monkeypatch.setenv("CATAPULT_MAX_MEMORY", "1K")
    calls = []
    from catapult_theory.families import get_family

    monkeypatch.setattr(type(get_family("uv")), "phases", lambda self, params, k: calls.append(1))
    rec = run_cell(cell.config)
    assert "error" in rec and "result" not in rec and not calls
    assert "needs about" in rec["error"] and "CATAPULT_MAX_MEMORY" in rec["error"] and cell.key in rec["error"]
    monkeypatch.undo()  # the default limit: the same cell runs
    assert "result" in run_cell(cell.config)


def test_local_workers_share_the_memory_limit(monkeypatch):
    """N local worker processes run at once: each gets limit / N, set as its environment's
    CATAPULT_MAX_MEMORY when it starts."""
    from catapult_theory import resources
    from catapult_theory.grid._task import start_worker, worker_memory

    monkeypatch.setattr(resources, "_limit_override", None)
    monkeypatch.setenv("CATAPULT_MAX_MEMORY", "4G")
    assert worker_memory(4) == (4 << 30) // 4 and worker_memory(1) == 4 << 30
    start_worker(None, 12345)
    assert os.environ["CATAPULT_MAX_MEMORY"] == "12345"
    assert resources.memory_limit() == (12345, "CATAPULT_MAX_MEMORY")
