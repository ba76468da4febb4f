"""An exclusive, advisory lock file that keeps two builds out of one output folder.

The lock is an ``fcntl.flock`` on a small file next to the output folder. The kernel
releases it when the holder exits, however it exits (also on SIGKILL or a crash), so a
stale lock file never blocks a later build. The file holds the holder's process id (shown
in the error message of a second build) and is removed when the lock is released.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from pathlib import Path

from .errors import BuildLockedError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking, documented
    fcntl = None  # type: ignore[assignment]

__all__ = ["BuildLock"]


class BuildLock:
    """Exclusive lock on ``path``; ``timeout`` seconds to wait for another holder (0: none).

    Use as a context manager. Raises :class:`~msme_stats.errors.BuildLockedError` naming the
    lock file and the process id of the holder when the lock is not free in time.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 0.0,
                 what: str = "the output folder") -> None:
        self.path = Path(path)
        self.timeout = max(0.0, float(timeout))
        self.what = what
        self._fd: int | None = None

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return "another process"
        return f"process {text}" if text.isdigit() else "another process"

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    waited = f" after waiting {self.timeout:g} s" if self.timeout else ""
                    raise BuildLockedError(
                        f"{self.what} is locked by {self._holder()} (lock file {self.path}){waited}: "
                        "another msme-stats build is writing there. Wait for it to finish, pass "
                        "--wait SECONDS to wait for it, or choose another --out folder."
                    ) from None
                time.sleep(0.05)
                continue
            # the holder before us may have removed the file after we opened it: then our
            # lock is on an unlinked inode and worthless; start again
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # while still holding the lock (see acquire)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
