"""Remembering ``X-Request-Id`` values to refuse replayed requests.

Spec: ewp-specs-sec-cliauth-httpsig v1.0.1 (nonce, OPTIONAL unless TLS can't be trusted);
ewp-specs/SECURITY.md a.2 step 6: remember ids for the clock window only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from ewp_node.security.httpsig import CLOCK_SKEW


class ReplayCache:
    """A thread-safe, bounded set of recently seen request ids (one process; not shared between workers).

    :param retention: how long an id is remembered. A request dated ``d`` is accepted from ``d - skew`` to
        ``d + skew``, so a replay stays possible for twice the skew after the first sighting; shorter lets
        replays through, longer only costs memory.
    :param max_entries: hard bound on memory; when full, the oldest id is forgotten early (a replay of
        that id becomes possible again), so size it above the expected requests per retention period.
    """

    def __init__(self, *, retention: timedelta = 2 * CLOCK_SKEW, max_entries: int = 1_000_000) -> None:
        self.retention = retention
        self.max_entries = max_entries
        self._expires_at: OrderedDict[str, datetime] = OrderedDict()  # oldest first
        self._lock = threading.Lock()

    def seen(self, request_id: str, now: datetime) -> bool:
        """Record ``request_id`` and return whether it was already recorded within the retention period."""
        with self._lock:
            self._evict(now)
            if request_id in self._expires_at:
                return True
            if len(self._expires_at) >= self.max_entries:
                self._expires_at.popitem(last=False)
            self._expires_at[request_id] = now + self.retention
            return False

    def _evict(self, now: datetime) -> None:
        while self._expires_at and next(iter(self._expires_at.values())) <= now:
            self._expires_at.popitem(last=False)

    def __len__(self) -> int:
        return len(self._expires_at)
