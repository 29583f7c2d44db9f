"""IIAs Approval API v2.0.0 (ewp-specs-api-iias-approval, stable-v2): which partner copies we approved.

The partner asks about its own copies (``iia_id`` repeatable and required, its ids, at most ``max-iia-ids``
with duplicates counted); we list those we approved with the hash we approved. Copies we did not approve,
unknown ids and other partners' IIAs are left out (200). GET or POST.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import url_hei
from ewp_node.iias import repository as repo
from ewp_node.iias.build import build_approval_response
from ewp_node.params import many
from ewp_node.xml.ns import IIAS_APPROVAL_ENTRY

MAX_IIA_IDS = 100

API = ApiSpec(
    name="iias-approval",
    version="2.0.0",
    namespace=IIAS_APPROVAL_ENTRY,
    items=(Endpoint("url", "iias-approval"), Limit("max-iia-ids", MAX_IIA_IDS)),
)


@API.endpoint("url")
def approvals(request: EwpRequest) -> etree._Element:
    hei_id = url_hei(request)
    iia_ids = many(request.params, "iia_id", API.limit(request.services.settings, "max-iia-ids"))
    with request.services.sessions() as session:
        given = repo.approvals_given(session, hei_id, request.caller.hei_ids, iia_ids)
    return build_approval_response(given)
