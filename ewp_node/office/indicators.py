"""Read models of the Indicators page: mobilities per faculty and per partner country, transcripts issued and
recognized. Counting happens in SQL (GROUP BY); Python only names and merges the few aggregated rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from ewp_node.mobilities.models import MobilityRow
from ewp_node.publish.models import OUnit
from ewp_node.publish.records import text_in
from ewp_node.tors.models import IssuedTranscriptRow, ReceivedTranscriptRow
from ewp_node.tors.records import ReceiptState


@dataclass(frozen=True)
class MobilityTally:
    """Mobilities of one academic year and direction in one bucket (a faculty, a country).

    ``key`` is the ounit id or the country code, ``""`` for the unknown bucket; ``label`` what the page shows.
    """

    academic_year_id: str
    direction: str
    key: str
    label: str
    count: int


def _outgoing() -> ColumnElement[bool]:
    return MobilityRow.direction == "outgoing"


def _ours(hei_ids: Collection[str]) -> ColumnElement[bool]:
    """Mobilities one of ``hei_ids`` sends (outgoing) or receives (incoming)."""
    return ((_outgoing() & MobilityRow.sending_hei_id.in_(hei_ids))
            | (~_outgoing() & MobilityRow.receiving_hei_id.in_(hei_ids)))


def _sorted(tallies: list[MobilityTally]) -> list[MobilityTally]:
    return sorted(tallies, key=lambda t: (t.academic_year_id, t.direction, t.key == "", t.label))


def per_faculty(session: Session, hei_ids: Collection[str], lang: str = "en") -> list[MobilityTally]:
    """Per academic year and direction: mobilities per organizational unit on our side (the sending one of
    outgoing students, the receiving one of incoming students), named from our published OUnits data."""
    ounit = case((_outgoing(), MobilityRow.sending_ounit_id), else_=MobilityRow.receiving_ounit_id)
    our_hei = case((_outgoing(), MobilityRow.sending_hei_id), else_=MobilityRow.receiving_hei_id)
    year = MobilityRow.receiving_academic_year_id
    rows = session.execute(select(year, MobilityRow.direction, our_hei, ounit, func.count()).where(_ours(hei_ids))
                           .group_by(year, MobilityRow.direction, our_hei, ounit)).all()
    wanted = {ounit_id for *_, ounit_id, _ in rows if ounit_id}
    names = {(hei, ounit_id): text_in(data.get("names", []), lang) for hei, ounit_id, data in session.execute(
        select(OUnit.hei_id, OUnit.ounit_id, OUnit.data).where(OUnit.hei_id.in_(hei_ids), OUnit.ounit_id.in_(wanted)))}
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for year_id, direction, hei, ounit_id, count in rows:
        label = (names.get((hei, ounit_id)) or ounit_id) if ounit_id else ""
        counts[(year_id, direction, ounit_id or "", label)] += count
    return _sorted([MobilityTally(*key, count) for key, count in counts.items()])


def per_country(session: Session, hei_ids: Collection[str], country_of: Callable[[str], str | None]
                ) -> list[MobilityTally]:
    """Per academic year and direction: mobilities per country of the partner HEI (``country_of`` its id;
    None puts it in the unknown bucket)."""
    partner = case((_outgoing(), MobilityRow.receiving_hei_id), else_=MobilityRow.sending_hei_id)
    year = MobilityRow.receiving_academic_year_id
    rows = session.execute(select(year, MobilityRow.direction, partner, func.count()).where(_ours(hei_ids))
                           .group_by(year, MobilityRow.direction, partner)).all()
    countries = {hei: country_of(hei) or "" for hei in {r[2] for r in rows}}
    counts: Counter[tuple[str, str, str]] = Counter()
    for year_id, direction, hei, count in rows:
        counts[(year_id, direction, countries[hei])] += count
    return _sorted([MobilityTally(y, d, c, c, n) for (y, d, c), n in counts.items()])


@dataclass(frozen=True)
class TranscriptCount:
    """Transcripts of one academic year and partner: issued by us (the partner's students we received), and
    received from the partner for our students (latest fetch per mobility), of which recognized (verified and
    converted, as the mobility page shows them)."""

    academic_year_id: str
    partner_hei_id: str
    issued: int = 0
    received: int = 0
    recognized: int = 0


def transcript_counts(session: Session, hei_ids: Collection[str]) -> list[TranscriptCount]:
    """Per academic year and partner, oldest year first; ``""`` is the year of a transcript whose mobility we
    no longer hold."""
    issued = session.execute(
        select(IssuedTranscriptRow.receiving_academic_year_id, IssuedTranscriptRow.sending_hei_id, func.count())
        .where(IssuedTranscriptRow.receiving_hei_id.in_(hei_ids))
        .group_by(IssuedTranscriptRow.receiving_academic_year_id, IssuedTranscriptRow.sending_hei_id)).all()
    got = ReceivedTranscriptRow
    latest = (select(func.max(got.id).label("id")).where(got.sending_hei_id.in_(hei_ids))
              .group_by(got.sending_hei_id, got.omobility_id).subquery())
    year = func.coalesce(MobilityRow.receiving_academic_year_id, "")
    received = session.execute(
        select(year, got.receiving_hei_id, func.count(),
               func.sum(case((got.state == ReceiptState.ACCEPTED.value, 1), else_=0)))
        .select_from(latest).join(got, got.id == latest.c.id)
        .outerjoin(MobilityRow, and_(MobilityRow.sending_hei_id == got.sending_hei_id,
                                     MobilityRow.omobility_id == got.omobility_id))
        .group_by(year, got.receiving_hei_id)).all()
    merged: dict[tuple[str, str], dict[str, int]] = {}
    for year_id, partner, count in issued:
        merged.setdefault((year_id, partner), {})["issued"] = count
    for year_id, partner, count, accepted in received:
        merged.setdefault((year_id, partner), {}).update(received=count, recognized=int(accepted or 0))
    return [TranscriptCount(y, p, **counts) for (y, p), counts in sorted(merged.items())]
