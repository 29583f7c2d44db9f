"""Reading and writing mobilities and learning agreements: rows to records and back, and the queries the
APIs need (every query already restricted to what the calling partner may see)."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import JSON, FromClause, Row, Select, Text, cast, func, select
from sqlalchemy.orm import Session, selectinload

from ewp_node.mobilities.models import LaComponentRow, LaVersionRow, MobilityRow
from ewp_node.mobilities.records import (
    Component,
    ComponentKind,
    Contact,
    Credit,
    Direction,
    LanguageSkill,
    LaVersion,
    LaYearStats,
    LearningAgreement,
    Mobility,
    Nomination,
    NominationStatus,
    Party,
    ProposalState,
    Signature,
    Student,
)

#: LA statistics start at this receiving academic year (DIGEST.md "Statistics endpoints").
FIRST_STATS_YEAR = 2021


# -- rows -> records ------------------------------------------------------------------------------------------------

def _contact(data: dict[str, Any] | None) -> Contact | None:
    return Contact(**data) if data else None


def _party(row: MobilityRow | Row[Any], side: str) -> Party:
    return Party(hei_id=getattr(row, f"{side}_hei_id"), ounit_id=getattr(row, f"{side}_ounit_id"),
                 ounit_name=getattr(row, f"{side}_ounit_name"), iia_id=getattr(row, f"{side}_iia_id"),
                 contact=_contact(getattr(row, f"{side}_contact")))


def mobility_record(row: MobilityRow | Row[Any]) -> Mobility:
    return Mobility(
        omobility_id=row.omobility_id, direction=Direction(row.direction),
        sending=_party(row, "sending"), receiving=_party(row, "receiving"),
        student=Student(given_names=row.student_given_names, family_name=row.student_family_name,
                        global_id=row.student_global_id, birth_date=row.student_birth_date,
                        citizenship=row.student_citizenship, gender=row.student_gender, email=row.student_email),
        receiving_academic_year_id=row.receiving_academic_year_id, activity_attributes=row.activity_attributes,
        eqf_level=row.eqf_level, isced_code=row.isced_code,
        nomination=Nomination(NominationStatus(row.nomination_status), row.nomination_proposal_id,
                              row.nomination_comment),
        sending_term_id=row.sending_term_id, activity_type=row.activity_type,
        agreement_isced_code=row.agreement_isced_code, isced_clarification=row.isced_clarification,
        language_skills=tuple(LanguageSkill(s["language"], s["cefr_level"]) for s in row.language_skills),
        planned_arrival=row.planned_arrival, planned_departure=row.planned_departure,
        actual_arrival=row.actual_arrival, actual_departure=row.actual_departure, modified_at=row.modified_at,
    )


def signature_record(data: dict[str, Any]) -> Signature:
    return Signature(timestamp=datetime.fromisoformat(data["timestamp"]), signer_name=data.get("signer_name"),
                     signer_position=data.get("signer_position"), signer_email=data.get("signer_email"),
                     signer_app=data.get("signer_app"))


def _component(row: LaComponentRow | Row[Any]) -> Component:
    return Component(kind=ComponentKind(row.kind), title=row.title, los_id=row.los_id, los_code=row.los_code,
                     loi_id=row.loi_id, term_number=row.term_number, total_terms=row.total_terms,
                     credits=tuple(Credit(c["scheme"], Decimal(c["value"])) for c in row.credits),
                     recognition_conditions=row.recognition_conditions, short_description=row.short_description,
                     status=row.status, reason_code=row.reason_code, reason_text=row.reason_text)


def version_record(row: LaVersionRow | Row[Any], components: Iterable[LaComponentRow | Row[Any]]) -> LaVersion:
    return LaVersion(proposal_id=row.proposal_id, state=ProposalState(row.state),
                     student_signature=signature_record(row.student_signature),
                     sending_signature=signature_record(row.sending_signature),
                     components=tuple(_component(c) for c in components),
                     receiving_signature=signature_record(row.receiving_signature) if row.receiving_signature
                     else None, comment=row.comment)


def la_record(row: MobilityRow) -> LearningAgreement:
    return LearningAgreement(mobility_record(row), tuple(version_record(v, v.components) for v in row.versions))


# -- records -> rows ------------------------------------------------------------------------------------------------

def _contact_data(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"given_names": contact.given_names, "family_name": contact.family_name, "email": contact.email,
            "phone_e164": contact.phone_e164}


def mobility_columns(mobility: Mobility) -> dict[str, Any]:
    """The column values of ``mobility`` (``modified_at`` aside)."""
    columns: dict[str, Any] = {"direction": mobility.direction.value, "omobility_id": mobility.omobility_id}
    for side, party in (("sending", mobility.sending), ("receiving", mobility.receiving)):
        columns |= {f"{side}_hei_id": party.hei_id, f"{side}_ounit_id": party.ounit_id,
                    f"{side}_ounit_name": party.ounit_name, f"{side}_iia_id": party.iia_id,
                    f"{side}_contact": _contact_data(party.contact)}
    student = mobility.student
    columns |= {
        "student_given_names": student.given_names, "student_family_name": student.family_name,
        "student_global_id": student.global_id, "student_birth_date": student.birth_date,
        "student_citizenship": student.citizenship, "student_gender": student.gender,
        "student_email": student.email,
        "sending_term_id": mobility.sending_term_id, "receiving_academic_year_id": mobility.receiving_academic_year_id,
        "activity_type": mobility.activity_type, "activity_attributes": mobility.activity_attributes,
        "eqf_level": mobility.eqf_level, "isced_code": mobility.isced_code,
        "agreement_isced_code": mobility.agreement_isced_code, "isced_clarification": mobility.isced_clarification,
        "language_skills": [{"language": s.language, "cefr_level": s.cefr_level} for s in mobility.language_skills],
        "planned_arrival": mobility.planned_arrival, "planned_departure": mobility.planned_departure,
        "actual_arrival": mobility.actual_arrival, "actual_departure": mobility.actual_departure,
        "nomination_status": mobility.nomination.status.value,
        "nomination_proposal_id": mobility.nomination.proposal_id,
        "nomination_comment": mobility.nomination.comment,
    }
    return columns


def signature_data(signature: Signature) -> dict[str, Any]:
    return {"timestamp": signature.timestamp.isoformat(), "signer_name": signature.signer_name,
            "signer_position": signature.signer_position, "signer_email": signature.signer_email,
            "signer_app": signature.signer_app}


def component_row(position: int, component: Component) -> LaComponentRow:
    return LaComponentRow(
        position=position, kind=component.kind.value, title=component.title, los_id=component.los_id,
        los_code=component.los_code, loi_id=component.loi_id, term_number=component.term_number,
        total_terms=component.total_terms,
        credits=[{"scheme": c.scheme, "value": str(c.value)} for c in component.credits],
        recognition_conditions=component.recognition_conditions, short_description=component.short_description,
        status=component.status, reason_code=component.reason_code, reason_text=component.reason_text)


def version_row(seq: int, version: LaVersion) -> LaVersionRow:
    return LaVersionRow(
        seq=seq, proposal_id=version.proposal_id, state=version.state.value,
        student_signature=signature_data(version.student_signature),
        sending_signature=signature_data(version.sending_signature),
        receiving_signature=signature_data(version.receiving_signature) if version.receiving_signature else None,
        comment=version.comment,
        components=[component_row(i, c) for i, c in enumerate(version.components)])


# -- queries --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexFilter:
    """The optional filters of an index request; ``partners`` are the receiving HEIs the caller may see."""

    partners: frozenset[str]
    academic_year: str | None = None
    modified_since: datetime | None = None
    global_id: str | None = None


def find(session: Session, sending_hei_id: str, omobility_id: str, *, lock: bool = False) -> MobilityRow | None:
    """One mobility by its key, its LA versions loaded (``lock``: ``SELECT ... FOR UPDATE`` where supported)."""
    query = (select(MobilityRow).where(MobilityRow.sending_hei_id == sending_hei_id,
                                       MobilityRow.omobility_id == omobility_id)
             .options(selectinload(MobilityRow.versions).selectinload(LaVersionRow.components)))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _between(sending_heis: Collection[str], receiving_heis: Collection[str],
              direction: Direction = Direction.OUTGOING) -> Select[MobilityRow]:
    return select(MobilityRow).where(MobilityRow.direction == direction.value,
                                     MobilityRow.sending_hei_id.in_(sending_heis),
                                     MobilityRow.receiving_hei_id.in_(receiving_heis))


def outgoing_by_ids(session: Session, sending_heis: Collection[str], partners: Collection[str],
                    omobility_ids: Iterable[str]) -> list[Mobility]:
    """Our outgoing mobilities of these ids whose receiving HEI is one of ``partners``, in request order."""
    ids = list(omobility_ids)
    rows = session.scalars(_between(sending_heis, partners).where(MobilityRow.omobility_id.in_(ids))).all()
    by_id = {row.omobility_id: row for row in rows}
    return [mobility_record(by_id[i]) for i in ids if i in by_id]


class _Undecoded:
    """A table's columns read with the JSON ones as text (after its key columns ``keys``: not part of the
    values), and given back decoded as a row with attribute access (on a cache miss only)."""

    def __init__(self, table: FromClause, keys: Sequence[str]) -> None:
        columns = [c for c in table.columns if c.key not in keys]
        self.read = (*(table.columns[k] for k in keys),
                     *(cast(c, Text).label(c.key) if isinstance(c.type, JSON) else c for c in columns))
        self._json = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
        self._row: Any = namedtuple("Values", [c.key for c in columns])  # type: ignore[misc]

    def decoded(self, values: tuple[Any, ...]) -> Any:
        decoded = list(values)
        for i in self._json:
            decoded[i] = None if decoded[i] is None else json.loads(decoded[i])
        return self._row._make(decoded)


_MOBILITY_READ = _Undecoded(MobilityRow.__table__, ("id",))
_VERSION_READ = _Undecoded(LaVersionRow.__table__, ("id", "mobility_pk"))
_COMPONENT_READ = _Undecoded(LaComponentRow.__table__, ("version_pk",))


class StoredLa(NamedTuple):
    """A learning agreement as read, not decoded yet: its mobility's column values and, oldest first, each
    version's with those of its components (JSON as text, keys left out). Equal values make equal records, so
    it keys the cache of built ``la`` elements (tuples: hashed and compared in C)."""

    mobility: tuple[Any, ...]
    versions: tuple[tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]], ...]

    def record(self) -> LearningAgreement:
        return LearningAgreement(mobility_record(_MOBILITY_READ.decoded(self.mobility)), tuple(
            version_record(_VERSION_READ.decoded(version), map(_COMPONENT_READ.decoded, components))
            for version, components in self.versions))


def stored_las_by_ids(session: Session, sending_heis: Collection[str], receiving_heis: Collection[str],
                      omobility_ids: Iterable[str], direction: Direction = Direction.OUTGOING) -> list[StoredLa]:
    """The learning agreements (mobilities with at least one LA version) of these ids, in request order
    (``direction``: incoming for our copies of partners' LAs), not decoded: three queries, column tuples only
    (the hot path: a cached LA is never decoded)."""
    ids = list(omobility_ids)
    mobilities = session.execute(
        select(*_MOBILITY_READ.read)
        .where(MobilityRow.direction == direction.value, MobilityRow.sending_hei_id.in_(sending_heis),
               MobilityRow.receiving_hei_id.in_(receiving_heis), MobilityRow.omobility_id.in_(ids))).all()
    versions = session.execute(select(*_VERSION_READ.read)
                               .where(LaVersionRow.mobility_pk.in_([m.id for m in mobilities]))
                               .order_by(LaVersionRow.mobility_pk, LaVersionRow.seq)).all()
    components: dict[int, list[tuple[Any, ...]]] = {}
    for version_pk, *values in session.execute(select(*_COMPONENT_READ.read)
                                               .where(LaComponentRow.version_pk.in_([v.id for v in versions]))
                                               .order_by(LaComponentRow.version_pk, LaComponentRow.position)):
        components.setdefault(version_pk, []).append(tuple(values))
    by_mobility: dict[int, list[tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]]]] = {}
    for version_pk, mobility_pk, *values in versions:
        by_mobility.setdefault(mobility_pk, []).append((tuple(values), tuple(components.get(version_pk, ()))))
    by_id = {m.omobility_id: StoredLa(tuple(m)[1:], tuple(by_mobility[m.id])) for m in mobilities
             if m.id in by_mobility}
    return [by_id[i] for i in ids if i in by_id]


def las_by_ids(session: Session, sending_heis: Collection[str], receiving_heis: Collection[str],
               omobility_ids: Iterable[str], direction: Direction = Direction.OUTGOING) -> list[LearningAgreement]:
    """:func:`stored_las_by_ids`, decoded into records."""
    return [la.record() for la in stored_las_by_ids(session, sending_heis, receiving_heis, omobility_ids, direction)]


def outgoing_index(session: Session, sending_heis: Collection[str], where: IndexFilter, *,
                   with_la: bool = False) -> list[str]:
    """The ids of our outgoing mobilities (``with_la``: those with a learning agreement) the filter selects."""
    query = _between(sending_heis, where.partners).with_only_columns(MobilityRow.omobility_id)
    if where.academic_year is not None:
        query = query.where(MobilityRow.receiving_academic_year_id == where.academic_year)
    if where.modified_since is not None:
        query = query.where(MobilityRow.modified_at > where.modified_since)
    if where.global_id is not None:
        query = query.where(MobilityRow.student_global_id == where.global_id)
    if with_la:
        query = query.where(MobilityRow.versions.any())
    return list(session.scalars(query.order_by(MobilityRow.id)).all())


def incoming_by_ids(session: Session, receiving_heis: Collection[str], partners: Collection[str],
                    omobility_ids: Iterable[str]) -> list[Mobility]:
    """Incoming mobilities received by ``receiving_heis`` from ``partners`` (the sending HEIs), in request order."""
    ids = list(omobility_ids)
    rows = session.scalars(select(MobilityRow).where(
        MobilityRow.direction == Direction.INCOMING.value, MobilityRow.receiving_hei_id.in_(receiving_heis),
        MobilityRow.sending_hei_id.in_(partners), MobilityRow.omobility_id.in_(ids))).all()
    by_id = {row.omobility_id: row for row in rows}
    return [mobility_record(by_id[i]) for i in ids if i in by_id]


def list_mobilities(session: Session, hei_ids: Collection[str]) -> list[Mobility]:
    """Every mobility one of ``hei_ids`` sends or receives, in creation order."""
    rows = session.scalars(select(MobilityRow).where(
        MobilityRow.sending_hei_id.in_(hei_ids) | MobilityRow.receiving_hei_id.in_(hei_ids))
        .order_by(MobilityRow.id)).all()
    return [mobility_record(row) for row in rows]


def _year_stats(year: str, las: list[LearningAgreement]) -> LaYearStats:
    counts = dict.fromkeys(("some", "not_modified", "modified", "approved", "rejected", "awaiting"), 0)
    for la in las:
        put = [v for v in la.versions if v.state is not ProposalState.SUPERSEDED]
        approved_at = [i for i, v in enumerate(put) if v.state is ProposalState.APPROVED]
        counts["some"] += bool(approved_at)
        if len(approved_at) == 1 and approved_at[0] == len(put) - 1:
            counts["not_modified"] += 1
        elif approved_at and approved_at[0] < len(put) - 1:
            counts["modified"] += 1
        latest = la.latest
        if latest is not None:
            key = {ProposalState.APPROVED: "approved", ProposalState.COMMENTED: "rejected",
                   ProposalState.PENDING: "awaiting"}[latest.state]
            counts[key] += 1
    return LaYearStats(year, total=len(las), some_version_approved=counts["some"],
                       not_modified_after_approval=counts["not_modified"],
                       modified_after_approval=counts["modified"], latest_approved=counts["approved"],
                       latest_rejected=counts["rejected"], latest_awaiting=counts["awaiting"])


def nomination_stats(session: Session, our_heis: Collection[str]) -> list[tuple[str, int, int]]:
    """``(receiving academic year, pending, approved)`` nominations our HEIs send, from :data:`FIRST_STATS_YEAR`
    on, oldest year first (rejected and cancelled ones are not counted)."""
    rows = session.execute(
        select(MobilityRow.receiving_academic_year_id, MobilityRow.nomination_status, func.count())
        .where(MobilityRow.direction == Direction.OUTGOING.value, MobilityRow.sending_hei_id.in_(our_heis),
               MobilityRow.nomination_status.in_((NominationStatus.PENDING.value, NominationStatus.APPROVED.value)))
        .group_by(MobilityRow.receiving_academic_year_id, MobilityRow.nomination_status)).all()
    counts: dict[str, dict[str, int]] = {}
    for year, status, count in rows:
        if int(year[:4]) >= FIRST_STATS_YEAR:
            counts.setdefault(year, {})[status] = count
    return [(year, by_status.get(NominationStatus.PENDING.value, 0), by_status.get(NominationStatus.APPROVED.value, 0))
            for year, by_status in sorted(counts.items())]


def la_stats(session: Session, our_heis: Collection[str], direction: Direction) -> list[LaYearStats]:
    """LA counts per receiving academic year (from 2021/2022 on), oldest year first: of the LAs our HEIs send
    (outgoing) or of our copies of the LAs of students they receive (incoming)."""
    ours = MobilityRow.sending_hei_id if direction is Direction.OUTGOING else MobilityRow.receiving_hei_id
    query = (select(MobilityRow).where(MobilityRow.direction == direction.value, ours.in_(our_heis),
                                       MobilityRow.versions.any())
             .options(selectinload(MobilityRow.versions).selectinload(LaVersionRow.components)))
    by_year: dict[str, list[LearningAgreement]] = {}
    for row in session.scalars(query).all():
        if int(row.receiving_academic_year_id[:4]) >= FIRST_STATS_YEAR:
            by_year.setdefault(row.receiving_academic_year_id, []).append(la_record(row))
    return [_year_stats(year, las) for year, las in sorted(by_year.items())]
