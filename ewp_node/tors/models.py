"""Tables of transcripts: those we issue as receiving HEI and those we receive as sending HEI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ewp_node.store.base import Base, hei_id

_ID = String(64)


class IssuedTranscriptRow(Base):
    """The current transcript of one incoming mobility (re-issuing replaces it)."""

    __tablename__ = "tor_issued"
    __table_args__ = (
        UniqueConstraint("sending_hei_id", "omobility_id"),
        Index("ix_tor_issued_receiving", "receiving_hei_id", "sending_hei_id", "modified_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receiving_hei_id: Mapped[hei_id]
    sending_hei_id: Mapped[hei_id]
    omobility_id: Mapped[str] = mapped_column(_ID)
    receiving_academic_year_id: Mapped[str] = mapped_column(String(9))
    #: The signed ``<elmo>`` document, exactly the bytes the signature covers.
    elmo: Mapped[bytes] = mapped_column(LargeBinary)
    #: The ``<gradeConversionTable>`` element as served (empty: none).
    conversion_table: Mapped[bytes] = mapped_column(LargeBinary)
    #: The same transcript for IMobility ToRs v2: signed ELMO 1.7 and its table in the v2 namespace.
    elmo_v1: Mapped[bytes] = mapped_column(LargeBinary)
    conversion_table_v1: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class ReceivedTranscriptRow(Base):
    """One fetch of a partner's transcript of our student, accepted or rejected; rows are never changed."""

    __tablename__ = "tor_received"
    __table_args__ = (Index("ix_tor_received_mobility", "sending_hei_id", "omobility_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sending_hei_id: Mapped[hei_id]
    receiving_hei_id: Mapped[hei_id]
    omobility_id: Mapped[str] = mapped_column(_ID)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    #: The ``<elmo>`` element as received (kept for the record, also when rejected).
    elmo: Mapped[bytes] = mapped_column(LargeBinary)
    #: ``{"results": [...], "missing": [...]}`` for an accepted transcript.
    recognition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime]
