"""Reads and small writes of the IIA tables: plain functions over a ``Session`` (the caller commits).

Every read for the APIs takes the HEIs the caller speaks for: an IIA is visible only to its partner HEI.
Changes to our copies go through ``service`` (it keeps the served element, the hash and the snapshot right).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from ewp_node.iias.build import GivenApproval, IiaStats
from ewp_node.iias.models import ConditionYears, Direction, IiaApproval, IiaRow, PartnerCopy
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


def visible_ids(session: Session, hei_id: str, partner_heis: Iterable[str], *, years: Sequence[int] = (),
                modified_since: datetime | None = None) -> list[str]:
    """Ids of ``hei_id``'s live copies shared with ``partner_heis`` (IIAs index), optionally only those with a
    condition whose receiving years include one of ``years`` (start years), or modified after a moment."""
    query = select(IiaRow.iia_id).where(IiaRow.hei_id == hei_id, IiaRow.partner_hei_id.in_(list(partner_heis)),
                                        IiaRow.deleted_at.is_(None)).order_by(IiaRow.iia_id)
    if modified_since is not None:
        query = query.where(IiaRow.modified_at > modified_since)
    if years:
        covered = or_(*((ConditionYears.first_year <= year) & (ConditionYears.last_year >= year) for year in years))
        query = query.where(exists().where(ConditionYears.iia_pk == IiaRow.id, covered))
    return list(session.scalars(query))


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


@dataclass(frozen=True)
class Copies:
    """Both copies of one IIA, as records (what the completeness checks and the diff read).

    :ivar ours: our copy. :ivar theirs: the partner's live copy as last fetched, None when not fetched, gone,
        or breaking the rules (``problems`` then says how).
    """

    ours: Iia
    theirs: Iia | None
    theirs_hash: str | None
    problems: tuple[str, ...]


def copies(session: Session, hei_id: str, iia_id: str) -> Copies | None:
    """Our live copy ``iia_id`` and the partner's copy mapped to it; None for an unknown id."""
    row = find(session, hei_id, iia_id)
    if row is None or row.deleted_at is not None:
        return None
    copy = copy_of(session, row)
    if copy is None or copy.deleted_at is not None:
        return Copies(record_of(row), None, None, ())
    theirs = from_data(Iia, copy.data) if copy.data is not None else None
    return Copies(record_of(row), theirs, copy.iia_hash, tuple(copy.problems))


# -- state of one IIA, for people ----------------------------------------------------------------------------

@dataclass(frozen=True)
class IiaState:
    """Where one of our IIAs stands: mapping, the partner's copy, approvals both ways."""

    iia_id: str
    partner_hei_id: str
    partner_iia_id: str | None
    iia_hash: str
    modified_at: datetime
    terminated: bool
    #: When the partner's copy was last fetched, its declared hash and what is wrong with it, if anything.
    copy_fetched_at: datetime | None
    copy_hash: str | None
    copy_problems: tuple[str, ...]
    #: The partner approved our current version / we approved the partner's current copy.
    partner_approved: bool
    we_approved: bool
    snapshot_at: datetime | None

    @property
    def summary(self) -> str:
        """A few words: "approved by both", "waiting for the partner's approval"..."""
        if self.terminated:
            return "terminated"
        if self.partner_approved and self.we_approved:
            return "approved by both"
        if self.partner_iia_id is None:
            return "not mapped by the partner yet"
        if self.partner_approved:
            return "approved by the partner, not by us"
        if self.we_approved:
            return "approved by us, waiting for the partner"
        return "not approved"


def state(session: Session, row: IiaRow) -> IiaState:
    copy = copy_of(session, row)
    received = approval(session, row, Direction.RECEIVED)
    given = approval(session, row, Direction.GIVEN)
    live_copy = copy if copy is not None and copy.deleted_at is None else None
    return IiaState(
        iia_id=row.iia_id, partner_hei_id=row.partner_hei_id, partner_iia_id=row.partner_iia_id,
        iia_hash=row.iia_hash, modified_at=row.modified_at, terminated=row.terminated,
        copy_fetched_at=live_copy.fetched_at if live_copy else None,
        copy_hash=live_copy.iia_hash if live_copy else None,
        copy_problems=tuple(live_copy.problems) if live_copy else (),
        partner_approved=received is not None and received.iia_hash == row.iia_hash,
        we_approved=given is not None and live_copy is not None and given.iia_hash == live_copy.iia_hash,
        snapshot_at=row.snapshot_at,
    )
