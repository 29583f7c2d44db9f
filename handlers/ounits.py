"""Organizational Units API v2.1.1 (ewp-specs-api-ounits, stable-v2): how we are organised.

GET or POST; ``hei_id`` required once (a HEI this URL does not serve is a 400); ``ounit_id`` or
``ounit_code`` (never both), repeatable, bounded by ``max-ounit-ids`` / ``max-ounit-codes`` with duplicates
counted; unknown ids and codes are ignored. Public to every authenticated caller.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import ids_or_codes, served_hei
from ewp_node.publish import repository as repo
from ewp_node.xml.build.ounits import build_ounits_response
from ewp_node.xml.ns import OUNITS_ENTRY

MAX_OUNIT_IDS = 100
MAX_OUNIT_CODES = 100

API = ApiSpec(
    name="organizational-units",
    version="2.1.1",
    namespace=OUNITS_ENTRY,
    items=(Endpoint("url", "ounits"), Limit("max-ounit-ids", MAX_OUNIT_IDS),
           Limit("max-ounit-codes", MAX_OUNIT_CODES)),
)


@API.endpoint("url")
def ounits(request: EwpRequest) -> etree._Element:
    hei_id = served_hei(request)
    key, values = ids_or_codes(request, API, ("ounit_id", "max-ounit-ids"), ("ounit_code", "max-ounit-codes"))
    with request.services.sessions() as session:
        records = repo.ounits_by(session, hei_id, key, values)
    return build_ounits_response(records)
