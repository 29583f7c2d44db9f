"""Work the outbox worker does on a schedule, so that nobody has to run a command for it: a daily catch-up
with each IIA partner (a lost CNR is made good), the SIS registration records of newly approved mobilities.
Jobs are idempotent (they queue outbox rows, which merge with rows still pending, or write files once), so
several workers, or several nodes on one database, running the same job cost nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.config import Settings

#: ``job(sessions, settings) -> how much it did`` (rows queued, files written).
PeriodicJob = Callable[[sessionmaker[Session], Settings], int]
#: The first run comes this long after the worker starts (a starting node does not storm its partners).
FIRST_RUN_AFTER = timedelta(minutes=2)

_JOBS: dict[str, tuple[timedelta, PeriodicJob]] = {}


def register_periodic(name: str, every: timedelta, job: PeriodicJob) -> None:
    """Run ``job`` every ``every`` in each worker (modules register at import, like sender kinds)."""
    _JOBS[name] = (every, job)


class Schedule:
    """When each registered job runs next, for one worker process."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, now: datetime,
                 first_run_after: timedelta = FIRST_RUN_AFTER) -> None:
        self._sessions, self._settings = sessions, settings
        self._next = {name: now + first_run_after for name in _JOBS}

    def run_due(self, now: datetime) -> int:
        """Run every job that is due; how much they did."""
        done = 0
        for name, (every, job) in _JOBS.items():
            if now >= self._next.setdefault(name, now):
                done += job(self._sessions, self._settings)
                self._next[name] = now + every
        return done
