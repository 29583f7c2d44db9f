"""Received IIA CNRs and IIA Approval CNRs: remembered for the follow-up fetch, answered at once.

A notification carries ids only; what changed is learnt by fetching (the partner's IIAs get, or its IIAs
Approval API): the fetch is queued in the outbox in the same transaction (:mod:`.followups`). Repeats of a
pending notification merge into one row (and into one pending fetch), so a chatty partner costs no more than
one fetch per IIA.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr.inbound import queue_follow_up
from ewp_node.iias import repository as repo
from ewp_node.iias.followups import APPROVAL_FETCH_KIND, FETCH_KIND
from ewp_node.iias.models import NotificationKind

#: The outbox kind that fetches what each notification is about (run by the outbox worker).
_FOLLOW_UP = {NotificationKind.IIA: FETCH_KIND, NotificationKind.APPROVAL: APPROVAL_FETCH_KIND}


def receive(sessions: sessionmaker[Session], hei_id: str, partner_heis: Iterable[str], kind: NotificationKind,
            iia_id: str, now: datetime) -> int:
    """Record that ``partner_heis`` (the caller) notified ``hei_id`` about ``iia_id``.

    An approval notification counts only for one of our live copies shared with the caller (``iia_id`` is our
    id); an IIA notification may name a copy we do not know yet (a new IIA). :returns: rows recorded.
    """
    recorded = 0
    for partner_hei_id in sorted(partner_heis):
        with sessions.begin() as session:
            if kind is NotificationKind.APPROVAL:
                row = repo.find(session, hei_id, iia_id)
                if row is None or row.deleted_at is not None or row.partner_hei_id != partner_hei_id:
                    continue
            try:
                with session.begin_nested():
                    repo.record_notification(session, hei_id, partner_hei_id, kind, iia_id, now)
            except IntegrityError:  # the same notification, recorded at this instant by another request
                continue
            queue_follow_up(session, _FOLLOW_UP[kind], our_hei=hei_id, notifier_hei=partner_hei_id,
                            object_ids=[iia_id])
            recorded += 1
    return recorded
