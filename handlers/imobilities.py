"""Incoming Mobilities API v2.0.0 (ewp-specs-api-imobilities stable-v2, from the registry service): the actual
arrival and departure dates of the students we receive, served as the receiving HEI.

get: ``omobility_id`` (required, repeatable, <= ``max-omobility-ids``; the sending HEI's ids). A caller sees
only the mobilities its HEI sends to us; unknown or others' ids are ignored.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.build import build_imobilities_get
from ewp_node.xml.ns import IMOBILITIES_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, omobility_ids

API = ApiSpec(
    name="imobilities",
    version="2.0.0",
    namespace=IMOBILITIES_ENTRY,
    items=(Endpoint("get-url", "imobilities/get"), Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("get-url")
def get(request: EwpRequest) -> etree._Element:
    ids = omobility_ids(request, API)
    with request.services.sessions() as session:
        mobilities = repo.incoming_by_ids(session, request.served_heis(), request.caller.hei_ids, ids)
    return build_imobilities_get(mobilities)
