"""Reads and small writes of the IIA tables: plain functions over a ``Session`` (the caller commits).

Every read for the APIs takes the HEIs the caller speaks for: an IIA is visible only to its partner HEI.
Changes to our copies go through ``service`` (it keeps the served element, the hash and the snapshot right).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ewp_node.iias.build import GivenApproval, IiaStats
from ewp_node.iias.models import Direction, IiaApproval, IiaNotification, IiaRow, NotificationKind, PartnerCopy
from ewp_node.iias.records import Iia, from_data

#: Largest ``IN (...)`` list sent to the database in one query.
CHUNK = 500


def record_of(row: IiaRow) -> Iia:
    """The record of a stored copy."""
    return from_data(Iia, row.data)  # type: ignore[no-any-return]


def find(session: Session, hei_id: str, iia_id: str) -> IiaRow | None:
    """Our copy ``iia_id`` of ``hei_id``, deleted or not."""
    return session.scalar(select(IiaRow).where(IiaRow.hei_id == hei_id, IiaRow.iia_id == iia_id))


def our_copies(session: Session, hei_id: str, *, partner_hei_id: str | None = None) -> list[IiaRow]:
    """Every live copy of ``hei_id`` (of one partner, if given), by id."""
    query = select(IiaRow).where(IiaRow.hei_id == hei_id, IiaRow.deleted_at.is_(None)).order_by(IiaRow.iia_id)
    if partner_hei_id is not None:
        query = query.where(IiaRow.partner_hei_id == partner_hei_id)
    return list(session.scalars(query))


def served_elements(session: Session, hei_id: str, partner_heis: Iterable[str], iia_ids: Sequence[str]) -> list[bytes]:
    """The served ``<iia>`` of each id in ``iia_ids`` that ``hei_id`` shares with one of ``partner_heis``, in
    request order; other ids are ignored (IIAs get)."""
    heis = list(partner_heis)
    query = select(IiaRow.iia_id, IiaRow.element).where(IiaRow.hei_id == hei_id, IiaRow.partner_hei_id.in_(heis),
                                                        IiaRow.deleted_at.is_(None), IiaRow.iia_id.in_(iia_ids))
    found: dict[str, str] = {iia_id: element for iia_id, element in session.execute(query)}
    return [found[i].encode("utf-8") for i in iia_ids if i in found]


def _covers(condition: dict[str, str], year: int) -> bool:
    return int(condition["receiving_first_academic_year_id"][:4]) <= year <= int(
        condition["receiving_last_academic_year_id"][:4])


def visible_ids(session: Session, hei_id: str, partner_heis: Iterable[str], *, years: Sequence[int] = (),
                modified_since: datetime | None = None) -> list[str]:
    """Ids of ``hei_id``'s live copies shared with ``partner_heis`` (IIAs index), optionally only those with a
    condition whose receiving years include one of ``years`` (start years), or modified after a moment."""
    query = select(IiaRow.iia_id).where(IiaRow.hei_id == hei_id, IiaRow.partner_hei_id.in_(list(partner_heis)),
                                        IiaRow.deleted_at.is_(None)).order_by(IiaRow.iia_id)
    if modified_since is not None:
        query = query.where(IiaRow.modified_at > modified_since)
    if not years:
        return list(session.scalars(query))
    in_range = query.where(IiaRow.first_year <= max(years), IiaRow.last_year >= min(years)).add_columns(IiaRow.data)
    return [iia_id for iia_id, data in session.execute(in_range)
            if any(_covers(c, y) for c in data.get("conditions", ()) for y in years)]


def stats(session: Session, hei_id: str) -> IiaStats:
    """The IIAs stats of ``hei_id``: live copies, and whose current version each side approved."""
    received, given = aliased(IiaApproval), aliased(IiaApproval)
    query = (select(IiaRow.iia_hash, received.iia_hash, given.iia_hash, PartnerCopy.iia_hash)
             .where(IiaRow.hei_id == hei_id, IiaRow.deleted_at.is_(None))
             .outerjoin(received, (received.iia_pk == IiaRow.id) & (received.direction == Direction.RECEIVED.value))
             .outerjoin(given, (given.iia_pk == IiaRow.id) & (given.direction == Direction.GIVEN.value))
             .outerjoin(PartnerCopy, (PartnerCopy.iia_pk == IiaRow.id) & PartnerCopy.deleted_at.is_(None)))
    counts = [0, 0, 0, 0]
    for ours, approved_ours, approved_theirs, theirs in session.execute(query):
        partner_approved = approved_ours is not None and approved_ours == ours
        local_approved = approved_theirs is not None and approved_theirs == theirs
        counts[0] += 1
        counts[1] += partner_approved and not local_approved
        counts[2] += local_approved and not partner_approved
        counts[3] += partner_approved and local_approved
    return IiaStats(*counts)


def approvals_given(session: Session, hei_id: str, partner_heis: Iterable[str],
                    partner_iia_ids: Sequence[str]) -> list[GivenApproval]:
    """Our approvals of the partners' copies ``partner_iia_ids`` (their ids), in request order (IIAs Approval
    API v2); copies we did not approve, or of other partners, are left out."""
    query = (select(IiaRow.partner_iia_id, IiaApproval.iia_hash, IiaApproval.pdf_file)
             .join(IiaApproval, (IiaApproval.iia_pk == IiaRow.id) & (IiaApproval.direction == Direction.GIVEN.value))
             .where(IiaRow.hei_id == hei_id, IiaRow.partner_hei_id.in_(list(partner_heis)),
                    IiaRow.deleted_at.is_(None), IiaRow.partner_iia_id.in_(partner_iia_ids)))
    found = {str(iia_id): GivenApproval(str(iia_id), iia_hash, pdf) for iia_id, iia_hash, pdf in session.execute(query)}
    return [found[i] for i in partner_iia_ids if i in found]


def approval(session: Session, row: IiaRow, direction: Direction) -> IiaApproval | None:
    return session.scalar(select(IiaApproval).where(IiaApproval.iia_pk == row.id,
                                                    IiaApproval.direction == direction.value))


def partner_copy(session: Session, hei_id: str, partner_hei_id: str, partner_iia_id: str) -> PartnerCopy | None:
    return session.scalar(select(PartnerCopy).where(PartnerCopy.hei_id == hei_id,
                                                    PartnerCopy.partner_hei_id == partner_hei_id,
                                                    PartnerCopy.partner_iia_id == partner_iia_id))


def copy_of(session: Session, row: IiaRow) -> PartnerCopy | None:
    """The partner's copy mapped to our copy ``row``, if fetched."""
    return session.scalar(select(PartnerCopy).where(PartnerCopy.iia_pk == row.id))


# -- received notifications --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Notification:
    """A received CNR waiting for its follow-up fetch."""

    id: int
    hei_id: str
    partner_hei_id: str
    kind: NotificationKind
    iia_id: str
    received_at: datetime


def record_notification(session: Session, hei_id: str, partner_hei_id: str, kind: NotificationKind, iia_id: str,
                        now: datetime) -> None:
    """Remember that ``partner_hei_id`` notified ``hei_id`` about ``iia_id``; a repeat re-opens the same row."""
    row = session.scalar(select(IiaNotification).where(
        IiaNotification.hei_id == hei_id, IiaNotification.partner_hei_id == partner_hei_id,
        IiaNotification.kind == kind.value, IiaNotification.iia_id == iia_id))
    if row is None:
        session.add(IiaNotification(hei_id=hei_id, partner_hei_id=partner_hei_id, kind=kind.value, iia_id=iia_id,
                                    received_at=now, handled_at=None))
    else:
        row.received_at, row.handled_at = now, None


def pending_notifications(session: Session, limit: int = 100) -> list[Notification]:
    """Received notifications not handled yet, oldest first."""
    rows = session.scalars(select(IiaNotification).where(IiaNotification.handled_at.is_(None))
                           .order_by(IiaNotification.received_at, IiaNotification.id).limit(limit))
    return [Notification(r.id, r.hei_id, r.partner_hei_id, NotificationKind(r.kind), r.iia_id, r.received_at)
            for r in rows]


def mark_handled(session: Session, notification_id: int, now: datetime) -> None:
    row = session.get(IiaNotification, notification_id)
    if row is not None:
        row.handled_at = now
