"""Incoming Mobility CNR API v2.0.0 (ewp-specs-api-imobility-cnr stable-v2, from the registry service): a
receiving HEI tells us, the sending HEI, that its facts about our students (arrival, departure) changed.

POST only; ``omobility_id`` required, repeatable, <= ``max-omobility-ids``. We queue the follow-up fetch from the
calling HEI's IMobilities API and answer 200 at once.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.mobilities.build import build_cnr_response
from ewp_node.mobilities.fetches import ARRIVALS_FETCH
from ewp_node.xml.ns import IMOBILITY_CNR, IMOBILITY_CNR_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, queue_fetches

API = ApiSpec(
    name="imobility-cnr",
    version="2.0.0",
    namespace=IMOBILITY_CNR_ENTRY,
    items=(Endpoint("url", "imobility-cnr", methods=("POST",)), Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("url")
def notify(request: EwpRequest) -> etree._Element:
    queue_fetches(request, API, ARRIVALS_FETCH, request.caller.hei_ids)
    return build_cnr_response(IMOBILITY_CNR, "imobility-cnr-response")
