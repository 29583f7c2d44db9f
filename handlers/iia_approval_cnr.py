"""IIA Approval CNR API v2.0.0 (ewp-specs-api-iia-approval-cnr, stable-v2): a partner tells us it approved
(or stopped approving) our copy ``iia_id``.

POST only; ``iia_id`` required once (our id of the copy approved). We queue a read of the caller's IIAs
Approval API when the id is one of our copies shared with the caller, and answer at once with an empty
``<iia-approval-cnr-response>`` in every case.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest
from ewp_node.handling import notified_id
from ewp_node.iias import inbound
from ewp_node.iias.build import build_empty_response
from ewp_node.xml.ns import IIA_APPROVAL_CNR, IIA_APPROVAL_CNR_ENTRY

API = ApiSpec(
    name="iia-approval-cnr",
    version="2.0.0",
    namespace=IIA_APPROVAL_CNR_ENTRY,
    items=(Endpoint("url", "iia-approval-cnr", methods=("POST",)),),
)


@API.endpoint("url")
def notified(request: EwpRequest) -> etree._Element:
    hei_id, iia_id = notified_id(request, "iia_id")
    inbound.receive(request.services.sessions, hei_id, request.caller.hei_ids, inbound.APPROVAL_FETCH_KIND, iia_id)
    return build_empty_response(IIA_APPROVAL_CNR, "iia-approval-cnr-response")
