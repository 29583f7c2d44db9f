"""Incoming Mobility ToR CNR API v2.0.0 (ewp-specs-api-imobility-tor-cnr stable-v2, from the registry service): a
receiving HEI tells us, the sending HEI, that it issued or corrected the transcript of one of our students.

POST only; ``omobility_id`` required, repeatable, <= ``max-omobility-ids``. We queue the follow-up fetch of the
transcripts from the calling HEI's IMobility ToRs API and answer 200 at once.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.mobilities.build import build_cnr_response
from ewp_node.tors.fetches import TOR_FETCH
from ewp_node.xml.ns import IMOBILITY_TOR_CNR, IMOBILITY_TOR_CNR_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, queue_fetches

API = ApiSpec(
    name="imobility-tor-cnr",
    version="2.0.0",
    namespace=IMOBILITY_TOR_CNR_ENTRY,
    items=(Endpoint("url", "imobility-tor-cnr", methods=("POST",)), Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("url")
def notify(request: EwpRequest) -> etree._Element:
    queue_fetches(request, API, TOR_FETCH, request.caller.hei_ids)
    return build_cnr_response(IMOBILITY_TOR_CNR, "imobility-tor-cnr-response")
