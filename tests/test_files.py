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
