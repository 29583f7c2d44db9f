"""Fetch the partners' copies of our IIAs, keep them beside ours and compare them, field by field.

Runs as the follow-up of a received IIA CNR (outbox kind ``iia-fetch``, see :mod:`.followups`: queued by the
CNR handler, retried with back-off by the outbox worker) and as a periodic re-sync (:func:`resync`: the partner's index
with ``modified_since``, so a lost CNR costs at most one period). Network calls happen outside any database
transaction; what they bring back is stored in one short transaction per partner.

For each copy received: the raw ``<iia>`` is kept with the rules it breaks, it is linked to our copy it names
(its second partner's ``iia-id``), our copy is mapped to it when it was not yet (the partner's id recorded:
our hash changes and the partner hears about it), and the two copies are compared. A copy we asked for that
the partner no longer serves is marked gone and unmapped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import EwpClient
from ewp_node.client.iias import fetch_iias, fetch_index
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.approvals import ReceivedApproval, refresh_approvals
from ewp_node.iias.diff import Difference, compare
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.models import IiaRow, PartnerCopy
from ewp_node.iias.parse import ReceivedIia
from ewp_node.iias.records import Iia, from_data
from ewp_node.iias.service import IiaChangeRefused
from ewp_node.store.base import utc_now
from ewp_node.xml.parse import parse_xml

logger = logging.getLogger(__name__)

#: A re-sync asks for changes since the last copy fetched from that partner, minus this margin (clocks of the
#: two nodes differ, and a change committed while we fetched must not fall between two re-syncs).
RESYNC_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class CopySync:
    """What one fetched copy of the partner told us.

    :ivar our_iia_id: our copy it is linked to (None: it names none of ours yet).
    :ivar problems: the IIA rules it breaks (then it is kept raw, but not compared nor approvable).
    :ivar hash_ok: its declared ``iia-hash`` is the hash of what it serves.
    :ivar differences: how it differs from our copy (empty when they agree or it is not linked).
    :ivar gone: the partner no longer serves it.
    """

    partner_hei: str
    partner_iia_id: str
    our_iia_id: str | None = None
    problems: tuple[str, ...] = ()
    hash_ok: bool = True
    differences: tuple[Difference, ...] = ()
    gone: bool = False


def sync_copies(client: EwpClient, sessions: sessionmaker[Session], *, hei_id: str, partner_hei: str,
                partner_iia_ids: Sequence[str], now: datetime | None = None,
                note: str | None = None) -> list[CopySync]:
    """Fetch the partner's copies ``partner_iia_ids``, store and compare them (one transaction).

    :raises PartnerAnswered, PartnerUnavailable, ResponseVerificationError: the fetch failed (nothing stored).
    """
    received = fetch_iias(client, partner_hei, partner_iia_ids, note=note)
    with sessions.begin() as session:
        return store_copies(session, hei_id=hei_id, partner_hei=partner_hei, asked=partner_iia_ids,
                            received=received, now=now or utc_now())


def store_copies(session: Session, *, hei_id: str, partner_hei: str, asked: Sequence[str],
                 received: Sequence[ReceivedIia], now: datetime) -> list[CopySync]:
    """Store what a get answered for the ids ``asked`` (in the caller's transaction)."""
    results = [_store_one(session, hei_id, partner_hei, copy, now) for copy in received if copy.iia_id]
    served = {copy.iia_id for copy in received}
    for gone in dict.fromkeys(i for i in asked if i not in served):
        service.partner_copy_gone(session, hei_id, partner_hei, gone, now)
        results.append(CopySync(partner_hei=partner_hei, partner_iia_id=gone, gone=True))
    for result in results:
        _log(hei_id, result)
    return results


def _between(received: ReceivedIia, owner: str, partner: str) -> ReceivedIia:
    """``received`` as is when it is an agreement of ``owner`` (first partner) with ``partner``; else the same raw
    copy without its record (kept, never compared, linked, adopted nor approved), the reason in its problems."""
    record = received.record
    if record is None or (record.owner.hei_id, record.partner.hei_id) == (owner, partner):
        return received
    problem = (f"served by {owner} but its partners are {record.owner.hei_id} and {record.partner.hei_id}, "
               f"not {owner} and {partner}")
    return replace(received, record=None, problems=(*received.problems, problem))


def _store_one(session: Session, hei_id: str, partner_hei: str, received: ReceivedIia, now: datetime) -> CopySync:
    received = _between(received, partner_hei, hei_id)
    copy = service.save_partner_copy(session, hei_id, partner_hei, received, now)
    hash_ok = hash_iia(parse_xml(received.element)).sha256 == received.declared_hash
    row = session.get(IiaRow, copy.iia_pk) if copy.iia_pk is not None else None
    if row is None or received.record is None:
        return CopySync(partner_hei=partner_hei, partner_iia_id=copy.partner_iia_id, problems=received.problems,
                        hash_ok=hash_ok)
    if row.partner_iia_id != copy.partner_iia_id:
        service.map_partner_id(session, hei_id, row.iia_id, copy.partner_iia_id, now)
    differences = compare(repo.record_of(row), received.record)
    return CopySync(partner_hei=partner_hei, partner_iia_id=copy.partner_iia_id, our_iia_id=row.iia_id,
                    hash_ok=hash_ok, differences=differences)


def _log(hei_id: str, result: CopySync) -> None:
    what = f"{hei_id}: {result.partner_hei}'s IIA {result.partner_iia_id}"
    if result.gone:
        logger.info("%s is no longer served", what)
    elif result.problems:
        logger.warning("%s breaks the rules: %s", what, "; ".join(result.problems))
    elif not result.hash_ok:
        logger.warning("%s declares an iia-hash that is not the hash of its content", what)
    for difference in result.differences:
        logger.info("%s (our %s): %s", what, result.our_iia_id, difference.text)


def adopt(session: Session, *, hei_id: str, partner_hei: str, partner_iia_id: str,
          now: datetime | None = None) -> IiaRow:
    """Make our own copy of a partner's copy that names none of ours yet (the partner created the agreement):
    the same conditions, the partners in our order, a new id of ours, already mapped to the partner's id.
    Publishing it tells the partner, which can then map its copy to ours.

    :raises IiaChangeRefused: no such copy kept, it breaks the rules, it is already linked to one of ours, or
        it is not an agreement with ``hei_id``.
    """
    copy = repo.partner_copy(session, hei_id, partner_hei, partner_iia_id)
    if copy is None or copy.deleted_at is not None or copy.data is None:
        raise IiaChangeRefused(f"no usable copy {partner_iia_id!r} of {partner_hei} is kept: sync it first")
    if copy.iia_pk is not None:
        linked = session.get(IiaRow, copy.iia_pk)
        raise IiaChangeRefused(f"{partner_hei}'s copy {partner_iia_id!r} is already mapped to our IIA "
                               f"{linked.iia_id if linked else '?'}")
    theirs: Iia = from_data(Iia, copy.data)
    if (theirs.owner.hei_id, theirs.partner.hei_id) != (partner_hei, hei_id):
        raise IiaChangeRefused(f"{partner_hei}'s copy {partner_iia_id!r} is not an agreement between {partner_hei} "
                               f"and {hei_id}")
    ours = replace(theirs, partners=(replace(theirs.partners[1], iia_id=None), theirs.partners[0]), pdf_file=None)
    return service.create(session, hei_id, ours, now or utc_now())


def resync(client: EwpClient, sessions: sessionmaker[Session], *, hei_id: str, partner_hei: str,
           full: bool = False, now: datetime | None = None) -> list[CopySync]:
    """Catch up with ``partner_hei``: fetch what its index lists as changed since the last copy we fetched
    from it (``full``: everything it lists, and every copy we keep, so that deleted copies are noticed)."""
    now = now or utc_now()
    with sessions.begin() as session:
        since = None if full else _last_fetch(session, hei_id, partner_hei)
        kept = _kept_ids(session, hei_id, partner_hei) if full else []
    listed = fetch_index(client, partner_hei, modified_since=since - RESYNC_MARGIN if since else None,
                         note=f"re-sync of {hei_id}")
    wanted = list(dict.fromkeys([*listed, *kept]))
    if not wanted:
        return []
    return sync_copies(client, sessions, hei_id=hei_id, partner_hei=partner_hei, partner_iia_ids=wanted, now=now,
                       note=f"re-sync of {hei_id}")


@dataclass(frozen=True)
class CatchUp:
    """What a catch-up with one partner brought: the copies fetched, and the approvals of our copies."""

    copies: tuple[CopySync, ...]
    approvals: tuple[ReceivedApproval, ...]


def catch_up(client: EwpClient, sessions: sessionmaker[Session], *, hei_id: str, partner_hei: str,
             full: bool = False, now: datetime | None = None) -> CatchUp:
    """:func:`resync` with ``partner_hei``, then read what it approved of our mapped copies: what lost IIA CNRs
    and IIA Approval CNRs would have told us."""
    copies = resync(client, sessions, hei_id=hei_id, partner_hei=partner_hei, full=full, now=now)
    with sessions() as session:
        mapped = [row.iia_id for row in repo.our_copies(session, hei_id, partner_hei_id=partner_hei)
                  if row.partner_iia_id is not None]
    approvals = refresh_approvals(client, sessions, hei_id=hei_id, partner_hei=partner_hei, iia_ids=mapped,
                                  now=now, note=f"re-sync of {hei_id}")
    return CatchUp(copies=tuple(copies), approvals=tuple(approvals))


def partners_of(session: Session, hei_id: str) -> list[str]:
    """Every partner HEI ``hei_id`` shares an IIA with (our copies and the copies we keep of theirs)."""
    ours = select(IiaRow.partner_hei_id).where(IiaRow.hei_id == hei_id, IiaRow.deleted_at.is_(None))
    theirs = select(PartnerCopy.partner_hei_id).where(PartnerCopy.hei_id == hei_id)
    return sorted(set(session.scalars(ours)) | set(session.scalars(theirs)))


def _last_fetch(session: Session, hei_id: str, partner_hei: str) -> datetime | None:
    return session.scalar(select(func.max(PartnerCopy.fetched_at)).where(
        PartnerCopy.hei_id == hei_id, PartnerCopy.partner_hei_id == partner_hei))


def _kept_ids(session: Session, hei_id: str, partner_hei: str) -> list[str]:
    return list(session.scalars(select(PartnerCopy.partner_iia_id).where(
        PartnerCopy.hei_id == hei_id, PartnerCopy.partner_hei_id == partner_hei, PartnerCopy.deleted_at.is_(None))))
