"""Atomic writes, output-path checks and the folder lock (catapult_theory.files)."""

import os
import subprocess
import sys
import threading

import pytest

from catapult_theory.errors import InvalidInput
from catapult_theory.files import (LOCK_NAME, FolderLock, check_output_dir, check_output_file, save_figure,
                                   write_atomic)


def test_write_atomic_text_and_bytes(tmp_path):
    write_atomic(tmp_path / "a.txt", "héllo")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]  # no temporary left


def test_write_atomic_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "r.md"
    target.write_text("old")

    class Boom(str):
        def encode(self, *a, **k):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, Boom("new"))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_concurrent_writers_never_share_a_temporary(tmp_path):
    target = tmp_path / "report.md"
    errors = []

    def writer(i):
        try:
            for _ in range(50):
                write_atomic(target, f"writer {i}\n" * 1000)
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    text = target.read_text()
    assert len(set(text.splitlines())) == 1 and len(text.splitlines()) == 1000  # one whole version


def test_save_figure(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    save_figure(fig, tmp_path / "f.png")
    plt.close(fig)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_check_output_file(tmp_path):
    assert check_output_file(tmp_path / "new" / "deeper" / "x.png", "--plot", (".png",)).name == "x.png"
    assert (tmp_path / "new" / "deeper").is_dir()  # made before any work
    with pytest.raises(InvalidInput, match="--plot .*is a directory"):
        check_output_file(tmp_path, "--plot")
    with pytest.raises(InvalidInput, match="must end in .png"):
        check_output_file(tmp_path / "x.txt", "--plot", (".png",))
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInput, match="--out .*is not a directory"):
        check_output_file(tmp_path / "file" / "x.md", "--out")
    with pytest.raises(InvalidInput, match="expected a file name"):
        check_output_file(str(tmp_path) + "/", "--out")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_check_output_rejects_unwritable_places():
    with pytest.raises(InvalidInput, match="cannot write in /proc"):
        check_output_file("/proc/x.png", "--plot")
    with pytest.raises(InvalidInput, match="--out"):
        check_output_dir("/proc/report", "--out")


def test_check_output_dir(tmp_path):
    assert check_output_dir(tmp_path / "a" / "b", "--out").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidInput, match="--out .*is not a directory"):
        check_output_dir(tmp_path / "f", "--out")


def test_folder_lock_refuses_a_second_writer(tmp_path):
    with FolderLock(tmp_path, "report folder"):
        assert (tmp_path / LOCK_NAME).exists()
        with pytest.raises(InvalidInput, match=r"report folder .* is in use by process \d+"):
            FolderLock(tmp_path, "report folder").acquire()
    assert not (tmp_path / LOCK_NAME).exists()
    with FolderLock(tmp_path):  # free again
        pass


def test_folder_lock_released_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with FolderLock(tmp_path):
            raise RuntimeError
    assert not (tmp_path / LOCK_NAME).exists()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    import socket

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    (tmp_path / LOCK_NAME).write_text(f"{dead}@{socket.gethostname()}\n")
    with FolderLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"{os.getpid()}@")


def _dead_pid():
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_two_takers_of_a_stale_lock_never_both_hold_it(tmp_path, monkeypatch):
    """Two threads take over one stale lock at once, 40 times, with the window between
    reading the stale holder and replacing it held open (both read it before either
    goes on): exactly one holds the lock each time. (The old takeover, read, delete and
    create again, let both hold it in every such trial.)"""
    import socket
    import threading

    stale = f"{_dead_pid()}@{socket.gethostname()}\n"
    real = FolderLock._holder

    for trial in range(40):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        (folder / LOCK_NAME).write_text(stale)
        gate = threading.Barrier(2)

        def slow_holder(self, gate=gate):
            try:
                gate.wait(timeout=0.3)  # both takers have read (or are about to read) the holder
            except threading.BrokenBarrierError:
                pass
            return real(self)

        monkeypatch.setattr(FolderLock, "_holder", slow_holder)
        won, locks = [], []
        start = threading.Barrier(2)

        def take():
            lock = FolderLock(folder)
            start.wait()
            try:
                lock.acquire()
            except InvalidInput:
                return
            won.append(1)
            locks.append(lock)

        threads = [threading.Thread(target=take) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for lock in locks:
            lock.release()
        assert len(won) == 1, f"trial {trial}: {len(won)} holders"


def test_two_processes_racing_for_a_stale_lock(tmp_path):
    """The same race between two processes (forked, released together), 15 times: one
    holder each time, the other refused naming it."""
    import multiprocessing
    import socket

    ctx = multiprocessing.get_context("fork")
    stale = f"{_dead_pid()}@{socket.gethostname()}\n"
    for trial in range(15):
        folder = tmp_path / f"p{trial}"
        folder.mkdir()
        (folder / LOCK_NAME).write_text(stale)
        go, done, results = ctx.Event(), ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_race_taker, args=(str(folder), go, done, results)) for _ in range(2)]
        for p in procs:
            p.start()
        go.set()
        got = [results.get(timeout=30) for _ in procs]
        done.set()
        for p in procs:
            p.join(timeout=30)
        assert sorted(got) == ["held", "refused"], (trial, got)


def _race_taker(folder, go, done, results):
    go.wait(10)
    lock = FolderLock(folder)
    try:
        lock.acquire()
    except InvalidInput:
        results.put("refused")
        return
    results.put("held")
    done.wait(10)
    lock.release()


def test_a_lock_of_a_live_holder_is_respected_without_the_os_lock(tmp_path):
    """A lock file naming a live process (here: this one, without holding the OS lock, as a
    process of another host over a network file system would look) is not taken."""
    import socket

    (tmp_path / LOCK_NAME).write_text(f"{os.getpid()}@{socket.gethostname()}\n")
    with pytest.raises(InvalidInput, match="in use by process"):
        FolderLock(tmp_path).acquire()
    (tmp_path / LOCK_NAME).write_text("1@another-host\n")
    with pytest.raises(InvalidInput, match="in use by process 1 on another-host"):
        FolderLock(tmp_path).acquire()


def test_source_digest_follows_every_python_file(tmp_path):
    """An edit, a new file or a renamed file changes the digest; other files do not."""
    from catapult_theory.files import source_digest

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    first = source_digest([pkg])
    assert source_digest([pkg]) == first
    (pkg / "notes.txt").write_text("not code")
    assert source_digest([pkg]) == first
    (pkg / "a.py").write_text("x = 2\n")
    edited = source_digest([pkg])
    assert edited != first
    (pkg / "a.py").rename(pkg / "b.py")
    assert source_digest([pkg]) not in (first, edited)
    (pkg / "sub").mkdir()
    (pkg / "sub" / "c.py").write_text("")
    assert source_digest([pkg]) not in (first, edited)


def test_the_report_cache_keys_on_the_package_and_proofs_source():
    from pathlib import Path

    import catapult_theory
    import proofs
    from catapult_theory.files import source_digest
    from catapult_theory.report._cache import code_hash

    roots = [Path(catapult_theory.__file__).parent, Path(proofs.__file__).parent]
    assert code_hash() == source_digest(roots) != source_digest(roots[:1])


def test_temp_target_names_the_file_a_left_over_temporary_was_for(tmp_path, monkeypatch):
    from pathlib import Path

    from catapult_theory import files

    seen = []
    real = files.os.replace
    monkeypatch.setattr(files.os, "replace", lambda src, dst: seen.append(Path(src).name) or real(src, dst))
    files.write_atomic(tmp_path / "entry-x.pickle", b"data")
    assert files.temp_target(seen[0]) == "entry-x.pickle"
    assert files.temp_target("entry-x.pickle") is None and files.temp_target(".other.tmp") is None
