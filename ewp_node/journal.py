"""Append-only journal files: what a process writes here survives its death and waits for a database.

Each :class:`Journal` writes one segment at a time (``<pid>-<token>-<seq>.jsonl``, one line per record) with
one ``write(2)`` per line on an ``O_APPEND`` descriptor: the line is in the operating system's hands when
:meth:`Journal.append` returns, so a ``kill -9`` of the process loses nothing. Lines are not fsynced one by one
(a power cut may lose the last seconds); :meth:`Segment.sync` is there for segments that must wait.

A live process holds an exclusive ``flock`` on each of its segments until it removes them. A segment nobody
holds belongs to a dead process (the kernel drops the lock with the process), or was handed over by its
writer (:meth:`Segment.release`): :func:`claim_orphans` takes such segments over. Needs a local file system
(``flock`` over NFS is not reliable).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"


@dataclass
class Segment:
    """One journal file and the descriptor that holds its lock (closing it hands the file to other processes)."""

    path: Path
    fd: int

    def lines(self) -> Iterator[bytes]:
        """The complete lines written so far (a torn last line of a dead writer is skipped)."""
        with open(self.path, "rb") as stream:
            for line in stream:
                if line.endswith(b"\n"):
                    yield line
                else:
                    log.warning("journal %s ends with an incomplete line (%d bytes): skipped", self.path, len(line))

    def sync(self) -> None:
        os.fsync(self.fd)

    def remove(self) -> None:
        """Delete the file (still locked, so a process that opened it meanwhile sees it gone), then unlock."""
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)

    def release(self) -> None:
        """Keep the file but unlock it: another process will claim it as an orphan."""
        os.close(self.fd)


class Journal:
    """This process's journal in ``directory``: appends to the active segment, seals it for the mover."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory = directory
        self._prefix = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._sequence = 0
        self._active: Segment | None = None
        self._lines = 0
        self._lock = threading.Lock()

    def append(self, line: bytes) -> int:
        """Write one ``\\n``-terminated line; returns how many lines the active segment holds now.

        :raises OSError: the line could not be written (disk full, ...).
        """
        with self._lock:
            if self._active is None:
                self._active = self._open_segment()
            os.write(self._active.fd, line)
            self._lines += 1
            return self._lines

    def seal(self) -> Segment | None:
        """End the active segment (the next line starts a new one) and hand it over; None if none was begun."""
        with self._lock:
            segment, self._active, self._lines = self._active, None, 0
            return segment

    def _open_segment(self) -> Segment:
        self._sequence += 1
        path = self.directory / f"{self._prefix}-{self._sequence:06d}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return Segment(path, fd)


def claim_orphans(directory: Path, *, idle_seconds: float = 0.0) -> Iterator[Segment]:
    """Lock and yield each segment in ``directory`` that no process holds (its writer died, or handed it over)
    and that nobody wrote to for ``idle_seconds`` (oldest name first)."""
    written_before = time.time() - idle_seconds
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            if idle_seconds and path.stat().st_mtime > written_before:
                continue
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # removed by its owner since the listing
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a live process holds it
            os.close(fd)
            continue
        if os.fstat(fd).st_nlink == 0:  # moved and removed by another process before we got the lock
            os.close(fd)
            continue
        yield Segment(path, fd)
