"""Atomic file and directory writes.

A reader (or a crashed or interrupted writer) never sees a half-written file: data go to a
temporary file in the same directory, which is flushed, synced and then renamed over the
target with :func:`os.replace` (atomic on POSIX and on Windows for files on one volume).

Functions
---------
atomic_write_bytes(path, data)
    Write bytes atomically.
atomic_write_text(path, text, *, encoding="utf-8")
    Write text atomically (newlines are written as given, never translated).
atomic_dir(path, *, replace=True)
    Context manager: fill a temporary directory, which replaces ``path`` on success and is
    removed on any exception (including :class:`KeyboardInterrupt`).
sha256_file(path)
    Hex SHA-256 of a file, read in chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_write_bytes", "atomic_write_text", "sha256_file"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The parent directory must exist. The file gets the usual permissions
    (``0o666`` minus the umask), not the ``0o600`` of a temporary file.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8"
) -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation) and return the path."""
    return atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path`` when the block succeeds.

    The temporary directory is created next to ``path`` (same file system, so the final
    rename is atomic). If the block raises (any exception, including
    :class:`KeyboardInterrupt`), the temporary directory is removed and ``path`` is left
    exactly as it was. On success an existing ``path`` is replaced as a whole when
    ``replace=True`` (the old directory is renamed aside, the new one renamed in, then the
    old one deleted); with ``replace=False`` an existing ``path`` raises
    :class:`FileExistsError` and nothing changes.

    Examples
    --------
    >>> with atomic_dir("out/tables") as tmp:          # doctest: +SKIP
    ...     (tmp / "a.csv").write_text("x\\n1\\n")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        if target.exists():
            if not replace:
                raise FileExistsError(
                    f"{target} already exists; pass replace=True to replace it."
                )
            old = Path(
                tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old")
            )
            os.rmdir(old)
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def sha256_file(path: str | os.PathLike[str], *, chunk_size: int = 1 << 20) -> str:
    """Return the hexadecimal SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
