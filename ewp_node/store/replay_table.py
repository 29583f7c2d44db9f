"""The replay guard of a SQLite node: request ids claimed in a table shared through a memory-mapped file.

Every process that uses one SQLite database runs on one machine, so its request ids can be claimed in memory
that those processes share: a fixed-size hash table in a file next to the database (``<database>.replay-ids``),
mapped by each process. A claim is a few slices of that mapping under two locks: a thread lock (the
process's threads share one file descriptor) and an ``flock`` on the file (the processes; the kernel drops it
when its holder dies, so a killed worker cannot wedge the others). No database write, no commit, no I/O on the
request path: the database claim (:class:`ReplayGuard`, an ``INSERT`` committed per request) cost about a
fifth of the node's CPU per signed Echo. The kernel writes the mapping back to the file, so the claims outlive
a restart of the node. PostgreSQL nodes may share their database across machines and keep the database claim.

Layout: a 64-byte header (magic, a random salt, ``overflow_until``), then ``SLOTS + PROBES`` slots of 24 bytes
(a 16-byte salted BLAKE2b digest of the request id, its expiry as a float of epoch seconds; 0 never used).
An id lives in one of the ``PROBES`` slots from ``digest % SLOTS``; an expired slot is reused. When all of them
hold live claims (a flood of over ~10^5 ids within the retention), the claim goes to the database guard and the
table records ``overflow_until`` (that moment plus the retention): until then every claim the table grants is
also made in the database, so an id claimed only there is still found; when that database claim fails (503), the
table's claim is dropped, so the client's retry is not taken for a replay.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import mmap
import os
import struct
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from ewp_node.errors import ServiceUnavailable
from ewp_node.security.httpsig import CLOCK_SKEW

log = logging.getLogger(__name__)

MAGIC = b"EWPRID01"
SLOTS = 1 << 18
PROBES = 16
_HEADER = struct.Struct("<8s16sd")  # magic, salt, overflow_until
_HEADER_SIZE = 64
_SLOT = struct.Struct("<16sd")  # digest, expires (epoch seconds; 0.0: never used)
_EXPIRES = struct.Struct("<d")
_OVERFLOW_AT = 24  # offset of overflow_until in the header


class RequestIdGuard(Protocol):
    """What the security layer needs of a replay guard."""

    def seen(self, request_id: str, now: datetime) -> bool:
        """Claim ``request_id``; return whether a live claim already existed (the request is a replay)."""
        ...

    def close(self) -> None:
        """Release what the guard holds (connections, mappings); it reopens them if used again."""
        ...


class ReplayTable:
    """The shared table of one database file; opened (created when missing or foreign) on first use."""

    def __init__(self, path: Path, *, slots: int = SLOTS, probes: int = PROBES) -> None:
        self.path = path
        self._slots, self._probes = slots, probes
        self._size = _HEADER_SIZE + (slots + probes) * _SLOT.size
        self._thread_lock = threading.Lock()
        self._opened: tuple[int, mmap.mmap] | None = None
        self._salt = b""

    def claim(self, request_id: str, now: float, expires: float) -> bool | None:
        """Claim ``request_id`` until ``expires`` (epoch seconds): True if claimed now, False if a live claim
        exists, None if the database must decide: the id's slots are all taken by live claims (then
        ``overflow_until`` is pushed to ``expires``), or it was claimed here while an overflow is recent (an
        earlier claim of it may be in the database only)."""
        with self._thread_lock:
            fd, table = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                return self._claim(table, request_id, now, expires)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def release(self, request_id: str) -> None:
        """Drop the claim of ``request_id`` (after :meth:`claim` answered None and the database could not decide:
        the client's retry must not read as a replay)."""
        with self._thread_lock:
            fd, table = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                start, found = self._find(table, request_id)
                if found != -1:
                    _EXPIRES.pack_into(table, start + found + 16, 0.0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            opened, self._opened = self._opened, None
            if opened is not None:
                opened[1].close()
                os.close(opened[0])

    def _find(self, table: mmap.mmap, request_id: str) -> tuple[int, int]:
        """The offset of the id's window in ``table`` and of its slot in that window (-1: none)."""
        start, window, digest = self._window(table, request_id)
        return start, self._slot_of(window, digest)

    def _window(self, table: mmap.mmap, request_id: str) -> tuple[int, bytes, bytes]:
        digest = hashlib.blake2b(request_id.encode("utf-8", "surrogateescape"), digest_size=16,
                                 key=self._salt).digest()
        start = _HEADER_SIZE + int.from_bytes(digest[:8], "little") % self._slots * _SLOT.size
        return start, table[start:start + self._probes * _SLOT.size], digest

    @staticmethod
    def _slot_of(window: bytes, digest: bytes) -> int:
        found = window.find(digest)
        while found != -1 and found % _SLOT.size:  # a match across two slots is no match
            found = window.find(digest, found + 1)
        return found

    def _claim(self, table: mmap.mmap, request_id: str, now: float, expires: float) -> bool | None:
        start, window, digest = self._window(table, request_id)
        found = self._slot_of(window, digest)
        overflow_until = _EXPIRES.unpack_from(table, _OVERFLOW_AT)[0]
        granted = None if overflow_until > now else True
        if found != -1:
            if _EXPIRES.unpack_from(window, found + 16)[0] > now:
                return False
            _EXPIRES.pack_into(table, start + found + 16, expires)
            return granted
        for offset in range(0, len(window), _SLOT.size):
            if _EXPIRES.unpack_from(window, offset + 16)[0] <= now:
                _SLOT.pack_into(table, start + offset, digest, expires)
                return granted
        _EXPIRES.pack_into(table, _OVERFLOW_AT, max(overflow_until, expires))
        return None

    def _open(self) -> tuple[int, mmap.mmap]:
        if self._opened is not None:
            return self._opened
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if not self._usable(fd):  # new, or a foreign or torn file: an empty table
                    os.ftruncate(fd, 0)
                    # blocks reserved now: a write into a sparse mapping on a full disk would kill the process
                    os.posix_fallocate(fd, 0, self._size)
                    os.pwrite(fd, _HEADER.pack(MAGIC, os.urandom(16), 0.0), 0)
                table = mmap.mmap(fd, self._size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        self._salt = _HEADER.unpack_from(table, 0)[1]
        self._opened = fd, table
        return self._opened

    def _usable(self, fd: int) -> bool:
        return os.fstat(fd).st_size == self._size and os.pread(fd, len(MAGIC), 0) == MAGIC


class TableReplayGuard:
    """Claims request ids in a :class:`ReplayTable`; the database guard takes the claims the table has no room
    for (and, while that happens, doubles the table's).

    :param retention: how long an id stays claimed (as :class:`ReplayGuard`).
    """

    def __init__(self, table: ReplayTable, database: RequestIdGuard, *,
                 retention: timedelta = 2 * CLOCK_SKEW) -> None:
        self.table = table
        self._database = database
        self._retention = retention.total_seconds()

    def seen(self, request_id: str, now: datetime) -> bool:
        """:raises ServiceUnavailable: the table's file cannot be opened or mapped (answered 503)."""
        moment = now.timestamp()
        try:
            claimed = self.table.claim(request_id, moment, moment + self._retention)
        except OSError as exc:
            log.error("replay table %s not usable: %s", self.table.path, exc)
            raise ServiceUnavailable("the node cannot check request ids now: retry later") from exc
        if claimed is None:
            try:
                return self._database.seen(request_id, now)
            except Exception:  # e.g. 503, database away: the table's claim goes too, so a retry is no replay
                with contextlib.suppress(OSError):
                    self.table.release(request_id)
                raise
        return not claimed

    def close(self) -> None:
        self.table.close()
        self._database.close()


def table_path(database_url: str) -> Path | None:
    """Where the table of a SQLite database file lives; None for other databases (and in-memory SQLite)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url[len(prefix):] in ("", ":memory:"):
        return None
    return Path(database_url[len(prefix):].split("?", 1)[0] + ".replay-ids")
