"""Institutions API v2.2.0 (ewp-specs-api-institutions, stable-v2): who we are.

GET or POST; ``hei_id`` repeatable and required, at most ``max-hei-ids`` (duplicates counted); HEIs this URL
does not serve are ignored. Public to every authenticated caller, so the document never depends on the
caller. A covered HEI without imported data is described from the node's configuration (names, other ids).
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import requested_heis
from ewp_node.publish import repository as repo
from ewp_node.xml.build.institutions import build_hei, build_institutions_response
from ewp_node.xml.ns import INSTITUTIONS_ENTRY

MAX_HEI_IDS = 10

API = ApiSpec(
    name="institutions",
    version="2.2.0",
    namespace=INSTITUTIONS_ENTRY,
    items=(Endpoint("url", "institutions"), Limit("max-hei-ids", MAX_HEI_IDS)),
)


@API.endpoint("url")
def institutions(request: EwpRequest) -> etree._Element:
    hei_ids = requested_heis(request, API)
    configured = {h.id: h for h in request.services.settings.heis}
    heis = []
    with request.services.sessions() as session:
        for hei_id in hei_ids:
            record = repo.institution(session, hei_id)
            if record is None:
                hei = configured[hei_id]
                record = {"names": [{"lang": lang, "text": name} for lang, name in hei.names.items()],
                          "other_ids": [{"type": t, "value": v} for t, v in hei.other_ids]}
            ounit_ids = repo.ounit_ids(session, hei_id)
            if record.get("root_ounit_id") not in ounit_ids:
                record = {k: v for k, v in record.items() if k != "root_ounit_id"}
            heis.append(build_hei(hei_id, record, ounit_ids))
    return build_institutions_response(heis)
