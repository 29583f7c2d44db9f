"""Approvals both ways: approve a partner's copy, and learn what the partner approved of ours.

Approving (:func:`approve`) is refused while the partner's copy is not complete (:mod:`.completeness`), breaks
the rules, is not mapped to ours, or declares a hash that is not the hash of what it serves; the approval and
its IIA Approval CNR to the partner commit together (the outbox sends the CNR).

On an IIA Approval CNR (outbox kind ``iia-approval-fetch``, see :mod:`.followups`; object ids: our ids) and
during a re-sync, :func:`refresh_approvals` reads the partner's IIAs Approval API and records, for each of
our copies, the hash the partner approved, if any; it approves our *current* copy only when that hash is our
copy's hash now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import EwpClient
from ewp_node.client.iias import fetch_approvals
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.completeness import check
from ewp_node.iias.models import IiaRow
from ewp_node.iias.service import IiaChangeRefused
from ewp_node.store.base import utc_now

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedApproval:
    """What the partner's Approval API says about one of our copies.

    :ivar approved_hash: the hash it approved (None: it lists no approval).
    :ivar current_hash: our copy's hash now.
    """

    iia_id: str
    approved_hash: str | None
    current_hash: str

    @property
    def approves_current(self) -> bool:
        return self.approved_hash == self.current_hash


def approve(session: Session, *, hei_id: str, iia_id: str, by: str, now: datetime | None = None) -> str:
    """Approve the partner's copy of our IIA ``iia_id`` as last fetched (the service queues the IIA Approval CNR
    that tells the partner, in the caller's transaction). :returns: the hash approved.

    :raises IiaChangeRefused: no such IIA, no mapped copy, an incomplete copy (the gaps are listed), a copy
        that breaks the rules, a copy marked not valid for approval, or a declared hash that does not match.
    """
    both = repo.copies(session, hei_id, iia_id)
    if both is None:
        raise IiaChangeRefused(f"{hei_id} has no IIA {iia_id!r}")
    gaps = check(both.theirs) if both.theirs is not None else ()
    if gaps:
        raise IiaChangeRefused(f"the partner's copy {both.ours.partner.iia_id!r} is not complete: "
                               + "; ".join(str(gap) for gap in gaps))
    return service.approve_partner_copy(session, hei_id, iia_id, by, now or utc_now())


def refresh_approvals(client: EwpClient, sessions: sessionmaker[Session], *, hei_id: str, partner_hei: str,
                      iia_ids: Sequence[str], now: datetime | None = None,
                      note: str | None = None) -> list[ReceivedApproval]:
    """Read what ``partner_hei`` approved of our copies ``iia_ids`` and record it; ids that are not ours with
    that partner are ignored (a partner cannot touch another partner's agreements).

    :raises PartnerAnswered, PartnerUnavailable, ResponseVerificationError: the call failed (nothing stored).
    """
    with sessions.begin() as session:
        ours = [row.iia_id for row in _our_rows(session, hei_id, partner_hei, iia_ids)]
    if not ours:
        return []
    approvals = {a.iia_id: a for a in fetch_approvals(client, partner_hei, ours, note=note)}
    now = now or utc_now()
    results = []
    with sessions.begin() as session:
        for row in _our_rows(session, hei_id, partner_hei, ours):
            approval = approvals.get(row.iia_id)
            approved_hash = approval.iia_hash if approval else None
            service.record_partner_approval(session, hei_id, row.iia_id, approved_hash, now,
                                            pdf_file=approval.pdf_file if approval else None)
            result = ReceivedApproval(iia_id=row.iia_id, approved_hash=approved_hash, current_hash=row.iia_hash)
            _log(hei_id, partner_hei, result)
            results.append(result)
    return results


def _our_rows(session: Session, hei_id: str, partner_hei: str, iia_ids: Sequence[str]) -> list[IiaRow]:
    rows = (repo.find(session, hei_id, iia_id) for iia_id in dict.fromkeys(iia_ids))
    return [row for row in rows if row is not None and row.deleted_at is None and row.partner_hei_id == partner_hei]


def _log(hei_id: str, partner_hei: str, result: ReceivedApproval) -> None:
    if result.approves_current:
        logger.info("%s: %s approves our IIA %s as it is now", hei_id, partner_hei, result.iia_id)
    elif result.approved_hash:
        logger.info("%s: %s approved an earlier version of our IIA %s", hei_id, partner_hei, result.iia_id)
    else:
        logger.info("%s: %s has not approved our IIA %s", hei_id, partner_hei, result.iia_id)
