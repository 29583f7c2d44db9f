"""Work the outbox worker queues on a schedule, e.g. a daily catch-up with each IIA partner, so that a lost
CNR is made good without anybody running a command. A job queues outbox rows (duplicates merge with rows
still pending), so several workers, or several nodes on one database, queueing the same job cost nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

#: ``job(session, our_hei_ids) -> rows queued``, run in one transaction.
PeriodicJob = Callable[[Session, frozenset[str]], int]
#: The first run comes this long after the worker starts (a starting node does not storm its partners).
FIRST_RUN_AFTER = timedelta(minutes=2)

_JOBS: dict[str, tuple[timedelta, PeriodicJob]] = {}


def register_periodic(name: str, every: timedelta, job: PeriodicJob) -> None:
    """Run ``job`` every ``every`` in each worker (modules register at import, like sender kinds)."""
    _JOBS[name] = (every, job)


class Schedule:
    """When each registered job runs next, for one worker process."""

    def __init__(self, sessions: sessionmaker[Session], hei_ids: frozenset[str], now: datetime,
                 first_run_after: timedelta = FIRST_RUN_AFTER) -> None:
        self._sessions, self._hei_ids = sessions, hei_ids
        self._next = {name: now + first_run_after for name in _JOBS}

    def run_due(self, now: datetime) -> int:
        """Run every job that is due; how many rows they queued."""
        queued = 0
        for name, (every, job) in _JOBS.items():
            if now >= self._next.setdefault(name, now):
                with self._sessions.begin() as session:
                    queued += job(session, self._hei_ids)
                self._next[name] = now + every
        return queued
