"""Outgoing Mobilities API v3.0.0 (ewp-specs-api-omobilities stable-v3, from the registry service): our
nominations, served as the sending HEI.

get: ``omobility_id`` (required, repeatable, <= ``max-omobility-ids``); index: optional
``receiving_academic_year_id`` and ``modified_since``. There is no HEI parameter: the URL's HEI (or every HEI
of the node) sends, and a caller sees only the mobilities whose receiving HEI it speaks for (unknown or
others' ids are ignored). update (POST ``text/xml``): the receiving HEI approves or rejects the current
nomination proposal; a stale proposal id is a 409, an unknown mobility or action a 400.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.build import (
    build_omobilities_get,
    build_omobilities_index,
    build_omobilities_update_response,
)
from ewp_node.mobilities.parse import parse_nomination_update
from ewp_node.xml.ns import OMOBILITIES_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, index_filter, omobility_ids, parsed_body, refused_changes

API = ApiSpec(
    name="omobilities",
    version="3.0.0",
    namespace=OMOBILITIES_ENTRY,
    items=(Endpoint("get-url", "omobilities/get"), Endpoint("index-url", "omobilities/index"),
           Endpoint("update-url", "omobilities/update", methods=("POST",), body="xml"),
           Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("get-url")
def get(request: EwpRequest) -> etree._Element:
    ids = omobility_ids(request, API)
    with request.services.sessions() as session:
        mobilities = repo.outgoing_by_ids(session, request.served_heis(), request.caller.hei_ids, ids)
    return build_omobilities_get(mobilities)


@API.endpoint("index-url")
def index(request: EwpRequest) -> etree._Element:
    where = index_filter(request, request.caller.hei_ids)
    with request.services.sessions() as session:
        return build_omobilities_index(repo.outgoing_index(session, request.served_heis(), where))


@API.endpoint("update-url")
def update(request: EwpRequest) -> etree._Element:
    decision = parsed_body(request, parse_nomination_update)
    with refused_changes():
        status = service.decide_nomination(request.services.sessions, request.served_heis(), request.caller.hei_ids,
                                           decision)
    return build_omobilities_update_response(f"nomination {decision.omobility_id} {status.value}")
