"""The wire of an audited exchange: its URL, request and response headers and bodies, kept for a few days.

One row per audit row (keyed by the audit row's ``uid``), written in the same transaction as the audit rows it
belongs to. Headers arrive already redacted and bodies already cut (:mod:`ewp_node.capture` does it before
the journal line is written). The wire is kept as the journal line carried it (:class:`PackedCapture`: headers
and bodies escaped into one tab-separated field), zlib-compressed from :data:`COMPRESS_FROM` bytes on (below,
behind a NUL byte, as it is: zlib's set-up costs more CPU than the few hundred bytes it saves); the flusher
neither parses nor re-encodes it, and the console reads it back (:func:`ewp_node.capture.capture_of`). Full
body lengths are columns.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, ForeignKey, Index, LargeBinary, String, Text, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from ewp_node.store.base import Base
from ewp_node.store.db import insert_rows

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


class PackedCapture(NamedTuple):
    """A capture as the journal carries it: the URL, the bodies' full lengths (None: no body) and ``tail``,
    the redacted headers and cut bodies escaped into four tab-separated fields (:mod:`ewp_node.capture`)."""

    url: str
    request_bytes: int | None
    response_bytes: int | None
    tail: bytes


class CaptureRow(Base):
    __tablename__ = "exchange_capture"
    __table_args__ = (Index("ix_exchange_capture_at", "at"),)

    uid: Mapped[str] = mapped_column(String(32), ForeignKey("audit_log.uid", ondelete="CASCADE"), primary_key=True)
    #: The audit row's time, for the retention purge.
    at: Mapped[datetime]
    url: Mapped[str] = mapped_column(Text)
    #: Full body lengths as sent (None: no body in hand).
    request_bytes: Mapped[int | None]
    response_bytes: Mapped[int | None]
    #: :attr:`PackedCapture.tail`, zlib-compressed, or NUL and the tail (:func:`wire_of`).
    wire: Mapped[bytes] = mapped_column(LargeBinary)


#: Tails from this size on are compressed. zlib allocates and clears ~300 KiB of state per stream: for a signed
#: Echo's 1.4 KiB tail that took 25-65 us of the flusher's CPU to save ~500 bytes.
COMPRESS_FROM = 4096
#: The first byte of a tail stored as it is; a zlib stream's first byte (CMF, compression method 8) never is 0.
_STORED = b"\x00"


def wire_of(tail: bytes) -> bytes:
    """The ``wire`` column for ``tail``."""
    return zlib.compress(tail, 1) if len(tail) >= COMPRESS_FROM else _STORED + tail


def tail_of(wire: bytes) -> bytes:
    """The tail a ``wire`` column holds (:func:`wire_of`)."""
    return wire[1:] if wire[:1] == _STORED else zlib.decompress(wire)


#: The columns :func:`record_captures` fills, in the order of its row tuples.
_COLUMNS = ("uid", "at", "url", "request_bytes", "response_bytes", "wire")


def record_captures(connection: Connection, captures: Sequence[tuple[str, Any, PackedCapture]]) -> None:
    """Store ``(uid, at, capture)`` rows (the caller commits; ``at`` as the driver takes it:
    :func:`ewp_node.store.db.stored_datetime`); a uid already stored is skipped."""
    insert_rows(connection, CaptureRow.__tablename__, _COLUMNS, "uid",
                [(uid, at, c.url, c.request_bytes, c.response_bytes, wire_of(c.tail)) for uid, at, c in captures])


def packed_wire(row: CaptureRow) -> PackedCapture:
    return PackedCapture(row.url, row.request_bytes, row.response_bytes, tail_of(row.wire))


def purge_captures(session: Session, before: datetime) -> int:
    """Delete the captures of exchanges older than ``before`` (the audit rows stay); how many went."""
    return session.execute(delete(CaptureRow).where(CaptureRow.at < before)).rowcount  # type: ignore[attr-defined]
