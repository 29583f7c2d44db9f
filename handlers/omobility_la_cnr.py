"""Outgoing Mobility LA CNR API v1.1.0 (ewp-specs-api-omobility-la-cnr stable-v1): a sending HEI tells us,
the receiving HEI, that learning agreements changed.

POST only; ``sending_hei_id`` required once and ``omobility_id`` required, repeatable, <=
``max-omobility-ids``. We queue the follow-up fetch from the LAs API when the caller speaks for that sending HEI
(a notification about another HEI's LAs is answered 200 and ignored) and answer at once.
stats: the learning agreements of the students we receive (our copies), for the EWP Stats Portal only.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import require_stats_portal
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.build import build_cnr_response, build_las_incoming_stats
from ewp_node.mobilities.fetches import LAS_FETCH
from ewp_node.mobilities.records import Direction
from ewp_node.params import required_one
from ewp_node.xml.ns import OMOBILITY_LA_CNR, OMOBILITY_LA_CNR_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, queue_fetches

API = ApiSpec(
    name="omobility-la-cnr",
    version="1.1.0",
    namespace=OMOBILITY_LA_CNR_ENTRY,
    items=(Endpoint("url", "omobility-la-cnr", methods=("POST",)), Endpoint("stats-url", "omobility-la-cnr/stats"),
           Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("url")
def notify(request: EwpRequest) -> etree._Element:
    sending_hei_id = required_one(request.params, "sending_hei_id")
    queue_fetches(request, API, LAS_FETCH, request.caller.intersection({sending_hei_id}))
    return build_cnr_response(OMOBILITY_LA_CNR, "omobility-la-cnr-response")


@API.endpoint("stats-url")
def stats(request: EwpRequest) -> etree._Element:
    require_stats_portal(request)
    with request.ctx.sessions() as session:
        return build_las_incoming_stats(repo.la_stats(session, request.served_heis(), Direction.INCOMING))
