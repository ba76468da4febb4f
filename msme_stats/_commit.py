"""The commit protocol of ``msme-stats build``: journal, renames, roll back or forward.

A build writes its files into a work folder next to the output folder
(``PARENT/.<name>.msme-build/``, on the same file system, so that renames are atomic)::

    .<name>.msme-build/
        MSME_STATS_BUILD     marker: this folder belongs to msme-stats build
        new/                 the files of this build (fsynced before the journal is written)
        old/                 hard links (or copies) of the output files to be replaced or removed
        journal.json         the plan of the commit; its presence means "commit in progress"

The commit, in this order:

1. fsync every file of ``new/`` and the folder; link every output file that will be
   replaced or removed into ``old/``; fsync ``old/``.
2. Write ``journal.json`` (the list of operations with the sha256 of every new file) and
   fsync it and the work folder. From here on the commit can be completed or undone from
   disk alone, whatever happens to the process (SIGKILL, power loss).
3. Move each new file over its target with :func:`os.replace` (a file is always either its
   old or its new version, never missing), remove stale files, ``manifest.json`` last;
   fsync the output folder.
4. Remove ``journal.json`` (fsync), then the work folder.

SIGINT and SIGTERM are deferred from step 2 to the end: a signal received during the
renames makes the build undo them (roll back, from ``old/``) and then exit; the output
folder is left exactly as it was. A process killed without a chance to react (SIGKILL,
power loss) leaves the journal; the next build (or ``msme-stats build --recover``) finds it
and rolls the commit forward (every new file is still in ``new/`` or already in place,
checked by sha256) or, if that is impossible, back. A work folder without a journal is an
unfinished build that never started its commit: it is removed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._atomic import atomic_write_text, sha256_file
from .errors import OutputClashError, RecoveryError

__all__ = [
    "BuildInterrupted",
    "Op",
    "SignalGuard",
    "WorkDir",
    "commit",
    "recover",
]

logger = logging.getLogger(__name__)

MARKER = "MSME_STATS_BUILD"
JOURNAL = "journal.json"
JOURNAL_VERSION = 1
#: test hook: path of a file written at the first rename of a commit, which then pauses
#: until a signal arrives (or 60 s pass); used by the kill test only
ENV_PAUSE = "MSME_STATS_TEST_PAUSE_AT_FIRST_RENAME"


class BuildInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM received during a build (``signum`` says which).

    ``completed`` is True when the signal came during the last clean-up, after the commit
    had completed (the output folder then holds the new files).
    """

    def __init__(self, signum: int, *, completed: bool = False) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.completed = completed


# --------------------------------------------------------------------------- signals
class SignalGuard:
    """Turn SIGINT/SIGTERM into :class:`BuildInterrupted`, or defer them inside :meth:`deferred`.

    Handlers are installed only in the main thread (Python allows no other); elsewhere the
    guard does nothing and the commit relies on its ``try``/``except`` roll back.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: int | None = None
        self._depth = 0
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self._depth:
            if self.pending is None:
                self.pending = signum
            return
        raise BuildInterrupted(signum)

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                try:
                    self._old[sig] = signal.signal(sig, self._handler)
                except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                    pass
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Signals received inside the block are recorded in :attr:`pending`, not raised."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def raise_pending(self, *, completed: bool = False) -> None:
        if self.pending is not None and not self._depth:
            signum, self.pending = self.pending, None
            raise BuildInterrupted(signum, completed=completed)


# --------------------------------------------------------------------------- fsync
def fsync_dir(path: Path) -> None:
    """fsync a directory (its entries); a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- work dir
@dataclass(frozen=True)
class WorkDir:
    """The work folder of the builds of one output folder."""

    out: Path

    @property
    def path(self) -> Path:
        return self.out.parent / f".{self.out.name}.msme-build"

    @property
    def lock(self) -> Path:
        return self.out.parent / f".{self.out.name}.msme-build.lock"

    @property
    def new(self) -> Path:
        return self.path / "new"

    @property
    def old(self) -> Path:
        return self.path / "old"

    @property
    def journal(self) -> Path:
        return self.path / JOURNAL

    def is_ours(self) -> bool:
        """True when the work folder exists and was made by msme-stats build."""
        if not self.path.is_dir() or self.path.is_symlink():
            return False
        if (self.path / MARKER).is_file():
            return True
        return not any(self.path.iterdir())  # killed between mkdir and the marker

    def create(self) -> Path:
        """Create an empty work folder (an earlier one must have been recovered or removed)."""
        if os.path.lexists(self.path):
            raise OutputClashError(
                f"{self.path} exists and was not made by msme-stats build (no {MARKER} file "
                "inside); msme-stats uses this name for its work folder. Move it away."
            )
        self.path.mkdir()
        (self.path / MARKER).write_text(
            "Work folder of msme-stats build; removed when the build ends. If a build was "
            "killed, the next `msme-stats build` (or `msme-stats build --recover`) finishes "
            "or undoes its commit and removes this folder.\n", encoding="utf-8")
        self.new.mkdir()
        self.old.mkdir()
        return self.new

    def remove(self) -> None:
        """Remove the work folder (only ever called on a folder that :meth:`is_ours`)."""
        if os.path.lexists(self.path):
            shutil.rmtree(self.path)
        fsync_dir(self.out.parent)


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Op:
    """One step of a commit: ``put`` a new file (``had_old``: replacing an output file of an
    earlier build) or ``delete`` a stale output file of an earlier build."""

    action: str  # "put" | "delete"
    name: str
    had_old: bool = False
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "name": self.name, "had_old": self.had_old,
                "sha256": self.sha256}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Op:
        if d.get("action") not in ("put", "delete") or not isinstance(d.get("name"), str):
            raise ValueError(f"bad journal entry {d!r}")
        name = d["name"]
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad file name in journal: {name!r}")
        return cls(d["action"], name, bool(d.get("had_old")), d.get("sha256"))


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK,
                             getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)):
            raise
        shutil.copy2(src, dst)
        fsync_file(dst)


def _pause_hook(guard: SignalGuard) -> None:
    ready = os.environ.get(ENV_PAUSE)
    if not ready:
        return
    Path(ready).write_text(f"{os.getpid()}\n", encoding="ascii")
    deadline = time.monotonic() + 60
    while guard.pending is None and time.monotonic() < deadline:
        time.sleep(0.005)


# --------------------------------------------------------------------------- commit
def commit(work: WorkDir, ops: Sequence[Op], guard: SignalGuard) -> dict[str, float]:
    """Run the commit protocol (module docstring); return the time of each phase (s)."""
    out = work.out
    t0 = time.perf_counter()
    for op in ops:  # 1. make the new files and the backups durable
        if op.action == "put":
            fsync_file(work.new / op.name)
    fsync_dir(work.new)
    for op in ops:
        if op.had_old or op.action == "delete":
            _link_or_copy(out / op.name, work.old / op.name)
    fsync_dir(work.old)
    t1 = time.perf_counter()
    created_out = not out.exists()
    journal = {"journal_version": JOURNAL_VERSION, "out": str(out), "created_out": created_out,
               "ops": [op.to_json() for op in ops]}
    with guard.deferred():
        atomic_write_text(work.journal, json.dumps(journal, indent=1) + "\n")  # 2.
        fsync_dir(work.path)
        try:
            if created_out:
                out.mkdir()
                fsync_dir(out.parent)
            for i, op in enumerate(ops):  # 3.
                if op.action == "put":
                    os.replace(work.new / op.name, out / op.name)
                else:
                    os.unlink(out / op.name)
                if i == 0:
                    _pause_hook(guard)
                if guard.pending is not None:
                    raise BuildInterrupted(guard.pending)
            fsync_dir(out)
        except BaseException:
            _roll_back(work, ops, created_out)
            guard.pending = None
            raise
        t2 = time.perf_counter()
        _finish(work)  # 4.
    return {"prepare": t1 - t0, "renames": t2 - t1, "cleanup": time.perf_counter() - t2}


def _finish(work: WorkDir) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(work.journal)
    fsync_dir(work.path)
    work.remove()


def _roll_back(work: WorkDir, ops: Sequence[Op], created_out: bool) -> None:
    """Undo the renames of a commit from ``old/`` (also after a crash)."""
    out = work.out
    missing = [op.name for op in ops
               if (op.had_old or op.action == "delete") and not (work.old / op.name).exists()
               and not (op.action == "put" and (work.new / op.name).exists())]
    if missing:
        raise RecoveryError(
            f"cannot undo the unfinished commit into {out}: the saved copies of {missing} are "
            f"missing from {work.old}. Nothing more was changed; rebuild with `msme-stats build`."
        )
    for op in reversed(ops):
        old, new, target = work.old / op.name, work.new / op.name, out / op.name
        if op.had_old or op.action == "delete":
            if old.exists():
                os.replace(old, target)
        elif not new.exists() and target.exists():
            os.unlink(target)  # a file this commit added
    if created_out and out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if out.is_dir():
        fsync_dir(out)
    _finish(work)


def _roll_forward(work: WorkDir, ops: Sequence[Op]) -> None:
    out = work.out
    out.mkdir(exist_ok=True)
    for op in ops:
        new, target = work.new / op.name, out / op.name
        if op.action == "put":
            if new.exists():
                os.replace(new, target)
        elif target.exists():
            os.unlink(target)
    fsync_dir(out)
    _finish(work)


def _sha(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def recover(work: WorkDir) -> str | None:
    """Finish or undo an unfinished commit of ``work.out``; return what was done.

    Returns ``None`` when there was nothing to recover, ``"removed"`` when an unfinished
    build that had not started its commit was cleaned up, ``"forward"`` or ``"back"`` after
    completing or undoing a commit. Call it with the build lock held.
    """
    if not os.path.lexists(work.path):
        return None
    if not work.is_ours():
        raise OutputClashError(
            f"{work.path} exists and was not made by msme-stats build (no {MARKER} file inside); "
            "msme-stats uses this name for its work folder. Move it away."
        )
    if not work.journal.exists():
        work.remove()
        return "removed"
    try:
        journal = json.loads(work.journal.read_text(encoding="utf-8"))
        ops = [Op.from_json(d) for d in journal["ops"]]
        created_out = bool(journal.get("created_out"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # the journal is written atomically, so it is complete or absent; a damaged one
        # means someone else wrote there: leave everything as it is
        raise RecoveryError(
            f"the journal {work.journal} of an unfinished build cannot be read ({exc}); "
            f"inspect {work.path} (new/ holds the new files, old/ the replaced ones), then "
            "delete it."
        ) from exc
    forward_ok = True
    for op in ops:
        if op.action != "put":
            continue
        new, target = work.new / op.name, work.out / op.name
        if new.exists():
            ok = op.sha256 is None or _sha(new) == op.sha256
        else:
            ok = op.sha256 is not None and _sha(target) == op.sha256
        if not ok:
            forward_ok = False
            break
    if forward_ok:
        logger.warning("completing the commit that an interrupted build left in %s", work.out)
        _roll_forward(work, ops)
        return "forward"
    logger.warning("undoing the commit that an interrupted build left in %s", work.out)
    _roll_back(work, ops, created_out)
    return "back"

