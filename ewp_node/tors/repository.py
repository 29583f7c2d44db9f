"""Queries and writes of the transcript tables, returning typed records."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ewp_node.mobilities.repository import FIRST_STATS_YEAR
from ewp_node.tors.models import IssuedTranscriptRow, ReceivedTranscriptRow
from ewp_node.tors.records import (
    ConvertedResult,
    IssuedTranscript,
    ReceiptState,
    ReceivedTranscript,
    Recognition,
)


def _issued(row: Row[Any] | IssuedTranscriptRow) -> IssuedTranscript:
    return IssuedTranscript(receiving_hei_id=row.receiving_hei_id, sending_hei_id=row.sending_hei_id,
                            omobility_id=row.omobility_id, receiving_academic_year_id=row.receiving_academic_year_id,
                            elmo=row.elmo, conversion_table=row.conversion_table, issued_at=row.issued_at,
                            modified_at=row.modified_at, elmo_v1=row.elmo_v1,
                            conversion_table_v1=row.conversion_table_v1)


def save_issued(session: Session, transcript: IssuedTranscript) -> None:
    """Insert the transcript of this mobility, or replace it (keeping its first issue time)."""
    row = session.scalars(select(IssuedTranscriptRow).where(
        IssuedTranscriptRow.sending_hei_id == transcript.sending_hei_id,
        IssuedTranscriptRow.omobility_id == transcript.omobility_id).with_for_update()).first()
    if row is None:
        row = IssuedTranscriptRow(sending_hei_id=transcript.sending_hei_id, omobility_id=transcript.omobility_id,
                                  issued_at=transcript.issued_at)
        session.add(row)
    row.receiving_hei_id = transcript.receiving_hei_id
    row.receiving_academic_year_id = transcript.receiving_academic_year_id
    row.elmo = transcript.elmo
    row.conversion_table = transcript.conversion_table
    row.elmo_v1 = transcript.elmo_v1
    row.conversion_table_v1 = transcript.conversion_table_v1
    row.modified_at = transcript.modified_at


def issued_by_ids(session: Session, receiving_heis: Collection[str], sending_heis: Collection[str],
                  omobility_ids: Iterable[str]) -> list[IssuedTranscript]:
    """Our transcripts of these mobilities whose sending HEI is one of ``sending_heis``, in request order."""
    ids = list(omobility_ids)
    rows = session.execute(select(*IssuedTranscriptRow.__table__.columns).where(
        IssuedTranscriptRow.receiving_hei_id.in_(receiving_heis),
        IssuedTranscriptRow.sending_hei_id.in_(sending_heis),
        IssuedTranscriptRow.omobility_id.in_(ids))).all()
    by_id = {row.omobility_id: row for row in rows}
    return [_issued(by_id[i]) for i in ids if i in by_id]


def issued_index(session: Session, receiving_heis: Collection[str], sending_heis: Collection[str],
                 modified_since: datetime | None = None) -> list[str]:
    """The mobility ids of our transcripts for ``sending_heis`` (modified after ``modified_since``)."""
    query = select(IssuedTranscriptRow.omobility_id).where(
        IssuedTranscriptRow.receiving_hei_id.in_(receiving_heis),
        IssuedTranscriptRow.sending_hei_id.in_(sending_heis))
    if modified_since is not None:
        query = query.where(IssuedTranscriptRow.modified_at > modified_since)
    return list(session.scalars(query.order_by(IssuedTranscriptRow.id)).all())


def issued_stats(session: Session, receiving_heis: Collection[str]) -> list[tuple[str, int]]:
    """``(receiving academic year, transcripts issued)`` from :data:`FIRST_STATS_YEAR` on, oldest year first."""
    rows = session.execute(select(IssuedTranscriptRow.receiving_academic_year_id, func.count())
                           .where(IssuedTranscriptRow.receiving_hei_id.in_(receiving_heis))
                           .group_by(IssuedTranscriptRow.receiving_academic_year_id)
                           .order_by(IssuedTranscriptRow.receiving_academic_year_id)).all()
    return [(year, count) for year, count in rows if int(year[:4]) >= FIRST_STATS_YEAR]


def _recognition(data: dict[str, Any] | None) -> Recognition | None:
    if data is None:
        return None
    return Recognition(results=tuple(ConvertedResult(**{**result, "overlapping": tuple(result["overlapping"])})
                                     for result in data["results"]),
                       missing=tuple(data["missing"]))


def recognition_data(recognition: Recognition) -> dict[str, Any]:
    return {"results": [{**vars(result), "overlapping": list(result.overlapping)} for result in recognition.results],
            "missing": list(recognition.missing)}


def _received(row: ReceivedTranscriptRow) -> ReceivedTranscript:
    return ReceivedTranscript(id=row.id, sending_hei_id=row.sending_hei_id, receiving_hei_id=row.receiving_hei_id,
                              omobility_id=row.omobility_id, state=ReceiptState(row.state), reason=row.reason,
                              received_at=row.received_at, recognition=_recognition(row.recognition))


def add_received(session: Session, *, sending_hei_id: str, receiving_hei_id: str, omobility_id: str,
                 elmo: bytes, received_at: datetime, recognition: Recognition | None = None,
                 rejected_because: str | None = None) -> ReceivedTranscript:
    """Record one fetched transcript: accepted with its ``recognition``, or rejected with the reason."""
    row = ReceivedTranscriptRow(
        sending_hei_id=sending_hei_id, receiving_hei_id=receiving_hei_id, omobility_id=omobility_id,
        state=(ReceiptState.REJECTED if rejected_because else ReceiptState.ACCEPTED).value,
        reason=rejected_because, elmo=elmo, received_at=received_at,
        recognition=recognition_data(recognition) if recognition else None)
    session.add(row)
    session.flush()
    return _received(row)


def received(session: Session, sending_heis: Collection[str]) -> list[ReceivedTranscript]:
    """Every received transcript of our students, oldest first."""
    rows = session.scalars(select(ReceivedTranscriptRow).where(ReceivedTranscriptRow.sending_hei_id.in_(sending_heis))
                           .order_by(ReceivedTranscriptRow.id))
    return [_received(row) for row in rows]


def received_by_id(session: Session, sending_heis: Collection[str], row_id: int
                   ) -> tuple[ReceivedTranscript, bytes] | None:
    """One received transcript and its ELMO bytes as received."""
    row = session.get(ReceivedTranscriptRow, row_id)
    if row is None or row.sending_hei_id not in sending_heis:
        return None
    return _received(row), row.elmo
