"""How the IIA follow-up fetches report to the outbox worker: a partner's 4xx is final, a 5xx is retried, no
usable API in the registry is final; and both kinds are registered for the worker."""

from __future__ import annotations

import pytest

from ewp_node.client import PartnerRefused, PartnerUnavailable
from ewp_node.client.iias import PartnerAnswered
from ewp_node.cnr.senders import Delivery, DeliveryRefused, load_sender_modules, registered_kinds
from ewp_node.iias.followups import _sender

DELIVERY = Delivery(kind="iia-fetch", owner_hei="uni-a.example.eu", partner_hei="uni-b.example.eu",
                    object_ids=("p-1",), row_ids=(1,), attempt=2)


def _failing(exc: Exception):  # type: ignore[no-untyped-def]
    def run(services, delivery, note):  # type: ignore[no-untyped-def]
        assert delivery is DELIVERY and note == "outbox attempt 2"
        raise exc

    return run


@pytest.mark.parametrize("status", [400, 403, 500, 503])
def test_the_partners_status_goes_to_the_worker(status: int) -> None:
    assert _sender(_failing(PartnerAnswered(status, "answer")))(None, DELIVERY) == status  # type: ignore[arg-type]


def test_no_usable_api_is_final_and_transport_errors_are_retried() -> None:
    with pytest.raises(DeliveryRefused, match="no 'iias' API"):
        _sender(_failing(PartnerRefused("no 'iias' API")))(None, DELIVERY)  # type: ignore[arg-type]
    with pytest.raises(PartnerUnavailable):  # the worker retries what it does not recognise as final
        _sender(_failing(PartnerUnavailable("timed out")))(None, DELIVERY)  # type: ignore[arg-type]
    assert _sender(lambda services, delivery, note: None)(None, DELIVERY) == 200  # type: ignore[arg-type]


def test_the_worker_knows_both_kinds() -> None:
    load_sender_modules()
    assert {"iia-fetch", "iia-approval-fetch", "iia-cnr", "iia-approval-cnr"} <= registered_kinds()
