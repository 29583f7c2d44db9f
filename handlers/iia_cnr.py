"""IIA CNR API v3.0.0 (ewp-specs-api-iia-cnr, stable-v3): a partner tells us its copy ``iia_id`` changed.

POST only; ``iia_id`` required once (the notifier's own id). The notifier is the caller's HEI (from its
credentials). We queue the fetch of the partner's copy in the outbox and answer at once with an empty
``<iia-cnr-response>``.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest
from ewp_node.handling import notified_id
from ewp_node.iias import inbound
from ewp_node.iias.build import build_empty_response
from ewp_node.xml.ns import IIA_CNR, IIA_CNR_ENTRY

API = ApiSpec(
    name="iia-cnr",
    version="3.0.0",
    namespace=IIA_CNR_ENTRY,
    items=(Endpoint("url", "iia-cnr", methods=("POST",)),),
)


@API.endpoint("url")
def notified(request: EwpRequest) -> etree._Element:
    hei_id, iia_id = notified_id(request, "iia_id")
    inbound.receive(request.services.sessions, hei_id, request.caller.hei_ids, inbound.FETCH_KIND, iia_id)
    return build_empty_response(IIA_CNR, "iia-cnr-response")
