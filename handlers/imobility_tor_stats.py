"""Incoming Mobility ToR Stats API v1.0.0 (ewp-specs-api-imobility-tor-stats stable-v1, from the registry service):
how many transcripts we issued, as receiving HEI, per receiving academic year (from 2021/2022 on), for the EWP
Stats Portal only (anyone else: 403)."""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest
from ewp_node.handling import require_stats_portal
from ewp_node.tors import repository as repo
from ewp_node.tors.build import build_tor_stats
from ewp_node.xml.ns import IMOBILITY_TOR_STATS_ENTRY

API = ApiSpec(
    name="imobility-tor-stats",
    version="1.0.0",
    namespace=IMOBILITY_TOR_STATS_ENTRY,
    items=(Endpoint("url", "imobility-tor-stats"),),
)


@API.endpoint("url")
def stats(request: EwpRequest) -> etree._Element:
    require_stats_portal(request)
    with request.services.sessions() as session:
        return build_tor_stats(repo.issued_stats(session, request.served_heis()))
