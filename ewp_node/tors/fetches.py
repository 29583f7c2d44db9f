"""The follow-up fetch a partner's IMobility ToR CNR queues (``imobility-tor-fetch``), registered as an outbox
kind so that the worker runs it, retried with back-off like any outbox row.

A partner that cannot be called for ToRs v3, or answers with a document we cannot read, fails the row
(retrying will not mend it); a non-200 answer is handed to the worker as the status. A transcript that fails
its checks is recorded as rejected: the fetch itself succeeded.
"""

from __future__ import annotations

from ewp_node.client import PartnerRefused
from ewp_node.cnr import Delivery, DeliveryRefused, SendServices, register_sender
from ewp_node.tors.conversion import PolicyUnreadable, load_policy
from ewp_node.tors.receive import InvalidTorResponse, Receiver, TorFetchFailed, fetch_transcripts

TOR_FETCH = "imobility-tor-fetch"
#: Ids one delivery may gather (calls are then cut to the partner's ``max-omobility-ids``).
BATCH = 100


def send_tor_fetch(services: SendServices, delivery: Delivery) -> int:
    try:
        home = services.settings.home
        receiver = Receiver(services.client, services.sessions, {delivery.owner_hei}, load_policy(home), home,
                            sis_webhook=services.settings.sis_webhook_url is not None)
        fetch_transcripts(receiver, delivery.partner_hei, delivery.object_ids)
    except TorFetchFailed as exc:
        return exc.status
    except (PartnerRefused, InvalidTorResponse, PolicyUnreadable) as exc:
        raise DeliveryRefused(str(exc)) from exc
    return 200


register_sender(TOR_FETCH, send_tor_fetch, max_batch=BATCH)
