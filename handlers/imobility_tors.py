"""Incoming Mobility Transcripts of Records API v3.0.0 (ewp-specs-api-imobility-tors stable-v3, from the registry
service; ELMO 2.1.1): the transcripts we issue, as the receiving HEI, for the students partners send us.

get: ``receiving_hei_id`` (required once; a HEI this URL does not serve: 200 empty, VALIDATOR.md TG) and
``omobility_id`` (required, repeatable, <= ``max-omobility-ids``); index: ``receiving_hei_id`` (the same
rule), ``sending_hei_id`` (optional, repeatable) and ``modified_since``. A caller sees only the transcripts of
mobilities its HEI sends; unknown or others' ids are ignored. ``handlers/imobility_tors_v2.py`` serves the same
transcripts as ToRs v2 (ELMO 1.7) with these views.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit, XmlBody
from ewp_node.params import many, optional_one, parse_datetime, required_one
from ewp_node.tors import repository as repo
from ewp_node.tors.build import TORS_V3, TorsMajor, build_tors_get, build_tors_index
from ewp_node.xml.ns import IMOBILITY_TORS_ENTRY
from handlers.mobility_rules import MAX_OMOBILITY_IDS, omobility_ids

#: Bound on repeated ``sending_hei_id`` filters of the index (not advertised: the spec has no max for it).
MAX_SENDING_HEI_IDS = 100

API = ApiSpec(
    name="imobility-tors",
    version="3.0.0",
    namespace=IMOBILITY_TORS_ENTRY,
    items=(Endpoint("get-url", "imobility-tors/get"), Endpoint("index-url", "imobility-tors/index"),
           Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


def _receiving_heis(request: EwpRequest) -> frozenset[str]:
    """The required ``receiving_hei_id``: the HEI asked about if this URL serves it, else none (200 empty)."""
    receiving_hei_id = required_one(request.params, "receiving_hei_id")
    return frozenset({receiving_hei_id}) & request.served_heis()


def serve_get(request: EwpRequest, api: ApiSpec, major: TorsMajor) -> XmlBody:
    receiving = _receiving_heis(request)
    ids = omobility_ids(request, api)
    with request.services.sessions() as session:
        transcripts = repo.issued_by_ids(session, receiving, request.caller.hei_ids, ids) if receiving else []
    return XmlBody(build_tors_get(transcripts, major))


def serve_index(request: EwpRequest, major: TorsMajor) -> etree._Element:
    receiving = _receiving_heis(request)
    partners = request.caller.hei_ids
    requested = many(request.params, "sending_hei_id", MAX_SENDING_HEI_IDS, required=False)
    if requested:
        partners = partners & frozenset(requested)
    since = optional_one(request.params, "modified_since")
    modified_since = parse_datetime(since, "modified_since") if since is not None else None
    if not (receiving and partners):
        return build_tors_index([], major)
    with request.services.sessions() as session:
        return build_tors_index(repo.issued_index(session, receiving, partners, modified_since), major)


@API.endpoint("get-url")
def get(request: EwpRequest) -> XmlBody:
    return serve_get(request, API, TORS_V3)


@API.endpoint("index-url")
def index(request: EwpRequest) -> etree._Element:
    return serve_index(request, TORS_V3)
