"""Incoming Mobility Transcripts of Records API v2.0.0 (ewp-specs-api-imobility-tors stable-v2; ELMO 1.7): the
transcripts of ``handlers/imobility_tors.py``, for partners still on the old major (no academic year in
``<tor>``; each transcript signed as ELMO 1.7 when it was issued). Same parameters and visibility as v3.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit, XmlBody
from ewp_node.tors.build import TORS_V2
from ewp_node.xml.ns import IMOBILITY_TORS_V2_ENTRY
from handlers.imobility_tors import serve_get, serve_index
from handlers.mobility_rules import MAX_OMOBILITY_IDS

API = ApiSpec(
    name="imobility-tors",
    version="2.0.0",
    namespace=IMOBILITY_TORS_V2_ENTRY,
    items=(Endpoint("get-url", "imobility-tors-v2/get"), Endpoint("index-url", "imobility-tors-v2/index"),
           Limit("max-omobility-ids", MAX_OMOBILITY_IDS)),
)


@API.endpoint("get-url")
def get(request: EwpRequest) -> XmlBody:
    return serve_get(request, API, TORS_V2)


@API.endpoint("index-url")
def index(request: EwpRequest) -> etree._Element:
    return serve_index(request, TORS_V2)
