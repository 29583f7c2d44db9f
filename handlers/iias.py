"""IIAs API v7.0.0 (ewp-specs-api-iias, stable-v7): our copies of interinstitutional agreements.

No ``hei_id`` parameter: the URL names our HEI (one URL set per covered HEI), the caller's credentials name
the partner; an IIA is visible only to its partner HEI, and index lists exactly what get returns.
``get``: ``iia_id`` repeatable and required, at most ``max-iia-ids`` (duplicates counted), unknown ids
ignored. ``index``: optional ``receiving_academic_year_id`` (repeatable ``YYYY/YYYY``) and ``modified_since``
(``xs:dateTime``, once). ``stats``: only for the EWP Stats Portal. GET or POST.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import require_stats_portal, url_hei
from ewp_node.iias import repository as repo
from ewp_node.iias.build import build_get_response, build_index_response, build_stats_response
from ewp_node.params import many, optional_one, parse_academic_year, parse_datetime
from ewp_node.xml.ns import IIAS_ENTRY

MAX_IIA_IDS = 100
#: Bound on the repeatable ``receiving_academic_year_id`` (the spec sets none; a year list is short).
MAX_ACADEMIC_YEARS = 50

API = ApiSpec(
    name="iias",
    version="7.0.0",
    namespace=IIAS_ENTRY,
    items=(Endpoint("get-url", "iias/get"), Limit("max-iia-ids", MAX_IIA_IDS), Endpoint("index-url", "iias/index"),
           Endpoint("stats-url", "iias/stats")),
)


@API.endpoint("get-url")
def get(request: EwpRequest) -> etree._Element:
    hei_id = url_hei(request)
    iia_ids = many(request.params, "iia_id", API.limit(request.services.settings, "max-iia-ids"))
    with request.services.sessions() as session:
        elements = repo.served_elements(session, hei_id, request.caller.hei_ids, iia_ids)
    return build_get_response(elements)


@API.endpoint("index-url")
def index(request: EwpRequest) -> etree._Element:
    hei_id = url_hei(request)
    years = [parse_academic_year(value, "receiving_academic_year_id")[0]
             for value in many(request.params, "receiving_academic_year_id", MAX_ACADEMIC_YEARS, required=False)]
    since = optional_one(request.params, "modified_since")
    modified_since = parse_datetime(since, "modified_since") if since is not None else None
    with request.services.sessions() as session:
        iia_ids = repo.visible_ids(session, hei_id, request.caller.hei_ids, years=years,
                                   modified_since=modified_since)
    return build_index_response(iia_ids)


@API.endpoint("stats-url")
def stats(request: EwpRequest) -> etree._Element:
    hei_id = url_hei(request)
    require_stats_portal(request)
    with request.services.sessions() as session:
        return build_stats_response(repo.stats(session, hei_id))
