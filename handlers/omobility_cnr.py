"""Outgoing Mobility CNR API v2.0.0 (ewp-specs-api-omobility-cnr stable-v2, from the registry service): a
sending HEI tells us, the receiving HEI, that its nominations changed.

POST only; ``omobility_id`` required, repeatable, <= ``max-omobility-ids``. We queue the follow-up fetch from the
calling HEI's OMobilities API and answer 200 at once.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.mobilities.build import build_cnr_response
from ewp_node.mobilities.fetches import NOMINATIONS_FETCH
from ewp_node.xml.ns import OMOBILITY_CNR, OMOBILITY_CNR_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, queue_fetches

API = ApiSpec(
    name="omobility-cnr",
    version="2.0.0",
    namespace=OMOBILITY_CNR_ENTRY,
    items=(Endpoint("url", "omobility-cnr", methods=("POST",)), Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("url")
def notify(request: EwpRequest) -> etree._Element:
    queue_fetches(request, API, NOMINATIONS_FETCH, request.caller.hei_ids)
    return build_cnr_response(OMOBILITY_CNR, "omobility-cnr-response")
