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
