"""Replay guard: each verified ``X-Request-Id`` is claimed once in the database, so a replayed request is refused
by every worker of the node and by every node sharing the database.

Spec: ewp-specs-sec-cliauth-httpsig v1.0.1 (``X-Request-Id`` as a nonce); ewp-specs/SECURITY.md a.2 step 6:
remember ids for the clock window only. A request dated ``d`` is accepted from ``d - skew`` to ``d + skew``, so
an id is kept for twice the skew after its first sighting; expired rows are purged in the background.

The claim is on every verified request's path, so it skips the ORM: each request thread keeps one driver
connection in autocommit mode and runs one prepared ``INSERT .. ON CONFLICT .. RETURNING`` (about a third of
what the same statement costs through a pooled SQLAlchemy connection; bench/echo.py ``replay_check_us``).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Index, String, delete
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from ewp_node.security.httpsig import CLOCK_SKEW
from ewp_node.store.base import Base

log = logging.getLogger(__name__)


class SeenRequest(Base):
    """A request id claimed by a verified request, until ``expires_at``."""

    __tablename__ = "replay_guard"
    __table_args__ = (Index("ix_replay_guard_expires_at", "expires_at"),)

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]


#: Claims ``request_id`` (one row returned) unless a live claim exists (none). Parameters: request id, expiry of
#: the new claim, now. PostgreSQL and SQLite spell it alike; only the placeholders differ.
_CLAIM = ("INSERT INTO replay_guard (request_id, expires_at) VALUES ({p}, {p}) ON CONFLICT (request_id) "
          "DO UPDATE SET expires_at = excluded.expires_at WHERE replay_guard.expires_at <= {p} "
          "RETURNING request_id")


def _sqlite_datetime(moment: datetime) -> str:
    """``moment`` as SQLAlchemy stores a SQLite ``DateTime`` (naive UTC text), so the ORM's purge compares alike."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def purge_expired(connection: Connection, now: datetime) -> int:
    """Delete the claims that expired by ``now``; returns how many."""
    return connection.execute(delete(SeenRequest).where(SeenRequest.expires_at <= now)).rowcount


class _ThreadConnection:
    """One thread's driver connection (a pool checkout held for the thread's life), in autocommit mode."""

    def __init__(self, engine: Engine) -> None:
        self._checkout = engine.raw_connection()
        driver = self._checkout.driver_connection
        if engine.dialect.name == "sqlite":
            driver.isolation_level = None  # type: ignore[union-attr]
        else:
            driver.autocommit = True  # type: ignore[union-attr]
        self.driver = driver
        self.cursor = self._checkout.cursor()

    def discard(self) -> None:
        """Drop a connection that failed: the next claim of this thread opens a new one."""
        self._checkout.invalidate()

    def __del__(self) -> None:  # the thread ended (or the guard went): give the connection back
        try:
            self._checkout.close()
        except Exception:  # the pool or the interpreter is shutting down
            pass


class ReplayGuard:
    """Says whether a verified request id was already used, across processes and nodes sharing the database.

    A database failure propagates (SQLAlchemy ``OperationalError``): the request is answered 503, never let
    through unchecked.

    :param retention: how long an id stays claimed; shorter lets replays through, longer only costs rows.
    :param purge_every: least time between two purges of expired ids by this process.
    """

    def __init__(self, engine: Engine, *, retention: timedelta = 2 * CLOCK_SKEW,
                 purge_every: timedelta = timedelta(minutes=1)) -> None:
        self.retention = retention
        self._engine = engine
        sqlite = engine.dialect.name == "sqlite"
        self._claim_sql = _CLAIM.format(p="?" if sqlite else "%s")
        self._as_parameter = _sqlite_datetime if sqlite else (lambda moment: moment)
        self._threads = threading.local()
        self._purge_every = purge_every
        self._next_purge: datetime | None = None
        self._purging = threading.Lock()

    def seen(self, request_id: str, now: datetime) -> bool:
        """Claim ``request_id``; return whether a live claim already existed (the request is a replay)."""
        parameters = (request_id, self._as_parameter(now + self.retention), self._as_parameter(now))
        try:
            claimed = self._claim(parameters)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            claimed = self._claim(parameters)  # the database restarted since this thread's last claim: once more
        self._purge_when_due(now)
        return claimed is None

    def _claim(self, parameters: tuple[Any, ...]) -> Any:
        """Run the claim on this thread's connection (opened on first use).

        :raises DBAPIError: the driver's error, wrapped as SQLAlchemy does; ``connection_invalidated`` says the
            thread's connection had been cut (a database restart): a new one may well succeed.
        """
        dialect = self._engine.dialect
        connection: _ThreadConnection | None = getattr(self._threads, "connection", None)
        held_before = connection is not None
        try:
            if connection is None:
                connection = self._threads.connection = _ThreadConnection(self._engine)
            connection.cursor.execute(self._claim_sql, parameters)
            return connection.cursor.fetchone()
        except dialect.loaded_dbapi.Error as exc:
            cut = held_before and connection is not None and dialect.is_disconnect(exc, connection.driver,
                                                                                     connection.cursor)
            if connection is not None:
                connection.discard()
            self._threads.connection = None
            raise DBAPIError.instance(self._claim_sql, parameters, exc, dialect.loaded_dbapi.Error,
                                      connection_invalidated=cut) from exc

    def close(self) -> None:
        """Close the pooled connections (a thread's claim connection goes back when the thread ends)."""
        self._engine.dispose()

    def _purge_when_due(self, now: datetime) -> None:
        if self._next_purge is not None and now < self._next_purge:
            return
        if not self._purging.acquire(blocking=False):
            return
        self._next_purge = now + self._purge_every
        threading.Thread(target=self._purge, args=(now,), name="replay-purge", daemon=True).start()

    def _purge(self, now: datetime) -> None:
        try:
            with self._engine.begin() as connection:
                purge_expired(connection, now)
        except Exception:  # the next purge retries; a backlog of expired ids only costs rows
            log.warning("could not purge expired request ids", exc_info=True)
        finally:
            self._purging.release()
