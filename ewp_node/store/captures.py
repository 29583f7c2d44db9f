"""The wire of an audited exchange: its URL, request and response headers and bodies, kept for a few days.

One row per audit row (keyed by the audit row's ``uid``), written in the same transaction as the audit rows it
belongs to. Headers arrive already redacted and bodies already cut (:mod:`ewp_node.capture` does it before
the journal line is written); bodies are stored zlib-compressed, with their full length as sent.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import JSON, Connection, ForeignKey, Index, LargeBinary, String, Text, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from ewp_node.store.base import Base
from ewp_node.store.db import dialect_insert

#: Header pairs in the order they were sent; iterable more than once (a list, a dict's items, werkzeug Headers).
Headers = Iterable[tuple[str, str]]


class Capture(NamedTuple):
    """What the request path has in hand when it records an exchange (references, nothing copied).

    ``*_bytes`` are the bodies' full lengths: the builder leaves them None and :mod:`ewp_node.capture` sets them
    when it cuts the bodies for the journal.
    """

    url: str
    request_headers: Headers
    request_body: bytes | None
    response_headers: Headers
    response_body: bytes | None
    request_bytes: int | None = None
    response_bytes: int | None = None


class CaptureRow(Base):
    __tablename__ = "exchange_capture"
    __table_args__ = (Index("ix_exchange_capture_at", "at"),)

    uid: Mapped[str] = mapped_column(String(32), ForeignKey("audit_log.uid", ondelete="CASCADE"), primary_key=True)
    #: The audit row's time, for the retention purge.
    at: Mapped[datetime]
    url: Mapped[str] = mapped_column(Text)
    request_headers: Mapped[list[list[str]]] = mapped_column(JSON)
    #: zlib-compressed, at most the capture cap before compression; None: no body in hand.
    request_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    request_bytes: Mapped[int | None]
    response_headers: Mapped[list[list[str]]] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_bytes: Mapped[int | None]


def record_captures(connection: Connection | Session, captures: Sequence[tuple[str, datetime, Capture]]) -> None:
    """Store ``(uid, at, capture)`` rows (the caller commits); a uid already stored is skipped."""
    if not captures:
        return
    connection.execute(dialect_insert(connection, CaptureRow).on_conflict_do_nothing(index_elements=["uid"]), [
        {"uid": uid, "at": at, "url": c.url, "request_headers": [list(h) for h in c.request_headers],
         "request_body": _pack(c.request_body), "request_bytes": c.request_bytes,
         "response_headers": [list(h) for h in c.response_headers],
         "response_body": _pack(c.response_body), "response_bytes": c.response_bytes}
        for uid, at, c in captures
    ])


def _pack(body: bytes | None) -> bytes | None:
    return None if body is None else zlib.compress(body)


def unpack(body: bytes | None) -> bytes | None:
    """A stored body as it was captured (cut to the cap)."""
    return None if body is None else zlib.decompress(body)


def capture_of(session: Session, uid: str | None) -> CaptureRow | None:
    return session.get(CaptureRow, uid) if uid else None


def purge_captures(session: Session, before: datetime) -> int:
    """Delete the captures of exchanges older than ``before`` (the audit rows stay); how many went."""
    return session.execute(delete(CaptureRow).where(CaptureRow.at < before)).rowcount  # type: ignore[attr-defined]
