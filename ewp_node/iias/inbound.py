"""Received IIA CNRs and IIA Approval CNRs become follow-up fetches in the outbox (``ewp_node.cnr``).

A notification carries ids only; what changed is learnt by fetching, later, by the outbox worker: the
partner's IIAs get for an IIA CNR (kind :data:`FETCH_KIND`, ids as the partner sent them: its own), the
partner's IIAs Approval API for an Approval CNR (kind :data:`APPROVAL_FETCH_KIND`, ids: ours). Repeats of a
pending fetch merge into one row, so a chatty partner costs no more than one fetch per IIA.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr import queue_follow_up
from ewp_node.iias import repository as repo

#: Fetch the partner's copies named by an IIA CNR (object ids: the partner's iia-ids).
FETCH_KIND = "iia-fetch"
#: Read the partner's approval of our copies named by an Approval CNR (object ids: our iia-ids).
APPROVAL_FETCH_KIND = "iia-approval-fetch"
#: The official validator's test HEIs: their CNRs are acknowledged without side effects (VALIDATOR.md 8.3),
#: since a follow-up fetch from them would only fail and be retried for a day.
VALIDATOR_HEI = re.compile(r"^validator-hei0[12]\.developers\.erasmuswithoutpaper\.eu$")


def receive(sessions: sessionmaker[Session], hei_id: str, partner_heis: Iterable[str], kind: str,
            iia_id: str) -> int:
    """Queue the follow-up fetch of ``iia_id`` for each HEI the caller speaks for.

    An approval notification counts only for one of our live copies shared with the caller (``iia_id`` is our
    id); an IIA notification may name a copy we do not know yet (a new IIA). The validator's HEIs queue
    nothing. :returns: fetches queued.
    """
    queued = 0
    with sessions.begin() as session:
        for partner_hei_id in sorted(partner_heis):
            if VALIDATOR_HEI.match(partner_hei_id):
                continue
            if kind == APPROVAL_FETCH_KIND:
                row = repo.find(session, hei_id, iia_id)
                if row is None or row.deleted_at is not None or row.partner_hei_id != partner_hei_id:
                    continue
            queued += len(queue_follow_up(session, kind, our_hei=hei_id, notifier_hei=partner_hei_id,
                                          object_ids=[iia_id]))
    return queued
