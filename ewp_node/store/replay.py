"""Replay guard: each verified ``X-Request-Id`` is claimed once in the database, so a replayed request is refused
by every worker of the node and by every node sharing the database.

Spec: ewp-specs-sec-cliauth-httpsig v1.0.1 (``X-Request-Id`` as a nonce); ewp-specs/SECURITY.md a.2 step 6:
remember ids for the clock window only. A request dated ``d`` is accepted from ``d - skew`` to ``d + skew``, so
an id is kept for twice the skew after its first sighting; expired rows are purged in the background.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Index, String, bindparam, delete
from sqlalchemy.orm import Mapped, mapped_column

from ewp_node.security.httpsig import CLOCK_SKEW
from ewp_node.store.base import Base
from ewp_node.store.db import dialect_insert

log = logging.getLogger(__name__)


class SeenRequest(Base):
    """A request id claimed by a verified request, until ``expires_at``."""

    __tablename__ = "replay_guard"
    __table_args__ = (Index("ix_replay_guard_expires_at", "expires_at"),)

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]


def claim_statement(bind: Engine | Connection):  # type: ignore[no-untyped-def]
    """``INSERT .. ON CONFLICT DO UPDATE .. WHERE expired RETURNING``: one statement that claims an id (one row
    returned) or finds it claimed and still live (none). Parameters: ``request_id``, ``expires_at``, ``now``."""
    statement = dialect_insert(bind, SeenRequest).values(request_id=bindparam("request_id"),
                                                        expires_at=bindparam("expires_at"))
    return statement.on_conflict_do_update(
        index_elements=["request_id"], set_={"expires_at": statement.excluded.expires_at},
        where=SeenRequest.expires_at <= bindparam("now", type_=SeenRequest.__table__.c.expires_at.type),
    ).returning(SeenRequest.request_id)


def purge_expired(connection: Connection, now: datetime) -> int:
    """Delete the claims that expired by ``now``; returns how many."""
    return connection.execute(delete(SeenRequest).where(SeenRequest.expires_at <= now)).rowcount


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
        self._claim = claim_statement(engine)
        self._purge_every = purge_every
        self._next_purge: datetime | None = None
        self._purging = threading.Lock()

    def seen(self, request_id: str, now: datetime) -> bool:
        """Claim ``request_id``; return whether a live claim already existed (the request is a replay)."""
        with self._engine.begin() as connection:
            claimed = connection.execute(self._claim, {"request_id": request_id, "now": now,
                                                       "expires_at": now + self.retention}).first()
        self._purge_when_due(now)
        return claimed is None

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
