"""A received CNR becomes a queued follow-up fetch, so the CNR handler can answer 200 at once.

The spec (DIGEST.md section 0, "CNR semantics") wants the receiver to answer as soon as the notification is
understood, never to call the notifier before answering, and to treat unknown ids as a normal case. The
handler therefore only validates the request and calls :func:`queue_follow_up` in a short transaction of its
own; the worker later runs the fetch registered under ``kind`` (retried with back-off like any outbox row).
Several CNRs about the same object before the fetch runs are merged into one fetch.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ewp_node.cnr.outbox import enqueue

#: Most ids one received CNR may queue (a partner cannot fill the outbox with one request).
MAX_IDS_PER_CNR = 1000


def queue_follow_up(session: Session, kind: str, *, our_hei: str, notifier_hei: str,
                    object_ids: Sequence[str]) -> list[int]:
    """Queue the follow-up fetch ``kind`` of the ids a partner notified us about (the caller commits).

    :param kind: the fetch kind a domain package registered (e.g. ``iia-fetch``).
    :param our_hei: the HEI of ours the CNR was addressed to.
    :param notifier_hei: the verified caller's HEI (never a request parameter).
    :param object_ids: the ids as the notifier sent them (its own ids).
    :returns: the outbox row ids, one per distinct id.
    :raises ValueError: more than :data:`MAX_IDS_PER_CNR` ids, or an empty or over-long id (a 400 for the
        handler).
    """
    if len(object_ids) > MAX_IDS_PER_CNR:
        raise ValueError(f"a CNR may carry at most {MAX_IDS_PER_CNR} ids")
    return enqueue(session, kind, owner_hei=our_hei, partner_hei=notifier_hei, object_ids=object_ids)
