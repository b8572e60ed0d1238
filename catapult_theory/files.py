"""Files the package writes: atomic writes, output paths checked before any work, folder locks.

* :func:`write_atomic` writes text or bytes through a temporary file with a unique
  name in the same folder and ``os.replace``: a reader (or a crash) sees either the
  old file or the complete new one, never half of it, and two writers never share a
  temporary name.
* :func:`save_figure` is :func:`write_atomic` for a Matplotlib figure.
* :func:`check_output_file` and :func:`check_output_dir` are run on ``--plot``,
  ``--out`` (and every future output flag) *before* any computation: the folder
  exists or is made, a probe file can be created in it, and the path is not a
  directory (or is one, for a folder). A path that fails raises
  :class:`~catapult_theory.errors.InvalidInput` naming the flag.
* :class:`FolderLock` refuses a second concurrent writer of one folder (a report
  folder, a grid's output folder).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import secrets
import socket
from pathlib import Path
from types import TracebackType
from collections.abc import Iterable
from typing import Any

from .errors import InvalidInput

__all__ = ["source_digest", "temp_target", "write_atomic", "save_figure", "check_name_lengths", "check_output_file",
           "check_output_dir", "describe_failure", "is_output_failure", "FolderLock", "LOCK_NAME", "NAME_MAX",
           "OUTPUT_ERRNOS"]

#: name of the lock file :class:`FolderLock` keeps in a folder while it writes there
LOCK_NAME = ".catapult.lock"


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


_TEMP_RE = re.compile(r"^\.(?P<target>.+)\.\d+\.[0-9a-f]{8}\.tmp$")


def temp_target(name: str) -> str | None:
    """The name of the file a temporary file of :func:`write_atomic` was written for (a
    left-over of a killed writer), or ``None`` for any other name."""
    m = _TEMP_RE.match(name)
    return m.group("target") if m else None


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` through a temporary file in the
    same folder and ``os.replace``: the file is either the old one or the complete new one."""
    path = Path(path)
    # a unique name, created with mode 0o666 so the umask applies as for any new file
    # (tempfile.mkstemp would leave the file readable by its owner only)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """``fig.savefig`` into memory, then :func:`write_atomic` (the format from the suffix)."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".").lower() or "png", **kwargs)
    return write_atomic(path, buf.getvalue())


#: errors of an output that could not be written (a full or read-only disk, a file in the way, no permission)
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG, errno.EACCES,
                           errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ENOENT})


def is_output_failure(err: BaseException) -> bool:
    """True for an :class:`OSError` of :data:`OUTPUT_ERRNOS`: the output could not be written
    (reported with exit code 3, not as a bug)."""
    return isinstance(err, OSError) and err.errno in OUTPUT_ERRNOS


def describe_failure(err: OSError) -> str:
    """``No space left on device (report.md)``: the reason and the file, for one line."""
    name = err.filename2 if err.filename2 is not None else err.filename
    return f"{err.strerror or err}" + (f" ({name})" if name is not None else "")


#: the longest file name (one path component) most file systems take
NAME_MAX = 255


def check_name_lengths(path: str | os.PathLike[str], what: str) -> None:
    """Refuse (:class:`InvalidInput`, naming ``what``) a path with a component longer than
    the file system takes (:data:`NAME_MAX` bytes, or the folder's own limit), or a path
    longer than the system's: every later use of it would fail with ``ENAMETOOLONG``."""
    text = os.fspath(path)
    if "\x00" in text:
        raise InvalidInput(f"{what} {text!r}: a path cannot contain a NUL character")
    for part in Path(text).parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise InvalidInput(f"{what} {text[:60]}...: the name {part[:20]}... is {size} bytes long; "
                               f"file names take at most {NAME_MAX}")
    limit = 4096
    try:
        limit = int(os.pathconf("/", "PC_PATH_MAX"))
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not POSIX
        pass
    if len(os.fsencode(os.path.abspath(text))) >= limit:
        raise InvalidInput(f"{what} {text[:60]}...: the path is longer than the {limit} bytes the system takes")


def _probe(folder: Path, flag: str, shown: str) -> None:
    """Create and remove a file in ``folder``: the only reliable test that it takes files
    (permission bits say nothing for root, nor for /proc or a read-only mount)."""
    probe = folder / f".catapult-probe.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise InvalidInput(f"{flag} {shown}: cannot write in {folder}: {err.strerror or err}") from None
    os.close(fd)
    probe.unlink(missing_ok=True)


def _make_folder(folder: Path, flag: str, shown: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{flag} {shown}: {folder} is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInput(f"{flag} {shown}: cannot create the folder {folder}: {err.strerror or err}") from None


def check_output_file(path: str | os.PathLike[str], flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Check an output file before any work: a suffix from ``suffixes`` (if given), not a
    directory, its folder exists (made if missing) and takes a new file, and the file, if
    it exists, is a regular file. Returns the path; :class:`InvalidInput` naming ``flag``."""
    shown = str(path)
    p = Path(path)
    if not shown or shown.endswith(("/", os.sep)):
        raise InvalidInput(f"{flag} {shown!r}: expected a file name, not a folder")
    check_name_lengths(shown, flag)
    if suffixes and p.suffix.lower() not in suffixes:
        raise InvalidInput(f"{flag} {shown}: the file must end in {', '.join(suffixes)}")
    if p.is_dir():
        raise InvalidInput(f"{flag} {shown}: is a directory")
    if p.exists() and not p.is_file():
        raise InvalidInput(f"{flag} {shown}: exists and is not a regular file")
    folder = p.parent if str(p.parent) else Path(".")
    _make_folder(folder, flag, shown)
    _probe(folder, flag, shown)
    return p


def check_output_dir(path: str | os.PathLike[str], flag: str) -> Path:
    """Check an output folder before any work: not a file, made if missing, takes new files.
    Returns the path; :class:`InvalidInput` naming ``flag``."""
    shown = str(path)
    if not shown:
        raise InvalidInput(f"{flag}: expected a folder name")
    check_name_lengths(shown, flag)
    p = Path(path)
    _make_folder(p, flag, shown)
    _probe(p, flag, shown)
    return p


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class FolderLock:
    """An exclusive lock on a folder for the life of a ``with`` block.

    The lock is the file :data:`LOCK_NAME` in the folder, holding ``pid@host``, and an
    OS lock (``flock``) on it for as long as the holder runs: the kernel lets exactly
    one process hold it and releases it when that process ends, however it ends. A
    second writer finds it held and gets :class:`InvalidInput` (naming the holder). A
    lock file left by a process that no longer exists on this host (killed with
    SIGKILL) is taken over, atomically: the taker holds the OS lock before it rewrites
    the file, so of two takers racing for one stale lock only one wins. A lock file that
    names a live process (on this host, or any process on another host) is respected
    even without the OS lock (a lock of another machine over a network file system).
    The lock file is removed on exit, also on an exception or Ctrl-C.
    """

    def __init__(self, folder: str | os.PathLike[str], what: str = "folder") -> None:
        self.folder, self.what = Path(folder), what
        self.path = self.folder / LOCK_NAME
        self._held = False
        self._fd: int | None = None

    def _holder(self) -> tuple[int, str] | None:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            pid, host = text.split("@", 1)
            return int(pid), host
        except (OSError, ValueError):
            return None

    def _refuse(self, holder: tuple[int, str] | None) -> InvalidInput:
        who = f"process {holder[0]} on {holder[1]}" if holder else "another process"
        return InvalidInput(
            f"the {self.what} {self.folder} is in use by {who} (lock file {self.path}); "
            "wait for it to finish, or remove the lock file if that process is gone")

    def acquire(self) -> None:
        """Take the lock; :class:`InvalidInput` if a live process holds it."""
        me, host = os.getpid(), socket.gethostname()
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise InvalidInput(f"cannot create the lock file {self.path}: {err.strerror or err}") from None
            if not _os_lock(fd):
                os.close(fd)
                raise self._refuse(self._holder())
            try:  # the file may have been released (removed) between our open and our lock
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except OSError:
                same = False
            if not same:
                os.close(fd)
                continue
            holder = self._holder()
            if holder is not None and (holder[1] != host or _alive(holder[0])):
                os.close(fd)  # a live holder that does not use the OS lock (another host, an old release)
                raise self._refuse(holder)
            # free, or stale (its process is gone): ours, and we hold the OS lock while we rewrite it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{me}@{host}\n".encode("utf-8"), 0)
            self._fd, self._held = fd, True
            return
        raise InvalidInput(f"could not lock the {self.what} {self.folder} (lock file {self.path})")

    def release(self) -> None:
        """Remove the lock file (if this lock holds it), then let go of the OS lock."""
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _os_lock(fd: int) -> bool:
    """Take the exclusive OS lock of ``fd`` without waiting: ``False`` when another open
    file holds it. Without ``fcntl`` (not POSIX) the lock file's contents decide alone."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without flock (some network mounts): the contents decide
        return True
    return True


def source_digest(roots: Iterable[Path]) -> str:
    """SHA-256 of the Python source below each folder of ``roots``: every ``.py`` file by its
    path relative to the folder's parent, then its bytes (in path order), so an edit, an
    added, removed or renamed file changes it."""
    h = hashlib.sha256()
    for root in roots:
        root = Path(root).resolve()
        for path in sorted(root.rglob("*.py")):
            h.update(path.relative_to(root.parent).as_posix().encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()
