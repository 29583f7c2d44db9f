"""A rate limit shared by every process of a node: at most one claim per interval, kept in a small file.

Why a file and not the database: the early catalogue refresh must stay possible while the database is away,
and every worker of a node shares the node's cache folder. The check-and-claim runs under an exclusive
``flock`` held for microseconds (never while fetching); the kernel releases it if the holder dies, so a
killed worker cannot wedge the limit.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path


class SharedRateLimit:
    """``try_claim()`` succeeds at most once per ``interval`` across every process using ``path``."""

    def __init__(self, path: Path, interval: timedelta, clock: Callable[[], datetime]) -> None:
        self.path = path
        self.interval = interval
        self._clock = clock

    def try_claim(self) -> bool:
        """Claim the slot if the last claim (by any process) is at least ``interval`` old, or in the future
        (a clock set back). The file holds the POSIX time of the last claim.
        """
        return self._update(force=False)

    def mark(self) -> None:
        """Record a claim now whatever the last one was (an action that was due anyway)."""
        self._update(force=True)

    def _update(self, *, force: bool) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._clock().timestamp()
            try:
                last: float | None = float(os.read(fd, 64).decode("ascii"))
            except ValueError:  # empty (first claim) or garbled: claim
                last = None
            if not force and last is not None and 0 <= now - last < self.interval.total_seconds():
                return False
            os.ftruncate(fd, 0)
            os.pwrite(fd, repr(now).encode("ascii"), 0)
            return True
        finally:
            os.close(fd)
