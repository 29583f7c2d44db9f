"""The follow-up fetches a partner's mobility CNR queues (``ewp_node.cnr.queue_follow_up``), registered as
outbox kinds so that the worker runs them, retried with back-off like any outbox row.

``omobility-fetch``: the partner's nominations (OMobility CNR); ``omobility-la-fetch``: its learning
agreements (OMobility LA CNR); ``imobility-fetch``: its arrival facts about students we send (IMobility CNR).
A partner that cannot be called for that API, or answers with a document we cannot read, fails the row
(retrying will not mend it); a non-200 answer is handed to the worker as the status.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import EwpClient, PartnerRefused
from ewp_node.cnr import Delivery, DeliveryRefused, SendServices, register_sender
from ewp_node.mobilities.partner import FetchFailed, InvalidDocument, fetch_arrivals, fetch_las, fetch_nominations

NOMINATIONS_FETCH = "omobility-fetch"
LAS_FETCH = "omobility-la-fetch"
ARRIVALS_FETCH = "imobility-fetch"
#: Ids one delivery may gather (calls are then cut to the partner's ``max-omobility-ids``).
BATCH = 100

Fetch = Callable[[EwpClient, sessionmaker[Session], str, Collection[str], Iterable[str]], int]


def _sender(fetch: Fetch) -> Callable[[SendServices, Delivery], int]:
    def send(services: SendServices, delivery: Delivery) -> int:
        try:
            fetch(services.client, services.sessions, delivery.partner_hei, {delivery.owner_hei},
                  delivery.object_ids)
        except FetchFailed as exc:
            return exc.status
        except (PartnerRefused, InvalidDocument) as exc:
            raise DeliveryRefused(str(exc)) from exc
        return 200

    send.__name__ = send.__qualname__ = f"send_{fetch.__name__}"
    return send


register_sender(NOMINATIONS_FETCH, _sender(fetch_nominations), max_batch=BATCH)
register_sender(LAS_FETCH, _sender(fetch_las), max_batch=BATCH)
register_sender(ARRIVALS_FETCH, _sender(fetch_arrivals), max_batch=BATCH)
