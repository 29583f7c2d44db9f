"""Outgoing Mobility Learning Agreements API v1.2.0 (ewp-specs-api-omobility-las stable-v1): our students'
learning agreements, served as the sending HEI.

get: ``sending_hei_id`` (required once, unknown: 400) and ``omobility_id`` (required, repeatable, <=
``max-omobility-ids``); index: ``sending_hei_id``, optional ``receiving_hei_id`` (repeatable),
``receiving_academic_year_id``, ``global_id``, ``mobility_type``, ``modified_since``. A caller sees only the
LAs whose receiving HEI it speaks for. update (POST ``text/xml``): the receiving HEI approves or comments the
current changes proposal (409 when it is not the current one; 400 for an unknown action, a wrong
``sending-hei-id`` or an unknown mobility); an approval shows at once as the first version or the approved
changes, with the receiving HEI's signature. stats: for the EWP Stats Portal only.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import require_stats_portal, served_hei
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.build import build_las_get, build_las_index, build_las_stats, build_las_update_response
from ewp_node.mobilities.parse import parse_la_update
from ewp_node.mobilities.records import Direction
from ewp_node.params import many, optional_one
from ewp_node.xml.ns import OMOBILITY_LAS_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, index_filter, omobility_ids, parsed_body, refused_changes

#: Bound on repeated ``receiving_hei_id`` filters of the index (not advertised: the spec has no max for it).
MAX_RECEIVING_HEI_IDS = 100

API = ApiSpec(
    name="omobility-las",
    version="1.2.0",
    namespace=OMOBILITY_LAS_ENTRY,
    items=(Endpoint("get-url", "omobility-las/get"), Endpoint("index-url", "omobility-las/index"),
           Endpoint("update-url", "omobility-las/update", methods=("POST",), body="xml"),
           Endpoint("stats-url", "omobility-las/stats"),
           Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("get-url")
def get(request: EwpRequest) -> etree._Element:
    sending_hei_id = served_hei(request, "sending_hei_id")
    ids = omobility_ids(request, API)
    with request.services.sessions() as session:
        las = repo.stored_las_by_ids(session, {sending_hei_id}, request.caller.hei_ids, ids)
    return build_las_get(las)


@API.endpoint("index-url")
def index(request: EwpRequest) -> etree._Element:
    sending_hei_id = served_hei(request, "sending_hei_id")
    partners = request.caller.hei_ids
    requested = many(request.params, "receiving_hei_id", MAX_RECEIVING_HEI_IDS, required=False)
    if requested:
        partners = partners & frozenset(requested)
    optional_one(request.params, "mobility_type")  # we only have student mobilities for studies
    where = index_filter(request, partners, global_id=True)
    with request.services.sessions() as session:
        return build_las_index(repo.outgoing_index(session, {sending_hei_id}, where, with_la=True))


@API.endpoint("update-url")
def update(request: EwpRequest) -> etree._Element:
    decision = parsed_body(request, parse_la_update)
    with refused_changes():
        state = service.answer_la_proposal(request.services.sessions, request.served_heis(), request.caller.hei_ids,
                                           decision)
    return build_las_update_response(f"changes proposal {decision.proposal_id} {state.value}")


@API.endpoint("stats-url")
def stats(request: EwpRequest) -> etree._Element:
    require_stats_portal(request)
    with request.services.sessions() as session:
        return build_las_stats(repo.la_stats(session, request.served_heis(), Direction.OUTGOING))
