"""The audit log: one row per EWP exchange, in or out (who, what, when, status, duration, request id)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, Enum, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ewp_node.capture import CAPTURE_BYTES, pack
from ewp_node.store.base import Base
from ewp_node.store.captures import Capture, PackedCapture, record_captures
from ewp_node.store.db import insert_rows, stored_datetime


class Direction(enum.Enum):
    IN = "in"
    OUT = "out"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=3,
                                                      values_callable=lambda e: [m.value for m in e]))
    partner_hei: Mapped[str | None] = mapped_column(String(255))
    api: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[int]
    duration_ms: Mapped[int]
    request_id: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(500))
    #: Unique id given when the exchange was recorded: replaying a journal twice cannot duplicate a row.
    uid: Mapped[str | None] = mapped_column(String(32), unique=True)


class Exchange(NamedTuple):
    """One exchange as the security layer or the client saw it (not yet stored; cheap to build)."""

    at: datetime
    direction: Direction
    api: str
    method: str
    status: int
    duration_ms: int
    partner_hei: str | None = None
    request_id: str | None = None
    key_id: str | None = None
    message: str | None = None
    #: Unique id of this record (see :attr:`AuditEntry.uid`); None for rows that are never replayed.
    uid: str | None = None
    #: Headers and bodies (:mod:`ewp_node.store.captures`), when the recorder had them in hand.
    capture: Capture | PackedCapture | None = None


#: The columns :func:`record_exchanges` fills, in the order of its row tuples.
_COLUMNS = ("at", "direction", "api", "method", "status", "duration_ms", "partner_hei", "request_id", "key_id",
            "message", "uid")


def record_exchanges(connection: Connection | Session, exchanges: Sequence[Exchange]) -> None:
    """Store a batch of exchanges in one executemany INSERT (the caller commits); an exchange whose ``uid``
    is already stored is skipped, so a batch may be written again after a crash. Captures (already redacted and
    cut: see :mod:`ewp_node.capture`) of exchanges with a ``uid`` go in the same transaction.

    Rows go to the driver as tuples (:func:`ewp_node.store.db.insert_rows`): this is the audit collector's
    work for every exchange the node makes or answers.

    :raises ValueError: an exchange's time is naive (nothing is written).
    """
    bind = connection if isinstance(connection, Connection) else connection.connection()
    stored_at = stored_datetime(bind.dialect)
    rows, captures = [], []
    for e in exchanges:
        at = stored_at(e.at)
        rows.append((at, e.direction.value, e.api[:64], e.method[:8], e.status, e.duration_ms,
                     _cut(e.partner_hei, 255), _cut(e.request_id, 64), _cut(e.key_id, 64), _cut(e.message, 500), e.uid))
        if e.uid and e.capture is not None:
            captures.append((e.uid, at, e.capture if isinstance(e.capture, PackedCapture)
                             else pack(e.capture, CAPTURE_BYTES)))
    insert_rows(bind, AuditEntry.__tablename__, _COLUMNS, "uid", rows)
    record_captures(bind, captures)


def _cut(value: str | None, length: int) -> str | None:
    """Values come partly from partners' headers: cut them to the column so one cannot lose a batch."""
    return value[:length] if value else None


def recent_exchanges(session: Session, limit: int = 50) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def counts_by_api_and_status(session: Session, since: datetime) -> list[tuple[str, str, int, int]]:
    """``(api, direction, status, count)`` since a moment: the indicators on the status page."""
    rows = session.execute(
        select(AuditEntry.api, AuditEntry.direction, AuditEntry.status, func.count())
        .where(AuditEntry.at >= since)
        .group_by(AuditEntry.api, AuditEntry.direction, AuditEntry.status)
        .order_by(AuditEntry.api)
    )
    return [(api, direction.value, status, count) for api, direction, status, count in rows]


def daily_counts(session: Session, since: datetime) -> list[tuple[str, str, int]]:
    """``(YYYY-MM-DD, direction, count)`` per day since a moment (UTC days), oldest first."""
    day = func.date(AuditEntry.at)
    rows = session.execute(
        select(day, AuditEntry.direction, func.count()).where(AuditEntry.at >= since)
        .group_by(day, AuditEntry.direction).order_by(day)
    )
    return [(str(d), direction.value, count) for d, direction, count in rows]
