"""Changes to our IIA copies: create, edit, map, terminate, delete, approvals both ways.

Each function is one change made inside the caller's transaction (``with sessions.begin() as session``), so
the change and what follows from it (served element and hash, snapshot, the outbox row that tells the partner:
an IIA CNR for a change of our copy, an IIA Approval CNR for our approval) commit together or not at all. The
served ``<iia>`` and its hash are rebuilt here on every change: what partners fetch, what they approve and
what we hash are always the same bytes.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from lxml import etree
from sqlalchemy.orm import Session

from ewp_node.cnr import enqueue
from ewp_node.iias import repository as repo
from ewp_node.iias.build import add_hash, build_iia
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.models import ConditionYears, Direction, IiaApproval, IiaRow, PartnerCopy
from ewp_node.iias.parse import ReceivedIia
from ewp_node.iias.records import Iia, from_data, to_data
from ewp_node.publish import repository as files

#: Outbox kinds (``ewp_node.cnr``): the IIA CNR v3 and IIA Approval CNR v2 we send.
IIA_CNR = "iia-cnr"
IIA_APPROVAL_CNR = "iia-approval-cnr"


class IiaChangeRefused(ValueError):
    """The change breaks an IIA rule (the message says which); nothing was written."""


def _served(iia: Iia) -> tuple[str, str]:
    """The ``<iia>`` as served (serialised) and its hash."""
    element = build_iia(iia, None)
    iia_hash = hash_iia(element).sha256
    add_hash(element, iia_hash)
    return etree.tostring(element, encoding="unicode"), iia_hash


def _tell_partner(session: Session, row: IiaRow, now: datetime) -> None:
    """Queue the IIA CNR of our copy ``row`` (created, changed or deleted)."""
    enqueue(session, IIA_CNR, owner_hei=row.hei_id, partner_hei=row.partner_hei_id, object_ids=[row.iia_id],
            now=now)


def _store(row: IiaRow, iia: Iia, now: datetime) -> None:
    row.element, row.iia_hash = _served(iia)
    row.data = to_data(iia)
    row.iia_code = iia.owner.iia_code
    row.partner_iia_id = iia.partner.iia_id
    row.in_effect, row.terminated, row.pdf_file = iia.in_effect, iia.terminated_as_a_whole, iia.pdf_file
    ranges = dict.fromkeys((int(c.receiving_first_academic_year_id[:4]), int(c.receiving_last_academic_year_id[:4]))
                           for c in iia.conditions)
    if {(y.first_year, y.last_year) for y in row.years} != set(ranges):
        row.years = [ConditionYears(first_year=first, last_year=last) for first, last in ranges]
    row.modified_at = now


def _check_pdf(session: Session, hei_id: str, iia: Iia) -> None:
    """The ``pdf-file`` must be a file of ``hei_id`` that the File API gives the partner."""
    if iia.pdf_file is None:
        return
    stored = files.file_for(session, iia.pdf_file, [hei_id])
    if stored is None:
        raise IiaChangeRefused(f"pdf_file {iia.pdf_file!r} is not a file of {hei_id}: import it first (files)")
    if not stored.public and iia.partner.hei_id not in stored.shared_with:
        raise IiaChangeRefused(f"pdf_file {iia.pdf_file!r} is not shared with {iia.partner.hei_id}: make it public "
                               "or add the partner to its shared_with")


def _with_code(iia: Iia, current: str | None = None) -> Iia:
    """The get-response wants an ``iia-code`` in the first partner: without one, keep the current code, or
    show the id."""
    if iia.owner.iia_code is not None:
        return iia
    return replace(iia, partners=(replace(iia.owner, iia_code=current or iia.owner.iia_id), iia.partner))


def create(session: Session, hei_id: str, iia: Iia, now: datetime) -> IiaRow:
    """Add our copy of a new IIA owned by ``hei_id`` (the first partner). A missing ``iia-id`` is given a
    new UUID. :raises IiaChangeRefused: wrong owner, or the id is taken (ids are never reused)."""
    if iia.owner.hei_id != hei_id:
        raise IiaChangeRefused(f"the first partner must be the owner {hei_id}, not {iia.owner.hei_id}")
    if iia.owner.iia_id is None:
        iia = replace(iia, partners=(replace(iia.owner, iia_id=str(uuid.uuid4())), iia.partner))
    iia = _with_code(iia)
    iia_id = str(iia.owner.iia_id)
    _check_pdf(session, hei_id, iia)
    if repo.find(session, hei_id, iia_id) is not None:
        raise IiaChangeRefused(f"IIA id {iia_id!r} is already used by {hei_id} (ids are never reused)")
    row = IiaRow(hei_id=hei_id, iia_id=iia_id, partner_hei_id=iia.partner.hei_id, created_at=now, deleted_at=None)
    _store(row, iia, now)
    session.add(row)
    session.flush()
    _link_copy(session, row)
    _tell_partner(session, row, now)
    return row


def _live(session: Session, hei_id: str, iia_id: str) -> IiaRow:
    row = repo.find(session, hei_id, iia_id)
    if row is None or row.deleted_at is not None:
        raise IiaChangeRefused(f"{hei_id} has no IIA {iia_id!r}")
    return row


def edit(session: Session, hei_id: str, iia: Iia, now: datetime) -> bool:
    """Replace our copy ``iia.owner.iia_id`` with ``iia``. The owner, the id and the partner HEI never change.

    :returns: whether anything changed (an identical record writes nothing).
    :raises IiaChangeRefused: unknown id, or an attempt to change owner or partner.
    """
    row = _live(session, hei_id, str(iia.owner.iia_id))
    if iia.owner.hei_id != hei_id or iia.partner.hei_id != row.partner_hei_id:
        raise IiaChangeRefused(f"the partners of IIA {row.iia_id!r} are {hei_id} and {row.partner_hei_id}: "
                               "create a new IIA for other partners")
    iia = _with_code(iia, row.iia_code)
    if to_data(iia) == row.data:
        return False
    _check_pdf(session, hei_id, iia)
    _store(row, iia, now)
    _link_copy(session, row)
    _tell_partner(session, row, now)
    return True


def map_partner_id(session: Session, hei_id: str, iia_id: str, partner_iia_id: str | None, now: datetime) -> bool:
    """Record the partner's id of its copy in ours (None: the partner deleted its copy). :returns: changed."""
    row = _live(session, hei_id, iia_id)
    iia = repo.record_of(row)
    return edit(session, hei_id, replace(iia, partners=(iia.owner, replace(iia.partner, iia_id=partner_iia_id))),
                now)


def terminate(session: Session, hei_id: str, iia_id: str, now: datetime) -> None:
    """Terminate a mutually approved IIA as a whole (before any mobility took place; otherwise shorten its
    years with :func:`edit`). :raises IiaChangeRefused: never mutually approved (delete it instead)."""
    row = _live(session, hei_id, iia_id)
    if row.snapshot_hash is None:
        raise IiaChangeRefused(f"IIA {iia_id!r} was never approved by both partners: delete it instead")
    edit(session, hei_id, replace(repo.record_of(row), terminated_as_a_whole=True), now)


def delete(session: Session, hei_id: str, iia_id: str, now: datetime) -> None:
    """Stop serving an IIA that was never mutually approved; its id stays reserved.

    :raises IiaChangeRefused: it was mutually approved (terminate it instead).
    """
    row = _live(session, hei_id, iia_id)
    if row.snapshot_hash is not None:
        raise IiaChangeRefused(f"IIA {iia_id!r} was approved by both partners: terminate it instead")
    row.deleted_at = row.modified_at = now
    _tell_partner(session, row, now)


def _link_copy(session: Session, row: IiaRow) -> None:
    """Map the partner's fetched copy (if any) to ``row`` by the partner's id."""
    if row.partner_iia_id is None:
        return
    copy = repo.partner_copy(session, row.hei_id, row.partner_hei_id, row.partner_iia_id)
    if copy is not None and copy.iia_pk != row.id:
        copy.iia_pk = row.id


# -- approvals -----------------------------------------------------------------------------------------------

def _set_approval(session: Session, row: IiaRow, direction: Direction, iia_hash: str | None, by: str,
                  pdf_file: str | None, now: datetime) -> None:
    current = repo.approval(session, row, direction)
    if direction is Direction.GIVEN and row.partner_iia_id is not None and (
            (current.iia_hash if current is not None else None) != iia_hash):
        enqueue(session, IIA_APPROVAL_CNR, owner_hei=row.hei_id, partner_hei=row.partner_hei_id,
                object_ids=[row.partner_iia_id], now=now)
    if iia_hash is None:
        if current is not None:
            session.delete(current)
    elif current is None:
        session.add(IiaApproval(iia_pk=row.id, direction=direction.value, iia_hash=iia_hash, approved_at=now,
                                approved_by=by, pdf_file=pdf_file))
    elif (current.iia_hash, current.pdf_file) != (iia_hash, pdf_file):
        current.iia_hash, current.approved_at, current.approved_by, current.pdf_file = iia_hash, now, by, pdf_file
    session.flush()
    _take_snapshot(session, row, now)


def approve_partner_copy(session: Session, hei_id: str, iia_id: str, by: str, now: datetime, *,
                         pdf_file: str | None = None) -> str:
    """Approve the partner's copy of our IIA ``iia_id`` as last fetched. :returns: the hash approved.

    :raises IiaChangeRefused: not mapped, no copy fetched, the copy breaks the rules, or the copy's declared
        hash is not the hash of what the partner served.
    """
    row = _live(session, hei_id, iia_id)
    copy = repo.copy_of(session, row)
    if row.partner_iia_id is None or copy is None or copy.deleted_at is not None:
        raise IiaChangeRefused(f"IIA {iia_id!r}: no copy of the partner to approve (fetch it and map it first)")
    _check_copy(copy)
    _set_approval(session, row, Direction.GIVEN, copy.iia_hash, by, pdf_file, now)
    return copy.iia_hash


def _check_copy(copy: PartnerCopy) -> None:
    if copy.data is None:
        raise IiaChangeRefused(f"the partner's copy {copy.partner_iia_id!r} breaks the rules: "
                               + "; ".join(copy.problems[:3]))
    computed = hash_iia(etree.fromstring(copy.element.encode("utf-8")))
    if computed.sha256 != copy.iia_hash:
        raise IiaChangeRefused(f"the partner's copy {copy.partner_iia_id!r} declares hash {copy.iia_hash} but "
                               f"its content hashes to {computed.sha256}")
    if not computed.valid_for_approval:
        raise IiaChangeRefused(f"the partner's copy {copy.partner_iia_id!r} is a migrated v6 agreement with "
                               "fields not yet defined: it cannot be approved")


def record_partner_approval(session: Session, hei_id: str, iia_id: str, iia_hash: str | None, now: datetime, *,
                            pdf_file: str | None = None) -> None:
    """What the partner's Approval API says about our copy ``iia_id`` (None: no approval listed)."""
    row = _live(session, hei_id, iia_id)
    _set_approval(session, row, Direction.RECEIVED, iia_hash, row.partner_hei_id, pdf_file, now)


def _take_snapshot(session: Session, row: IiaRow, now: datetime) -> None:
    """Keep the current version as the last mutually approved one when both approvals match both copies."""
    received = repo.approval(session, row, Direction.RECEIVED)
    given = repo.approval(session, row, Direction.GIVEN)
    copy = repo.copy_of(session, row)
    if (received is not None and received.iia_hash == row.iia_hash and given is not None and copy is not None
            and given.iia_hash == copy.iia_hash and row.snapshot_hash != row.iia_hash):
        row.snapshot_data, row.snapshot_hash, row.snapshot_at = dict(row.data), row.iia_hash, now


def revert_to_snapshot(session: Session, hei_id: str, iia_id: str, now: datetime) -> None:
    """Go back to the last mutually approved version (a modification the partner never approved).

    :raises IiaChangeRefused: no mutually approved version exists.
    """
    row = _live(session, hei_id, iia_id)
    if row.snapshot_data is None:
        raise IiaChangeRefused(f"IIA {iia_id!r} has no mutually approved version to go back to")
    snapshot: Iia = from_data(Iia, row.snapshot_data)
    # The partner's id may have changed since (unmapped after a deletion): keep the current mapping.
    partner = replace(snapshot.partner, iia_id=row.partner_iia_id)
    edit(session, hei_id, replace(snapshot, partners=(snapshot.owner, partner)), now)


# -- partner copies ----------------------------------------------------------------------------------------

def save_partner_copy(session: Session, hei_id: str, partner_hei_id: str, received: ReceivedIia,
                      now: datetime) -> PartnerCopy:
    """Store (or replace) a fetched partner copy and map it to our copy whose id it names."""
    if received.iia_id is None:
        raise IiaChangeRefused(f"{partner_hei_id} served an IIA without its own iia-id")
    copy = repo.partner_copy(session, hei_id, partner_hei_id, received.iia_id)
    if copy is None:
        copy = PartnerCopy(hei_id=hei_id, partner_hei_id=partner_hei_id, partner_iia_id=received.iia_id)
        session.add(copy)
    copy.element = received.element.decode("utf-8")
    copy.data = to_data(received.record) if received.record is not None else None
    copy.problems = list(received.problems)
    copy.iia_hash, copy.fetched_at, copy.deleted_at = received.declared_hash, now, None
    ours = received.record.partner.iia_id if received.record is not None else None
    row = repo.find(session, hei_id, ours) if ours else None
    if row is not None and row.partner_hei_id == partner_hei_id and row.deleted_at is None:
        copy.iia_pk = row.id
    session.flush()
    return copy


def partner_copy_gone(session: Session, hei_id: str, partner_hei_id: str, partner_iia_id: str, now: datetime) -> None:
    """The partner no longer serves its copy: mark it deleted and unmap it from ours."""
    copy = repo.partner_copy(session, hei_id, partner_hei_id, partner_iia_id)
    if copy is None or copy.deleted_at is not None:
        return
    copy.deleted_at = now
    row = session.get(IiaRow, copy.iia_pk) if copy.iia_pk is not None else None
    if row is not None and row.partner_iia_id == partner_iia_id and row.deleted_at is None:
        map_partner_id(session, hei_id, row.iia_id, None, now)
