"""Factsheet API v1.2.0 (ewp-specs-api-factsheet, stable-v1): calendar, requirements and practical
information for incoming students.

GET or POST; ``hei_id`` repeatable and required, at most ``max-hei-ids`` (duplicates counted); HEIs this URL
does not serve, and served HEIs without an imported factsheet, are left out (200). Public to every
authenticated caller.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import requested_heis
from ewp_node.publish import repository as repo
from ewp_node.xml.build.factsheet import build_factsheet, build_factsheet_response
from ewp_node.xml.ns import FACTSHEET_ENTRY

MAX_HEI_IDS = 10

API = ApiSpec(
    name="factsheet",
    version="1.2.0",
    namespace=FACTSHEET_ENTRY,
    items=(Endpoint("url", "factsheet"), Limit("max-hei-ids", MAX_HEI_IDS)),
)


@API.endpoint("url")
def factsheet(request: EwpRequest) -> etree._Element:
    hei_ids = requested_heis(request, API)
    with request.services.sessions() as session:
        records = [(hei_id, repo.factsheet(session, hei_id)) for hei_id in hei_ids]
    return build_factsheet_response(build_factsheet(hei_id, record) for hei_id, record in records
                                    if record is not None)
