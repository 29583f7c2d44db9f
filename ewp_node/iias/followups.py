"""The outbox kinds of the IIA client flows: what the worker runs after a received CNR (queued by
:mod:`.inbound`), and how it reports.

``iia-fetch`` (object ids: the partner's ids of its copies) fetches, stores and compares the partner's copies
(:func:`.sync.sync_copies`); ``iia-approval-fetch`` (object ids: our ids) reads what the partner approved of
ours (:func:`.approvals.refresh_approvals`); ``iia-catch-up`` (queued daily for each partner by the worker's
schedule) re-syncs through the partner's index and re-reads its approvals (:func:`.sync.catch_up`), which
makes good any CNR lost on the way. A partner answering 4xx is final (the row fails, never retried);
no usable API in the registry is final too; anything else (5xx, timeout, a bad signature) is retried with
back-off by the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import PartnerRefused
from ewp_node.client.iias import PartnerAnswered
from ewp_node.cnr.outbox import enqueue
from ewp_node.cnr.periodic import register_periodic
from ewp_node.cnr.senders import Delivery, DeliveryRefused, SendFunction, SendServices, register_sender
from ewp_node.config import Settings
from ewp_node.iias.approvals import refresh_approvals
from ewp_node.iias.inbound import APPROVAL_FETCH_KIND, FETCH_KIND
from ewp_node.iias.sync import catch_up, partners_of, sync_copies

#: The daily re-sync with each partner (what lost IIA CNRs and Approval CNRs would have told us).
CATCH_UP_KIND = "iia-catch-up"
CATCH_UP_EVERY = timedelta(days=1)


def _sender(run: Callable[[SendServices, Delivery, str], object]) -> SendFunction:
    def send(services: SendServices, delivery: Delivery) -> int:
        try:
            run(services, delivery, f"outbox attempt {delivery.attempt}")
        except PartnerAnswered as exc:
            return exc.status
        except PartnerRefused as exc:
            raise DeliveryRefused(str(exc)) from exc
        return 200

    return send


def _fetch_copies(services: SendServices, delivery: Delivery, note: str) -> object:
    return sync_copies(services.client, services.sessions, hei_id=delivery.owner_hei,
                       partner_hei=delivery.partner_hei, partner_iia_ids=delivery.object_ids, note=note)


def _fetch_approvals(services: SendServices, delivery: Delivery, note: str) -> object:
    return refresh_approvals(services.client, services.sessions, hei_id=delivery.owner_hei,
                             partner_hei=delivery.partner_hei, iia_ids=delivery.object_ids, note=note)


def _catch_up(services: SendServices, delivery: Delivery, note: str) -> object:
    return catch_up(services.client, services.sessions, hei_id=delivery.owner_hei, partner_hei=delivery.partner_hei)


def queue_catch_ups(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Queue a catch-up with every IIA partner of our HEIs (the worker's daily job)."""
    with sessions.begin() as session:
        return sum(len(enqueue(session, CATCH_UP_KIND, owner_hei=hei_id, partner_hei=partner, object_ids=["all"]))
                   for hei_id in sorted(settings.hei_ids) for partner in partners_of(session, hei_id))


register_sender(FETCH_KIND, _sender(_fetch_copies), max_batch=100)
register_sender(APPROVAL_FETCH_KIND, _sender(_fetch_approvals), max_batch=100)
register_sender(CATCH_UP_KIND, _sender(_catch_up))
register_periodic(CATCH_UP_KIND, CATCH_UP_EVERY, queue_catch_ups)
