"""A per-process token bucket: at most ``burst`` events at once and ``per_second`` on average.

Used where an anonymous client could otherwise buy our CPU or many guesses: signatures on answers to
unverified requests, and ``/status`` token checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Thread-safe; one bucket per process (each server worker has its own, so a node's bound is
    ``workers`` times this one)."""

    def __init__(self, per_second: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one token if there is one; False when the bucket is empty."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
            self._updated = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def seconds_until_next(self) -> float:
        """How long until :meth:`take` can succeed again (0 when it can now)."""
        with self._lock:
            missing = 1 - (self._tokens + (self._clock() - self._updated) * self.per_second)
        return max(0.0, missing / self.per_second)
