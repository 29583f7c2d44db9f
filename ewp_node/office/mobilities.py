"""Read models of mobilities for the console: the pipeline per academic year, and one LA's versions compared."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ewp_node.mobilities import repository
from ewp_node.mobilities.models import MobilityRow
from ewp_node.mobilities.records import Component, LaVersion, LearningAgreement, NominationStatus, ProposalState
from ewp_node.tors.records import ReceivedTranscript

#: Pipeline stages, in the order a mobility goes through them.
STAGES = ("nominated", "nomination approved", "LA proposed", "LA approved", "arrived")


def stage(la: LearningAgreement) -> str:
    """How far one mobility has gone."""
    mobility = la.mobility
    if mobility.actual_arrival is not None:
        return "arrived"
    if la.first_version is not None and la.changes_proposal is None:
        return "LA approved"
    if la.changes_proposal is not None:
        return "LA proposed"
    if mobility.nomination.status is NominationStatus.APPROVED:
        return "nomination approved"
    return "nominated"


@dataclass(frozen=True)
class Pipeline:
    academic_year_id: str
    counts: dict[str, int]
    agreements: tuple[LearningAgreement, ...]


def pipelines(session: Session, hei_ids: Collection[str]) -> list[Pipeline]:
    """Every mobility of ``hei_ids`` (both directions), per academic year, newest year first."""
    rows = session.scalars(
        select(MobilityRow).options(selectinload(MobilityRow.versions))
        .where(MobilityRow.sending_hei_id.in_(hei_ids) | MobilityRow.receiving_hei_id.in_(hei_ids))
        .order_by(MobilityRow.receiving_academic_year_id.desc(), MobilityRow.id)
    ).all()
    years: dict[str, list[LearningAgreement]] = {}
    for row in rows:
        years.setdefault(row.receiving_academic_year_id, []).append(repository.la_record(row))
    return [Pipeline(year, dict(Counter(stage(la) for la in las)), tuple(las)) for year, las in years.items()]


def agreement(session: Session, sending_hei_id: str, omobility_id: str, hei_ids: Collection[str]
              ) -> LearningAgreement | None:
    """One mobility's LA, if one of ``hei_ids`` sends or receives it."""
    row = repository.find(session, sending_hei_id, omobility_id)
    if row is None or not ({row.sending_hei_id, row.receiving_hei_id} & set(hei_ids)):
        return None
    return repository.la_record(row)


def _key(component: Component) -> tuple[str, str]:
    return (component.kind.value, component.los_id or component.los_code or component.title)


@dataclass(frozen=True)
class VersionChanges:
    """One LA version beside the one before it: which components it adds and which it drops."""

    number: int
    version: LaVersion
    added: frozenset[tuple[str, str]]
    removed: tuple[Component, ...]


def compare_versions(la: LearningAgreement) -> list[VersionChanges]:
    """Each version put to the receiving HEI (superseded drafts left aside) against the previous one."""
    shown = [v for v in la.versions if v.state is not ProposalState.SUPERSEDED]
    changes: list[VersionChanges] = []
    previous: dict[tuple[str, str], Component] = {}
    for number, version in enumerate(shown, start=1):
        current = {_key(c): c for c in version.components if c.status != "deleted"}
        added = frozenset(k for k in current if k not in previous) if number > 1 else frozenset()
        removed = tuple(c for k, c in previous.items() if k not in current)
        changes.append(VersionChanges(number, version, added, removed))
        previous = current
    return changes


@dataclass(frozen=True)
class MobilityCount:
    """Mobilities of one academic year, direction and partner, with the students' citizenships."""

    academic_year_id: str
    direction: str
    partner_hei_id: str
    count: int
    citizenships: str


@dataclass(frozen=True)
class Turnaround:
    """How long a partner's answers to learning agreement proposals took (days, mean and longest)."""

    partner_hei_id: str
    answered: int
    mean_days: float
    longest_days: float


def mobility_counts(years: list[Pipeline]) -> list[MobilityCount]:
    """Per academic year, direction and partner: how many students, from which countries."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for year in years:
        for la in year.agreements:
            m = la.mobility
            partner = m.receiving.hei_id if m.direction.value == "outgoing" else m.sending.hei_id
            groups.setdefault((year.academic_year_id, m.direction.value, partner), []).append(m.student.citizenship)
    return [MobilityCount(y, d, p, len(c), ", ".join(f"{k} {n}" for k, n in Counter(c).most_common()))
            for (y, d, p), c in sorted(groups.items())]


def turnarounds(years: list[Pipeline]) -> list[Turnaround]:
    """Per partner: the time from the sending HEI's signature to the receiving HEI's answer, in days."""
    waits: dict[str, list[float]] = {}
    for year in years:
        for la in year.agreements:
            m = la.mobility
            partner = m.receiving.hei_id if m.direction.value == "outgoing" else m.sending.hei_id
            for version in la.versions:
                if version.receiving_signature is not None:
                    delay = version.receiving_signature.timestamp - version.sending_signature.timestamp
                    waits.setdefault(partner, []).append(max(delay.total_seconds(), 0) / 86400)
    return [Turnaround(p, len(w), round(sum(w) / len(w), 1), round(max(w), 1)) for p, w in sorted(waits.items())]


@dataclass(frozen=True)
class TranscriptView:
    """A mobility's transcript as the office sees it: issued by us (incoming), or received and converted
    (outgoing: the latest fetch, accepted or rejected and why)."""

    issued_at: str | None = None
    received: ReceivedTranscript | None = None


def transcript(session: Session, la: LearningAgreement) -> TranscriptView:
    from ewp_node.tors import repository as tors

    m = la.mobility
    if m.direction.value == "incoming":
        issued = tors.issued_by_ids(session, {m.receiving.hei_id}, {m.sending.hei_id}, [m.omobility_id])
        return TranscriptView(issued_at=f"{issued[0].issued_at:%Y-%m-%d}" if issued else None)
    fetched = [r for r in tors.received(session, {m.sending.hei_id}) if r.omobility_id == m.omobility_id]
    return TranscriptView(received=fetched[-1] if fetched else None)
